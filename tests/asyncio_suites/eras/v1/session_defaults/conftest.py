import asyncio

import pytest
import pytest_asyncio


@pytest.fixture(scope="session")
def seen():
    return []


@pytest_asyncio.fixture(scope="session")
async def queue():
    return asyncio.Queue()


@pytest_asyncio.fixture
async def message(queue):
    await queue.put("hello")
    yield await queue.get()
    assert queue.empty()
