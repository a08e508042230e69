"""Output, log records and warnings of tests that run concurrently, each to its own test.

While a group of tests runs, ``sys.stdout``/``sys.stderr`` are streams that ask who is writing
(the owner of the running code, :data:`pytest_aioloop._run.owners.OWNER`) and send the text to
that test's buffer; a handler on the root logger does the same for log records, and a
``warnings.showwarning`` for warnings. Text of the test whose setup or teardown is running (its
"phase") goes to pytest's own capture instead, as without concurrency. Nothing is attributed
for code without an owner: threads, C code writing to file descriptors 1 and 2.
"""

from __future__ import annotations

import contextvars
import io
import logging
import sys
import warnings
from collections.abc import Callable
from typing import Any, TextIO

import pytest

from pytest_aioloop._run.owners import OWNER

#: The test whose lane runs the current code (``_concurrency.lanes``): code there is no task's,
#: so it has no owner, but what it logs or warns is that test's.
LANE_OF: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "pytest_aioloop_lane", default=None
)


class Output:
    """What one running test wrote, logged and warned, by the phase it was in."""

    __slots__ = ("lane", "sections", "warnings", "when")

    def __init__(self) -> None:
        #: The test's phase: ``setup``, ``call`` (its task runs) or ``teardown``.
        self.when = "setup"
        #: ``(phase, "stdout" | "stderr" | "log")``: the text, in pieces.
        self.sections: dict[tuple[str, str], list[str]] = {}
        self.warnings: list[warnings.WarningMessage] = []
        #: The test's lane while it sets up or tears down in one (``_concurrency.lanes``): its
        #: text goes there, to pytest's capture of the phase, when the lane resumes.
        self.lane: Any = None

    def write(self, key: str, text: str) -> None:
        """Keep ``text`` for the test's current phase (``key``: ``stdout`` or ``stderr``)."""
        lane = self.lane
        if lane is not None and self.when != "call":
            if key == "stdout":
                lane.out += text
            else:
                lane.err += text
            return
        self.sections.setdefault((self.when, key), []).append(text)

    def add_sections(self, item: pytest.Item, when: str) -> None:
        """Add what was kept for phase ``when`` to ``item``'s report sections."""
        for key, joiner in (("stdout", ""), ("stderr", ""), ("log", "\n")):
            pieces = self.sections.pop((when, key), None)
            if pieces:
                item.add_report_section(when, key, joiner.join(pieces))


class Router:
    """Routes what running tests write, log and warn to their own :class:`Output`."""

    def __init__(self, log_format: str, date_format: str | None, level: int | None) -> None:
        self.outputs: dict[str, Output] = {}
        #: The test whose setup, call report or teardown is running (its text is pytest's).
        self.phase: str | None = None
        #: The test whose lane waits for the step the current task runs (see ``lanes``).
        self.stepping: Callable[[], str | None] | None = None
        self._formatter = logging.Formatter(log_format, date_format)
        self._level = level
        self._handler: _LogHandler | None = None
        self._root_level: int | None = None
        #: pytest's own streams and our wrapper of each (pytest puts the same ones back at each
        #: phase, so one wrapper each serves the whole group).
        self._streams: dict[int, _Stream] = {}
        #: The handlers that carry :attr:`_keep_out` until the group ends.
        self._filtered: list[logging.Handler] = []
        #: The root logger's handlers when they were last filtered (unchanged: nothing to do).
        self._seen: list[logging.Handler] = []
        self._keep_out = _OtherTests(self)
        #: ``warnings.showwarning`` while routing (one object, so it can be recognised), and
        #: the one it stands in front of.
        self._show: Any = self._show_warning
        self._previous_show: Any = warnings.showwarning

    def open(self, nodeid: str) -> Output:
        """Start collecting for ``nodeid``."""
        output = self.outputs[nodeid] = Output()
        return output

    def close(self, nodeid: str) -> Output:
        """Stop collecting for ``nodeid``; return what it wrote."""
        return self.outputs.pop(nodeid, None) or Output()

    def discard(self, nodeid: str) -> None:
        """Stop collecting for ``nodeid``, if that was not done yet."""
        self.outputs.pop(nodeid, None)

    def target(self) -> Output | None:
        """Return the output of the running test that owns the current code, if any."""
        owner = OWNER.get()
        if owner is None:
            nodeid = LANE_OF.get()  # sync code of a test's setup or teardown, in its lane
            return self.outputs.get(nodeid) if nodeid is not None else None
        if owner.nodeid == self.phase:
            return None
        output = self.outputs.get(owner.nodeid)
        if output is None and self.stepping is not None:
            # A wider fixture's step, for another test than the one it began with (the test
            # that tears a module down): the test whose lane waits for the step.
            nodeid = self.stepping()
            output = self.outputs.get(nodeid) if nodeid is not None else None
        if output is not None and output.lane is not None and output.lane.runs_now():
            return None  # a fixture step that its lane runs itself: pytest captures its phase
        return output

    # -- the group's lifetime: logging ------------------------------------------------------
    def start(self) -> None:
        """Put the log handler on the root logger (for the group's lifetime)."""
        self._handler = _LogHandler(self)
        root = logging.getLogger()
        root.addHandler(self._handler)
        if self._level is not None and root.level > self._level:
            self._root_level = root.level
            root.setLevel(self._level)

    def stop(self) -> None:
        """Take the log handler off again, and the filter off the other handlers."""
        root = logging.getLogger()
        if self._handler is not None:
            root.removeHandler(self._handler)
            self._handler = None
        if self._root_level is not None:
            root.setLevel(self._root_level)
            self._root_level = None
        for handler in self._filtered:
            handler.removeFilter(self._keep_out)
        self._filtered.clear()
        self._seen = []
        self._streams.clear()

    # -- around pytest's phases and the waits ---------------------------------------------------
    def routing(self, phase: str | None) -> _Routing:
        """Route stdout, stderr, warnings, and keep other tests' records out of other handlers.

        Used around every phase of every test that runs with others, so it is cheap: a
        handler keeps the filter, and a stream its wrapper, until the group ends.
        """
        return _Routing(self, phase)

    def _wrap(self, stream: Any, name: str) -> Any:
        if type(stream) is _Stream:
            return stream
        wrapper = self._streams.get(id(stream))
        if wrapper is None or wrapper._underlying is not stream:
            wrapper = self._streams[id(stream)] = _Stream(stream, self, name)
        return wrapper

    def refilter(self) -> None:
        """Keep the tests' records out of log handlers added since (pytest adds some per phase)."""
        self._filter_handlers()

    def _filter_handlers(self) -> None:
        handlers = logging.getLogger().handlers
        if handlers == self._seen:  # the common case: pytest put the same handlers back
            return
        filtered, ours = self._filtered, self._handler
        for handler in handlers:
            if handler is not ours and handler not in filtered:
                handler.addFilter(self._keep_out)
                filtered.append(handler)
        self._seen = list(handlers)

    def _show_warning(self, message: Warning | str, category: type[Warning], *where: Any) -> None:
        # Warnings of the phase's own test are its too (they go to its report later).
        owner = OWNER.get()
        nodeid = owner.nodeid if owner is not None else self.phase
        target = self.outputs.get(nodeid) if nodeid is not None else None
        if target is None:
            self._previous_show(message, category, *where)
            return
        target.warnings.append(warnings.WarningMessage(message, category, *where))


class _Routing:
    """One :meth:`Router.routing`: swaps the streams and ``showwarning`` in, and back."""

    __slots__ = ("_phase", "_router", "_saved")

    def __init__(self, router: Router, phase: str | None) -> None:
        self._router = router
        self._phase = phase
        self._saved: tuple[str | None, TextIO, TextIO, Any, Any] | None = None

    def __enter__(self) -> None:
        router = self._router
        out, err, show = sys.stdout, sys.stderr, warnings.showwarning
        self._saved = (router.phase, out, err, show, router._previous_show)
        router.phase = self._phase
        router._filter_handlers()
        sys.stdout = router._wrap(out, "stdout")
        sys.stderr = router._wrap(err, "stderr")
        if show is not router._show:  # nested: the outer routing's stays in front
            router._previous_show = show
            warnings.showwarning = router._show

    def __exit__(self, *exc_info: object) -> None:
        saved, self._saved = self._saved, None
        assert saved is not None
        router = self._router
        phase, out, err, show, previous = saved
        if type(sys.stdout) is _Stream:
            sys.stdout = out
        if type(sys.stderr) is _Stream:
            sys.stderr = err
        if warnings.showwarning is router._show:
            warnings.showwarning = show
        router._previous_show = previous
        router.phase = phase


class _Stream(io.TextIOBase):
    """``sys.stdout`` or ``sys.stderr`` while tests run together: text goes to its test."""

    def __init__(self, underlying: TextIO, router: Router, name: str) -> None:
        self._underlying = underlying
        self._router = router
        self._name = name

    def write(self, text: str) -> int:
        target = self._router.target()
        if target is None:
            return self._underlying.write(text)
        target.write(self._name, text)
        return len(text)

    def flush(self) -> None:
        self._underlying.flush()

    def isatty(self) -> bool:
        return self._underlying.isatty()

    def fileno(self) -> int:
        return self._underlying.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self._underlying, "encoding", "utf-8")

    def writable(self) -> bool:
        return True

    def __getattr__(self, name: str) -> Any:
        return getattr(self._underlying, name)


class _LogHandler(logging.Handler):
    """Collects the records of running tests, formatted, in their :class:`Output`."""

    def __init__(self, router: Router) -> None:
        super().__init__(logging.NOTSET)
        self._router = router

    def emit(self, record: logging.LogRecord) -> None:
        target = self._router.target()
        if target is None:
            return
        # pytest adds a handler of its own at each phase, after this one: filtered before it
        # sees this record, it keeps it out of that phase's report (it is this test's).
        self._router._filter_handlers()
        try:
            text = self._router._formatter.format(record)
            target.sections.setdefault((target.when, "log"), []).append(text)
        except Exception:  # pragma: no cover - a record that cannot be formatted
            self.handleError(record)


class _OtherTests(logging.Filter):
    """Keeps records of other running tests out of the handlers of the current phase."""

    def __init__(self, router: Router) -> None:
        super().__init__()
        self._router = router

    def filter(self, record: logging.LogRecord) -> bool:
        return self._router.target() is None
