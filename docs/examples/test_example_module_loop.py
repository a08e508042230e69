"""One event loop for the whole module, 0.21 style: override ``event_loop`` with module scope.

Every test and async fixture in this module runs in the loop below, so a server started once by a
module-scoped fixture keeps serving every test.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import pytest

import pytest_aioloop

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Iterator


@pytest.fixture(scope="module")
def event_loop() -> Iterator[asyncio.AbstractEventLoop]:
    """Create one loop for every test in this module."""
    # pytest-asyncio 0.21's docs spelled this asyncio.get_event_loop_policy().new_event_loop();
    # asyncio.new_event_loop() is the same loop, without the policy API Python 3.14 deprecates.
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


async def echo_line(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Send each line back until the client closes its side."""
    while line := await reader.readline():
        writer.write(line)
        await writer.drain()
    writer.close()
    await writer.wait_closed()


@pytest_aioloop.fixture(scope="module")
async def echo_server(
    unused_tcp_port_factory: Callable[[], int],
) -> AsyncIterator[asyncio.Server]:
    """Serve ``echo_line`` on a free port for the whole module."""
    server = await asyncio.start_server(echo_line, "127.0.0.1", unused_tcp_port_factory())
    async with server:
        yield server


async def roundtrip(server: asyncio.Server, line: bytes) -> bytes:
    """Connect to ``server``, send ``line`` and return what comes back."""
    (sock,) = server.sockets
    host, port = sock.getsockname()[:2]
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(line)
    reply = await reader.readline()
    writer.close()
    await writer.wait_closed()
    return reply


@pytest.mark.asyncio
async def test_first_connection(
    echo_server: asyncio.Server, event_loop: asyncio.AbstractEventLoop
) -> None:
    assert asyncio.get_running_loop() is event_loop
    assert await roundtrip(echo_server, b"one\n") == b"one\n"


@pytest.mark.asyncio
async def test_same_server_same_loop(
    echo_server: asyncio.Server, event_loop: asyncio.AbstractEventLoop
) -> None:
    assert echo_server.get_loop() is asyncio.get_running_loop() is event_loop
    assert echo_server.is_serving()
    assert await roundtrip(echo_server, b"two\n") == b"two\n"


def test_sync_test_in_the_module_loop(
    echo_server: asyncio.Server, event_loop: asyncio.AbstractEventLoop
) -> None:
    assert event_loop.run_until_complete(roundtrip(echo_server, b"three\n")) == b"three\n"
