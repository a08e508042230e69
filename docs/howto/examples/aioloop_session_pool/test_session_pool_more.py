"""Another module: the same pool object, still in its own loop."""

from __future__ import annotations

import asyncio

import pytest

from .fakedb import Connection


@pytest.mark.asyncio
async def test_another_module(connection: Connection) -> None:
    assert connection.loop is asyncio.get_running_loop()
    assert await connection.fetch("SELECT 2") == f"SELECT 2 on connection {connection.number}"
