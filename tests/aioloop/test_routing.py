"""The router of tests running together: what each one writes, logs and warns is its own."""

from __future__ import annotations

import contextvars
import logging
import sys
import warnings

import pytest

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
        router.open("a").when = "call"
        router.open("b").when = "call"
        with router.routing(phase=None):
            _as("a").run(print, "from a")
            _as("b").run(sys.stderr.write, "from b")
            _as("b").run(warnings.warn, "warned by b", UserWarning)
            _as("a").run(logging.getLogger("routing").warning, "logged by a")
        a, b = router.close("a"), router.close("b")
    finally:
        router.stop()
    assert a.sections == {("call", "stdout"): ["from a", "\n"], ("call", "log"): ["logged by a"]}
    assert b.sections == {("call", "stderr"): ["from b"]}
    assert [str(w.message) for w in b.warnings] == ["warned by b"]
    assert a.warnings == []


def test_the_phase_test_writes_to_pytest_and_nesting_restores_everything() -> None:
    router = Router("%(message)s", None, None)
    out, err, show = sys.stdout, sys.stderr, warnings.showwarning
    router.start()
    try:
        router.open("a").when = "call"
        with router.routing(phase="a"):
            inner_out = sys.stdout
            with router.routing(phase=None):
                assert sys.stdout is inner_out  # one wrapper, not a wrapper of a wrapper
                _as("a").run(print, "during the wait")
            assert router.phase == "a"
            _as("a").run(print, "during its own phase")
        assert (sys.stdout, sys.stderr, warnings.showwarning) == (out, err, show)
        assert router.close("a").sections == {("call", "stdout"): ["during the wait", "\n"]}
    finally:
        router.stop()


def test_a_tests_text_and_records_are_kept_by_phase_and_become_its_report_sections(
    pytester: pytest.Pytester,
) -> None:
    router = Router("%(message)s", None, None)
    router.start()
    try:
        output = router.open("a")
        with router.routing(phase=None):
            for when in ("setup", "call", "teardown"):
                output.when = when
                _as("a").run(print, f"printed in {when}")
                _as("a").run(logging.getLogger("routing").warning, f"logged in {when}")
    finally:
        router.stop()
    item = pytester.getitem("def test_func(): pass")
    for when in ("setup", "call", "teardown"):
        output.add_sections(item, when)
    assert item._report_sections == [
        (when, key, f"{verb} in {when}" + ("\n" if key == "stdout" else ""))
        for when in ("setup", "call", "teardown")
        for key, verb in (("stdout", "printed"), ("log", "logged"))
    ]


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
