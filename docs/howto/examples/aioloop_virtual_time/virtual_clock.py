"""An event loop whose clock jumps ahead to the next timer whenever it would wait for it."""

from __future__ import annotations

import asyncio
import selectors


class _JumpingSelector(selectors.DefaultSelector):
    """Polls for I/O; instead of sleeping until the next timer, it moves the clock there."""

    def __init__(self) -> None:
        super().__init__()
        self.skipped = 0.0

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        if timeout is None or timeout <= 0:
            # No timer pending (wait for I/O as usual), or work is ready (just poll).
            return super().select(timeout)
        ready = super().select(0)
        if not ready:
            self.skipped += timeout  # idle until the next timer: skip the wait
        return ready


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """A selector loop whose ``time()`` is real time plus every idle wait it skipped."""

    def __init__(self) -> None:
        self._jumping = _JumpingSelector()
        super().__init__(self._jumping)

    def time(self) -> float:
        return super().time() + self._jumping.skipped
