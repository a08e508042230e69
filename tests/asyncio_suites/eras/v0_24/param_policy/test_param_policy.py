import asyncio

import pytest
import pytest_asyncio


@pytest_asyncio.fixture
async def loop_class():
    return type(asyncio.get_running_loop())


@pytest.mark.asyncio
async def test_runs_once_per_policy(event_loop_policy):
    assert type(asyncio.get_running_loop()) is event_loop_policy.loop_class


@pytest.mark.asyncio
async def test_fixture_follows_policy(loop_class, event_loop_policy):
    assert loop_class is event_loop_policy.loop_class


@pytest.mark.asyncio
async def test_marked_only():
    assert type(asyncio.get_running_loop()).__name__ in ("LoopA", "LoopB")


def test_sync_helper():
    assert asyncio.get_event_loop_policy() is not None
