"""Sockets the server accepts have TCP_NODELAY: a response goes out as headers then body,
and with Nagle's algorithm the body would wait for the client's delayed ACK (about
40 ms a request, measured before the fix)."""

from __future__ import annotations

import asyncio
import socket

from wsdscan.runtime.server import bind_socket


def test_listening_socket_says_it_is_tcp() -> None:
    sock = bind_socket("127.0.0.1", 0)
    try:
        # asyncio sets TCP_NODELAY only on sockets whose proto is IPPROTO_TCP.
        assert sock.proto == socket.IPPROTO_TCP
    finally:
        sock.close()


async def test_accepted_connections_have_tcp_nodelay() -> None:
    seen: list[int] = []

    class Record(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            accepted = transport.get_extra_info("socket")
            seen.append(accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            transport.close()

    listener = bind_socket("127.0.0.1", 0)
    server = await asyncio.get_running_loop().create_server(Record, sock=listener)
    try:
        port = listener.getsockname()[1]
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        for _ in range(100):
            if seen:
                break
            await asyncio.sleep(0.01)
        writer.close()
    finally:
        server.close()
        await server.wait_closed()
    assert seen and seen[0] != 0
