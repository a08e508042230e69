import asyncio

import pytest


@pytest.mark.asyncio
async def test_single_factory_adds_no_id():
    assert type(asyncio.get_running_loop()).__name__ == "CountingLoop"
