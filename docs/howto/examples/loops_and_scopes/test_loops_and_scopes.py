"""Which loop each test and fixture runs in: followed loops, and pinned ones."""

from __future__ import annotations

import asyncio
import contextvars

import pytest

import pytest_aioloop

user = contextvars.ContextVar("user", default="nobody")


# -- no loop_scope anywhere: everything follows the widest async fixture ----------------------
@pytest_aioloop.fixture(scope="session")
async def pool() -> asyncio.AbstractEventLoop:
    return asyncio.get_running_loop()


@pytest_aioloop.fixture(scope="module")
async def client(pool: asyncio.AbstractEventLoop) -> asyncio.AbstractEventLoop:
    return asyncio.get_running_loop()


@pytest.mark.asyncio
async def test_follows_the_pool(pool: asyncio.AbstractEventLoop) -> None:
    assert asyncio.get_running_loop() is pool


@pytest.mark.asyncio
async def test_follows_the_client(
    client: asyncio.AbstractEventLoop, pool: asyncio.AbstractEventLoop
) -> None:
    assert asyncio.get_running_loop() is client is pool


@pytest.mark.asyncio
async def test_uses_no_async_fixture(event_loop: asyncio.AbstractEventLoop) -> None:
    """No async fixture: a loop of ``asyncio_default_test_loop_scope`` (function)."""
    assert asyncio.get_running_loop() is event_loop


# -- pinned loops: explicit loop_scope on fixtures and tests -----------------------------------
@pytest_aioloop.fixture(scope="module", loop_scope="module")
async def module_client() -> asyncio.AbstractEventLoop:
    return asyncio.get_running_loop()


@pytest.mark.asyncio(loop_scope="module")
async def test_pinned_to_the_module_loop(module_client: asyncio.AbstractEventLoop) -> None:
    assert asyncio.get_running_loop() is module_client


@pytest.mark.asyncio(loop_scope="function")
async def test_pinned_to_a_function_loop(event_loop: asyncio.AbstractEventLoop) -> None:
    assert asyncio.get_running_loop() is event_loop


# -- context variables set in async fixtures reach the test -----------------------------------
@pytest_aioloop.fixture
async def logged_in() -> None:
    user.set("alice")


@pytest.mark.asyncio
async def test_sees_the_fixtures_context(logged_in: None) -> None:
    assert user.get() == "alice"


@pytest.mark.asyncio
async def test_does_not_see_other_tests_context() -> None:
    assert user.get() == "nobody"
