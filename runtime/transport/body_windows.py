"""Windows on a response body in the connection's own buffer (``ByteWindow``s for the
MTOM reader): a Content-Length or close-delimited body read in place, a chunked one
with its framing dropped."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Final

import httpx

from ..errors import ProtocolError
from ..mtom.byte_window import ByteWindow

if TYPE_CHECKING:
    from .receive_buffer import Receiver

MAX_CHUNK_LINE: Final = 4096
# A chunk size: hex digits only (int(x, 16) would also take a sign, "0x" and "_").
_CHUNK_SIZE: Final = re.compile(rb"[0-9A-Fa-f]{1,16}")


def content_length(headers: httpx.Headers) -> int | None:
    """The Content-Length (the first of repeated equal values, as h11 takes them), or
    None when there is none or it is not a number."""
    try:
        return int(headers["content-length"].split(",")[0])
    except (KeyError, ValueError):
        return None


def _read_timeout() -> httpx.ReadTimeout:
    return httpx.ReadTimeout("timed out reading the response body")


def _cut_short(receiver: Receiver) -> httpx.TransportError:
    """The error httpx would raise for a body that ended early: ReadError for a
    reset, RemoteProtocolError for a close before the framing said the body ends."""
    if receiver.error is not None:
        return httpx.ReadError(str(receiver.error))
    return httpx.RemoteProtocolError(
        "peer closed connection without sending complete message body"
    )


class BodyWindow(ByteWindow):
    """A Content-Length (or close-delimited, ``length`` None) body, in the
    connection's own buffer: nothing is copied."""

    def __init__(
        self, receiver: Receiver, length: int | None, timeout: float | None
    ) -> None:
        self._receiver = receiver
        self._remaining = length  # body bytes from ``start`` on; None: until close
        self._timeout = timeout
        self.buffer = receiver.buffer
        self.start = receiver.start
        self.end = self._clamped_end()

    def _clamped_end(self) -> int:
        receiver = self._receiver
        if self._remaining is None:
            return receiver.end
        return min(receiver.end, receiver.start + self._remaining)

    async def fill(self) -> bool:
        receiver = self._receiver
        if self._remaining is not None:
            self._remaining -= self.start - receiver.start
        receiver.start = self.start
        seen = self.end - self.start
        if self._remaining == seen:
            return False  # the whole body is in view
        if receiver.end - receiver.start == seen:
            try:
                more = await receiver.receive(self._timeout)
            except TimeoutError:
                raise _read_timeout() from None
            if not more:
                if self._remaining is not None or receiver.error is not None:
                    raise _cut_short(receiver)
                return False  # a close-delimited body ends with the connection
        self.start = receiver.start
        self.end = self._clamped_end()
        return True


class ChunkedWindow(ByteWindow):
    """A chunked body, its data copied out of the connection buffer once (the chunk
    framing between two pieces of data has to go)."""

    def __init__(self, receiver: Receiver, timeout: float | None) -> None:
        self._receiver = receiver
        self._timeout = timeout
        self.buffer = bytearray()
        self.start = 0
        self.end = 0
        self._left = 0  # data bytes left in the current chunk
        self._state = "size"  # size -> data -> size ... -> trailers -> done

    async def _more(self) -> None:
        try:
            more = await self._receiver.receive(self._timeout)
        except TimeoutError:
            raise _read_timeout() from None
        if not more:
            raise _cut_short(self._receiver)

    def _line(self) -> bytes | None:
        """The next line (without its line end), if it is all here."""
        receiver = self._receiver
        newline = receiver.buffer.find(b"\n", receiver.start, receiver.end)
        if newline < 0:
            if receiver.end - receiver.start > MAX_CHUNK_LINE:
                raise ProtocolError("chunked body: chunk size line too long")
            return None
        line = bytes(receiver.buffer[receiver.start : newline]).rstrip(b"\r")
        receiver.start = newline + 1
        return line

    def _step(self) -> bool | None:
        """Decode what is buffered. True once data was copied, False at the end of the
        body, None when more bytes are needed first."""
        receiver = self._receiver
        copied = False
        while True:
            if self._state == "data":
                available = receiver.end - receiver.start
                if not available:
                    return True if copied else None
                count = min(available, self._left)
                self.buffer += memoryview(receiver.buffer)[
                    receiver.start : receiver.start + count
                ]
                receiver.start += count
                self._left -= count
                copied = True
                if not self._left:
                    self._state = "size"
                continue
            line = self._line()
            if line is None:
                return True if copied else None
            if self._state == "size":
                if not line.strip():
                    continue  # the line end after a chunk's data
                size_text = line.split(b";", 1)[0].strip()
                if not _CHUNK_SIZE.fullmatch(size_text):
                    raise ProtocolError(
                        f"chunked body: bad chunk size {size_text[:40]!r}"
                    )
                self._left = int(size_text, 16)
                self._state = "data" if self._left else "trailers"
            elif self._state == "trailers" and not line:
                self._state = "done"
            if self._state == "done":
                return True if copied else False

    async def fill(self) -> bool:
        self.drop_consumed()
        while True:
            if self._state == "done":
                return False
            stepped = self._step()
            if stepped is not None:
                self.end = len(self.buffer)
                return stepped
            await self._more()
