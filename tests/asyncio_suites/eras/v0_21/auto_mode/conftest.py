import asyncio

import pytest


@pytest.fixture
async def settings():
    await asyncio.sleep(0)
    return {"retries": 3}


@pytest.fixture
async def session_log():
    log = []
    yield log
    await asyncio.sleep(0)
    log.clear()
