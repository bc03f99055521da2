"""What a scan writes, decided from the output the user names, and checked before the
scanner is asked for anything.

- ``name.pdf`` / ``name.tif``: one multi-page document (:mod:`.document`);
- ``name.png`` / ``name.jpg`` and any other name: page files, ``name-002.png`` and on
  for later pages; ``page%d.png`` or ``page{page}.png`` patterns; a folder (existing,
  or ending with ``/``) gets ``page-001.<ext>``, ... (:mod:`.files`).

Pages are converted only where the name asks for another type than the scanner sends
(``-o page.png`` from a JPEG-only scanner); a folder, a pattern or another suffix takes
pages as received. Pillow is loaded only when a page must be read.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from wsdscan.options import (
    Output,
    extension,
    is_document_format,
    needs_decoding,
    output_kind,
)

from .files import PageNamer, check_file, check_folder, check_pattern, is_pattern

__all__ = ["OutputTarget", "PageNamer", "PageSink", "open_sink"]

Namer = Callable[[int], "str | os.PathLike[str]"]


class PageSink(Protocol):
    """Where a job's pages go; ``add`` and ``finish`` block (run them in a thread)."""

    def receive_path(self, page: int) -> Path: ...

    def shown(self, page: int) -> str: ...

    def add(self, page: int, received: Path) -> Path | None: ...

    def finish(self) -> list[Path]: ...

    def abort(self) -> None: ...


@dataclass(frozen=True)
class OutputTarget:
    """The output a user named: ``kind`` is what is written, ``document`` whether all
    pages go into one file, ``folder`` whether it names a folder."""

    target: str | Namer
    kind: Output
    document: bool = False
    folder: bool = False

    @classmethod
    def parse(cls, target: str | os.PathLike[str] | Namer) -> OutputTarget:
        if callable(target):
            return cls(target, "as-received")
        text = os.fspath(target)
        if is_pattern(text):
            return cls(text, output_kind(text))
        if text.endswith(("/", os.sep)) or Path(text).is_dir():
            if Path(text).suffix.lower() in (".pdf", ".tif", ".tiff") and not (
                text.endswith(("/", os.sep))
            ):
                check_file(Path(text), text)  # a folder named like a document
            return cls(text, "as-received", folder=True)
        kind = output_kind(text)
        return cls(text, kind, document=kind in ("pdf", "tiff"))

    def check(self) -> None:
        """Refuse an output that cannot be written (OutputError), before scanning."""
        if callable(self.target):
            return
        if self.document:
            check_file(Path(self.target), self.target)
        elif is_pattern(self.target):
            check_pattern(self.target)
            check_folder(PageNamer(self.target)(1).parent, self.target)
        elif self.folder:
            check_folder(Path(self.target), self.target)
        else:
            check_file(Path(self.target), self.target)


def open_sink(output: OutputTarget, wire_format: str, dpi: float) -> PageSink:
    """The sink for ``output`` receiving pages in ``wire_format``."""
    received = extension(wire_format)
    if output.document and not is_document_format(output.kind, wire_format):
        from .document import DocumentFile

        assert isinstance(output.target, str)
        return DocumentFile(
            Path(output.target), output.kind, received_extension=received, dpi=dpi
        )
    output.check()
    from .files import PageFiles

    convert = output.kind if needs_decoding(output.kind, wire_format) else None
    namer: Namer = (
        output.target
        if callable(output.target)
        else PageNamer(output.target, extension=received)
    )
    return PageFiles(namer, convert_to=convert, received_extension=received, dpi=dpi)
