"""How a command's failure is said: one line on stderr, never a traceback for what a
device, the network or the file system can cause."""

from __future__ import annotations

import sys

from wsdscan.runtime.errors import WsdScanError
from wsdscan.runtime.soap import SoapFault


def report(exc: Exception) -> int:
    """Print ``exc`` as one line and return the exit code; re-raise a bug."""
    if isinstance(exc, SoapFault):
        print(f"wsdscan: the scanner answered a fault: {exc}", file=sys.stderr)
        return 1
    if isinstance(exc, (WsdScanError, OSError)):
        print(f"wsdscan: {exc}", file=sys.stderr)
        return 1
    raise exc
