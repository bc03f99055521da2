"""MTOM (XOP in multipart/related): stream it out on the server, stream it in on the client.

Writing: :func:`open_mtom_stream` opens the attachment source (bytes or another
bytes-like buffer, a file path as ``Path``, ``str`` or ``os.PathLike``, a sync or async
iterator of bytes) before anything is sent, so a missing file can still be answered
with a fault, then yields the multipart body chunk by chunk; :func:`mtom_length` gives
the Content-Length when the attachment size is known.

Reading: :class:`MultipartReader` parses a multipart body incrementally from an async
iterator of chunks or, without copying, from a :class:`~.byte_window.ByteWindow` on a
connection's receive buffer; a part's body is itself an async iterator, so an image
never has to fit in memory. It tolerates what devices send (``shared/notes/device-quirks.md``):
``Multipart/Related`` in any case, unquoted or oddly ordered parameters, LF-only header
endings, parts without headers, ``start-info`` variants.

Quirk #1 of device-quirks.md, a boundary not preceded by CRLF (Xerox WorkCentre 3025;
source: sane-airscan commit 9c76b5b, issue #71): RFC 2046 makes the CRLF before
``--boundary`` part of the delimiter, so a body normally ends before that CRLF. When the
CRLF is missing the reader still finds the delimiter, and leniently strips a lone LF
right before it as the line break (nothing when there is neither). A binary body whose
last byte is LF, followed by a bare delimiter, therefore loses that byte: the price of
reading such devices.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator, Iterable
from dataclasses import dataclass
from typing import Final
from urllib.parse import unquote

from lxml import etree

from ..contract import AttachmentSource
from ..errors import ProtocolError, TruncatedAttachmentError
from .byte_search import find
from .byte_window import ByteWindow, IterWindow

CRLF: Final = b"\r\n"
# Attachment sources are sent in pieces of at most this size (files are read in a worker
# thread one piece at a time): large enough to keep per-chunk overhead low, small enough
# to keep memory bounded.
FILE_CHUNK: Final = 1024 * 1024
# A SOAP root part larger than this is refused: it is XML, not an image.
MAX_ROOT_PART: Final = 4 * 1024 * 1024
MAX_HEADER_BLOCK: Final = 16 * 1024


# -- content type parameters -------------------------------------------------------------


def parse_content_type(value: str) -> tuple[str, dict[str, str]]:
    """``multipart/related; boundary=...`` -> ("multipart/related", {"boundary": ...}).

    Media type and parameter names are lower-cased; values may be quoted or not, in any
    order (Dell C2665dnf sends unquoted values with special characters)."""
    media, _, rest = value.partition(";")
    params: dict[str, str] = {}
    i = 0
    while i < len(rest):
        while i < len(rest) and rest[i] in " \t;":
            i += 1
        eq = rest.find("=", i)
        if eq < 0:
            break
        name = rest[i:eq].strip().lower()
        i = eq + 1
        if i < len(rest) and rest[i] == '"':
            end = i + 1
            chars = []
            while end < len(rest) and rest[end] != '"':
                if rest[end] == "\\" and end + 1 < len(rest):
                    end += 1
                chars.append(rest[end])
                end += 1
            params[name] = "".join(chars)
            i = end + 1
        else:
            end = rest.find(";", i)
            end = len(rest) if end < 0 else end
            params[name] = rest[i:end].strip()
            i = end
    return media.strip().lower(), params


def content_id(value: str) -> str:
    """Normalize a Content-ID header (or a ``start`` parameter) for matching: angle
    brackets stripped. Not URL-decoded (a Content-ID is not a URL, and ``%`` is a legal
    character in it), unless given a ``cid:`` URL, which is read as an href
    (:func:`cid_href`: URL-decoded)."""
    value = value.strip()
    if value.lower().startswith("cid:"):  # lenient: a cid: URL where an id belongs
        return cid_href(value)
    return value.strip("<>")


def cid_href(href: str) -> str:
    """The Content-ID an ``xop:Include href="cid:..."`` names: scheme and angle
    brackets stripped, URL-decoded (RFC 2392; ``%40`` vs ``@``, python-zeep PR #896)."""
    value = href.strip()
    if value.lower().startswith("cid:"):
        value = value[4:]
    return unquote(value.strip("<>"))


# -- XOP --------------------------------------------------------------------------------

XOP_INCLUDE: Final = "{http://www.w3.org/2004/08/xop/include}Include"


def detach_includes(root: etree._Element) -> list[str]:
    """XOP decoding for a streaming reader: remove every ``xop:Include`` from the SOAP
    part and return their hrefs in document order. The referenced parts are streamed
    separately instead of being inlined, so the base64Binary fields stay empty."""
    hrefs = []
    for include in list(root.iter(XOP_INCLUDE)):
        hrefs.append(include.get("href", ""))
        parent = include.getparent()
        if parent is not None:
            parent.remove(include)
    return hrefs


# -- writing ------------------------------------------------------------------------------


@dataclass(frozen=True)
class MtomEnvelope:
    """The framing of one MTOM message: boundary and the two Content-IDs."""

    boundary: str
    root_id: str
    attachment_id: str

    @classmethod
    def new(cls) -> MtomEnvelope:
        token = uuid.uuid4()
        return cls(f"uuid:{token}", f"root.message@{token}", f"image@{token}")

    @property
    def content_type(self) -> str:
        return (
            'multipart/related; type="application/xop+xml"; '
            f'boundary="{self.boundary}"; start="<{self.root_id}>"; '
            'start-info="application/soap+xml"'
        )

    def head(self, soap_xml: bytes, attachment_type: str) -> bytes:
        boundary = self.boundary.encode()
        return b"".join(
            [
                b"--" + boundary + CRLF,
                b'Content-Type: application/xop+xml; charset=UTF-8; type="application/soap+xml"\r\n',
                b"Content-Transfer-Encoding: binary\r\n",
                b"Content-ID: <" + self.root_id.encode() + b">\r\n\r\n",
                soap_xml,
                CRLF + b"--" + boundary + CRLF,
                b"Content-Type: " + attachment_type.encode() + CRLF,
                b"Content-Transfer-Encoding: binary\r\n",
                b"Content-ID: <" + self.attachment_id.encode() + b">\r\n\r\n",
            ]
        )

    def tail(self) -> bytes:
        return CRLF + b"--" + self.boundary.encode() + b"--" + CRLF


def attachment_size(content: AttachmentSource, declared: int | None) -> int | None:
    """The attachment's size when it can be known without reading it. Raises OSError
    for a file that cannot be stat'ed (missing, no permission)."""
    if declared is not None:
        return declared
    if isinstance(content, bytes):
        return len(content)
    if isinstance(content, bytearray | memoryview):
        # nbytes, not len(): a memoryview of e.g. array("H") counts items.
        return memoryview(content).nbytes
    if isinstance(content, str | os.PathLike):
        return os.stat(content).st_size
    return None


def mtom_length(
    frame: MtomEnvelope, soap_xml: bytes, attachment_type: str, size: int | None
) -> int | None:
    if size is None:
        return None
    return len(frame.head(soap_xml, attachment_type)) + size + len(frame.tail())


def _chunk(chunk: object) -> bytes:
    # bytes(n) of an int is n zero bytes, and bytes(str) needs an encoding: only a
    # bytes-like chunk is data (an iterator over bytes yields ints, a mistake to report).
    if isinstance(chunk, bytes):
        return chunk
    if isinstance(chunk, bytearray | memoryview):
        return bytes(chunk)
    raise TypeError(f"an attachment iterator yielded {type(chunk).__name__}, not bytes")


async def iter_source(content: AttachmentSource) -> AsyncGenerator[bytes, None]:
    """Chunks of an attachment source; files are read in a worker thread."""
    if isinstance(content, bytes):
        # Sliced, so a large image never becomes one huge transport write buffer.
        for start in range(0, len(content), FILE_CHUNK):
            yield content[start : start + FILE_CHUNK]
        return
    if isinstance(content, bytearray | memoryview):
        # One buffer, like bytes (iterating it would give ints); cast("B") makes a
        # view of any format count bytes. Each slice is copied once, to the bytes
        # the ASGI server needs.
        view = memoryview(content).cast("B")
        for start in range(0, view.nbytes, FILE_CHUNK):
            yield bytes(view[start : start + FILE_CHUNK])
        return
    if isinstance(content, str | os.PathLike):  # a file path, Path included
        async for chunk in _read_file(content):
            yield chunk
    elif isinstance(content, AsyncIterable):
        async for piece in content:
            if data := _chunk(piece):
                yield data
    elif isinstance(content, Iterable):
        for piece in content:
            if data := _chunk(piece):
                yield data
    else:
        raise TypeError(f"unsupported attachment source {type(content).__name__}")


async def _read_file(path: str | os.PathLike[str]) -> AsyncGenerator[bytes, None]:
    """A file's chunks, read in a worker thread one chunk ahead: the next read runs
    while the last chunk is being sent (two chunks in memory at most)."""
    loop = asyncio.get_running_loop()
    handle = await asyncio.to_thread(open, path, "rb")
    reading = loop.run_in_executor(None, handle.read, FILE_CHUNK)
    try:
        # Shielded: a cancelled consumer must not cancel the read's future, whose
        # completion is what closes the file below (the thread may still be in it).
        while chunk := await asyncio.shield(reading):
            reading = loop.run_in_executor(None, handle.read, FILE_CHUNK)
            yield chunk
    finally:
        # Closed once no read is running in it (at once when none is); the error of
        # a read nobody waits for any more is dropped with it.
        def close(done: asyncio.Future[bytes]) -> None:
            if not done.cancelled():
                done.exception()
            handle.close()

        reading.add_done_callback(close)


async def mtom_stream(
    frame: MtomEnvelope,
    soap_xml: bytes,
    content: AttachmentSource,
    attachment_type: str,
) -> AsyncGenerator[bytes, None]:
    """The whole multipart/related body, streamed; the source is opened on the first
    iteration (:func:`open_mtom_stream` opens it at once)."""
    chunks = await open_mtom_stream(frame, soap_xml, content, attachment_type)
    try:
        async for chunk in chunks:
            yield chunk
    finally:
        await chunks.aclose()


async def open_mtom_stream(
    frame: MtomEnvelope,
    soap_xml: bytes,
    content: AttachmentSource,
    attachment_type: str,
) -> AsyncGenerator[bytes, None]:
    """The whole multipart/related body, streamed. The source is opened and its first
    chunk read before this returns: a missing file, an unsupported source or an
    iterator that fails at once raises here, while the server can still answer with a
    fault instead of a truncated 200."""
    source = iter_source(content)
    try:
        first = await anext(source, None)
    except BaseException:
        await source.aclose()
        raise
    return _framed(frame, soap_xml, attachment_type, first, source)


async def _framed(
    frame: MtomEnvelope,
    soap_xml: bytes,
    attachment_type: str,
    first: bytes | None,
    source: AsyncGenerator[bytes, None],
) -> AsyncGenerator[bytes, None]:
    try:
        yield frame.head(soap_xml, attachment_type)
        if first is not None:
            yield first
            async for chunk in source:
                yield chunk
        yield frame.tail()
    finally:
        await source.aclose()


# -- reading ------------------------------------------------------------------------------


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
