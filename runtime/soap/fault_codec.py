"""The ``soap:Fault`` element: built from a fault to send, read from one received.

Sending declares the namespaces of the code and subcode QNames on the Fault itself, with
the prefixes our envelopes use. Receipt is liberal: SOAP 1.2 or 1.1, QName text with
any declared prefix (or a well-known undeclared one), the scan namespace ``2006/01`` or
spelled ``https://``. Which class a read fault becomes is the registry's business
(:class:`.faults.FaultRegistry`).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Final

from lxml import etree

from ..xmlbind.namespaces import (
    PREFIXES,
    SOAP11_ENV,
    SOAP_ENV,
    WSCN,
    XML_NS,
    canonical_namespace,
)
from ..xmlbind.qnames import clark, split_clark

if TYPE_CHECKING:
    from .faults import SoapFault

WSA_FAULT_ACTION: Final = "http://schemas.xmlsoap.org/ws/2004/08/addressing/fault"
"""The ``wsa:Action`` of every fault message (WS-Addressing 2004/08)."""

_SOAP12_CODE_NAMES: Final = frozenset(
    {"Sender", "Receiver", "VersionMismatch", "MustUnderstand", "DataEncodingUnknown"}
)
_SOAP11_TO_SOAP12: Final[Mapping[str, str]] = MappingProxyType(
    {
        "Client": clark(SOAP_ENV, "Sender"),
        "Server": clark(SOAP_ENV, "Receiver"),
        "VersionMismatch": clark(SOAP_ENV, "VersionMismatch"),
        "MustUnderstand": clark(SOAP_ENV, "MustUnderstand"),
    }
)
_DETAIL_TAG: Final = clark(SOAP_ENV, "Detail")
_XML_LANG: Final = clark(XML_NS, "lang")


# --- serialization --------------------------------------------------------------------


# The prefixes build_envelope declares on the Envelope, then the other preferred ones.
# They must match: lxml, when the Fault is appended into an envelope that already
# declares a namespace (under any prefix), drops the Fault's own declaration and renames
# the element prefixes to the envelope's, but not the QName text in soap:Value. With a
# prefix of our own (it was ns1 for wse:) the subcode went out undeclared.
_SEND_PREFIXES: Final[Mapping[str, str]] = MappingProxyType(
    {namespace: prefix for prefix, namespace in PREFIXES.items()}
)


def _qname_text(qname: str, prefixes: Mapping[str, str]) -> str:
    namespace, local = split_clark(qname)
    return f"{prefixes[namespace]}:{local}" if namespace else local


# Characters XML 1.0 cannot carry at all (not even as character references).
_NOT_XML_CHAR: Final = re.compile(
    "[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
)


def xml_safe_text(text: str) -> str:
    """``text`` with every character XML cannot carry written as ``\\xNN``: a reason
    may quote client input (a header, an href) holding control characters, and the
    fault must still be sent."""
    return _NOT_XML_CHAR.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def fault_to_element(fault: SoapFault) -> etree._Element:
    """Build the SOAP 1.2 ``soap:Fault`` element for ``fault``.

    The namespaces of the code and subcode QNames are declared on the Fault element
    itself, with the prefixes :func:`envelope.build_envelope` declares (``soap``,
    ``wsa``, ``wscn``, ``wse``; ``wprt``, then ``ns1``... for others), so the QName
    text stays resolvable on its own and inside our envelopes. Only the code, subcode,
    reason and detail are serialized: never a traceback or ``__cause__``.
    """
    prefixes: dict[str, str] = {SOAP_ENV: "soap"}
    for qname in (fault.code, fault.subcode):
        if qname is None:
            continue
        namespace = split_clark(qname)[0]
        if not namespace or namespace in prefixes:
            continue
        prefix = _SEND_PREFIXES.get(namespace)
        if prefix is None or prefix in prefixes.values():
            prefix = f"ns{len(prefixes)}"
        prefixes[namespace] = prefix
    nsmap = {prefix: namespace for namespace, prefix in prefixes.items()}

    element = etree.Element(clark(SOAP_ENV, "Fault"), nsmap=nsmap)
    code = etree.SubElement(element, clark(SOAP_ENV, "Code"))
    etree.SubElement(code, clark(SOAP_ENV, "Value")).text = _qname_text(
        fault.code, prefixes
    )
    if fault.subcode is not None:
        subcode = etree.SubElement(code, clark(SOAP_ENV, "Subcode"))
        etree.SubElement(subcode, clark(SOAP_ENV, "Value")).text = _qname_text(
            fault.subcode, prefixes
        )
    reason = etree.SubElement(element, clark(SOAP_ENV, "Reason"))
    text = etree.SubElement(reason, clark(SOAP_ENV, "Text"), {_XML_LANG: "en"})
    text.text = xml_safe_text(fault.reason)
    if fault.detail is not None:
        element.append(copy.deepcopy(fault.detail))
    return element


# --- parsing --------------------------------------------------------------------------

_SOAPISH_PREFIXES: Final = frozenset({"soap", "s", "env", "soapenv", "soap12", "se"})
# Ours, and the scan namespace's other spellings in samples.
_WELL_KNOWN_PREFIXES: Final[Mapping[str, str]] = MappingProxyType(
    {**PREFIXES, "sca": WSCN, "scan": WSCN}
)


@dataclass(frozen=True)
class ReadFault:
    """A received fault as written: code, the chain of subcodes (outermost first),
    reason and detail (a copy, as ``soap:Detail``)."""

    code: str | None
    subcodes: tuple[str, ...]
    reason: str | None
    detail: etree._Element | None


def _localname(element: etree._Element) -> str | None:
    tag = element.tag
    if not isinstance(tag, str):  # comments, processing instructions
        return None
    return etree.QName(tag).localname


def _children(element: etree._Element, name: str) -> Iterator[etree._Element]:
    """Element children with local name ``name``, in any namespace (receipt is lax)."""
    for child in element:
        if _localname(child) == name:
            yield child


def _child(element: etree._Element, name: str) -> etree._Element | None:
    return next(_children(element, name), None)


def _text(element: etree._Element | None) -> str | None:
    if element is None:
        return None
    parts = element.itertext()
    return "".join(p if isinstance(p, str) else p.decode() for p in parts).strip()


def _resolve_qname(element: etree._Element, envelope: str) -> str | None:
    """Resolve the QName text of ``element`` to Clark notation.

    Uses the in-scope namespaces (any prefix works); an undeclared prefix falls back to
    the usual prefixes (``soap``/``env``/... -> ``envelope``, ``wscn``/``sca`` -> scan,
    ``wsa``); an unresolvable prefix leaves the bare local name.
    """
    text = _text(element)
    if not text:
        return None
    if text.startswith("{"):
        split_clark(text)
        return text
    prefix, _, local = text.rpartition(":")
    namespace = element.nsmap.get(prefix or None)
    if namespace is None and prefix:
        if prefix.lower() in _SOAPISH_PREFIXES or prefix.upper() == "SOAP-ENV":
            namespace = envelope
        else:
            namespace = _WELL_KNOWN_PREFIXES.get(prefix.lower())
    if not namespace:
        return local
    return clark(canonical_namespace(namespace), local)


def _find_fault(element: etree._Element) -> etree._Element:
    if _localname(element) == "Fault":
        return element
    for candidate in element.iter():
        if _localname(candidate) == "Fault":
            return candidate
    raise ValueError(f"no SOAP Fault element in {element.tag!r}")


def _soap12_code(code: str | None) -> str | None:
    if code is None:
        return None
    namespace, local = split_clark(code)
    if local in _SOAP12_CODE_NAMES and namespace != SOAP11_ENV:
        return clark(SOAP_ENV, local)  # the only valid namespace for a 1.2 code
    return code


def _pick_reason(reason: etree._Element | None) -> str | None:
    if reason is None:
        return None
    texts = list(_children(reason, "Text"))
    for text in texts:
        if (text.get(_XML_LANG) or "").lower().startswith("en"):
            return _text(text)
    return _text(texts[0]) if texts else _text(reason)


def _copy_detail(detail: etree._Element | None) -> etree._Element | None:
    if detail is None:
        return None
    wrapper = etree.Element(_DETAIL_TAG, nsmap={"soap": SOAP_ENV})
    wrapper.text = detail.text
    for child in detail:
        wrapper.append(copy.deepcopy(child))
    for name, value in detail.attrib.items():
        wrapper.set(name, value)
    return wrapper


def read_fault(element: etree._Element) -> ReadFault:
    """Read a received ``soap:Fault`` (or an Envelope/Body containing one).

    SOAP 1.2 (``Code/Value``, ``Subcode/Value``, ``Reason/Text``, ``Detail``) and
    SOAP 1.1 (``faultcode``, ``faultstring``, ``detail``; ``Client``/``Server`` map to
    ``Sender``/``Receiver``; a non-SOAP faultcode is the subcode itself) are accepted.
    """
    fault = _find_fault(element)
    code_element = _child(fault, "Code")
    if code_element is not None:
        value = _child(code_element, "Value")
        code = _soap12_code(
            _resolve_qname(value, SOAP_ENV) if value is not None else None
        )
        subcodes: list[str] = []
        level = _child(code_element, "Subcode")
        while level is not None:
            value = _child(level, "Value")
            resolved = _resolve_qname(value, SOAP_ENV) if value is not None else None
            if resolved is not None:
                subcodes.append(resolved)
            level = _child(level, "Subcode")
        reason = _pick_reason(_child(fault, "Reason"))
        detail = _copy_detail(_child(fault, "Detail"))
        return ReadFault(code, tuple(subcodes), reason, detail)

    faultcode = _child(fault, "faultcode")
    if faultcode is None:
        raise ValueError("SOAP Fault without Code (1.2) or faultcode (1.1)")
    resolved = _resolve_qname(faultcode, SOAP11_ENV)
    reason = _text(_child(fault, "faultstring"))
    detail = _copy_detail(_child(fault, "detail"))
    if resolved is None:
        return ReadFault(None, (), reason, detail)
    namespace, local = split_clark(resolved)
    base = local.split(".", 1)[0]  # SOAP 1.1 dotted codes: Client.Authentication
    if namespace in (SOAP11_ENV, SOAP_ENV, "") and base in _SOAP11_TO_SOAP12:
        return ReadFault(_SOAP11_TO_SOAP12[base], (), reason, detail)
    if namespace in (SOAP11_ENV, SOAP_ENV, "") and base in _SOAP12_CODE_NAMES:
        return ReadFault(clark(SOAP_ENV, base), (), reason, detail)
    # A non-SOAP faultcode (e.g. wscn:ClientErrorJobIdNotFound) is the subcode itself.
    return ReadFault(None, (resolved,), reason, detail)
