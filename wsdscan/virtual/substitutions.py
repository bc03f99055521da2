"""How each value of a resolved ScanTicket came about, and the rule for a value the
virtual scanner does not support.

A value is as requested, a default (the element was missing: ``UsedDefault="true"``
in DocumentFinalParameters) or a substitute (``Override="true"``). A substitute for an
element whose ``MustHonor`` is true rejects a CreateScanJobRequest instead
(``ClientErrorFormatNotSupported`` for the Format, ``InvalidArgs`` for anything else);
for ValidateScanTicket nothing is rejected and every substitute makes the ticket
invalid.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from wsdscan.generated.stubs.faults import ClientErrorFormatNotSupported, InvalidArgs

# How a final value came about: the marks ``ticketfields.py`` turns into attributes.
REQUESTED: Final = "requested"
OVERRIDE: Final = "override"
DEFAULT: Final = "default"


@dataclass
class Substitutions:
    """The marks of one ticket's values (by key: ``format``, ``front.xres``, ...) and
    a message for each substitute."""

    strict: bool
    """CreateScanJob: a substitute for a MustHonor element is a fault."""
    adjustments: list[str] = field(default_factory=list)
    marks: dict[str, str] = field(default_factory=dict)

    def substitute(
        self,
        key: str,
        must_honor: bool | None,
        message: str,
        *,
        is_format: bool = False,
    ) -> None:
        """Record a substitution, or reject the request when MustHonor is set."""
        if self.strict and must_honor:
            if is_format:
                raise ClientErrorFormatNotSupported()
            raise InvalidArgs()
        self.adjustments.append(message)
        self.marks[key] = OVERRIDE
