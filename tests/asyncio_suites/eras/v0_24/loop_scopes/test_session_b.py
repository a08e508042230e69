import asyncio

import pytest

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_session_shared_across_modules(loops):
    assert asyncio.get_running_loop() is loops["session"]


@pytest.mark.asyncio(loop_scope="function")
async def test_function_loop(loops):
    assert asyncio.get_running_loop() not in loops.values()
