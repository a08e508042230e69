"""fixture-scope: a fixture's loop lives as long as the fixture itself."""

import asyncio

import pytest
import pytest_asyncio


@pytest_asyncio.fixture(scope="module")
async def module_resource():
    return asyncio.get_running_loop()


@pytest_asyncio.fixture
async def per_test():
    return asyncio.get_running_loop()


@pytest.mark.asyncio(loop_scope="session")
async def test_session_pool(pool):
    assert pool.loop is asyncio.get_running_loop()
    assert await asyncio.gather(*(pool.query(i) for i in range(4))) == [0, 1, 2, 3]


@pytest.mark.asyncio(loop_scope="session")
async def test_pool_again(pool):
    assert await pool.query("again") == "again"


@pytest.mark.asyncio(loop_scope="module")
async def test_module_resource(module_resource):
    assert module_resource is asyncio.get_running_loop()


@pytest.mark.asyncio
async def test_function_fixture(per_test):
    assert per_test is asyncio.get_running_loop()
