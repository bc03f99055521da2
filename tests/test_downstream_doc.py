"""docs/downstream.md runs as written: its shell blocks, in order, in an empty project
folder (the `pip install` line aside: the package under test is installed), print what
the page says they print; then its Python block runs against the bindings they made,
prints what the page says, and passes ``mypy --strict``."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typing_support import mypy_strict, package_layout

DOC = Path(__file__).resolve().parent.parent / "docs" / "downstream.md"
_BLOCK = re.compile(r"^```(sh|python)\n(.*?)^```", re.S | re.M)


def _blocks(kind: str) -> list[str]:
    return [m.group(2) for m in _BLOCK.finditer(DOC.read_text()) if m.group(1) == kind]


def _expected(block: str) -> list[str]:
    """The ``# output`` lines the page shows under a command or a print()."""
    return [
        line.split("# ", 1)[1].strip()
        for line in block.splitlines()
        if re.match(r"^(wsdscan-codegen|print)", line) and "# " in line
    ]


def _same_but_timing(expected: str, actual: str) -> bool:
    """Equal, but a timing such as "(7.8 s)" matches any "(N s)"."""
    timing = r"\(\d+(?:\.\d+)? s\)"
    pattern = timing.join(re.escape(part) for part in re.split(timing, expected))
    return re.fullmatch(pattern, actual) is not None


def test_walkthrough_runs_as_written(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    env = dict(
        os.environ,
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    )
    for block in _blocks("sh"):
        script = "\n".join(
            line for line in block.splitlines() if not line.startswith("pip install")
        )
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, script + "\n" + done.stdout + done.stderr
        printed = done.stdout.strip().splitlines()
        for expected in _expected(block):
            assert any(_same_but_timing(expected, line) for line in printed), (
                expected,
                printed,
            )
    (python_block,) = _blocks("python")
    script = project / "use_bindings.py"
    script.write_text(python_block)
    done = subprocess.run(
        [sys.executable, str(script)],
        cwd=project,
        env=dict(env, PYTHONPATH=str(project)),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip().splitlines() == [
        line.split("# ", 1)[1]
        for line in python_block.splitlines()
        if line.startswith("# ")
    ]
    pytest.importorskip(
        "mypy", reason="mypy is a test dependency (pip install .[test])"
    )
    layout = package_layout(tmp_path / "layout")
    typed = mypy_strict(
        project, ["use_bindings.py"], mypy_path=Path(f"{layout}{os.pathsep}{project}")
    )
    assert typed.returncode == 0, typed.stdout + typed.stderr
