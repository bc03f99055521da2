"""The high-level errors (standard library only, like ``runtime.errors`` under them).

Everything wsdscan raises on purpose descends from :class:`WsdScanError`; the
command line tells a usage problem (exit 2) from a device or network one (exit 1) by
these classes.
"""

from __future__ import annotations

from wsdscan.runtime.errors import WsdScanError


class ScanError(WsdScanError):
    """The scan cannot be done as asked, or the scanner did not do it."""


class UnsupportedOption(ScanError, ValueError):
    """An option names no known value, or one this scanner does not offer (the message
    lists what it offers)."""


class OutputError(ScanError):
    """The output location cannot be written (checked before the job is created)."""


class DeviceError(ScanError):
    """The scanner refused or failed the job. The message says why in words; the
    fault or transport error is the ``__cause__``, and ``reasons`` are the state
    reasons and conditions the scanner reported then (``MediaJam``,
    ``InputTrayEmpty``, ...)."""

    def __init__(self, message: str, reasons: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.reasons = reasons
