"""From what the user asks (names, aliases, a paper size, a region in mm) and what the
scanner offers to a ScanTicket it accepts: every value is checked against the
scanner's own lists before a job is created, and a refusal lists what it offers."""

from __future__ import annotations

import getpass
from collections.abc import Sequence
from dataclasses import dataclass

from wsdscan.device import ScannerCapabilities, SourceCapabilities
from wsdscan.errors import UnsupportedOption
from wsdscan.generated.models.scan import ColorProcessing as ColorProcessingElement
from wsdscan.generated.models.scan import (
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
    Resolution,
    ScanRegion,
    ScanRegionHeight,
    ScanRegionWidth,
    ScanRegionXOffset,
    ScanRegionYOffset,
    ScanTicket,
    Width,
)
from wsdscan.options import (
    DECODABLE,
    Output,
    canonical,
    choose_wire_format,
    match_advertised,
    millimetres,
    needs_decoding,
    paper_size,
    thousandths,
)

DEFAULT_RESOLUTION = 300
# The colour mode taken when none is asked: the first of these the source offers.
DEFAULT_COLORS = ("RGB24", "Grayscale8", "BlackAndWhite1")
Region = Sequence[float | None]
"""left, top, width, height in mm (scanimage's -l -t -x -y); None: the default."""


@dataclass(frozen=True)
class ScanSettings:
    """A resolved ticket: sizes in 1/1000 inch; ``images`` is ImagesToTransfer (0:
    until the feeder is empty)."""

    source: str
    resolution: int
    color: str
    format: str
    media_size: tuple[int, int]
    region: tuple[int, int, int, int]
    images: int

    @property
    def bilevel(self) -> bool:
        return self.color == "BlackAndWhite1"


def _mm(size: tuple[int, int]) -> str:
    return f"{millimetres(size[0]):g} x {millimetres(size[1]):g} mm"


def _resolution(wanted: int | None, offered: list[int], source: str) -> int:
    if not offered:
        raise UnsupportedOption(f"the scanner lists no resolution for {source}")
    if wanted is None:
        # The nearest to 300 dpi (the lower of two as near).
        return min(offered, key=lambda r: (abs(r - DEFAULT_RESOLUTION), r))
    if wanted not in offered:
        raise UnsupportedOption(
            f"{wanted} dpi is not supported on {source} "
            f"(choose from {', '.join(map(str, offered))})"
        )
    return wanted


def _color(wanted: str | None, offered: list[str], source: str) -> str:
    if wanted is None:
        for color in DEFAULT_COLORS:
            if color in offered:
                return color
        if not offered:
            raise UnsupportedOption(f"the scanner lists no colour mode for {source}")
        return offered[0]
    found = match_advertised("color", canonical("color", wanted), offered)
    if found is None:
        raise UnsupportedOption(
            f"colour mode {wanted} is not supported on {source} "
            f"(choose from {', '.join(offered)})"
        )
    return found


def _format(
    wanted: str | None, output: Output, bilevel: bool, offered: list[str]
) -> str:
    if wanted is not None:
        name = canonical("format", wanted)
        found = match_advertised("format", name, offered) if offered else name
        if found is None:
            raise UnsupportedOption(
                f"format {wanted} is not supported (choose from {', '.join(offered)})"
            )
    else:
        found = choose_wire_format(output, bilevel, offered)
        if found is None:
            raise UnsupportedOption(
                f"the scanner offers no format wsdscan can write as {output.upper()} "
                f"({', '.join(offered)}): name one with --format and save its pages "
                "as received (a folder or a page%d pattern)"
            )
    if needs_decoding(output, found) and found.lower() not in DECODABLE:
        raise UnsupportedOption(
            f"pages in {found} cannot be converted to {output.upper()}: save them as "
            "received (a folder, a page%d pattern or their own suffix)"
        )
    return found


def _area(
    caps: SourceCapabilities, size: str | None, region: Region | None
) -> tuple[tuple[int, int], tuple[int, int, int, int]]:
    """(media size, region) in 1/1000 inch, checked against the source's sizes."""
    largest, smallest = caps.max_size, caps.min_size
    media = largest
    if size is not None:
        paper = paper_size(size)
        media = (thousandths(paper[0]), thousandths(paper[1]))
        if media[0] > largest[0] or media[1] > largest[1]:
            raise UnsupportedOption(
                f"{size} ({_mm(media)}) is larger than the {caps.source} "
                f"(up to {_mm(largest)})"
            )
    given = [*(region or ()), None, None, None, None]
    left_mm, top_mm, width_mm, height_mm = given[:4]
    left = thousandths(left_mm or 0)
    top = thousandths(top_mm or 0)
    width = thousandths(width_mm) if width_mm is not None else media[0] - left
    height = thousandths(height_mm) if height_mm is not None else media[1] - top
    if left < 0 or top < 0 or width <= 0 or height <= 0:
        raise UnsupportedOption(
            "the scan region must lie on the page (see -l -t -x -y)"
        )
    if left + width > media[0] + 1 or top + height > media[1] + 1:
        raise UnsupportedOption(
            f"the scan region ends beyond the {'page' if size else caps.source} "
            f"({_mm(media)})"
        )
    if width < smallest[0] or height < smallest[1]:
        raise UnsupportedOption(
            f"the scan region is smaller than the {caps.source} scans "
            f"(at least {_mm(smallest)})"
        )
    return media, (left, top, min(width, media[0] - left), min(height, media[1] - top))


def resolve_settings(
    info: ScannerCapabilities,
    *,
    source: str | None = None,
    resolution: int | None = None,
    color: str | None = None,
    format: str | None = None,
    size: str | None = None,
    region: Region | None = None,
    pages: int | None = None,
    output: Output = "as-received",
) -> ScanSettings:
    """Every option checked against ``info`` (UnsupportedOption listing what the
    scanner offers); options left None take the scanner's best."""
    sources = info.sources()
    if source is None:
        if not sources:
            raise UnsupportedOption("the scanner lists no input source")
        name = "Platen" if "Platen" in sources else sources[0]
    else:
        name = canonical("source", source)
    caps = info.capabilities(name)
    chosen_color = _color(color, caps.color_modes, name)
    chosen_format = _format(
        format, output, chosen_color == "BlackAndWhite1", info.formats
    )
    media, area = _area(caps, size, region)
    if pages is not None and pages < 1:
        raise UnsupportedOption("pages must be 1 or more")
    if name == "Platen" and (pages or 1) > 1:
        raise UnsupportedOption("the platen scans one page per job")
    images = 1 if name == "Platen" else (pages or 0)
    return ScanSettings(
        name,
        _resolution(resolution, caps.resolutions, name),
        chosen_color,
        chosen_format,
        media,
        area,
        images,
    )


def scan_ticket(
    info: ScannerCapabilities,
    *,
    source: str | None = None,
    resolution: int | None = None,
    color: str | None = None,
    format: str | None = None,
    size: str | None = None,
    region: Region | None = None,
    pages: int | None = None,
) -> ScanTicket:
    """A ScanTicket for a scanner described by ``info``: every option checked against
    what it offers (UnsupportedOption), the rest its best (:func:`resolve_settings`)."""
    return build_ticket(
        resolve_settings(
            info,
            source=source,
            resolution=resolution,
            color=color,
            format=format,
            size=size,
            region=region,
            pages=pages,
        )
    )


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no user name in a container: still a valid ticket
        return "wsdscan"


def build_ticket(settings: ScanSettings, job_name: str = "wsdscan") -> ScanTicket:
    """The ScanTicket for ``settings`` (JobInformation always set: Canon TR7500 wants
    it, device-quirks #14)."""
    left, top, width, height = settings.region

    def side() -> tuple[ScanRegion, ColorProcessingElement, Resolution]:
        return (
            ScanRegion(
                scan_region_x_offset=ScanRegionXOffset(value=left),
                scan_region_y_offset=ScanRegionYOffset(value=top),
                scan_region_width=ScanRegionWidth(value=width),
                scan_region_height=ScanRegionHeight(value=height),
            ),
            ColorProcessingElement(value=settings.color),
            Resolution(
                width=Width(value=settings.resolution),
                height=Height(value=settings.resolution),
            ),
        )

    front_region, front_color, front_resolution = side()
    back = None
    if settings.source == "ADFDuplex":
        back_region, back_color, back_resolution = side()
        back = MediaBack(
            scan_region=back_region,
            color_processing=back_color,
            resolution=back_resolution,
        )
    return ScanTicket(
        job_description=JobDescription(
            job_name=job_name,
            job_originating_user_name=_user(),
            job_information="wsdscan",
        ),
        document_parameters=DocumentParameters(
            format=Format(value=settings.format),
            images_to_transfer=ImagesToTransfer(value=settings.images),
            input_source=InputSource(value=settings.source),
            input_size=InputSize(
                input_media_size=InputMediaSize(
                    width=Width(value=settings.media_size[0]),
                    height=Height(value=settings.media_size[1]),
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
