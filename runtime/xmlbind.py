"""XML in and out of the generated dataclasses: hardened parsing, namespace leniency.

Receipt is lenient (see ``shared/notes/device-quirks.md``): any prefixes, the 2006/01 and
``https://`` namespace variants read as the canonical URIs, unknown vendor elements and
attributes ignored, element order not enforced (xsdata binds by name). Sending uses the
Windows prefixes ``soap``/``wsa``/``wscn`` and compact XML.

The lxml parser never resolves entities, never loads a DTD and never touches the network;
a document that carries a DTD at all is refused.
"""

from __future__ import annotations

from typing import Any, Final, TypeVar

from lxml import etree
from xsdata.exceptions import ParserError
from xsdata.formats.dataclass.context import XmlContext
from xsdata.formats.dataclass.parsers import XmlParser
from xsdata.formats.dataclass.parsers.config import ParserConfig
from xsdata.formats.dataclass.parsers.handlers import LxmlEventHandler
from xsdata.formats.dataclass.serializers import XmlSerializer
from xsdata.formats.dataclass.serializers.config import SerializerConfig

from .errors import ProtocolError
from .namespaces import SOAP_ENV, WSA, WSA_2003_03, WSCN, canonical_namespace

T = TypeVar("T")

WSE: Final = "http://schemas.xmlsoap.org/ws/2004/08/eventing"
XOP: Final = "http://www.w3.org/2004/08/xop/include"

# Prefixes we send, as Windows (WSDAPI) does; sane-airscan and devices match by URI.
WIRE_PREFIXES: Final[dict[str, str]] = {
    "soap": SOAP_ENV,
    "wsa": WSA,
    "wscn": WSCN,
    "wse": WSE,
    "xop": XOP,
}

# Attributes documented in the scan namespace (wscn:MustHonor, ...): the pages' examples
# qualify them; a bare attribute is read as the qualified one.
_QUALIFIED_SCAN_ATTRIBUTES: Final = frozenset({"MustHonor", "Override", "UsedDefault"})
# Attributes that are unqualified on the wire (Kyocera: Name/Valid on ElementData) but that
# the pages' examples print as wscn:Name, wscn:Valid, wscn:Id: read both spellings.
_UNQUALIFIED_SCAN_ATTRIBUTES: Final = frozenset({"Id", "Name", "Valid"})


class XmlInputError(ProtocolError, ValueError):
    """Received XML that cannot be read: not well-formed, forbidden (DTD, entities) or
    not bindable to the expected element. The message says which element failed."""


_CONTEXT: Final = XmlContext()
_PARSER_CONFIG: Final = ParserConfig(
    fail_on_unknown_properties=False,
    fail_on_unknown_attributes=False,
    fail_on_converter_warnings=False,
)


def _lxml_parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_pis=True,
    )


def parse_xml(data: bytes) -> etree._Element:
    """Parse received bytes into an element tree with every unsafe feature off."""
    try:
        root = etree.fromstring(data, _lxml_parser()).getroottree()
    except etree.XMLSyntaxError as exc:
        raise XmlInputError(f"not well-formed XML: {exc}") from exc
    docinfo: Any = root.docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise XmlInputError(
            "XML with a document type declaration (DTD) is not accepted"
        )
    return root.getroot()


def _aliased_namespaces(root: etree._Element) -> bool:
    for element in root.iter():
        for uri in element.nsmap.values():
            if canonical_namespace(uri) != uri or uri == WSA_2003_03:
                return True
    return False


def _canonical(uri: str | None) -> str | None:
    if uri is None:
        return None
    # WS-Addressing 2003/03 appears only in documentation examples; read it as 2004/08.
    return WSA if uri == WSA_2003_03 else canonical_namespace(uri)


def _rename(tag: str) -> str:
    if tag.startswith("{"):
        uri, _, local = tag[1:].partition("}")
        return f"{{{_canonical(uri)}}}{local}"
    return tag


def _copy(element: etree._Element, parent: etree._Element | None) -> etree._Element:
    nsmap: Any = {prefix: _canonical(uri) for prefix, uri in element.nsmap.items()}
    attrib: dict[str, str] = {}
    for raw_name, raw_value in element.attrib.items():
        name, value = str(raw_name), str(raw_value)
        if not name.startswith("{") and name in _QUALIFIED_SCAN_ATTRIBUTES:
            name = f"{{{WSCN}}}{name}"
        name = _rename(name)
        if (
            name.startswith(f"{{{WSCN}}}")
            and name[len(WSCN) + 2 :] in _UNQUALIFIED_SCAN_ATTRIBUTES
        ):
            name = name[len(WSCN) + 2 :]
        attrib[name] = value
    tag = _rename(element.tag)
    copied = (
        etree.SubElement(parent, tag, attrib, nsmap=nsmap)
        if parent is not None
        else etree.Element(tag, attrib, nsmap=nsmap)
    )
    copied.text = element.text
    copied.tail = element.tail
    for child in element:
        if isinstance(child.tag, str):
            _copy(child, copied)
    return copied


def _fix_attribute_qualification(root: etree._Element) -> None:
    for element in root.iter():
        if not element.attrib:
            continue
        for key in [str(k) for k in element.attrib.keys()]:
            if key in _QUALIFIED_SCAN_ATTRIBUTES:
                element.set(f"{{{WSCN}}}{key}", str(element.attrib.pop(key)))
            elif (
                key.startswith(f"{{{WSCN}}}")
                and key[len(WSCN) + 2 :] in _UNQUALIFIED_SCAN_ATTRIBUTES
            ):
                element.set(key[len(WSCN) + 2 :], str(element.attrib.pop(key)))


def canonicalize(root: etree._Element) -> etree._Element:
    """Map namespace variants (2006/01, https://, WS-A 2003/03) onto the canonical URIs.

    Returns ``root`` itself when nothing needs mapping (the common case), else a copy.
    QName text (``wscn:ScannerStatus``) keeps resolving because prefixes are kept.
    """
    if _aliased_namespaces(root):
        return _copy(root, None)
    _fix_attribute_qualification(root)
    return root


def bind(element: etree._Element, cls: type[T]) -> T:
    """Bind an (already canonical) element to a generated dataclass, leniently.

    The element is consumed: xsdata clears elements as it binds them (bounded memory),
    so read anything else you need from it first."""
    parser = XmlParser(
        config=_PARSER_CONFIG, context=_CONTEXT, handler=LxmlEventHandler
    )
    try:
        return parser.parse(element, cls)
    except (ParserError, TypeError, ValueError) as exc:
        name = etree.QName(element).localname
        raise XmlInputError(f"cannot read <{name}> as {cls.__name__}: {exc}") from exc


def parse(data: bytes, cls: type[T]) -> T:
    """Parse received bytes as ``cls`` (hardened, canonicalized, lenient)."""
    return bind(canonicalize(parse_xml(data)), cls)


_SERIALIZER_CONFIG: Final = SerializerConfig(xml_declaration=False, pretty_print=False)


def to_string(obj: Any, ns_map: dict[str, str] | None = None) -> str:
    """Serialize a generated dataclass compactly with the wire prefixes."""
    serializer = XmlSerializer(config=_SERIALIZER_CONFIG, context=_CONTEXT)
    return serializer.render(obj, ns_map=dict(ns_map or WIRE_PREFIXES))


def to_element(obj: Any, ns_map: dict[str, str] | None = None) -> etree._Element:
    """Serialize a generated dataclass to an lxml element (for building envelopes)."""
    return etree.fromstring(to_string(obj, ns_map).encode("utf-8"), _lxml_parser())
