"""Run every asyncio test in this directory twice: on asyncio's own loop and on uvloop."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

HERE = Path(__file__).parent


def pytest_asyncio_loop_factories(
    config: pytest.Config, item: pytest.Item
) -> Mapping[str, Callable[[], asyncio.AbstractEventLoop]] | None:
    """Return the loops the tests of this directory run with, by name."""
    if HERE not in item.path.parents:
        return None  # a test of another directory: let its own conftest (or the default) decide
    factories: dict[str, Callable[[], asyncio.AbstractEventLoop]] = {
        "asyncio": asyncio.new_event_loop
    }
    try:
        import uvloop
    except ImportError:  # uvloop does not support Windows
        return factories
    factories["uvloop"] = uvloop.new_event_loop
    return factories
