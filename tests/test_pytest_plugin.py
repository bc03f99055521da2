"""The pytest plugin ``wsdscan.testing`` as a downstream project uses it: the README's
example test file (docs/examples/test_with_virtual_scanner.py) run by ``python -m
pytest`` in a folder of its own, the plugin found through the installed package's
``pytest11`` entry point."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from wsdscan.testing import running_virtual_scanner

EXAMPLE = Path(__file__).resolve().parent.parent / "docs/examples"
EXAMPLE_FILE = EXAMPLE / "test_with_virtual_scanner.py"


def run_pytest(
    folder: Path, *args: str, autoload: bool = True
) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.pop("PYTEST_ADDOPTS", None)
    if autoload:
        env.pop("PYTEST_DISABLE_PLUGIN_AUTOLOAD", None)
    else:
        env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture
def example(tmp_path: Path) -> Path:
    shutil.copy(EXAMPLE_FILE, tmp_path / EXAMPLE_FILE.name)
    return tmp_path


def test_example_runs_with_the_plugin_from_the_entry_point(example: Path) -> None:
    result = run_pytest(example)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "2 passed" in result.stdout


def test_the_fixtures_come_from_the_plugin(example: Path) -> None:
    # Without plugin autoloading the fixtures are unknown; `-p wsdscan` (the entry
    # point's name) brings them back.
    missing = run_pytest(example, autoload=False)
    assert missing.returncode != 0
    assert "fixture 'virtual_scanner' not found" in missing.stdout
    named = run_pytest(example, "-p", "wsdscan", autoload=False)
    assert named.returncode == 0, named.stdout[-3000:] + named.stderr[-3000:]


def test_handle_calls_run_on_the_scanners_loop_thread() -> None:
    with running_virtual_scanner(adf_sheets=1) as handle:
        caller = handle.call(threading.current_thread)
        assert caller is not threading.current_thread()
        assert caller.name.startswith("wsdscan-virtual-scanner")
        handle.load_adf(4, duplex=True)
        assert handle.adf_sheets == 4 and handle.scanner.config.duplex
        with pytest.raises(ValueError, match="sheets must be"):
            handle.load_adf(-1)
    # Stopped with the block: its thread is gone.
    assert not caller.is_alive()
