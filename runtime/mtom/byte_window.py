"""A window on received bytes that a parser reads in place.

The unread bytes are ``buffer[start:end]``. A parser searches them where they lie
(``buffer.find(sub, start, end)``), hands out memoryviews of them, advances ``start``
past what it used, and calls :meth:`ByteWindow.fill` when it needs more. Only ``fill``
may move or overwrite unread bytes, so a view handed out stays valid until the parser
next calls ``fill`` (parsers release their views before that).

:class:`IterWindow` gathers an async iterator of chunks (one copy per chunk); the
network stream in :mod:`.netstream` provides windows on its own receive buffer (no
copy at all for a Content-Length body).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator


class ByteWindow(ABC):
    """Received bytes not yet consumed: ``buffer[start:end]``."""

    buffer: bytearray
    start: int
    end: int

    @abstractmethod
    async def fill(self) -> bool:
        """Receive more bytes (``end`` grows; the unread bytes may move, ``start``
        follows them). False at the end of the data: nothing more will come."""

    def drop_consumed(self) -> None:
        """Forget the bytes before ``start`` (for a window with a buffer of its own;
        dropping a prefix of a bytearray moves its start, not its bytes)."""
        if self.start:
            del self.buffer[: self.start]
            self.end -= self.start
            self.start = 0


class IterWindow(ByteWindow):
    """A window over an async iterator of chunks."""

    def __init__(self, chunks: AsyncIterator[bytes]) -> None:
        self._chunks = chunks
        self.buffer = bytearray()
        self.start = 0
        self.end = 0
        self._exhausted = False

    async def fill(self) -> bool:
        while not self._exhausted:
            try:
                chunk = await anext(self._chunks)
            except StopAsyncIteration:
                self._exhausted = True
                break
            self.drop_consumed()
            self.buffer += chunk
            self.end = len(self.buffer)
            if chunk:
                return True
        return False
