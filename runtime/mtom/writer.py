"""Writing MTOM: the multipart/related body of a reply with one attachment, streamed.

:func:`open_mtom_stream` opens the attachment source (bytes or another bytes-like
buffer, a file path as ``Path``, ``str`` or ``os.PathLike``, a sync or async iterator of
bytes) before anything is sent, so a missing file can still be answered with a fault,
then yields the multipart body chunk by chunk; :func:`mtom_length` gives the
Content-Length when the attachment size is known.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncGenerator, AsyncIterable, Iterable
from dataclasses import dataclass
from typing import Final

from ..contract import AttachmentSource
from .mime import CRLF

# Attachment sources are sent in pieces of at most this size (files are read in a worker
# thread one piece at a time): large enough to keep per-chunk overhead low, small enough
# to keep memory bounded.
FILE_CHUNK: Final = 1024 * 1024


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
