"""The server side of HTTP: ASGI plumbing and limits (:mod:`.asgi`), SOAP dispatch to a
service (:class:`SoapApp`, :mod:`.dispatch`) with its replies (:mod:`.replies`,
:mod:`.attachment_reply` for MTOM), and uvicorn in-process (:mod:`.serve`)."""

from .asgi import (
    ASGIApp,
    BodyRefused,
    Message,
    PathRouter,
    Receive,
    Scope,
    Send,
    ServerLimits,
    read_body,
    request_headers,
    serve_lifespan,
)
from .attachment_reply import (
    ClientDisconnected,
)
from .dispatch import (
    RawHandler,
    RequestRejected,
    SoapApp,
    SoapReply,
)
from .replies import (
    SOAP_CONTENT_TYPE,
)
from .serve import (
    GRACEFUL_SHUTDOWN_TIMEOUT,
    KEEP_ALIVE_TIMEOUT,
    MAX_HEADER_BYTES,
    HeaderDeadlineProtocol,
    RunningServer,
    bind_socket,
    header_deadline_protocol,
    make_server,
    running,
)

__all__ = [
    "ASGIApp",
    "BodyRefused",
    "ClientDisconnected",
    "GRACEFUL_SHUTDOWN_TIMEOUT",
    "HeaderDeadlineProtocol",
    "KEEP_ALIVE_TIMEOUT",
    "MAX_HEADER_BYTES",
    "Message",
    "PathRouter",
    "RawHandler",
    "Receive",
    "RequestRejected",
    "RunningServer",
    "SOAP_CONTENT_TYPE",
    "Scope",
    "Send",
    "ServerLimits",
    "SoapApp",
    "SoapReply",
    "bind_socket",
    "header_deadline_protocol",
    "make_server",
    "read_body",
    "request_headers",
    "running",
    "serve_lifespan",
]
