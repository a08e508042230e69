import asyncio
import contextvars

import pytest
import pytest_asyncio

request_id = contextvars.ContextVar("request_id", default="unset")
user = contextvars.ContextVar("user", default="anonymous")


@pytest_asyncio.fixture
async def with_request_id():
    request_id.set("req-1")
    yield


@pytest_asyncio.fixture
async def logged_in(with_request_id):
    assert request_id.get() == "req-1"
    user.set("alice")
    return user.get()


@pytest.mark.asyncio
async def test_sees_fixture_context(with_request_id):
    assert request_id.get() == "req-1"


@pytest.mark.asyncio
async def test_dependent_fixture(logged_in):
    assert logged_in == "alice"
    assert user.get() == "alice"
    assert request_id.get() == "req-1"


@pytest.mark.asyncio
async def test_isolated_from_previous_tests():
    assert request_id.get() == "unset"
    assert user.get() == "anonymous"


@pytest.mark.asyncio
async def test_tasks_inherit_context(with_request_id):
    async def child():
        await asyncio.sleep(0)
        return request_id.get()

    assert await asyncio.create_task(child()) == "req-1"
