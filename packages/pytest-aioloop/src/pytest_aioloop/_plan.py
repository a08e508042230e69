"""Decide, once per test, whether pytest-aioloop runs it and in which loop it and its fixtures run.

The rule: a test or fixture with an explicit loop scope runs in that scope's loop. Otherwise an
async fixture runs in the loop of the async fixtures it depends on, or in the shared loop that
lives as long as the fixtures using it; a test runs in the loop of the widest async fixture it
uses, else in a loop of ``asyncio_default_test_loop_scope``.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import types
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import pytest

from pytest_aioloop import _compat, _fixtures
from pytest_aioloop._config import RANK, Scope, Settings
from pytest_aioloop._loops import LoopFactory, LoopKind, LoopManager, nothing, widest
from pytest_aioloop._marker import MarkerError, MarkerSpec, parse_marker
from pytest_aioloop._safety import Watchdog

if TYPE_CHECKING:
    import asyncio
else:
    from pytest_aioloop._lazy import asyncio

OTHER_FRAMEWORK_MARKERS = ("anyio", "trio")


@dataclasses.dataclass(slots=True)
class ItemPlan:
    """What pytest-aioloop decided about one test item."""

    is_async_test: bool = False
    is_async_gen_test: bool = False
    marked_not_async: bool = False
    spec: MarkerSpec = dataclasses.field(default_factory=MarkerSpec)
    error: str | None = None
    #: The loop kind, decided at setup (``None`` until then).
    kind: LoopKind | None = None
    factory_name: str | None = None
    #: Run without the ``event_loop`` fixture: pytest-aioloop's hooks hand the test its loop
    #: (no override of ``event_loop``/``event_loop_policy`` is visible, no loop factories).
    direct: bool = False


class Runtime:
    """Everything pytest-aioloop keeps for one session, stored in ``config.stash``."""

    def __init__(self, config: pytest.Config, settings: Settings) -> None:
        self.config = config
        self.settings = settings
        self._factories_hook = config.pluginmanager.hook.pytest_asyncio_loop_factories
        #: Parsed asyncio markers by identity (a module's pytestmark serves all its tests).
        self.marker_specs: dict[int, tuple[pytest.Mark, MarkerSpec]] = {}
        self.loops = LoopManager(debug=settings.debug)
        self.watchdog = Watchdog()
        self.current_item: pytest.Item | None = None
        self.handled: dict[int, bool] = {}
        self.async_funcs: dict[int, bool] = {}
        #: The kind each live async fixture was set up with (by fixturedef id).
        self.fixture_kinds: dict[int, LoopKind] = {}
        self.warned_strict: set[int] = set()
        #: Live user-defined event_loop fixtures: fixturedef id -> (description, loop, the
        #: current loop before it, restored at its teardown).
        self.user_event_loops: dict[
            int, tuple[str, asyncio.AbstractEventLoop, _compat.SavedLoop]
        ] = {}
        #: Fixture functions pytest-aioloop replaced while pytest sets them up (by fixturedef id).
        self.originals: dict[int, Callable[..., Any]] = {}

    @property
    def factories_hooked(self) -> bool:
        """Whether any plugin or conftest (also one found during collection) has the hook."""
        return bool(self._factories_hook.get_hookimpls())

    def func_of(self, fixturedef: pytest.FixtureDef[Any]) -> Callable[..., Any]:
        """Return the user's fixture function, also while a wrapper stands in for it."""
        return self.originals.get(id(fixturedef), fixturedef.func)

    # -- which fixtures are ours -------------------------------------------------------------
    def is_handled(self, fixturedef: pytest.FixtureDef[Any]) -> bool:
        """Whether pytest-aioloop runs this fixture (cached per definition)."""
        key = id(fixturedef)
        found = self.handled.get(key)
        if found is None:
            found = _fixtures.is_handled(self.func_of(fixturedef), auto=self.settings.auto)
            self.handled[key] = found
        return found

    # -- loop kinds ---------------------------------------------------------------------------
    def fixture_kind(
        self,
        fixturedef: pytest.FixtureDef[Any],
        defs: Mapping[str, Any],
        test_pin: Scope | None,
        _depth: int = 0,
    ) -> LoopKind:
        """Return the loop kind of a handled fixture, for a test pinned to ``test_pin``."""
        live = self.fixture_kinds.get(id(fixturedef))
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
        if event_loop_defs and not _fixtures.is_builtin(event_loop_defs[-1].func):
            return LoopKind("event_loop", event_loop_defs[-1].scope)
        deps: list[LoopKind] = []
        if _depth < 50:
            for argname in fixturedef.argnames:
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

    def plan_setup(self, item: pytest.Item, plan: ItemPlan) -> LoopKind:
        """Decide the loop kind of a test at setup; fail it with a clear message if impossible."""
        if plan.kind is not None:
            return plan.kind
        defs = _compat.fixturedefs_of_item(item)
        pin = plan.spec.loop_scope
        event_loop_defs = defs.get("event_loop")
        if event_loop_defs and not _fixtures.is_builtin(event_loop_defs[-1].func) and pin is None:
            plan.kind = LoopKind("event_loop", event_loop_defs[-1].scope)
            return plan.kind
        kinds: list[tuple[pytest.FixtureDef[Any], LoopKind, bool]] = []
        for name in getattr(item, "fixturenames", ()):
            name_defs = defs.get(name)
            if not name_defs:
                continue
            fixturedef = name_defs[-1]
            func = self.func_of(fixturedef)
            is_async = self.async_funcs.get(id(fixturedef))
            if is_async is None:
                is_async = self.async_funcs[id(fixturedef)] = _fixtures.is_async_function(func)
            if not self.is_handled(fixturedef):
                if plan.is_async_test and is_async:
                    self._warn_strict(item, name, fixturedef)
                continue
            if not is_async:
                continue
            options = _fixtures.options_of(func)
            explicit = bool(options and options.loop_scope) or id(fixturedef) in self.fixture_kinds
            kinds.append((fixturedef, self.fixture_kind(fixturedef, defs, pin), explicit))
        if pin is not None:
            mine = LoopKind("scoped", pin)
            shared = {kind for _, kind, _ in kinds if kind.kind == "shared"}
            if shared == {LoopKind("shared", pin)} and all(
                kind.kind == "shared" or not explicit for _, kind, explicit in kinds
            ):
                # The fixtures' shared loop lives exactly as long as the test asks: use it.
                mine = LoopKind("shared", pin)
            for fixturedef, kind, explicit in kinds:
                if kind != mine and (explicit or kind.kind == "shared"):
                    pytest.fail(_mismatch_message(item, pin, fixturedef, kind), pytrace=False)
            plan.kind = mine
        else:
            found = widest([kind for _, kind, _ in kinds])
            plan.kind = found or LoopKind("scoped", self.settings.default_test_loop_scope)
        return plan.kind

    def _warn_strict(
        self, item: pytest.Item, name: str, fixturedef: pytest.FixtureDef[Any]
    ) -> None:
        if id(fixturedef) in self.warned_strict:
            return
        self.warned_strict.add(id(fixturedef))
        item.warn(
            pytest.PytestWarning(
                f"asyncio test {item.name!r} requested async @pytest.fixture {name!r} in strict "
                "mode, which pytest-aioloop does not run. Decorate it with "
                "@pytest_aioloop.fixture, or set asyncio_mode = auto."
            )
        )

    def acquire(
        self, kind: LoopKind, request: pytest.FixtureRequest, item: pytest.Item | None
    ) -> tuple[asyncio.AbstractEventLoop, Callable[[], None]]:
        """Return the loop of ``kind`` for ``request`` and what to call when done with it."""
        if kind.kind == "event_loop":
            return request.getfixturevalue("event_loop"), nothing
        key, factory = self.factory_for(item, request)
        if kind.kind == "scoped":
            return self.loops.scoped(kind.scope, request.node, key, factory), nothing
        loop = self.loops.acquire_shared(key, factory, kind.scope)
        return loop, functools.partial(self.loops.release_shared, key, loop)

    def acquire_direct(
        self, kind: LoopKind, item: pytest.Item
    ) -> tuple[asyncio.AbstractEventLoop, Callable[[], None]]:
        """Return the loop of ``kind`` for a test without ``event_loop``, and its release."""
        if kind.kind == "shared":
            loop = self.loops.acquire_shared(None, None, kind.scope)
            return loop, functools.partial(self.loops.release_shared, None, loop)
        return self.loops.scoped_for_test(kind.scope, item)

    # -- loop factories and policies ----------------------------------------------------------
    def factory_for(
        self, item: pytest.Item | None, request: pytest.FixtureRequest
    ) -> tuple[object, LoopFactory | None]:
        """Return (key, factory) of the loops that ``item`` and its fixtures create."""
        if item is not None:
            plan = item.stash.get(PLAN_KEY, None)
            if plan is not None and plan.factory_name is not None:
                factories = (
                    self.config.hook.pytest_asyncio_loop_factories(config=self.config, item=item)
                    or {}
                )
                factory = factories.get(plan.factory_name)
                if factory is not None:
                    return ("factory", plan.factory_name), factory
        if plan is not None and plan.direct:
            return None, None  # no event_loop_policy override is visible to this test
        node = item if item is not None else request.node
        # A test using event_loop has event_loop_policy in its closure: no lookup then.
        defs = _compat.fixturedefs_of_item(node).get("event_loop_policy") if item else None
        if defs is None:
            defs = _compat.visible_fixturedefs(node, "event_loop_policy")
        if defs and not _fixtures.is_builtin(defs[-1].func):
            policy = request.getfixturevalue("event_loop_policy")
            return ("policy", id(policy)), policy.new_event_loop
        return None, None


def _mismatch_message(
    item: pytest.Item, pin: Scope, fixturedef: pytest.FixtureDef[Any], kind: LoopKind
) -> str:
    wider = kind.scope if RANK[kind.scope] > RANK[pin] else pin
    fixes = [
        "remove loop_scope from the test so it follows its fixtures",
        f"use @pytest.mark.asyncio(loop_scope={wider!r})",
    ]
    if RANK[fixturedef.scope] <= RANK[pin]:
        fixes.append(f"give the fixture loop_scope={pin!r}")
    return (
        f"{item.nodeid}: the test runs in the {pin}-scoped loop (loop_scope={pin!r}), but its "
        f"async fixture {fixturedef.argname!r} ({fixturedef.scope} scope) runs in "
        f'{kind.describe()}. Objects made in one loop cannot be awaited in another ("attached '
        f'to a different loop"). Fix: {", or ".join(fixes)}.'
    )


PLAN_KEY = pytest.StashKey[ItemPlan]()
RUNTIME_KEY = pytest.StashKey[Runtime]()


def unwrap_test_function(obj: object) -> tuple[object, bool]:
    """Return the function that holds the test's code, and whether Hypothesis wraps it."""
    inner = getattr(getattr(obj, "hypothesis", None), "inner_test", None)
    if inner is not None:
        return inner, True
    if type(obj) is staticmethod:  # pragma: no cover - pytest unwraps these itself
        return obj.__func__, False
    return obj, False


@dataclasses.dataclass(frozen=True, slots=True)
class CollectorFacts:
    """What pytest-aioloop needs to know about a module or class, found once per collector."""

    #: The closest ``asyncio`` marker of the collector or a parent.
    mark: pytest.Mark | None
    #: A user-defined ``event_loop`` fixture is visible.
    loop_overridden: bool
    #: A user-defined ``event_loop_policy`` fixture is visible.
    policy_overridden: bool
    #: Some plugin or conftest implemented the loop factories hook when this was collected.
    factories_hooked: bool

    @property
    def overridden(self) -> bool:
        """Whether a user-defined ``event_loop`` or ``event_loop_policy`` is visible."""
        return self.loop_overridden or self.policy_overridden


_COLLECTOR_FACTS = pytest.StashKey[CollectorFacts]()


def collector_facts(collector: pytest.Item | pytest.Collector) -> CollectorFacts:
    """Return (and cache in the collector's stash) the :class:`CollectorFacts` of ``collector``."""
    found = collector.stash.get(_COLLECTOR_FACTS, None)
    if found is None:
        loop_defs = _compat.visible_fixturedefs(collector, "event_loop")
        policy_defs = _compat.visible_fixturedefs(collector, "event_loop_policy")
        found = CollectorFacts(
            mark=collector.get_closest_marker("asyncio"),
            loop_overridden=bool(loop_defs) and not _fixtures.is_builtin(loop_defs[-1].func),
            policy_overridden=bool(policy_defs) and not _fixtures.is_builtin(policy_defs[-1].func),
            factories_hooked=collector.config.stash[RUNTIME_KEY].factories_hooked,
        )
        collector.stash[_COLLECTOR_FACTS] = found
    return found


def async_kind(func: object) -> tuple[bool, bool]:
    """Return (is a coroutine function, is an async generator function) for ``func``.

    Plain functions are read from their code flags directly (collection asks this of every
    name in every test module); anything else goes through :mod:`inspect`, which also knows
    partials, methods and ``inspect.markcoroutinefunction``.
    """
    if type(func) is types.FunctionType and "_is_coroutine_marker" not in func.__dict__:
        flags = func.__code__.co_flags
        return bool(flags & inspect.CO_COROUTINE), bool(flags & inspect.CO_ASYNC_GENERATOR)
    return inspect.iscoroutinefunction(func), inspect.isasyncgenfunction(func)


def plan_item(
    item: pytest.Item,
    settings: Settings,
    specs: dict[int, tuple[pytest.Mark, MarkerSpec]] | None = None,
) -> ItemPlan:
    """Classify ``item`` at collection: is it an asyncio test, and are its marker args valid?

    ``specs`` caches valid parsed markers by identity (a module's ``pytestmark`` is one object
    shared by all its tests).
    """
    plan = ItemPlan()
    if not isinstance(item, pytest.Function):
        return plan
    # The function's own marks, then (cached per collector) its class's or module's.
    mark = None
    for own in item.own_markers:
        if own.name == "asyncio":
            mark = own
            break
    else:
        if item.parent is not None:
            mark = collector_facts(item.parent).mark
    func, _ = unwrap_test_function(item.obj)
    is_coro, is_agen = async_kind(func)
    if mark is None:
        if not settings.auto or not (is_coro or is_agen):
            return plan
        if any(item.get_closest_marker(m) for m in OTHER_FRAMEWORK_MARKERS):
            return plan
    cached = specs.get(id(mark)) if specs is not None else None
    if cached is not None and cached[0] is mark:
        plan.spec = cached[1]
    else:
        try:
            plan.spec = parse_marker(mark, item.nodeid)
        except MarkerError as exc:
            plan.error = str(exc)
        else:
            if specs is not None and mark is not None:
                specs[id(mark)] = (mark, plan.spec)
    if is_agen:
        plan.is_async_gen_test = True
    elif is_coro:
        plan.is_async_test = True
    else:
        plan.marked_not_async = True
    return plan
