import asyncio

import pytest


@pytest.mark.asyncio
async def test_sleep_returns_its_result() -> None:
    assert await asyncio.sleep(0, result=42) == 42
