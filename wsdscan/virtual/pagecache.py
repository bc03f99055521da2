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

from .images import DocumentSpec, PageSpec, encode_image, make_document, render_page

Spec = PageSpec | DocumentSpec


def produce_image(spec: PageSpec, png_compress_level: int | None = None) -> bytes:
    """The encoded image for ``spec``; PNG at ``png_compress_level`` (0-9) when given."""
    return encode_image(
        render_page(spec),
        spec.format,
        jpeg_quality=spec.jpeg_quality,
        png_compress_level=png_compress_level,
        dpi=spec.dpi,
    )


def produce(spec: Spec, png_compress_level: int | None = None) -> bytes:
    """The encoded file for a page or for a multi-page document."""
    if isinstance(spec, DocumentSpec):
        return make_document(spec)
    return produce_image(spec, png_compress_level)


class PageCache:
    """Renders images in a worker thread; keeps the last ``size`` of them (0: none).

    Concurrent requests for the same page (or document) share one rendering."""

    def __init__(self, size: int, png_compress_level: int | None) -> None:
        self.size = size
        self.png_compress_level = png_compress_level
        self._done: OrderedDict[Spec, bytes] = OrderedDict()
        self._pending: dict[Spec, asyncio.Future[bytes]] = {}

    async def get(self, spec: Spec) -> bytes:
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

    async def _render(self, spec: Spec) -> bytes:
        if isinstance(spec, DocumentSpec):
            return await asyncio.to_thread(produce, spec, self.png_compress_level)
        return await asyncio.to_thread(produce_image, spec, self.png_compress_level)
