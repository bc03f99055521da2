"""High-level scanning on top of the generated client: read capabilities, build a
ticket the scanner supports, run a job and save every page.

    async with ScannerSession("http://192.0.2.10:5358/WSDScanner") as scanner:
        info = await scanner.info()
        pages = await scanner.scan(PageNamer("page.png"), source="ADF")
"""

from __future__ import annotations

import getpass
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from types import TracebackType
from typing import Final
from xml.etree.ElementTree import QName

from wsdscan.generated import ScannerServiceClient
from wsdscan.generated.models.scan import (
    ADFMaximumSize,
    CreateScanJobResponse,
    DocumentDescription,
    DocumentParameters,
    Format,
    Height,
    ImagesToTransfer,
    InputMediaSize,
    InputSize,
    InputSource,
    JobDescription,
    MediaBack,
    MediaFront,
    MediaSides,
    PlatenMaximumSize,
    RequestedElements,
    Resolution,
    ScannerConfiguration,
    ScannerDescription,
    ScannerStatus,
    ScanRegion,
    ScanRegionHeight,
    ScanRegionWidth,
    ScanRegionXOffset,
    ScanRegionYOffset,
    ScanTicket,
    Width,
)
from wsdscan.generated.models.scan import ColorProcessing as ColorProcessingElement
from wsdscan.generated.stubs.faults import (
    ClientErrorJobIdNotFound,
    ClientErrorNoImagesAvailable,
)
from wsdscan.runtime.errors import WsdScanError
from wsdscan.runtime.transport import HttpTransport

SCAN_NS: Final = "http://schemas.microsoft.com/windows/2006/08/wdp/scan"


class ScanError(WsdScanError):
    """The scanner cannot do what was asked (source, resolution, colour, format)."""


def _text(value: object) -> str:
    inner = getattr(value, "value", value)
    return str(getattr(inner, "value", inner))


@dataclass(frozen=True)
class ScannerCapabilities:
    """What GetScannerElements tells about a scanner."""

    description: ScannerDescription | None
    configuration: ScannerConfiguration | None
    status: ScannerStatus | None

    @property
    def name(self) -> str:
        names = self.description.scanner_name if self.description else []
        return _text(names[0]) if names else "(unnamed scanner)"

    @property
    def formats(self) -> list[str]:
        if self.configuration is None:
            return []
        supported = self.configuration.device_settings.formats_supported
        return [_text(value) for value in supported.format_value]

    def sources(self) -> list[str]:
        found = []
        if self.configuration is not None and self.configuration.platen is not None:
            found.append("Platen")
        adf = self.configuration.adf if self.configuration is not None else None
        if adf is not None:
            found.append("ADF")
            if adf.adf_supports_duplex:
                found.append("ADFDuplex")
        return found

    def source_capabilities(
        self, source: str
    ) -> tuple[list[int], list[str], tuple[int, int]]:
        """(resolutions, colour modes, (max width, max height) in 1/1000 inch)."""
        configuration = self.configuration
        if configuration is None:
            raise ScanError("the scanner did not describe its configuration")
        size: PlatenMaximumSize | ADFMaximumSize
        if source == "Platen" and configuration.platen is not None:
            platen = configuration.platen
            resolutions = platen.platen_resolutions.widths.width
            colors = platen.platen_color.color_entry
            size = platen.platen_maximum_size
        elif source in ("ADF", "ADFDuplex") and configuration.adf is not None:
            front = configuration.adf.adf_front
            resolutions = front.adf_resolutions.widths.width
            colors = front.adf_color.color_entry
            size = front.adf_maximum_size
            if source == "ADFDuplex" and not configuration.adf.adf_supports_duplex:
                raise ScanError("the ADF does not scan duplex")
        else:
            raise ScanError(
                f"the scanner has no {source} (it has: {', '.join(self.sources())})"
            )
        return (
            sorted(int(_text(w)) for w in resolutions),
            [_text(c) for c in colors],
            (size.width.value, size.height.value),
        )

    def ticket(
        self, *, source: str, resolution: int, color: str, format: str
    ) -> ScanTicket:
        """A ticket for the whole scan area of ``source``, checked against what the
        scanner says it supports."""
        resolutions, colors, (width, height) = self.source_capabilities(source)
        if resolution not in resolutions:
            raise ScanError(
                f"{resolution} dpi is not supported on {source} ({resolutions})"
            )
        if color not in colors:
            raise ScanError(
                f"colour mode {color} is not supported on {source} ({colors})"
            )
        if self.formats and format not in self.formats:
            raise ScanError(
                f"format {format} is not supported ({', '.join(self.formats)})"
            )
        region = ScanRegion(
            scan_region_x_offset=ScanRegionXOffset(value=0),
            scan_region_y_offset=ScanRegionYOffset(value=0),
            scan_region_width=ScanRegionWidth(value=width),
            scan_region_height=ScanRegionHeight(value=height),
        )

        def side() -> tuple[ScanRegion, ColorProcessingElement, Resolution]:
            return (
                region,
                ColorProcessingElement(value=color),
                Resolution(
                    width=Width(value=resolution), height=Height(value=resolution)
                ),
            )

        front_region, front_color, front_resolution = side()
        back = None
        if source == "ADFDuplex":
            back_region, back_color, back_resolution = side()
            back = MediaBack(
                scan_region=back_region,
                color_processing=back_color,
                resolution=back_resolution,
            )
        return ScanTicket(
            job_description=JobDescription(
                job_name="wsdscan",
                job_originating_user_name=_user(),
                job_information="wsdscan",
            ),
            document_parameters=DocumentParameters(
                format=Format(value=format),
                images_to_transfer=ImagesToTransfer(
                    value=1 if source == "Platen" else 0
                ),
                input_source=InputSource(value=source),
                input_size=InputSize(
                    input_media_size=InputMediaSize(
                        width=Width(value=width), height=Height(value=height)
                    )
                ),
                media_sides=MediaSides(
                    media_front=MediaFront(
                        scan_region=front_region,
                        color_processing=front_color,
                        resolution=front_resolution,
                    ),
                    media_back=back,
                ),
            ),
        )


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no user name in a container: still a valid ticket
        return "wsdscan"


class PageNamer:
    """File names for scanned pages: ``page%d.png`` / ``page{page}.png`` patterns, a
    folder (``folder/page-001.png``), or a plain file (page 1; then ``name-002.png``).
    """

    def __init__(self, target: str | Path, extension: str = ".png") -> None:
        self.target = str(target)
        self.extension = extension

    def __call__(self, page: int) -> Path:
        if "%d" in self.target or "%0" in self.target:
            return Path(self.target % page)
        if "{page" in self.target:
            return Path(self.target.format(page=page))
        path = Path(self.target)
        if path.is_dir() or self.target.endswith(("/", "\\")):
            return path / f"page-{page:03d}{self.extension}"
        if page == 1:
            return path
        return path.with_name(f"{path.stem}-{page:03d}{path.suffix or self.extension}")


ProgressCallback = Callable[[int, int], None]


class ScannerSession:
    """A scanner at one URL: the generated client plus the scanning workflow."""

    def __init__(self, url: str, *, transport: HttpTransport | None = None) -> None:
        # A transport passed in belongs to the caller and stays open after the session.
        self._owns_transport = transport is None
        self.transport = transport or HttpTransport(url)
        self.client = ScannerServiceClient(self.transport)

    async def info(self) -> ScannerCapabilities:
        names = [
            QName(SCAN_NS, n)
            for n in ("ScannerDescription", "ScannerConfiguration", "ScannerStatus")
        ]
        response = await self.client.get_scanner_elements(
            requested_elements=RequestedElements(name=names)
        )
        description = configuration = status = None
        for data in response.scanner_elements.element_data:
            description = description or data.scanner_description
            configuration = configuration or data.scanner_configuration
            status = status or data.scanner_status
        return ScannerCapabilities(description, configuration, status)

    async def scan(
        self,
        name_page: Callable[[int], Path],
        *,
        source: str = "Platen",
        resolution: int = 300,
        color: str = "RGB24",
        format: str = "png",
        progress: ProgressCallback | None = None,
    ) -> list[Path]:
        """Run one scan job and save every page; returns the files written."""
        info = await self.info()
        ticket = info.ticket(
            source=source, resolution=resolution, color=color, format=format
        )
        job = await self.client.create_scan_job(scan_ticket=ticket)
        return [
            path
            async for _, path, _ in self.save_pages(
                job, name_page, single_page=source == "Platen", progress=progress
            )
        ]

    async def save_pages(
        self,
        job: CreateScanJobResponse,
        name_page: Callable[[int], Path],
        *,
        single_page: bool,
        progress: ProgressCallback | None = None,
    ) -> AsyncIterator[tuple[int, Path, int]]:
        """Retrieve the pages of a created job and save each (atomically) to
        ``name_page(n)``; yields ``(page number, path, bytes)`` as each lands.
        ``single_page`` (a platen job) stops after the first page."""
        page = 0
        while True:
            try:
                result = await self.client.retrieve_image(
                    job_id=job.job_id,
                    job_token=job.job_token,
                    document_description=DocumentDescription(
                        document_name=f"IMAGE{page + 1:03d}"
                    ),
                )
            except (ClientErrorNoImagesAvailable, ClientErrorJobIdNotFound):
                # The normal end of an ADF job (Ricoh ends it with JobIdNotFound,
                # device-quirks.md); before any page it is an error.
                if page:
                    return
                raise
            page += 1
            target = name_page(page)
            size = await result.save(
                target, partial(progress, page) if progress else None
            )
            yield page, target, size
            if single_page:
                return

    async def aclose(self) -> None:
        if self._owns_transport:
            await self.transport.aclose()

    async def __aenter__(self) -> ScannerSession:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()
