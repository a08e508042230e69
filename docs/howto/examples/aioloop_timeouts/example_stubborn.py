"""A task that swallows the cancellation of its timeout."""

from __future__ import annotations

import asyncio
import contextlib

import pytest


@pytest.mark.asyncio(timeout=0.1)
async def test_ignores_cancellation() -> None:
    while True:
        with contextlib.suppress(asyncio.CancelledError):  # wrong: swallows the timeout
            await asyncio.sleep(3600)


@pytest.mark.asyncio
async def test_next_test_gets_a_fresh_loop() -> None:
    await asyncio.sleep(0)
