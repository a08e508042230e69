"""Which parents of a group's tests are set up, and what each teardown keeps set up.

A part of :class:`~.group.Group`. pytest keeps a test's parents (session, package, module,
class) set up on its setup stack and tears a parent down when the next test is not in it. A
group admits the tests of one parent, and moves on to the next module or class while tests of
this one still run when nothing of what it leaves needs tearing down (:meth:`Parents.move_on`);
the last running test of a parent it left ends it. Every teardown goes towards a ``nextitem``
that keeps set up what the group's other tests, and those waiting to run again alone, still
need (:meth:`Parents.nextitem_of`).
"""

from __future__ import annotations

from typing import Any

import pytest

from pytest_aioloop._compat import setup_stack
from pytest_aioloop._compat.pytest_internals import fixturedefs_of_item, is_set_up
from pytest_aioloop._concurrency.conflicts import Conflicts
from pytest_aioloop._concurrency.running import Running
from pytest_aioloop._loop.kinds import LoopKind


class Parents:
    """The parents of a group's tests (a part of :class:`~.group.Group`)."""

    parent: object
    parents: list[object]
    left_users: dict[object, int]
    running: dict[pytest.Function, Running]
    members: list[pytest.Function]
    kind: LoopKind
    draining: bool
    held: Running | None
    exclusive: Running | None
    last: pytest.Function | None
    final_next: pytest.Item | None
    conflicts: Conflicts | None

    def beside(self, running: Running) -> list[str]:
        """Who ran beside the test (see the group)."""
        raise NotImplementedError

    def finish_paused_teardowns(self) -> None:
        """Let the teardowns waiting in their lanes end (see the group)."""
        raise NotImplementedError

    def move_on(self, item: pytest.Function) -> bool:
        """Let ``item``, of another module or class, join while this one's tests still run.

        Only when that changes nothing pytest would do: nothing of the parents the group leaves
        needs tearing down yet (no fixture of theirs is set up, and the group's loop is not
        theirs), ``item``'s setup sets up no fixture wider than a function, and no test waits
        to run again alone. The parents left stay aside until their last running test is torn
        down (:meth:`ending`).
        """
        if self.draining or self.held is not None or self.exclusive is not None:
            return False
        if self.kind.kind == "scoped" and self.kind.scope in _ENDS_WITH_THE_PARENT:
            return False  # the group's loop is its module's or class's: it ends with it
        if self.conflicts is not None and self.conflicts.waiting():
            return False
        if sets_up_wider_fixtures(item):
            return False
        self.finish_paused_teardowns()
        if self.conflicts is not None and self.conflicts.waiting():
            return False  # a teardown that ended meanwhile failed beside others
        leaving = setup_stack.parents_to_leave(item)
        if leaving is None:
            return False
        if leaving:
            users = self.left_users
            users.update(dict.fromkeys(leaving, 0))
            for running in self.running.values():
                chain = running.item.listchain()
                if any(node in users for node in chain):
                    running.left = tuple(node for node in reversed(chain) if node in users)
                    for node in running.left:
                        if node in leaving:
                            users[node] += 1
            for node in leaving:
                if not users[node]:  # no test of it runs: it ends now (nothing to tear down)
                    del users[node]
            setup_stack.leave(item.session, leaving)
            setup_stack.end_left(item.session, [n for n in leaving if n not in users])
        self.parent = item.parent
        self.parents.append(item.parent)
        return True

    def where(self) -> str:
        """The parents of the group's tests, for messages."""
        names = (getattr(parent, "nodeid", "") or "the session" for parent in self.parents)
        return ", ".join(dict.fromkeys(names))

    def keeper(self, exclude: Running) -> pytest.Function | None:
        """Another test of the group: a ``nextitem`` that keeps the shared parents set up.

        One of the current parent, so that a teardown never ends it while the group admits
        its tests. Draining, any other (the group's last test then waits for it, held). For a
        test of a parent the group left, the last test admitted will do when no test of the
        current parent runs: only its chain matters, which keeps the current parent set up.
        """
        parent, other = self.parent, None
        for item in self.running:
            if item is not exclude.item:
                if item.parent is parent:
                    return item
                if other is None:
                    other = item
        if self.draining:
            return other
        last = self.last
        if exclude.item.parent is not parent and last is not None and last.parent is parent:
            return last
        return None

    def nextitem_of(self, running: Running, keeper: pytest.Item | None) -> pytest.Item | None:
        """What the teardown keeps set up: another test of the group, the next one, or neither."""
        other = self.keeper(running)
        if other is not None:
            if self.draining and running.item is self.last:
                self.held = running  # it ends the module or class once the others are done
            return other
        return self.keep_for_reruns(running, keeper if keeper is not None else self.final_next)

    def keep_for_reruns(self, running: Running, towards: pytest.Item | None) -> pytest.Item | None:
        """``towards``, or a test of the group while tests wait to run again alone in it.

        Those tests run once the group is done, in pytest's order. Their module or class stays
        set up for them: a teardown that would end it goes towards a test of the group instead.
        When only tests of parents the group left (:meth:`move_on`) wait, the current parent
        ends now, and the teardown goes towards the first of them (what it shares with them
        stays set up).
        """
        conflicts = self.conflicts
        if conflicts is None or (towards is not None and towards.parent is self.parent):
            return towards
        failed = self._failed_beside(running)
        if not (conflicts.waiting() or failed):
            return towards
        parent = self.parent
        waiting = [(attempt.order, attempt.item) for attempt in conflicts.pending]
        if failed:
            waiting.append((running.index, running.item))
        if any(item.parent is parent for _, item in waiting):
            return next(
                (i for i in self.members if i is not running.item and i.parent is parent), towards
            )
        return min(waiting, key=lambda pair: pair[0])[1]

    def _failed_beside(self, running: Running) -> bool:
        """Whether the test failed so far while others ran beside it."""
        held = running.held_call
        failed = (held is not None and held.excinfo is not None) or any(
            report.failed for report, _ in running.reports
        )
        return failed and bool(self.beside(running))

    def ending(self, running: Running) -> list[Any]:
        """The parents the group left that end now that ``running`` is torn down (deepest first).

        Called when its teardown is done: the last of their tests to finish ends them, also
        when another one's teardown (waiting in its lane) started before.
        """
        if not running.left:
            return []
        users, ending = self.left_users, []
        for node in running.left:
            count = users.get(node)
            if count is not None:
                if count <= 1:
                    del users[node]
                    ending.append(node)
                else:
                    users[node] = count - 1
        running.left = ()
        return ending


#: The scopes of loops that end with their module or class (a group in one stays in it).
_ENDS_WITH_THE_PARENT = ("class", "module")

#: What :func:`wider_params` returns for a test without parameters (never changed).
_NO_PARAMS: dict[str, object] = {}


def wider_params(item: pytest.Function) -> dict[str, object]:
    """The parameters ``item`` gives fixtures wider than a function (pytest's own order)."""
    callspec = getattr(item, "callspec", None)
    if callspec is None:
        return _NO_PARAMS
    defs = fixturedefs_of_item(item)
    found: dict[str, object] = {}
    for name, value in callspec.params.items():
        name_defs = defs.get(name)
        if name_defs and name_defs[-1].scope != "function":
            found[name] = value
    return found


def sets_up_wider_fixtures(item: pytest.Function) -> bool:
    """Whether ``item``'s setup sets up a fixture wider than a function (or its parameter)."""
    params = wider_params(item)
    for name, name_defs in fixturedefs_of_item(item).items():
        if not name_defs or name_defs[-1].scope == "function":
            continue
        fixturedef = name_defs[-1]
        wanted = (params[name],) if name in params else ()
        if not is_set_up(fixturedef, *wanted):
            return True
    return False
