"""Tests of consecutive modules and classes that run together (nothing of theirs to tear down).

Each waits in its fixtures and body, so that the next module's tests join while these run.
"""

import asyncio

import pytest


@pytest.mark.asyncio
@pytest.mark.parametrize("i", range(3))
async def test_in_the_module(per_test, session_thing, i):
    await asyncio.sleep(0.01)
    print(f"test_in_the_module {i} with {per_test}")


@pytest.mark.asyncio
class TestFirstClass:
    async def test_one(self, sync_per_test):
        await asyncio.sleep(0.01)
        print(f"TestFirstClass.test_one with {sync_per_test}")

    async def test_fails_in_a_class(self, per_test):
        await asyncio.sleep(0.02)
        assert per_test == "another name"


@pytest.mark.asyncio
class TestSecondClass:
    async def test_two(self, per_test):
        await asyncio.sleep(0.01)
        print(f"TestSecondClass.test_two with {per_test}")


@pytest.mark.asyncio
async def test_last_of_the_module(per_test):
    await asyncio.sleep(0.03)
    print(f"test_last_of_the_module with {per_test}")
