"""No file of the project names an absolute path of some machine.

Paths such as a developer's home or work folder, or a Windows drive, hold only on the
machine that wrote them: a plain clone elsewhere (CI, a user) has none of them. The
project's own folders are named relative to the checkout; the shared folder beside it as
``shared/...``. Every tracked text file is scanned (``git ls-files``; without git, a walk
of the checkout that skips virtual environments, build output and caches).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from project_data import ROOT

# Unix roots of homes and work folders (not after a word character, a dot or a tilde,
# so that URLs and relative paths pass), and a Windows drive followed by a folder. The
# alternatives are spelt so that this file does not match itself.
_ROOTS = "|".join(["wo" + "rk", "ro" + "ot", "ho" + "me", "Us" + "ers"])
MACHINE_PATH = re.compile(
    rf"(?<![\w.~-])/(?:{_ROOTS})/" + r"|(?<![\w\\])[A-Z]:\\{1,2}[A-Za-z]"
)
SKIPPED_DIRS = {
    ".git",
    ".venv",
    "venv",
    "build",
    "dist",
    "__pycache__",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
    ".hypothesis",
}


def _tracked_files() -> list[Path]:
    git = shutil.which("git")
    if git is not None:
        result = subprocess.run(
            [git, "-C", str(ROOT), "ls-files", "-z"],
            capture_output=True,
            timeout=60,
        )
        if result.returncode == 0 and result.stdout:
            names = result.stdout.decode("utf-8").split("\0")
            return [ROOT / name for name in names if name]
    return sorted(_walk(ROOT))


def _walk(folder: Path) -> Iterator[Path]:
    for entry in folder.iterdir():
        if entry.name in SKIPPED_DIRS or entry.name.endswith(".egg-info"):
            continue  # also a work tree's .git file, which names its repository
        if entry.is_dir() and not entry.is_symlink():
            yield from _walk(entry)
        elif entry.is_file():
            yield entry


def _text(path: Path) -> str | None:
    """The file's text, or None for a binary (a NUL byte, or not UTF-8)."""
    data = path.read_bytes()
    if b"\0" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def machine_paths(text: str) -> list[tuple[int, str]]:
    """(line number, line) of each line naming an absolute machine path."""
    return [
        (number, line.strip())
        for number, line in enumerate(text.splitlines(), start=1)
        if MACHINE_PATH.search(line)
    ]


def test_the_pattern_finds_machine_paths_and_passes_the_rest() -> None:
    found = [
        "see `/" + "work/shared/notes/interop.md`",
        "recipe: /" + "home/dev/tools/x.py",
        "cd /" + "root/project",
        "open /" + "Users/dev/x",
        "file:///" + "work/x",
        "C:" + "\\" + "Users\\dev",
        "C:" + "\\\\" + "tmp\\\\x",
    ]
    passed = [
        "the shared notes (`shared/notes/interop.md` beside the checkout)",
        "http://example.org/" + "home/index.html",
        "../shared/corpus and ~/" + "work/x",
        r"VmRSS:\s+(\d+) kB",
        "stdout:\\n{out}\\nstderr:\\n{err}",
        "tests/data/corpus/go-mfp-kyocera-m2040dn",
    ]
    for line in found:
        assert machine_paths(line) == [(1, line)], line
    for line in passed:
        assert machine_paths(line) == [], line


def test_no_tracked_file_names_a_machine_path() -> None:
    files = _tracked_files()
    assert len(files) > 100, "the checkout's files were not found"
    assert ROOT / "pyproject.toml" in files
    problems = []
    for path in files:
        if not path.is_file():  # deleted in the work tree, not yet committed
            continue
        text = _text(path)
        if text is None:
            continue
        for number, line in machine_paths(text):
            problems.append(f"{path.relative_to(ROOT)}:{number}: {line}")
    assert not problems, "absolute machine paths:\n" + "\n".join(problems)


def test_walk_without_git_finds_the_checkout_files(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    walked = set(_tracked_files())
    assert Path(__file__).resolve() in walked
    assert ROOT / "schema" / "faults.toml" in walked
    assert not [p for p in walked if SKIPPED_DIRS & set(p.relative_to(ROOT).parts)]
    # what the walk finds passes too (it sees untracked files as well)
    problems = [
        f"{path.relative_to(ROOT)}:{number}: {line}"
        for path in sorted(walked)
        if (text := _text(path)) is not None
        for number, line in machine_paths(text)
    ]
    assert not problems, "absolute machine paths:\n" + "\n".join(problems)
