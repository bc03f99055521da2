"""The buffered network layer under HttpTransport (runtime/transport/netstream.py): response
bodies read in place from the connection's buffer, correctness only (its speed is in
benchmarks/mtom.py).

Stand-in devices on 127.0.0.1 answer with every body framing (Content-Length,
chunked with odd chunk sizes, extensions and trailers, close-delimited, after a
``100 Continue``), sent in pieces that cut the stream at awkward places; the image
must arrive byte for byte through the in-place window. Also: a plain exchange keeps
its connection alive while one read in place does not, an idle connection the server
closed is not reused, cuts and resets and stalls in each framing become the typed
errors, a bad chunk size is a ProtocolError, and TLS works through the same layer.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import shutil
import socket
import ssl
import struct
import subprocess
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

import httpx
import pytest
from test_mtom import DOC, ROOT_HEADERS, _message, _part, _payload, _soap_reply
from wsdscan.generated import ScannerServiceClient
from wsdscan.runtime import mtom
from wsdscan.runtime.errors import (
    ProtocolError,
    TransportError,
    TruncatedAttachmentError,
)
from wsdscan.runtime.transport import HttpTransport
from wsdscan.runtime.transport.netstream import (
    BufferedHTTPTransport,
    BufferedNetworkStream,
    buffered_body,
)

BOUNDARY = "uuid:4f2e-bnd"
CONTENT_TYPE = (
    f'multipart/related; type="application/xop+xml"; boundary="{BOUNDARY}"; '
    'start="<root@device>"; start-info="application/soap+xml"'
)


REPLY = _soap_reply("cid:img@device")


def _mtom_body(payload: bytes) -> bytes:
    return _message(
        BOUNDARY,
        [
            _part(ROOT_HEADERS, REPLY),
            _part(["Content-Type: image/png", "Content-ID: <img@device>"], payload),
        ],
    )


def _chunked(
    body: bytes,
    sizes: Sequence[int],
    *,
    extension: bytes = b"",
    trailers: bytes = b"",
    eol: bytes = b"\r\n",
) -> bytes:
    """``body`` in chunks of the given sizes (cycled), then the last chunk."""
    out = bytearray()
    position = 0
    index = 0
    while position < len(body):
        size = sizes[index % len(sizes)]
        index += 1
        piece = body[position : position + size]
        position += size
        out += b"%x" % len(piece) + extension + eol + piece + eol
    return bytes(out + b"0" + extension + eol + trailers + eol)


def _pieces(data: bytes, seed: int) -> list[bytes]:
    """``data`` cut at random places, a few bytes to a few hundred KiB apart."""
    rng = random.Random(seed)
    out = []
    position = 0
    while position < len(data):
        size = rng.choice([1, 2, 5, 17, 1000, 4096, 65536, 200_000])
        out.append(data[position : position + size])
        position += size
    return out


Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def _read_request(reader: asyncio.StreamReader) -> bool:
    """Read one request (head and Content-Length body); False at end of stream."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return False
    length = 0
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    await reader.readexactly(length)
    return True


def _device(
    head: bytes, body_pieces: Sequence[bytes], *, then: str = "close"
) -> Handler:
    """A raw device: answers each request with ``head`` and the body pieces, each
    written and drained on its own (so reads end at awkward places); then closes,
    resets (``reset``) or stalls (``stall``)."""

    async def handle(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        try:
            if not await _read_request(reader):
                return
            writer.write(head)
            for piece in body_pieces:
                writer.write(piece)
                await writer.drain()
                await asyncio.sleep(0)
            if then == "stall":
                await asyncio.sleep(30)
            elif then == "reset":
                sock = writer.get_extra_info("socket")
                sock.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                )
                writer.transport.abort()
                return
        finally:
            writer.close()

    return handle


async def _serve(
    handler: Handler, ssl_context: ssl.SSLContext | None = None
) -> tuple[asyncio.Server, int]:
    server = await asyncio.start_server(handler, "127.0.0.1", 0, ssl=ssl_context)
    return server, server.sockets[0].getsockname()[1]


def _head(*headers: str, status: str = "200 OK") -> bytes:
    lines = [f"HTTP/1.1 {status}", f"Content-Type: {CONTENT_TYPE}", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def _read_in_place(url: str, client: httpx.AsyncClient) -> tuple[bytes, bytes]:
    """POST, then read the multipart body through the in-place window (asserting
    that it is one): the root part and the image."""
    async with client.stream("POST", url, content=b"<request/>") as response:
        window = buffered_body(response)
        assert window is not None, "the body was not left unread in the buffer"
        reader = mtom.MultipartReader(window, BOUNDARY)
        root = await reader.next_part()
        assert root is not None
        xml = await mtom.read_all(root.views, mtom.MAX_ROOT_PART)
        image = await reader.next_part()
        assert image is not None
        data = bytearray()
        async for view in image.views:
            data += view
        assert await reader.next_part() is None and reader.finished
        return xml, bytes(data)


async def _fetch_in_place(
    handler: Handler,
    server_tls: ssl.SSLContext | None = None,
    client_tls: ssl.SSLContext | None = None,
) -> bytes:
    """Serve ``handler`` (over TLS with a server context) and read its reply in
    place through BufferedHTTPTransport; checks the SOAP part, returns the image."""
    server, port = await _serve(handler, server_tls)
    scheme = "https" if server_tls else "http"
    transport = BufferedHTTPTransport(verify=client_tls or True)
    try:
        async with httpx.AsyncClient(transport=transport) as client:
            xml, data = await _read_in_place(f"{scheme}://127.0.0.1:{port}/", client)
    finally:
        server.close()
        await server.wait_closed()
    assert xml == REPLY
    return data


FRAMINGS = {
    "content-length": lambda body: (_head(f"Content-Length: {len(body)}"), body),
    "close-delimited": lambda body: (_head("Connection: close"), body),
    "chunked odd sizes": lambda body: (
        _head("Transfer-Encoding: chunked"),
        _chunked(body, [1, 7, 4093, 65536, 3, 100_000]),
    ),
    "chunked, extensions and trailers": lambda body: (
        _head("Transfer-Encoding: chunked"),
        _chunked(body, [999], extension=b";name=value", trailers=b"X-Sum: 1\r\n"),
    ),
    "chunked, LF-only chunk lines": lambda body: (
        _head("Transfer-Encoding: chunked"),
        _chunked(body, [5000, 13], eol=b"\n"),
    ),
    "after 100 Continue": lambda body: (
        b"HTTP/1.1 100 Continue\r\n\r\n" + _head(f"Content-Length: {len(body)}"),
        body,
    ),
}


@pytest.mark.parametrize("framing", sorted(FRAMINGS))
@pytest.mark.parametrize("size", [0, 1, 4095, 1_000_003, 3 * 1024 * 1024 + 5])
async def test_every_framing_is_read_in_place_exactly(framing: str, size: int) -> None:
    payload = _payload(size, seed=size % 97)
    head, body = FRAMINGS[framing](_mtom_body(payload))
    assert await _fetch_in_place(_device(head, _pieces(body, seed=size))) == payload


def _paced_device(head: bytes, pieces: Sequence[bytes]) -> Handler:
    """Like ``_device``, but waits 20 ms after each piece, so that the client has
    received (and searched) it before the next arrives."""

    async def handle(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        try:
            if await _read_request(reader):
                writer.write(head)
                for piece in pieces:
                    writer.write(piece)
                    await writer.drain()
                    await asyncio.sleep(0.02)
        finally:
            writer.close()

    return handle


@pytest.mark.parametrize("chunked", [False, True])
async def test_the_closing_delimiter_split_at_every_byte(chunked: bool) -> None:
    """The body arrives in two reads cut at every offset around the CRLF and the
    closing delimiter after the image: the in-place search still finds it."""
    payload = _payload(5000, seed=21)
    body = _mtom_body(payload)
    end = body.rindex(b"\r\n--" + BOUNDARY.encode())
    if chunked:  # one chunk: the data starts after its size line
        head = _head("Transfer-Encoding: chunked")
        framed = _chunked(body, [len(body)])
        data_start = len(b"%x\r\n" % len(body))
    else:
        head, framed, data_start = _head(f"Content-Length: {len(body)}"), body, 0
    for offset in range(-3, len(b"\r\n--" + BOUNDARY.encode() + b"--\r\n") + 1):
        cut = data_start + end + offset
        handler = _paced_device(head, [framed[:cut], framed[cut:]])
        assert await _fetch_in_place(handler) == payload, offset


async def test_http_transport_reads_retrieve_image_in_place(tmp_path: Path) -> None:
    """HttpTransport's own client goes through the buffered layer, and ``save``
    writes exactly the image."""
    payload = _payload(2_000_001, seed=5)
    body = _mtom_body(payload)
    server, port = await _serve(
        _device(_head(f"Content-Length: {len(body)}"), _pieces(body, seed=2))
    )
    seen: list[object] = []
    try:
        async with HttpTransport(f"http://127.0.0.1:{port}/") as transport:

            async def spy(response: httpx.Response) -> None:
                seen.append(response.extensions.get("network_stream"))

            transport.soap.http.event_hooks["response"].append(spy)
            result = await ScannerServiceClient(transport).retrieve_image(
                job_id=1, job_token="t", document_description=DOC
            )
            assert await result.save(tmp_path / "page.png") == len(payload)
    finally:
        server.close()
        await server.wait_closed()
    assert (tmp_path / "page.png").read_bytes() == payload
    assert len(seen) == 1 and isinstance(seen[0], BufferedNetworkStream)


@pytest.mark.parametrize("framing", ["content-length", "chunked odd sizes"])
async def test_a_client_of_ones_own_reads_through_httpx(
    framing: str, tmp_path: Path
) -> None:
    """With the caller's own httpx client (no buffered layer) the body is read
    through httpx: the same bytes, by the other path."""
    payload = _payload(700_001, seed=13)
    head, body = FRAMINGS[framing](_mtom_body(payload))
    server, port = await _serve(_device(head, _pieces(body, seed=7)))
    try:
        async with httpx.AsyncClient() as client:
            url = f"http://127.0.0.1:{port}/"
            async with HttpTransport(url, client=client) as transport:
                result = await ScannerServiceClient(transport).retrieve_image(
                    job_id=1, job_token="t", document_description=DOC
                )
                stream = result._response.extensions.get("network_stream")
                assert not isinstance(stream, BufferedNetworkStream)
                await result.save(tmp_path / "page.png")
    finally:
        server.close()
        await server.wait_closed()
    assert (tmp_path / "page.png").read_bytes() == payload


# -- connection reuse ------------------------------------------------------------------


def _counting_device(
    answer: Callable[[], tuple[bytes, bytes]]
) -> tuple[Handler, list[int]]:
    """Answers every request on a connection (keep-alive) and counts connections."""
    connections: list[int] = []

    async def handle(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        connections.append(1)
        try:
            while await _read_request(reader):
                head, body = answer()
                writer.write(head + body)
                await writer.drain()
        finally:
            writer.close()

    return handle, connections


async def test_plain_replies_keep_the_connection_and_in_place_reads_close_it() -> None:
    plain = b"<reply/>"
    multipart = _mtom_body(_payload(70_000))
    mode = ["plain"]

    def answer() -> tuple[bytes, bytes]:
        if mode[0] == "plain":
            head = (
                b"HTTP/1.1 200 OK\r\nContent-Type: application/soap+xml\r\n"
                b"Content-Length: %d\r\n\r\n" % len(plain)
            )
            return head, plain
        return _head(f"Content-Length: {len(multipart)}"), multipart

    handler, connections = _counting_device(answer)
    server, port = await _serve(handler)
    url = f"http://127.0.0.1:{port}/"
    try:
        async with httpx.AsyncClient(transport=BufferedHTTPTransport()) as client:
            for _ in range(3):
                response = await client.post(url, content=b"<request/>")
                assert response.content == plain
            assert len(connections) == 1  # kept alive
            mode[0] = "multipart"
            _, data = await _read_in_place(url, client)
            assert len(data) == 70_000
            mode[0] = "plain"
            response = await client.post(url, content=b"<request/>")
            assert response.content == plain
            # read in place, h11 never saw the body end: that connection was closed
            assert len(connections) == 2
    finally:
        server.close()
        await server.wait_closed()


async def test_an_idle_connection_the_server_closed_is_not_reused() -> None:
    connections: list[int] = []

    async def handle(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        connections.append(1)
        if await _read_request(reader):
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            await writer.drain()
        writer.close()  # no keep-alive, without saying so

    server, port = await _serve(handle)
    url = f"http://127.0.0.1:{port}/"
    try:
        async with httpx.AsyncClient(transport=BufferedHTTPTransport()) as client:
            for _ in range(3):
                assert (await client.post(url, content=b"x")).content == b"ok"
                await asyncio.sleep(0.05)  # the FIN arrives while the connection idles
    finally:
        server.close()
        await server.wait_closed()
    assert len(connections) == 3


# -- cuts, resets, stalls, bad framing -------------------------------------------------


CUT_FRAMINGS = ["content-length", "chunked odd sizes"]


async def _save_from(
    handler: Handler,
    target: Path,
    timeout: float = 30.0,
    client: httpx.AsyncClient | None = None,
) -> int:
    """Retrieve an image from ``handler`` and save it at ``target``."""
    server, port = await _serve(handler)
    try:
        url = f"http://127.0.0.1:{port}/"
        async with HttpTransport(url, timeout=timeout, client=client) as transport:
            result = await ScannerServiceClient(transport).retrieve_image(
                job_id=1, job_token="t", document_description=DOC
            )
            return await result.save(target)
    finally:
        server.close()
        await server.wait_closed()


async def _save_fails(
    handler: Handler,
    folder: Path,
    expected: type[Exception] | tuple[type[Exception], ...],
    timeout: float = 30.0,
    client: httpx.AsyncClient | None = None,
) -> Exception:
    """Retrieve an image from ``handler`` and save it: that must raise ``expected``
    (returned) and leave nothing in ``folder``."""
    with pytest.raises(expected) as caught:
        await _save_from(handler, folder / "page.png", timeout, client)
    assert list(folder.iterdir()) == []
    return caught.value


@pytest.mark.parametrize("then", ["close", "reset"])
@pytest.mark.parametrize("framing", CUT_FRAMINGS)
async def test_a_cut_in_the_image_is_a_truncated_attachment(
    framing: str, then: str, tmp_path: Path
) -> None:
    head, body = FRAMINGS[framing](_mtom_body(_payload(600_000, seed=11)))
    cut = body[: len(body) - 300_000]  # in the middle of the image
    handler = _device(head, _pieces(cut, seed=3), then=then)
    error = await _save_fails(handler, tmp_path, TruncatedAttachmentError)
    expected = httpx.ReadError if then == "reset" else httpx.RemoteProtocolError
    assert isinstance(error.__cause__, expected)


@pytest.mark.parametrize("then", ["close", "reset"])
async def test_a_cut_in_the_soap_part_is_a_transport_error(
    then: str, tmp_path: Path
) -> None:
    body = _mtom_body(b"image")
    cut = body[: len(b"--" + BOUNDARY.encode()) + 200]
    handler = _device(_head(f"Content-Length: {len(body)}"), [cut], then=then)
    error = await _save_fails(handler, tmp_path, TransportError)
    assert not isinstance(error, TruncatedAttachmentError)


@pytest.mark.parametrize("framing", CUT_FRAMINGS)
async def test_a_stall_in_the_image_times_out(framing: str, tmp_path: Path) -> None:
    head, body = FRAMINGS[framing](_mtom_body(_payload(300_000, seed=4)))
    handler = _device(head, [body[: len(body) // 2]], then="stall")
    error = await _save_fails(handler, tmp_path, TruncatedAttachmentError, timeout=0.5)
    assert isinstance(error.__cause__, httpx.ReadTimeout)


@pytest.mark.parametrize("size", [b"not-hex", b"-4", b"+a", b"0x10", b"1_0"])
async def test_a_bad_chunk_size_is_a_protocol_error(
    size: bytes, tmp_path: Path
) -> None:
    """Hex digits only: a sign once moved the decoder back onto its own size line
    and froze the event loop."""
    body = _mtom_body(_payload(50_000))
    framed = b"7530\r\n" + body[:30_000] + b"\r\n" + size + b"\r\n" + body[30_000:]
    handler = _device(_head("Transfer-Encoding: chunked"), [framed])
    # raised where the bad line is decoded: maybe before the image part
    error = await _save_fails(handler, tmp_path, ProtocolError)
    assert "chunk size" in str(error)


# -- TLS -------------------------------------------------------------------------------


def _self_signed(folder: Path) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        if os.environ.get("WSDSCAN_REQUIRE_INTEROP") == "1":
            pytest.fail("openssl is required (WSDSCAN_REQUIRE_INTEROP=1)")
        pytest.skip("openssl (Debian: openssl) makes the test certificate")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
            "-keyout", str(key), "-out", str(cert), "-days", "1",
            "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


async def test_tls_through_the_buffered_layer(tmp_path: Path) -> None:
    cert, key = _self_signed(tmp_path)
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert, key)
    client_context = ssl.create_default_context(cafile=str(cert))
    payload = _payload(1_500_000, seed=8)
    body = _mtom_body(payload)
    handler = _device(_head(f"Content-Length: {len(body)}"), _pieces(body, seed=6))
    assert await _fetch_in_place(handler, server_context, client_context) == payload


@pytest.mark.parametrize(
    ("method", "status"),
    [("HEAD", "200 OK"), ("POST", "204 No Content"), ("POST", "304 Not Modified")],
)
async def test_a_response_without_a_body_has_no_window(
    method: str, status: str
) -> None:
    """HEAD, 204 and 304 have no body whatever their headers say (RFC 9112 6.3)."""

    async def handle(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        await _read_request(reader)
        writer.write(_head("Content-Length: 100", status=status))
        await writer.drain()
        await asyncio.sleep(2)
        writer.close()

    server, port = await _serve(handle)
    try:
        async with httpx.AsyncClient(transport=BufferedHTTPTransport()) as client:
            content = None if method == "HEAD" else b"x"
            request = client.build_request(
                method, f"http://127.0.0.1:{port}/", content=content
            )
            response = await client.send(request, stream=True)
            assert buffered_body(response) is None
            await response.aclose()
    finally:
        server.close()
        await server.wait_closed()


async def test_a_reset_before_the_body_is_opened_is_a_typed_error(
    tmp_path: Path,
) -> None:
    """The reset is processed while an (async) response hook runs, before the body
    window is opened: a typed error, not a BufferError from a buffer that the reset's
    traceback still held a view of."""
    body = _mtom_body(_payload(100_000))
    head = _head(f"Content-Length: {len(body)}")

    async def hook(response: httpx.Response) -> None:
        await asyncio.sleep(0.2)

    handler = _device(head, [body[:5000]], then="reset")
    hooks = {"response": [hook]}
    transport = BufferedHTTPTransport()
    async with httpx.AsyncClient(transport=transport, event_hooks=hooks) as client:
        expected = (TransportError, TruncatedAttachmentError)
        await _save_fails(handler, tmp_path, expected, client=client)


def _blocking_tls_server(
    context: ssl.SSLContext, reply: bytes, *, answer_at_once: bool
) -> int:
    """A TLS server in a thread (blocking sockets, as a device's stack might be): it
    sends ``reply`` after the request, or at once after the handshake, then closes
    without a TLS close_notify. Returns its port."""
    listener = socket.create_server(("127.0.0.1", 0))

    def run() -> None:
        with listener:
            raw, _ = listener.accept()
            raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with context.wrap_socket(raw, server_side=True) as conn:
                if not answer_at_once:
                    received = b""
                    while b"\r\n\r\n" not in received:
                        received += conn.recv(65536)
                conn.sendall(reply)
                conn.shutdown(socket.SHUT_WR)  # a FIN, no close_notify
                conn.settimeout(5)
                with contextlib.suppress(OSError):
                    while conn.recv(65536):
                        pass

    threading.Thread(target=run, daemon=True).start()
    return int(listener.getsockname()[1])


@pytest.mark.parametrize("framing", ["content-length", "close-delimited"])
async def test_tls_reply_then_close_without_close_notify(
    framing: str, tmp_path: Path
) -> None:
    """A 300 KB plain reply over TLS, then a bare FIN: all of it arrives (asyncio's SSL
    layer dropped what did not fit a buffered protocol's buffer at that point)."""
    cert, key = _self_signed(tmp_path)
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert, key)
    body = bytes(range(256)) * 1200
    length = f"Content-Length: {len(body)}\r\n" if framing == "content-length" else ""
    reply = (
        "HTTP/1.1 200 OK\r\nContent-Type: application/soap+xml\r\n"
        f"{length}Connection: close\r\n\r\n"
    ).encode() + body
    port = _blocking_tls_server(server_context, reply, answer_at_once=False)
    transport = BufferedHTTPTransport(
        verify=ssl.create_default_context(cafile=str(cert))
    )
    async with httpx.AsyncClient(transport=transport, timeout=5) as client:
        response = await client.post(f"https://127.0.0.1:{port}/", content=b"<r/>")
    assert response.content == body


@pytest.mark.parametrize("tls12", [True, False])
async def test_tls_reply_arriving_with_the_end_of_the_handshake(
    tls12: bool, tmp_path: Path
) -> None:
    """The server answers as soon as the handshake ends, while the event loop is busy
    elsewhere: the reply reaches the receiver before start_tls returns, and reading
    must still go on afterwards (it was paused on the replaced transport)."""
    cert, key = _self_signed(tmp_path)
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert, key)
    if tls12:
        server_context.maximum_version = ssl.TLSVersion.TLSv1_2
    body = bytes(range(256)) * 800
    reply = (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/soap+xml\r\n"
        b"Content-Length: %d\r\n\r\n" % len(body)
    ) + body
    port = _blocking_tls_server(server_context, reply, answer_at_once=True)
    stop = asyncio.Event()

    async def busy() -> None:  # other work in the loop, in blocking slices
        while not stop.is_set():
            time.sleep(0.02)
            await asyncio.sleep(0)

    other = asyncio.create_task(busy())
    try:
        transport = BufferedHTTPTransport(
            verify=ssl.create_default_context(cafile=str(cert))
        )
        async with httpx.AsyncClient(transport=transport, timeout=3) as client:
            response = await client.post(f"https://127.0.0.1:{port}/", content=b"<r/>")
        assert response.content == body
    finally:
        stop.set()
        await other
