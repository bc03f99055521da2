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

WSDL_NS = "http://schemas.xmlsoap.org/wsdl/"
SOAP12_BINDING_NS = "http://schemas.xmlsoap.org/wsdl/soap12/"
# The attribute that carries the WS-Addressing Action on wsdl:input/output: DPWS uses the
# 2004/08 namespace; the W3C WSDL binding namespaces are accepted too.
ACTION_ATTRIBUTES = (
    "{http://schemas.xmlsoap.org/ws/2004/08/addressing}Action",
    "{http://www.w3.org/2006/05/addressing/wsdl}Action",
    "{http://www.w3.org/2007/05/addressing/metadata}Action",
)


def _qname(element: etree._Element, text: str) -> tuple[str | None, str]:
    prefix, _, local = text.rpartition(":")
    namespace = element.nsmap.get(prefix or None)
    if prefix and namespace is None:
        raise CodegenError(f"undeclared prefix in QName {text!r}")
    return namespace, local


def _action(element: etree._Element, where: str) -> str:
    for attribute in ACTION_ATTRIBUTES:
        value = element.get(attribute)
        if value:
            return value
    raise CodegenError(f"{where}: no wsa:Action attribute")


def _documentation(element: etree._Element) -> str:
    doc = element.find(f"{{{WSDL_NS}}}documentation")
    return " ".join((doc.text or "").split()) if doc is not None else ""


def _message_body(
    definitions: etree._Element,
    message_ref: str,
    ref_owner: etree._Element,
    index: ClassIndex,
) -> ClassInfo:
    _, message_name = _qname(ref_owner, message_ref)
    for message in definitions.iterfind(f"{{{WSDL_NS}}}message"):
        if message.get("name") != message_name:
            continue
        parts = message.findall(f"{{{WSDL_NS}}}part")
        if len(parts) != 1 or parts[0].get("element") is None:
            raise CodegenError(f"message {message_name}: need exactly one element part")
        key = _qname(parts[0], parts[0].get("element", ""))
        if key not in index.by_element:
            raise CodegenError(
                f"message {message_name}: element {{{key[0]}}}{key[1]} has no generated class"
            )
        return index.by_element[key]
    raise CodegenError(f"message {message_name!r} is not defined")


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


def _check_soap12_binding(definitions: etree._Element, port_type: str) -> None:
    for binding in definitions.iterfind(f"{{{WSDL_NS}}}binding"):
        _, type_name = _qname(binding, binding.get("type", ""))
        if (
            type_name == port_type
            and binding.find(f"{{{SOAP12_BINDING_NS}}}binding") is not None
        ):
            return
    raise CodegenError(
        f"port type {port_type}: no SOAP 1.2 binding (only SOAP 1.2 is supported)"
    )


def build_service_model(
    documents: tuple[etree._ElementTree, ...], index: ClassIndex
) -> ServiceModel:
    """Join the WSDL port type with the generated classes."""
    port_types = [
        (doc.getroot(), port_type)
        for doc in documents
        for port_type in doc.getroot().iterfind(f"{{{WSDL_NS}}}portType")
    ]
    if len(port_types) != 1:
        raise CodegenError(
            f"expected exactly one wsdl:portType, found {len(port_types)}"
        )
    definitions, port_type = port_types[0]
    port_name = port_type.get("name", "")
    _check_soap12_binding(definitions, port_name)

    operations: list[Operation] = []
    events: list[Event] = []
    for op in port_type.iterfind(f"{{{WSDL_NS}}}operation"):
        name = op.get("name", "")
        input_ = op.find(f"{{{WSDL_NS}}}input")
        output = op.find(f"{{{WSDL_NS}}}output")
        if output is None:
            raise CodegenError(
                f"operation {name}: one-way operations are not supported"
            )
        response = _message_body(definitions, output.get("message", ""), output, index)
        if input_ is None:
            events.append(
                Event(
                    name,
                    response,
                    _action(output, f"operation {name} output"),
                    _documentation(op),
                )
            )
            continue
        request = _message_body(definitions, input_.get("message", ""), input_, index)
        operations.append(
            Operation(
                name=name,
                request=request,
                response=response,
                action=_action(input_, f"operation {name} input"),
                response_action=_action(output, f"operation {name} output"),
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
