"""Which loop each test and async fixture runs in.

The rule: a test or fixture with an explicit loop scope runs in that scope's loop. Otherwise an
async fixture runs in the loop of the async fixtures it depends on, or in the shared loop that
lives as long as the fixtures using it; a test runs in the loop of the widest async fixture it
uses, else in a loop of ``asyncio_default_test_loop_scope``.

A test pinned to one loop scope that uses an async fixture running in another loop runs anyway,
each in its own loop, as with pytest-asyncio: a fixture handing out plain values (a URL, an id)
works across loops. The combination is remembered, and if the test then fails because an object
of one loop was awaited in the other, the failure explains which runs where, and the fix.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pytest

from pytest_aioloop._compat.pytest_internals import (
    closure_of,
    fixture_argnames,
    fixture_name,
    fixturedefs_of_item,
)
from pytest_aioloop._loop.kinds import LoopKind, widest
from pytest_aioloop._loop.policy import overrides_builtin
from pytest_aioloop._settings import RANK, Scope
from pytest_aioloop._settings import fixture as _fixtures
from pytest_aioloop._settings.options import Settings


class Mismatch:
    """An async fixture of a pinned test that runs in another loop than the test."""

    __slots__ = ("argname", "kind", "scope")

    def __init__(self, argname: str, scope: str, kind: LoopKind) -> None:
        self.argname = argname
        self.scope = scope
        self.kind = kind

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Mismatch) and (self.argname, self.scope, self.kind) == (
            other.argname,
            other.scope,
            other.kind,
        )

    def __hash__(self) -> int:
        return hash((self.argname, self.scope, self.kind))

    def __repr__(self) -> str:
        return f"Mismatch({self.argname!r}, {self.scope!r}, {self.kind!r})"


#: A test's loop kind, and the async fixtures that run in another loop than it.
TestKind = tuple[LoopKind, list[Mismatch]]


class LoopChooser:
    """Decides loop kinds; caches what it learns about fixture definitions (per session).

    The answers are the same for every test whose fixtures resolve to the same definitions
    (``closure_of``) and with the same pin, as long as no fixture wider than a function goes
    live or ends: each of those bumps a generation, which the cached answers carry.
    """

    def __init__(
        self,
        settings: Settings,
        func_of: Callable[[Any], Callable[..., Any]],
        is_handled: Callable[[Any], bool],
    ) -> None:
        self.settings = settings
        self.func_of = func_of
        #: Whether pytest-aioloop runs a fixture definition (the session caches it).
        self.is_handled = is_handled
        # Keyed by the fixture function: a test running concurrently has its own copies of
        # its function-scoped definitions, all with the same function.
        self._async_funcs: dict[object, bool] = {}
        self._warned_strict: set[int] = set()
        #: The kind each live async fixture was set up with (by fixturedef id).
        self.live: dict[int, LoopKind] = {}
        self._generation = 0
        self._test_kinds: dict[tuple[object, str | None, bool], tuple[int, TestKind]] = {}
        self._fixture_kinds: dict[tuple[int, object, str | None], tuple[int, LoopKind]] = {}

    def went_live(self, fixturedef: pytest.FixtureDef[Any], kind: LoopKind) -> None:
        """An async fixture is set up in a loop of ``kind`` (until :meth:`ended`)."""
        self.live[id(fixturedef)] = kind
        if fixturedef.scope != "function":
            self._generation += 1

    def ended(self, fixturedef: pytest.FixtureDef[Any]) -> None:
        """An async fixture is torn down."""
        if self.live.pop(id(fixturedef), None) is not None and fixturedef.scope != "function":
            self._generation += 1

    def kind_of_fixture(
        self,
        item: pytest.Item,
        fixturedef: pytest.FixtureDef[Any],
        test_pin: Scope | None,
        closure: object = None,
    ) -> LoopKind:
        """:meth:`fixture_kind` of a fixture set up for ``item`` (cached per closure and pin).

        ``closure`` is ``closure_of(item)``, if the caller has it already.
        """
        key = (id(fixturedef), closure if closure is not None else closure_of(item), test_pin)
        hit = self._fixture_kinds.get(key)
        if hit is not None and hit[0] == self._generation:
            return hit[1]
        kind = self.fixture_kind(fixturedef, fixturedefs_of_item(item), test_pin)
        self._fixture_kinds[key] = (self._generation, kind)
        return kind

    def fixture_kind(
        self,
        fixturedef: pytest.FixtureDef[Any],
        defs: Mapping[str, Any],
        test_pin: Scope | None,
        _depth: int = 0,
    ) -> LoopKind:
        """Return the loop kind of a handled fixture, for a test pinned to ``test_pin``."""
        live = self.live.get(id(fixturedef))
        if live is not None:
            return live
        scope: Scope = fixturedef.scope
        options = _fixtures.options_of(self.func_of(fixturedef))
        if options is not None and options.loop_scope is not None:
            return LoopKind("scoped", options.loop_scope)
        default = self.settings.default_fixture_loop_scope
        if default is not None:
            if default == "fixture-scope" or RANK[default] < RANK[scope]:
                return LoopKind("scoped", scope)
            return LoopKind("scoped", default)  # type: ignore[arg-type]
        event_loop_defs = defs.get("event_loop")
        if event_loop_defs and overrides_builtin(event_loop_defs):
            return LoopKind("event_loop", event_loop_defs[-1].scope)
        deps: list[LoopKind] = []
        if _depth < 50:
            for argname in fixture_argnames(fixturedef):
                dep_defs = defs.get(argname)
                if not dep_defs:
                    continue
                dep = (
                    dep_defs[-1]
                    if dep_defs[-1] is not fixturedef
                    else (dep_defs[-2] if len(dep_defs) > 1 else None)
                )
                if dep is not None and self.is_handled(dep):
                    deps.append(self.fixture_kind(dep, defs, test_pin, _depth + 1))
        found = widest(deps)
        if found is not None:
            return found
        if test_pin is not None and RANK[scope] <= RANK[test_pin]:
            return LoopKind("scoped", test_pin)
        return LoopKind("shared", scope)

    def test_kind(
        self, item: pytest.Item, pin: Scope | None, *, is_async_test: bool, closure: object = None
    ) -> TestKind:
        """Return the loop kind of a test and the async fixtures that run in other loops.

        ``closure`` is ``closure_of(item)``, if the caller has it already.
        """
        key = (closure if closure is not None else closure_of(item), pin, is_async_test)
        hit = self._test_kinds.get(key)
        if hit is not None and hit[0] == self._generation:
            return hit[1]
        found = self._test_kind(item, pin, is_async_test=is_async_test)
        self._test_kinds[key] = (self._generation, found)
        return found

    def _test_kind(self, item: pytest.Item, pin: Scope | None, *, is_async_test: bool) -> TestKind:
        defs = fixturedefs_of_item(item)
        event_loop_defs = defs.get("event_loop")
        if pin is None and event_loop_defs and overrides_builtin(event_loop_defs):
            return LoopKind("event_loop", event_loop_defs[-1].scope), []
        kinds: list[tuple[pytest.FixtureDef[Any], LoopKind, bool]] = []
        for name in getattr(item, "fixturenames", ()):
            name_defs = defs.get(name)
            if not name_defs:
                continue
            fixturedef = name_defs[-1]
            key = id(fixturedef)
            func = self.func_of(fixturedef)
            is_async = self._async_funcs.get(func)
            if is_async is None:
                is_async = self._async_funcs[func] = _fixtures.is_async_function(func)
            if not self.is_handled(fixturedef):
                if is_async_test and is_async:
                    self._warn_strict(item, name, fixturedef)
                continue
            if not is_async:
                continue
            options = _fixtures.options_of(func)
            explicit = bool(options and options.loop_scope) or key in self.live
            kinds.append((fixturedef, self.fixture_kind(fixturedef, defs, pin), explicit))
        if pin is None:
            found = widest([kind for _, kind, _ in kinds])
            return found or LoopKind("scoped", self.settings.default_test_loop_scope), []
        mine = LoopKind("scoped", pin)
        shared = {kind for _, kind, _ in kinds if kind.kind == "shared"}
        if shared == {LoopKind("shared", pin)} and all(
            kind.kind == "shared" or not explicit for _, kind, explicit in kinds
        ):
            # The fixtures' shared loop lives exactly as long as the test asks: use it.
            mine = LoopKind("shared", pin)
        mismatches = [
            Mismatch(fixture_name(fixturedef), fixturedef.scope, kind)
            for fixturedef, kind, explicit in kinds
            if kind != mine and (explicit or kind.kind == "shared")
        ]
        return mine, mismatches

    def _warn_strict(
        self, item: pytest.Item, name: str, fixturedef: pytest.FixtureDef[Any]
    ) -> None:
        if id(fixturedef) in self._warned_strict:
            return
        self._warned_strict.add(id(fixturedef))
        item.warn(
            pytest.PytestWarning(
                f"asyncio test {item.name!r} requested async @pytest.fixture {name!r} in strict "
                "mode. pytest-aioloop does not run it: decorate it with "
                "@pytest_aioloop.fixture, or set asyncio_mode = auto."
            )
        )


def explain_mismatches(item: pytest.Item, pin: Scope, mismatches: list[Mismatch]) -> str:
    """Say which loop the test and each of its other-loop fixtures run in, and the fixes."""
    lines = [
        f"pytest-aioloop: {item.name} runs in the {pin}-scoped loop (loop_scope={pin!r}), but:"
    ]
    widest_scope = pin
    for mismatch in mismatches:
        lines.append(
            f"  async fixture {mismatch.argname!r} ({mismatch.scope} scope) runs in "
            f"{mismatch.kind.describe()}"
        )
        if RANK[mismatch.kind.scope] > RANK[widest_scope]:
            widest_scope = mismatch.kind.scope
    fixes = [
        "remove loop_scope from the test so that it runs in its fixtures' loop",
        f"use @pytest.mark.asyncio(loop_scope={widest_scope!r})",
    ]
    if all(RANK[m.scope] <= RANK[pin] for m in mismatches):
        fixes.append(f"give the fixture(s) loop_scope={pin!r}")
    lines.append(
        "Objects made in one loop (futures, locks, streams, clients) cannot be awaited in "
        f"another. Fix: {', or '.join(fixes)}."
    )
    return "\n".join(lines)


#: Substrings of asyncio's errors for an object of one loop used in another.
DIFFERENT_LOOP = ("attached to a different loop", "bound to a different event loop")
