"""The contract between generated stubs and the runtime.

Generated code imports this module (besides the fault bases of ``soap`` and the
default transport): routes as data, the transport a client stub is given, the context a
server method receives, attachment types for MTOM operations and the publisher that
event emit helpers call. Keeping it small lets the
transport, the HTTP server and the eventing code change without regenerating.
"""

from __future__ import annotations

import os
from collections.abc import (
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Mapping,
)
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

from .soap.fault_registry import PROTOCOL_FAULTS, FaultRegistry

RequestT = TypeVar("RequestT")
ResponseT = TypeVar("ResponseT")
BodyT = TypeVar("BodyT")
BodyT_co = TypeVar("BodyT_co", covariant=True)


@dataclass(frozen=True)
class Route(Generic[RequestT, ResponseT]):
    """One request/response operation: what the route table maps an Action to."""

    operation: str
    method: str
    action: str
    response_action: str
    request_type: type[RequestT]
    response_type: type[ResponseT]
    # Clark name of the base64Binary element of the response whose content travels as an
    # MTOM (XOP) attachment; None for a plain response.
    attachment_element: str | None = None
    # Which class a fault answered to this operation becomes: the stubs' registry,
    # which adds the service's faults (generated from the fault table) to the runtime's.
    faults: FaultRegistry = PROTOCOL_FAULTS

    @property
    def attachment(self) -> bool:
        return self.attachment_element is not None


@dataclass(frozen=True)
class EventRoute(Generic[BodyT]):
    """One notification: its Action, body type and event-sink method."""

    event: str
    action: str
    body_type: type[BodyT]
    sink_method: str


# What a server method may hand back as an attachment: a bytes-like buffer, a file path
# (str or PathLike), or a stream of chunks (sync or async). The runtime streams it;
# nothing requires it to fit in memory.
AttachmentSource = (
    bytes
    | bytearray
    | memoryview
    | str
    | os.PathLike[str]
    | Iterable[bytes]
    | AsyncIterable[bytes]
)


@dataclass
class AttachmentReply(Generic[BodyT]):
    """A server method's answer for an operation whose response carries an attachment."""

    body: BodyT
    content: AttachmentSource
    content_type: str = "application/octet-stream"
    # When known, lets the runtime send Content-Length instead of chunked encoding.
    size: int | None = None
    # Called (once) when the transfer fails after the reply was accepted: the client went
    # away mid-body or stopped reading (the server's write timeout), reading ``content``
    # raised, or the server shut down mid-body. WS-Scan: ImageTransferError aborts the
    # job.
    on_abort: Callable[[], Awaitable[None]] | None = None
    # Called (once) when the body was handed to the connection whole. Exactly one of
    # ``on_abort`` and ``on_complete`` is called: a service can keep the image's job
    # busy until then (a transfer slower than the job timeout must not expire it).
    on_complete: Callable[[], Awaitable[None]] | None = None


class WritableStream(Protocol):
    """Anything with ``write(bytes)``: a binary file, ``io.BytesIO``, a socket file; an
    awaitable result (an async writer) is awaited."""

    def write(self, data: bytes, /) -> object: ...


class AttachmentResponse(Protocol[BodyT_co]):
    """A client's view of a response with an attachment: the SOAP body first, then the
    attachment as a stream. Consume it (``aiter_bytes``/``save``) or ``aclose`` it."""

    @property
    def body(self) -> BodyT_co: ...

    @property
    def content_type(self) -> str: ...

    def aiter_bytes(self) -> AsyncIterator[bytes]: ...

    async def read(self) -> bytes: ...

    async def save(
        self, path: str | Path, progress: Callable[[int], None] | None = None
    ) -> int: ...

    async def save_to(
        self, stream: WritableStream, progress: Callable[[int], None] | None = None
    ) -> int: ...

    async def aclose(self) -> None: ...


class ClientTransport(Protocol):
    """What a generated client stub sends through (``wsdscan.runtime.transport`` implements it)."""

    async def invoke(
        self, route: Route[RequestT, ResponseT], request: RequestT
    ) -> ResponseT:
        """Send ``request`` with the route's Action; return the parsed response body.

        Raises a ``SoapFault`` subclass for a SOAP fault."""
        ...

    async def invoke_with_attachment(
        self, route: Route[RequestT, ResponseT], request: RequestT
    ) -> AttachmentResponse[ResponseT]:
        """Like ``invoke`` for an operation whose response carries an MTOM attachment."""
        ...


class SoapService(Protocol):
    """What ``SoapApp`` serves: ``routes`` map request Actions to routes, and each
    route's ``method`` is an async method ``(request, context) -> response`` of the
    service (a ``ScannerServiceBase`` subclass, say)."""

    @property
    def routes(self) -> Mapping[str, Route[Any, Any]]: ...


@dataclass(frozen=True)
class RequestContext:
    """What a server method knows about the request besides its body."""

    action: str
    message_id: str | None = None
    to: str | None = None
    reply_to: str | None = None
    client: tuple[str, int] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)


class EventPublisher(Protocol):
    """Where server-side emit helpers deliver events (the subscription manager)."""

    async def publish(self, route: EventRoute[BodyT], body: BodyT) -> None: ...


def build_request(
    request_type: type[RequestT], request: RequestT | None, **fields: object
) -> RequestT:
    """The request a generated client method sends: the dataclass it was given, or one
    built from the keyword fields that are not None (so the dataclass keeps its own
    defaults). Giving both is an error."""
    given = {name: value for name, value in fields.items() if value is not None}
    if request is not None:
        if given:
            raise TypeError(
                f"pass either a {request_type.__name__} or keyword fields, not both "
                f"(got {', '.join(sorted(given))})"
            )
        return request
    return request_type(**given)
