"""A virtual WS-Scan scanner: platen and ADF (simplex and duplex) that scan
synthetic test pages, built on the generated ``ScannerServiceBase``.

    from wsdscan.virtual import VirtualScanner, VirtualScannerConfig

    scanner = VirtualScanner(VirtualScannerConfig(adf_sheets=3, duplex=True))
    scanner.load_adf(10)  # reload the feeder at run time

A real device's capabilities instead of the built-in ones (``profiles.py``):

    config = VirtualScannerConfig(profile=load_profile("kyocera-m2040dn"))
"""

from .config import (
    DEFAULT_FORMATS,
    SUPPORTED_COLOR_MODES,
    SUPPORTED_FORMATS,
    VirtualScannerConfig,
)
from .deviceprofile import DeviceProfile
from .images import PageMarker, PageSpec, make_image, read_marker, render_page
from .jobs import JobTable, VirtualJob
from .jobsettings import ScanSettings, SideSettings
from .profiles import ProfileError, load_profile, profile_names
from .scanner import VirtualScanner
from .ticket import ResolvedTicket, resolve_ticket

__all__ = [
    "DEFAULT_FORMATS",
    "SUPPORTED_COLOR_MODES",
    "SUPPORTED_FORMATS",
    "DeviceProfile",
    "VirtualJob",
    "JobTable",
    "PageMarker",
    "PageSpec",
    "ProfileError",
    "ResolvedTicket",
    "ScanSettings",
    "SideSettings",
    "VirtualScanner",
    "VirtualScannerConfig",
    "load_profile",
    "make_image",
    "profile_names",
    "read_marker",
    "render_page",
    "resolve_ticket",
]
