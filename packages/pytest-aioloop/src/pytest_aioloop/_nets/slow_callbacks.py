"""Slow callbacks: asyncio's debug mode times each callback and logs the slow ones.

:func:`watch` switches that on for one loop and hands each slow callback's line to a sink:
the nets for a test that runs alone, a group for tests that run together (which names the
test from the task in the line).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import asyncio

#: asyncio names our wrappers as a task's creator; that frame is ours, not the user's.
_OUR_FRAME = re.compile(r" created at \S*pytest_aioloop[/\\](?:\w+[/\\])*\w+\.py:\d+")


def watch(
    loop: asyncio.AbstractEventLoop, threshold: float, sink: Callable[[str], None]
) -> Callable[[], None]:
    """Time ``loop``'s callbacks; give ``sink`` a line for each slower than ``threshold`` s.

    Return the undo: it puts the loop's debug mode and threshold back as they were.
    """
    debug = loop.get_debug()
    duration = getattr(loop, "slow_callback_duration", 0.1)
    loop.set_debug(True)
    loop.slow_callback_duration = threshold
    recorder = SlowCallbackRecorder(sink)
    logger = logging.getLogger("asyncio")
    logger.addHandler(recorder)

    def undo() -> None:
        logger.removeHandler(recorder)
        if not loop.is_closed():
            loop.set_debug(debug)
            loop.slow_callback_duration = duration

    return undo


class SlowCallbackRecorder(logging.Handler):
    """Collects asyncio's debug-mode 'Executing ... took N seconds' records."""

    def __init__(self, sink: Callable[[str], None]) -> None:
        super().__init__(logging.WARNING)
        self.sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        if isinstance(record.msg, str) and record.msg.startswith("Executing"):
            args = record.args if isinstance(record.args, tuple) else ()
            if len(args) == 2:
                handle = _OUR_FRAME.sub("", str(args[0]))
                self.sink(f"{handle} held the event loop for {float(str(args[1])):.3f} s")
            else:  # pragma: no cover - asyncio changed its message
                self.sink(record.getMessage())
