"""What pytest-aioloop keeps for one session (in ``config.stash``), and the loops it hands out."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest

from pytest_aioloop import _compat, _fixtures
from pytest_aioloop._choice import LoopChooser
from pytest_aioloop._config import Settings
from pytest_aioloop._factories import LoopFactory, default_factory, factories_for
from pytest_aioloop._loops import LoopKind, LoopManager, nothing
from pytest_aioloop._marker import MarkerSpec
from pytest_aioloop._nets import Nets, NetSettings
from pytest_aioloop._owners import Owner
from pytest_aioloop._plan import PLAN_KEY
from pytest_aioloop._reports import Findings, Summary
from pytest_aioloop._watchdog import Watchdog

if TYPE_CHECKING:
    import asyncio

#: What the nets found during one test (from its setup to the end of its teardown).
FINDINGS_KEY = pytest.StashKey[Findings]()


class Runtime:
    """The session's settings, loops, nets and caches."""

    def __init__(self, config: pytest.Config, settings: Settings) -> None:
        self.config = config
        self.settings = settings
        self._factories_hook = config.pluginmanager.hook.pytest_asyncio_loop_factories
        #: Parsed asyncio markers by identity (a module's pytestmark serves all its tests).
        self.marker_specs: dict[int, tuple[pytest.Mark, MarkerSpec]] = {}
        #: Fixture functions pytest-aioloop replaced while pytest sets them up (by fixturedef id).
        self.originals: dict[int, Callable[..., Any]] = {}
        self.chooser = LoopChooser(settings, self.func_of)
        self.loops = LoopManager(
            debug=settings.debug, factory=default_factory(settings.loop_factory)
        )
        self.watchdog = Watchdog()
        self.summary = Summary()
        self.current_item: pytest.Item | None = None
        #: Tests running concurrently, by node id (see ``_concurrency``).
        self.active: dict[str, pytest.Item] = {}
        self.nets = Nets(
            NetSettings(
                leaked_tasks=settings.leaked_tasks,
                unhandled_errors=settings.unhandled_errors,
                slow_callback=settings.slow_callback,
                slow_callbacks=settings.slow_callback_action,
            ),
            sink=self.findings,
            orphan=self.summary.add,
        )
        self.loops.before_close = self.nets.loop_closing
        #: The loop of each live async fixture (by fixturedef id).
        self.fixture_loops: dict[int, asyncio.AbstractEventLoop] = {}
        #: Live user-defined event_loop fixtures: fixturedef id -> (description, loop, the
        #: current loop before it, restored at its teardown).
        self.user_event_loops: dict[
            int, tuple[str, asyncio.AbstractEventLoop, _compat.SavedLoop]
        ] = {}

    @property
    def factories_hooked(self) -> bool:
        """Whether any plugin or conftest (also one found during collection) has the hook."""
        return bool(self._factories_hook.get_hookimpls())

    def func_of(self, fixturedef: pytest.FixtureDef[Any]) -> Callable[..., Any]:
        """Return the user's fixture function, also while a wrapper stands in for it."""
        return self.originals.get(id(fixturedef), fixturedef.func)

    def findings(self, owner: Owner | None = None) -> Findings | None:
        """Return where the nets put what they find about ``owner``.

        That is the findings of ``owner``'s test while it runs concurrently, else those of
        the test being set up, run or torn down.
        """
        item = self.active.get(owner.nodeid) if owner is not None else None
        if item is None:
            item = self.current_item
        if item is None:
            return None
        found = item.stash.get(FINDINGS_KEY, None)
        if found is None:
            found = item.stash[FINDINGS_KEY] = Findings()
        return found

    # -- loops ----------------------------------------------------------------------------
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

    def factory_for(
        self, item: pytest.Item | None, request: pytest.FixtureRequest
    ) -> tuple[object, LoopFactory | None]:
        """Return (key, factory) of the loops that ``item`` and its fixtures create."""
        plan = item.stash.get(PLAN_KEY, None) if item is not None else None
        if item is not None and plan is not None and plan.factory_name is not None:
            factories = plan.factories if plan.factories is not None else factories_for(item)
            factory = (factories or {}).get(plan.factory_name)
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


RUNTIME_KEY = pytest.StashKey[Runtime]()
