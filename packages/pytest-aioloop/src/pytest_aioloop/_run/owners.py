"""Who owns a task: the test or async fixture whose code, or task tree, created it.

The runner runs a test's coroutine, and each step of an async fixture, in a context where
:data:`OWNER` names that test or fixture. asyncio copies the creator's context into every task
and callback, so a task inherits the owner of whoever created it, however deep the tree: a
task started by a fixture's background task belongs to that fixture, also while a test runs.
The nets read the owner back from a task's (or callback's) context. On loops where many tasks
of many owners live (tests running together), the nets' task factory also records each task in
its owner's :attr:`Owner.tasks` (:func:`track`), so that finding an owner's pending tasks does
not need a pass over all the loop's tasks.
"""

from __future__ import annotations

import contextvars
import weakref
from typing import TYPE_CHECKING, Any, Literal

from pytest_aioloop._compat.asyncio_internals import handle_context, task_context

if TYPE_CHECKING:
    import asyncio
    from asyncio import AbstractEventLoop
else:
    from pytest_aioloop._compat.lazy_asyncio import asyncio


class Owner:
    """A test's call or one set-up async fixture: what the nets attribute what they find to."""

    __slots__ = (
        "finished",
        "kind",
        "loop",
        "name",
        "nodeid",
        "scope",
        "stepped",
        "task",
        "tasks",
        "tracker",
        "where",
    )

    def __init__(
        self,
        kind: Literal["test", "fixture"],
        name: str,
        nodeid: str,
        scope: str = "function",
        where: tuple[str, int] | None = None,
    ) -> None:
        self.kind = kind
        #: The test's node id, or the fixture's name.
        self.name = name
        #: The node id of the test during whose setup (or call) it began.
        self.nodeid = nodeid
        #: The fixture's caching scope (``function`` for a test).
        self.scope = scope
        #: Where its code is defined (file, line), for warnings; ``None`` when unknown.
        self.where = where
        #: The loop it runs in, once known.
        self.loop: AbstractEventLoop | None = None
        #: Set when the nets have looked for what it left behind.
        self.finished = False
        #: The tasks it created (weakly), recorded by the nets' task factory on its loop.
        self.tasks: weakref.WeakSet[asyncio.Task[Any]] | None = None
        #: The task factory that records them (``None``: the loop has another; scan instead).
        self.tracker: object = None
        #: Whether a step of its code ran (or was handed to a lane) yet: before that, it has
        #: created no task.
        self.stepped = False
        #: A test's own task, once its call started it (weakly: the task's context holds the
        #: owner, and a cycle would wait for the garbage collector).
        self.task: weakref.ref[asyncio.Task[Any]] | None = None

    def ran(self, task: asyncio.Task[Any]) -> None:
        """Keep (weakly) the test's own task: the runner started it."""
        self.task = weakref.ref(task)

    def describe(self) -> str:
        """Name the owner at the start of a report line (listed under its test's node id)."""
        if self.kind == "test":
            return "The test"
        return f"Async fixture {self.name!r} ({self.scope} scope, set up for {self.nodeid})"

    def prefix(self) -> str:
        """What precedes a finding about the owner: nothing for the test itself."""
        return "" if self.kind == "test" else f"{self.describe()}: "


#: The owner of the code running in the current context (``None``: nobody we track).
OWNER: contextvars.ContextVar[Owner | None] = contextvars.ContextVar(
    "pytest_aioloop_owner", default=None
)


def owner_of(task: asyncio.Future[Any]) -> Owner | None:
    """Return the owner of ``task`` (``None`` for futures and tasks nobody we track made)."""
    ctx = task_context(task)
    return ctx.get(OWNER) if ctx is not None else None


def owner_of_handle(handle: object) -> Owner | None:
    """Return the owner of a callback handle (the context it was scheduled in)."""
    ctx = handle_context(handle)
    return ctx.get(OWNER) if ctx is not None else None


def pending_tasks(loop: asyncio.AbstractEventLoop, owner: Owner) -> list[asyncio.Task[Any]]:
    """Return the tasks of ``loop`` that ``owner`` created and that are still pending.

    Where the nets' task factory recorded them, that is a look at the owner's own few tasks;
    otherwise (the loop got another factory) a pass over all the loop's tasks.
    """
    if loop.is_closed():
        return []
    if owner.tracker is not None and loop.get_task_factory() is owner.tracker:
        return [task for task in owner.tasks or () if not task.done()]
    return [task for task in asyncio.all_tasks(loop) if owner_of(task) is owner]


def track(owner: Owner, task: asyncio.Task[Any]) -> None:
    """Record that ``owner`` created ``task`` (weakly)."""
    tasks = owner.tasks
    if tasks is None:
        tasks = owner.tasks = weakref.WeakSet()
    tasks.add(task)
