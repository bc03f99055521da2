"""wsdscan: Python bindings for the WSD Scan Service (WS-Scan).

``wsdscan.scan(url, "doc.pdf")`` and ``wsdscan.Scanner(url)`` (blocking),
``wsdscan.ScannerSession(url)`` (async); the names below load on first use, so
``import wsdscan`` stays light. Subpackages: ``wsdscan.generated`` (dataclasses and
stubs produced from ``schema/``), ``wsdscan.runtime`` (SOAP 1.2, WS-Addressing,
faults, transports) and ``wsdscan.codegen`` (the generator).
"""

from __future__ import annotations

import importlib
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# name -> module; resolved by __getattr__ (PEP 562) when first used.
_EXPORTS = MappingProxyType(
    {
        "Scanner": "wsdscan.sync",
        "scan": "wsdscan.sync",
        "ScannerSession": "wsdscan.scanning",
        "ScanProgress": "wsdscan.scanning",
        "PageNamer": "wsdscan.output",
        "ScannerCapabilities": "wsdscan.device",
        "ScanError": "wsdscan.errors",
        "DeviceError": "wsdscan.errors",
        "OutputError": "wsdscan.errors",
        "UnsupportedOption": "wsdscan.errors",
        "WsdScanError": "wsdscan.runtime.errors",
    }
)

__all__ = ["__version__", *_EXPORTS]

if TYPE_CHECKING:  # what __getattr__ gives, for type checkers
    from wsdscan.device import ScannerCapabilities as ScannerCapabilities
    from wsdscan.errors import DeviceError as DeviceError
    from wsdscan.errors import OutputError as OutputError
    from wsdscan.errors import ScanError as ScanError
    from wsdscan.errors import UnsupportedOption as UnsupportedOption
    from wsdscan.output import PageNamer as PageNamer
    from wsdscan.runtime.errors import WsdScanError as WsdScanError
    from wsdscan.scanning import ScannerSession as ScannerSession
    from wsdscan.scanning import ScanProgress as ScanProgress
    from wsdscan.sync import Scanner as Scanner
    from wsdscan.sync import scan as scan


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'wsdscan' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
