"""Every test runs once per loop class of a parametrized event_loop."""

import asyncio

import pytest
import pytest_asyncio


class FirstLoop(asyncio.SelectorEventLoop):
    pass


class SecondLoop(asyncio.SelectorEventLoop):
    pass


@pytest.fixture(params=[FirstLoop, SecondLoop], ids=["first", "second"])
def event_loop(request):
    loop = request.param()
    yield loop
    loop.close()


@pytest_asyncio.fixture
async def running_loop_type():
    return type(asyncio.get_running_loop())


@pytest.mark.asyncio
async def test_requests_event_loop(event_loop):
    assert asyncio.get_running_loop() is event_loop
    assert type(event_loop) in (FirstLoop, SecondLoop)


@pytest.mark.asyncio
async def test_marked_with_async_fixture(running_loop_type):
    assert running_loop_type is type(asyncio.get_running_loop())


def test_sync(event_loop):
    assert event_loop.run_until_complete(asyncio.sleep(0, result=1)) == 1
