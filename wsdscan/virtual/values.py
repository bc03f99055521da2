"""Small helpers for the generated ``<Name>KnownValue | str`` fields."""

from __future__ import annotations

from enum import Enum
from typing import TypeVar

E = TypeVar("E", bound=Enum)


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
