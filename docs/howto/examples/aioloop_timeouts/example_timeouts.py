"""A test that hangs, a fixture whose teardown hangs, and the tests that run after them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

import pytest_aioloop


@pytest.mark.asyncio(timeout=0.2)
async def test_waits_for_an_event_nobody_sets() -> None:
    await asyncio.Event().wait()


@pytest_aioloop.fixture(timeout=0.2)
async def server() -> AsyncIterator[str]:
    yield "server"
    await asyncio.sleep(3600)  # a shutdown that never completes


@pytest.mark.asyncio
async def test_uses_server(server: str) -> None:
    assert server == "server"


@pytest.mark.asyncio
async def test_next_test_runs_normally() -> None:
    await asyncio.sleep(0)
