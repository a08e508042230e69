"""An async fixture whose scopes span its ``yield``: a deadline and a background listener."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator

import pytest

import pytest_aioloop


class Client:
    """A client whose server pushes messages that a background task collects."""

    def __init__(self) -> None:
        self.pushed: asyncio.Queue[str] = asyncio.Queue()

    async def listen_for_pushes(self) -> None:
        for number in range(3):
            await asyncio.sleep(0.01)
            await self.pushed.put(f"push {number}")


if sys.version_info >= (3, 11):  # asyncio.timeout and TaskGroup
    # fixture:start
    @pytest_aioloop.fixture
    async def client() -> AsyncIterator[Client]:
        client = Client()
        async with asyncio.timeout(10):  # bounds every test that uses the client
            async with asyncio.TaskGroup() as group:
                group.create_task(client.listen_for_pushes())  # fails the test if it fails
                yield client

    # fixture:end

    @pytest.mark.asyncio
    async def test_receives_the_pushes(client: Client) -> None:
        assert [await client.pushed.get() for _ in range(3)] == ["push 0", "push 1", "push 2"]
