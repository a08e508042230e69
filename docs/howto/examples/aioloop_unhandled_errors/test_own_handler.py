"""A test that installs its own exception handler keeps it: pytest-aioloop stands back."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest


def on_message() -> None:
    raise ValueError("malformed message")


@pytest.mark.asyncio
async def test_collects_errors_itself() -> None:
    seen: list[dict[str, Any]] = []
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(lambda loop, context: seen.append(context))
    loop.call_soon(on_message)
    await asyncio.sleep(0)
    assert isinstance(seen[0]["exception"], ValueError)
