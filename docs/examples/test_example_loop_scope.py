"""One event loop for the whole module, 1.x style: ``loop_scope`` on the marker and fixture.

Nothing is overridden: the marker on the module and the fixture's ``loop_scope`` ask for the
module's loop, and the module-scoped server lives in it.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import pytest

import pytest_aioloop

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def count_bytes(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Answer each line with the number of bytes it had, newline excluded."""
    while line := await reader.readline():
        writer.write(b"%d\n" % len(line.rstrip(b"\n")))
        await writer.drain()
    writer.close()
    await writer.wait_closed()


@pytest_aioloop.fixture(scope="module", loop_scope="module")
async def counter(
    unused_tcp_port_factory: Callable[[], int],
) -> AsyncIterator[tuple[asyncio.StreamReader, asyncio.StreamWriter]]:
    """Start the server and open one connection that every test in the module shares."""
    port = unused_tcp_port_factory()
    server = await asyncio.start_server(count_bytes, "127.0.0.1", port)
    async with server:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        yield reader, writer
        writer.close()
        await writer.wait_closed()


async def ask(conn: tuple[asyncio.StreamReader, asyncio.StreamWriter], line: bytes) -> int:
    """Send one line on the shared connection and read the answer."""
    reader, writer = conn
    writer.write(line + b"\n")
    await writer.drain()
    return int(await reader.readline())


async def test_short_line(counter: tuple[asyncio.StreamReader, asyncio.StreamWriter]) -> None:
    assert await ask(counter, b"abc") == 3


async def test_same_connection_later(
    counter: tuple[asyncio.StreamReader, asyncio.StreamWriter],
) -> None:
    # The connection was opened in another test's lifetime: it only works because both tests
    # and the fixture share the module's loop.
    assert await ask(counter, b"a longer line") == 13
