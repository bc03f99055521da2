"""Which wsdscan the suite tests: said in the header, and a stale install refused.

CI builds the sdist and the wheel, installs the wheel in a clean venv and runs this
suite from the checkout, whose own folders are not on ``sys.path`` (pytest puts only
``tests/`` there). A wheel installed earlier from other code would pass or fail for the
wrong reasons, so when the installed package is not an editable one, every file it
installed is compared with the checkout's and the session stops at the first that
differs. ``WSDSCAN_REQUIRE_WHEEL=1`` (set by ``.ci/run``) also refuses an editable
install.
"""

from __future__ import annotations

import json
import os
from importlib import metadata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Child processes (`python -m wsdscan`, example scripts) started from the checkout must
# import the wsdscan under test, not the checkout's own wsdscan/ folder, which the
# current directory would otherwise put first on their sys.path.
os.environ.setdefault("PYTHONSAFEPATH", "1")
# Installed subpackages that live in top-level folders of the checkout (setup.py).
_TOP_LEVEL = {"codegen", "generated", "runtime", "schema"}


def _editable(dist: metadata.Distribution) -> bool:
    text = dist.read_text("direct_url.json")
    return bool(text and json.loads(text).get("dir_info", {}).get("editable"))


def _source_of(installed: str) -> Path:
    """The checkout file an installed ``wsdscan/...`` file was built from."""
    parts = installed.split("/")[1:]
    if parts and parts[0] in _TOP_LEVEL:
        return ROOT.joinpath(*parts)
    return ROOT.joinpath("wsdscan", *parts)


def _stale_files(dist: metadata.Distribution) -> list[str]:
    stale = []
    for file in dist.files or ():
        name = file.as_posix()
        if not name.startswith("wsdscan/") or "__pycache__" in name:
            continue
        source = _source_of(name)
        if not source.is_file() or source.read_bytes() != file.locate().read_bytes():
            stale.append(name)
    return stale


def _installed() -> tuple[metadata.Distribution, bool]:
    dist = metadata.distribution("wsdscan")
    return dist, _editable(dist)


def pytest_report_header() -> str:
    import wsdscan

    dist, editable = _installed()
    kind = "editable install of a checkout" if editable else "installed package"
    return (
        f"wsdscan {dist.version} under test: {Path(wsdscan.__file__).parent} ({kind})"
    )


def pytest_sessionstart(session: pytest.Session) -> None:
    dist, editable = _installed()
    if editable:
        if os.environ.get("WSDSCAN_REQUIRE_WHEEL") == "1":
            pytest.exit("WSDSCAN_REQUIRE_WHEEL=1 but wsdscan is an editable install", 3)
        return
    if (ROOT / "pyproject.toml").is_file():
        stale = _stale_files(dist)
        if stale:
            pytest.exit(
                f"the installed wsdscan differs from this checkout ({stale[0]} and "
                f"{len(stale) - 1} more): reinstall it (pip install --force-reinstall)",
                3,
            )
