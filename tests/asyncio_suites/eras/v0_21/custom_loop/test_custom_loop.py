"""Tests run in a custom loop class returned by an event_loop override."""

import asyncio

import pytest
import pytest_asyncio


class CountingLoop(asyncio.SelectorEventLoop):
    """A selector loop that counts the callbacks it schedules."""

    def __init__(self):
        super().__init__()
        self.scheduled = 0

    def call_soon(self, callback, *args, context=None):
        self.scheduled += 1
        return super().call_soon(callback, *args, context=context)


class ClassLoop(CountingLoop):
    pass


@pytest.fixture
def event_loop():
    loop = CountingLoop()
    yield loop
    loop.close()


@pytest_asyncio.fixture
async def loop_type():
    await asyncio.sleep(0)
    return type(asyncio.get_running_loop())


@pytest.mark.asyncio
async def test_runs_in_counting_loop():
    loop = asyncio.get_running_loop()
    assert type(loop) is CountingLoop
    before = loop.scheduled
    await asyncio.sleep(0)
    assert loop.scheduled > before


@pytest.mark.asyncio
async def test_fixture_runs_in_counting_loop(loop_type, event_loop):
    assert loop_type is CountingLoop
    assert asyncio.get_running_loop() is event_loop


def test_sync_uses_counting_loop(event_loop):
    assert type(event_loop) is CountingLoop
    assert event_loop.run_until_complete(asyncio.sleep(0, result="done")) == "done"


class TestClassScopedLoop:
    @pytest.fixture(scope="class")
    @classmethod
    def event_loop(cls):
        loop = ClassLoop()
        yield loop
        loop.close()

    @pytest.mark.asyncio
    async def test_class_loop(self, loop_type):
        assert loop_type is ClassLoop
        type(self).first = asyncio.get_running_loop()

    @pytest.mark.asyncio
    async def test_class_loop_is_shared(self):
        assert asyncio.get_running_loop() is type(self).first
