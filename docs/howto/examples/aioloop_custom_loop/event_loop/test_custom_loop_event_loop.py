"""The pytest-asyncio 0.21 way: override ``event_loop`` (here for one module)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

import pytest_aioloop

from ..tracing_loop import TracingLoop


@pytest.fixture(scope="module")
def event_loop() -> Iterator[TracingLoop]:
    """Run every test and async fixture of this module in one TracingLoop."""
    loop = TracingLoop()
    yield loop
    loop.close()


@pytest_aioloop.fixture(scope="module")
async def background() -> asyncio.Task[None]:
    return asyncio.create_task(asyncio.sleep(0), name="background")


@pytest.mark.asyncio
async def test_in_the_custom_loop(background: asyncio.Task[None], event_loop: TracingLoop) -> None:
    assert asyncio.get_running_loop() is event_loop
    await background
    assert "background" in event_loop.task_names()


def test_sync_tests_drive_it_with_run_until_complete(event_loop: TracingLoop) -> None:
    event_loop.run_until_complete(asyncio.sleep(0))
    assert "background" in event_loop.task_names(), "same module, same loop"
