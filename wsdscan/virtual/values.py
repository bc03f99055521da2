"""Small helpers for the generated models: ``<Name>KnownValue | str`` fields, and the
element data a RequestedElements list asks for."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from enum import Enum
from typing import Protocol, TypeVar
from xml.etree.ElementTree import QName

from wsdscan.runtime.xmlbind import WSCN, canonical_namespace

E = TypeVar("E", bound=Enum)


class ElementData(Protocol):
    """ScannerElementData or JobElementData: one requested element."""

    name: QName | None
    valid: bool | None


D = TypeVar("D", bound=ElementData)


def text(value: object) -> str:
    """The wire text of a field value: an enum member's value, or the string itself."""
    if isinstance(value, Enum):
        return str(value.value)
    return str(value).strip()


def known(enum_type: type[E], value: str) -> E | str:
    """The enum member whose value is ``value``, else ``value`` itself."""
    for member in enum_type:
        if str(member.value) == value:
            return member
    return value


def requested_name(name: QName | str) -> str | None:
    """The local name of a RequestedElements Name in the scan namespace.

    ``{ns}Local`` must be in the scan namespace (any accepted spelling); text that
    did not resolve to a namespace (``Local`` or ``prefix:Local``, kept as a QName by
    the lenient binding) is taken leniently.
    """
    if not isinstance(name, QName):
        # Only an empty <Name/> binds as a str (""): it names nothing.
        return None
    value = name.text.strip()
    if value.startswith("{"):
        namespace, _, local = value[1:].partition("}")
        return local if canonical_namespace(namespace) == WSCN else None
    return value.rpartition(":")[2] or None


def requested_elements(
    names: Iterable[QName],
    answers: Mapping[str, Callable[[], D]],
    unknown: Callable[[], D],
) -> list[D]:
    """The element data for each requested name, by its local name from ``answers``;
    a name not among them gets ``unknown()``, marked not valid."""
    found: list[D] = []
    for name in names:
        local = requested_name(name)
        answer = answers.get(local) if local is not None else None
        element = answer() if answer is not None else unknown()
        element.name = name
        element.valid = answer is not None
        found.append(element)
    return found
