"""Tests and async fixtures run in the loop the hook makes."""

from __future__ import annotations

import asyncio

import pytest

import pytest_aioloop

from ..tracing_loop import TracingLoop


@pytest_aioloop.fixture
async def tracing_loop() -> TracingLoop:
    loop = asyncio.get_running_loop()
    assert isinstance(loop, TracingLoop)
    return loop


@pytest.mark.asyncio
async def test_tasks_are_traced(tracing_loop: TracingLoop) -> None:
    assert asyncio.get_running_loop() is tracing_loop
    await asyncio.create_task(asyncio.sleep(0), name="worker")
    assert "worker" in tracing_loop.task_names()
