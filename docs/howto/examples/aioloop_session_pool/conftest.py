"""One pool for the whole test session, shared by every test below this directory."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_aioloop

from .fakedb import Connection, Pool


@pytest_aioloop.fixture(scope="session")
async def pool() -> AsyncIterator[Pool]:
    """Open the pool once; close it when the session ends."""
    pool = await Pool.create(size=2)
    yield pool
    await pool.close()


@pytest_aioloop.fixture
async def connection(pool: Pool) -> AsyncIterator[Connection]:
    """Borrow one connection for one test."""
    async with pool.acquire() as connection:
        yield connection
