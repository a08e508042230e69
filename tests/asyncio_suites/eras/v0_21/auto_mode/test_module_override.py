import asyncio

import pytest

first = []


@pytest.fixture(scope="module")
def event_loop():
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


async def test_one():
    first.append(asyncio.get_running_loop())


async def test_two(settings):
    assert asyncio.get_running_loop() is first[0]
