"""Where a fixture step waits when tests set up and tear down together (concurrency).

The runner hands each fixture step to its :class:`LaneHost`, when it has one: the lanes of a
running group of tests (``_concurrency.lanes``), which pause the calling test's setup or
teardown while the group's loop runs the step, or answer :data:`NOT_IN_LANE`, and the runner
runs the loop itself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import asyncio

    from pytest_aioloop._run.owners import Owner


class LaneHost(Protocol):
    """Where a fixture step called from a test's lane waits (``_concurrency.lanes``)."""

    def step(
        self,
        loop: asyncio.AbstractEventLoop,
        task: asyncio.Task[Any],
        *,
        timeout: float | None,
        what: str,
        until: asyncio.Future[Any] | None,
        related: Callable[[], list[asyncio.Task[Any]]],
        owner: Owner | None,
    ) -> Any:
        """Wait for the step in the calling lane; :data:`NOT_IN_LANE` outside lanes.

        ``owner`` is given at its first step, before any of its code ran.
        """
        ...


#: What :meth:`LaneHost.step` returns when it is not called from a lane.
NOT_IN_LANE: Any = object()
