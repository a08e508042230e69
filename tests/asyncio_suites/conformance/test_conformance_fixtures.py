import asyncio

import pytest


@pytest.fixture
def overridden():
    return "module"


@pytest.mark.parametrize("i", range(6))
@pytest.mark.asyncio
async def test_own_function_fixtures(per_test, sync_per_test, module_resource, session_thing, i):
    await asyncio.sleep(0.02)
    assert per_test == sync_per_test == f"test_own_function_fixtures[{i}]"
    print(f"call {i}")


@pytest.mark.asyncio
async def test_tmp_path_is_per_test(tmp_path, per_test):
    (tmp_path / "mine").write_text(per_test)
    await asyncio.sleep(0.01)
    assert [p.name for p in tmp_path.iterdir()] == ["mine"]


@pytest.mark.asyncio
async def test_overrides_and_autouse(overridden, request):
    await asyncio.sleep(0)
    assert overridden == "module"
    assert request.node.autouse_ran


@pytest.mark.asyncio
async def test_parametrized_fixture(letter):
    await asyncio.sleep(0.01)
    print(f"letter {letter}")


@pytest.mark.parametrize("doubled", ["x", "y"], indirect=True)
@pytest.mark.asyncio
async def test_indirect(doubled):
    await asyncio.sleep(0.01)
    assert doubled in ("xx", "yy")


@pytest.mark.asyncio
async def test_getfixturevalue_and_addfinalizer(request):
    value = request.getfixturevalue("sync_value")
    request.addfinalizer(lambda: print(f"test finalizer for {value}"))
    await asyncio.sleep(0.01)
    assert value == "test_getfixturevalue_and_addfinalizer"
