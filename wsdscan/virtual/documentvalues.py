"""Resolving the document-wide values of a ScanTicket against what the virtual scanner
supports: Format, InputSource, ImagesToTransfer, InputSize, CompressionQualityFactor
and the features it does not have (``substitutions.py`` has the rules for a value it
does not support; ``sidevalues.py`` resolves each side)."""

from __future__ import annotations

from types import MappingProxyType
from typing import Final

from wsdscan.generated.models.scan import (
    CompressionQualityFactor,
    ContentTypeValueKnownValue,
    DocumentParameters,
    Format,
    ImagesToTransfer,
    InputSize,
    InputSource,
)

from .config import VirtualScannerConfig
from .limits import clamp
from .substitutions import DEFAULT, REQUESTED, Substitutions
from .values import text

# Substitutes for unsupported formats, best first.
_FORMAT_FALLBACKS: Final = MappingProxyType(
    {
        "exif": ("jfif",),
        "jpeg2k": ("jfif", "png"),
        "dib": ("png",),
    }
)


def resolve_format(
    subs: Substitutions, config: VirtualScannerConfig, element: Format | None
) -> str:
    if element is None:
        subs.marks["format"] = DEFAULT
        return config.default_format
    requested = text(element.value)
    if requested in config.formats:
        subs.marks["format"] = REQUESTED
        return requested
    fallbacks = _FORMAT_FALLBACKS.get(requested, ())
    chosen = next((f for f in fallbacks if f in config.formats), None)
    chosen = chosen or config.default_format
    subs.substitute(
        "format",
        element.must_honor,
        f"Format {requested!r} -> {chosen!r}",
        is_format=True,
    )
    return chosen


def resolve_source(
    subs: Substitutions, config: VirtualScannerConfig, element: InputSource | None
) -> str:
    if element is None:
        subs.marks["source"] = DEFAULT
        return config.default_source
    requested = text(element.value)
    if requested in config.sources():
        subs.marks["source"] = REQUESTED
        return requested
    chosen = "ADF" if requested == "ADFDuplex" and config.adf else config.default_source
    subs.substitute(
        "source", element.must_honor, f"InputSource {requested!r} -> {chosen!r}"
    )
    return chosen


def resolve_images(
    subs: Substitutions, element: ImagesToTransfer | None, source: str
) -> int:
    if element is None:
        subs.marks["images"] = DEFAULT
        return 1 if source == "Platen" else 0
    if source == "Platen" and element.value > 1:
        subs.substitute(
            "images",
            element.must_honor,
            f"ImagesToTransfer {element.value} -> 1 (Platen)",
        )
        return 1
    subs.marks["images"] = REQUESTED
    return max(0, element.value)


def resolve_media_size(
    subs: Substitutions,
    config: VirtualScannerConfig,
    element: InputSize | None,
    source: str,
) -> tuple[int, int]:
    limits = config.limits(source)
    max_width, max_height = limits.max_width, limits.max_height
    if element is None or element.input_media_size is None:
        subs.marks["media"] = DEFAULT
        if element is not None and element.document_size_auto_detect:
            subs.substitute(
                "media",
                element.must_honor,
                "DocumentSizeAutoDetect is not supported",
            )
        return max_width, max_height
    size = element.input_media_size
    min_width, min_height, max_width, max_height = limits.sizes_for(
        size.width.value, size.height.value
    )
    width = clamp(size.width.value, min_width, max_width)
    height = clamp(size.height.value, min_height, max_height)
    if (width, height) != (size.width.value, size.height.value):
        subs.substitute(
            "media",
            element.must_honor,
            f"InputMediaSize {size.width.value}x{size.height.value} -> "
            f"{width}x{height}",
        )
    else:
        subs.marks["media"] = REQUESTED
    return width, height


def jpeg_quality(
    config: VirtualScannerConfig, factor: CompressionQualityFactor | None
) -> int:
    """The JPEG quality: the CompressionQualityFactor within 1..95, else the
    configured one."""
    if factor is None:
        return config.jpeg_quality
    return max(1, min(95, factor.value))


def resolve_features(subs: Substitutions, params: DocumentParameters) -> str | None:
    """Scaling, Rotation, Exposure and FilmScanMode are not supported: only the
    identity values pass. Returns the ContentType to echo, if any."""
    scaling = params.scaling
    if scaling is not None:
        values = (scaling.scaling_width.value, scaling.scaling_height.value)
        if values != (100, 100):
            subs.substitute("scaling", scaling.must_honor, f"Scaling {values} -> 100%")
        else:
            subs.marks["scaling"] = REQUESTED
    rotation = params.rotation
    if rotation is not None:
        if text(rotation.value) != "0":
            subs.substitute(
                "rotation",
                rotation.must_honor,
                f"Rotation {text(rotation.value)} -> 0",
            )
        else:
            subs.marks["rotation"] = REQUESTED
    exposure = params.exposure
    if exposure is not None and (
        exposure.auto_exposure or exposure.exposure_settings is not None
    ):
        subs.substitute("exposure", exposure.must_honor, "Exposure ignored")
    film = params.film_scan_mode
    if film is not None and text(film.value) != "NotApplicable":
        subs.substitute("film", film.must_honor, "FilmScanMode ignored (no film)")
    content = params.content_type
    if content is not None:
        if text(content.value) in {m.value for m in ContentTypeValueKnownValue}:
            subs.marks["content"] = REQUESTED
            return text(content.value)
        subs.substitute(
            "content",
            content.must_honor,
            f"ContentType {text(content.value)!r} ignored",
        )
    return None
