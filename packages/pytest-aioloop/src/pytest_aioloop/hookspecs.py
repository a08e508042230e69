"""Hooks that pytest-aioloop adds to pytest (same names as pytest-asyncio's)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from asyncio import AbstractEventLoop


@pytest.hookspec(firstresult=True)
def pytest_asyncio_loop_factories(
    config: pytest.Config, item: pytest.Item
) -> Mapping[str, Callable[[], AbstractEventLoop]] | None:
    """Return the event-loop factories an asyncio test runs with, by name.

    Each asyncio test runs once per factory, with the factory's name as its id (no id is added
    when there is only one). ``@pytest.mark.asyncio(loop_factories=[...])`` selects names from
    the mapping. Return ``None`` to use the default loop for ``item``.
    """
