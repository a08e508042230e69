"""Fixtures that wait in setup and teardown, wider fixtures, scopes across yield, errors."""

import asyncio
import logging
import sys

import pytest

import pytest_aioloop

log = logging.getLogger("conformance.overlap")
SETS_UP = []


@pytest_aioloop.fixture(scope="module")
async def shared_connection():
    SETS_UP.append("shared")
    await asyncio.sleep(0.01)
    print("shared_connection setup")
    yield {"queries": 0}
    await asyncio.sleep(0.01)
    print("shared_connection teardown")


@pytest_aioloop.fixture
async def transaction(request, shared_connection):
    print(f"begin for {request.node.name}")
    log.warning("begin for %s", request.node.name)
    await asyncio.sleep(0.01)
    shared_connection["queries"] += 1
    yield request.node.name
    await asyncio.sleep(0.01)
    print(f"rollback for {request.node.name}")
    log.warning("rollback for %s", request.node.name)


@pytest_aioloop.fixture
async def setup_breaks_after_waiting():
    await asyncio.sleep(0.01)
    raise ConnectionError("could not connect")
    yield  # pragma: no cover


@pytest_aioloop.fixture
async def teardown_breaks_after_waiting():
    yield
    await asyncio.sleep(0.01)
    raise ConnectionError("could not close")


@pytest.mark.parametrize("i", range(6))
@pytest.mark.asyncio(loop_scope="module")
async def test_in_a_transaction(transaction, shared_connection, i):
    await asyncio.sleep(0.01)
    assert transaction == f"test_in_a_transaction[{i}]"
    print(f"query {i}")


@pytest.mark.asyncio(loop_scope="module")
async def test_setup_breaks(transaction, setup_breaks_after_waiting):
    pass


@pytest.mark.asyncio(loop_scope="module")
async def test_teardown_breaks(transaction, teardown_breaks_after_waiting):
    await asyncio.sleep(0.01)


@pytest.mark.asyncio(loop_scope="module")
async def test_the_module_fixture_was_set_up_once(shared_connection):
    assert SETS_UP == ["shared"]


@pytest.mark.skipif(sys.version_info < (3, 11), reason="asyncio.timeout and TaskGroup: 3.11+")
class TestScopesAcrossYield:
    @pytest_aioloop.fixture
    async def bounded(self):
        async with asyncio.timeout(0.2):
            yield

    @pytest_aioloop.fixture
    async def listener(self):
        async def listen():
            await asyncio.sleep(0.05)
            raise ConnectionResetError("the listener failed")

        async with asyncio.TaskGroup() as group:
            group.create_task(listen())
            yield

    @pytest.mark.asyncio
    async def test_within_the_deadline(self, bounded):
        await asyncio.sleep(0.01)

    @pytest.mark.asyncio
    async def test_past_the_deadline(self, bounded):
        await asyncio.sleep(5)

    @pytest.mark.asyncio
    async def test_its_listener_fails(self, listener):
        await asyncio.sleep(5)
