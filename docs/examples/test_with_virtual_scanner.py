"""Testing a program against wsdscan's virtual scanner with the pytest plugin that
comes with wsdscan (the ``wsdscan`` pytest11 entry point: nothing to configure).
tests/test_pytest_plugin.py runs this file with ``python -m pytest``."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from wsdscan.scanning import PageNamer, ScannerSession
from wsdscan.testing import VirtualScannerHandle


async def scan_feeder(url: str, folder: str) -> int:
    """The program under test: scan every sheet in the feeder, return the page count."""
    async with ScannerSession(url) as session:
        pages = await session.scan(
            PageNamer(f"{folder}/page.jpg"), source="ADF", format="jfif"
        )
    return len(pages)


@pytest.mark.virtual_scanner(profile="kyocera-m2040dn", adf_sheets=2)
def test_scans_the_whole_feeder(
    virtual_scanner: VirtualScannerHandle, tmp_path: object
) -> None:
    assert virtual_scanner.profile is not None
    assert virtual_scanner.profile.scanner_name == "ECOSYS M2040dn"
    assert asyncio.run(scan_feeder(virtual_scanner.url, str(tmp_path))) == 2
    virtual_scanner.load_adf(3)  # refill it, as a user would
    assert asyncio.run(scan_feeder(virtual_scanner.url, str(tmp_path))) == 3
    assert virtual_scanner.adf_sheets == 0


def test_two_scanners(
    virtual_scanner_factory: Callable[..., VirtualScannerHandle],
) -> None:
    builtin = virtual_scanner_factory()  # the built-in scanner: png, 75-600 dpi
    kyocera = virtual_scanner_factory(profile="kyocera-m2040dn", adf_sheets=0)
    assert builtin.url != kyocera.url
    assert builtin.profile is None and builtin.adf_sheets == 5
    kyocera.set_jammed(True)
    assert kyocera.scanner.jammed
