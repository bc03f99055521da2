"""Resolving one side of a ScanTicket (MediaFront or MediaBack) against what the
virtual scanner supports: colour, resolution and scan region (``substitutions.py`` has
the rules for a value it does not support)."""

from __future__ import annotations

from types import MappingProxyType
from typing import Final

from wsdscan.generated.models.scan import (
    ColorProcessing,
    MediaBack,
    MediaFront,
    Resolution,
    ScanRegion,
)

from . import encoders
from .config import VirtualScannerConfig
from .jobsettings import SideSettings
from .limits import SourceLimits, clamp, nearest
from .substitutions import DEFAULT, REQUESTED, Substitutions
from .values import text

# Substitutes for unsupported colour modes, best first.
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


def resolve_side(
    subs: Substitutions,
    config: VirtualScannerConfig,
    element: MediaFront | MediaBack | None,
    prefix: str,
    source: str,
    media: tuple[int, int],
    fmt: str,
) -> SideSettings:
    """The settings of the side ``prefix`` (``front`` or ``back``) of ``source``, for
    media of size ``media`` (1/1000 inch) and the format ``fmt``."""
    limits = config.limits(source, prefix)
    color = _color(
        subs,
        config,
        element.color_processing if element else None,
        prefix,
        limits,
        fmt,
    )
    x_res, y_res = _resolution(
        subs, config, element.resolution if element else None, prefix, limits
    )
    x, y, width, height = _region(
        subs, element.scan_region if element else None, prefix, limits, media
    )
    return SideSettings(color, x_res, y_res, x, y, width, height)


def _color(
    subs: Substitutions,
    config: VirtualScannerConfig,
    element: ColorProcessing | None,
    prefix: str,
    limits: SourceLimits,
    fmt: str,
) -> str:
    modes = limits.color_modes
    if encoders.bilevel_only(fmt) and "BlackAndWhite1" in modes:
        # CCITT compression (tiff-*-g4, tiff-*-g3mh) codes bilevel pages only.
        modes = ("BlackAndWhite1",)
    default = config.default_color_mode
    default = default if default in modes else modes[0]
    key = f"{prefix}.color"
    if element is None or not text(element.value):
        subs.marks[key] = DEFAULT
        return default
    requested = text(element.value)
    if requested in modes:
        subs.marks[key] = REQUESTED
        return requested
    fallbacks = _COLOR_FALLBACKS.get(requested, ())
    chosen = next((c for c in fallbacks if c in modes), None) or default
    subs.substitute(
        key, element.must_honor, f"ColorProcessing {requested!r} -> {chosen!r}"
    )
    return chosen


def _resolution(
    subs: Substitutions,
    config: VirtualScannerConfig,
    element: Resolution | None,
    prefix: str,
    limits: SourceLimits,
) -> tuple[int, int]:
    axes = {"xres": limits.x_resolutions, "yres": limits.y_resolutions}
    if element is None:
        default_x, default_y = config.default_resolutions()
        subs.marks[f"{prefix}.xres"] = subs.marks[f"{prefix}.yres"] = DEFAULT
        return nearest(axes["xres"], default_x), nearest(axes["yres"], default_y)
    x = element.width.value
    y = element.height.value if element.height is not None else x
    result = []
    for axis, value in (("xres", x), ("yres", y)):
        key = f"{prefix}.{axis}"
        if value in axes[axis]:
            missing = axis == "yres" and element.height is None
            subs.marks[key] = DEFAULT if missing else REQUESTED
            result.append(value)
            continue
        chosen = nearest(axes[axis], value)
        subs.substitute(key, element.must_honor, f"Resolution {value} -> {chosen} dpi")
        result.append(chosen)
    return result[0], result[1]


def _region(
    subs: Substitutions,
    element: ScanRegion | None,
    prefix: str,
    limits: SourceLimits,
    media: tuple[int, int],
) -> tuple[int, int, int, int]:
    min_width, min_height, max_width, max_height = limits.sizes_for(*media)
    if element is None:
        for name in ("x", "y", "xextent", "yextent"):
            subs.marks[f"{prefix}.{name}"] = DEFAULT
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
            subs.marks[offset_key] = DEFAULT
        else:
            offset = clamp(offset_element.value, 0, high - low)
            if offset != offset_element.value:
                subs.substitute(
                    offset_key,
                    offset_element.must_honor,
                    f"ScanRegion {axis} offset {offset_element.value} -> {offset}",
                )
            else:
                subs.marks[offset_key] = REQUESTED
        extent = clamp(requested, low, high - offset)
        if extent != requested:
            subs.substitute(
                extent_key,
                must_honor,
                f"ScanRegion {axis} extent {requested} -> {extent}",
            )
        else:
            subs.marks[extent_key] = REQUESTED
        out += [offset, extent]
    return out[0], out[2], out[1], out[3]
