"""The fixtures. Registered by :mod:`pytest_ports.plugin`, late when they must win."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import pytest

if TYPE_CHECKING:
    import socket
    from collections.abc import Iterator

    from pytest_ports._factory import PortFactory
    from pytest_ports._fixture_factory import FixturePortFactory
    from pytest_ports._settings import Settings


class PortsState:
    """Per-config state: the resolved settings and the two session factories (made at first use)."""

    __slots__ = ("_settings", "_tcp", "_udp")

    def __init__(self, settings: Settings | None) -> None:
        #: ``None``: every option has its default (``Settings()`` is made at first use).
        self._settings = settings
        self._tcp: FixturePortFactory | None = None
        self._udp: FixturePortFactory | None = None

    @property
    def settings(self) -> Settings:
        """The resolved settings."""
        if self._settings is None:
            from pytest_ports._settings import Settings

            self._settings = Settings()
        return self._settings

    @property
    def tcp(self) -> FixturePortFactory:
        """The session's TCP factory."""
        if self._tcp is None:
            self._tcp = _factory("tcp", self.settings)
        return self._tcp

    @property
    def udp(self) -> FixturePortFactory:
        """The session's UDP factory."""
        if self._udp is None:
            self._udp = _factory("udp", self.settings)
        return self._udp


def _factory(kind: Literal["tcp", "udp"], settings: Settings) -> FixturePortFactory:
    from pytest_ports._fixture_factory import FixturePortFactory

    return FixturePortFactory(kind, settings=settings)


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
