"""How a command's failure is said: one line on stderr, ``wsdscan: error: ...``, never
a traceback for what a user, a device, the network or the file system can cause."""

from __future__ import annotations

import sys

from wsdscan.errors import OutputError, UnsupportedOption
from wsdscan.messages import error_words
from wsdscan.runtime.errors import WsdScanError


def report(exc: Exception, url: str | None = None) -> int:
    """Print ``exc`` as one line and return the exit code; re-raise a bug."""
    if not isinstance(exc, (WsdScanError, OSError)):
        raise exc
    print(f"wsdscan: error: {error_words(exc, url or 'the scanner')}", file=sys.stderr)
    return 2 if isinstance(exc, (UnsupportedOption, OutputError)) else 1
