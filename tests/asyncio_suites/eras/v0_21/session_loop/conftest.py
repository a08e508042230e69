import asyncio

import pytest
import pytest_asyncio


@pytest.fixture(scope="session")
def event_loop():
    """One loop for the whole test session."""
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


async def _shout(reader, writer):
    line = await reader.readline()
    writer.write(line.upper())
    await writer.drain()
    writer.close()


@pytest_asyncio.fixture(scope="session")
async def server():
    srv = await asyncio.start_server(_shout, "127.0.0.1", 0)
    yield srv
    srv.close()
    await srv.wait_closed()


async def ask(server, text):
    assert server.get_loop() is asyncio.get_running_loop(), "server runs in another loop"
    port = server.sockets[0].getsockname()[1]
    reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 2)
    writer.write(text.encode() + b"\n")
    answer = await asyncio.wait_for(reader.readline(), 2)
    writer.close()
    await writer.wait_closed()
    return answer.decode().strip()


@pytest.fixture(scope="session")
def client(server):
    return lambda text: ask(server, text)


@pytest.fixture(scope="session")
def warmed_up(server, event_loop):
    """A sync fixture that drives the session loop itself."""
    return event_loop.run_until_complete(ask(server, "warm up"))


@pytest_asyncio.fixture
async def raw_server(event_loop):
    """An async fixture that asks for the loop explicitly, as 0.21 code often does."""
    srv = await event_loop.create_server(asyncio.Protocol, "127.0.0.1", 0)
    yield srv
    srv.close()
    await srv.wait_closed()
