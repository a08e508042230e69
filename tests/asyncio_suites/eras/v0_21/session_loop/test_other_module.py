import asyncio

import pytest
import pytest_asyncio


@pytest_asyncio.fixture(scope="module")
async def greeting(client):
    return await client("module fixture")


@pytest.mark.asyncio
async def test_module_fixture_in_session_loop(greeting, server):
    assert greeting == "MODULE FIXTURE"
    assert server.get_loop() is asyncio.get_running_loop()


class TestInClass:
    @pytest.mark.asyncio
    async def test_method(self, client):
        assert await client("method") == "METHOD"
