"""The README tells a newcomer the truth.

- The two Quick start commands: CI runs the test command verbatim, and the main job
  (``wsdscan demo``) really starts a virtual scanner and scans a page.
- Every Python block of the README runs as written, as a program given a scanner's URL,
  against a virtual scanner (``wsdscan serve`` in a subprocess); the
  scan-to-PC block is answered by pressing Start on the virtual panel, the discovery
  block runs in network namespaces of its own (multicast does not run on loopback).
- Every such block passes ``mypy --strict``.
- A block that writes ``*.png`` leaves valid PNGs in its folder, one that writes
  ``*.pdf`` valid PDFs (read by pikepdf, qpdf underneath) with at least one page.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pikepdf
import pytest
from netns_support import BackgroundProcess, NetnsPair, wsdscan_argv
from PIL import Image
from typing_support import mypy_strict, package_layout

ROOT = Path(__file__).resolve().parent.parent
# docs/downstream.md is a walkthrough of its own: tests/test_downstream_doc.py.
DOCUMENTS = [ROOT / "README.md"]
_PYTHON_BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)
# Lines a block prints that call for the test to act, and what it does.
PRESS_PROMPT = "waiting: press Start for My PC"


def _commands() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    quick_start = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.+?)\n```", quick_start)


def _blocks() -> list[tuple[str, str]]:
    found = []
    for document in DOCUMENTS:
        text = document.read_text(encoding="utf-8")
        for match in _PYTHON_BLOCK.finditer(text):
            line = text.count("\n", 0, match.start()) + 2
            found.append((f"{document.name}:{line}", match.group(1)))
    return found


BLOCKS = _blocks()


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


def test_every_document_has_runnable_blocks() -> None:
    assert len([b for b in BLOCKS if b[0].startswith("README.md")]) >= 5


@pytest.fixture(scope="module")
def scanner_url() -> Iterator[str]:
    server = BackgroundProcess(
        wsdscan_argv("serve", "--port", "0", "--adf-sheets", "3"), None
    )
    try:
        url = server.first_line(30)
        assert url.startswith("http://127.0.0.1:"), server.output()
        yield url
    finally:
        assert server.stop() == 0, server.output()


def _run_block(source: str, argv: list[str], cwd: Path) -> BackgroundProcess:
    script = cwd / "example.py"
    script.write_text(source, encoding="utf-8")
    return BackgroundProcess([sys.executable, str(script), *argv], None, cwd=cwd)


def _finish(block: BackgroundProcess, timeout: float = 120) -> str:
    try:
        rc = block.proc.wait(timeout)
    except subprocess.TimeoutExpired:
        block.proc.kill()
        pytest.fail(f"did not end within {timeout} s\n{block.output()}", pytrace=False)
    output = block.output()
    assert rc == 0, output
    assert "Traceback" not in output, output
    return output


def _pages_written(cwd: Path) -> list[Path]:
    pages = sorted(cwd.glob("*.png"))
    for page in pages:
        with Image.open(page) as image:
            image.verify()
    return pages


def _documents_written(cwd: Path) -> list[Path]:
    documents = sorted(cwd.glob("*.pdf"))
    for document in documents:
        with pikepdf.open(document) as pdf:
            assert pdf.check_pdf_syntax() == [], document
            assert len(pdf.pages) >= 1, document
    return documents


@pytest.mark.parametrize(
    "where, source",
    [b for b in BLOCKS if "discover_scanners" not in b[1]],
    ids=[b[0] for b in BLOCKS if "discover_scanners" not in b[1]],
)
def test_block_runs_against_a_virtual_scanner(
    where: str, source: str, scanner_url: str, tmp_path: Path
) -> None:
    block = _run_block(source, [scanner_url], tmp_path)
    if PRESS_PROMPT in source:
        # The user at the panel: press Start once the block says it waits.
        assert block.first_line(60).startswith(PRESS_PROMPT), block.output()
        pressed = subprocess.run(
            wsdscan_argv("press", scanner_url, "--destination", "My PC"),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert pressed.returncode == 0, pressed.stdout + pressed.stderr
        assert "scan requested:" in _finish(block)
        return
    output = _finish(block)
    assert output.strip()
    if ".png" in source:
        assert _pages_written(tmp_path), f"{where} wrote no page\n{output}"
    if ".pdf" in source:
        assert _documents_written(tmp_path), f"{where} wrote no PDF\n{output}"


@pytest.mark.parametrize(
    "where, source",
    [b for b in BLOCKS if "discover_scanners" in b[1]],
    ids=[b[0] for b in BLOCKS if "discover_scanners" in b[1]],
)
def test_discovery_block_finds_an_announced_scanner(where: str, source: str) -> None:
    with NetnsPair() as net:
        server = net.start(
            net.server,
            wsdscan_argv("serve", "--host", "198.51.100.2", "--announce"),
        )
        url = server.first_line(30)
        script = Path(net.run(net.client, ["mktemp", "-d"], timeout=10).stdout.strip())
        try:
            (script / "example.py").write_text(source, encoding="utf-8")
            done = net.run(
                net.client, [sys.executable, str(script / "example.py")], timeout=60
            )
        finally:
            subprocess.run(["rm", "-rf", str(script)], check=False)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "Traceback" not in done.stderr
        assert f"wsdscan Virtual Scanner Virtual Scanner {url}" in done.stdout
        assert server.stop() == 0, server.output()


def test_blocks_pass_mypy_strict(tmp_path: Path) -> None:
    pytest.importorskip(
        "mypy", reason="mypy is a test dependency (pip install .[test])"
    )
    examples = tmp_path / "examples"
    examples.mkdir()
    names = []
    for index, (_, source) in enumerate(BLOCKS):
        name = f"example_{index:02d}.py"
        (examples / name).write_text(source, encoding="utf-8")
        names.append(name)
    layout = package_layout(tmp_path / "layout")
    result = mypy_strict(examples, names, mypy_path=layout)
    assert result.returncode == 0, "\n".join(
        f"{BLOCKS[int(n[8:10])][0]}: {line}"
        for line in result.stdout.splitlines()
        if (n := line.split(":", 1)[0]).startswith("example_")
    ) or (result.stdout + result.stderr)
