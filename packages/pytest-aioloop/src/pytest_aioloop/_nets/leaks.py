"""Leaked tasks: an owner's pending tasks when it ends, found without a pass over all tasks.

A task factory on a loop where many owners' tasks live (tests running together) records each
task in its owner's :attr:`~pytest_aioloop._run.owners.Owner.tasks`, so finding an owner's
pending tasks looks at its own few tasks only. An owner's remaining tasks get a few loop
iterations to finish (a handler for a just-closed connection ends soon) before they count.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pytest_aioloop._compat.asyncio_internals import creation_site
from pytest_aioloop._run.owners import OWNER, Owner, owner_of, track

if TYPE_CHECKING:
    import asyncio
else:
    from pytest_aioloop._compat.lazy_asyncio import asyncio

#: Loop iterations an owner's remaining tasks get to finish before they count as leaked.
SETTLE_ITERATIONS = 10


def tracking_factory(loop: asyncio.AbstractEventLoop) -> Any:
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


def pending_by_owner(
    loop: asyncio.AbstractEventLoop, owners: list[Owner]
) -> tuple[dict[Owner, list[asyncio.Task[Any]]], set[asyncio.Task[Any]] | None]:
    """Return the pending tasks of each of ``owners`` (all of ``loop``).

    Owners whose tasks the task factory recorded are looked up directly; for the others, one
    pass over the loop's tasks serves them all. The second value is every pending task of the
    loop when that pass was made (else ``None``).
    """
    found: dict[Owner, list[asyncio.Task[Any]]] = {}
    scanned: list[Owner] = []
    for owner in owners:
        if owner.tracker is not None and loop.get_task_factory() is owner.tracker:
            mine = [task for task in owner.tasks or () if not task.done()]
            if mine:
                found[owner] = mine
        else:
            scanned.append(owner)
    if not scanned:
        return found, None
    everything = asyncio.all_tasks(loop)
    if everything:
        wanted = set(scanned)
        for task in everything:
            of = owner_of(task)
            if of is not None and of in wanted:
                found.setdefault(of, []).append(task)
    return found, everything


def still_pending(
    loop: asyncio.AbstractEventLoop, pending: list[asyncio.Task[Any]]
) -> set[asyncio.Task[Any]]:
    """Let ``pending`` run a few loop iterations; return those that are still not done."""
    _drive(loop, _settle(pending))
    return {task for task in pending if not task.done()}


def describe_leak(owner: Owner, tasks: list[asyncio.Task[Any]]) -> str:
    """Say which tasks ``owner`` left pending, where each was created, and what to do."""
    lines = []
    for task in tasks:
        coro = task.get_coro()
        name = getattr(coro, "__qualname__", repr(coro))
        site = creation_site(task)
        where = (
            f", created at {site}"
            if site
            else " (run with --asyncio-debug to see where it was created)"
        )
        lines.append(f"  task {task.get_name()!r} running {name}(){where}")
    count = f"{len(tasks)} task{'s' if len(tasks) != 1 else ''}"
    them = "them" if len(tasks) != 1 else "it"
    return (
        f"{owner.describe()} left {count} pending; pytest-aioloop cancels {them} when "
        "the event loop closes. Await or cancel "
        f"{them} before the {'test' if owner.kind == 'test' else 'fixture'} ends:\n"
        + "\n".join(lines)
    )


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
