"""The module after ``test_conformance_modules_a``: its tests join those still running."""

import asyncio

import pytest

import pytest_aioloop


@pytest_aioloop.fixture
async def breaks_at_teardown(per_test):
    yield per_test
    await asyncio.sleep(0.01)
    raise RuntimeError(f"teardown broke for {per_test}")


@pytest.mark.asyncio
async def test_first_of_the_next_module(per_test):
    await asyncio.sleep(0.01)
    print(f"test_first_of_the_next_module with {per_test}")


@pytest.mark.asyncio
async def test_teardown_breaks_in_the_next_module(breaks_at_teardown):
    await asyncio.sleep(0.01)


@pytest.mark.asyncio
@pytest.mark.parametrize("i", range(2))
async def test_more(sync_per_test, i):
    await asyncio.sleep(0)
    print(f"test_more {i} with {sync_per_test}")
