import asyncio

import pytest


@pytest.mark.asyncio
async def test_first(seen):
    seen.append(asyncio.get_running_loop())


@pytest.mark.asyncio
async def test_second(seen):
    assert asyncio.get_running_loop() is seen[0]


def test_sync(request):
    assert request.node.get_closest_marker("async_test") is None
