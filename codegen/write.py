"""Stage 4, write: put the rendered tree on disk, touching only what changed.

``generated/`` belongs to the generator: files it no longer produces are removed, files
whose content is unchanged are not rewritten (their mtime stays), line endings are LF.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

# Never reported or removed: caches that Python and tools leave next to the code.
_IGNORED_PARTS = frozenset({"__pycache__", ".mypy_cache", ".ruff_cache"})


@dataclass(frozen=True)
class TreeDiff:
    """How a directory differs from the rendered tree."""

    changed: tuple[str, ...]
    missing: tuple[str, ...]
    extra: tuple[str, ...]

    @property
    def clean(self) -> bool:
        return not (self.changed or self.missing or self.extra)

    def lines(self) -> list[str]:
        return (
            [f"changed: {p}" for p in self.changed]
            + [f"missing: {p}" for p in self.missing]
            + [f"extra:   {p}" for p in self.extra]
        )


def _existing(out_dir: Path) -> set[str]:
    if not out_dir.is_dir():
        return set()
    return {
        path.relative_to(out_dir).as_posix()
        for path in out_dir.rglob("*")
        if path.is_file() and not _IGNORED_PARTS & set(path.relative_to(out_dir).parts)
    }


def compare(files: dict[str, str], out_dir: Path) -> TreeDiff:
    """Compare the rendered tree with ``out_dir`` byte for byte."""
    existing = _existing(out_dir)
    changed = [
        path
        for path in sorted(existing & files.keys())
        if (out_dir / path).read_bytes() != files[path].encode("utf-8")
    ]
    return TreeDiff(
        changed=tuple(changed),
        missing=tuple(sorted(files.keys() - existing)),
        extra=tuple(sorted(existing - files.keys())),
    )


def write(files: dict[str, str], out_dir: Path) -> TreeDiff:
    """Make ``out_dir`` equal to the rendered tree; return what had to change."""
    diff = compare(files, out_dir)
    for path in diff.changed + diff.missing:
        target = out_dir / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(files[path].encode("utf-8"))
    for path in diff.extra:
        (out_dir / path).unlink()
    # Drop directories the tree no longer has (deepest first).
    if out_dir.is_dir():
        for directory in sorted(
            (p for p in out_dir.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)
        ):
            if directory.name not in _IGNORED_PARTS and not any(directory.iterdir()):
                directory.rmdir()
    return diff
