"""The templates' filters: how the IR's names and values are spelled in Python.

The IR says what a thing is (an operation named CreateScanJob, a fault row); the
filters say how the generated code spells it (``create_scan_job``, a string literal, a
docstring), as xsdata's ``formats/dataclass/filters.py`` does for its templates.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from typing import Any

from .ir import FaultInfo

# Width of a wrapped docstring line: 88 columns less the indent and the quotes.
_DOC_WIDTH = 81


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
    return {"literal": literal, "fault_docstring": fault_docstring}
