"""Which addresses a port is bound and probed on: hosts, IPv6 support and probe targets.

Socket code only; never imports pytest or asyncio.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

from pytest_ports._errors import LOOPBACK_FIX, BadHostError, NoFreePortError, UnbindableHostError
from pytest_ports._record import Record

if TYPE_CHECKING:
    from pytest_ports._settings import Family


class Target(Record):
    """One bind the probe makes: address family, address and (for IPv6) the V6ONLY flag."""

    __slots__ = ("address", "family", "v6only")

    def __init__(
        self, family: socket.AddressFamily, address: str, v6only: bool | None = None
    ) -> None:
        self.family = family
        self.address = address
        self.v6only = v6only

    def __str__(self) -> str:
        if self.family == socket.AF_INET6:
            return f"[{self.address}]" + (
                "" if self.v6only is None or self.v6only else " dual-stack"
            )
        return self.address


class Ipv6Support(Record):
    """What this process found about IPv6, once."""

    __slots__ = ("dual_stack", "loopback")

    def __init__(self, loopback: bool, dual_stack: bool) -> None:
        self.loopback = loopback
        self.dual_stack = dual_stack


_ipv6_lock = threading.Lock()
_ipv6_cache: Ipv6Support | None = None


def _can_bind(target: Target) -> bool:
    try:
        sock = socket.socket(target.family, socket.SOCK_STREAM)
    except OSError:
        return False
    with sock:
        try:
            if target.v6only is not None:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, int(target.v6only))
            sock.bind((target.address, 0))
        except OSError:
            return False
    return True


def ipv6_support() -> Ipv6Support:
    """Detect once per process whether ``::1`` and a dual-stack ``::`` can be bound.

    The answer is cached and never retried, so a host with IPv6 disabled on loopback costs two
    failed binds per process instead of an endless loop.
    """
    global _ipv6_cache
    with _ipv6_lock:
        if _ipv6_cache is None:
            if not socket.has_ipv6:
                _ipv6_cache = Ipv6Support(loopback=False, dual_stack=False)
            else:
                _ipv6_cache = Ipv6Support(
                    loopback=_can_bind(Target(socket.AF_INET6, "::1")),
                    dual_stack=_can_bind(Target(socket.AF_INET6, "::", v6only=False)),
                )
        return _ipv6_cache


def _literal(host: str) -> Target | None:
    try:
        addr = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None
    if addr.version == 6:
        return Target(socket.AF_INET6, str(addr), v6only=True)
    return Target(socket.AF_INET, str(addr))


def host_target(host: str) -> Target:
    """Return the bind target for a literal IP address.

    Raises:
        BadHostError: ``host`` is not an IP address literal.
    """
    target = _literal(host)
    if target is None:
        raise BadHostError(host, f"is not an IP address literal: {LOOPBACK_FIX}")
    return target


def host_targets(host: str, family: Family = "auto") -> tuple[Target, ...]:
    """Return the bind targets for ``host``: an IP address literal, or a loopback-only name.

    A literal is used as given. A name is resolved with ``getaddrinfo`` and accepted only if
    every address it resolves to is loopback; its addresses are returned IPv4 first, so the
    first is the one to bind a socket on. ``family="ipv4"`` or ``"ipv6"`` keeps the addresses of
    that family only, and IPv6 addresses are left out where ``::1`` cannot be bound.

    Raises:
        BadHostError: ``host`` is not a string, does not resolve, resolves to an address that
            is not loopback, or has no address of the requested family.
        UnbindableHostError: ``host`` resolves to IPv6 addresses only and IPv6 is not usable.
    """
    if not isinstance(host, str):
        raise BadHostError(host, f"is not a string: {LOOPBACK_FIX}")
    literal = _literal(host)
    if literal is not None:
        return (literal,)
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        detail = getattr(exc, "strerror", None) or str(exc)
        raise BadHostError(host, f"cannot be resolved ({detail}): {LOOPBACK_FIX}") from None
    addresses: list[ipaddress.IPv4Address | ipaddress.IPv6Address] = sorted(
        {ipaddress.ip_address(str(info[4][0]).partition("%")[0]) for info in infos},
        key=lambda addr: (addr.version, addr.packed),
    )
    if not addresses or not all(addr.is_loopback for addr in addresses):
        raise BadHostError(host, f"is not a loopback address: {LOOPBACK_FIX}")
    if family in ("ipv4", "ipv6"):
        version = 4 if family == "ipv4" else 6
        addresses = [addr for addr in addresses if addr.version == version]
        if not addresses:
            raise BadHostError(
                host,
                f"has no IPv{version} address, which family={family!r} requires: "
                f"use family='auto', or {'127.0.0.1' if version == 4 else '::1'}",
            )
    if not ipv6_support().loopback:
        if all(addr.version == 6 for addr in addresses):
            raise UnbindableHostError(
                host, "resolves to IPv6 addresses only, and ::1 cannot be bound here: use 127.0.0.1"
            )
        addresses = [addr for addr in addresses if addr.version == 4]
    return tuple(host_target(str(addr)) for addr in addresses)


def probe_targets(family: Family, hosts: Sequence[Target] = ()) -> tuple[Target, ...]:
    """Return the binds a free port must pass, strictest first.

    A bind on ``::`` with ``IPV6_V6ONLY=0`` conflicts with a holder on any IPv4 or IPv6 address,
    so it is the one probe to use where possible. Binds are made one after the other (they would
    conflict with each other if held together). ``hosts`` (from :func:`host_targets`) are probed
    too, after the wildcards.

    Raises:
        NoFreePortError: IPv6 was required but is not usable here.
    """
    v6 = ipv6_support()
    v4_any = Target(socket.AF_INET, "0.0.0.0")
    targets: list[Target]
    if family in ("ipv6", "both") and not v6.loopback:
        raise NoFreePortError(
            f"family={family!r} needs IPv6, but ::1 cannot be bound on this host; "
            "use family='ipv4' or 'auto'"
        )
    if family == "ipv4":
        targets = [v4_any]
    elif family == "ipv6":
        targets = [Target(socket.AF_INET6, "::", v6only=True)]
    elif v6.dual_stack:
        targets = [Target(socket.AF_INET6, "::", v6only=False)]
    elif v6.loopback:
        targets = [v4_any, Target(socket.AF_INET6, "::", v6only=True)]
    else:
        targets = [v4_any]
    targets.extend(t for t in hosts if not ipaddress.ip_address(t.address).is_unspecified)
    return tuple(targets)
