"""Which loop a test or fixture runs in, and the node whose lifetime a scope's loop has."""

from __future__ import annotations

from typing import Literal

import pytest

from pytest_aioloop._settings import RANK, Scope


class LoopKind:
    """Which loop a test or fixture runs in.

    ``scoped``: the loop of one scope (function, class, module, package or session), shared by
    everything pinned to that scope there. ``shared``: the loop shared by async fixtures without
    a loop scope, alive while any of them (or a test running in it) is; ``scope`` is the widest
    caching scope that uses it. ``event_loop``: the value of a user-defined ``event_loop``
    fixture (pytest-asyncio 0.21 style).
    """

    __slots__ = ("kind", "scope")

    def __init__(self, kind: Literal["scoped", "shared", "event_loop"], scope: Scope) -> None:
        self.kind: Literal["scoped", "shared", "event_loop"] = kind
        self.scope: Scope = scope

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LoopKind) and self.kind == other.kind and self.scope == other.scope

    def __hash__(self) -> int:
        return hash((self.kind, self.scope))

    def __repr__(self) -> str:
        return f"LoopKind({self.kind!r}, {self.scope!r})"

    @property
    def rank(self) -> int:
        """How wide the kind is; ties prefer scoped loops over the shared one."""
        return RANK[self.scope] * 3 + _KIND_RANK[self.kind]

    def describe(self) -> str:
        """Say which loop this is, for error messages."""
        if self.kind == "scoped":
            return f"the {self.scope}-scoped loop"
        if self.kind == "shared":
            return (
                "the shared loop of async fixtures without loop_scope "
                f"(kept alive by a {self.scope}-scoped one)"
            )
        return "the loop of a user-defined event_loop fixture"


_KIND_RANK = {"shared": 0, "scoped": 1, "event_loop": 2}
#: The kind of a test that gets a fresh loop of its own.
FRESH = LoopKind("scoped", "function")


def widest(kinds: list[LoopKind]) -> LoopKind | None:
    """Return the widest of ``kinds``, or ``None`` when there are none."""
    return max(kinds, key=lambda k: k.rank) if kinds else None


def scope_node(
    node: pytest.Item | pytest.Collector, scope: Scope
) -> pytest.Item | pytest.Collector:
    """Return the collection node whose lifetime a ``scope`` loop has, seen from ``node``.

    Like pytest's own fixtures, a class loop outside a class lives for the module. The package
    loop is one loop for the whole run (distinct from the session loop), for tests and fixtures
    alike, as pytest-asyncio's is: pytest caches a package-scoped fixture defined outside a
    package's own conftest for the whole session, so a loop per package could close under it.
    """
    found: pytest.Item | pytest.Collector | None = None
    if scope == "function":
        return node
    if scope == "class":
        found = node.getparent(pytest.Class)
    if scope == "module" or (scope == "class" and found is None):
        found = node.getparent(pytest.Module)
    return found if found is not None else node.session
