"""Where pages go: names for page files, checks of the output location made before a
job is created, and pages saved one file each (converted when the name asks for
another type than the scanner sends).

Errors name the path the user gave, never the hidden temporary names used on the way.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Callable
from pathlib import Path

from wsdscan.errors import OutputError


def is_pattern(target: str) -> bool:
    return "%d" in target or "%0" in target or "{page" in target


class PageNamer:
    """File names for scanned pages: ``page%d.png`` / ``page{page}.png`` patterns, a
    folder (``folder/page-001.png``), or a plain file (page 1; then ``name-002.png``).
    """

    def __init__(self, target: str | os.PathLike[str], extension: str = ".png") -> None:
        self.target = os.fspath(target)
        self.extension = extension

    def __call__(self, page: int) -> Path:
        if "%d" in self.target or "%0" in self.target:
            return Path(self.target % page)
        if "{page" in self.target:
            return Path(self.target.format(page=page))
        path = Path(self.target)
        if path.is_dir() or self.target.endswith(("/", os.sep)):
            return path / f"page-{page:03d}{self.extension}"
        if page == 1:
            return path
        return path.with_name(f"{path.stem}-{page:03d}{path.suffix or self.extension}")


def check_pattern(target: str) -> None:
    """A page pattern that formats a page number, else OutputError."""
    try:
        first, second = PageNamer(target)(1), PageNamer(target)(2)
    except (TypeError, ValueError, KeyError, IndexError) as exc:
        raise OutputError(
            f"{target}: not a page pattern (use %d or {{page}} once: {exc})"
        ) from None
    if first == second:
        raise OutputError(f"{target}: the pattern gives every page the same name")


def check_folder(folder: Path, shown: str) -> None:
    """``folder`` exists and a file can be created in it (tried, not guessed: the
    permission bits do not tell for root or on a read-only file system)."""
    if not folder.exists():
        raise OutputError(f"{shown}: the folder {folder} does not exist")
    if not folder.is_dir():
        raise OutputError(f"{shown}: {folder} is not a folder")
    try:
        probe = hidden_name(folder / "probe")
        os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        os.unlink(probe)
    except OSError as exc:
        raise OutputError(
            f"{shown}: cannot write in {folder}: {exc.strerror}"
        ) from None


def check_file(path: Path, shown: str) -> None:
    """A file can be written at ``path`` (its folder writable, no folder in its way)."""
    if path.is_dir():
        raise OutputError(
            f"{shown} is a folder: give a file name, or end it with / to save one "
            "file per page in it"
        )
    check_folder(path.parent, shown)


def hidden_name(target: Path, suffix: str = ".part") -> Path:
    """A fresh hidden name beside ``target``."""
    return target.with_name(f".{target.name}.{secrets.token_hex(6)}{suffix}")


def remove_quietly(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


class PageFiles:
    """One file per page. Without ``convert_to`` a page is saved where ``namer`` says
    (the transport's save is atomic); with it, received beside that name under a
    hidden one, converted, and renamed into place."""

    def __init__(
        self,
        namer: Callable[[int], str | os.PathLike[str]],
        *,
        convert_to: str | None,
        received_extension: str,
        dpi: float,
    ) -> None:
        self._namer = namer
        self._convert_to = convert_to
        self._received_extension = received_extension
        self._dpi = dpi
        self._temporary: set[Path] = set()

    def final_path(self, page: int) -> Path:
        return Path(self._namer(page))

    def shown(self, page: int) -> str:
        return str(self.final_path(page))

    def receive_path(self, page: int) -> Path:
        target = self.final_path(page)
        if self._convert_to is None:
            return target
        received = hidden_name(target, self._received_extension)
        self._temporary.add(received)
        return received

    def add(self, page: int, received: Path) -> Path:
        """The page's file, converted if asked (blocking: run it in a thread)."""
        target = self.final_path(page)
        if self._convert_to is None:
            return target
        from .convert import save_as  # Pillow, only for a page to convert

        converted = hidden_name(target)
        self._temporary.add(converted)
        try:
            save_as(received, converted, self._convert_to, self._dpi)
            os.replace(converted, target)
        except OSError as exc:
            raise OutputError(f"cannot write {target}: {exc.strerror or exc}") from exc
        finally:
            remove_quietly(received)
            remove_quietly(converted)
            self._temporary -= {received, converted}
        return target

    def finish(self) -> list[Path]:
        return []

    def abort(self) -> None:
        """Remove what is half-done (pages already written whole stay)."""
        for path in self._temporary:
            remove_quietly(path)
        self._temporary.clear()
