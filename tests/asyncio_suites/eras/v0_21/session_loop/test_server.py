import asyncio

import pytest


@pytest.mark.asyncio
async def test_shouts(client):
    assert await client("hello") == "HELLO"


@pytest.mark.asyncio
async def test_server_lives_in_the_session_loop(server, event_loop):
    assert server.get_loop() is event_loop
    assert asyncio.get_running_loop() is event_loop


def test_sync_client(client, event_loop):
    assert event_loop.run_until_complete(client("sync")) == "SYNC"


def test_sync_fixture_used_the_loop(warmed_up):
    assert warmed_up == "WARM UP"


@pytest.mark.asyncio
async def test_fixture_requesting_event_loop(raw_server, event_loop):
    assert raw_server.get_loop() is event_loop is asyncio.get_running_loop()
