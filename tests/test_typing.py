"""mypy --strict passes on the whole wsdscan package: runtime/, generated/, codegen/,
the virtual scanner, the high-level modules and the CLI."""

from __future__ import annotations

from pathlib import Path

import pytest
from typing_support import mypy_strict, package_layout


def test_mypy_strict(tmp_path: Path) -> None:
    pytest.importorskip(
        "mypy", reason="mypy is a test dependency (pip install .[test])"
    )
    result = mypy_strict(package_layout(tmp_path), ["-p", "wsdscan"])
    assert result.returncode == 0, result.stdout + result.stderr
