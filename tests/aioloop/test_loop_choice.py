"""Which loop a fixture runs in, decided without running pytest (the chooser's rules)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest

import pytest_aioloop
from pytest_aioloop._loop.chooser import LoopChooser, Mismatch, explain_mismatches
from pytest_aioloop._loop.kinds import LoopKind, widest
from pytest_aioloop._settings.fixture import is_handled
from pytest_aioloop._settings.options import Settings

SETTINGS = Settings(
    mode="strict",
    debug=False,
    default_fixture_loop_scope=None,
    default_test_loop_scope="function",
    timeout=None,
    leaked_tasks="report",
    unhandled_errors="report",
    slow_callback=None,
    slow_callback_action="report",
)


@dataclasses.dataclass
class Definition:
    """Stands in for a ``pytest.FixtureDef``: what the chooser reads of one."""

    argname: str
    scope: str
    func: Callable[..., Any]
    argnames: tuple[str, ...] = ()


def _async_fixture(**options: Any) -> Callable[..., Any]:
    async def fixture() -> None:
        pass

    pytest_aioloop.fixture(**options)(fixture)
    return fixture


def _chooser(settings: Settings = SETTINGS) -> LoopChooser:
    def handled(definition: Any) -> bool:
        return is_handled(definition.func, auto=settings.auto)

    return LoopChooser(settings, lambda definition: definition.func, handled)


def test_a_fixture_without_loop_scope_runs_in_the_shared_loop_of_its_scope() -> None:
    fixture = Definition("db", "module", _async_fixture())
    kind = _chooser().fixture_kind(fixture, {"db": [fixture]}, None)  # type: ignore[arg-type]
    assert kind == LoopKind("shared", "module")


def test_an_explicit_loop_scope_wins() -> None:
    fixture = Definition("db", "module", _async_fixture(scope="module", loop_scope="session"))
    kind = _chooser().fixture_kind(fixture, {"db": [fixture]}, "function")  # type: ignore[arg-type]
    assert kind == LoopKind("scoped", "session")


def test_a_fixture_follows_the_widest_loop_of_the_async_fixtures_it_uses() -> None:
    server = Definition("server", "session", _async_fixture(loop_scope="session"))
    client = Definition("client", "function", _async_fixture(), argnames=("server",))
    defs = {"server": [server], "client": [client]}
    kind = _chooser().fixture_kind(client, defs, None)  # type: ignore[arg-type]
    assert kind == LoopKind("scoped", "session")


def test_a_function_fixture_of_a_pinned_test_runs_in_the_test_s_loop() -> None:
    fixture = Definition("conn", "function", _async_fixture())
    kind = _chooser().fixture_kind(fixture, {"conn": [fixture]}, "module")  # type: ignore[arg-type]
    assert kind == LoopKind("scoped", "module")


@pytest.mark.parametrize(
    ("default", "scope", "expected"),
    [
        ("fixture-scope", "module", LoopKind("scoped", "module")),
        ("function", "function", LoopKind("scoped", "function")),
        ("session", "function", LoopKind("scoped", "session")),
        # A loop narrower than the fixture's scope would close under its cached value.
        ("function", "module", LoopKind("scoped", "module")),
    ],
)
def test_the_default_fixture_loop_scope(default: str, scope: str, expected: LoopKind) -> None:
    settings = SETTINGS.replace(default_fixture_loop_scope=default)
    fixture = Definition("db", scope, _async_fixture())
    kind = _chooser(settings).fixture_kind(fixture, {"db": [fixture]}, None)  # type: ignore[arg-type]
    assert kind == expected


def test_only_fixtures_the_mode_takes_are_handled() -> None:
    plain, marked = _plain(), _async_fixture()
    assert not is_handled(plain, auto=False)
    assert is_handled(marked, auto=False)
    assert is_handled(plain, auto=True)


def _plain() -> Callable[..., Any]:
    async def fixture() -> None:
        pass

    return fixture


def test_kinds_order_by_scope_then_kind() -> None:
    kinds = [
        LoopKind("shared", "session"),
        LoopKind("scoped", "session"),
        LoopKind("scoped", "module"),
    ]
    assert widest(kinds) == LoopKind("scoped", "session")
    assert widest([]) is None


def test_a_mismatch_explains_which_loop_runs_what_and_the_fixes() -> None:
    class Item:
        name = "test_query"

    text = explain_mismatches(
        Item(),  # type: ignore[arg-type]
        "function",
        [Mismatch("pool", "session", LoopKind("scoped", "session"))],
    )
    assert "test_query runs in the function-scoped loop" in text
    assert "'pool' (session scope) runs in the session-scoped loop" in text
    assert "@pytest.mark.asyncio(loop_scope='session')" in text
