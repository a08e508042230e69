"""A pytest-asyncio 0.21 module, unchanged but for the import name."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest

import pytest_aioloop  # was: import pytest_asyncio


@pytest.fixture(scope="module")
def event_loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


@pytest_aioloop.fixture(scope="module")  # was: @pytest_asyncio.fixture(scope="module")
async def queue() -> AsyncIterator[asyncio.Queue[str]]:
    yield asyncio.Queue()


@pytest.mark.asyncio
async def test_put(queue: asyncio.Queue[str], event_loop: asyncio.AbstractEventLoop) -> None:
    assert asyncio.get_running_loop() is event_loop
    await queue.put("hello")
    assert await queue.get() == "hello"


def test_sync_test_drives_the_loop(
    queue: asyncio.Queue[str], event_loop: asyncio.AbstractEventLoop
) -> None:
    event_loop.run_until_complete(queue.put("sync"))
    assert queue.get_nowait() == "sync"
