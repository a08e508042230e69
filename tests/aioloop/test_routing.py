"""The router of tests running together: what each one writes, logs and warns is its own."""

from __future__ import annotations

import contextvars
import logging
import sys
import warnings

from pytest_aioloop._concurrency.routing import Router
from pytest_aioloop._run.owners import OWNER, Owner


def _as(nodeid: str) -> contextvars.Context:
    ctx = contextvars.copy_context()
    ctx.run(OWNER.set, Owner("test", nodeid, nodeid))
    return ctx


def test_each_test_gets_what_its_own_code_writes_and_warns() -> None:
    router = Router("%(message)s", None, None)
    router.start()
    try:
        router.open("a")
        router.open("b")
        with router.routing(phase=None):
            _as("a").run(print, "from a")
            _as("b").run(sys.stderr.write, "from b")
            _as("b").run(warnings.warn, "warned by b", UserWarning)
            _as("a").run(logging.getLogger("routing").warning, "logged by a")
        a, b = router.close("a"), router.close("b")
    finally:
        router.stop()
    assert a.stdout == ["from a", "\n"]
    assert a.log == ["logged by a"]
    assert b.stderr == ["from b"]
    assert [str(w.message) for w in b.warnings] == ["warned by b"]
    assert (a.stderr, a.warnings, b.stdout, b.log) == ([], [], [], [])


def test_the_phase_test_writes_to_pytest_and_nesting_restores_everything() -> None:
    router = Router("%(message)s", None, None)
    out, err, show = sys.stdout, sys.stderr, warnings.showwarning
    router.start()
    try:
        router.open("a")
        with router.routing(phase="a"):
            inner_out = sys.stdout
            with router.routing(phase=None):
                assert sys.stdout is inner_out  # one wrapper, not a wrapper of a wrapper
                _as("a").run(print, "during the wait")
            assert router.phase == "a"
            _as("a").run(print, "during its own phase")
        assert (sys.stdout, sys.stderr, warnings.showwarning) == (out, err, show)
        assert router.close("a").stdout == ["during the wait", "\n"]
    finally:
        router.stop()


def test_the_other_handlers_lose_the_filter_when_the_group_ends() -> None:
    handler = logging.NullHandler()
    root = logging.getLogger()
    root.addHandler(handler)
    router = Router("%(message)s", None, None)
    router.start()
    try:
        for _ in range(3):
            with router.routing(phase=None):
                pass
        assert len(handler.filters) == 1  # put on once, kept for the group's lifetime
    finally:
        router.stop()
        root.removeHandler(handler)
    assert handler.filters == []
