"""The generator's intermediate representation: frozen, ordered, template-ready.

Every name a template prints is computed here or in ``service_model`` (templates stay dumb).
"""

from __future__ import annotations

import re
from dataclasses import dataclass


def snake_case(name: str) -> str:
    """CreateScanJob -> create_scan_job; ADFSupportsDuplex -> adf_supports_duplex."""
    name = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    name = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    return name.lower()


def constant_case(name: str) -> str:
    """CreateScanJob -> CREATE_SCAN_JOB."""
    return snake_case(name).upper()


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

    @property
    def keyword_annotation(self) -> str:
        """The annotation of the field as an optional keyword argument."""
        if self.annotation.startswith("None | ") or self.annotation.endswith(" | None"):
            return self.annotation
        return f"{self.annotation} | None"


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
    def method(self) -> str:
        return snake_case(self.name)

    @property
    def attachment(self) -> bool:
        return self.attachment_element is not None

    @property
    def attachment_element_literal(self) -> str:
        return (
            "None"
            if self.attachment_element is None
            else f'"{self.attachment_element}"'
        )

    @property
    def client_return(self) -> str:
        name = self.response.name
        return f"AttachmentResponse[{name}]" if self.attachment else name

    @property
    def sync_return(self) -> str:
        name = self.response.name
        return f"SyncAttachmentResponse[{name}]" if self.attachment else name

    @property
    def server_return(self) -> str:
        name = self.response.name
        return f"AttachmentReply[{name}]" if self.attachment else name

    @property
    def constant(self) -> str:
        return constant_case(self.name)


@dataclass(frozen=True)
class Event:
    """A notification (output-only) operation of the port type."""

    name: str
    body: ClassInfo
    action: str
    documentation: str

    @property
    def short_name(self) -> str:
        return snake_case(self.name.removesuffix("Event"))

    @property
    def sink_method(self) -> str:
        return f"on_{self.short_name}"

    @property
    def emit_method(self) -> str:
        return f"emit_{self.short_name}"

    @property
    def constant(self) -> str:
        return constant_case(self.name)


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
