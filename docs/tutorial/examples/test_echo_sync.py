import asyncio
from collections.abc import Iterator

import pytest


async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(await reader.readline())
    writer.close()
    await writer.wait_closed()


async def ask(port: int, line: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(line)
    answer = await reader.readline()
    writer.close()
    await writer.wait_closed()
    return answer


@pytest.fixture
def echo_server(event_loop: asyncio.AbstractEventLoop, unused_tcp_port: int) -> Iterator[int]:
    server = event_loop.run_until_complete(asyncio.start_server(echo, "127.0.0.1", unused_tcp_port))
    yield unused_tcp_port
    server.close()
    event_loop.run_until_complete(server.wait_closed())


def test_echo_from_sync_code(event_loop: asyncio.AbstractEventLoop, echo_server: int) -> None:
    assert event_loop.run_until_complete(ask(echo_server, b"hello\n")) == b"hello\n"
