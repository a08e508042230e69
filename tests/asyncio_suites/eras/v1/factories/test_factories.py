import asyncio

import pytest
import pytest_asyncio


@pytest_asyncio.fixture
async def fixture_loop():
    return asyncio.get_running_loop()


@pytest.mark.asyncio
async def test_every_factory():
    assert type(asyncio.get_running_loop()).__name__ in ("SelectorLoop", "CountingLoop")


@pytest.mark.asyncio
async def test_fixture_shares_the_factory_loop(fixture_loop):
    assert fixture_loop is asyncio.get_running_loop()


@pytest.mark.asyncio(loop_factories=["counting"])
async def test_selected_factory():
    loop = asyncio.get_running_loop()
    assert type(loop).__name__ == "CountingLoop"
    await asyncio.sleep(0)
    assert loop.scheduled > 0


@pytest.mark.asyncio(loop_factories=["selector", "uvloop"])
async def test_unknown_factory_is_skipped():
    assert type(asyncio.get_running_loop()).__name__ == "SelectorLoop"


def test_sync_is_not_parametrized():
    assert True
