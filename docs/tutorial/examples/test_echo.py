import asyncio

import pytest


async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(await reader.readline())
    writer.close()
    await writer.wait_closed()


@pytest.mark.asyncio
async def test_echo_server(unused_tcp_port: int) -> None:
    async with await asyncio.start_server(echo, "127.0.0.1", unused_tcp_port):
        reader, writer = await asyncio.open_connection("127.0.0.1", unused_tcp_port)
        writer.write(b"hello\n")
        assert await reader.readline() == b"hello\n"
        writer.close()
        await writer.wait_closed()
