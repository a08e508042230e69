"""An async generator fixture held in one task of its loop, from its setup to its teardown.

The task runs the generator to its ``yield`` and hands the value over (:attr:`HeldFixture.ready`),
then waits, still inside every scope the fixture entered before ``yield`` (``asyncio.timeout``,
a ``TaskGroup``, an anyio ``CancelScope``, any async context manager), until the fixture is
released at its teardown; then it runs the rest of the generator. So those scopes are exited in
the task that entered them, after the tests that used the fixture, as the code reads.

If one of those scopes cancels the task while it waits (a deadline passes, a background child
of a task group fails), the cancellation is thrown into the generator at its ``yield``, where
the scope sees it, and the fixture has *ended early*: :attr:`HeldFixture.ended` says how, and
the fixture's ``on_ended`` is told, so that the tests using the fixture can be stopped.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from pytest_aioloop._compat.asyncio_internals import hide_task
from pytest_aioloop._run.stacks import TRANSPARENT_CODE

if TYPE_CHECKING:
    import asyncio
else:
    from pytest_aioloop._compat.lazy_asyncio import asyncio


class Held(Protocol):
    """The fixture as its task sees it (``_run.runner.FixtureRun``)."""

    #: Told when the fixture ends early: ``(the fixture, how it ended)``.
    on_ended: Callable[[Any, BaseException], None] | None


class EndedEarly(Exception):
    """An async fixture's generator ended while its value was in use, without an error."""


class HeldFixture:
    """The task, and the two futures, of one async generator fixture."""

    __slots__ = ("agen", "ended", "fixture", "ready", "release", "task")

    def __init__(self, loop: asyncio.AbstractEventLoop, agen: Any, fixture: Held) -> None:
        self.agen = agen
        #: The fixture's value, once its setup reached ``yield`` (or the setup's error).
        self.ready: asyncio.Future[Any] = loop.create_future()
        #: Resolved at the fixture's teardown: the task then runs the rest of the generator.
        self.release: asyncio.Future[None] = loop.create_future()
        #: How the fixture ended while its value was in use (``None``: it did not).
        self.ended: BaseException | None = None
        #: Its ``on_ended`` is told when the fixture ends early.
        self.fixture = fixture
        self.task: asyncio.Task[bool] | None = None

    def started(self, task: asyncio.Task[bool]) -> None:
        """Keep ``task`` (which runs :meth:`body`), out of ``asyncio.all_tasks()``."""
        self.task = task
        hide_task(task)

    async def body(self) -> bool:
        """The task: setup, hold, teardown. Return whether the generator yielded again."""
        agen, ready = self.agen, self.ready
        try:
            value = await agen.__anext__()
        except StopAsyncIteration:
            ready.set_exception(RuntimeError("the async generator fixture did not yield"))
            return False
        except asyncio.CancelledError:
            ready.cancel()
            raise
        except (KeyboardInterrupt, SystemExit):
            ready.cancel()
            raise
        except BaseException as exc:  # the setup's error, raised by whoever waits for ``ready``
            ready.set_exception(exc)
            return False
        if ready.done():  # whoever waited for the setup gave up on it (Ctrl-C)
            return await _ends(agen)
        ready.set_result(value)
        try:
            await self.release
        except asyncio.CancelledError as cancelled:
            # A scope the fixture entered before ``yield`` cancelled the task (or the loop is
            # closing): the generator sees the cancellation where it waits, at ``yield``.
            return await self._end_early(cancelled)
        return await _ends(agen)

    async def _end_early(self, cancelled: asyncio.CancelledError) -> bool:
        try:
            await self.agen.athrow(cancelled)
        except StopAsyncIteration:
            self.ended = EndedEarly("its generator returned before its teardown")
        except BaseException as exc:  # the scope's error (TimeoutError, an exception group)
            self.ended = exc
        else:
            self.ended = RuntimeError("it yielded a second value when cancelled at its yield")
        on_ended = self.fixture.on_ended
        if on_ended is not None:
            on_ended(self.fixture, self.ended)
        return False


async def _ends(agen: Any) -> bool:
    """Run an async generator's teardown; return whether it yielded again (it must not).

    Its end is a return, not ``StopAsyncIteration`` raised out of the task: the task would keep
    the exception, whose traceback keeps the frames that keep the task, and every task would
    then live until the garbage collector runs (each ``asyncio.all_tasks()`` scan meanwhile
    walks them all).
    """
    try:
        await agen.__anext__()
    except StopAsyncIteration:
        return False
    return True


#: Await chains shown in reports skip these frames of pytest-aioloop's.
TRANSPARENT_CODE.update(
    (HeldFixture.body.__code__, HeldFixture._end_early.__code__, _ends.__code__)
)
