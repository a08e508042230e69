"""Errors that nobody sees: one in a callback, one in a task nobody awaits."""

from __future__ import annotations

import asyncio

import pytest


def on_message() -> None:
    raise ValueError("malformed message")


async def refresh_cache() -> None:
    raise KeyError("cache")


@pytest.mark.asyncio
async def test_callback_raises() -> None:
    asyncio.get_running_loop().call_soon(on_message)
    await asyncio.sleep(0)


@pytest.mark.asyncio
async def test_task_result_never_read() -> None:
    task = asyncio.create_task(refresh_cache())
    await asyncio.wait([task])  # waits for it, but never looks at its exception
