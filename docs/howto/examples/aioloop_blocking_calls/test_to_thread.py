"""The fix: run the blocking call in a worker thread, so that the loop keeps running."""

from __future__ import annotations

import asyncio
import time

import pytest


def read_config_slowly() -> str:
    time.sleep(0.05)
    return "config"


@pytest.mark.asyncio
async def test_blocking_call_in_a_thread() -> None:
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.005)

    ticker = asyncio.create_task(tick())
    assert await asyncio.to_thread(read_config_slowly) == "config"
    ticker.cancel()
    assert ticks > 1, "the loop kept running while the thread waited"
