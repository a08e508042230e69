import asyncio

import pytest
import pytest_asyncio


@pytest_asyncio.fixture
async def fixture_loop():
    return asyncio.get_running_loop()


@pytest.mark.asyncio
async def test_loop_comes_from_policy():
    assert type(asyncio.get_running_loop()).__name__ == "TaggedLoop"


@pytest.mark.asyncio
async def test_policy_is_installed():
    assert type(asyncio.get_event_loop_policy()).__name__ == "TaggedPolicy"


@pytest.mark.asyncio
async def test_fixture_uses_policy_loop(fixture_loop):
    assert type(fixture_loop).__name__ == "TaggedLoop"
    assert fixture_loop is asyncio.get_running_loop()


@pytest.mark.asyncio(loop_scope="module")
async def test_module_loop_uses_policy():
    assert type(asyncio.get_running_loop()).__name__ == "TaggedLoop"
