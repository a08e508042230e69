"""An hour of sleeping, retries with back-off and timeouts, all without waiting."""

from __future__ import annotations

import asyncio
import itertools
import time

import pytest


@pytest.mark.asyncio
async def test_an_hour_passes_at_once() -> None:
    loop = asyncio.get_running_loop()
    started, wall = loop.time(), time.monotonic()
    await asyncio.sleep(3600)
    assert loop.time() - started >= 3600
    assert time.monotonic() - wall < 1


async def fetch_with_retries(attempts: list[float]) -> str:
    """Fail twice, backing off 10 s then 20 s, then succeed."""
    loop = asyncio.get_running_loop()
    for backoff in (10, 20, 40):
        attempts.append(loop.time())
        if len(attempts) == 3:
            return "ok"
        await asyncio.sleep(backoff)
    raise AssertionError("unreachable")


@pytest.mark.asyncio
async def test_backoff_schedule() -> None:
    attempts: list[float] = []
    assert await fetch_with_retries(attempts) == "ok"
    gaps = [round(later - earlier) for earlier, later in itertools.pairwise(attempts)]
    assert gaps == [10, 20]


@pytest.mark.asyncio
async def test_timeouts_fire_in_virtual_time() -> None:
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(asyncio.Event().wait(), timeout=300)


async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(await reader.readline())
    await writer.drain()
    writer.close()


@pytest.mark.asyncio
async def test_real_io_still_works() -> None:
    """While a socket is being waited on and no timer is due, the loop waits as usual."""
    async with await asyncio.start_server(echo, "127.0.0.1", 0) as server:
        host, port = server.sockets[0].getsockname()[:2]
        reader, writer = await asyncio.open_connection(host, port)
        writer.write(b"ping\n")
        assert await reader.readline() == b"ping\n"
        writer.close()
        await writer.wait_closed()


@pytest.mark.asyncio(timeout=0)
async def test_no_plugin_timeout_for_long_virtual_waits() -> None:
    """pytest-aioloop's timeout is a timer of the loop: it would expire in virtual time too."""
    await asyncio.sleep(24 * 3600)
