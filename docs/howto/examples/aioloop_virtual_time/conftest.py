"""Run the asyncio tests of this directory in a virtual-time loop."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from .virtual_clock import VirtualTimeLoop

HERE = Path(__file__).parent


def pytest_asyncio_loop_factories(
    config: pytest.Config, item: pytest.Item
) -> Mapping[str, Callable[[], asyncio.AbstractEventLoop]] | None:
    """Give the tests below this directory a VirtualTimeLoop; leave others alone."""
    if HERE not in item.path.parents:
        return None
    return {"virtual-time": VirtualTimeLoop}
