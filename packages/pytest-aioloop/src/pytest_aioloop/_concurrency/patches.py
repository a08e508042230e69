"""Process-wide patches made by the fixtures of tests running together, undone together.

A fixture that sets an environment variable with ``monkeypatch`` (often an autouse one) patches
the whole process. Run one after the other, each test's patches are undone at its teardown,
back to what the test found. Run together, that order breaks: the first test to end would put
back what it found while the others still run, and the last to end would put back the patched
value it found, for every later test. So the ``monkeypatch`` of a test in a group undoes
nothing at its teardown while other tests of its group still run: the last of them to be torn
down undoes every test's patches, last patched first, at the moment its own would have been
undone (:meth:`Patches.defer`). While they run, every test sees the
patches of all; a test that fails because of another's patch runs again alone (``conflicts``).
A test that asks for ``monkeypatch`` itself, to patch in its body, runs alone (``admission``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest


class Patches:
    """The ``monkeypatch`` undos a group keeps until none of its tests runs."""

    def __init__(self) -> None:
        #: (position of the test in the group, its ``MonkeyPatch``), in the order they ended.
        self.waiting: list[tuple[int, Any]] = []

    def defer(
        self, item: pytest.Function, index: int, alone: Callable[[Any], bool], running: Any
    ) -> None:
        """Make the undo of ``item``'s ``monkeypatch`` (if it has one) wait for the group.

        ``index`` is the test's position in the group; ``alone(running)`` says, at its
        teardown, whether no other test of the group still runs.
        """
        funcargs = getattr(item, "funcargs", None)
        patch = funcargs.get("monkeypatch") if isinstance(funcargs, dict) else None
        if patch is None or not callable(getattr(patch, "undo", None)):
            return

        def undo() -> None:  # called by the fixture's teardown
            self.waiting.append((index, patch))
            if alone(running):
                self.settle()

        patch.undo = undo

    def settle(self) -> None:
        """Undo every waiting test's patches, the last patched first (no test runs now).

        Also called when the group closes, for what an interruption left waiting.
        """
        waiting, self.waiting = self.waiting, []
        for _, patch in sorted(waiting, key=lambda entry: entry[0], reverse=True):
            type(patch).undo(patch)
