"""Property test: every generated dataclass round-trips (serialize, parse, equal).

"Every" is every dataclass of every module found by walking the
``wsdscan.generated.models`` package (no hard-coded module list).

Instances are generated from the dataclasses themselves: the field types (typing hints:
enums, ``KnownValue | str`` unions, lists, optional fields, nested classes, QName,
XmlDateTime, XmlDuration, bytes) and the xsdata field metadata (``min_inclusive`` /
``max_inclusive``, ``tokens``, Element/Attribute/Text, wildcards left empty). Text is
restricted to characters XML can carry; an item of an xs:list (``tokens``) has no
whitespace. Runs are derandomized and bounded for CI; raise
``WSDSCAN_PROPERTY_EXAMPLES`` for a longer local run.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import os
import pkgutil
import types
import typing
from datetime import UTC, datetime, timedelta, timezone
from enum import Enum
from functools import cache
from typing import Any
from xml.etree.ElementTree import QName

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from wsdscan.generated import models
from wsdscan.generated.models import scan
from wsdscan.runtime.xmlbind import parse, to_string
from xsdata.models.datatype import XmlDateTime, XmlDuration

# Every module of the generated models package, found by walking it: a module added by
# the generator is covered without touching this test.
MODULES = tuple(
    importlib.import_module(f"{models.__name__}.{info.name}")
    for info in sorted(pkgutil.iter_modules(models.__path__), key=lambda i: i.name)
)
EXAMPLES = int(os.environ.get("WSDSCAN_PROPERTY_EXAMPLES", "10"))
ROUND_TRIP = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

CLASSES = sorted(
    (
        obj
        for module in MODULES
        for obj in vars(module).values()
        if inspect.isclass(obj)
        and dataclasses.is_dataclass(obj)
        and obj.__module__ == module.__name__
    ),
    key=lambda cls: f"{cls.__module__}.{cls.__qualname__}",
)

# Characters XML 1.0 can carry that survive a round trip unchanged: letters, digits,
# punctuation, symbols, spaces (no control characters, no surrogates, no CR that XML
# normalizes away). Text does not start or end with whitespace (xsdata keeps it, but
# devices and the schema's token types would not).
_CHARS = st.characters(categories=("L", "N", "P", "S"))
TEXT = st.lists(st.text(_CHARS, min_size=1, max_size=8), min_size=1, max_size=3).map(
    " ".join
)
# One item of an xs:list (``tokens`` metadata, e.g. WS-Discovery Scopes): the list is
# whitespace-separated on the wire, so an item never contains whitespace.
TOKEN = st.text(_CHARS, min_size=1, max_size=12)
NCNAME = st.from_regex(r"[A-Za-z_][A-Za-z0-9_.-]{0,12}", fullmatch=True)
NAMESPACES = st.sampled_from(
    [scan.__NAMESPACE__, "http://example.com/vendor", "urn:x-vendor:ns"]
)
INT32 = st.integers(-(2**31), 2**31 - 1)

QNAMES = st.builds(lambda ns, local: QName(ns, local), NAMESPACES, NCNAME)
DATETIMES = st.builds(
    XmlDateTime.from_datetime,
    st.datetimes(
        min_value=datetime(1970, 1, 1),
        max_value=datetime(2100, 1, 1),
        timezones=st.sampled_from([UTC, timezone(timedelta(hours=-5))]),
    ).map(lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000)),
)
DURATIONS = st.builds(
    lambda d, h, m, s: XmlDuration(f"P{d}DT{h}H{m}M{s}S"),
    st.integers(0, 400),
    st.integers(0, 23),
    st.integers(0, 59),
    st.integers(0, 59),
)


def _is_union(tp: Any) -> bool:
    return typing.get_origin(tp) in (typing.Union, types.UnionType)


def _enum_or_text(enum_type: type[Enum]) -> st.SearchStrategy[Any]:
    """A known value or a vendor string that is not one of them."""
    values = {str(member.value) for member in enum_type}
    return st.one_of(
        st.sampled_from(list(enum_type)),
        NCNAME.filter(lambda s: s not in values),
    )


def _for_type(tp: Any, metadata: typing.Mapping[str, Any]) -> st.SearchStrategy[Any]:
    if _is_union(tp):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        enums = [a for a in args if inspect.isclass(a) and issubclass(a, Enum)]
        none = [st.none()] if type(None) in typing.get_args(tp) else []
        if enums and str in args:
            return st.one_of(*none, *(_enum_or_text(e) for e in enums))
        return st.one_of(*none, *(_for_type(a, metadata) for a in args))
    if typing.get_origin(tp) is list:
        (item,) = typing.get_args(tp)
        return st.lists(_for_type(item, metadata), max_size=2)
    if tp is bool:
        return st.booleans()
    if tp is int:
        low = metadata.get("min_inclusive", -(2**31))
        high = metadata.get("max_inclusive", 2**31 - 1)
        return st.integers(low, high)
    if tp is str:
        return TOKEN if metadata.get("tokens") else TEXT
    if tp is bytes:
        return st.binary(min_size=1, max_size=32)
    if tp is QName:
        return QNAMES
    if tp is XmlDateTime:
        return DATETIMES
    if tp is XmlDuration:
        return DURATIONS
    if inspect.isclass(tp) and issubclass(tp, Enum):
        return st.sampled_from(list(tp))
    if inspect.isclass(tp) and dataclasses.is_dataclass(tp):
        return st.deferred(lambda: instances(tp))
    raise TypeError(f"no strategy for {tp!r}")


@cache
def instances(cls: type) -> st.SearchStrategy[Any]:
    """Instances of a generated dataclass with every field generated."""
    hints = typing.get_type_hints(cls)
    fields: dict[str, st.SearchStrategy[Any]] = {}
    for field in dataclasses.fields(cls):
        kind = field.metadata.get("type")
        if kind in ("Wildcard", "Attributes"):
            continue  # any-content: left at its (empty) default
        tp = hints[field.name]
        strategy = _for_type(tp, field.metadata)
        required = field.default is dataclasses.MISSING and (
            field.default_factory is dataclasses.MISSING
        )
        if not required and typing.get_origin(tp) is not list and not _optional(tp):
            strategy = st.one_of(st.just(field.default), strategy)
        fields[field.name] = strategy
    return st.builds(cls, **fields)


def _optional(tp: Any) -> bool:
    return _is_union(tp) and type(None) in typing.get_args(tp)


def _id(cls: type) -> str:
    return f"{cls.__module__.rsplit('.', 1)[-1]}.{cls.__qualname__}"


def _generated_dataclasses() -> set[type]:
    """Every dataclass defined in any module under the generated models package,
    walked independently of :data:`MODULES` (subpackages included)."""
    found: set[type] = set()
    for info in pkgutil.walk_packages(models.__path__, f"{models.__name__}."):
        module = importlib.import_module(info.name)
        found.update(
            obj
            for obj in vars(module).values()
            if inspect.isclass(obj)
            and dataclasses.is_dataclass(obj)
            and obj.__module__ == module.__name__
        )
    return found


def test_every_generated_class_is_covered() -> None:
    assert set(CLASSES) == _generated_dataclasses()
    assert len(CLASSES) == len(set(CLASSES))
    covered = {cls.__module__.rsplit(".", 1)[-1] for cls in CLASSES}
    # Modules the former hard-coded list missed (19 classes) are in.
    assert {"devprof", "discovery", "mex"} <= covered
    assert scan.ScanTicket in CLASSES and scan.CreateScanJobResponse in CLASSES


@pytest.mark.parametrize("cls", CLASSES, ids=_id)
def test_round_trip(cls: type) -> None:
    @ROUND_TRIP
    @given(instances(cls))
    def check(obj: Any) -> None:
        xml = to_string(obj)
        back = parse(xml.encode("utf-8"), cls)
        assert back == obj, f"\nsent:   {obj!r}\nxml:    {xml}\nparsed: {back!r}"

    check()
