"""A test pinned to its own loop, using a fixture pinned to the session loop."""

from __future__ import annotations

import pytest

import pytest_aioloop


@pytest_aioloop.fixture(scope="session", loop_scope="session")
async def pool() -> object:
    return object()


@pytest.mark.asyncio(loop_scope="function")
async def test_pinned(pool: object) -> None:
    pass
