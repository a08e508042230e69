"""Two ways not to leak: stop the task in the test, or own it in a fixture."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest

import pytest_aioloop


async def heartbeat(beats: list[float]) -> None:
    while True:
        beats.append(asyncio.get_running_loop().time())
        await asyncio.sleep(0.01)


@pytest.mark.asyncio
async def test_cancels_what_it_started() -> None:
    beats: list[float] = []
    task = asyncio.create_task(heartbeat(beats))
    await asyncio.sleep(0.02)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert beats


@pytest_aioloop.fixture
async def beating() -> AsyncIterator[list[float]]:
    """Run the heartbeat while the test runs; a fixture's tasks are not the test's leaks."""
    beats: list[float] = []
    task = asyncio.create_task(heartbeat(beats))
    yield beats
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


@pytest.mark.asyncio
async def test_uses_a_fixture_that_owns_the_task(beating: list[float]) -> None:
    await asyncio.sleep(0.02)
    assert beating
