"""One event loop for the whole module, and a background worker living in it."""

import asyncio

import pytest
import pytest_asyncio


@pytest.fixture(scope="module")
def event_loop():
    # 0.21's docs wrote asyncio.get_event_loop_policy().new_event_loop(); the same loop, without
    # the policy API that Python 3.14 deprecates.
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


class Doubler:
    """A worker task answering requests through a queue, as a connection pool would."""

    async def start(self):
        self.loop = asyncio.get_running_loop()
        self.requests = asyncio.Queue()
        self.task = asyncio.create_task(self._serve())

    async def _serve(self):
        while True:
            value, reply = await self.requests.get()
            reply.set_result(value * 2)

    async def call(self, value):
        reply = asyncio.get_running_loop().create_future()
        await self.requests.put((value, reply))
        # Times out (instead of hanging) if the worker's loop is not the running one.
        return await asyncio.wait_for(reply, 2)

    async def stop(self):
        self.task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await self.task


@pytest_asyncio.fixture(scope="module")
async def doubler():
    worker = Doubler()
    await worker.start()
    yield worker
    await worker.stop()


@pytest.mark.asyncio
async def test_worker_answers(doubler):
    assert await doubler.call(2) == 4


@pytest.mark.asyncio
async def test_worker_survives_between_tests(doubler):
    assert not doubler.task.done()
    assert await doubler.call(21) == 42


@pytest.mark.asyncio
async def test_runs_in_the_module_loop(doubler, event_loop):
    assert asyncio.get_running_loop() is event_loop
    assert doubler.loop is event_loop


def test_sync_test_drives_the_loop(doubler, event_loop):
    assert event_loop.run_until_complete(doubler.call(5)) == 10
