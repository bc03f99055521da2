"""Namespace URIs used by WS-Scan messages, and the aliases accepted on receipt.

What we send always uses the canonical URIs below. On receipt,
:func:`canonical_namespace` folds the variants seen in the wild onto them: ``https://``
instead of ``http://`` (some devices and the Microsoft documentation examples) and the
scan namespace ``2006/01`` (documentation examples, some client templates) instead of
``2006/08``.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

SOAP_ENV: Final = "http://www.w3.org/2003/05/soap-envelope"
"""SOAP 1.2 envelope namespace (what WS-Scan uses)."""

SOAP11_ENV: Final = "http://schemas.xmlsoap.org/soap/envelope/"
"""SOAP 1.1 envelope namespace (tolerated on receipt only)."""

WSA: Final = "http://schemas.xmlsoap.org/ws/2004/08/addressing"
"""WS-Addressing 2004/08 (member submission), the version DPWS and WS-Scan use."""

WSA_2003_03: Final = "http://schemas.xmlsoap.org/ws/2003/03/addressing"
"""WS-Addressing 2003/03, seen in documentation examples."""

WSA_2005_08: Final = "http://www.w3.org/2005/08/addressing"
"""W3C WS-Addressing 1.0."""

WSCN: Final = "http://schemas.microsoft.com/windows/2006/08/wdp/scan"
"""WS-Scan namespace used by real devices."""

WSCN_2006_01: Final = "http://schemas.microsoft.com/windows/2006/01/wdp/scan"
"""WS-Scan namespace as printed in the documentation examples (accepted on receipt)."""

WPRT: Final = "http://schemas.microsoft.com/windows/2006/08/wdp/print"
"""WS-Print namespace (one WS-Scan fault table names a ``wprt:`` subcode)."""

XML_NS: Final = "http://www.w3.org/XML/1998/namespace"
"""The ``xml:`` namespace (``xml:lang``)."""

WSD: Final = "http://schemas.xmlsoap.org/ws/2005/04/discovery"
"""WS-Discovery 2005/04 (the version Windows and WS-Scan devices use)."""

WSDP: Final = "http://schemas.xmlsoap.org/ws/2006/02/devprof"
"""DPWS 2006/02 (Devices Profile for Web Services)."""

MEX: Final = "http://schemas.xmlsoap.org/ws/2004/09/mex"
"""WS-MetadataExchange 2004/09."""

WXF: Final = "http://schemas.xmlsoap.org/ws/2004/09/transfer"
"""WS-Transfer 2004/09."""

PNPX: Final = "http://schemas.microsoft.com/windows/pnpx/2005/10"
"""Windows PnP-X (``pnpx:DeviceCategory``, ``pnpx:HardwareId``)."""

WSE: Final = "http://schemas.xmlsoap.org/ws/2004/08/eventing"
"""WS-Eventing 2004/08."""

XOP: Final = "http://www.w3.org/2004/08/xop/include"
"""XOP (``xop:Include``, MTOM attachments)."""

PREFIXES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "soap": SOAP_ENV,
        "wsa": WSA,
        "wscn": WSCN,
        "wse": WSE,
        "xop": XOP,
        "wprt": WPRT,
        "wsd": WSD,
        "wsdp": WSDP,
        "mex": MEX,
        "wxf": WXF,
        "pnpx": PNPX,
    }
)
"""The one prefix of each namespace we write (prefix -> namespace), as Windows (WSDAPI)
spells them; sane-airscan and devices match by URI."""


def prefix_map(*prefixes: str) -> Mapping[str, str]:
    """The namespaces of ``prefixes``, as a prefix -> namespace map to declare."""
    return MappingProxyType({prefix: PREFIXES[prefix] for prefix in prefixes})


WIRE_PREFIXES: Final = prefix_map("soap", "wsa", "wscn", "wse", "xop")
"""Declared on every envelope we build (and on the dataclasses we serialize)."""

_ALIASES: Final[Mapping[str, str]] = MappingProxyType(
    {
        WSCN_2006_01: WSCN,
        "https://schemas.microsoft.com/windows/2006/08/wdp/scan": WSCN,
        "https://schemas.microsoft.com/windows/2006/01/wdp/scan": WSCN,
        "https://www.w3.org/2003/05/soap-envelope": SOAP_ENV,
        "https://schemas.xmlsoap.org/soap/envelope/": SOAP11_ENV,
        "https://schemas.xmlsoap.org/ws/2004/08/addressing": WSA,
        "https://schemas.xmlsoap.org/ws/2003/03/addressing": WSA_2003_03,
        "https://www.w3.org/2005/08/addressing": WSA_2005_08,
        "https://schemas.microsoft.com/windows/2006/08/wdp/print": WPRT,
    }
)


ALIASED_NAMESPACES: Final[frozenset[str]] = frozenset(_ALIASES)
"""Every namespace URI that :func:`canonical_namespace` rewrites."""


def canonical_namespace(uri: str) -> str:
    """Return the canonical form of a namespace URI received on the wire.

    Known variants (``https://`` spellings, scan ``2006/01``) map to the canonical URI;
    anything else is returned unchanged.
    """
    return _ALIASES.get(uri, uri)
