"""Auto mode: no markers, plain @pytest.fixture async fixtures."""

import asyncio

import pytest
import pytest_asyncio


@pytest_asyncio.fixture
async def decorated():
    return asyncio.get_running_loop()


async def test_unmarked(settings):
    assert settings["retries"] == 3


async def test_async_generator_fixture(session_log, decorated):
    session_log.append("x")
    assert decorated is asyncio.get_running_loop()


async def test_event_loop_is_running_loop(event_loop):
    assert asyncio.get_running_loop() is event_loop


class TestGrouped:
    async def test_method(self, settings):
        await asyncio.sleep(0)
        assert settings


def test_sync(event_loop):
    assert event_loop.run_until_complete(asyncio.sleep(0, result=3)) == 3


@pytest.mark.parametrize("n", [1, 2])
async def test_parametrized(n):
    assert n in (1, 2)
