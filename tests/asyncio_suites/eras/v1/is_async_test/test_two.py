import asyncio

import pytest


class TestMore:
    @pytest.mark.asyncio
    async def test_method(self, seen, request):
        assert asyncio.get_running_loop() is seen[0]
        assert request.node.get_closest_marker("async_test") is not None
