"""Producing page images for the virtual scanner: optional PNG compression level and an
optional cache of finished images.

Pages are deterministic (same :class:`PageSpec`, same bytes), so a load test can ask
for large, barely compressed images (``png_compress_level=0``) and have them rendered
once (``image_cache``), and a client can check what it received against
:func:`produce_image` run locally.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict

from .images import PageSpec, encode_image, render_page


def produce_image(spec: PageSpec, png_compress_level: int | None = None) -> bytes:
    """The encoded image for ``spec``; PNG at ``png_compress_level`` (0-9) when given."""
    return encode_image(
        render_page(spec),
        spec.format,
        jpeg_quality=spec.jpeg_quality,
        png_compress_level=png_compress_level,
    )


class PageCache:
    """Renders images in a worker thread; keeps the last ``size`` of them (0: none).

    Concurrent requests for the same page share one rendering."""

    def __init__(self, size: int, png_compress_level: int | None) -> None:
        self.size = size
        self.png_compress_level = png_compress_level
        self._done: OrderedDict[PageSpec, bytes] = OrderedDict()
        self._pending: dict[PageSpec, asyncio.Future[bytes]] = {}

    async def get(self, spec: PageSpec) -> bytes:
        if self.size <= 0:
            return await self._render(spec)
        cached = self._done.get(spec)
        if cached is not None:
            self._done.move_to_end(spec)
            return cached
        pending = self._pending.get(spec)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._pending[spec] = future
        try:
            data = await self._render(spec)
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: waiters re-raise it, nobody else must
            raise
        finally:
            self._pending.pop(spec, None)
        future.set_result(data)
        self._done[spec] = data
        while len(self._done) > self.size:
            self._done.popitem(last=False)
        return data

    async def _render(self, spec: PageSpec) -> bytes:
        return await asyncio.to_thread(produce_image, spec, self.png_compress_level)
