"""Reading MTOM (XOP in multipart/related): :class:`MultipartReader` parses a multipart
body incrementally from an async iterator of chunks or, without copying, from a
:class:`~.byte_window.ByteWindow` on a connection's receive buffer; a part's body is
itself an async iterator, so an image never has to fit in memory. It tolerates what
devices send (``shared/notes/device-quirks.md``): ``Multipart/Related`` in any case,
unquoted or oddly ordered parameters, LF-only header endings, parts without headers,
``start-info`` variants.

Quirk #1 of device-quirks.md, a boundary not preceded by CRLF (Xerox WorkCentre 3025;
source: sane-airscan commit 9c76b5b, issue #71): RFC 2046 makes the CRLF before
``--boundary`` part of the delimiter, so a body normally ends before that CRLF. When the
CRLF is missing the reader still finds the delimiter, and leniently strips a lone LF
right before it as the line break (nothing when there is neither). A binary body whose
last byte is LF, followed by a bare delimiter, therefore loses that byte: the price of
reading such devices.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Final

from ..errors import ProtocolError, TruncatedAttachmentError
from .byte_search import find
from .byte_window import ByteWindow, IterWindow
from .mime import CRLF, content_id

# A SOAP root part larger than this is refused: it is XML, not an image.
MAX_ROOT_PART: Final = 4 * 1024 * 1024
MAX_HEADER_BLOCK: Final = 16 * 1024


@dataclass
class Part:
    """One MIME part: its headers (lower-cased names) and its body as a stream of
    memoryviews, each valid until the next is requested (:attr:`body` copies them)."""

    headers: dict[str, str]
    views: AsyncIterator[memoryview]

    @property
    def body(self) -> AsyncIterator[bytes]:
        """The body as bytes chunks (the views, copied)."""
        return _copied(self.views)

    @property
    def content_id(self) -> str | None:
        value = self.headers.get("content-id")
        return content_id(value) if value else None

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "application/octet-stream")


async def _copied(views: AsyncIterator[memoryview]) -> AsyncIterator[bytes]:
    async for view in views:
        yield bytes(view)


class MultipartReader:
    """Incremental multipart parser over received bytes: an async iterator of chunks,
    or a :class:`~.byte_window.ByteWindow` (searched and handed out in place)."""

    def __init__(
        self, source: AsyncIterator[bytes] | ByteWindow, boundary: str
    ) -> None:
        if not boundary:
            raise ProtocolError("multipart body without a boundary parameter")
        try:
            encoded = boundary.encode("latin-1")
        except UnicodeEncodeError:
            raise ProtocolError(
                f"multipart boundary {boundary!r} is not Latin-1"
            ) from None
        self._window = source if isinstance(source, ByteWindow) else IterWindow(source)
        self._delimiter = b"--" + encoded
        self._eof = False
        self._started = False
        self._finished = False
        self._in_part = False

    async def _fill(self) -> bool:
        if self._eof:
            return False
        if not await self._window.fill():
            self._eof = True
            return False
        return True

    def _unread(self) -> int:
        return self._window.end - self._window.start

    def _find(self, needle: bytes) -> int:
        """The offset of ``needle`` in the unread bytes, or -1."""
        window = self._window
        index = window.buffer.find(needle, window.start, window.end)
        return index - window.start if index >= 0 else -1

    def _startswith(self, prefix: bytes) -> bool:
        window = self._window
        return window.buffer.startswith(prefix, window.start, window.end)

    def _consume(self, count: int) -> bytes:
        window = self._window
        data = bytes(window.buffer[window.start : window.start + count])
        window.start += count
        return data

    async def _skip_line_end(self) -> None:
        """After a delimiter: ``--`` closes the body; otherwise skip to the line end."""
        while self._unread() < 2 and await self._fill():
            pass
        if self._startswith(b"--"):
            self._finished = True
            return
        while True:
            newline = self._find(b"\n")
            if newline >= 0:
                self._window.start += newline + 1
                return
            if self._unread() > MAX_HEADER_BLOCK:
                raise ProtocolError("multipart delimiter line too long")
            if not await self._fill():
                raise TruncatedAttachmentError(
                    "multipart body ended inside a delimiter line"
                )

    async def _start(self) -> None:
        while True:
            index = self._find(self._delimiter)
            if index >= 0:
                self._window.start += index + len(self._delimiter)
                await self._skip_line_end()
                self._started = True
                return
            if self._unread() > MAX_HEADER_BLOCK:
                raise ProtocolError("no multipart boundary in the body")
            if not await self._fill():
                raise ProtocolError("multipart body without its boundary")

    async def _headers(self) -> dict[str, str]:
        # A part may have no headers at all (RFC 2046: the blank line follows the
        # boundary line at once); searching for CRLFCRLF would then take the body's
        # first line for a header.
        while self._unread() < 2 and not self._startswith(b"\n"):
            if not await self._fill():
                raise TruncatedAttachmentError(
                    "multipart body ended inside part headers"
                )
        if self._startswith(b"\n"):
            self._window.start += 1
            return {}
        if self._startswith(CRLF):
            self._window.start += 2
            return {}
        while True:
            # The earliest blank line ends the block (CRLF or, leniently, LF only).
            ends = [
                (index, len(marker))
                for marker in (b"\r\n\r\n", b"\n\n")
                if (index := self._find(marker)) >= 0
            ]
            if ends:
                end, marker_length = min(ends)
                block = self._consume(end).decode("latin-1")
                self._window.start += marker_length
                headers: dict[str, str] = {}
                for line in block.splitlines():
                    name, sep, value = line.partition(":")
                    if sep:
                        headers[name.strip().lower()] = value.strip()
                return headers
            if self._unread() > MAX_HEADER_BLOCK:
                raise ProtocolError("multipart part headers too long")
            if not await self._fill():
                raise TruncatedAttachmentError(
                    "multipart body ended inside part headers"
                )

    async def _body(self) -> AsyncIterator[memoryview]:
        """A part's body. The hot path of a large attachment: the unread bytes are
        searched for the delimiter where they lie and handed out as views; only a tail
        shorter than the delimiter line is kept back for the next search (the
        delimiter, or the CRLF before it, may straddle two fills)."""
        window = self._window
        delimiter = self._delimiter
        keep = len(delimiter) + 2  # the CRLF before a delimiter may not be here yet
        try:
            while True:
                index = find(window.buffer, delimiter, window.start, window.end)
                if index >= 0:
                    # The CRLF before the delimiter belongs to it; a lone LF is taken
                    # as the line break too (quirk #1, see the module docstring). The
                    # two bytes before it were held back, so they are still unread.
                    end = index
                    if window.buffer.endswith(CRLF, window.start, end):
                        end -= 2
                    elif window.buffer.endswith(b"\n", window.start, end):
                        end -= 1
                    if end > window.start:
                        with memoryview(window.buffer)[window.start : end] as view:
                            yield view
                    window.start = index + len(delimiter)
                    await self._skip_line_end()
                    return
                cut = window.end - keep
                if cut > window.start:
                    with memoryview(window.buffer)[window.start : cut] as view:
                        yield view
                    window.start = cut
                if not await self._fill():
                    raise TruncatedAttachmentError(
                        "attachment ended before its closing multipart boundary"
                    )
        finally:
            self._in_part = False

    async def next_part(self) -> Part | None:
        """The next part, or None after the closing boundary. The previous part's body
        must have been consumed first."""
        if self._in_part:
            raise ProtocolError("read the previous part's body before the next part")
        if not self._started:
            await self._start()
        if self._finished:
            return None
        headers = await self._headers()
        self._in_part = True
        return Part(headers, self._body())

    @property
    def finished(self) -> bool:
        """True once the closing boundary was read (a complete body)."""
        return self._finished


async def read_all(
    stream: AsyncIterator[bytes] | AsyncIterator[memoryview], limit: int
) -> bytes:
    """Collect a (small) part body, refusing more than ``limit`` bytes."""
    data = bytearray()
    async for chunk in stream:
        data += chunk
        if len(data) > limit:
            raise ProtocolError(
                f"MIME part larger than {limit} bytes where XML was expected"
            )
    return bytes(data)
