"""Synchronous calls inside coroutines: each one stops every other task on the loop."""

from __future__ import annotations

import asyncio
import time

import pytest


def read_config_slowly() -> str:
    time.sleep(0.2)  # stands for a blocking driver call, a big file read, heavy CPU work
    return "config"


@pytest.mark.asyncio
async def test_holds_the_loop_briefly() -> None:
    assert read_config_slowly() == "config"
    await asyncio.sleep(0)


@pytest.mark.asyncio(timeout=0.1)
async def test_blocks_past_its_timeout() -> None:
    time.sleep(30)
