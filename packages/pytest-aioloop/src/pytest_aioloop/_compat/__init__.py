"""The only place that touches private pytest or asyncio internals, each with its reason.

Everything else in pytest-aioloop uses public API. Each function below documents why no public
API serves, and degrades gracefully if the private attribute disappears.
"""

from __future__ import annotations

import contextvars
import functools
import gc
import importlib
import sys
import warnings
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    import asyncio
else:
    from pytest_aioloop._lazy import asyncio

__all__ = [
    "abandon_task",
    "creation_site",
    "current_loop",
    "drop_registration_history",
    "finish_with",
    "fixturedefs_of_item",
    "get_policy",
    "handle_context",
    "has_policies",
    "is_current_loop",
    "is_test_function",
    "may_have_asyncgens",
    "may_have_executor",
    "restore_current_loop",
    "save_current_loop",
    "set_current_loop",
    "set_policy",
    "taken_option_names",
    "task_context",
    "visible_fixturedefs",
]

_PY314 = sys.version_info >= (3, 14)
_PY312 = sys.version_info >= (3, 12)


def fixturedefs_of_item(item: pytest.Item) -> Mapping[str, Sequence[pytest.FixtureDef[Any]]]:
    """Return the fixture definitions visible to ``item``, by name.

    Why private: pytest exposes the closure's names (``item.fixturenames``) but not which
    definition each name resolves to. We need it once per test at collection time to know
    whether a name is an async fixture and with which loop scope; pytest-asyncio reads the
    same attribute.
    """
    request = getattr(item, "_request", None)
    table = getattr(request, "_arg2fixturedefs", None) if request else None
    if isinstance(table, dict):
        return table  # the test's own table: also its own fixture copies when concurrent
    info = getattr(item, "_fixtureinfo", None)
    mapping = getattr(info, "name2fixturedefs", None)
    return mapping if mapping is not None else {}


def visible_fixturedefs(node: pytest.Item | pytest.Collector, name: str) -> Sequence[Any]:
    """Return the definitions of fixture ``name`` visible to ``node`` (last one wins).

    Why private: used to tell a user-defined ``event_loop``/``event_loop_policy`` override
    from ours inside a fixture request, where no public API names the winning definition.
    """
    manager = getattr(node.session, "_fixturemanager", None)
    if manager is None:  # pragma: no cover - pytest internals changed
        return ()
    return manager.getfixturedefs(name, node) or ()


def is_test_function(collector: pytest.Collector, obj: object, name: str) -> bool:
    """Whether pytest collects ``obj`` (called ``name`` in ``collector``) as a test function.

    Why private: pytest's collectors decide this with ``istestfunction`` (the
    ``python_functions`` patterns and the rules for fixtures and staticmethods), which the
    documented API does not expose; pytest-asyncio calls the same collector methods. Used to
    mark only real tests, never a helper that happens to sit in a test module.
    """
    check = getattr(collector, "istestfunction", None)
    if check is None:  # pragma: no cover - pytest internals changed
        return name.startswith("test")
    return bool(check(obj, name))


def finish_with(
    request: pytest.FixtureRequest, name: str, dependant: pytest.FixtureDef[Any]
) -> None:
    """Tear ``dependant`` down whenever fixture ``name`` is torn down (e.g. its param changes).

    Why private: pytest links a fixture to the fixtures it depends on only for the names in its
    signature. An async fixture depends on the test's loop factory without naming it, and
    must be made again in the next factory's loop, so we add the same link pytest would.
    """
    defs = visible_fixturedefs(request.node, name)
    if defs:
        sub: Any = request  # a SubRequest: fixtures get one
        defs[-1].addfinalizer(functools.partial(dependant.finish, request=sub))


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


def current_loop() -> asyncio.AbstractEventLoop | None:
    """Return the current loop of the main thread, or ``None``, creating none."""
    return save_current_loop()[1]  # type: ignore[no-any-return]


def is_current_loop(loop: asyncio.AbstractEventLoop) -> bool:
    """Whether ``loop`` is already the current loop (then there is nothing to install)."""
    if _PY314:
        return current_loop() is loop
    local = getattr(asyncio.get_event_loop_policy(), "_local", None)
    return getattr(local, "_loop", None) is loop


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


def drop_registration_history(pluginmanager: pytest.PytestPluginManager, plugin: object) -> None:
    """Forget that ``plugin`` was ever registered, after it was unregistered.

    Why private: ``pytest_plugin_registered`` is a historic hook, so pytest's fixture manager,
    created after every plugin has loaded, replays each registration it missed, also of a
    plugin unregistered since, and would collect that plugin's fixtures. pytest-aioloop
    unregisters pytest-asyncio when both are installed; without this, pytest-asyncio's
    ``unused_tcp_port`` could silently win over pytest-ports'. pluggy keeps the replayed calls
    in ``HookCaller._call_history``.
    """
    caller = getattr(pluginmanager.hook, "pytest_plugin_registered", None)
    history = getattr(caller, "_call_history", None)
    if isinstance(history, list):
        history[:] = [entry for entry in history if entry[0].get("plugin") is not plugin]


def taken_option_names(parser: pytest.Parser, group: str) -> set[str]:
    """Return the command-line flags another plugin already added to option group ``group``.

    Why private: ``Parser`` does not say which flags exist; adding a taken one fails only when
    pytest parses the command line, with an argparse traceback. ``OptionGroup.options`` holds
    them. Used when pytest-asyncio loaded first and registered ``--asyncio-mode`` itself.
    """
    found: set[str] = set()
    for option in getattr(parser.getgroup(group), "options", ()):
        names = getattr(option, "names", None)
        if callable(names):
            found.update(names())
    return found


def creation_site(task: asyncio.Future[Any]) -> str | None:
    """Return where ``task`` was created, known only when its loop runs in debug mode.

    Why private: asyncio records it in ``_source_traceback`` (debug mode) and shows it only in
    ``repr``; we want just the innermost user frame.
    """
    frames = getattr(task, "_source_traceback", None)
    if not frames:
        return None
    for frame in reversed(frames):
        folder = frame.filename.replace("\\", "/").split("/")[-2:-1]
        if "asyncio" not in folder and "pytest_aioloop" not in folder:
            return f"{frame.filename}:{frame.lineno} in {frame.name}"
    last = frames[-1]
    return f"{last.filename}:{last.lineno} in {last.name}"


def abandon_task(task: asyncio.Task[Any]) -> None:
    """Silence "Task was destroyed but it is pending!" for a task given up on purpose.

    Why private: a task that ignores cancellation cannot be finished; its loop is closed with
    the task pending, and asyncio would log a misleading error when it is collected later.
    """
    task._log_destroy_pending = False  # type: ignore[attr-defined]


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
