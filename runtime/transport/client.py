"""The client transport: generated stubs send through :class:`HttpTransport` (httpx).

Windows-like on send (``shared/notes/device-quirks.md`` #11-13): compact SOAP 1.2,
prefixes ``soap``/``wsa``/``wscn``, ``Content-Type: application/soap+xml``, the
``User-Agent`` WSDAPI (configurable), no-cache headers, ``wsa:To`` = the service URL.
Lenient on receipt: a fault is a fault whatever the HTTP status (Lexmark, Xerox send
faults with HTTP 200), a multipart reply to a plain operation is read by its root part.
Every httpx failure while a response is read becomes a typed error: TransportError up
to the end of the SOAP part, TruncatedAttachmentError once attachment parts are read.
"""

from __future__ import annotations

import contextlib
import inspect
import os
import secrets
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterator
from pathlib import Path
from types import TracebackType
from typing import Any, Final, TypeVar

import httpx
from lxml import etree

from .. import mtom
from ..contract import Route, WritableStream
from ..errors import ProtocolError, TransportError, TruncatedAttachmentError
from ..soap.envelope import ANONYMOUS, Envelope, build_envelope, parse_envelope
from ..soap.faults import PROTOCOL_FAULTS, FaultRegistry
from ..xmlbind.binding import bind, to_element
from ..xmlbind.namespaces import SOAP11_ENV, SOAP_ENV
from . import preallocate
from .netstream import BufferedHTTPTransport, buffered_body, content_length

RequestT = TypeVar("RequestT")
ResponseT = TypeVar("ResponseT")

DEFAULT_USER_AGENT: Final = "WSDAPI"
DEFAULT_TIMEOUT: Final = httpx.Timeout(30.0, connect=10.0)
# A plain SOAP reply larger than this is refused (it is XML, not an image).
MAX_SOAP_RESPONSE: Final = 16 * 1024 * 1024


def raise_if_fault(envelope: Envelope, faults: FaultRegistry = PROTOCOL_FAULTS) -> None:
    """Raise the ``SoapFault`` an envelope carries (SOAP 1.2 or 1.1), if any, typed by
    ``faults`` (the stubs pass theirs, which knows the WS-Scan faults)."""
    body = envelope.body
    if body is not None and etree.QName(body).localname == "Fault":
        if etree.QName(body).namespace in (SOAP_ENV, SOAP11_ENV):
            raise faults.from_element(body)


def soap_headers(user_agent: str = DEFAULT_USER_AGENT) -> dict[str, str]:
    """HTTP headers of a SOAP request, as Windows sends them (device-quirks.md #12:
    Panasonic KV-S1058Y needs User-Agent WSDAPI and no-cache; sane-airscan a4212da)."""
    return {
        "Content-Type": "application/soap+xml",
        "User-Agent": user_agent,
        "Cache-Control": "no-cache",
        "Pragma": "no-cache",
    }


def check_url(url: str, name: str) -> None:
    """Refuse a URL httpx would choke on below its own error types: an out-of-range
    port reaches the socket layer and comes back as a bare ExceptionGroup
    (OverflowError), which callers catching TransportError would not see."""
    try:
        port = httpx.URL(url).port
    except httpx.InvalidURL as exc:
        raise TransportError(f"{name}: invalid URL {url!r}: {exc}") from exc
    if port is not None and not 0 < port < 65536:
        raise TransportError(f"{name}: invalid URL {url!r}: port {port}")


async def post_soap(
    client: httpx.AsyncClient,
    url: str,
    data: bytes,
    *,
    name: str,
    user_agent: str = DEFAULT_USER_AGENT,
    max_reply: int = MAX_SOAP_RESPONSE,
) -> tuple[int, bytes]:
    """POST a SOAP message; returns the HTTP status and the reply body, read up to
    ``max_reply`` bytes (ProtocolError beyond). Whatever goes wrong on the way is a
    TransportError."""
    check_url(url, name)
    try:
        async with client.stream(
            "POST", url, content=data, headers=soap_headers(user_agent)
        ) as response:
            content = bytearray()
            async for chunk in response.aiter_bytes():
                content += chunk
                if len(content) > max_reply:
                    raise ProtocolError(f"{name}: reply from {url} too large")
            return response.status_code, bytes(content)
    except httpx.TimeoutException as exc:
        raise TransportError(f"{name}: timed out talking to {url}") from exc
    except (httpx.HTTPError, httpx.InvalidURL, OSError) as exc:
        raise TransportError(f"{name}: {url}: {exc!r}") from exc


def read_soap_reply(
    status: int,
    content: bytes,
    *,
    name: str,
    url: str,
    faults: FaultRegistry = PROTOCOL_FAULTS,
) -> Envelope:
    """The envelope of a plain SOAP reply. A fault is raised as its typed
    ``SoapFault`` whatever the HTTP status (device-quirks.md #7: faults with HTTP 200);
    any other non-2xx answer is a TransportError, a body that is no envelope a
    ProtocolError."""
    try:
        envelope = parse_envelope(content) if content else None
    except ProtocolError:
        envelope = None
    if envelope is not None:
        raise_if_fault(envelope, faults)
    if status >= 300:
        raise TransportError(f"{name}: HTTP {status} from {url}", status=status)
    if envelope is None:
        raise ProtocolError(f"{name}: the reply from {url} is not a SOAP envelope")
    return envelope


def _bind_response(envelope: Envelope, route: Route[Any, ResponseT]) -> ResponseT:
    raise_if_fault(envelope, route.faults)
    if envelope.body is None:
        raise ProtocolError(f"{route.operation}: the response Body is empty")
    expected = route.response_type.__name__
    got = etree.QName(envelope.body).localname
    if got != expected:
        raise ProtocolError(
            f"{route.operation}: expected <{expected}> in the Body, got <{got}>"
        )
    return bind(envelope.body, route.response_type)


@contextlib.contextmanager
def _translated(
    operation: str, url: str, *, attachment: bool = False
) -> Iterator[None]:
    """httpx errors while sending a request or reading its response, as the runtime's
    typed errors: a failed exchange (TransportError, "timed out" for a timeout) before
    the attachment, a TruncatedAttachmentError in it."""
    try:
        yield
    except httpx.HTTPError as exc:
        if attachment:
            raise TruncatedAttachmentError(
                f"{operation}: attachment transfer failed: {exc!r}"
            ) from exc
        if isinstance(exc, httpx.TimeoutException):
            raise TransportError(f"{operation}: timed out talking to {url}") from exc
        raise TransportError(
            f"{operation}: the exchange with {url} failed: {exc!r}"
        ) from exc


def _create_temporary(target: Path) -> tuple[int, Path]:
    """A new file next to ``target``, opened for writing. Unlike mkstemp's 0600 it is
    created with 0666 for the kernel to apply the umask (and any default ACL) to, so
    the saved image gets the mode a normally created file would; reading the umask
    instead would mean setting it, process-wide and racy with other threads. O_EXCL
    keeps mkstemp's guarantees: never an existing file, never through a symlink."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        candidate = target.parent / f".{target.name}.{secrets.token_hex(6)}.part"
        try:
            return os.open(candidate, flags, 0o666), candidate
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name next to {target}")


def _xop_href(envelope: Envelope) -> str | None:
    if envelope.body is None:
        return None
    hrefs = mtom.detach_includes(envelope.body)
    return hrefs[0] if hrefs else None


class HttpAttachmentResponse:
    """A response whose attachment is read from the still-open HTTP stream."""

    def __init__(
        self,
        body: Any,
        content_type: str,
        chunks: AsyncIterator[memoryview],
        response: httpx.Response,
        reader: mtom.MultipartReader,
        *,
        operation: str = "attachment",
    ) -> None:
        self._body = body
        self._content_type = content_type
        self._chunks = chunks
        self._response = response
        self._reader = reader
        self._consumed = False
        self._operation = operation

    @property
    def body(self) -> Any:
        return self._body

    @property
    def content_type(self) -> str:
        return self._content_type

    async def _views(self) -> AsyncGenerator[memoryview, None]:
        """The attachment as views, each valid until the next is requested."""
        if self._consumed:
            raise RuntimeError("the attachment stream was already consumed")
        self._consumed = True
        url = str(self._response.url)
        try:
            with _translated(self._operation, url, attachment=True):
                async for view in self._chunks:
                    yield view
                # Complete only with the closing boundary: drain any later parts.
                while (part := await self._reader.next_part()) is not None:
                    async for _ in part.views:
                        pass
        finally:
            await self.aclose()

    async def aiter_bytes(self) -> AsyncGenerator[bytes, None]:
        """The attachment, chunk by chunk. Raises TruncatedAttachmentError if the body
        ends before the closing boundary."""
        async with contextlib.aclosing(self._views()) as views:
            async for view in views:
                yield bytes(view)

    async def read(self) -> bytes:
        """The whole attachment in memory (use ``save`` or ``aiter_bytes`` for large ones)."""
        return b"".join([chunk async for chunk in self.aiter_bytes()])

    async def save(
        self, path: str | Path, progress: Callable[[int], None] | None = None
    ) -> int:
        """Write the attachment to ``path`` atomically: a temporary file next to it is
        renamed only after the closing boundary arrived. ``progress`` gets the byte count
        so far after each chunk. Returns the byte count."""
        target = Path(path)
        fd, temporary = _create_temporary(target)
        try:
            # The body's length bounds the image's: reserve that much on disk first
            # (cheaper writes on ext4, see preallocate), give back the rest after.
            reserved = preallocate.reserve(fd, content_length(self._response.headers))
            with os.fdopen(fd, "wb") as handle:
                # The file takes the views themselves: the image goes from the
                # connection's buffer to the file without another copy.
                size = await self._pump(handle.write, progress, copy=False)
                if reserved:
                    handle.flush()
                    preallocate.release_excess(handle.fileno(), size)
            os.replace(temporary, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
            raise
        return size

    async def save_to(
        self, stream: WritableStream, progress: Callable[[int], None] | None = None
    ) -> int:
        """Write the attachment to any writable stream (``write`` may be sync or async),
        chunk by chunk. On a truncated body the stream holds a prefix and
        TruncatedAttachmentError is raised. Returns the byte count."""
        return await self._pump(stream.write, progress, copy=True)

    async def _pump(
        self,
        write: Callable[[Any], object],
        progress: Callable[[int], None] | None,
        *,
        copy: bool,
    ) -> int:
        """Hand every chunk to ``write``: a view (when ``write`` keeps no reference,
        like a file's) or a bytes copy (a stream may keep what it is given)."""
        size = 0
        # aclosing: if writing or ``progress`` raises, the HTTP response is closed now,
        # not whenever the abandoned generator is collected.
        async with contextlib.aclosing(self._views()) as views:
            async for view in views:
                written = write(bytes(view) if copy else view)
                if inspect.isawaitable(written):
                    await written
                size += view.nbytes
                if progress is not None:
                    progress(size)
        return size

    async def aclose(self) -> None:
        await self._response.aclose()

    async def __aenter__(self) -> HttpAttachmentResponse:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


class HttpTransport:
    """Sends SOAP 1.2 requests over HTTP with httpx (async, connection reuse).

    Without ``client`` it makes its own, over
    :class:`~.netstream.BufferedHTTPTransport`, which lets ``retrieve_image`` read the
    image where it lands (no proxies from the environment: scanners are local). With
    ``client`` (a proxy, custom limits, event hooks) everything goes through that
    client, attachment bodies through httpx's own reader."""

    def __init__(
        self,
        url: str,
        *,
        client: httpx.AsyncClient | None = None,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        user_agent: str = DEFAULT_USER_AGENT,
    ) -> None:
        self.url = url
        self.user_agent = user_agent
        self._owns_client = client is None
        self._client = client or httpx.AsyncClient(
            timeout=timeout, transport=BufferedHTTPTransport()
        )

    def _request_bytes(self, route: Route[Any, Any], request: Any) -> bytes:
        return build_envelope(
            to_element(request), action=route.action, to=self.url, reply_to=ANONYMOUS
        )

    async def _send(self, route: Route[Any, Any], request: Any) -> httpx.Response:
        check_url(self.url, route.operation)
        http_request = self._client.build_request(
            "POST",
            self.url,
            content=self._request_bytes(route, request),
            headers=soap_headers(self.user_agent),
        )
        with _translated(route.operation, self.url):
            return await self._client.send(http_request, stream=True)

    async def _read_plain(
        self, response: httpx.Response, route: Route[Any, Any]
    ) -> bytes:
        data = bytearray()
        try:
            with _translated(route.operation, self.url):
                async for chunk in response.aiter_bytes():
                    data += chunk
                    if len(data) > MAX_SOAP_RESPONSE:
                        raise ProtocolError(
                            f"{route.operation}: SOAP response too large"
                        )
        finally:
            await response.aclose()
        return bytes(data)

    async def _open_multipart(
        self, response: httpx.Response, route: Route[Any, Any]
    ) -> tuple[Envelope, mtom.MultipartReader]:
        media, params = mtom.parse_content_type(
            response.headers.get("content-type", "")
        )
        # Through BufferedHTTPTransport the body is read where it lands; through any
        # other httpx transport (a client the caller passed) chunk by chunk.
        window = buffered_body(response)
        reader = mtom.MultipartReader(
            response.aiter_raw() if window is None else window,
            params.get("boundary", ""),
        )
        root = await reader.next_part()
        if root is None:
            raise ProtocolError(f"{route.operation}: empty multipart response")
        envelope = parse_envelope(await mtom.read_all(root.body, mtom.MAX_ROOT_PART))
        return envelope, reader

    def _check_status(
        self,
        response: httpx.Response,
        envelope: Envelope | None,
        route: Route[Any, Any],
    ) -> None:
        if envelope is not None:
            raise_if_fault(envelope, route.faults)
        if response.status_code >= 300:
            raise TransportError(
                f"{route.operation}: HTTP {response.status_code} without a SOAP fault",
                status=response.status_code,
            )

    async def _envelope(
        self, response: httpx.Response, route: Route[Any, Any]
    ) -> Envelope:
        data = await self._read_plain(response, route)
        try:
            return parse_envelope(data)
        except ProtocolError:
            if response.status_code >= 300:
                raise TransportError(
                    f"{route.operation}: HTTP {response.status_code}",
                    status=response.status_code,
                ) from None
            raise

    async def invoke(
        self, route: Route[RequestT, ResponseT], request: RequestT
    ) -> ResponseT:
        response = await self._send(route, request)
        media, _ = mtom.parse_content_type(response.headers.get("content-type", ""))
        if media.startswith("multipart/"):
            # Some stacks answer MTOM to plain requests (device-quirks #31): read the root.
            try:
                with _translated(route.operation, self.url):
                    envelope, _ = await self._open_multipart(response, route)
                _xop_href(envelope)
            finally:
                await response.aclose()
        else:
            envelope = await self._envelope(response, route)
        self._check_status(response, envelope, route)
        return _bind_response(envelope, route)

    async def invoke_with_attachment(
        self, route: Route[RequestT, ResponseT], request: RequestT
    ) -> HttpAttachmentResponse:
        response = await self._send(route, request)
        media, _ = mtom.parse_content_type(response.headers.get("content-type", ""))
        if not media.startswith("multipart/"):
            envelope = await self._envelope(response, route)
            self._check_status(response, envelope, route)
            raise ProtocolError(
                f"{route.operation}: expected an MTOM (multipart) response"
            )
        try:
            with _translated(route.operation, self.url):
                envelope, reader = await self._open_multipart(response, route)
            self._check_status(response, envelope, route)
            href = _xop_href(envelope)
            body = _bind_response(envelope, route)
            with _translated(route.operation, self.url, attachment=True):
                part, chunks = await mtom.find_attachment(reader, href)
        except BaseException:
            await response.aclose()
            raise
        return HttpAttachmentResponse(
            body,
            part.content_type,
            chunks,
            response,
            reader,
            operation=route.operation,
        )

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()

    async def __aenter__(self) -> HttpTransport:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()
