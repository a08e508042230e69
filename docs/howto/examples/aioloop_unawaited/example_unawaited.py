import asyncio
import gc

import pytest

pending_calls: list[object] = []


async def notify(user: str) -> None:
    await asyncio.sleep(0)


@pytest.mark.asyncio
async def test_queues_a_notification() -> None:
    pending_calls.append(notify("ann"))  # the coroutine is made, never awaited


def test_clears_the_queue() -> None:
    pending_calls.clear()
    gc.collect()  # the coroutine is destroyed here, in another test
