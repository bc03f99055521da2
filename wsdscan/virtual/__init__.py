"""A virtual WS-Scan scanner: platen and ADF (simplex and duplex) that scan
synthetic test pages, built on the generated ``ScannerServiceBase``.

    from wsdscan.virtual import VirtualScanner, VirtualScannerConfig

    scanner = VirtualScanner(VirtualScannerConfig(adf_sheets=3, duplex=True))
    scanner.load_adf(10)  # reload the feeder at run time
"""

from .config import SUPPORTED_COLOR_MODES, SUPPORTED_FORMATS, VirtualScannerConfig
from .images import PageMarker, PageSpec, make_image, read_marker, render_page
from .jobs import JobTable, VirtualJob
from .scanner import VirtualScanner
from .ticket import ResolvedTicket, ScanSettings, SideSettings, resolve_ticket

__all__ = [
    "SUPPORTED_COLOR_MODES",
    "SUPPORTED_FORMATS",
    "VirtualJob",
    "JobTable",
    "PageMarker",
    "PageSpec",
    "ResolvedTicket",
    "ScanSettings",
    "SideSettings",
    "VirtualScanner",
    "VirtualScannerConfig",
    "make_image",
    "read_marker",
    "render_page",
    "resolve_ticket",
]
