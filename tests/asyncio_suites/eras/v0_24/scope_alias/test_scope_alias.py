"""The 0.23 spelling: scope= on the marker (deprecated in 0.24 for loop_scope=)."""

import asyncio

import pytest

loops = []


@pytest.mark.asyncio(scope="module")
async def test_first():
    loops.append(asyncio.get_running_loop())


@pytest.mark.asyncio(scope="module")
async def test_second_shares_the_loop():
    assert asyncio.get_running_loop() is loops[0]


@pytest.mark.asyncio
async def test_function_loop_is_another():
    assert asyncio.get_running_loop() is not loops[0]
