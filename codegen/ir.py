"""The generator's intermediate representation: frozen, ordered, what the schema says.

How a name is spelled in Python is the templates' filters' business (``filters.py``);
templates stay dumb.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ImportRef:
    """``from <module> import <name>``; module is absolute or relative to the stubs
    package (``generated/stubs/``)."""

    module: str
    name: str


@dataclass(frozen=True)
class FieldInfo:
    """One dataclass field as xsdata wrote it."""

    name: str
    xml_name: str  # the element or attribute name on the wire
    annotation: str
    required: bool
    # Names the annotation refers to (for imports), sorted.
    referenced_names: tuple[str, ...]


@dataclass(frozen=True)
class ClassInfo:
    """A generated dataclass: where it lives and which element it binds."""

    name: str
    module: str  # dotted, relative to the models package, e.g. "scan.operations"
    namespace: str | None
    element_name: str  # the XML local name (Meta.name, else the class name)
    fields: tuple[FieldInfo, ...]
    docstring: str

    @property
    def import_module(self) -> str:
        """Where the stubs (one package below the output's root) import it from."""
        return f"..models.{self.module}"


@dataclass(frozen=True)
class Operation:
    """A request/response operation of the port type."""

    name: str
    request: ClassInfo
    response: ClassInfo
    action: str
    response_action: str
    # Clark name of the xs:base64Binary element of the response whose content travels as
    # an MTOM attachment (xop:Include on the wire); None for plain responses.
    attachment_element: str | None
    documentation: str

    @property
    def attachment(self) -> bool:
        return self.attachment_element is not None


@dataclass(frozen=True)
class Event:
    """A notification (output-only) operation of the port type."""

    name: str
    body: ClassInfo
    action: str
    documentation: str


@dataclass(frozen=True)
class ServiceModel:
    """Everything the stub templates need, in a stable order."""

    port_type: str
    namespace: str
    operations: tuple[Operation, ...]
    events: tuple[Event, ...]
    # Extra imports the client's keyword arguments need, sorted and de-duplicated.
    keyword_imports: tuple[ImportRef, ...]


@dataclass(frozen=True)
class FaultInfo:
    """A row of the fault table: a fault of the service, with QNames in Clark
    notation."""

    code: str
    subcode: str
    reason: str
    detail: str
    operations: tuple[str, ...]
    pages: tuple[str, ...]
    source: str  # "pages" (documented) or "wsdscan" (added by the project)
    note: str  # why the project added or changed it ("" for a documented row)
    aliases: tuple[str, ...]  # subcodes also read as this fault

    @property
    def name(self) -> str:
        """The class name: the subcode's local name."""
        return self.subcode.rpartition("}")[2]
