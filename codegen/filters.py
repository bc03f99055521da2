"""The templates' filters: how the IR's names and values are spelled in Python.

The IR says what a thing is (an operation named CreateScanJob, a fault row); the
filters say how the generated code spells it (``create_scan_job``, ``CREATE_SCAN_JOB``,
a string literal, a docstring), as xsdata's ``formats/dataclass/filters.py`` does for
its templates. The WSDL checks use the same spellings to find names that would collide.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable
from typing import Any

from .ir import FaultInfo, Operation

# Width of a wrapped docstring line: 88 columns less the indent and the quotes.
_DOC_WIDTH = 81


def snake_case(name: str) -> str:
    """CreateScanJob -> create_scan_job; ADFSupportsDuplex -> adf_supports_duplex."""
    name = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    name = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    return name.lower()


def constant_case(name: str) -> str:
    """CreateScanJob -> CREATE_SCAN_JOB (a route's constant)."""
    return snake_case(name).upper()


def event_name(name: str) -> str:
    """ScanAvailableEvent -> scan_available: what an event's methods are named after."""
    return snake_case(name.removesuffix("Event"))


def sink_method(name: str) -> str:
    """ScanAvailableEvent -> on_scan_available (the event sink's method)."""
    return f"on_{event_name(name)}"


def emit_method(name: str) -> str:
    """ScanAvailableEvent -> emit_scan_available (the emitter's method)."""
    return f"emit_{event_name(name)}"


def optional(annotation: str) -> str:
    """A field's annotation as an optional keyword argument (``... | None``)."""
    if annotation.startswith("None | ") or annotation.endswith(" | None"):
        return annotation
    return f"{annotation} | None"


def response_type(operation: Operation, attachment_wrapper: str) -> str:
    """The response dataclass's name, in ``attachment_wrapper`` (AttachmentResponse,
    AttachmentReply, ...) when the response carries an attachment."""
    name = operation.response.name
    return f"{attachment_wrapper}[{name}]" if operation.attachment else name


def literal(value: str | tuple[str, ...] | None) -> str:
    """A Python literal of ``value`` (black makes the quotes double)."""
    return repr(value)


def fault_docstring(fault: FaultInfo) -> str:
    """A fault class's docstring: the reason, then where the row comes from (the pages
    that document it, or why the project added it), the operations that return it and
    the documented detail."""
    origin = (
        f"Documented on {', '.join(fault.pages)}."
        if fault.source == "pages"
        else fault.note
    )
    about = [origin, f"Operations: {', '.join(fault.operations)}."]
    detail = fault.detail.strip("*")
    if detail not in ("None", ""):
        about.append(f"Detail: {detail}")
    paragraphs = [fault.reason, " ".join(about)]
    text = "\n\n".join(textwrap.fill(p, _DOC_WIDTH) for p in paragraphs)
    return _escaped(text).replace("\n", "\n    ").replace("\n    \n", "\n\n")


def _escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')


def filters() -> dict[str, Callable[..., Any]]:
    """Every filter, by the name templates use."""
    return {
        "constant_name": constant_case,
        "emit_method": emit_method,
        "fault_docstring": fault_docstring,
        "literal": literal,
        "method_name": snake_case,
        "optional": optional,
        "response_type": response_type,
        "sink_method": sink_method,
    }
