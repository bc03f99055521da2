"""The client side of HTTP: the one request path (:class:`SoapClient` over
:func:`http_client`, the buffered network layer of :mod:`.netstream`), the stubs'
transport :class:`HttpTransport`, attachment responses saved atomically
(:mod:`.attachment`, with :mod:`.preallocate`), and the blocking facade's runner
(:mod:`.sync`)."""

from . import httpx_without_cli  # noqa: F401  (first: see the module)
from .attachment import (
    HttpAttachmentResponse,
)
from .body_windows import (
    content_length,
)
from .client import (
    HttpTransport,
)
from .netstream import (
    BufferedHTTPTransport,
    buffered_body,
)
from .soap_client import (
    DEFAULT_USER_AGENT,
    MAX_SOAP_RESPONSE,
    UNLIMITED,
    WIRE_LOG,
    SoapClient,
    SoapResponse,
    check_url,
    http_client,
    mask_secrets,
    raise_if_fault,
    soap_headers,
)
from .sync import (
    SyncAttachmentResponse,
    SyncRunner,
)

__all__ = [
    "BufferedHTTPTransport",
    "DEFAULT_USER_AGENT",
    "HttpAttachmentResponse",
    "HttpTransport",
    "MAX_SOAP_RESPONSE",
    "SoapClient",
    "SoapResponse",
    "SyncAttachmentResponse",
    "SyncRunner",
    "UNLIMITED",
    "WIRE_LOG",
    "buffered_body",
    "check_url",
    "content_length",
    "http_client",
    "mask_secrets",
    "raise_if_fault",
    "soap_headers",
]
