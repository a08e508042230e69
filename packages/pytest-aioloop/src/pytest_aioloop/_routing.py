"""Output, log records and warnings of tests that run concurrently, each to its own test.

While a group of tests runs, ``sys.stdout``/``sys.stderr`` are streams that ask who is writing
(the :data:`~._owners.OWNER` of the running code) and send the text to that test's buffer; a
handler on the root logger does the same for log records, and a ``warnings.showwarning`` for
warnings. Text of the test whose setup or teardown is running (its "phase") goes to pytest's own
capture instead, as without concurrency. Nothing is attributed for code without an owner:
threads, C code writing to file descriptors 1 and 2.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import logging
import sys
import warnings
from collections.abc import Iterator
from typing import Any, TextIO

from pytest_aioloop._owners import OWNER


@dataclasses.dataclass
class Output:
    """What one running test wrote, logged and warned."""

    stdout: list[str] = dataclasses.field(default_factory=list)
    stderr: list[str] = dataclasses.field(default_factory=list)
    log: list[str] = dataclasses.field(default_factory=list)
    warnings: list[warnings.WarningMessage] = dataclasses.field(default_factory=list)


class Router:
    """Routes what running tests write, log and warn to their own :class:`Output`."""

    def __init__(self, log_format: str, date_format: str | None, level: int | None) -> None:
        self.outputs: dict[str, Output] = {}
        #: The test whose setup, call report or teardown is running (its text is pytest's).
        self.phase: str | None = None
        self._formatter = logging.Formatter(log_format, date_format)
        self._level = level
        self._handler: _LogHandler | None = None
        self._root_level: int | None = None

    def open(self, nodeid: str) -> None:
        """Start collecting for ``nodeid``."""
        self.outputs[nodeid] = Output()

    def close(self, nodeid: str) -> Output:
        """Stop collecting for ``nodeid``; return what it wrote."""
        return self.outputs.pop(nodeid, None) or Output()

    def target(self) -> Output | None:
        """Return the output of the running test that owns the current code, if any."""
        owner = OWNER.get()
        if owner is None or owner.nodeid == self.phase:
            return None
        return self.outputs.get(owner.nodeid)

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
        """Take the log handler off again."""
        root = logging.getLogger()
        if self._handler is not None:
            root.removeHandler(self._handler)
            self._handler = None
        if self._root_level is not None:
            root.setLevel(self._root_level)
            self._root_level = None

    # -- around pytest's phases and the waits ---------------------------------------------------
    @contextlib.contextmanager
    def routing(self, phase: str | None) -> Iterator[None]:
        """Route stdout, stderr, warnings, and keep other tests' records out of other handlers."""
        previous_phase, self.phase = self.phase, phase
        out, err = sys.stdout, sys.stderr
        sys.stdout = _Stream(out, self, "stdout")
        sys.stderr = _Stream(err, self, "stderr")
        keep_out = _OtherTests(self)
        handlers = [h for h in logging.getLogger().handlers if h is not self._handler]
        for handler in handlers:
            handler.addFilter(keep_out)
        try:
            with warnings.catch_warnings():
                previous_show = warnings.showwarning
                warnings.showwarning = self._showwarning(previous_show)
                yield
        finally:
            for handler in handlers:
                handler.removeFilter(keep_out)
            if isinstance(sys.stdout, _Stream):
                sys.stdout = out
            if isinstance(sys.stderr, _Stream):
                sys.stderr = err
            self.phase = previous_phase

    def _showwarning(self, previous: Any) -> Any:
        def show(message: Warning | str, category: type[Warning], *where: Any) -> None:
            # Warnings of the phase's own test are its too (they go to its report later).
            owner = OWNER.get()
            nodeid = owner.nodeid if owner is not None else self.phase
            target = self.outputs.get(nodeid) if nodeid is not None else None
            if target is None:
                previous(message, category, *where)
                return
            target.warnings.append(warnings.WarningMessage(message, category, *where))

        return show


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
        getattr(target, self._name).append(text)
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
        try:
            target.log.append(self._router._formatter.format(record))
        except Exception:  # pragma: no cover - a record that cannot be formatted
            self.handleError(record)


class _OtherTests(logging.Filter):
    """Keeps records of other running tests out of the handlers of the current phase."""

    def __init__(self, router: Router) -> None:
        super().__init__()
        self._router = router

    def filter(self, record: logging.LogRecord) -> bool:
        return self._router.target() is None
