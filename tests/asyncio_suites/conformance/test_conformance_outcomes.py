import asyncio
import logging
import sys
import warnings

import pytest

import pytest_aioloop


@pytest_aioloop.fixture
async def broken_setup():
    await asyncio.sleep(0)
    raise RuntimeError("setup broke")


@pytest_aioloop.fixture
async def broken_teardown():
    yield
    await asyncio.sleep(0)
    raise RuntimeError("teardown broke")


@pytest.mark.asyncio
async def test_setup_error(broken_setup):
    pass


@pytest.mark.asyncio
async def test_teardown_error(broken_teardown):
    await asyncio.sleep(0.01)


@pytest.mark.asyncio
async def test_fails():
    await asyncio.sleep(0.01)
    assert 1 == 2


@pytest.mark.skip(reason="skipped on purpose")
@pytest.mark.asyncio
async def test_skipped():
    pass


@pytest.mark.skipif(sys.version_info > (3,), reason="skipif on purpose")
@pytest.mark.asyncio
async def test_skipif():
    pass


@pytest.mark.asyncio
async def test_skip_inside():
    await asyncio.sleep(0.01)
    pytest.skip("skipped inside")


@pytest.mark.xfail(reason="expected to fail")
@pytest.mark.asyncio
async def test_xfail():
    await asyncio.sleep(0.01)
    raise ValueError("as expected")


@pytest.mark.xfail(reason="passes anyway", strict=False)
@pytest.mark.asyncio
async def test_xpass():
    await asyncio.sleep(0.01)


@pytest.mark.asyncio
async def test_importorskip():
    await asyncio.sleep(0)
    pytest.importorskip("a_module_that_does_not_exist")


@pytest.mark.parametrize("i", range(4))
@pytest.mark.asyncio
async def test_output_is_per_test(i):
    for step in range(3):
        print(f"out {i}.{step}")
        print(f"err {i}.{step}", file=sys.stderr)
        logging.getLogger("conformance").warning("log %s.%s", i, step)
        await asyncio.sleep(0.005 * (4 - i))


@pytest.mark.asyncio
async def test_warns():
    await asyncio.sleep(0.01)
    warnings.warn(UserWarning("a warning of this test"))
