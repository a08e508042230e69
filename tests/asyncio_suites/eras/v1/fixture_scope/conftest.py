import asyncio

import pytest_asyncio


class Pool:
    def __init__(self, size):
        self.loop = asyncio.get_running_loop()
        self.slots = asyncio.Semaphore(size)
        self.closed = False

    async def query(self, value):
        async with self.slots:
            await asyncio.sleep(0)
            return value


@pytest_asyncio.fixture(scope="session")
async def pool():
    p = Pool(2)
    yield p
    p.closed = True
