"""The scanner-level elements of the virtual scanner, as generated dataclasses:
ScannerDescription, ScannerConfiguration, DefaultScanTicket and ScannerStatus, and the
ScannerElements that a GetScannerElementsRequest asks for.

With a device profile the first three are the profile's (``profiles.py``); the status
is always the virtual scanner's own."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from xml.etree.ElementTree import QName

from xsdata.models.datatype import XmlDateTime

from wsdscan.generated.models.scan import (
    ADF,
    ActiveConditions,
    ADFBack,
    ADFColor,
    ADFFront,
    ADFMaximumSize,
    ADFMinimumSize,
    ADFOpticalResolution,
    ADFResolutions,
    ColorEntryKnownValue,
    ColorProcessing,
    CompressionQualityFactorSupported,
    DefaultScanTicket,
    DeviceSettings,
    DocumentParameters,
    Format,
    FormatsSupported,
    FormatValueKnownValue,
    Height,
    Heights,
    ImagesToTransfer,
    InputMediaSize,
    InputSize,
    InputSource,
    InputSourceKnownValue,
    JobDescription,
    MediaFront,
    MediaSides,
    Platen,
    PlatenColor,
    PlatenMaximumSize,
    PlatenMinimumSize,
    PlatenOpticalResolution,
    PlatenResolutions,
    Resolution,
    RotationsSupported,
    RotationValueKnownValue,
    ScalingRangeHeight,
    ScalingRangeSupported,
    ScalingRangeWidth,
    ScannerConfiguration,
    ScannerDescription,
    ScannerElementData,
    ScannerElements,
    ScannerInfo,
    ScannerLocation,
    ScannerName,
    ScannerStateReasons,
    ScannerStatus,
    ScanRegion,
    ScanRegionHeight,
    ScanRegionWidth,
    ScanRegionXOffset,
    ScanRegionYOffset,
    Width,
    Widths,
)

from . import status
from .config import VirtualScannerConfig
from .values import known, requested_elements


def xml_now() -> XmlDateTime:
    """The current time as an xs:dateTime (UTC)."""
    return xml_time(datetime.now(UTC))


def xml_time(moment: datetime) -> XmlDateTime:
    return XmlDateTime.from_datetime(moment.replace(microsecond=0))


def scanner_description(config: VirtualScannerConfig) -> ScannerDescription:
    if config.profile is not None:
        return config.profile.description
    return ScannerDescription(
        scanner_name=[ScannerName(value=config.name, lang="en")],
        scanner_info=[
            ScannerInfo(
                value=f"{config.manufacturer} {config.model} (synthetic test pages)",
                lang="en",
            )
        ],
        scanner_location=[ScannerLocation(value=config.location, lang="en")],
    )


def _widths(config: VirtualScannerConfig) -> Widths:
    return Widths(width=[Width(value=r) for r in config.resolutions])


def _heights(config: VirtualScannerConfig) -> Heights:
    return Heights(height=[Height(value=r) for r in config.resolutions])


def _colors(config: VirtualScannerConfig) -> list[ColorEntryKnownValue | str]:
    return [known(ColorEntryKnownValue, c) for c in config.color_modes]


def _adf_side(config: VirtualScannerConfig) -> ADFFront:
    optical = max(config.resolutions)
    return ADFFront(
        adf_optical_resolution=ADFOpticalResolution(
            width=Width(value=optical), height=Height(value=optical)
        ),
        adf_resolutions=ADFResolutions(
            widths=_widths(config), heights=_heights(config)
        ),
        adf_color=ADFColor(color_entry=_colors(config)),
        adf_minimum_size=ADFMinimumSize(
            width=Width(value=config.min_width), height=Height(value=config.min_height)
        ),
        adf_maximum_size=ADFMaximumSize(
            width=Width(value=config.adf_width), height=Height(value=config.adf_height)
        ),
    )


def scanner_configuration(config: VirtualScannerConfig) -> ScannerConfiguration:
    if config.profile is not None:
        return config.profile.configuration
    optical = max(config.resolutions)
    platen = None
    if config.platen:
        platen = Platen(
            platen_optical_resolution=PlatenOpticalResolution(
                width=Width(value=optical), height=Height(value=optical)
            ),
            platen_resolutions=PlatenResolutions(
                widths=_widths(config), heights=_heights(config)
            ),
            platen_color=PlatenColor(color_entry=_colors(config)),
            platen_minimum_size=PlatenMinimumSize(
                width=Width(value=config.min_width),
                height=Height(value=config.min_height),
            ),
            platen_maximum_size=PlatenMaximumSize(
                width=Width(value=config.platen_width),
                height=Height(value=config.platen_height),
            ),
        )
    adf = None
    if config.adf:
        front = _adf_side(config)
        back = None
        if config.duplex:
            back = ADFBack(
                adf_optical_resolution=front.adf_optical_resolution,
                adf_resolutions=front.adf_resolutions,
                adf_color=front.adf_color,
                adf_minimum_size=front.adf_minimum_size,
                adf_maximum_size=front.adf_maximum_size,
            )
        adf = ADF(adf_supports_duplex=config.duplex, adf_front=front, adf_back=back)
    settings = DeviceSettings(
        formats_supported=FormatsSupported(
            format_value=[known(FormatValueKnownValue, f) for f in config.formats]
        ),
        compression_quality_factor_supported=CompressionQualityFactorSupported(
            min_value=1, max_value=100
        ),
        document_size_auto_detect_supported=False,
        auto_exposure_supported=False,
        brightness_supported=False,
        contrast_supported=False,
        scaling_range_supported=ScalingRangeSupported(
            scaling_width=ScalingRangeWidth(min_value=100, max_value=100),
            scaling_height=ScalingRangeHeight(min_value=100, max_value=100),
        ),
        rotations_supported=RotationsSupported(
            rotation_value=[RotationValueKnownValue.VALUE_0]
        ),
    )
    return ScannerConfiguration(device_settings=settings, platen=platen, adf=adf)


def default_scan_ticket(config: VirtualScannerConfig) -> DefaultScanTicket:
    if config.profile is not None:
        return config.profile.default_ticket
    source = config.default_source
    return build_default_ticket(
        source=source,
        size=config.max_size(source),
        fmt=config.default_format,
        resolution=(config.default_resolution, config.default_resolution),
        color_mode=config.default_color_mode,
    )


def build_default_ticket(
    *,
    source: str,
    size: tuple[int, int],
    fmt: str,
    resolution: tuple[int, int],
    color_mode: str,
) -> DefaultScanTicket:
    """A DefaultScanTicket for the whole ``size`` (1/1000 inch) of ``source``."""
    width, height = size
    return DefaultScanTicket(
        job_description=JobDescription(
            job_name="Scan", job_originating_user_name="wsdscan"
        ),
        document_parameters=DocumentParameters(
            format=Format(value=known(FormatValueKnownValue, fmt)),
            images_to_transfer=ImagesToTransfer(value=1 if source == "Platen" else 0),
            input_source=InputSource(value=known(InputSourceKnownValue, source)),
            input_size=InputSize(
                input_media_size=InputMediaSize(
                    width=Width(value=width), height=Height(value=height)
                )
            ),
            media_sides=MediaSides(
                media_front=MediaFront(
                    scan_region=ScanRegion(
                        scan_region_x_offset=ScanRegionXOffset(value=0),
                        scan_region_y_offset=ScanRegionYOffset(value=0),
                        scan_region_width=ScanRegionWidth(value=width),
                        scan_region_height=ScanRegionHeight(value=height),
                    ),
                    color_processing=ColorProcessing(
                        value=known(ColorEntryKnownValue, color_mode)
                    ),
                    resolution=Resolution(
                        width=Width(value=resolution[0]),
                        height=Height(value=resolution[1]),
                    ),
                )
            ),
        ),
    )


def scanner_status(
    config: VirtualScannerConfig, *, busy: bool, adf_sheets: int, jammed: bool = False
) -> ScannerStatus:
    """The live status (``status.py``): Processing while a job is active, Stopped
    (MediaJam) while jammed, else Idle; an empty ADF is the InputTrayEmpty state reason
    and condition."""
    now = xml_now()
    state, reasons = status.state(
        busy=busy, adf=config.adf, adf_sheets=adf_sheets, jammed=jammed
    )
    conditions = status.conditions(
        adf=config.adf, adf_sheets=adf_sheets, jammed=jammed, now=now
    )
    return ScannerStatus(
        scanner_current_time=now,
        scanner_state=state,
        scanner_state_reasons=ScannerStateReasons(scanner_state_reason=reasons),
        active_conditions=ActiveConditions(
            device_condition=[conditions[key] for key in sorted(conditions)]
        ),
    )


def scanner_elements(
    config: VirtualScannerConfig,
    names: Iterable[QName],
    *,
    busy: bool,
    adf_sheets: int,
    jammed: bool,
) -> ScannerElements:
    """The requested elements by name; one this scanner does not know is not valid."""
    answers: dict[str, Callable[[], ScannerElementData]] = {
        "ScannerDescription": lambda: ScannerElementData(
            scanner_description=scanner_description(config)
        ),
        "ScannerConfiguration": lambda: ScannerElementData(
            scanner_configuration=scanner_configuration(config)
        ),
        "DefaultScanTicket": lambda: ScannerElementData(
            default_scan_ticket=default_scan_ticket(config)
        ),
        "ScannerStatus": lambda: ScannerElementData(
            scanner_status=scanner_status(
                config, busy=busy, adf_sheets=adf_sheets, jammed=jammed
            )
        ),
    }
    data = requested_elements(names, answers, ScannerElementData)
    return ScannerElements(element_data=data)
