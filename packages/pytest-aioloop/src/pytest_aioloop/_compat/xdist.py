"""pytest-xdist's worker internals that tests running concurrently need."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest

__all__ = ["reporting_for"]


def reporting_for(item: pytest.Item) -> contextlib.AbstractContextManager[None]:
    """Let pytest-xdist's worker send reports of ``item`` while pytest runs another test.

    Why private: an xdist worker tags every report with the index of the test it is running
    (``WorkerInteractor.item_index``) and asserts that they match. Tests that run concurrently
    are reported while pytest runs a later test, so the index is set to the reported test's for
    the duration. Outside xdist this does nothing (and costs one check per test).
    """
    interactor = _xdist_worker(item.config)
    if interactor is None:
        return _NOTHING
    return _reporting_for(item, interactor)


_NOTHING = contextlib.nullcontext()


@contextlib.contextmanager
def _reporting_for(item: pytest.Item, interactor: Any) -> Iterator[None]:
    indices = item.session.stash.get(_XDIST_INDICES, None)
    if indices is None:
        indices = {node.nodeid: i for i, node in enumerate(item.session.items)}
        item.session.stash[_XDIST_INDICES] = indices
    previous = interactor.item_index
    interactor.item_index = indices.get(item.nodeid, previous)
    try:
        yield
    finally:
        interactor.item_index = previous


_XDIST_INDICES = pytest.StashKey[dict[str, int]]()


def _xdist_worker(config: pytest.Config) -> Any:
    if not hasattr(config, "workerinput"):
        return None
    for plugin in config.pluginmanager.get_plugins():
        if type(plugin).__name__ == "WorkerInteractor" and hasattr(plugin, "item_index"):
            return plugin
    return None  # pragma: no cover - xdist changed
