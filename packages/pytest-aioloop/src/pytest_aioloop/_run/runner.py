"""Run the coroutines of tests and async fixtures on their loops: one interface for both.

The runner owns each task and its context. A test's coroutine runs in a copy of the caller's
context (it sees the context variables its fixtures set) in which :data:`~.owners.OWNER` names
the test; a fixture's setup and teardown run step by step inside one context of the fixture's
own, in which the fixture is the owner. Everything the coroutine creates inherits that owner,
which is all the safety nets need to attribute what they find.

:class:`Runner` has one method per thing pytest-aioloop runs: a test's call
(:meth:`~Runner.run_test`), a test started as a task that others wait for
(:meth:`~Runner.start_test`), a coroutine fixture (:meth:`~Runner.run_fixture`), an async
generator fixture (:meth:`~Runner.run_asyncgen_fixture`) and a synchronous fixture that wants
its loop as the current one (:meth:`~Runner.run_sync`).
"""

from __future__ import annotations

import contextlib
import contextvars
import sys
from collections.abc import Callable, Coroutine, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

import pytest

from pytest_aioloop._compat.asyncio_internals import (
    SavedLoop,
    installed,
    is_current_loop,
    restore_current_loop,
    running_loop,
    save_current_loop,
    set_current_loop,
)
from pytest_aioloop._loop.manager import nothing
from pytest_aioloop._run.held import HeldFixture
from pytest_aioloop._run.lane_host import NOT_IN_LANE, LaneHost
from pytest_aioloop._run.outcomes import unwrap
from pytest_aioloop._run.owners import OWNER, Owner, pending_tasks
from pytest_aioloop._run.stacks import TRANSPARENT_CODE
from pytest_aioloop._run.timeouts import drive
from pytest_aioloop._run.watchdog import Watchdog

if TYPE_CHECKING:
    import asyncio

T = TypeVar("T")
#: Python 3.11+: ``create_task(context=...)`` runs every step of a task in a given context.
_NATIVE_CONTEXT = sys.version_info >= (3, 11)
#: Loops whose task would not end at a timeout, and which were closed: ``(loop) -> None``.
GiveUp = Callable[["asyncio.AbstractEventLoop"], None]


class FixtureRun:
    """One set-up async fixture as the runner sees it: its owner, name and timeout."""

    __slots__ = ("name", "on_ended", "owner", "reported", "timeout")

    def __init__(
        self,
        owner: Owner,
        name: str,
        timeout: float | None,
        on_ended: Callable[[FixtureRun, BaseException], None] | None = None,
    ) -> None:
        self.owner = owner
        self.name = name
        self.timeout = timeout
        #: Told (in the loop) when the fixture ends while its value is in use (``_run.held``).
        self.on_ended = on_ended
        #: Whether a test was told how the fixture ended early (then its teardown is quiet).
        self.reported = False


class Runner:
    """Runs tests' and async fixtures' coroutines, each as a task of its owner (one per session)."""

    __slots__ = ("_on_give_up", "_watchdog", "around", "lanes", "stall")

    def __init__(self, watchdog: Watchdog, on_give_up: GiveUp) -> None:
        self._watchdog = watchdog
        self._on_give_up = on_give_up
        #: What each run of a loop happens inside, if anything (while tests run concurrently,
        #: their output is routed to each test while the loop runs: see ``_concurrency``).
        self.around: Callable[[], contextlib.AbstractContextManager[None]] | None = None
        #: Where a fixture step waits instead of running the loop itself, when it is called
        #: from a test's lane (tests set up and tear down overlapping: ``_concurrency.lanes``).
        self.lanes: LaneHost | None = None
        #: While tests run concurrently: how long a fixture step that runs the loop itself may
        #: wait while other tests run (``None``: no limit now).
        self.stall: Callable[[], float | None] | None = None

    def run_test(
        self,
        loop: asyncio.AbstractEventLoop,
        coro: Coroutine[Any, Any, Any],
        *,
        owner: Owner,
        timeout: float | None,
    ) -> None:
        """Run a test's coroutine to its end, in a task the test owns, within ``timeout``."""
        self._run(
            loop, coro, owner, None, timeout, what="The test", name=owner.name, on_task=owner.ran
        )

    def start_test(
        self, loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, Any], *, owner: Owner
    ) -> asyncio.Task[Any]:
        """Start a test's coroutine as a task the test owns, and return it at once."""
        try:
            task = owned_context(owner).run(loop.create_task, coro, name=owner.name)
        except BaseException:
            coro.close()  # never started: no "coroutine was never awaited" warning later
            raise
        owner.ran(task)
        return task

    def run_fixture(
        self,
        loop: asyncio.AbstractEventLoop,
        func: Callable[..., Coroutine[Any, Any, T]],
        kwargs: dict[str, Any],
        fixture: FixtureRun,
    ) -> tuple[T, Callable[[], None]]:
        """Set up a coroutine fixture: return its value, and what resets its context variables.

        The context variables its coroutine set are copied into the caller's context (the test
        sees them); call the returned function at the fixture's teardown.
        """
        ctx = owned_context(fixture.owner)
        return self._step(loop, func(**kwargs), ctx, fixture, "setup")

    def run_asyncgen_fixture(
        self,
        loop: asyncio.AbstractEventLoop,
        func: Callable[..., Any],
        kwargs: dict[str, Any],
        fixture: FixtureRun,
        on_reset: Callable[[Callable[[], None]], None],
    ) -> Iterator[Any]:
        """Run an async generator fixture: a generator that yields its value once.

        The fixture runs in one task of its own from its setup to its teardown (see
        :mod:`.held`), in one context of the fixture's: its setup (up to its ``yield``) when the
        generator starts, its teardown when it resumes. ``on_reset`` is given what resets the
        context variables the setup copied into the caller's context.
        """
        what = self._check_no_running_loop(fixture, "setup")
        ctx = owned_context(fixture.owner)
        held = HeldFixture(loop, func(**kwargs), fixture)
        value = self._run(
            loop,
            held.body(),
            fixture.owner,
            ctx,
            fixture.timeout,
            what=what,
            name=f"async fixture {fixture.name!r}",
            until=held.ready,
            on_task=held.started,
        )
        on_reset(_apply_context(ctx))
        try:
            yield value
        except GeneratorExit:  # dropped without its teardown (pytest never does this)
            if held.task is not None:
                held.task.cancel()
            raise
        task = held.task
        assert task is not None
        if held.ended is not None or task.done():
            if held.ended is not None and not fixture.reported:
                raise held.ended  # no test saw it: the teardown reports it
            return
        held.release.set_result(None)
        what = self._check_no_running_loop(fixture, "teardown")
        if self._drive_again(loop, task, fixture.owner, fixture.timeout, what):
            pytest.fail(
                f"async fixture {fixture.name!r} yielded more than once: it must yield exactly "
                "once.",
                pytrace=False,
            )

    def run_sync(self, loop: asyncio.AbstractEventLoop, func: Callable[[], T]) -> T:
        """Call ``func`` with ``loop`` as the current loop (sync fixtures of pytest-aioloop)."""
        with installed(loop):
            return func()

    def _step(
        self,
        loop: asyncio.AbstractEventLoop,
        coro: Coroutine[Any, Any, T],
        ctx: contextvars.Context,
        fixture: FixtureRun,
        step: str,
    ) -> tuple[T, Callable[[], None]]:
        try:
            what = self._check_no_running_loop(fixture, step)
        except BaseException:
            coro.close()  # never started: no "never awaited" warning later
            raise
        name = f"{step} of async fixture {fixture.name!r}"
        result = self._run(loop, coro, fixture.owner, ctx, fixture.timeout, what=what, name=name)
        return result, _apply_context(ctx)

    @staticmethod
    def _check_no_running_loop(fixture: FixtureRun, step: str) -> str:
        """Return how timeouts name the step; fail it if code running in a loop asked for it."""
        what = f"{step[0].upper()}{step[1:]} of async fixture {fixture.name!r}"
        if running_loop() is not None:
            # Requested from code running in a loop (request.getfixturevalue() in an async
            # test): no loop can run the step until that code returns. Say what to do instead.
            pytest.fail(
                f"{what} cannot run while an event loop is running, as when async "
                "code calls request.getfixturevalue() for the fixture. Request it as an "
                "argument of the test (or with @pytest.mark.usefixtures) instead.",
                pytrace=False,
            )
        return what

    def _run(
        self,
        loop: asyncio.AbstractEventLoop,
        coro: Coroutine[Any, Any, Any],
        owner: Owner,
        context: contextvars.Context | None,
        timeout: float | None,
        *,
        what: str,
        name: str,
        until: asyncio.Future[Any] | None = None,
        on_task: Callable[[asyncio.Task[Any]], None] | None = None,
    ) -> Any:
        """Run ``coro`` as a task on ``loop`` (made current meanwhile), within ``timeout``.

        Without ``context``, the coroutine runs as a task in a copy of the caller's context in
        which ``owner`` owns it; with ``context`` (a fixture's), every step runs in it. ``what``
        names the work in a timeout's message, ``name`` the task. The loop runs until the task
        is done, or ``until`` is (then its result is returned); ``on_task`` is given the task.
        """
        saved = _make_current(loop)
        try:
            try:
                if context is None:
                    context = owned_context(owner)
                if _NATIVE_CONTEXT and loop.get_task_factory() is None:
                    task = loop.create_task(coro, name=name, context=context)  # type: ignore[call-arg]  # 3.11+
                else:
                    task = loop.create_task(_in_context(coro, context), name=name)
            except BaseException:
                coro.close()  # never started: no "coroutine was never awaited" warning later
                raise
            if on_task is not None:
                on_task(task)
            return self._drive(loop, task, owner, timeout, what, until=until)
        finally:
            if saved is not None:
                restore_current_loop(saved)

    def _drive_again(
        self,
        loop: asyncio.AbstractEventLoop,
        task: asyncio.Task[Any],
        owner: Owner,
        timeout: float | None,
        what: str,
    ) -> Any:
        """Run ``loop`` (made current meanwhile) until the running ``task`` is done."""
        saved = _make_current(loop)
        try:
            return self._drive(loop, task, owner, timeout, what)
        finally:
            if saved is not None:
                restore_current_loop(saved)

    def _drive(
        self,
        loop: asyncio.AbstractEventLoop,
        task: asyncio.Task[Any],
        owner: Owner,
        timeout: float | None,
        what: str,
        *,
        until: asyncio.Future[Any] | None = None,
    ) -> Any:
        related = lambda: pending_tasks(loop, owner)  # noqa: E731 - a name for both calls
        try:
            lanes = self.lanes
            if lanes is not None:
                first, owner.stepped = not owner.stepped, True
                result = lanes.step(
                    loop,
                    task,
                    timeout=timeout,
                    what=what,
                    until=until,
                    related=related,
                    owner=owner if first else None,
                )
                if result is not NOT_IN_LANE:
                    return result
            around = self.around
            routing = around() if around is not None else None
            if routing is not None:
                routing.__enter__()
            if self.stall is not None:
                timeout, what = _stall_limit(self.stall(), timeout, what)
            try:
                return drive(
                    loop,
                    task,
                    timeout,
                    what,
                    related=related,
                    watchdog=self._watchdog,
                    on_give_up=self._on_give_up,
                    until=until,
                )
            finally:
                if routing is not None:
                    routing.__exit__(None, None, None)
        except BaseException as error:
            unwrapped = unwrap(error)  # pytest.skip() and the like inside a task group
            if unwrapped is error:
                raise
            raise unwrapped from None


def _stall_limit(stall: float | None, timeout: float | None, what: str) -> tuple[float | None, str]:
    """The step's timeout and its name, when waiting beside other tests has a limit."""
    if stall is None or (timeout is not None and timeout <= stall):
        return timeout, what
    return stall, f"{what}, waiting beside other tests (asyncio_concurrency_stall),"


def _make_current(loop: asyncio.AbstractEventLoop) -> SavedLoop | None:
    """Make ``loop`` the current loop unless it is; return what to put back (``None``: nothing)."""
    if is_current_loop(loop):
        return None
    saved = save_current_loop()
    set_current_loop(loop)
    return saved


def owned_context(owner: Owner | None) -> contextvars.Context:
    """Return a copy of the current context in which ``owner`` owns what gets created."""
    ctx = contextvars.copy_context()
    ctx.run(OWNER.set, owner)
    return ctx


class _InContext:
    """Await a coroutine with every step run inside one ``contextvars.Context``.

    A fixture's setup and teardown are separate tasks, and each task normally gets its own
    copy of the context; a ``ContextVar`` token made in setup could then not be reset in
    teardown. ``create_task(context=...)`` does this natively from Python 3.11; this wrapper
    (public ``Context.run`` at each step) serves Python 3.10, and loops with a task factory of
    their own, which may not take a ``context`` argument.
    """

    def __init__(self, coro: Coroutine[Any, Any, T], ctx: contextvars.Context) -> None:
        self.coro = coro
        self.ctx = ctx

    def __await__(self) -> Any:
        coro, run_in = self.coro, self.ctx.run
        value: Any = None
        error: BaseException | None = None
        while True:
            try:
                if error is not None:
                    yielded = run_in(coro.throw, error)
                else:
                    yielded = run_in(coro.send, value)
            except StopIteration as stop:
                return stop.value
            error = None
            value = None
            try:
                value = yield yielded
            except GeneratorExit:
                # Closed (an abandoned task collected as garbage): close the coroutine, as
                # ``yield from`` does; it may have been collected, and closed, first.
                run_in(coro.close)
                raise
            except BaseException as exc:  # forwarded into the coroutine
                error = exc


async def _in_context(coro: Coroutine[Any, Any, T], ctx: contextvars.Context) -> T:
    return await _InContext(coro, ctx)  # type: ignore[no-any-return]


TRANSPARENT_CODE.update((_InContext.__await__.__code__, _in_context.__code__))


_MISSING = object()


def _apply_context(ctx: contextvars.Context) -> Callable[[], None]:
    """Copy the context variables a fixture's step set into the caller's; return the undo."""
    if len(ctx) == 1:  # only the owner: the fixture set no context variable, nor did anyone
        return nothing
    tokens: list[tuple[contextvars.ContextVar[Any], contextvars.Token[Any]]] = []
    for var, value in ctx.items():
        if var is OWNER:
            continue  # ownership stays with the fixture's own context
        if var.get(_MISSING) is not value:  # the caller's value (we run in its context)
            tokens.append((var, var.set(value)))
    if not tokens:
        return nothing

    def reset() -> None:
        for var, token in reversed(tokens):
            var.reset(token)

    return reset
