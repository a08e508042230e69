"""Measure what asyncio itself costs, in the floor's interpreter: the least any plugin can pay.

Run as a script (``python bench/_asyncio_cost.py``) it prints JSON with the median, over
:data:`ROUNDS` rounds of :data:`N` repetitions, of

- ``loop_create_close_us``: ``asyncio.new_event_loop()`` then ``close()``;
- ``run_step_us``: ``loop.run_until_complete()`` of a coroutine that awaits ``sleep(0)`` once,
  which is what running one step of the benchmark's tests or fixtures costs.

A function-scoped loop costs at least one loop plus three steps per test (fixture setup, test,
fixture teardown); a module-scoped loop at least one step (the test).
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time

N = 2000
ROUNDS = 5


async def _step() -> None:
    await asyncio.sleep(0)


def _create_close() -> float:
    start = time.perf_counter()
    for _ in range(N):
        asyncio.new_event_loop().close()
    return (time.perf_counter() - start) / N * 1e6


def _run_step() -> float:
    loop = asyncio.new_event_loop()
    try:
        start = time.perf_counter()
        for _ in range(N):
            loop.run_until_complete(_step())
        return (time.perf_counter() - start) / N * 1e6
    finally:
        loop.close()


def measure() -> dict[str, float]:
    """Return the medians in microseconds."""
    _create_close(), _run_step()  # warm-up
    return {
        "loop_create_close_us": statistics.median(_create_close() for _ in range(ROUNDS)),
        "run_step_us": statistics.median(_run_step() for _ in range(ROUNDS)),
    }


if __name__ == "__main__":
    print(json.dumps(measure()))
