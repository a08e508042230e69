"""A UDP echo server from ``loop.create_datagram_endpoint`` on a free port."""

from __future__ import annotations

import asyncio
from typing import cast

import pytest


class EchoServer(asyncio.DatagramProtocol):
    """Send every datagram back to where it came from."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # The concrete transport class does not subclass DatagramTransport, so no isinstance.
        self.transport = cast("asyncio.DatagramTransport", transport)

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        self.transport.sendto(data.upper(), addr)


class ReplyCatcher(asyncio.DatagramProtocol):
    """Resolve a future with the first datagram received."""

    def __init__(self) -> None:
        self.reply: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        if not self.reply.done():
            self.reply.set_result(data)

    def error_received(self, exc: Exception) -> None:
        if not self.reply.done():
            self.reply.set_exception(exc)


@pytest.mark.asyncio
async def test_udp_echo(unused_udp_port: int) -> None:
    loop = asyncio.get_running_loop()
    server, _ = await loop.create_datagram_endpoint(
        EchoServer, local_addr=("127.0.0.1", unused_udp_port)
    )
    client, catcher = await loop.create_datagram_endpoint(
        ReplyCatcher, remote_addr=("127.0.0.1", unused_udp_port)
    )
    try:
        client.sendto(b"ping")
        # The timeout only bounds a lost datagram; the reply itself is awaited, not slept for.
        assert await asyncio.wait_for(catcher.reply, timeout=10) == b"PING"
    finally:
        client.close()
        server.close()
