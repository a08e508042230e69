"""Function-scoped tests use the session-scoped pool: no loop_scope, no ini option."""

from __future__ import annotations

import asyncio

import pytest

from .fakedb import Connection, Pool


@pytest.mark.asyncio
async def test_query(connection: Connection) -> None:
    assert await connection.fetch("SELECT 1") == f"SELECT 1 on connection {connection.number}"


@pytest.mark.asyncio
async def test_two_connections_at_once(pool: Pool) -> None:
    async with pool.acquire() as first, pool.acquire() as second:
        assert first is not second
        await asyncio.gather(first.fetch("a"), second.fetch("b"))


@pytest.mark.asyncio
async def test_runs_in_the_pools_loop(connection: Connection) -> None:
    assert connection.loop is asyncio.get_running_loop()


def test_sync_tests_can_use_it_too(pool: Pool) -> None:
    assert not pool.closed
