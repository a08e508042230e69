"""Fixtures whose every step prints: the captured sections show order and instances."""

import asyncio

import pytest

import pytest_aioloop


@pytest.fixture(scope="session")
def session_thing():
    print("session_thing setup")
    yield {"uses": 0}
    print("session_thing teardown")


@pytest_aioloop.fixture(scope="module")
async def module_resource():
    await asyncio.sleep(0)
    print("module_resource setup")
    yield object()
    await asyncio.sleep(0)
    print("module_resource teardown")


@pytest_aioloop.fixture
async def per_test(request):
    await asyncio.sleep(0.01)
    print(f"per_test setup for {request.node.name}")
    yield request.node.name
    await asyncio.sleep(0)
    print(f"per_test teardown for {request.node.name}")


@pytest.fixture
def sync_per_test(request, per_test):
    print(f"sync_per_test setup for {per_test}")
    request.addfinalizer(lambda: print(f"sync_per_test finalizer for {per_test}"))
    yield per_test
    print(f"sync_per_test teardown for {per_test}")


@pytest.fixture(autouse=True)
def autouse_marker(request):
    request.node.autouse_ran = True
    yield


@pytest.fixture
def overridden():
    return "conftest"


@pytest.fixture(params=["a", "b"])
def letter(request):
    return request.param


@pytest.fixture
def doubled(request):
    return request.param * 2


@pytest.fixture
def sync_value(request):
    print(f"sync_value setup for {request.node.name}")
    yield request.node.name
    print(f"sync_value teardown for {request.node.name}")
