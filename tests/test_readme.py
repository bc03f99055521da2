"""The README's two newcomer commands stay true: CI runs the test command verbatim, and
the main job (wsdscan demo) really starts a virtual scanner and scans a page."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent


def _commands() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    quick_start = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.+?)\n```", quick_start)


def test_readme_has_the_two_commands_and_ci_runs_the_test_one() -> None:
    main_job, tests = _commands()
    assert main_job.endswith("wsdscan demo")
    assert tests.endswith("pytest")
    assert tests in (ROOT / ".ci" / "run").read_text()


def test_main_job_scans_a_page(tmp_path: Path) -> None:
    output = tmp_path / "demo-page.png"
    result = subprocess.run(
        [sys.executable, "-m", "wsdscan", "demo", "-o", str(output)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "virtual scanner at http://127.0.0.1:" in result.stdout
    with Image.open(output) as image:
        # Platen 8.5 x 11.69 in at 100 dpi, colour.
        assert image.size == (850, 1169)
        assert image.mode == "RGB"
