import asyncio

import pytest

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_session_first(loops):
    loops["session"] = asyncio.get_running_loop()
    assert loops["session"] is not loops["module"]


async def test_session_second(loops):
    assert asyncio.get_running_loop() is loops["session"]
