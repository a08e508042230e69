"""What watches the whole run: a trace on SIGTERM or a stall, unawaited coroutines blamed.

Started by the plugin's configuration and session-start hooks, stopped when the session ends
or pytest cleans up. Each writes or reports only when something happens: the trace
(``_items.traces``) on SIGTERM or when no test has finished for ``asyncio_stall_report``
seconds, and unawaited coroutines (``_nets.unawaited``) when Python finds one.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import types
from typing import Any

import pytest

from pytest_aioloop._compat.unawaited import take_over
from pytest_aioloop._session import STATE_KEY, SessionState


def configure(config: pytest.Config, state: SessionState) -> None:
    """Copy stderr for the stall report while pytest's capture is off (as its faulthandler).

    Tests capture their output while the report is written there.
    """
    if state.settings.stall_report is None:
        return
    try:
        fd = os.dup(sys.stderr.fileno())
    except (AttributeError, ValueError, OSError):  # no real stderr (embedded, redirected)
        return
    state.stderr_copy = fd
    config.add_cleanup(lambda: os.close(fd))


def start(session: pytest.Session) -> None:
    """Trace on SIGTERM and on stalls, and blame unawaited coroutines, from now on."""
    config = session.config
    state = config.stash[STATE_KEY]
    _trace_on_sigterm(config)
    if state.settings.unawaited != "ignore":

        def found(coro: Any) -> str | None:
            return state.unawaited_net(session).found(coro)

        state.stop_unawaited = take_over(found)
        state.track_origins = state.stop_unawaited is not None
    if state.settings.stall_report is not None:
        _report_stalls(config, state, state.settings.stall_report)


def stop_unawaited(state: SessionState) -> None:
    """Give Python's "never awaited" warning back (the session ends)."""
    if state.stop_unawaited is not None:
        state.stop_unawaited()
        state.stop_unawaited = None


def _trace_on_sigterm(config: pytest.Config) -> None:
    """Write what runs when SIGTERM stops the run, where nothing else handles the signal."""
    term = getattr(signal, "SIGTERM", None)
    if (
        term is None
        or threading.current_thread() is not threading.main_thread()
        or signal.getsignal(term) is not signal.SIG_DFL
    ):
        return

    def on_sigterm(signum: int, frame: types.FrameType | None) -> None:
        from pytest_aioloop._items.traces import write_trace  # only when it happens

        try:
            write_trace(config.stash[STATE_KEY], frame, "SIGTERM")
        finally:  # then end as SIGTERM ends a process
            signal.signal(term, signal.SIG_DFL)
            os.kill(os.getpid(), term)

    signal.signal(term, on_sigterm)
    config.add_cleanup(lambda: _stop_tracing(term, on_sigterm))


def _stop_tracing(term: int, handler: Any) -> None:
    if threading.current_thread() is threading.main_thread() and signal.getsignal(term) is handler:
        signal.signal(term, signal.SIG_DFL)


def _report_stalls(config: pytest.Config, state: SessionState, seconds: float) -> None:
    """Write a trace when no test finishes for ``seconds`` (the watchdog thread looks)."""
    from pytest_aioloop._items.traces import StallReport

    stall = StallReport(state, seconds, state.stderr_copy)
    state.stall = stall
    state.watchdog.watch(stall)

    def stop() -> None:
        state.watchdog.unwatch(stall)
        state.stall = None

    config.add_cleanup(stop)
