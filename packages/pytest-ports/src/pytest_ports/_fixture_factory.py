"""The factory behind the fixtures: a bad argument fails the test that gave it.

Imported when a test first asks for a port (the plugin's start-up imports none of the finder).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, NoReturn

import pytest

from pytest_ports._errors import HostError
from pytest_ports._factory import PortFactory

if TYPE_CHECKING:
    import socket

    from pytest_ports._settings import Family


class FixturePortFactory(PortFactory):
    """The factory behind the factory fixtures: a bad argument fails the test that gave it.

    The failure names the test and the fixture and shows no traceback from inside the plugin;
    the plain :class:`PortFactory` raises ``ValueError`` instead.
    """

    def _fail(self, what: str, error: str) -> NoReturn:
        # pytest names the running test (and its phase) in PYTEST_CURRENT_TEST.
        test = os.environ.get("PYTEST_CURRENT_TEST", "").rsplit(" (", 1)[0]
        pytest.fail(f"{test + ': ' if test else ''}{what}: {error}", pytrace=False)

    def __call__(
        self, *, host: str | None = None, family: Family | socket.AddressFamily | None = None
    ) -> int:
        """Return a new unused port; see :meth:`PortFactory.__call__`."""
        try:
            return super().__call__(host=host, family=family)
        except (ValueError, HostError) as exc:
            error = str(exc)  # failed outside the handler: no "during handling" chain
        return self._fail(f"unused_{self.kind}_port_factory()", error)

    def bind(
        self,
        *,
        host: str | None = None,
        family: Family | socket.AddressFamily | None = None,
        backlog: int = 128,
    ) -> socket.socket:
        """Return a socket bound to a new unused port; see :meth:`PortFactory.bind`."""
        try:
            return super().bind(host=host, family=family, backlog=backlog)
        except (ValueError, HostError) as exc:
            error = str(exc)
        return self._fail(f"unused_{self.kind}_port_factory.bind()", error)
