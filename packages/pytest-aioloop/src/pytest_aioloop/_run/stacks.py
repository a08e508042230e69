"""Where code is: await chains of tasks, stacks of threads, where functions are defined.

Also how a note is added to an exception (shown under its traceback on every Python).
"""

from __future__ import annotations

import inspect
import sys
import traceback
import types
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import asyncio

#: Code of pytest-aioloop's own awaitable wrappers, which hold the user's coroutine in a local
#: named ``coro`` (or async generator, ``agen``): stack reports step through them to it.
TRANSPARENT_CODE: set[types.CodeType] = set()


def await_chain(task: asyncio.Task[Any]) -> list[str]:
    """Describe where ``task`` is suspended: its await chain, outermost call first."""
    frames: list[tuple[types.FrameType, int]] = []
    awaited: object = task.get_coro()
    for _ in range(200):
        frame = getattr(awaited, "cr_frame", None) or getattr(awaited, "gi_frame", None)
        frame = frame or getattr(awaited, "ag_frame", None)
        if frame is None:
            break
        frames.append((frame, frame.f_lineno))
        if frame.f_code in TRANSPARENT_CODE:
            # pytest-aioloop's own context wrapper: continue into the fixture's coroutine.
            frames.pop()
            local = frame.f_locals
            awaited = local["coro"] if "coro" in local else local.get("agen")
            continue
        awaited = (
            getattr(awaited, "cr_await", None)
            or getattr(awaited, "gi_yieldfrom", None)
            or getattr(awaited, "ag_await", None)
        )
        if awaited is None:
            break
    lines = traceback.StackSummary.extract(iter(frames)).format()
    return [line.rstrip("\n") for line in lines]


def describe_tasks(tasks: list[asyncio.Task[Any]]) -> str:
    """Format the await chains of the pending ones among ``tasks`` (each once)."""
    out: list[str] = []
    seen: set[int] = set()
    for task in tasks:
        if task.done() or id(task) in seen:
            continue
        seen.add(id(task))
        out.append(f"task {task.get_name()!r} was suspended at:")
        chain = await_chain(task)
        out.extend(chain or ["  (no Python frame: it waits on a future or callback)"])
    return "\n".join(out)


def user_stack(frame: types.FrameType | None) -> str:
    """Format the stack of ``frame`` from the first frame asyncio called into."""
    if frame is None:  # pragma: no cover - the main thread is gone
        return "  (the main thread's stack is not available)"
    summary = traceback.extract_stack(frame)
    start = 0
    for index, entry in enumerate(summary):
        parts = entry.filename.replace("\\", "/").split("/")
        if "asyncio" in parts[-2:-1]:
            start = index + 1
    return "".join(traceback.format_list(summary[start:] or summary))


def source_location(func: object) -> tuple[str, int] | None:
    """Return the file and first line of ``func``'s code (through decorators), or ``None``."""
    raw: Any = getattr(func, "__func__", func)
    if callable(raw):
        raw = inspect.unwrap(raw)
    code = getattr(raw, "__code__", None)
    if code is None:
        return None
    return code.co_filename, code.co_firstlineno


def add_note(exc: BaseException, note: str) -> None:
    """Add ``note`` to ``exc``: pytest shows it under the traceback."""
    if sys.version_info >= (3, 11):
        exc.add_note(note)
    else:  # pragma: no cover - Python 3.10: pytest shows __notes__ as well
        exc.__notes__ = [*getattr(exc, "__notes__", []), note]  # type: ignore[attr-defined]
