"""Which class a received fault becomes: :class:`FaultRegistry`, and the runtime's
own, :data:`PROTOCOL_FAULTS` (the stubs' ``FAULTS`` extends it with the service's
faults)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Final

from lxml import etree

from ..xmlbind.namespaces import WSA, WSA_2003_03, WSA_2005_08, canonical_namespace
from ..xmlbind.qnames import clark, local_name, split_clark
from . import fault_codec
from .faults import (
    ActionNotSupported,
    DataEncodingUnknown,
    DeliveryModeRequestedUnavailable,
    DestinationUnreachable,
    EventSourceUnableToProcess,
    FilteringNotSupported,
    FilteringRequestedUnavailable,
    InvalidExpirationTime,
    InvalidMessage,
    InvalidMessageInformationHeader,
    MessageInformationHeaderRequired,
    MustUnderstand,
    ServerFault,
    SoapFault,
    UnableToRenew,
    UnsupportedExpirationType,
    VersionMismatch,
)

# Other WS-Addressing versions use the same local names for these faults.
_WSA_ALIASES: Final = frozenset({WSA_2003_03, WSA_2005_08})


def _canonical_subcode(subcode: str) -> str:
    namespace, local = split_clark(subcode)
    namespace = canonical_namespace(namespace)
    if namespace in _WSA_ALIASES:
        namespace = WSA
    return clark(namespace, local) if namespace else local


def _index(
    names: Iterable[tuple[str, type[SoapFault]]],
) -> Mapping[str, type[SoapFault]]:
    table: dict[str, type[SoapFault]] = {}
    for name, cls in names:
        if name in table:
            raise TypeError(f"{name} is claimed by {table[name].__name__} and {cls}")
        table[name] = cls
    return MappingProxyType(table)


class FaultRegistry:
    """Which class a received fault becomes: by subcode (any accepted spelling: the
    ``2006/01`` and ``https://`` namespace variants, other WS-Addressing versions, a
    class's ``ALIASES``, a bare local name), and by code for faults without one.
    Immutable: :meth:`with_faults` makes a larger one (the stubs' ``FAULTS``)."""

    def __init__(
        self,
        subcoded: Iterable[type[SoapFault]],
        coded: Iterable[type[SoapFault]],
    ) -> None:
        self._subcoded = tuple(subcoded)
        self._coded = tuple(coded)
        for cls in self._subcoded:
            if cls.SUBCODE is None:
                raise TypeError(f"{cls.__name__}.SUBCODE is not set")
        self.by_subcode: Final = _index((c.SUBCODE or "", c) for c in self._subcoded)
        """Canonical subcode (Clark QName) -> fault class."""
        self.by_code: Final = _index((c.CODE, c) for c in self._coded)
        """Code -> class for faults without subcode (soap:Receiver -> ServerFault)."""
        self._aliases: Final = _index((a, c) for c in self._subcoded for a in c.ALIASES)
        # For QName text whose prefix is not declared (seen in documentation samples).
        self._by_local_name: Final = MappingProxyType(
            {local_name(s): c for s, c in self.by_subcode.items()}
        )

    def with_faults(self, classes: Iterable[type[SoapFault]]) -> FaultRegistry:
        """This registry and ``classes`` (subcoded fault classes)."""
        return FaultRegistry((*self._subcoded, *classes), self._coded)

    def class_for_subcode(self, subcode: str) -> type[SoapFault] | None:
        """The fault class for a received subcode (any accepted spelling), or None."""
        canonical = _canonical_subcode(subcode)
        found = self.by_subcode.get(canonical) or self._aliases.get(canonical)
        if found is None and not canonical.startswith("{"):
            found = self._by_local_name.get(canonical)
        return found

    def from_subcode(
        self,
        code: str | None,
        subcode: str | None,
        reason: str | None = None,
        detail: etree._Element | str | None = None,
    ) -> SoapFault:
        """The typed fault for a received code/subcode.

        A known subcode gives its class with the canonical subcode; the received
        ``code`` and ``reason`` are kept (``None`` means the class default). A code
        without subcode gives its class from :attr:`by_code`. Anything else gives a
        plain :class:`SoapFault`.
        """
        if subcode is not None:
            cls = self.class_for_subcode(subcode)
            if cls is not None:
                return cls(reason, detail, code=code)
            return SoapFault(
                reason, detail, code=code, subcode=_canonical_subcode(subcode)
            )
        if code is not None and code in self.by_code:
            return self.by_code[code](reason, detail)
        return SoapFault(reason, detail, code=code)

    def from_element(self, element: etree._Element) -> SoapFault:
        """Parse a received ``soap:Fault`` (or an Envelope/Body holding one) into its
        typed exception (:func:`fault_codec.read_fault` reads it; the most specific
        known subcode of a nested chain wins)."""
        read = fault_codec.read_fault(element)
        known = [s for s in read.subcodes if self.class_for_subcode(s) is not None]
        subcode = known[-1] if known else (read.subcodes[0] if read.subcodes else None)
        return self.from_subcode(read.code, subcode, read.reason, read.detail)


PROTOCOL_FAULTS: Final = FaultRegistry(
    (
        ActionNotSupported,
        DestinationUnreachable,
        InvalidMessageInformationHeader,
        MessageInformationHeaderRequired,
        InvalidExpirationTime,
        UnsupportedExpirationType,
        FilteringNotSupported,
        FilteringRequestedUnavailable,
        DeliveryModeRequestedUnavailable,
        EventSourceUnableToProcess,
        UnableToRenew,
        InvalidMessage,
    ),
    (VersionMismatch, MustUnderstand, DataEncodingUnknown, ServerFault),
)
"""The faults the runtime knows without stubs: SOAP codes, WS-Addressing and
WS-Eventing. The stubs' ``FAULTS`` adds the WS-Scan ones."""
