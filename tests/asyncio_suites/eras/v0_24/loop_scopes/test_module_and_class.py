import asyncio

import pytest
import pytest_asyncio

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def test_module_first(loops):
    loops["module"] = asyncio.get_running_loop()


async def test_module_second(loops):
    assert asyncio.get_running_loop() is loops["module"]


class TestClassLoop:
    @pytest_asyncio.fixture(scope="class", loop_scope="class")
    async def channel(self):
        queue = asyncio.Queue()
        await queue.put(asyncio.get_running_loop())
        return queue

    @pytest.mark.asyncio(loop_scope="class")
    async def test_class_first(self, loops):
        loops["class"] = asyncio.get_running_loop()
        assert loops["class"] is not loops["module"]

    @pytest.mark.asyncio(loop_scope="class")
    async def test_class_second(self, loops, channel):
        assert asyncio.get_running_loop() is loops["class"]
        assert await channel.get() is loops["class"]


class TestModuleLoopInClass:
    async def test_inherits_module_mark(self, loops):
        assert asyncio.get_running_loop() is loops["module"]
