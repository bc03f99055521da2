"""The virtual scanner's state, state reasons and active conditions: one source for the
ScannerStatus it answers and the status events it sends (``eventing.py``).

* a job active: Processing, else Idle; jammed: Stopped with MediaJam (new jobs are
  refused) and a critical MediaJam condition;
* an empty ADF: the state reason ``InputTrayEmpty`` and an informational
  InputTrayEmpty condition of the ADF. An empty feeder does not stop the scanner (the
  platen still scans), so the state stays Idle. ``InputTrayEmpty`` is not one of the
  documented ScannerStateReason values (the page allows extending them); it is the
  documented DeviceCondition name for "the ADF input has no media", and a client that
  reads only ScannerStateReasons learns from it that the feeder is empty. Loading the
  feeder (``VirtualScanner.load_adf``, ``wsdscan press --load-adf``) clears both.
"""

from __future__ import annotations

from typing import Final

from xsdata.models.datatype import XmlDateTime

from wsdscan.generated.models.scan import (
    ComponentKnownValue,
    DeviceCondition,
    DeviceConditionNameKnownValue,
    ScannerStateKnownValue,
    ScannerStateReasonKnownValue,
    SeverityKnownValue,
)

INPUT_TRAY_EMPTY: Final = "InputTrayEmpty"
"""The (extension) ScannerStateReason of an empty feeder."""
INPUT_TRAY_EMPTY_ID: Final = 1
"""Condition id of the empty feeder."""
MEDIA_JAM_ID: Final = 2

Reason = ScannerStateReasonKnownValue | str


def state(
    *, busy: bool, adf: bool, adf_sheets: int, jammed: bool
) -> tuple[ScannerStateKnownValue, list[Reason]]:
    """ScannerState and ScannerStateReasons."""
    reasons: list[Reason] = []
    if jammed:
        reasons.append(ScannerStateReasonKnownValue.MEDIA_JAM)
    if adf and adf_sheets == 0:
        reasons.append(INPUT_TRAY_EMPTY)
    if jammed:
        scanner_state = ScannerStateKnownValue.STOPPED
    elif busy:
        scanner_state = ScannerStateKnownValue.PROCESSING
    else:
        scanner_state = ScannerStateKnownValue.IDLE
    return scanner_state, reasons or [ScannerStateReasonKnownValue.NONE]


def conditions(
    *, adf: bool, adf_sheets: int, jammed: bool, now: XmlDateTime
) -> dict[int, DeviceCondition]:
    """The active conditions by condition id."""
    found: dict[int, DeviceCondition] = {}
    if adf and adf_sheets == 0:
        found[INPUT_TRAY_EMPTY_ID] = DeviceCondition(
            time=now,
            name=DeviceConditionNameKnownValue.INPUT_TRAY_EMPTY,
            component=ComponentKnownValue.ADF,
            severity=SeverityKnownValue.INFORMATIONAL,
            id=INPUT_TRAY_EMPTY_ID,
        )
    if jammed:
        found[MEDIA_JAM_ID] = DeviceCondition(
            time=now,
            name=DeviceConditionNameKnownValue.MEDIA_JAM,
            component=ComponentKnownValue.ADF if adf else ComponentKnownValue.PLATEN,
            severity=SeverityKnownValue.CRITICAL,
            id=MEDIA_JAM_ID,
        )
    return found


def text(reason: Reason) -> str:
    return reason.value if isinstance(reason, ScannerStateReasonKnownValue) else reason
