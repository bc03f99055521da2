"""ACME's scanning package: WS-Scan bindings generated from ACME's extended schema.

``acme_scan.bindings`` is generated (``wsdscan-codegen generate --schema schema --out
acme_scan/bindings``): WS-Scan's models and stubs plus ``models.acme``, the vendor
extension. This module adds what ACME writes by hand on top of them.
"""

from __future__ import annotations

from wsdscan.runtime import xmlbind

from .bindings.models.acme import LampStatus

ACME_NS = "http://acme.example/scan/2026"
SCAN_NS = "http://schemas.microsoft.com/windows/2006/08/wdp/scan"
PREFIXES = {"acme": ACME_NS, "wscn": SCAN_NS}


def lamp_status_xml(status: LampStatus) -> bytes:
    """The vendor element as ACME's scanners put it on the wire."""
    return xmlbind.to_string(status, PREFIXES).encode("utf-8")


def read_lamp_status(data: bytes) -> LampStatus:
    """Read the vendor element with wsdscan's hardened, lenient parser."""
    return xmlbind.parse(data, LampStatus)


__all__ = ["ACME_NS", "SCAN_NS", "LampStatus", "lamp_status_xml", "read_lamp_status"]
