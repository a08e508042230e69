import asyncio

import pytest


@pytest.mark.asyncio
async def test_other_module(seen, message, queue):
    assert asyncio.get_running_loop() is seen[0]
    await queue.put(message)
    assert await queue.get() == "hello"


class TestClass:
    @pytest.mark.asyncio
    async def test_method(self, seen):
        assert asyncio.get_running_loop() is seen[0]
