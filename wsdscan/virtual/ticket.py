"""Resolving a requested ScanTicket against what the virtual scanner supports.

The rules of CreateScanJobRequest: an unsupported value whose element has
``MustHonor`` true rejects the request (``ClientErrorFormatNotSupported`` for the
Format, ``InvalidArgs`` for anything else); otherwise a supported value is substituted
and reported with ``Override="true"`` in DocumentFinalParameters. A missing value gets
the default, reported with ``UsedDefault="true"``. For ValidateScanTicket nothing is
rejected: every substitution just makes the ticket invalid.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final

from wsdscan.generated.models.scan import (
    ColorProcessing,
    ContentTypeValueKnownValue,
    DocumentFinalParameters,
    DocumentParameters,
    Format,
    ImagesToTransfer,
    InputSize,
    InputSource,
    MediaBack,
    MediaFront,
    Resolution,
    ScanRegion,
    ScanTicket,
)
from wsdscan.generated.stubs.faults import ClientErrorFormatNotSupported, InvalidArgs

from . import encoders
from .config import VirtualScannerConfig
from .limits import SourceLimits
from .ticketfields import DEFAULT as _DEFAULT
from .ticketfields import OVERRIDE as _OVERRIDE
from .ticketfields import REQUESTED as _REQUESTED
from .ticketfields import parameter_fields
from .values import text

# Substitutes for unsupported requests, best first.
_FORMAT_FALLBACKS: Final = MappingProxyType(
    {
        "exif": ("jfif",),
        "jpeg2k": ("jfif", "png"),
        "dib": ("png",),
    }
)
_COLOR_FALLBACKS: Final = MappingProxyType(
    {
        "Grayscale4": ("Grayscale8", "BlackAndWhite1"),
        "Grayscale16": ("Grayscale8",),
        "RGB48": ("RGB24",),
        "RGBa32": ("RGB24",),
        "RGBa64": ("RGB24",),
        "RGB24": ("Grayscale8",),
        "Grayscale8": ("RGB24", "BlackAndWhite1"),
        "BlackAndWhite1": ("Grayscale8",),
    }
)


@dataclass(frozen=True)
class SideSettings:
    """The effective settings of one side: colour, resolution and scan region."""

    color_mode: str
    x_resolution: int
    y_resolution: int
    x_offset: int
    y_offset: int
    width: int
    """Scan region width, 1/1000 inch."""
    height: int
    """Scan region height, 1/1000 inch."""

    @property
    def pixels_per_line(self) -> int:
        return max(1, self.width * self.x_resolution // 1000)

    @property
    def number_of_lines(self) -> int:
        return max(1, self.height * self.y_resolution // 1000)


@dataclass(frozen=True)
class ScanSettings:
    """The effective settings of a job."""

    source: str
    """Platen, ADF or ADFDuplex."""
    format: str
    images_to_transfer: int
    """As requested (0 = every sheet in the feeder; Platen always gives one image)."""
    media_width: int
    media_height: int
    front: SideSettings
    back: SideSettings | None
    """The back side's settings (ADFDuplex only)."""
    jpeg_quality: int
    compression_quality_factor: int | None = None
    content_type: str | None = None

    @property
    def duplex(self) -> bool:
        return self.back is not None


@dataclass(frozen=True)
class ResolvedTicket:
    settings: ScanSettings
    final_parameters: DocumentFinalParameters
    """What the job really uses, with Override/UsedDefault marks."""
    valid_parameters: DocumentParameters
    """The corrected request (for ValidScanTicket)."""
    adjustments: tuple[str, ...]
    """What was substituted; empty when the ticket was valid as it stood."""

    @property
    def valid(self) -> bool:
        return not self.adjustments


@dataclass
class _Resolver:
    config: VirtualScannerConfig
    strict: bool
    adjustments: list[str] = field(default_factory=list)
    marks: dict[str, str] = field(default_factory=dict)

    def substitute(
        self,
        key: str,
        must_honor: bool | None,
        message: str,
        *,
        is_format: bool = False,
    ) -> None:
        """Record a substitution, or reject the request when MustHonor is set."""
        if self.strict and must_honor:
            if is_format:
                raise ClientErrorFormatNotSupported()
            raise InvalidArgs()
        self.adjustments.append(message)
        self.marks[key] = _OVERRIDE

    def format(self, element: Format | None) -> str:
        config = self.config
        if element is None:
            self.marks["format"] = _DEFAULT
            return config.default_format
        requested = text(element.value)
        if requested in config.formats:
            self.marks["format"] = _REQUESTED
            return requested
        fallbacks = _FORMAT_FALLBACKS.get(requested, ())
        chosen = next((f for f in fallbacks if f in config.formats), None)
        chosen = chosen or config.default_format
        self.substitute(
            "format",
            element.must_honor,
            f"Format {requested!r} -> {chosen!r}",
            is_format=True,
        )
        return chosen

    def source(self, element: InputSource | None) -> str:
        config = self.config
        if element is None:
            self.marks["source"] = _DEFAULT
            return config.default_source
        requested = text(element.value)
        if requested in config.sources():
            self.marks["source"] = _REQUESTED
            return requested
        chosen = (
            "ADF" if requested == "ADFDuplex" and config.adf else config.default_source
        )
        self.substitute(
            "source", element.must_honor, f"InputSource {requested!r} -> {chosen!r}"
        )
        return chosen

    def images(self, element: ImagesToTransfer | None, source: str) -> int:
        if element is None:
            self.marks["images"] = _DEFAULT
            return 1 if source == "Platen" else 0
        if source == "Platen" and element.value > 1:
            self.substitute(
                "images",
                element.must_honor,
                f"ImagesToTransfer {element.value} -> 1 (Platen)",
            )
            return 1
        self.marks["images"] = _REQUESTED
        return max(0, element.value)

    def media_size(self, element: InputSize | None, source: str) -> tuple[int, int]:
        limits = self.config.limits(source)
        max_width, max_height = limits.max_width, limits.max_height
        if element is None or element.input_media_size is None:
            self.marks["media"] = _DEFAULT
            if element is not None and element.document_size_auto_detect:
                self.substitute(
                    "media",
                    element.must_honor,
                    "DocumentSizeAutoDetect is not supported",
                )
            return max_width, max_height
        size = element.input_media_size
        min_width, min_height, max_width, max_height = limits.sizes_for(
            size.width.value, size.height.value
        )
        width = self._clamp(size.width.value, min_width, max_width)
        height = self._clamp(size.height.value, min_height, max_height)
        if (width, height) != (size.width.value, size.height.value):
            self.substitute(
                "media",
                element.must_honor,
                f"InputMediaSize {size.width.value}x{size.height.value} -> "
                f"{width}x{height}",
            )
        else:
            self.marks["media"] = _REQUESTED
        return width, height

    @staticmethod
    def _clamp(value: int, low: int, high: int) -> int:
        return max(low, min(high, value))

    def color(
        self,
        element: ColorProcessing | None,
        prefix: str,
        limits: SourceLimits,
        fmt: str,
    ) -> str:
        modes = limits.color_modes
        if encoders.bilevel_only(fmt) and "BlackAndWhite1" in modes:
            # CCITT compression (tiff-*-g4, tiff-*-g3mh) codes bilevel pages only.
            modes = ("BlackAndWhite1",)
        default = self.config.default_color_mode
        default = default if default in modes else modes[0]
        key = f"{prefix}.color"
        if element is None or not text(element.value):
            self.marks[key] = _DEFAULT
            return default
        requested = text(element.value)
        if requested in modes:
            self.marks[key] = _REQUESTED
            return requested
        fallbacks = _COLOR_FALLBACKS.get(requested, ())
        chosen = next((c for c in fallbacks if c in modes), None) or default
        self.substitute(
            key, element.must_honor, f"ColorProcessing {requested!r} -> {chosen!r}"
        )
        return chosen

    @staticmethod
    def _nearest(choices: tuple[int, ...], value: int) -> int:
        return min(choices, key=lambda r: (abs(r - value), -r))

    def resolution(
        self, element: Resolution | None, prefix: str, limits: SourceLimits
    ) -> tuple[int, int]:
        axes = {"xres": limits.x_resolutions, "yres": limits.y_resolutions}
        if element is None:
            default_x, default_y = self.config.default_resolutions()
            self.marks[f"{prefix}.xres"] = self.marks[f"{prefix}.yres"] = _DEFAULT
            return (
                self._nearest(axes["xres"], default_x),
                self._nearest(axes["yres"], default_y),
            )
        x = element.width.value
        y = element.height.value if element.height is not None else x
        result = []
        for axis, value in (("xres", x), ("yres", y)):
            key = f"{prefix}.{axis}"
            if value in axes[axis]:
                missing = axis == "yres" and element.height is None
                self.marks[key] = _DEFAULT if missing else _REQUESTED
                result.append(value)
                continue
            chosen = self._nearest(axes[axis], value)
            self.substitute(
                key, element.must_honor, f"Resolution {value} -> {chosen} dpi"
            )
            result.append(chosen)
        return result[0], result[1]

    def region(
        self,
        element: ScanRegion | None,
        prefix: str,
        limits: SourceLimits,
        media: tuple[int, int],
    ) -> tuple[int, int, int, int]:
        min_width, min_height, max_width, max_height = limits.sizes_for(*media)
        if element is None:
            for name in ("x", "y", "width", "height"):
                self.marks[f"{prefix}.{name}"] = _DEFAULT
            return 0, 0, media[0], media[1]
        x_off, y_off = element.scan_region_x_offset, element.scan_region_y_offset
        width, height = element.scan_region_width, element.scan_region_height
        axes = (
            ("x", x_off, width.value, width.must_honor, min_width, max_width),
            ("y", y_off, height.value, height.must_honor, min_height, max_height),
        )
        out: list[int] = []
        for axis, offset_element, requested, must_honor, low, high in axes:
            offset_key, extent_key = f"{prefix}.{axis}", f"{prefix}.{axis}extent"
            if offset_element is None:
                offset = 0
                self.marks[offset_key] = _DEFAULT
            else:
                offset = self._clamp(offset_element.value, 0, high - low)
                if offset != offset_element.value:
                    self.substitute(
                        offset_key,
                        offset_element.must_honor,
                        f"ScanRegion {axis} offset {offset_element.value} -> {offset}",
                    )
                else:
                    self.marks[offset_key] = _REQUESTED
            extent = self._clamp(requested, low, high - offset)
            if extent != requested:
                self.substitute(
                    extent_key,
                    must_honor,
                    f"ScanRegion {axis} extent {requested} -> {extent}",
                )
            else:
                self.marks[extent_key] = _REQUESTED
            out += [offset, extent]
        return out[0], out[2], out[1], out[3]

    def side(
        self,
        element: MediaFront | MediaBack | None,
        prefix: str,
        source: str,
        media: tuple[int, int],
        fmt: str,
    ) -> SideSettings:
        limits = self.config.limits(source, prefix)
        color = self.color(
            element.color_processing if element else None, prefix, limits, fmt
        )
        x_res, y_res = self.resolution(
            element.resolution if element else None, prefix, limits
        )
        x, y, width, height = self.region(
            element.scan_region if element else None, prefix, limits, media
        )
        return SideSettings(color, x_res, y_res, x, y, width, height)

    def unsupported_features(self, params: DocumentParameters) -> str | None:
        """Scaling, Rotation, Exposure and FilmScanMode are not supported: only the
        identity values pass. Returns the ContentType to echo, if any."""
        scaling = params.scaling
        if scaling is not None:
            values = (scaling.scaling_width.value, scaling.scaling_height.value)
            if values != (100, 100):
                self.substitute(
                    "scaling", scaling.must_honor, f"Scaling {values} -> 100%"
                )
            else:
                self.marks["scaling"] = _REQUESTED
        rotation = params.rotation
        if rotation is not None:
            if text(rotation.value) != "0":
                self.substitute(
                    "rotation",
                    rotation.must_honor,
                    f"Rotation {text(rotation.value)} -> 0",
                )
            else:
                self.marks["rotation"] = _REQUESTED
        exposure = params.exposure
        if exposure is not None and (
            exposure.auto_exposure or exposure.exposure_settings is not None
        ):
            self.substitute("exposure", exposure.must_honor, "Exposure ignored")
        film = params.film_scan_mode
        if film is not None and text(film.value) != "NotApplicable":
            self.substitute("film", film.must_honor, "FilmScanMode ignored (no film)")
        content = params.content_type
        if content is not None:
            if text(content.value) in {m.value for m in ContentTypeValueKnownValue}:
                self.marks["content"] = _REQUESTED
                return text(content.value)
            self.substitute(
                "content",
                content.must_honor,
                f"ContentType {text(content.value)!r} ignored",
            )
        return None


def resolve_ticket(
    config: VirtualScannerConfig, ticket: ScanTicket, *, strict: bool = True
) -> ResolvedTicket:
    """The effective settings for ``ticket``.

    ``strict`` (CreateScanJob) raises ``ClientErrorFormatNotSupported`` or
    ``InvalidArgs`` for unsupported MustHonor values; without it (ValidateScanTicket)
    every unsupported value is substituted and listed in ``adjustments``.
    """
    resolver = _Resolver(config, strict)
    params = ticket.document_parameters or DocumentParameters()
    fmt = resolver.format(params.format)
    source = resolver.source(params.input_source)
    images = resolver.images(params.images_to_transfer, source)
    media = resolver.media_size(params.input_size, source)
    sides = params.media_sides
    front = resolver.side(
        sides.media_front if sides else None, "front", source, media, fmt
    )
    back = None
    if source == "ADFDuplex":
        back_element = sides.media_back if sides else None
        back = (
            resolver.side(back_element, "back", source, media, fmt)
            if back_element is not None
            else front
        )
    content_type = resolver.unsupported_features(params)
    quality = config.jpeg_quality
    factor = params.compression_quality_factor
    if factor is not None:
        quality = max(1, min(95, factor.value))
    settings = ScanSettings(
        source=source,
        format=fmt,
        images_to_transfer=images,
        media_width=media[0],
        media_height=media[1],
        front=front,
        back=back,
        jpeg_quality=quality,
        compression_quality_factor=factor.value if factor is not None else None,
        content_type=content_type,
    )
    marks = resolver.marks
    final = DocumentFinalParameters(**parameter_fields(settings, marks, final=True))
    valid = DocumentParameters(**parameter_fields(settings, marks, final=False))
    return ResolvedTicket(settings, final, valid, tuple(resolver.adjustments))
