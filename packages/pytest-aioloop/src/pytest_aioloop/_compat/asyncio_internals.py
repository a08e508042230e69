"""Private asyncio internals: the current loop, task and handle contexts, what a loop holds.

Each function says why no public API serves, and degrades gracefully where the private
attribute has gone.
"""

from __future__ import annotations

import contextvars
import gc
import importlib
import sys
import warnings
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import asyncio
else:
    from pytest_aioloop._compat.lazy_asyncio import asyncio

__all__ = [
    "SavedLoop",
    "abandon_task",
    "creation_site",
    "current_loop",
    "get_policy",
    "handle_context",
    "has_policies",
    "hide_task",
    "installed",
    "is_current_loop",
    "may_have_asyncgens",
    "may_have_executor",
    "restore_current_loop",
    "running_loop",
    "save_current_loop",
    "selector_of",
    "set_current_loop",
    "set_policy",
    "task_context",
]

_PY314 = sys.version_info >= (3, 14)
_PY312 = sys.version_info >= (3, 12)


def has_policies() -> bool:
    """Whether this Python still has asyncio's event loop policies (removed in 3.16)."""
    # Not hasattr(): on 3.14+ reaching a deprecated name through the module warns.
    return "get_event_loop_policy" in vars(importlib.import_module("asyncio"))


def get_policy() -> asyncio.AbstractEventLoopPolicy:
    """Return the current event loop policy without Python 3.14's DeprecationWarning.

    Called only where a user-defined ``event_loop_policy`` fixture, or a test asking for the
    built-in one, needs it: pytest-aioloop itself does not use policies on 3.14+.
    """
    if not _PY314:
        return asyncio.get_event_loop_policy()
    with warnings.catch_warnings():  # pragma: no cover - Python 3.14+
        warnings.simplefilter("ignore", DeprecationWarning)
        return asyncio.get_event_loop_policy()


def set_policy(policy: asyncio.AbstractEventLoopPolicy | None) -> None:
    """Install ``policy`` without Python 3.14's DeprecationWarning."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        asyncio.set_event_loop_policy(policy)


def set_current_loop(loop: asyncio.AbstractEventLoop | None) -> None:
    """Make ``loop`` the current loop of the main thread (``asyncio.get_event_loop()``)."""
    asyncio.set_event_loop(loop)


#: What :func:`save_current_loop` returns: the policy's loop and whether one was ever set
#: (before 3.14), or just the current loop (3.14+).
SavedLoop = tuple[Any, Any, Any]


def save_current_loop() -> SavedLoop:
    """Remember the current loop without creating one.

    Why private, before 3.14: ``asyncio.get_event_loop()`` creates a loop when none is set
    (3.10-3.13, with a DeprecationWarning on 3.12+), so it cannot tell "no loop yet" from "a
    loop". The default policies keep the loop in ``_local._loop`` and a ``_set_called`` flag;
    restoring both gives the next test exactly the state the previous one found. From 3.14,
    ``get_event_loop()`` raises instead of creating one, and no policy is touched.
    """
    if _PY314:
        try:
            return None, asyncio.get_event_loop(), None
        except RuntimeError:
            return None, None, None
    policy = asyncio.get_event_loop_policy()
    local = getattr(policy, "_local", None)
    return policy, getattr(local, "_loop", None), getattr(local, "_set_called", None)


def restore_current_loop(saved: SavedLoop) -> None:
    """Undo what happened to the current loop since :func:`save_current_loop`."""
    policy, loop, set_called = saved
    if loop is not None and loop.is_closed():
        loop = None
    local = getattr(policy, "_local", None) if policy is not None else None
    if local is not None and hasattr(local, "_loop"):
        local._loop = loop
        if set_called is not None:
            local._set_called = set_called
        return
    set_current_loop(loop)


class installed:
    """Make ``loop`` the current loop for a ``with`` block, then put the previous state back."""

    __slots__ = ("_loop", "_saved")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def __enter__(self) -> None:
        self._saved = save_current_loop()
        set_current_loop(self._loop)

    def __exit__(self, *exc_info: object) -> None:
        restore_current_loop(self._saved)


def current_loop() -> asyncio.AbstractEventLoop | None:
    """Return the current loop of the main thread, or ``None``, creating none."""
    return save_current_loop()[1]  # type: ignore[no-any-return]


def is_current_loop(loop: asyncio.AbstractEventLoop) -> bool:
    """Whether ``loop`` is already the current loop (then there is nothing to install)."""
    if _PY314:
        return current_loop() is loop
    local = getattr(asyncio.get_event_loop_policy(), "_local", None)
    return getattr(local, "_loop", None) is loop


def running_loop() -> asyncio.AbstractEventLoop | None:
    """Return the loop running in this thread, or ``None`` (without raising, unlike the public
    ``asyncio.get_running_loop()``).

    Why private: ``asyncio._get_running_loop()`` is the low-level form asyncio exports for
    libraries; asked before each async fixture step, where no loop runs almost always, the
    public function would raise and catch ``RuntimeError`` every time.
    """
    return asyncio._get_running_loop()


def task_context(task: asyncio.Future[Any]) -> contextvars.Context | None:
    """Return the context a task runs its steps in (``None`` for a plain future).

    Why private before 3.12: ``Task.get_context()`` is public from 3.12. Before, the pure-Python
    task keeps it in ``_context`` and the C task does not expose it at all; its garbage
    collector traversal visits the task's own context first (before the contexts of callbacks
    waiting on it), so it is the first ``Context`` among ``gc.get_referents(task)``. This is
    read only when a net needs an owner (a pending task at a test's end, a failing task), never
    per task created.
    """
    if _PY312:
        get = getattr(task, "get_context", None)
        return get() if get is not None else None
    found = getattr(task, "_context", None)
    if isinstance(found, contextvars.Context):
        return found
    if not isinstance(task, asyncio.Task):
        return None
    for referent in gc.get_referents(task):
        if isinstance(referent, contextvars.Context):
            return referent
    return None


def handle_context(handle: object) -> contextvars.Context | None:
    """Return the context a callback handle runs in.

    Why private before 3.12: ``Handle.get_context()`` is public from 3.12; before, the context
    is only in ``_context``.
    """
    if _PY312:
        get = getattr(handle, "get_context", None)
        return get() if callable(get) else None
    found = getattr(handle, "_context", None)
    return found if isinstance(found, contextvars.Context) else None


def creation_site(task: asyncio.Future[Any]) -> str | None:
    """Return where ``task`` was created, known only when its loop runs in debug mode.

    Why private: asyncio records it in ``_source_traceback`` (debug mode) and shows it only in
    ``repr``; we want just the innermost user frame.
    """
    frames = getattr(task, "_source_traceback", None)
    if not frames:
        return None
    for frame in reversed(frames):
        parts = frame.filename.replace("\\", "/").split("/")
        if "asyncio" not in parts[-2:-1] and "pytest_aioloop" not in parts[:-1]:
            return f"{frame.filename}:{frame.lineno} in {frame.name}"
    last = frames[-1]
    return f"{last.filename}:{last.lineno} in {last.name}"


def abandon_task(task: asyncio.Task[Any]) -> None:
    """Silence "Task was destroyed but it is pending!" for a task given up on purpose.

    Why private: a task that ignores cancellation cannot be finished; its loop is closed with
    the task pending, and asyncio would log a misleading error when it is collected later.
    """
    task._log_destroy_pending = False  # type: ignore[attr-defined]


def hide_task(task: asyncio.Task[Any]) -> None:
    """Leave ``task`` out of ``asyncio.all_tasks()`` (an async fixture's own task).

    Why private: an async generator fixture runs in one task from its setup to its teardown,
    which pytest-asyncio's fixtures do not; suites that cancel or count "all the tasks" during
    a test (cleanup helpers, ``assert all_tasks() == {current_task()}``) must not see it, as
    they do not under pytest-asyncio. asyncio has no public way to leave a task out; its
    registry's ``_unregister_task`` (Python 3.7 to 3.15) does. The task still runs; the plugin
    keeps it and ends it at the fixture's teardown. Where the function has gone, the task
    stays listed.
    """
    unregister = getattr(asyncio.tasks, "_unregister_task", None)
    if unregister is not None:
        unregister(task)


def may_have_asyncgens(loop: asyncio.AbstractEventLoop) -> bool:
    """Whether ``loop`` may have async generators left to close (``True`` when unknown).

    Why private: base event loops track live async generators in ``_asyncgens``; when it is
    empty, ``shutdown_asyncgens()`` would be a loop round trip that does nothing.
    """
    gens = getattr(loop, "_asyncgens", None)
    return gens is None or bool(gens)


def may_have_executor(loop: asyncio.AbstractEventLoop) -> bool:
    """Whether ``loop`` may have a default executor to shut down (``True`` when unknown).

    Why private: base event loops create ``_default_executor`` on first use; while it is
    ``None``, ``shutdown_default_executor()`` would be a loop round trip that does nothing.
    """
    return getattr(loop, "_default_executor", True) is not None


def selector_of(loop: asyncio.AbstractEventLoop) -> Any:
    """Return the selector a selector event loop waits for I/O with, or ``None``.

    Why private: the virtual clock (``_loop.virtual_time``) replaces the loop's wait for I/O,
    where the loop sleeps until its next timer; asyncio's selector loops keep their selector
    in ``_selector``, and no public API reaches it (a selector can only be given to a loop
    made by hand, not to the loops pytest-aioloop and its factories make).
    """
    if not isinstance(loop, asyncio.BaseEventLoop):
        return None
    selector = getattr(loop, "_selector", None)
    return selector if callable(getattr(selector, "select", None)) else None
