"""A test that starts a background task and forgets it."""

from __future__ import annotations

import asyncio

import pytest


async def heartbeat() -> None:
    while True:
        await asyncio.sleep(1)


@pytest.mark.asyncio
async def test_forgets_its_heartbeat() -> None:
    asyncio.create_task(heartbeat(), name="heartbeat")  # noqa: RUF006  (the leak on purpose)
    await asyncio.sleep(0)
