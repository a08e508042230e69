"""What a run stopped from outside (SIGTERM) leaves behind: the tests running and their tasks.

A CI job or an xdist worker killed while an async test hangs prints nothing about that test.
When SIGTERM arrives (the plugin installs the handler only where nothing else handles the
signal), :func:`write_trace` says which tests were running, where the main thread was, and the
await chain of every pending task of every loop pytest-aioloop knows. It goes to stderr and to
a file in pytest's cache (one per xdist worker); the process then ends as SIGTERM ends it.
"""

from __future__ import annotations

import os
import sys
import types
from typing import TYPE_CHECKING, Any

from pytest_aioloop._compat import capture
from pytest_aioloop._compat.asyncio_internals import running_loop
from pytest_aioloop._items.plan import PLAN_KEY
from pytest_aioloop._run.stacks import describe_tasks, user_stack
from pytest_aioloop._session import SessionState

if TYPE_CHECKING:
    import asyncio
else:
    from pytest_aioloop._compat.lazy_asyncio import asyncio

#: The folder in pytest's cache (``.pytest_cache/d/...``) that holds the traces, per process.
TRACE_DIR = "aioloop-traces"


def trace(state: SessionState, frame: types.FrameType | None, why: str) -> str:
    """The tests running now, where the main thread is, and every loop's pending tasks."""
    running = list(state.active) or (
        [state.current_item.nodeid] if state.current_item is not None else []
    )
    lines = [f"pytest-aioloop: {why} while these tests ran: {', '.join(running) or '(none)'}"]
    lines += ["The main thread was here:", user_stack(frame)]
    for loop in _loops(state):
        tasks = [t for t in asyncio.all_tasks(loop) if not t.done()]
        if tasks:
            lines.append(f"Pending tasks of {loop!r}:")
            lines.append(describe_tasks(tasks))
    return "\n".join(lines) + "\n"


def write_trace(state: SessionState, frame: types.FrameType | None, why: str) -> None:
    """Write :func:`trace` to stderr and to this process's file in pytest's cache.

    pytest's capture is suspended first (a test's phase may be capturing stderr), and what the
    running test wrote so far is added.
    """
    out, err = capture.pause(state.config)
    text = trace(state, frame, why)
    for name, captured in (("stdout", out), ("stderr", err)):
        if captured:
            text += f"What the running test wrote to {name} so far:\n{captured}\n"
    sys.stderr.write(text)
    sys.stderr.flush()
    cache: Any = getattr(state.config, "cache", None)
    if cache is None:
        return
    worker = getattr(state.config, "workerinput", {}).get("workerid", "main")
    path = cache.mkdir(TRACE_DIR) / f"{worker}-{os.getpid()}.txt"
    path.write_text(text)
    sys.stderr.write(f"pytest-aioloop: this trace is also in {path}\n")


def _loops(state: SessionState) -> list[asyncio.AbstractEventLoop]:
    """Every open loop pytest-aioloop knows of, each once."""
    found: dict[int, asyncio.AbstractEventLoop] = {}
    candidates: list[Any] = [running_loop()]
    item = state.current_item
    if item is not None and PLAN_KEY in item.stash:
        run = item.stash[PLAN_KEY].run
        candidates.append(run.loop if run is not None else None)
    candidates += state.fixture_loops.values()
    candidates += [entry[1] for entry in state.user_event_loops.values()]
    if state.made("loops"):
        candidates += state.loops.live()
    for loop in candidates:
        if loop is not None and not loop.is_closed():
            found.setdefault(id(loop), loop)
    return list(found.values())
