"""Fifty tests that mostly wait: with concurrency they wait at the same time."""

from __future__ import annotations

import asyncio

import pytest

pytestmark = pytest.mark.asyncio(concurrency=50)


@pytest.mark.parametrize("request_id", range(50))
async def test_three_round_trips(
    connection: tuple[asyncio.StreamReader, asyncio.StreamWriter], request_id: int
) -> None:
    reader, writer = connection
    for step in range(3):
        writer.write(f"{request_id}.{step}\n".encode())
        assert await reader.readline() == f"{request_id}.{step}\n".encode()
