"""The public functions and the factory: wire the finder to the registry.

Never imports pytest or asyncio, so unittest suites, scripts and Django or Flask tests can use
it. Defaults come from the ``PYTEST_PORTS_*`` environment variables; the pytest plugin passes its
resolved settings instead.
"""

from __future__ import annotations

import functools
import random
import socket
from dataclasses import replace
from typing import Literal

from pytest_ports import _finder
from pytest_ports._errors import UnbindableHostError
from pytest_ports._hosts import host_targets, probe_targets
from pytest_ports._pool import Pool, make_pool
from pytest_ports._registry import Registry, get_registry, owner_of
from pytest_ports._settings import Check, Family, Kind, Settings, parse_family, settings_from_env

_rng = random.SystemRandom()  # no state to share after fork, unlike a seeded Random


@functools.lru_cache(maxsize=16)
def _pool(port_range: tuple[int, int] | None) -> Pool:
    return make_pool(port_range)


def _family(value: Family | socket.AddressFamily | str | None) -> Family | None:
    if value is None:
        return None
    if value == socket.AF_INET:
        return "ipv4"
    if value == socket.AF_INET6:
        return "ipv6"
    try:
        return parse_family(str(value))
    except ValueError:
        raise ValueError(
            f"family={value!r} is not one of 'auto', 'ipv4', 'ipv6', 'both', socket.AF_INET or "
            "socket.AF_INET6"
        ) from None


class PortFactory:
    """Hand out a different unused port on every call.

    Each port is reserved for the life of this process (or until :func:`release_port`): no other
    call in this process, and no other process using pytest-ports, gets it meanwhile. This is
    the type of the ``unused_tcp_port_factory`` and ``unused_udp_port_factory`` fixtures.

    Args:
        kind: ``"tcp"`` or ``"udp"``.
        settings: Pool, checks and registry to use; by default read from the ``PYTEST_PORTS_*``
            environment variables.
        host: Also require the port to be bindable on this host (see :meth:`__call__`).
        family: ``"auto"``, ``"ipv4"``, ``"ipv6"``, ``"both"``, or ``socket.AF_INET``/``AF_INET6``.
        timeout: Seconds to search before raising :class:`NoFreePortError`.

    Example:
        >>> factory = PortFactory("tcp")
        >>> first, second = factory(), factory()
        >>> first != second
        True
    """

    #: How the pool-exhaustion error tells users to widen the pool.
    _widen = _finder.WIDEN_HINT

    # The Literal types are spelled out (not the Kind/Family aliases) so that the reference
    # docs, which render this signature without evaluating it, show the accepted values.
    def __init__(
        self,
        kind: Literal["tcp", "udp"] = "tcp",
        *,
        settings: Settings | None = None,
        host: str | None = None,
        family: Literal["auto", "ipv4", "ipv6", "both"] | socket.AddressFamily | None = None,
        timeout: float = _finder.DEFAULT_TIMEOUT,
    ) -> None:
        if kind not in ("tcp", "udp"):
            raise ValueError(f"kind must be 'tcp' or 'udp', not {kind!r}")
        self.kind: Kind = kind
        self.settings = settings if settings is not None else settings_from_env()
        self.host = host
        self.family = _family(family) or self.settings.family
        self.timeout = timeout

    @property
    def registry(self) -> Registry:
        """The registry this factory claims ports in."""
        return get_registry(self.settings.registry)

    def __repr__(self) -> str:
        return f"PortFactory({self.kind!r}, host={self.host!r}, family={self.family!r})"

    def __call__(
        self, *, host: str | None = None, family: Family | socket.AddressFamily | None = None
    ) -> int:
        """Return a new unused port.

        Args:
            host: Also require the port to be bindable on this host: an IP address of this
                machine, or a name that resolves only to loopback addresses, such as
                ``localhost``. The port is probed on every address the name resolves to (those
                of ``family`` only, if that is ``"ipv4"`` or ``"ipv6"``).
            family: Override the factory's address family for this call.

        Raises:
            ValueError: ``host`` is a name that does not resolve, or resolves to an address
                that is not loopback; or ``family`` is not a valid family.
            NoFreePortError: ``host`` cannot be bound here, or no free port was found within
                the bounded tries or the timeout.
        """
        return self._find(host or self.host, _family(family) or self.family, keep=False).port

    def bind(
        self,
        *,
        host: str | None = None,
        family: Family | socket.AddressFamily | None = None,
        backlog: int = 128,
    ) -> socket.socket:
        """Return a socket already bound to a new unused port (TCP sockets also listen).

        Args:
            host: Address to bind; ``127.0.0.1`` by default (``::1`` for ``family="ipv6"``). A
                name that resolves only to loopback addresses, such as ``localhost``, is bound
                on its IPv4 address (``127.0.0.1``), or on its IPv6 address (``::1``) if it has
                no IPv4 one or ``family`` is ``"ipv6"``; the port is probed on all of them.
            family: Override the factory's address family for this call.
            backlog: ``listen()`` backlog for TCP.

        Raises:
            ValueError: As for :meth:`__call__`.
            NoFreePortError: As for :meth:`__call__`.
        """
        fam = _family(family) or self.family
        found = self._find(
            host or self.host or ("::1" if fam == "ipv6" else "127.0.0.1"),
            fam,
            keep=True,
            backlog=backlog,
        )
        assert found.sock is not None
        return found.sock

    def _find(
        self, host: str | None, family: Family, *, keep: bool, backlog: int = 128
    ) -> _finder.Found:
        hosts = host_targets(host, family) if host is not None else ()
        for target in hosts:
            # Fail at once, not after thousands of candidates, when the host is not ours.
            try:
                _finder.bind_socket(self.kind, target, 0).close()
            except OSError as exc:
                at = "" if target.address == host else f"{target.address}: "
                raise UnbindableHostError(
                    host,
                    f"cannot be bound here ({at}{_finder.describe(exc)}): use an address of "
                    "this machine, such as 127.0.0.1 or ::1",
                ) from None
        registry = self.registry
        pool = _pool(self.settings.port_range)
        targets = probe_targets(family, hosts)
        keep_target = hosts[0] if keep and hosts else None

        def next_candidate(pool: Pool) -> int | None:
            return _finder.random_candidate(_rng, pool, registry.is_taken, registry.oldest_spare)

        found = _finder.search(
            self.kind,
            pool=pool,
            targets=targets,
            kinds=_finder.probe_kinds(self.kind, self.settings.check),
            claim=registry.claim,
            unclaim=registry.release,
            next_candidate=next_candidate,
            keep=keep_target,
            timeout=self.timeout,
            holdings=lambda: registry.describe(pool.ports),
            widen=self._widen,
        )
        if found.sock is not None and keep_target is not None and self.kind == "tcp":
            found.sock.listen(backlog)
        return found

    def release(self, port: int) -> bool:
        """Give ``port`` back to every process; same as :func:`release_port`."""
        return release_port(port)


def _factory(kind: Kind, check: Check | None, port_range: tuple[int, int] | None) -> PortFactory:
    settings = settings_from_env()
    if check is not None:
        settings = replace(settings, check=check)
    if port_range is not None:
        settings = replace(settings, port_range=port_range)
    return PortFactory(kind, settings=settings)


def find_unused_tcp_port(
    *,
    host: str | None = None,
    family: Family | socket.AddressFamily | None = None,
    check: Check | None = None,
    port_range: tuple[int, int] | None = None,
) -> int:
    """Return a TCP port that is free and reserved for this process.

    The port comes from a pool below the OS ephemeral range (so outgoing connections do not take
    it), is claimed in a per-user registry (so other processes using pytest-ports do not get it)
    and is probed with binds that conflict with any holder. It stays reserved until the process
    exits or :func:`release_port` is called.

    Args:
        host: Also require the port to be bindable on this host: an IP address of this machine,
            or a name that resolves only to loopback addresses, such as ``localhost`` (the port
            is probed on each of them).
        family: ``"auto"`` (IPv4, plus IPv6 where usable), ``"ipv4"``, ``"ipv6"`` or ``"both"``.
        check: Also require the port free for ``"udp"`` or ``"both"``; default from
            ``PYTEST_PORTS_CHECK`` (``both``).
        port_range: Inclusive ``(low, high)`` pool instead of the automatic one.

    Returns:
        The port number.

    Raises:
        ValueError: ``host`` is a name that does not resolve only to loopback addresses, or
            ``family`` is not a valid family.
        NoFreePortError: ``host`` cannot be bound here, or no free port was found within the
            bounded tries or the timeout.
    """
    return _factory("tcp", check, port_range)(host=host, family=family)


def find_unused_udp_port(
    *,
    host: str | None = None,
    family: Family | socket.AddressFamily | None = None,
    check: Check | None = None,
    port_range: tuple[int, int] | None = None,
) -> int:
    """Return a UDP port that is free and reserved for this process.

    Same as :func:`find_unused_tcp_port`, for UDP.

    Args:
        host: Also require the port to be bindable on this host, as for
            :func:`find_unused_tcp_port`.
        family: ``"auto"``, ``"ipv4"``, ``"ipv6"`` or ``"both"``.
        check: Also require the port free for ``"tcp"`` or ``"both"``.
        port_range: Inclusive ``(low, high)`` pool instead of the automatic one.

    Returns:
        The port number.

    Raises:
        ValueError: As for :func:`find_unused_tcp_port`.
        NoFreePortError: As for :func:`find_unused_tcp_port`.
    """
    return _factory("udp", check, port_range)(host=host, family=family)


def bind_unused_tcp_socket(
    *, host: str = "127.0.0.1", backlog: int = 128, port_range: tuple[int, int] | None = None
) -> socket.socket:
    """Return a TCP socket listening on an unused, reserved port of ``host``.

    Hand it to servers that accept a socket (``asyncio.start_server(sock=...)``, aiohttp's
    ``SockSite``, uvicorn's ``fd=``): there is no window between choosing and binding. The caller
    closes the socket.

    Args:
        host: IP address to bind, ``127.0.0.1`` by default, or a name that resolves only to
            loopback addresses: ``localhost`` is bound on ``127.0.0.1`` (see
            :meth:`PortFactory.bind`).
        backlog: ``listen()`` backlog.
        port_range: Inclusive ``(low, high)`` pool instead of the automatic one.

    Raises:
        ValueError: ``host`` is a name that does not resolve only to loopback addresses.
        NoFreePortError: ``host`` cannot be bound here, or no free port was found.
    """
    return _factory("tcp", None, port_range).bind(host=host, backlog=backlog)


def bind_unused_udp_socket(
    *, host: str = "127.0.0.1", port_range: tuple[int, int] | None = None
) -> socket.socket:
    """Return a UDP socket bound to an unused, reserved port of ``host``.

    Hand it to ``loop.create_datagram_endpoint(sock=...)`` and similar. The caller closes it.

    Args:
        host: IP address to bind, ``127.0.0.1`` by default, or a name that resolves only to
            loopback addresses, as for :func:`bind_unused_tcp_socket`.
        port_range: Inclusive ``(low, high)`` pool instead of the automatic one.

    Raises:
        ValueError: As for :func:`bind_unused_tcp_socket`.
        NoFreePortError: As for :func:`bind_unused_tcp_socket`.
    """
    return _factory("udp", None, port_range).bind(host=host)


def release_port(port: int) -> bool:
    """Give back a port this process reserved, so any process may get it again.

    Args:
        port: A port returned by this package's functions or fixtures.

    Returns:
        Whether this process held the port.
    """
    registry = owner_of(port)
    return registry.release(port) if registry is not None else False
