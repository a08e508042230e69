"""A periodic job, timeouts and an hour of sleep, in virtual time."""

from __future__ import annotations

import asyncio

import pytest

from pytest_aioloop import VirtualClock


async def poll_every(seconds: float, times: int, seen: list[float]) -> None:
    """A periodic job: note the loop's time, ``times`` times, ``seconds`` apart."""
    loop = asyncio.get_running_loop()
    for _ in range(times):
        seen.append(loop.time())
        await asyncio.sleep(seconds)


@pytest.mark.asyncio(virtual_time=True, timeout=10)  # the timeout counts real seconds
async def test_an_hour_passes_at_once() -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    await asyncio.sleep(3600)
    assert loop.time() - started >= 3600


@pytest.mark.asyncio(timeout=10)
async def test_a_periodic_job(virtual_clock: VirtualClock) -> None:
    seen: list[float] = []
    await poll_every(30, 3, seen)
    assert [round(t - seen[0]) for t in seen] == [0, 30, 60]


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
