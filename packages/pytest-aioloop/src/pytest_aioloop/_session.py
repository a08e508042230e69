"""What pytest-aioloop keeps for one session, in ``config.stash``: settings, loops, nets, runner.

The parts below it (loops, runner, nets) know nothing of each other's state; the session state
wires them together once, at configure time, and is what the hooks reach through
``config.stash[STATE_KEY]``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest

from pytest_aioloop._compat.pytest_internals import fixture_function
from pytest_aioloop._loop.chooser import LoopChooser
from pytest_aioloop._loop.factories import default_factory
from pytest_aioloop._loop.manager import LoopManager
from pytest_aioloop._nets.findings import Findings, Summary
from pytest_aioloop._nets.nets import Nets
from pytest_aioloop._run.owners import Owner
from pytest_aioloop._run.runner import Runner
from pytest_aioloop._run.watchdog import Watchdog
from pytest_aioloop._settings.marker import MarkerSpec
from pytest_aioloop._settings.options import Settings

if TYPE_CHECKING:
    import asyncio

    from pytest_aioloop._compat.asyncio_internals import SavedLoop

#: What the nets found during one test (from its setup to the end of its teardown).
FINDINGS_KEY = pytest.StashKey[Findings]()


class SessionState:
    """The session's settings, loops, runner, nets and caches."""

    def __init__(self, config: pytest.Config, settings: Settings) -> None:
        self.config = config
        self.settings = settings
        self._factories_hook = config.pluginmanager.hook.pytest_asyncio_loop_factories
        #: Parsed asyncio markers by their arguments (see ``_items.plan``).
        self.marker_specs: dict[object, MarkerSpec] = {}
        #: Fixture functions pytest-aioloop replaced while pytest sets them up (by fixturedef id).
        self.originals: dict[int, Callable[..., Any]] = {}
        #: What is the same at every setup of a fixture function (see ``_fixtures.wrapper``).
        self.fixture_facts: dict[Callable[..., Any], Any] = {}
        self.chooser = LoopChooser(settings, self.func_of)
        self.loops = LoopManager(
            debug=settings.debug, factory=default_factory(settings.loop_factory)
        )
        self.watchdog = Watchdog()
        self.runner = Runner(self.watchdog, self.loops.given_up.add)
        self.summary = Summary()
        #: The test being set up, run or torn down (``None`` between tests).
        self.current_item: pytest.Item | None = None
        #: Tests running concurrently, by node id (see ``_concurrency``).
        self.active: dict[str, pytest.Item] = {}
        self.nets = Nets(settings, sink=self.findings, orphan=self.summary.add)
        self.loops.before_close = self.nets.loop_closing
        #: The loop of each live async fixture (by fixturedef id).
        self.fixture_loops: dict[int, asyncio.AbstractEventLoop] = {}
        #: Live user-defined event_loop fixtures: fixturedef id -> (description, loop, the
        #: current loop before it, restored at its teardown).
        self.user_event_loops: dict[int, tuple[str, asyncio.AbstractEventLoop, SavedLoop]] = {}

    @property
    def factories_hooked(self) -> bool:
        """Whether any plugin or conftest (also one found during collection) has the hook."""
        return bool(self._factories_hook.get_hookimpls())

    def func_of(self, fixturedef: pytest.FixtureDef[Any]) -> Callable[..., Any]:
        """Return the user's fixture function, also while a wrapper stands in for it."""
        return self.originals.get(id(fixturedef)) or fixture_function(fixturedef)

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
        stash = item.stash
        if FINDINGS_KEY not in stash:
            stash[FINDINGS_KEY] = Findings()
        return stash[FINDINGS_KEY]


STATE_KEY = pytest.StashKey[SessionState]()
