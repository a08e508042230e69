"""A module-scoped async resource shared by the tests of a module-scoped loop."""

import asyncio

import pytest
import pytest_asyncio

pytestmark = pytest.mark.asyncio(loop_scope="module")


class Cache:
    def __init__(self):
        self.loop = asyncio.get_running_loop()
        self.lock = asyncio.Lock()
        self.data = {}
        self.opened = 0

    async def put(self, key, value):
        async with self.lock:
            await asyncio.sleep(0)
            self.data[key] = value


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def cache():
    c = Cache()
    c.opened += 1
    yield c
    assert asyncio.get_running_loop() is c.loop


@pytest_asyncio.fixture(loop_scope="module")
async def fresh_key(cache):
    """Function-scoped (cached per test) but runs in the module loop."""
    key = f"k{len(cache.data)}"
    yield key
    cache.data.pop(key, None)


async def test_put(cache, fresh_key):
    await cache.put(fresh_key, 1)
    assert cache.data == {"k0": 1}


async def test_cache_is_reused(cache, fresh_key):
    assert cache.opened == 1
    assert fresh_key == "k0"
    await cache.put(fresh_key, 2)
    assert cache.loop is asyncio.get_running_loop()


async def test_concurrent_puts(cache):
    await asyncio.gather(*(cache.put(i, i) for i in range(5)))
    assert len(cache.data) == 5
