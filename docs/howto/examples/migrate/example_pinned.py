"""Tests pinned to their own loop, using a fixture pinned to the session loop."""

from __future__ import annotations

import asyncio

import pytest

import pytest_aioloop


class Pool:
    """Hands out a plain value, and a future of the loop it was made in."""

    def __init__(self) -> None:
        self.url = "postgresql://localhost/test"
        self.ready = asyncio.get_running_loop().create_future()


@pytest_aioloop.fixture(scope="session", loop_scope="session")
async def pool() -> Pool:
    return Pool()


@pytest.mark.asyncio(loop_scope="function")
async def test_uses_a_plain_value(pool: Pool) -> None:
    assert pool.url.startswith("postgresql://")  # works: nothing loop-bound is awaited


@pytest.mark.asyncio(loop_scope="function")
async def test_awaits_the_pool(pool: Pool) -> None:
    await pool.ready  # fails: the future belongs to the session loop
