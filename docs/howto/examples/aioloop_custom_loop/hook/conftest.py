"""Run the asyncio tests of this directory in a TracingLoop, through the loop-factory hook."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from ..tracing_loop import TracingLoop

HERE = Path(__file__).parent


def pytest_asyncio_loop_factories(
    config: pytest.Config, item: pytest.Item
) -> Mapping[str, Callable[[], asyncio.AbstractEventLoop]] | None:
    """One factory: the tests keep their ids, and their fixtures run in the same loop."""
    if HERE not in item.path.parents:
        return None
    return {"tracing": TracingLoop}
