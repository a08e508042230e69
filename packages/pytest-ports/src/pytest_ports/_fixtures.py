"""The fixtures. Registered by :mod:`pytest_ports.plugin`, late when they must win."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, NoReturn

import pytest

from pytest_ports._errors import HostError
from pytest_ports._factory import PortFactory

if TYPE_CHECKING:
    import socket
    from collections.abc import Iterator

    from pytest_ports._settings import Family, Settings


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


@dataclass(frozen=True)
class PortsState:
    """Per-config state: the resolved settings and the two session factories."""

    settings: Settings
    tcp: FixturePortFactory
    udp: FixturePortFactory


STATE_KEY = pytest.StashKey[PortsState]()


def _state(request: pytest.FixtureRequest) -> PortsState:
    return request.config.stash[STATE_KEY]


def _port(factory: PortFactory) -> Iterator[int]:
    port = factory()
    yield port
    # Keep it reserved against other processes; this process reuses it only when low on ports.
    factory.registry.retire(port)


def _socket(factory: PortFactory) -> Iterator[socket.socket]:
    sock = factory.bind()
    port = int(sock.getsockname()[1])
    try:
        yield sock
    finally:
        sock.close()
        factory.registry.retire(port)


@pytest.fixture
def unused_tcp_port(request: pytest.FixtureRequest) -> Iterator[int]:
    """Provide a free TCP port that no other test, worker or process gets meanwhile."""
    yield from _port(_state(request).tcp)


@pytest.fixture
def unused_udp_port(request: pytest.FixtureRequest) -> Iterator[int]:
    """Provide a free UDP port that no other test, worker or process gets meanwhile."""
    yield from _port(_state(request).udp)


@pytest.fixture(scope="session")
def unused_tcp_port_factory(request: pytest.FixtureRequest) -> PortFactory:
    """Return a callable that gives a different free TCP port on each call.

    Call it as ``unused_tcp_port_factory(host=..., family=...)``; annotate it with
    :class:`pytest_ports.PortFactory`.
    """
    return _state(request).tcp


@pytest.fixture(scope="session")
def unused_udp_port_factory(request: pytest.FixtureRequest) -> PortFactory:
    """Return a callable that gives a different free UDP port on each call.

    Call it as ``unused_udp_port_factory(host=..., family=...)``; annotate it with
    :class:`pytest_ports.PortFactory`.
    """
    return _state(request).udp


@pytest.fixture
def unused_tcp_socket(request: pytest.FixtureRequest) -> Iterator[socket.socket]:
    """Provide a TCP socket listening on a free port of 127.0.0.1; closed after the test.

    Pass it to ``asyncio.start_server(sock=...)`` or similar: no window between choosing the
    port and binding it.
    """
    yield from _socket(_state(request).tcp)


@pytest.fixture
def unused_udp_socket(request: pytest.FixtureRequest) -> Iterator[socket.socket]:
    """Provide a UDP socket bound to a free port of 127.0.0.1; closed after the test.

    Pass it to ``loop.create_datagram_endpoint(sock=...)`` or similar.
    """
    yield from _socket(_state(request).udp)
