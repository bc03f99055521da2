"""The root of the exception tree, :class:`WsdScanError`, and the runtime's transport
and protocol errors (SOAP faults, also beneath it, are in ``soap``)."""

from __future__ import annotations


class WsdScanError(Exception):
    """Base class of every exception wsdscan raises on purpose (README, "Errors")."""


class TransportError(WsdScanError):
    """The HTTP exchange failed: connection refused or reset, timeout, or an HTTP error
    status without a SOAP fault in the body."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class ProtocolError(WsdScanError):
    """The peer answered, but not with a message we can read (wrong content type,
    malformed multipart, unexpected body element). ``content_type`` is the answer's
    Content-Type where the transport knew it (``text/html``: a web page, not WS-Scan).
    """

    content_type: str | None = None


class TruncatedAttachmentError(ProtocolError):
    """An MTOM attachment ended before its closing boundary (connection closed or reset).
    Nothing is left at the target path of a save."""
