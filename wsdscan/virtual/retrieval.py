"""What one RetrieveImage of a job delivers: which images, the spec that renders them,
and producing them.

A single-image format delivers one image per RetrieveImage. A multi-page format
(tiff-multi-*, pdf-a; ``encoders.MULTI_PAGE_NOTE``) delivers every image of the job in
one file with the first RetrieveImage: every sheet the feeder holds, up to
ImagesToTransfer, both sides for ADFDuplex. The job then completes once that file was
sent, as a platen job does with its one image.
"""

from __future__ import annotations

import asyncio

from . import encoders
from .images import DocumentSpec, PageSpec, Side
from .jobs import JobTable, VirtualJob
from .pagecache import PageCache


def reserve(jobs: JobTable, job: VirtualJob) -> list[tuple[int, Side]]:
    """Reserve the (sheet, side) images the next RetrieveImage of ``job`` delivers
    (taking sheets from the feeder); empty when there is none."""
    if not encoders.is_multi_page(job.settings.format):
        one = jobs.next_side(job)
        return [one] if one is not None else []
    if job.images_reserved:
        return []  # the job's one document was handed out already
    found: list[tuple[int, Side]] = []
    while (image := jobs.next_side(job)) is not None:
        found.append(image)
    return found


def page_spec(job: VirtualJob, sheet: int, side: Side, title: str) -> PageSpec:
    settings = job.settings
    side_settings = settings.back if side == "back" and settings.back else None
    side_settings = side_settings or settings.front
    return PageSpec(
        width=side_settings.pixels_per_line,
        height=side_settings.number_of_lines,
        color_mode=side_settings.color_mode,
        format=settings.format,
        sheet=sheet,
        side=side,
        x_resolution=side_settings.x_resolution,
        y_resolution=side_settings.y_resolution,
        jpeg_quality=settings.jpeg_quality,
        title=title,
    )


def image_spec(
    job: VirtualJob, reserved: list[tuple[int, Side]], title: str
) -> PageSpec | DocumentSpec:
    """What renders the reserved images: a page, or a document of every page."""
    pages = tuple(page_spec(job, sheet, side, title) for sheet, side in reserved)
    if encoders.is_multi_page(job.settings.format):
        return DocumentSpec(pages=pages, format=job.settings.format)
    (page,) = pages
    return page


async def produce(
    pages: PageCache, spec: PageSpec | DocumentSpec, scan_delay: float
) -> bytes:
    """The file for ``spec``, after ``scan_delay`` seconds per image."""
    if scan_delay > 0:
        # Per image: a multi-page document takes as long as its pages.
        images = len(spec.pages) if isinstance(spec, DocumentSpec) else 1
        await asyncio.sleep(scan_delay * images)
    return await pages.get(spec)
