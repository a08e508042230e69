"""The safety nets that watch what tests and async fixtures leave behind.

They observe the runner's work through ownership (:mod:`pytest_aioloop._owners`) and never
run a test themselves:

- **Leaked tasks.** When an owner ends (a test after its function-scoped fixtures' teardown,
  an async fixture after its own teardown), its tasks get a few loop iterations to finish.
  Those still pending are reported. They are cancelled when their loop closes, as asyncio's
  ``Runner`` and pytest-asyncio do: at once for a function-scoped loop, later for a wider one,
  because a wider-scoped fixture (a client, a pool) may have started them on the test's behalf.
- **Unhandled errors.** An exception handler on each loop records what reaches it, attributed
  to the owner of the failing task or callback, then passes it on to the loop's previous
  handler (by default asyncio's, which logs it), so nothing asyncio would log is lost.
- **Slow callbacks.** asyncio's debug-mode "Executing ... took N s" records during a test's call.

Nothing holds a task or an error's traceback: findings are formatted when they happen.
"""

from __future__ import annotations

import contextlib
import dataclasses
import traceback
import weakref
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from pytest_aioloop import _compat, _slow_callbacks
from pytest_aioloop._owners import (
    OWNER,
    Owner,
    owner_of,
    owner_of_handle,
    pending_tasks,
    track,
)
from pytest_aioloop._reports import Finding, Findings, Net

if TYPE_CHECKING:
    import asyncio
else:
    from pytest_aioloop._lazy import asyncio

#: Loop iterations an owner's remaining tasks get to finish before they count as leaked.
SETTLE_ITERATIONS = 10
#: How long cancelled tasks may take to finish when their loop closes.
GRACE_SECONDS = 1.0


@dataclasses.dataclass
class NetSettings:
    """The actions of the nets (``report``, ``warn``, ``error`` or ``ignore``)."""

    leaked_tasks: str
    unhandled_errors: str
    slow_callback: float | None
    slow_callbacks: str

    def actions(self) -> dict[Net, str]:
        """Return the action of each net."""
        return {
            "leaked_tasks": self.leaked_tasks,
            "unhandled_errors": self.unhandled_errors,
            "slow_callbacks": self.slow_callbacks,
        }


class Nets:
    """The nets of one session (kept by the runtime in ``config.stash``)."""

    def __init__(
        self,
        settings: NetSettings,
        sink: Callable[[Owner | None], Findings | None],
        orphan: Callable[[str, Finding], None],
    ) -> None:
        self.settings = settings
        self.actions = settings.actions()
        #: Where a finding goes: the findings of the owner's test while it is set up, runs or is
        #: torn down, else those of the test being set up or torn down.
        self._sink = sink
        #: Where a finding goes when no test is active (after the last one).
        self._orphan = orphan
        self._adopted: weakref.WeakSet[asyncio.AbstractEventLoop] = weakref.WeakSet()
        #: The task factory the nets put on each loop (to record who creates which task).
        self._factories: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Any] = (
            weakref.WeakKeyDictionary()
        )
        #: Owners whose end the nets still have to look at, by loop id.
        self._open: dict[int, list[Owner]] = {}
        #: The tests whose call is running (findings for them count as "during the call").
        self.running: set[Owner] = set()

    # -- owners ---------------------------------------------------------------------------
    def begin(self, owner: Owner, loop: asyncio.AbstractEventLoop) -> None:
        """Start watching ``owner``, which runs in ``loop``."""
        owner.loop = loop
        self.adopt(loop)
        if self.settings.leaked_tasks != "ignore":
            self._open.setdefault(id(loop), []).append(owner)
            factory = self._factories.get(loop)
            if factory is not None and loop.get_task_factory() is factory:
                owner.tracker = factory

    def end(self, owner: Owner) -> None:
        """``owner`` has ended: report the tasks it left pending (they run until loop close)."""
        if owner.finished:
            return
        owner.finished = True
        loop = owner.loop
        if loop is None:
            return
        mine = self._open.get(id(loop))
        if mine is not None:
            with contextlib.suppress(ValueError):
                mine.remove(owner)
            if not mine:
                del self._open[id(loop)]
        if self.settings.leaked_tasks == "ignore" or loop.is_closed() or loop.is_running():
            return
        pending = pending_tasks(loop, owner)
        if not pending:
            return
        _drive(loop, _settle(pending))
        pending = [task for task in pending if not task.done()]
        if pending:
            self._leaked(owner, pending)

    def loop_closing(self, loop: asyncio.AbstractEventLoop) -> None:
        """``loop`` is about to close: end its owners first (their tasks are cancelled next)."""
        for owner in list(self._open.get(id(loop), ())):
            self.end(owner)
        self._open.pop(id(loop), None)

    def _leaked(self, owner: Owner, tasks: list[asyncio.Task[Any]]) -> None:
        lines = []
        for task in tasks:
            coro = task.get_coro()
            name = getattr(coro, "__qualname__", repr(coro))
            site = _compat.creation_site(task)
            where = (
                f", created at {site}"
                if site
                else " (run with --asyncio-debug to see where it was created)"
            )
            lines.append(f"  task {task.get_name()!r} running {name}(){where}")
        count = f"{len(tasks)} task{'s' if len(tasks) != 1 else ''}"
        them = "them" if len(tasks) != 1 else "it"
        text = (
            f"{owner.describe()} left {count} pending; pytest-aioloop cancels {them} when "
            "the event loop closes. Await or cancel "
            f"{them} before the {'test' if owner.kind == 'test' else 'fixture'} ends:\n"
            + "\n".join(lines)
        )
        self._record(owner, "leaked_tasks", text)

    # -- unhandled errors -----------------------------------------------------------------
    def record_owners(self, loop: asyncio.AbstractEventLoop) -> None:
        """Record who creates each task of ``loop`` as it is created (loops with many tasks).

        Without it, an owner's pending tasks are found by a pass over all the loop's tasks,
        which costs nothing for a test's own loop but grows with the tests running together.
        """
        if self.settings.leaked_tasks != "ignore" and loop not in self._factories:
            self._factories[loop] = _tracking_factory(loop)

    def adopt(self, loop: asyncio.AbstractEventLoop) -> None:
        """Put the error net on ``loop`` (once), before whatever handler it has."""
        if self.settings.unhandled_errors == "ignore" or loop in self._adopted:
            return
        self._adopted.add(loop)
        previous = loop.get_exception_handler()
        record = self._on_error

        def handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
            record(context)
            if previous is not None:
                previous(loop, context)
            else:
                loop.default_exception_handler(context)

        loop.set_exception_handler(handler)

    def _on_error(self, context: dict[str, Any]) -> None:
        owner = None
        for key in ("task", "future"):
            found = context.get(key)
            if isinstance(found, asyncio.Future):
                owner = owner_of(found)
                break
        if owner is None and "handle" in context:
            owner = owner_of_handle(context["handle"])
        if owner is None:
            owner = OWNER.get()
        message = str(context.get("message") or "unhandled error")
        for key in ("task", "future", "handle", "protocol", "transport"):
            if key in context:
                message += f"\n{key}: {context[key]!r}"
        exc = context.get("exception")
        if isinstance(exc, BaseException):
            message += "\n" + "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        prefix = owner.prefix() if owner is not None else ""
        first = "an" if prefix else "An"
        self._record(
            owner,
            "unhandled_errors",
            f"{prefix}{first} exception reached the event loop's exception handler: "
            f"{message.rstrip()}",
        )

    # -- slow callbacks ---------------------------------------------------------------------
    @contextlib.contextmanager
    def watching_call(self, owner: Owner, loop: asyncio.AbstractEventLoop) -> Iterator[None]:
        """Watch the test's call: it is the running owner, and slow callbacks are timed."""
        self.running.add(owner)
        threshold = self.settings.slow_callback
        if threshold is None:
            try:
                yield
            finally:
                self.running.discard(owner)
            return
        undo = _slow_callbacks.watch(
            loop, threshold, lambda line: self._slow(owner, line, threshold)
        )
        try:
            yield
        finally:
            self.running.discard(owner)
            undo()

    def record_slow(self, owner: Owner | None, line: str) -> None:
        """Record a slow callback of ``owner`` (``None``: no test could be named)."""
        threshold = self.settings.slow_callback or 0.0
        who = owner.prefix() if owner is not None else ""
        self._record(
            owner, "slow_callbacks", f"{who}{line} (asyncio_slow_callback = {threshold:g} s)"
        )

    def _slow(self, owner: Owner, line: str, threshold: float) -> None:
        self._record(
            owner,
            "slow_callbacks",
            f"{owner.prefix()}{line} (asyncio_slow_callback = {threshold:g} s)",
        )

    # -- delivery -----------------------------------------------------------------------------
    def _record(self, owner: Owner | None, net: Net, text: str) -> None:
        finding = Finding(
            net,
            text,
            where=owner.where if owner is not None else None,
            during_call=owner is not None and owner in self.running,
        )
        sink = self._sink(owner)
        if sink is not None:
            sink.add(finding)
        else:
            self._orphan(owner.nodeid if owner is not None else "", finding)


def _tracking_factory(loop: asyncio.AbstractEventLoop) -> Any:
    """Put a task factory on ``loop`` that records each task's owner, in front of its own.

    One call per task created; it saves the nets a pass over all the loop's tasks at the end of
    every test and fixture (with many tests running together, that pass would cost the most).
    """
    previous = loop.get_task_factory()

    def factory(loop: asyncio.AbstractEventLoop, coro: Any, **kwargs: Any) -> Any:
        if previous is not None:
            task = previous(loop, coro, **kwargs)
        else:
            task = asyncio.Task(coro, loop=loop, **kwargs)
        context = kwargs.get("context")
        owner = context.get(OWNER) if context is not None else OWNER.get()
        if owner is not None and isinstance(task, asyncio.Task):
            track(owner, task)
        return task

    loop.set_task_factory(factory)
    return factory


async def _settle(tasks: list[asyncio.Task[Any]]) -> None:
    """Let ``tasks`` run a few iterations: a handler for a just-closed connection ends soon."""
    for _ in range(SETTLE_ITERATIONS):
        if all(task.done() for task in tasks):
            return
        await asyncio.sleep(0)


def _drive(loop: asyncio.AbstractEventLoop, coro: Any) -> None:
    """Run ``coro`` on ``loop``, also when test code left a ``loop.stop()`` callback queued."""
    task = loop.create_task(coro)
    for _ in range(3):
        try:
            loop.run_until_complete(task)
            return
        except RuntimeError:
            # "Event loop stopped before Future completed": the queued stop was consumed;
            # go on with the same task.
            if loop.is_closed() or task.done():
                return
    task.cancel()  # pragma: no cover - a test that stops the loop from every callback
