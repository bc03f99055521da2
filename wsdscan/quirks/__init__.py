"""Workarounds for what real scanners do, in one place, each naming the devices and
its source (``shared/notes/device-quirks.md`` numbers the rows): here what a client
must make of what a device says; in :mod:`.profiles` what the virtual scanner makes of
a device's captured GetScannerElementsResponse. How devices write their bytes (faults
with HTTP 200, multipart variants, namespace spellings) is read leniently where the
runtime reads them (docs/architecture.md, "Where things go").

Standard library only: the error messages use it too.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final


def maximum_size_swapped(width: int, height: int) -> bool:
    """Whether a MaximumSize (1/1000 inch) has its width and height swapped.

    Kyocera ECOSYS M2040dn reports its glass and feeder as 14016 x 8504, width and
    height swapped: its own DefaultScanTicket asks for 8266 x 11690, A4 portrait
    (sane-airscan ``airscan-wsd.c`` and issue #162; device-quirks #20). A width
    beyond the height is read as such a swap: none of the scanners the notes know
    has a landscape glass."""
    return width > height


def maximum_size(width: int, height: int) -> tuple[int, int]:
    """A MaximumSize as (width, height) of a portrait original (see above)."""
    return (height, width) if maximum_size_swapped(width, height) else (width, height)


ADF_END_SUBCODES: Final = frozenset(
    {"ClientErrorNoImagesAvailable", "ClientErrorJobIdNotFound"}
)
"""Faults that end an ADF job normally once a page arrived: NoImagesAvailable as the
spec says, JobIdNotFound from Ricoh devices (sane-airscan 8735f70; device-quirks #16)."""


def feeder_reported_empty(subcode: str, reasons: Iterable[str], source: str) -> bool:
    """Whether a refused or ended feeder job means "the feeder is empty".

    NoImagesAvailable on a feeder job says it directly; Canon MF410 refuses the job
    with ServerErrorNotAcceptingJobs instead and reports the empty feeder only as the
    InputTrayEmpty condition while Idle (sane-airscan c32769b; device-quirks #16)."""
    if source not in ("ADF", "ADFDuplex"):
        return False
    return subcode == "ClientErrorNoImagesAvailable" or "InputTrayEmpty" in reasons
