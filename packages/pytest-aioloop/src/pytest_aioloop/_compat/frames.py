"""CPython's view of what another thread is running: the watchdog reads the main thread."""

from __future__ import annotations

import sys
import types

__all__ = ["thread_frame"]


def thread_frame(ident: int) -> types.FrameType | None:
    """Return the frame thread ``ident`` is running now, or ``None`` if it has ended.

    Why private: ``sys._current_frames()`` is CPython's (documented, underscored) way to read
    another thread's stack; the watchdog thread uses it to show what blocks the event loop.
    """
    return sys._current_frames().get(ident)
