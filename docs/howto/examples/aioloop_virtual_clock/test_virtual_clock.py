"""Retries with back-off, timeouts and an hour of sleep, in virtual time."""

from __future__ import annotations

import asyncio

import pytest

from pytest_aioloop import VirtualClock


async def fetch_with_retries(attempts: list[float]) -> str:
    """Fail twice, backing off 10 s then 20 s, then succeed."""
    loop = asyncio.get_running_loop()
    for backoff in (10, 20, 40):
        attempts.append(loop.time())
        if len(attempts) == 3:
            return "ok"
        await asyncio.sleep(backoff)
    raise AssertionError("unreachable")


@pytest.mark.asyncio(virtual_time=True, timeout=10)  # the timeout counts real seconds
async def test_an_hour_passes_at_once() -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    await asyncio.sleep(3600)
    assert loop.time() - started >= 3600


@pytest.mark.asyncio(timeout=10)
async def test_backoff_schedule(virtual_clock: VirtualClock) -> None:
    attempts: list[float] = []
    assert await fetch_with_retries(attempts) == "ok"
    first, second, third = attempts
    assert second - first == pytest.approx(10, abs=0.01)
    assert third - second == pytest.approx(20, abs=0.01)


@pytest.mark.asyncio(timeout=10)
async def test_a_timeout_fires_in_virtual_time(virtual_clock: VirtualClock) -> None:
    started = virtual_clock.time()
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(asyncio.Event().wait(), timeout=300)
    assert virtual_clock.time() - started == pytest.approx(300, abs=0.01)


@pytest.mark.asyncio(virtual_time=False, timeout=10)  # the clock moves only when told
async def test_move_the_clock_by_hand(virtual_clock: VirtualClock) -> None:
    fired = asyncio.Event()
    asyncio.get_running_loop().call_later(60, fired.set)
    virtual_clock.advance(60)
    await fired.wait()
