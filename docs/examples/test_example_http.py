"""HTTP over TCP: a tiny HTTP/1.1 server from ``asyncio.start_server`` on a free port.

Three ways to reach the same server: a coroutine test, a synchronous test that drives the
``event_loop`` fixture with ``run_until_complete``, and a server started on an already bound
socket, so that no other process can take the port between choosing it and listening on it.
"""

from __future__ import annotations

import asyncio
import urllib.parse
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    import socket
    from collections.abc import Iterator

BODY = b"hello from aiokit\n"


async def handle_http(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Answer one HTTP/1.1 request with ``200 OK`` and a short plain-text body."""
    request_line = await reader.readline()
    while await reader.readline() not in (b"\r\n", b"\n", b""):
        pass  # skip the request headers
    method = request_line.split(b" ", 1)[0]
    status = b"200 OK" if method == b"GET" else b"405 Method Not Allowed"
    writer.write(
        b"HTTP/1.1 " + status + b"\r\n"
        b"Content-Type: text/plain\r\n"
        b"Content-Length: " + str(len(BODY)).encode() + b"\r\n"
        b"Connection: close\r\n"
        b"\r\n" + BODY
    )
    await writer.drain()
    writer.close()
    await writer.wait_closed()


async def http_client(url: str, method: str = "GET") -> bytes:
    """Send one request to ``url`` and return the whole raw response."""
    parts = urllib.parse.urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(
        f"{method} {parts.path or '/'} HTTP/1.1\r\n"
        f"Host: {host}:{port}\r\n"
        "Connection: close\r\n\r\n".encode()
    )
    await writer.drain()
    response = await reader.read()  # the server closes the connection after answering
    writer.close()
    await writer.wait_closed()
    return response


@pytest.mark.asyncio
async def test_get_returns_200(unused_tcp_port: int) -> None:
    server = await asyncio.start_server(handle_http, "127.0.0.1", unused_tcp_port)
    async with server:
        resp = await http_client(f"http://127.0.0.1:{unused_tcp_port}/")
    assert resp.startswith(b"HTTP/1.1 200 OK\r\n")
    assert resp.endswith(b"\r\n\r\n" + BODY)


@pytest.mark.asyncio
async def test_post_is_refused(unused_tcp_port: int) -> None:
    server = await asyncio.start_server(handle_http, "127.0.0.1", unused_tcp_port)
    async with server:
        resp = await http_client(f"http://127.0.0.1:{unused_tcp_port}/", method="POST")
    assert resp.startswith(b"HTTP/1.1 405 Method Not Allowed\r\n")


@pytest.fixture
def http_server(
    event_loop: asyncio.AbstractEventLoop, unused_tcp_port: int
) -> Iterator[asyncio.AbstractServer]:
    """Serve ``handle_http`` on ``unused_tcp_port`` in the test's event loop."""
    server = event_loop.run_until_complete(
        asyncio.start_server(handle_http, "127.0.0.1", unused_tcp_port)
    )
    yield server
    server.close()
    event_loop.run_until_complete(server.wait_closed())


# The server accepts connections whenever the loop runs, here inside run_until_complete.
@pytest.mark.usefixtures("http_server")
def test_http_client(event_loop: asyncio.AbstractEventLoop, unused_tcp_port: int) -> None:
    resp = event_loop.run_until_complete(http_client(f"http://127.0.0.1:{unused_tcp_port}/"))
    assert b"HTTP/1.1 200 OK" in resp


@pytest.mark.asyncio
async def test_server_on_bound_socket(unused_tcp_socket: socket.socket) -> None:
    # The socket is bound already: start_server listens on it, so there is no window in which
    # another process could take the port.
    host, port = unused_tcp_socket.getsockname()[:2]
    server = await asyncio.start_server(handle_http, sock=unused_tcp_socket)
    async with server:
        resp = await http_client(f"http://{host}:{port}/")
    assert resp.startswith(b"HTTP/1.1 200 OK\r\n")
