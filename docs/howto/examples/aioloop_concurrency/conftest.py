"""A local server that answers each line after 10 ms, started once for the session."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest_aioloop


async def slow_echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Answer each line after 10 ms, like a service that takes a while."""
    while line := await reader.readline():
        await asyncio.sleep(0.01)
        writer.write(line)
        await writer.drain()
    writer.close()


@pytest_aioloop.fixture(scope="session")
async def server_port() -> AsyncIterator[int]:
    """Start the server once; every test talks to it."""
    server = await asyncio.start_server(slow_echo, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()


@pytest_aioloop.fixture
async def connection(
    server_port: int,
) -> AsyncIterator[tuple[asyncio.StreamReader, asyncio.StreamWriter]]:
    """Give each test a connection of its own."""
    reader, writer = await asyncio.open_connection("127.0.0.1", server_port)
    yield reader, writer
    writer.close()
    await writer.wait_closed()
