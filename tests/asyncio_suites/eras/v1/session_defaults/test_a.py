import asyncio

import pytest

pytestmark = pytest.mark.asyncio


async def test_first(seen, message):
    seen.append(asyncio.get_running_loop())
    assert message == "hello"


async def test_same_loop(seen):
    assert asyncio.get_running_loop() is seen[0]
