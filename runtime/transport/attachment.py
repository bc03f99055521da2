"""Attachment responses on the client: the image of an MTOM reply read from the
still-open HTTP stream, chunk by chunk or into a file saved atomically."""

from __future__ import annotations

import contextlib
import inspect
import os
import secrets
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from pathlib import Path
from typing import Any, Generic, TypeVar

import httpx

from ..contract import WritableStream
from ..mtom.reader import MultipartReader
from . import preallocate
from .body_windows import content_length
from .soap_client import translated

BodyT = TypeVar("BodyT")


def _create_temporary(target: Path) -> tuple[int, Path]:
    """A new file next to ``target``, opened for writing. Unlike mkstemp's 0600 it is
    created with 0666 for the kernel to apply the umask (and any default ACL) to, so
    the saved image gets the mode a normally created file would; reading the umask
    instead would mean setting it, process-wide and racy with other threads. O_EXCL
    keeps mkstemp's guarantees: never an existing file, never through a symlink."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        candidate = target.parent / f".{target.name}.{secrets.token_hex(6)}.part"
        try:
            return os.open(candidate, flags, 0o666), candidate
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name next to {target}")


class HttpAttachmentResponse(Generic[BodyT]):
    """A response whose attachment is read from the still-open HTTP stream: the
    ``AttachmentResponse`` a client stub hands out for an MTOM operation."""

    def __init__(
        self,
        body: BodyT,
        content_type: str,
        chunks: AsyncIterator[memoryview],
        response: httpx.Response,
        reader: MultipartReader,
        *,
        operation: str = "attachment",
        part_length: int | None = None,
    ) -> None:
        self._body = body
        self._part_length = part_length
        self._content_type = content_type
        self._chunks = chunks
        self._response = response
        self._reader = reader
        self._consumed = False
        self._operation = operation

    @property
    def body(self) -> BodyT:
        return self._body

    @property
    def content_type(self) -> str:
        return self._content_type

    @property
    def expected_size(self) -> int | None:
        """The attachment's length if known before it is read (for a progress bar):
        its part's Content-Length, else the HTTP body's (a little more than the image:
        it holds the SOAP part and the MIME framing too), else None (chunked)."""
        if self._part_length is not None:
            return self._part_length
        return content_length(self._response.headers)

    async def _views(self) -> AsyncGenerator[memoryview, None]:
        """The attachment as views, each valid until the next is requested."""
        if self._consumed:
            raise RuntimeError("the attachment stream was already consumed")
        self._consumed = True
        url = str(self._response.url)
        try:
            with translated(self._operation, url, attachment=True):
                async for view in self._chunks:
                    yield view
                # Complete only with the closing boundary: drain any later parts.
                while (part := await self._reader.next_part()) is not None:
                    async for _ in part.views:
                        pass
        finally:
            await self.aclose()

    async def aiter_bytes(self) -> AsyncGenerator[bytes, None]:
        """The attachment, chunk by chunk. Raises TruncatedAttachmentError if the body
        ends before the closing boundary."""
        async with contextlib.aclosing(self._views()) as views:
            async for view in views:
                yield bytes(view)

    async def read(self) -> bytes:
        """The whole attachment in memory (use ``save`` or ``aiter_bytes`` for large ones)."""
        return b"".join([chunk async for chunk in self.aiter_bytes()])

    async def save(
        self, path: str | Path, progress: Callable[[int], None] | None = None
    ) -> int:
        """Write the attachment to ``path`` atomically: a temporary file next to it is
        renamed only after the closing boundary arrived. ``progress`` gets the byte count
        so far after each chunk. Returns the byte count."""
        target = Path(path)
        fd, temporary = _create_temporary(target)
        try:
            # The body's length bounds the image's: reserve that much on disk first
            # (cheaper writes on ext4, see preallocate), give back the rest after.
            reserved = preallocate.reserve(fd, content_length(self._response.headers))
            with os.fdopen(fd, "wb") as handle:
                # The file takes the views themselves: the image goes from the
                # connection's buffer to the file without another copy.
                size = await self._pump(handle.write, progress, copy=False)
                if reserved:
                    handle.flush()
                    preallocate.release_excess(handle.fileno(), size)
            os.replace(temporary, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
            raise
        return size

    async def save_to(
        self, stream: WritableStream, progress: Callable[[int], None] | None = None
    ) -> int:
        """Write the attachment to any writable stream (``write`` may be sync or async),
        chunk by chunk. On a truncated body the stream holds a prefix and
        TruncatedAttachmentError is raised. Returns the byte count."""
        return await self._pump(stream.write, progress, copy=True)

    async def _pump(
        self,
        write: Callable[[Any], object],
        progress: Callable[[int], None] | None,
        *,
        copy: bool,
    ) -> int:
        """Hand every chunk to ``write``: a view (when ``write`` keeps no reference,
        like a file's) or a bytes copy (a stream may keep what it is given)."""
        size = 0
        # aclosing: if writing or ``progress`` raises, the HTTP response is closed now,
        # not whenever the abandoned generator is collected.
        async with contextlib.aclosing(self._views()) as views:
            async for view in views:
                written = write(bytes(view) if copy else view)
                if inspect.isawaitable(written):
                    await written
                size += view.nbytes
                if progress is not None:
                    progress(size)
        return size

    async def aclose(self) -> None:
        await self._response.aclose()

    async def __aenter__(self) -> HttpAttachmentResponse[BodyT]:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
