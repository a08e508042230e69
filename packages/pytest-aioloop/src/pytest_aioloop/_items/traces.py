"""What a hung run leaves behind: the tests running, where the main thread is, every task.

A CI job or an xdist worker killed while an async test hangs prints nothing about that test.
When SIGTERM arrives (the plugin installs the handler only where nothing else handles the
signal), :func:`write_trace` says which tests were running, where the main thread was, and the
await chain of every pending task of every loop pytest-aioloop knows (on Python 3.14+, also
which task awaits which). It goes to stderr and to a file in pytest's cache (one per xdist
worker); the process then ends as SIGTERM ends it.

With ``asyncio_stall_report``, :class:`StallReport` writes the same when no test has finished
for that long, from the watchdog thread, once per stall; the run goes on.
"""

from __future__ import annotations

import os
import sys
import time
import types
from typing import TYPE_CHECKING, Any

from pytest_aioloop._compat import capture
from pytest_aioloop._compat.asyncio_internals import running_loop
from pytest_aioloop._run.stacks import describe_tasks, user_stack
from pytest_aioloop._session import SessionState

if TYPE_CHECKING:
    import asyncio

    from pytest_aioloop._items.plan import ItemPlan
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
            lines += _call_graphs(tasks)
    return "\n".join(lines) + "\n"


def _call_graphs(tasks: list[asyncio.Task[Any]]) -> list[str]:
    """On Python 3.14+, asyncio's call graph of each task awaited by another task."""
    format_graph = getattr(asyncio, "format_call_graph", None)
    if format_graph is None:
        return []
    graphs = []
    for task in tasks:
        try:
            graph = asyncio.capture_call_graph(task)  # type: ignore[attr-defined,unused-ignore]
            if graph is not None and graph.awaited_by:
                graphs.append(format_graph(task))
        except Exception:  # pragma: no cover - the task moved on meanwhile (another thread)
            continue
    return ["Which task awaits which (asyncio.capture_call_graph):", *graphs] if graphs else []


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
    path = _save(state, text)
    if path is not None:
        sys.stderr.write(f"pytest-aioloop: this trace is also in {path}\n")


def _save(state: SessionState, text: str) -> Any:
    """Write ``text`` to this process's file in pytest's cache; return its path (or ``None``)."""
    cache: Any = getattr(state.config, "cache", None)
    if cache is None:
        return None
    worker = getattr(state.config, "workerinput", {}).get("workerid", "main")
    path = cache.mkdir(TRACE_DIR) / f"{worker}-{os.getpid()}.txt"
    path.write_text(text)
    return path


class StallReport:
    """Writes a trace when no test has finished for ``seconds`` (watched by the watchdog).

    The test's phases go on meanwhile, capturing their output: the trace goes to a copy of the
    process's stderr made before any test ran (``stderr_fd``), as pytest's own faulthandler
    timeout does, and to the file in pytest's cache.
    """

    def __init__(self, state: SessionState, seconds: float, stderr_fd: int | None) -> None:
        self.state = state
        self.seconds = seconds
        self.stderr_fd = stderr_fd
        #: When a test last finished (or the session started; monotonic seconds).
        self.last = time.monotonic()
        #: The :attr:`last` of the stall reported already (a stall is reported once).
        self._reported = -1.0

    def progress(self) -> None:
        """A test finished (or the debugger let the run go on): the stall clock starts again."""
        self.last = time.monotonic()

    # -- in the watchdog thread ---------------------------------------------------------------
    def next_check(self, now: float) -> float:
        """When the stall is long enough to report (once reported: until the next progress)."""
        if self._reported == self.last:
            return now + self.seconds
        return self.last + self.seconds

    def check(self, now: float, frame: types.FrameType | None) -> None:
        """Write the trace if no test finished for :attr:`seconds`."""
        last = self.last
        if self._reported == last or now < last + self.seconds:
            return
        self._reported = last
        try:
            text = trace(self.state, frame, f"no test finished for {self.seconds:g} s")
        except RuntimeError:  # pragma: no cover - a dict changed in the main thread meanwhile
            return
        path = _save(self.state, text)
        if path is not None:
            text += f"pytest-aioloop: this trace is also in {path}\n"
        if self.stderr_fd is not None:
            os.write(self.stderr_fd, text.encode(errors="replace"))
        elif sys.__stderr__ is not None:  # pragma: no cover - stderr had no file descriptor
            sys.__stderr__.write(text)


def _loops(state: SessionState) -> list[asyncio.AbstractEventLoop]:
    """Every open loop pytest-aioloop knows of, each once."""
    found: dict[int, asyncio.AbstractEventLoop] = {}
    candidates: list[Any] = [running_loop()]
    item = state.current_item
    plan: ItemPlan | None = state.plans.get(item) if item is not None else None
    if plan is not None:
        candidates.append(plan.run.loop if plan.run is not None else None)
    candidates += state.fixture_loops.values()
    candidates += [entry[1] for entry in state.user_event_loops.values()]
    if state.made("loops"):
        candidates += state.loops.live()
    for loop in candidates:
        if loop is not None and not loop.is_closed():
            found.setdefault(id(loop), loop)
    return list(found.values())
