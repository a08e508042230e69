"""Each test runs once per loop factory; its id says which (``[asyncio]`` or ``[uvloop]``)."""

from __future__ import annotations

import asyncio

import pytest

import pytest_aioloop


@pytest_aioloop.fixture
async def queue() -> asyncio.Queue[int]:
    return asyncio.Queue()


@pytest.mark.asyncio
async def test_runs_on_each_loop(request: pytest.FixtureRequest) -> None:
    loop = asyncio.get_running_loop()
    on_uvloop = type(loop).__module__.startswith("uvloop")
    assert on_uvloop == request.node.name.endswith("[uvloop]")


@pytest.mark.asyncio
async def test_fixtures_share_the_test_loop(queue: asyncio.Queue[int]) -> None:
    await queue.put(1)
    assert await queue.get() == 1


@pytest.mark.asyncio(loop_factories=["uvloop"])
async def test_only_on_uvloop() -> None:
    """Select factories by name; where uvloop is missing, this test is skipped."""
    assert type(asyncio.get_running_loop()).__module__.startswith("uvloop")
