"""XML in and out of the generated dataclasses: hardened parsing, namespace leniency.

Receipt is lenient (see ``shared/notes/device-quirks.md``): any prefixes, the 2006/01 and
``https://`` namespace variants read as the canonical URIs, unknown vendor elements and
attributes ignored, element order not enforced (xsdata binds by name). Sending uses the
Windows prefixes ``soap``/``wsa``/``wscn`` and compact XML.

The lxml parser never resolves entities, never loads a DTD and never touches the network;
a document that carries a DTD at all is refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, TypeVar
from xml.etree.ElementTree import QName

from lxml import etree
from xsdata.exceptions import ConverterError, ParserError
from xsdata.formats.converter import QNameConverter, converter
from xsdata.formats.dataclass.context import XmlContext
from xsdata.formats.dataclass.parsers import XmlParser
from xsdata.formats.dataclass.parsers.config import ParserConfig
from xsdata.formats.dataclass.parsers.handlers import LxmlEventHandler
from xsdata.formats.dataclass.serializers import TreeSerializer, XmlSerializer
from xsdata.formats.dataclass.serializers.config import SerializerConfig

from ..defaults import MAX_DEPTH, MAX_DEPTH_CEILING
from ..errors import ProtocolError
from .namespaces import (
    ALIASED_NAMESPACES,
    WIRE_PREFIXES,
    WSA,
    WSA_2003_03,
    WSCN,
    canonical_namespace,
)

T = TypeVar("T")

# Attributes documented in the scan namespace (wscn:MustHonor, ...): the pages' examples
# qualify them; a bare attribute is read as the qualified one.
_QUALIFIED_SCAN_ATTRIBUTES: Final = frozenset({"MustHonor", "Override", "UsedDefault"})
# Attributes that are unqualified on the wire (Kyocera: Name/Valid on ElementData) but that
# the pages' examples print as wscn:Name, wscn:Valid, wscn:Id: read both spellings.
_UNQUALIFIED_SCAN_ATTRIBUTES: Final = frozenset({"Id", "Name", "Valid"})


class XmlInputError(ProtocolError, ValueError):
    """Received XML that cannot be read: not well-formed, forbidden (DTD, entities) or
    not bindable to the expected element. The message says which element failed."""


class _LenientQNameConverter(QNameConverter):
    """QName text whose prefix is not declared (``wscn:ScannerStatus`` without xmlns,
    seen in documentation examples) is kept as an unqualified QName with that text
    instead of failing: readers of QName values (RequestedElements Name) take
    ``prefix:Local`` leniently."""

    def deserialize(
        self, value: str, ns_map: dict[str, str] | None = None, **kwargs: Any
    ) -> QName:
        try:
            return super().deserialize(value, ns_map=ns_map, **kwargs)
        except ConverterError:
            text = value.strip() if isinstance(value, str) else ""
            if not text or any(c.isspace() for c in text):
                raise
            return QName(text)


converter.register_converter(QName, _LenientQNameConverter())

_CONTEXT: Final = XmlContext()
# Unknown elements and attributes are ignored (vendor extensions); a value that does not
# convert to its field's type (JobId "abc") is an error naming the field, never a str
# smuggled into an int field.
_PARSER_CONFIG: Final = ParserConfig(
    fail_on_unknown_properties=False,
    fail_on_unknown_attributes=False,
    fail_on_converter_warnings=True,
)


MAX_TEXT: Final = 10_000_000
"""Longest text node accepted, in characters (libxml2's own cap without huge_tree)."""
_DTD_MARKER: Final = "<!DOCTYPE"
# The marker in every encoding libxml2 detects by itself, searched before parsing: a DTD
# is refused before libxml2 reads its declarations (it counts entity amplification even
# when it resolves nothing). "<!DOCTYPE" can appear elsewhere only in a comment or a
# CDATA section, where refusing it costs nothing real.
_DTD_MARKERS: Final = tuple(
    _DTD_MARKER.encode(codec)
    for codec in ("ascii", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be")
)


class _RefusingResolver(etree.Resolver):
    """Defence in depth: the parser options already keep libxml2 from loading anything;
    should anything still ask (a DTD, an external entity), the answer is a refusal."""

    def resolve(self, system_url: str, public_id: str, context: Any = None) -> Any:
        raise XmlInputError(
            f"XML refers to an external resource ({system_url!r}): not loaded"
        )


def _lxml_parser() -> etree.XMLParser:
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_pis=True,
    )
    parser.resolvers.add(_RefusingResolver())
    return parser


def _too_deep(root: etree._Element, limit: int) -> bool:
    depth = 0
    for event, _ in etree.iterwalk(root, events=("start", "end")):
        depth += 1 if event == "start" else -1
        if depth > limit:
            return True
    return False


def _clean_message(exc: etree.XMLSyntaxError) -> str:
    # libxml2 suggests "use XML_PARSE_HUGE option": not an option we offer.
    text = str(exc)
    for hint in (", use XML_PARSE_HUGE option", ", try XML_PARSE_HUGE"):
        text = text.replace(hint, "")
    return text


def parse_xml(data: bytes, *, max_depth: int = MAX_DEPTH) -> etree._Element:
    """Parse received bytes into an element tree with every unsafe feature off.

    Refused with :class:`XmlInputError`: anything not well-formed (bytes that do not
    match the declared encoding, UTF-8 by default), a DTD (so no entity is ever
    declared, let alone expanded or fetched), nesting deeper than ``max_depth``, a text
    node over :data:`MAX_TEXT` characters."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise XmlInputError(f"expected XML bytes, not {type(data).__name__}")
    data = bytes(data)
    if any(marker in data for marker in _DTD_MARKERS):
        raise XmlInputError(
            "XML with a document type declaration (DTD) is not accepted"
        )
    try:
        root = etree.fromstring(data, _lxml_parser()).getroottree()
    except etree.XMLSyntaxError as exc:
        message = _clean_message(exc)
        if "Excessive depth" in message:
            limit = min(max_depth, MAX_DEPTH_CEILING)
            raise XmlInputError(
                f"XML nested deeper than {limit} elements is not accepted"
            ) from exc
        if "Text node too long" in message:
            raise XmlInputError(
                f"XML with a text node over {MAX_TEXT} characters is not accepted"
            ) from exc
        if _DTD_MARKER in message.upper():
            raise XmlInputError(
                "XML with a document type declaration (DTD) is not accepted"
            ) from exc
        raise XmlInputError(f"not well-formed XML: {message}") from exc
    except ValueError as exc:  # e.g. lxml refusing a str with an encoding declaration
        raise XmlInputError(f"not well-formed XML: {exc}") from exc
    docinfo: Any = root.docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise XmlInputError(
            "XML with a document type declaration (DTD) is not accepted"
        )
    element = root.getroot()
    if _too_deep(element, max_depth):
        raise XmlInputError(
            f"XML nested deeper than {max_depth} elements is not accepted"
        )
    return element


# Quoted as they appear in a serialized namespace declaration.
_ALIAS_NEEDLES: Final = tuple(
    f'"{uri}"'.encode() for uri in sorted(ALIASED_NAMESPACES | {WSA_2003_03})
)


def _aliased_namespaces(root: etree._Element) -> bool:
    # Fast path: the C serializer writes every declaration in scope as UTF-8 (whatever
    # the input encoding or character references), so one byte search over it rules
    # out aliases far faster than reading each element's nsmap (2 ms of a 10 KB
    # message's 8 ms round trip).
    serialized = etree.tostring(root)
    if not any(needle in serialized for needle in _ALIAS_NEEDLES):
        return False
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
        detail = " ".join(str(exc).split())
        raise XmlInputError(
            f"cannot read <{name}> as {cls.__name__}: {detail}"
        ) from exc


def parse(data: bytes, cls: type[T]) -> T:
    """Parse received bytes as ``cls`` (hardened, canonicalized, lenient)."""
    return bind(canonicalize(parse_xml(data)), cls)


_SERIALIZER_CONFIG: Final = SerializerConfig(xml_declaration=False, pretty_print=False)


def to_string(obj: Any, ns_map: Mapping[str, str] | None = None) -> str:
    """Serialize a generated dataclass compactly with the wire prefixes."""
    serializer = XmlSerializer(config=_SERIALIZER_CONFIG, context=_CONTEXT)
    return serializer.render(obj, ns_map=dict(ns_map or WIRE_PREFIXES))


def to_element(obj: Any, ns_map: Mapping[str, str] | None = None) -> etree._Element:
    """Serialize a generated dataclass to an lxml element (for building envelopes),
    built directly as a tree: no text round trip."""
    serializer = TreeSerializer(config=_SERIALIZER_CONFIG, context=_CONTEXT)
    tree: Any = serializer.render(obj, ns_map=dict(ns_map or WIRE_PREFIXES))
    root: etree._Element = tree.getroot() if hasattr(tree, "getroot") else tree
    return root
