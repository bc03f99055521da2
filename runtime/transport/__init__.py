"""The client side of HTTP: :class:`HttpTransport` (httpx over the buffered network
layer of :mod:`.netstream`), attachment responses saved atomically (with
:mod:`.preallocate`), and the blocking facade's runner (:mod:`.sync`)."""

from .client import (
    DEFAULT_TIMEOUT,
    DEFAULT_USER_AGENT,
    MAX_SOAP_RESPONSE,
    HttpAttachmentResponse,
    HttpTransport,
    check_url,
    post_soap,
    raise_if_fault,
    read_soap_reply,
    soap_headers,
)
from .netstream import (
    BufferedHTTPTransport,
    buffered_body,
    content_length,
)
from .sync import (
    SyncAttachmentResponse,
    SyncRunner,
)

__all__ = [
    "BufferedHTTPTransport",
    "DEFAULT_TIMEOUT",
    "DEFAULT_USER_AGENT",
    "HttpAttachmentResponse",
    "HttpTransport",
    "MAX_SOAP_RESPONSE",
    "SyncAttachmentResponse",
    "SyncRunner",
    "buffered_body",
    "check_url",
    "content_length",
    "post_soap",
    "raise_if_fault",
    "read_soap_reply",
    "soap_headers",
]
