"""mypy --strict passes on the whole wsdscan package: runtime/, generated/, codegen/,
the virtual scanner, the high-level modules and the CLI.

mypy cannot follow setuptools' editable-install import hook, so the test lays the
folders out as the installed package (wsdscan/runtime, wsdscan/generated, ...) with
symlinks in a temporary directory and checks that tree."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAYOUT = {"runtime": "runtime", "generated": "generated", "codegen": "codegen"}


def test_mypy_strict(tmp_path: Path) -> None:
    pytest.importorskip(
        "mypy", reason="mypy is a test dependency (pip install .[test])"
    )
    package = tmp_path / "wsdscan"
    package.mkdir()
    for name, folder in LAYOUT.items():
        (package / name).symlink_to(ROOT / folder)
    for entry in (ROOT / "wsdscan").iterdir():
        if entry.name != "__pycache__":
            (package / entry.name).symlink_to(entry)
    command = [sys.executable, "-m", "mypy", "--strict", "--no-incremental"]
    command += ["-p", "wsdscan"]
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
