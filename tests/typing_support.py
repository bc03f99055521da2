"""mypy over the package and over example programs.

mypy cannot follow setuptools' editable-install import hook, so the package is laid out
as installed (wsdscan/runtime, wsdscan/generated, ...) with symlinks to the checkout's
folders in a temporary directory, and mypy runs there. Under CI the installed wheel
holds the same files (tests/conftest.py refuses a stale one)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Top-level folders that are subpackages of wsdscan (setup.py).
SUBPACKAGES = ("runtime", "generated", "codegen", "schema")


def package_layout(directory: Path) -> Path:
    """Lay ``wsdscan`` out under ``directory`` as installed; returns ``directory``."""
    package = directory / "wsdscan"
    package.mkdir(parents=True)
    for name in SUBPACKAGES:
        (package / name).symlink_to(ROOT / name)
    for entry in (ROOT / "wsdscan").iterdir():
        if entry.name != "__pycache__":
            (package / entry.name).symlink_to(entry)
    return directory


def mypy_strict(
    cwd: Path, targets: Sequence[str], *, mypy_path: Path | None = None
) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "mypy", "--strict", "--no-incremental"]
    env = dict(os.environ, MYPYPATH=str(mypy_path)) if mypy_path else None
    return subprocess.run(
        [*command, *targets], cwd=cwd, capture_output=True, text=True, env=env
    )
