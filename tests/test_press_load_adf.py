"""``wsdscan press URL --load-adf N [--duplex]``: the feeder of a running virtual
scanner refilled from the command line; its status says so, and an ADF scan then gets
that many sheets."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path
from xml.etree.ElementTree import QName

import pytest
from interop_support import ServedScanner
from PIL import Image
from wsdscan.generated import ScannerServiceSyncClient
from wsdscan.generated.models.scan import (
    DocumentDescription,
    RequestedElements,
    ScannerStatus,
)
from wsdscan.generated.stubs import faults
from wsdscan.runtime.transport import SyncRunner

from wsdscan.virtual import read_marker

NS = "http://schemas.microsoft.com/windows/2006/08/wdp/scan"


def press(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "wsdscan", "press", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def status(url: str) -> ScannerStatus:
    with SyncRunner() as runner:
        client = ScannerServiceSyncClient.connect(url, runner)
        response = client.get_scanner_elements(
            requested_elements=RequestedElements(name=[QName(f"{{{NS}}}ScannerStatus")])
        )
    (data,) = response.scanner_elements.element_data
    assert data.scanner_status is not None
    return data.scanner_status


def reasons(url: str) -> list[str]:
    found = status(url).scanner_state_reasons
    assert found is not None
    return [str(getattr(r, "value", r)) for r in found.scanner_state_reason]


def conditions(url: str) -> list[str]:
    found = status(url).active_conditions
    assert found is not None
    return [str(getattr(c.name, "value", c.name)) for c in found.device_condition]


def scan_adf(url: str, source: str, fmt: str) -> list[tuple[int, str]]:
    """(sheet, side) of every page an ADF job delivers, until the feeder is empty."""
    from test_virtual_formats import ticket

    markers = []
    with SyncRunner() as runner:
        client = ScannerServiceSyncClient.connect(url, runner)
        job = client.create_scan_job(
            scan_ticket=ticket(fmt, "RGB24", source=source, duplex=source != "ADF")
        )
        while True:
            try:
                reply = client.retrieve_image(
                    job_id=job.job_id,
                    job_token=job.job_token,
                    document_description=DocumentDescription(document_name="p"),
                )
            except faults.ClientErrorNoImagesAvailable:
                break
            with Image.open(io.BytesIO(reply.read())) as image:
                marker = read_marker(image)
            assert marker is not None
            markers.append((marker.sheet, marker.side))
    return markers


def test_load_adf_refills_a_profiled_scanner() -> None:
    with ServedScanner(["--profile", "kyocera-m2040dn", "--adf-sheets", "0"]) as srv:
        assert reasons(srv.url) == ["InputTrayEmpty"]
        assert conditions(srv.url) == ["InputTrayEmpty"]
        result = press(srv.url, "--load-adf", "3")
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == "feeder loaded: 3 sheets"
        assert reasons(srv.url) == ["None"] and conditions(srv.url) == []
        assert scan_adf(srv.url, "ADF", "jfif") == [
            (1, "front"),
            (2, "front"),
            (3, "front"),
        ]
        assert reasons(srv.url) == ["InputTrayEmpty"]  # emptied by the scan


def test_load_adf_with_duplex_turns_the_builtin_duplex_unit_on() -> None:
    with ServedScanner(["--adf-sheets", "0"]) as srv:
        result = press(srv.url, "--load-adf", "2", "--duplex")
        assert result.returncode == 0, result.stderr
        assert scan_adf(srv.url, "ADFDuplex", "png") == [
            (1, "front"),
            (1, "back"),
            (2, "front"),
            (2, "back"),
        ]


def test_load_adf_duplex_on_a_profile_without_duplex_is_refused(
    tmp_path: Path,
) -> None:
    from test_virtual_profiles import edited

    path = tmp_path / "simplex.xml"
    path.write_bytes(
        edited(
            "<scan:ADFSupportsDuplex>true</scan:ADFSupportsDuplex>",
            "<scan:ADFSupportsDuplex>false</scan:ADFSupportsDuplex>",
        )
    )
    with ServedScanner(["--profile", str(path), "--adf-sheets", "0"]) as srv:
        result = press(srv.url, "--load-adf", "2", "--duplex")
        assert result.returncode == 1
        (line,) = result.stderr.splitlines()
        assert "InvalidArgs" in line and "duplex" in line
        assert reasons(srv.url) == ["InputTrayEmpty"]  # nothing was loaded


@pytest.mark.parametrize("count", ["-1", "1024", "many"])
def test_load_adf_count_is_checked_by_argparse(count: str) -> None:
    result = press("http://127.0.0.1:9/WSDScanner", "--load-adf", count)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    (line,) = result.stderr.splitlines()
    assert line.startswith("wsdscan: error: argument --load-adf:")
    assert line.endswith("(see wsdscan press --help)")
