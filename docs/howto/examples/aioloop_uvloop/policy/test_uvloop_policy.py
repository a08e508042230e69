"""The pytest-asyncio 0.23-0.26 way: override ``event_loop_policy`` (policies: Python < 3.14)."""

from __future__ import annotations

import asyncio
import sys

import pytest

if sys.version_info >= (3, 14):
    pytest.skip("asyncio deprecates policies in 3.14: use the hook", allow_module_level=True)
uvloop = pytest.importorskip("uvloop")


@pytest.fixture(scope="module")
def event_loop_policy() -> asyncio.AbstractEventLoopPolicy:
    """Make every loop of this module's tests with uvloop's policy."""
    policy: asyncio.AbstractEventLoopPolicy = uvloop.EventLoopPolicy()
    return policy


@pytest.mark.asyncio
async def test_runs_on_uvloop() -> None:
    assert type(asyncio.get_running_loop()).__module__.startswith("uvloop")
