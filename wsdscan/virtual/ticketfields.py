"""The ticket a job really runs with, as the generated elements: DocumentFinalParameters
(with Override/UsedDefault marks), the corrected DocumentParameters of a
ValidScanTicket, and ImageInformation."""

from __future__ import annotations

from typing import Any

from wsdscan.generated.models.scan import (
    ColorEntryKnownValue,
    ColorProcessing,
    CompressionQualityFactor,
    ContentType,
    ContentTypeValueKnownValue,
    Format,
    FormatValueKnownValue,
    Height,
    ImageInformation,
    ImagesToTransfer,
    InputMediaSize,
    InputSize,
    InputSource,
    InputSourceKnownValue,
    MediaBack,
    MediaBackImageInfo,
    MediaFront,
    MediaFrontImageInfo,
    MediaSides,
    Resolution,
    Rotation,
    RotationValueKnownValue,
    Scaling,
    ScalingHeight,
    ScalingWidth,
    ScanRegion,
    ScanRegionHeight,
    ScanRegionWidth,
    ScanRegionXOffset,
    ScanRegionYOffset,
    Width,
)

from . import encoders
from .jobsettings import ScanSettings, SideSettings
from .substitutions import DEFAULT, OVERRIDE, REQUESTED
from .values import known


def image_information(settings: ScanSettings) -> ImageInformation:
    """ImageInformation for the settings. BytesPerLine is 0 for a compressed format
    (BytesPerLine page: "If the file format indicates compression, the Scan Service
    must return a value of zero"), else the row length with padding (dib, uncompressed
    TIFF)."""

    def row(side: SideSettings) -> int:
        return encoders.bytes_per_line(
            settings.format, side.color_mode, side.pixels_per_line
        )

    front = settings.front
    back = None
    if settings.back is not None:
        back = MediaBackImageInfo(
            pixels_per_line=settings.back.pixels_per_line,
            number_of_lines=settings.back.number_of_lines,
            bytes_per_line=row(settings.back),
        )
    return ImageInformation(
        media_front_image_info=MediaFrontImageInfo(
            pixels_per_line=front.pixels_per_line,
            number_of_lines=front.number_of_lines,
            bytes_per_line=row(front),
        ),
        media_back_image_info=back,
    )


def _flags(marks: dict[str, str], key: str, final: bool) -> dict[str, Any]:
    if not final:
        return {}
    mark = marks.get(key, REQUESTED)
    if mark == OVERRIDE:
        return {"override": True}
    if mark == DEFAULT:
        return {"used_default": True}
    return {}


def _side_fields(
    side: SideSettings, prefix: str, marks: dict[str, str], final: bool
) -> dict[str, Any]:
    def f(name: str) -> dict[str, Any]:
        return _flags(marks, f"{prefix}.{name}", final)

    return {
        "scan_region": ScanRegion(
            scan_region_x_offset=ScanRegionXOffset(value=side.x_offset, **f("x")),
            scan_region_y_offset=ScanRegionYOffset(value=side.y_offset, **f("y")),
            scan_region_width=ScanRegionWidth(value=side.width, **f("xextent")),
            scan_region_height=ScanRegionHeight(value=side.height, **f("yextent")),
        ),
        "color_processing": ColorProcessing(
            value=known(ColorEntryKnownValue, side.color_mode), **f("color")
        ),
        "resolution": Resolution(
            width=Width(value=side.x_resolution, **f("xres")),
            height=Height(value=side.y_resolution, **f("yres")),
        ),
    }


def parameter_fields(
    settings: ScanSettings, marks: dict[str, str], *, final: bool
) -> dict[str, Any]:
    """Field values shared by DocumentFinalParameters and DocumentParameters."""
    back = None
    if settings.back is not None:
        back = MediaBack(**_side_fields(settings.back, "back", marks, final))
    fields: dict[str, Any] = {
        "format": Format(
            value=known(FormatValueKnownValue, settings.format),
            **_flags(marks, "format", final),
        ),
        "images_to_transfer": ImagesToTransfer(
            value=settings.images_to_transfer, **_flags(marks, "images", final)
        ),
        "input_source": InputSource(
            value=known(InputSourceKnownValue, settings.source),
            **_flags(marks, "source", final),
        ),
        "input_size": InputSize(
            input_media_size=InputMediaSize(
                width=Width(
                    value=settings.media_width, **_flags(marks, "media", final)
                ),
                height=Height(
                    value=settings.media_height, **_flags(marks, "media", final)
                ),
            )
        ),
        "media_sides": MediaSides(
            media_front=MediaFront(
                **_side_fields(settings.front, "front", marks, final)
            ),
            media_back=back,
        ),
    }
    if settings.compression_quality_factor is not None:
        fields["compression_quality_factor"] = CompressionQualityFactor(
            value=settings.compression_quality_factor
        )
    if settings.content_type is not None:
        fields["content_type"] = ContentType(
            value=known(ContentTypeValueKnownValue, settings.content_type)
        )
    if "scaling" in marks:
        fields["scaling"] = Scaling(
            scaling_width=ScalingWidth(value=100, **_flags(marks, "scaling", final)),
            scaling_height=ScalingHeight(value=100, **_flags(marks, "scaling", final)),
        )
    if "rotation" in marks:
        fields["rotation"] = Rotation(
            value=RotationValueKnownValue.VALUE_0, **_flags(marks, "rotation", final)
        )
    return fields
