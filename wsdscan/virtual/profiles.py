"""Device profiles: a real device's GetScannerElementsResponse, advertised and honoured
by the virtual scanner (``wsdscan serve --profile NAME|FILE``).

A profile is a captured SOAP envelope or the bare GetScannerElementsResponse element
(any prefixes, the scan namespace variants the runtime reads). From it the virtual
scanner takes its ScannerDescription, ScannerConfiguration and DefaultScanTicket
(ScannerStatus stays its own live status) and resolves tickets against the profile's
sources, sizes, resolutions (Widths and Heights separately) and colour modes.

What the virtual scanner cannot produce is **left out** of what it advertises, and
listed in :attr:`DeviceProfile.left_out` (logged when loaded):

* formats Pillow/img2pdf cannot write here (``encoders.producible_formats``): xps,
  jbig, vendor strings, jpeg2k without OpenJPEG;
* colour modes other than BlackAndWhite1, Grayscale8 and RGB24 (Grayscale4/16,
  RGB48, RGBa32/64);
* a Film unit (no film is simulated).

A DefaultScanTicket whose Format was left out gets the first format that stays.
What real devices omit is filled in from the built-in scanner (``wsdscan.quirks.profiles``).

Shipped profiles live in ``profiles/<name>/GetScannerElementsResponse.xml`` with a
PROVENANCE.md; ``default`` is the built-in scanner itself (no file).
"""

from __future__ import annotations

import dataclasses
import logging
from importlib import resources
from pathlib import Path
from typing import Final, TypeVar

from lxml import etree

from wsdscan.generated.models.scan import (
    ADFBack,
    ADFColor,
    ADFFront,
    ADFMaximumSize,
    ADFMinimumSize,
    ADFResolutions,
    DefaultScanTicket,
    Platen,
    PlatenColor,
    PlatenMaximumSize,
    PlatenMinimumSize,
    PlatenResolutions,
    ScannerConfiguration,
    ScannerDescription,
    ScannerName,
)
from wsdscan.quirks import maximum_size_swapped
from wsdscan.quirks import profiles as quirks
from wsdscan.runtime.errors import WsdScanError
from wsdscan.runtime.soap import SoapFault, read_envelope
from wsdscan.runtime.xmlbind import (
    WSCN,
    XmlInputError,
    bind,
    canonicalize,
    parse_xml,
    to_element,
)

from . import capabilities, encoders
from .config import DEFAULT_FORMATS, SUPPORTED_COLOR_MODES, VirtualScannerConfig
from .deviceprofile import DeviceProfile
from .limits import SourceLimits
from .profiledefaults import ProfileDefaults
from .values import text

DEFAULT_PROFILE: Final = "default"
"""The built-in virtual scanner (no profile file)."""
PROFILE_FILE: Final = "GetScannerElementsResponse.xml"
log = logging.getLogger(__name__)
T = TypeVar("T")


class ProfileError(WsdScanError, ValueError):
    """A profile that cannot be used; the message names it and says what is wrong."""


def profile_names() -> list[str]:
    """``default`` and the shipped profiles."""
    folder = resources.files(__package__).joinpath("profiles")
    shipped = [
        entry.name
        for entry in folder.iterdir()
        if entry.is_dir() and entry.joinpath(PROFILE_FILE).is_file()
    ]
    return [DEFAULT_PROFILE, *sorted(shipped)]


def load_profile(value: str) -> DeviceProfile | None:
    """The profile ``value`` names (shipped) or the file it is a path of; None for
    ``default``. Logs what was left out and what was filled in."""
    if value == DEFAULT_PROFILE:
        return None
    names = profile_names()
    if value in names:
        resource = resources.files(__package__).joinpath("profiles", value)
        data = resource.joinpath(PROFILE_FILE).read_bytes()
        profile = parse_profile(data, name=value, origin=value)
    else:
        path = Path(value)
        if not path.is_file():
            raise ProfileError(
                f"{value}: no such file, and not a profile name "
                f"(profiles: {', '.join(names)})"
            )
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ProfileError(f"{value}: cannot read it ({exc.strerror})") from None
        profile = parse_profile(data, name=path.stem, origin=value)
    if profile.left_out:
        log.info(
            "profile %s: left out (the virtual scanner cannot produce them): %s",
            profile.origin,
            ", ".join(profile.left_out),
        )
    if profile.filled:
        log.warning(
            "profile %s: the device omits required elements, filled in from the "
            "built-in scanner: %s",
            profile.origin,
            ", ".join(profile.filled),
        )
    return profile


def _response(root: etree._Element, origin: str) -> etree._Element:
    """The GetScannerElementsResponse element of an envelope or of a bare response."""
    if etree.QName(root).localname == "Envelope":
        try:
            body = read_envelope(root).body
        except (WsdScanError, SoapFault) as exc:
            raise ProfileError(
                f"{origin}: not a usable SOAP envelope ({exc})"
            ) from None
        if body is None:
            raise ProfileError(f"{origin}: the SOAP Body is empty")
        where, element = "the SOAP Body holds", body
    else:
        where, element = "the root element is", canonicalize(root)
    if element.tag != f"{{{WSCN}}}GetScannerElementsResponse":
        found = etree.QName(element)
        raise ProfileError(
            f"{origin}: not a GetScannerElementsResponse "
            f"({where} <{found.localname}> in {found.namespace or 'no namespace'})"
        )
    return element


def _element(response: etree._Element, local: str) -> etree._Element | None:
    path = f"{{{WSCN}}}ScannerElements/{{{WSCN}}}ElementData/{{{WSCN}}}{local}"
    return response.find(path)


def _bind(element: etree._Element, cls: type[T], origin: str) -> T:
    try:
        return bind(element, cls)
    except XmlInputError as exc:
        raise ProfileError(f"{origin}: {exc}") from None


def parse_profile(data: bytes, *, name: str, origin: str) -> DeviceProfile:
    """A profile from the bytes of a GetScannerElementsResponse (see the module doc)."""
    try:
        root = parse_xml(data)
    except XmlInputError as exc:
        raise ProfileError(f"{origin}: {exc}") from None
    response = _response(root, origin)
    config_element = _element(response, "ScannerConfiguration")
    if config_element is None:
        raise ProfileError(f"{origin}: has no ScannerConfiguration")
    left_out: list[str] = []
    filled: list[str] = []
    film = config_element.find(f"{{{WSCN}}}Film")
    if film is not None:
        config_element.remove(film)
        left_out.append("Film (no film unit is simulated)")
    builtin = VirtualScannerConfig()
    quirks.fill_required(
        config_element,
        quirks.configuration_template(capabilities.scanner_configuration(builtin)),
        ScannerConfiguration,
        "ScannerConfiguration",
        filled,
    )
    configuration = _bind(config_element, ScannerConfiguration, origin)
    formats = _formats(configuration, left_out, filled)
    platen, front, back = _sources(configuration, left_out, filled, origin)
    duplex = bool(configuration.adf and configuration.adf.adf_supports_duplex)
    description_element = _element(response, "ScannerDescription")
    if description_element is None:
        description = ScannerDescription(scanner_name=[ScannerName(value=name)])
        filled.append("ScannerDescription")
    else:
        description = _bind(description_element, ScannerDescription, origin)
    ticket_element = _element(response, "DefaultScanTicket")
    ticket = None
    if ticket_element is not None:
        template = capabilities.default_scan_ticket(builtin)
        quirks.fill_required(
            ticket_element,
            to_element(template),
            DefaultScanTicket,
            "DefaultScanTicket",
            filled,
        )
        ticket = _bind(ticket_element, DefaultScanTicket, origin)
    defaults = ProfileDefaults.of(ticket, formats, platen, front, duplex)
    if ticket is None:
        limits = platen or front
        assert limits is not None
        ticket = capabilities.build_default_ticket(
            source=defaults.source,
            size=(limits.max_width, limits.max_height),
            fmt=defaults.format,
            resolution=defaults.resolution,
            color_mode=defaults.color_mode,
        )
        filled.append("DefaultScanTicket")
    elif defaults.format_replaced:
        assert ticket.document_parameters and ticket.document_parameters.format
        ticket.document_parameters.format.value = defaults.format
        left_out.append(f"DefaultScanTicket Format {defaults.format_replaced}")
    return DeviceProfile(
        name=name,
        origin=origin,
        description=description,
        configuration=configuration,
        default_ticket=ticket,
        formats=formats,
        platen=platen,
        adf_front=front,
        adf_back=back if duplex else None,
        duplex=duplex,
        default_format=defaults.format,
        default_source=defaults.source,
        default_resolution=defaults.resolution,
        default_color_mode=defaults.color_mode,
        left_out=tuple(left_out),
        filled=tuple(filled),
    )


def _formats(
    configuration: ScannerConfiguration, left_out: list[str], filled: list[str]
) -> tuple[str, ...]:
    """The advertised formats the virtual scanner can write; the rest leave the
    configuration."""
    supported = configuration.device_settings.formats_supported
    producible = encoders.producible_formats()
    kept = [v for v in supported.format_value if text(v) in producible]
    left_out += [
        f"format {text(v)}" for v in supported.format_value if text(v) not in producible
    ]
    if not kept:
        kept = list(DEFAULT_FORMATS)
        filled.append("FormatsSupported (none of its formats can be produced)")
    supported.format_value = kept
    return tuple(dict.fromkeys(text(v) for v in kept))


def _sources(
    configuration: ScannerConfiguration,
    left_out: list[str],
    filled: list[str],
    origin: str,
) -> tuple[SourceLimits | None, SourceLimits | None, SourceLimits | None]:
    platen = front = back = None
    if configuration.platen is not None:
        platen = _limits(configuration.platen, "Platen", left_out, filled)
    if configuration.adf is not None:
        adf = configuration.adf
        front = _limits(adf.adf_front, "ADFFront", left_out, filled)
        if adf.adf_back is not None:
            back = _limits(adf.adf_back, "ADFBack", left_out, filled)
    if platen is None and front is None:
        raise ProfileError(f"{origin}: has neither a Platen nor an ADF")
    return platen, front, back


def _limits(
    unit: Platen | ADFFront | ADFBack,
    where: str,
    left_out: list[str],
    filled: list[str],
) -> SourceLimits:
    """The limits of one source; colour modes the virtual scanner cannot produce leave
    the configuration, empty resolution lists are filled."""
    resolutions: PlatenResolutions | ADFResolutions
    colors: PlatenColor | ADFColor
    minimum: PlatenMinimumSize | ADFMinimumSize
    maximum: PlatenMaximumSize | ADFMaximumSize
    if isinstance(unit, Platen):
        resolutions, colors = unit.platen_resolutions, unit.platen_color
        minimum, maximum = unit.platen_minimum_size, unit.platen_maximum_size
    else:
        resolutions, colors = unit.adf_resolutions, unit.adf_color
        minimum, maximum = unit.adf_minimum_size, unit.adf_maximum_size
    kept = [c for c in colors.color_entry if text(c) in SUPPORTED_COLOR_MODES]
    left_out += [
        f"{where} colour {text(c)}"
        for c in colors.color_entry
        if text(c) not in SUPPORTED_COLOR_MODES
    ]
    if not kept:
        kept = list(SUPPORTED_COLOR_MODES)
        filled.append(f"{where} colours (none can be produced)")
    colors.color_entry = kept
    widths = [w.value for w in resolutions.widths.width if w.value > 0]
    heights = [h.value for h in resolutions.heights.height if h.value > 0]
    if not widths or not heights:
        builtin = list(VirtualScannerConfig().resolutions)
        widths, heights = widths or heights or builtin, heights or widths or builtin
        filled.append(f"{where} resolutions")
    limits = SourceLimits(
        x_resolutions=tuple(sorted(set(widths))),
        y_resolutions=tuple(sorted(set(heights))),
        color_modes=tuple(dict.fromkeys(text(c) for c in kept)),
        min_width=min(minimum.width.value, maximum.width.value),
        min_height=min(minimum.height.value, maximum.height.value),
        max_width=maximum.width.value,
        max_height=maximum.height.value,
    )
    if maximum_size_swapped(limits.max_width, limits.max_height):
        # Kyocera ECOSYS M2040dn (wsdscan.quirks.profiles): either orientation holds.
        return dataclasses.replace(limits, any_orientation=True)
    return limits
