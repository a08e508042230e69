"""Without an override, every test gets a new loop (the default event_loop fixture)."""

import asyncio

import pytest
import pytest_asyncio

loops = []


@pytest_asyncio.fixture
async def connection():
    reader_side, writer_side = [], []
    loop = asyncio.get_running_loop()
    yield {"loop": loop, "read": reader_side, "write": writer_side}
    assert asyncio.get_running_loop() is loop


@pytest.mark.asyncio
async def test_first(connection):
    loops.append(asyncio.get_running_loop())
    assert connection["loop"] is loops[-1]


@pytest.mark.asyncio
async def test_second(connection):
    loops.append(asyncio.get_running_loop())
    assert connection["loop"] is loops[-1]
    assert loops[0] is not loops[1]
    assert loops[0].is_closed()


def test_sync_with_default_loop(event_loop):
    async def answer():
        await asyncio.sleep(0)
        return 42

    assert event_loop.run_until_complete(answer()) == 42
    assert event_loop not in loops
