"""Stage 2c, model (service): the operations and events of the WSDL port type.

The WSDL is read with lxml, not with xsdata's or zeep's WSDL models: xsdata maps
operations only through ``wsdl:service`` ports and assumes SOAP 1.1 (tefra/xsdata#1135),
and zeep drops notification (output-only) operations, which carry the seven WS-Scan
events. Reading the port type directly keeps all of it, in document order.
"""

from __future__ import annotations

import re

from lxml import etree

from .class_index import ClassIndex
from .errors import CodegenError
from .ir import ClassInfo, Event, ImportRef, Operation, ServiceModel
from .load import WsdlDocument
from .wsdl_checks import WSDL_NS, check_wsdl, find_port_type, resolve_qname

# The attribute that carries the WS-Addressing Action on wsdl:input/output: DPWS uses the
# 2004/08 namespace; the W3C WSDL binding namespaces are accepted too.
ACTION_ATTRIBUTES = (
    "{http://schemas.xmlsoap.org/ws/2004/08/addressing}Action",
    "{http://www.w3.org/2006/05/addressing/wsdl}Action",
    "{http://www.w3.org/2007/05/addressing/metadata}Action",
)


def _action(doc: WsdlDocument, element: etree._Element, operation: str) -> str:
    for attribute in ACTION_ATTRIBUTES:
        value = element.get(attribute)
        if value:
            return value
    kind = etree.QName(element).localname
    raise CodegenError(
        f"{doc.at(element)}: operation {operation} {kind}: no wsa:Action attribute"
    )


def _documentation(element: etree._Element) -> str:
    doc = element.find(f"{{{WSDL_NS}}}documentation")
    return " ".join((doc.text or "").split()) if doc is not None else ""


def _message_body(
    doc: WsdlDocument, ref_owner: etree._Element, operation: str, index: ClassIndex
) -> ClassInfo:
    """The class of the one element part of the message ``ref_owner`` (a wsdl:input or
    wsdl:output) names."""
    _, message_name = resolve_qname(doc, ref_owner, "message")
    definitions = doc.tree.getroot()
    for message in definitions.iterfind(f"{{{WSDL_NS}}}message"):
        if message.get("name") != message_name:
            continue
        parts = message.findall(f"{{{WSDL_NS}}}part")
        if len(parts) != 1 or parts[0].get("element") is None:
            raise CodegenError(
                f"{doc.at(message)}: message {message_name}: need exactly one "
                "element part"
            )
        key = resolve_qname(doc, parts[0], "element")
        if key not in index.by_element:
            raise CodegenError(
                f"{doc.at(parts[0])}: message {message_name}: element "
                f"{{{key[0]}}}{key[1]} is not declared in the schema (no generated "
                "class)"
            )
        return index.by_element[key]
    raise CodegenError(
        f"{doc.at(ref_owner)}: operation {operation}: message {message_name!r} is not "
        "defined"
    )


def _attachment_element(info: ClassInfo, index: ClassIndex) -> str | None:
    """The first xs:base64Binary element (a ``bytes`` field) below this class, breadth
    first: the element whose content MTOM sends as an attachment."""
    seen: set[str] = set()
    pending = [info]
    while pending:
        current = pending.pop(0)
        if current.name in seen:
            continue
        seen.add(current.name)
        for field in current.fields:
            if re.search(r"\bbytes\b", field.annotation):
                return f"{{{current.namespace}}}{field.xml_name}"
            pending.extend(
                index.by_name[n] for n in field.referenced_names if n in index.by_name
            )
    return None


def build_service_model(
    documents: tuple[WsdlDocument, ...], index: ClassIndex
) -> ServiceModel:
    """Join the WSDL port type with the generated classes."""
    doc, port_type = find_port_type(documents)
    check_wsdl(documents)
    definitions = doc.tree.getroot()
    port_name = port_type.get("name", "")

    operations: list[Operation] = []
    events: list[Event] = []
    for op in port_type.iterfind(f"{{{WSDL_NS}}}operation"):
        name = op.get("name", "")
        input_ = op.find(f"{{{WSDL_NS}}}input")
        output = op.find(f"{{{WSDL_NS}}}output")
        if output is None:
            raise CodegenError(
                f"{doc.at(op)}: operation {name}: one-way operations are not supported"
            )
        response = _message_body(doc, output, name, index)
        if input_ is None:
            events.append(
                Event(
                    name,
                    response,
                    _action(doc, output, name),
                    _documentation(op),
                )
            )
            continue
        request = _message_body(doc, input_, name, index)
        operations.append(
            Operation(
                name=name,
                request=request,
                response=response,
                action=_action(doc, input_, name),
                response_action=_action(doc, output, name),
                attachment_element=_attachment_element(response, index),
                documentation=_documentation(op),
            )
        )
    actions = [o.action for o in operations] + [e.action for e in events]
    duplicates = sorted({a for a in actions if actions.count(a) > 1})
    if duplicates:
        raise CodegenError(f"duplicate actions: {', '.join(duplicates)}")

    keyword_imports: set[ImportRef] = set()
    for operation in operations:
        for field in operation.request.fields:
            for name in field.referenced_names:
                ref = index.import_for(name)
                if ref is None:
                    raise CodegenError(
                        f"{operation.request.name}.{field.name}: unknown type {name}"
                    )
                keyword_imports.add(ref)
    return ServiceModel(
        port_type=port_name,
        namespace=definitions.get("targetNamespace", ""),
        operations=tuple(operations),
        events=tuple(events),
        keyword_imports=tuple(
            sorted(keyword_imports, key=lambda r: (r.module, r.name))
        ),
    )
