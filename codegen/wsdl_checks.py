"""Stage 2c (checks): the WSDL's structure, before it becomes a service model.

Every error names the WSDL file and the line of the offending element, so a project
that extends the schema can find its mistake without reading the generator.
"""

from __future__ import annotations

from collections.abc import Callable

from lxml import etree

from .errors import CodegenError
from .filters import constant_case, sink_method, snake_case
from .load import WsdlDocument

WSDL_NS = "http://schemas.xmlsoap.org/wsdl/"
SOAP12_BINDING_NS = "http://schemas.xmlsoap.org/wsdl/soap12/"


def resolve_qname(
    doc: WsdlDocument, element: etree._Element, attribute: str
) -> tuple[str | None, str]:
    """The (namespace, local name) of a QName-valued attribute, with its prefix resolved
    against the namespaces in scope at ``element``."""
    text = element.get(attribute, "")
    prefix, _, local = text.rpartition(":")
    namespace = element.nsmap.get(prefix or None)
    if prefix and namespace is None:
        raise CodegenError(
            f"{doc.at(element)}: undeclared prefix {prefix!r} in {attribute}={text!r}"
        )
    if not local:
        raise CodegenError(f"{doc.at(element)}: {attribute} is missing or empty")
    return namespace, local


def _operations(port_type: etree._Element) -> list[etree._Element]:
    return list(port_type.iterfind(f"{{{WSDL_NS}}}operation"))


def check_operation_names(doc: WsdlDocument, port_type: etree._Element) -> None:
    """No operation name twice, and no two names that become the same Python name."""
    port_name = port_type.get("name", "")
    first_seen: dict[str, etree._Element] = {}
    for op in _operations(port_type):
        name = op.get("name", "")
        if not name:
            raise CodegenError(f"{doc.at(op)}: wsdl:operation without a name")
        earlier = first_seen.setdefault(name, op)
        if earlier is not op:
            raise CodegenError(
                f"{doc.at(op)}: operation {name} is declared twice in port type "
                f"{port_name} (lines {earlier.sourceline} and {op.sourceline})"
            )

    def is_event(op: etree._Element) -> bool:
        return op.find(f"{{{WSDL_NS}}}input") is None

    # Each generated name and the operations it must stay unique among: client and
    # server methods, event sink methods, and the route constants of both kinds.
    rules: list[tuple[str, Callable[[str], str], Callable[[etree._Element], bool]]] = [
        ("method ", snake_case, lambda op: not is_event(op)),
        ("event sink method ", sink_method, is_event),
        ("route constant ", constant_case, lambda op: True),
    ]
    for kind, python_name, applies in rules:
        seen: dict[str, etree._Element] = {}
        for op in filter(applies, _operations(port_type)):
            generated = python_name(op.get("name", ""))
            earlier = seen.setdefault(generated, op)
            if earlier is not op:
                raise CodegenError(
                    f"{doc.at(op)}: operations {earlier.get('name')} (line "
                    f"{earlier.sourceline}) and {op.get('name')} (line {op.sourceline}) "
                    f"would both generate the {kind}{generated}"
                )


def check_binding(doc: WsdlDocument, port_type: etree._Element) -> None:
    """Every binding names the port type; a SOAP 1.2 binding binds all its operations."""
    definitions = doc.tree.getroot()
    port_key = (definitions.get("targetNamespace"), port_type.get("name", ""))
    soap12 = None
    for binding in definitions.iterfind(f"{{{WSDL_NS}}}binding"):
        key = resolve_qname(doc, binding, "type")
        if key != port_key:
            raise CodegenError(
                f"{doc.at(binding)}: binding {binding.get('name')} names port type "
                f"{{{key[0]}}}{key[1]}, which is not defined (the port type is "
                f"{{{port_key[0]}}}{port_key[1]})"
            )
        if (
            soap12 is None
            and binding.find(f"{{{SOAP12_BINDING_NS}}}binding") is not None
        ):
            soap12 = binding
    if soap12 is None:
        raise CodegenError(
            f"{doc.at(port_type)}: port type {port_key[1]}: no SOAP 1.2 binding "
            "(only SOAP 1.2 is supported)"
        )
    bound = {op.get("name") for op in soap12.iterfind(f"{{{WSDL_NS}}}operation")}
    for op in _operations(port_type):
        if op.get("name") not in bound:
            raise CodegenError(
                f"{doc.at(op)}: operation {op.get('name')} of port type {port_key[1]} "
                f"has no wsdl:operation in binding {soap12.get('name')} "
                f"(line {soap12.sourceline})"
            )


def find_port_type(
    documents: tuple[WsdlDocument, ...],
) -> tuple[WsdlDocument, etree._Element]:
    """The one wsdl:portType of the schema and the document that holds it."""
    port_types = [
        (doc, port_type)
        for doc in documents
        for port_type in doc.tree.getroot().iterfind(f"{{{WSDL_NS}}}portType")
    ]
    if len(port_types) != 1:
        found = ", ".join(doc.at(port_type) for doc, port_type in port_types)
        raise CodegenError(
            f"expected exactly one wsdl:portType, found {len(port_types)}"
            + (f" ({found})" if found else "")
        )
    return port_types[0]


def check_wsdl(documents: tuple[WsdlDocument, ...]) -> None:
    """The checks that need no generated classes: run before xsdata, to fail fast."""
    doc, port_type = find_port_type(documents)
    check_operation_names(doc, port_type)
    check_binding(doc, port_type)
