"""One multi-page file (PDF or TIFF) assembled as pages arrive.

Received pages land in a hidden folder beside the target; each is appended to the
document (a hidden file beside the target) and deleted at once, so a 100-page job
holds one page at a time, in memory and on disk. Only a finished document is renamed
to the target: an interrupted job leaves nothing that looks complete.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path
from typing import IO

from wsdscan.errors import OutputError

from .files import check_file, hidden_name, remove_quietly
from .pdf import PdfWriter
from .tiff import TiffWriter


class DocumentFile:
    """Pages into one ``kind`` (``pdf`` or ``tiff``) file at ``target``."""

    def __init__(self, target: Path, kind: str, *, received_extension: str, dpi: float):
        check_file(target, str(target))
        self.target = target
        self._kind = kind
        self._received_extension = received_extension
        self._dpi = dpi
        self._pages = hidden_name(target, ".pages")
        self._partial = hidden_name(target)
        self._stream: IO[bytes] | None = None
        self._writer: PdfWriter | TiffWriter | None = None
        try:
            self._pages.mkdir()
        except OSError as exc:
            raise OutputError(f"cannot write {target}: {exc.strerror}") from None

    def shown(self, page: int) -> str:
        return str(self.target)

    def receive_path(self, page: int) -> Path:
        return self._pages / f"page-{page:04d}{self._received_extension}"

    def _open(self) -> PdfWriter | TiffWriter:
        if self._writer is None:
            if self._kind == "pdf":
                self._stream = self._partial.open("wb")
                self._writer = PdfWriter(self._stream)
            else:
                self._writer = TiffWriter(self._partial)
        return self._writer

    def add(self, page: int, received: Path) -> None:
        """Append the page (blocking: run it in a thread) and delete its file."""
        try:
            self._open().add_page(received, self._dpi)
        except OSError as exc:
            raise OutputError(
                f"cannot write {self.target}: {exc.strerror or exc}"
            ) from exc
        finally:
            remove_quietly(received)

    def finish(self) -> list[Path]:
        """Close the document and put it in place."""
        if self._writer is None or self._writer.page_count == 0:
            self.abort()
            raise OutputError(f"no page was scanned: {self.target} not written")
        try:
            if isinstance(self._writer, PdfWriter):
                self._writer.close()
                assert self._stream is not None
                self._stream.close()
            else:
                self._writer.close()
            os.replace(self._partial, self.target)
        except OSError as exc:
            self.abort()
            raise OutputError(
                f"cannot write {self.target}: {exc.strerror or exc}"
            ) from exc
        finally:
            shutil.rmtree(self._pages, ignore_errors=True)
        return [self.target]

    def abort(self) -> None:
        """Remove the unfinished document and any page not yet appended."""
        if self._stream is not None:
            with contextlib.suppress(OSError):
                self._stream.close()
        elif isinstance(self._writer, TiffWriter):
            with contextlib.suppress(OSError):
                self._writer.close()
        remove_quietly(self._partial)
        shutil.rmtree(self._pages, ignore_errors=True)
