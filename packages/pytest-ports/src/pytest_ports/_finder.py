"""Find ports that are free: the pool, the candidates and the probe. Socket code only.

This module never imports pytest or asyncio. The reservation step is passed in as two callables,
so the finder can be tested (and reasoned about) without the registry.
"""

from __future__ import annotations

import collections
import errno
import ipaddress
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Container, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import random

    from pytest_ports._settings import Check, Family, Kind

#: Ports below this need privileges on most systems; never hand them out.
MIN_PORT = 1024
MAX_PORT = 65535
#: Size of the automatic pool just below the ephemeral range (20000-32767 on stock Linux).
POOL_SIZE = 12768
#: Below this many ports outside the ephemeral range, the kernel picks candidates instead.
MIN_POOL = 1000
DEFAULT_MAX_TRIES = 2000
DEFAULT_TIMEOUT = 10.0
#: How to widen the pool, as the pool-exhaustion error says it.
WIDEN_HINT = "PYTEST_PORTS_RANGE / --ports-range"

_SOCK_TYPES: dict[Kind, int] = {"tcp": socket.SOCK_STREAM, "udp": socket.SOCK_DGRAM}
_LINUX_RANGE = "/proc/sys/net/ipv4/ip_local_port_range"
_LINUX_RESERVED = "/proc/sys/net/ipv4/ip_local_reserved_ports"
#: IANA's dynamic range: the Windows default, and the fallback where the range cannot be read.
_IANA_DYNAMIC = (49152, 65535)


class NoFreePortError(RuntimeError):
    """No free port was found within the bounded number of tries or the deadline."""


# ---------------------------------------------------------------------------------------------
# The ephemeral range and the pool


@dataclass(frozen=True)
class EphemeralRange:
    """The range the OS picks ports from for ``bind(0)`` and outgoing connections."""

    low: int
    high: int
    reserved: frozenset[int]
    source: str


def _parse_port_list(text: str) -> frozenset[int]:
    """Parse Linux's ``1000,2000-2010`` list syntax."""
    ports: set[int] = set()
    for raw in text.replace("\n", ",").split(","):
        part = raw.strip()
        if not part:
            continue
        low, _, high = part.partition("-")
        ports.update(range(int(low), int(high or low) + 1))
    return frozenset(ports)


def _linux_range() -> EphemeralRange | None:
    try:
        with open(_LINUX_RANGE, encoding="ascii") as f:
            low, high = (int(x) for x in f.read().split())
    except (OSError, ValueError):
        return None
    try:
        with open(_LINUX_RESERVED, encoding="ascii") as f:
            reserved = _parse_port_list(f.read())
    except (OSError, ValueError):
        reserved = frozenset()
    return EphemeralRange(low, high, reserved, _LINUX_RANGE)


def _sysctl_range() -> EphemeralRange | None:
    # macOS and the BSDs: written from their documentation, not tested here (Linux only).
    names = ["net.inet.ip.portrange.first", "net.inet.ip.portrange.last"]
    try:
        out = subprocess.run(
            ["sysctl", "-n", *names], capture_output=True, text=True, timeout=5, check=True
        ).stdout.split()
        low, high = int(out[0]), int(out[1])
    except (OSError, subprocess.SubprocessError, ValueError, IndexError):
        return None
    return EphemeralRange(min(low, high), max(low, high), frozenset(), "sysctl " + " ".join(names))


def _windows_range() -> EphemeralRange | None:
    # Windows: written from Microsoft's documentation of `netsh int ipv4 show dynamicport`, not
    # tested here. Output holds "Start Port : 49152" and "Number of Ports : 16384".
    try:
        out = subprocess.run(
            ["netsh", "int", "ipv4", "show", "dynamicport", "tcp"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    numbers = [int(n) for n in re.findall(r":\s*(\d+)", out)]
    if len(numbers) < 2 or numbers[1] < 1:
        return None
    return EphemeralRange(numbers[0], numbers[0] + numbers[1] - 1, frozenset(), "netsh dynamicport")


_range_lock = threading.Lock()
_range_cache: EphemeralRange | None = None


def ephemeral_range() -> EphemeralRange:
    """Return the OS ephemeral port range, read once per process."""
    global _range_cache
    with _range_lock:
        if _range_cache is None:
            if sys.platform.startswith("linux"):
                found = _linux_range()
            elif sys.platform == "win32":
                found = _windows_range()
            else:
                found = _sysctl_range()
            _range_cache = found or EphemeralRange(*_IANA_DYNAMIC, frozenset(), "IANA default")
        return _range_cache


@dataclass(frozen=True)
class Pool:
    """Where candidates come from: a list of ports, or the kernel when ``ports`` is empty."""

    ports: Sequence[int]
    description: str
    #: Fast membership: the ``range`` itself, or a frozenset for a list of ports.
    members: Container[int] = ()

    @property
    def kernel(self) -> bool:
        """Whether the kernel chooses candidates (no room outside the ephemeral range)."""
        return not self.ports

    def __len__(self) -> int:
        return len(self.ports)

    def __contains__(self, port: object) -> bool:
        return port in (self.members or self.ports)


def _span(ports: Sequence[int]) -> str:
    return f"{ports[0]}-{ports[-1]}" if ports else "none"


def make_pool(port_range: tuple[int, int] | None = None, eph: EphemeralRange | None = None) -> Pool:
    """Build the candidate pool: an explicit range, or the ports just below the ephemeral range."""
    if port_range is not None:
        low, high = port_range
        ports = range(max(low, MIN_PORT), min(high, MAX_PORT) + 1)
        return Pool(ports, f"{_span(ports)} ({len(ports)} ports, configured)", ports)
    eph = eph or ephemeral_range()
    high = eph.low - 1
    below = range(max(MIN_PORT, high - POOL_SIZE + 1), high + 1)
    where = f"the ephemeral range {eph.low}-{eph.high} from {eph.source}"
    if len(below) >= MIN_POOL:
        return Pool(below, f"{_span(below)} ({len(below)} ports, below {where})", below)
    # Too little room below: use every non-ephemeral port we can, else let the kernel choose.
    # bind(0) without SO_REUSEADDR draws from the whole range (Linux: odd ports, the parity
    # connect() avoids), twice the pool portpicker's SO_REUSEADDR variant gets.
    outside = [
        p
        for p in range(MIN_PORT, MAX_PORT + 1)
        if not eph.low <= p <= eph.high or p in eph.reserved
    ]
    if len(outside) >= MIN_POOL:
        return Pool(outside, f"{len(outside)} ports outside {where}", frozenset(outside))
    return Pool((), f"kernel-chosen ports (only {len(outside)} ports lie outside {where})")


# ---------------------------------------------------------------------------------------------
# IPv6 detection and probe targets


@dataclass(frozen=True)
class Target:
    """One bind the probe makes: address family, address and (for IPv6) the V6ONLY flag."""

    family: socket.AddressFamily
    address: str
    v6only: bool | None = None

    def __str__(self) -> str:
        if self.family == socket.AF_INET6:
            return f"[{self.address}]" + (
                "" if self.v6only is None or self.v6only else " dual-stack"
            )
        return self.address


@dataclass(frozen=True)
class Ipv6Support:
    """What this process found about IPv6, once."""

    loopback: bool
    dual_stack: bool


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


#: What to use instead of a host name that resolves to something other than loopback.
LOOPBACK_FIX = "use 127.0.0.1, ::1 or a name that resolves only to them (localhost)"


class HostError(Exception):
    """A ``host`` argument that cannot be used; the message starts with ``host='...'``.

    Attributes:
        host: The host as given.
        reason: What is wrong with it and what to use instead.
    """

    def __init__(self, host: object, reason: str) -> None:
        super().__init__(f"host={host!r} {reason}")
        self.host = host
        self.reason = reason


class BadHostError(HostError, ValueError):
    """A host name that does not resolve, or resolves to an address that is not loopback."""


class UnbindableHostError(HostError, NoFreePortError):
    """A host address that cannot be bound on this machine."""


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


# ---------------------------------------------------------------------------------------------
# Binding and probing


def _exclusive(sock: socket.socket) -> None:
    # Windows lets a later SO_REUSEADDR bind steal a port unless the first socket asks for
    # exclusivity; POSIX has no such option and needs none (we never set SO_REUSEADDR).
    option = getattr(socket, "SO_EXCLUSIVEADDRUSE", None)
    if option is not None:
        sock.setsockopt(socket.SOL_SOCKET, option, 1)


def bind_socket(kind: Kind, target: Target, port: int, backlog: int = 128) -> socket.socket:
    """Bind (and for TCP, listen on) ``target`` at ``port`` without SO_REUSEADDR.

    Raises:
        OSError: The bind failed; callers treat any error as "port busy".
    """
    sock = socket.socket(target.family, _SOCK_TYPES[kind])
    try:
        _exclusive(sock)
        if target.v6only is not None:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, int(target.v6only))
        sock.bind((target.address, port))
        if kind == "tcp":
            sock.listen(backlog)
    except BaseException:
        sock.close()
        raise
    return sock


def describe(exc: OSError) -> str:
    """Say what a failed bind saw: the errno name and its text."""
    name = errno.errorcode.get(exc.errno or 0, "") if exc.errno else ""
    return f"{name or type(exc).__name__}: {exc.strerror or exc}"


def probe(port: int, kinds: Sequence[Kind], targets: Sequence[Target]) -> str | None:
    """Check that ``port`` can be bound for every kind on every target.

    Returns:
        ``None`` if every bind succeeded, else what the first failing bind saw. Any ``OSError``
        counts as busy: EADDRINUSE, EACCES (Windows excluded ranges), EADDRNOTAVAIL.
    """
    for kind in kinds:
        for target in targets:
            try:
                bind_socket(kind, target, port, backlog=1).close()
            except OSError as exc:
                return f"{kind} {target}: {describe(exc)}"
    return None


def probe_kinds(kind: Kind, check: Check) -> tuple[Kind, ...]:
    """Return the protocols to probe: the port's own kind plus those ``check`` asks for."""
    wanted: list[Kind] = [kind]
    for other in ("tcp", "udp"):
        if other not in wanted and check in (other, "both"):
            wanted.append(other)
    return tuple(wanted)


def kernel_candidate(kind: Kind, target: Target) -> int:
    """Ask the kernel for a port with ``bind(0)`` (no SO_REUSEADDR) and close the socket."""
    with socket.socket(target.family, _SOCK_TYPES[kind]) as sock:
        if target.v6only is not None:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, int(target.v6only))
        sock.bind((target.address, 0))
        return int(sock.getsockname()[1])


# ---------------------------------------------------------------------------------------------
# The search


@dataclass
class Found:
    """A port that was claimed and probed, and the bound socket if one was asked for."""

    port: int
    sock: socket.socket | None = None


#: Claim a port; return ``None`` on success or why it could not be claimed.
Claim = Callable[[int], "str | None"]


def search(
    kind: Kind,
    *,
    pool: Pool,
    targets: Sequence[Target],
    kinds: Sequence[Kind],
    claim: Claim,
    unclaim: Callable[[int], object],
    next_candidate: Callable[[Pool], int | None],
    keep: Target | None = None,
    max_tries: int = DEFAULT_MAX_TRIES,
    timeout: float = DEFAULT_TIMEOUT,
    holdings: Callable[[], str] = lambda: "unknown",
    widen: str = WIDEN_HINT,
) -> Found:
    """Draw candidates, claim them, probe them; return the first that passes.

    Args:
        kind: The protocol of the port asked for.
        pool: Where candidates come from.
        targets: Binds the probe makes (see :func:`probe_targets`).
        kinds: Protocols the probe checks.
        claim: Reserves a port, returning ``None`` or why it failed.
        unclaim: Gives back a claimed port that failed its probe.
        next_candidate: Picks from ``pool``, or returns ``None`` to let the kernel pick.
        keep: If given, also bind a socket of ``kind`` on this target and return it bound.
        max_tries: Candidates to try before giving up.
        timeout: Seconds to try before giving up.
        holdings: Describes ports held by this process and the registry, for the error.
        widen: How to widen the pool, for the error (the CLI names its own flag).

    Raises:
        NoFreePortError: Nothing passed within ``max_tries`` or ``timeout``.
    """
    deadline = time.monotonic() + timeout
    seen: collections.Counter[str] = collections.Counter()
    tries = 0
    while tries < max_tries and time.monotonic() < deadline:
        tries += 1
        candidate = next_candidate(pool)
        if candidate is None:
            try:
                candidate = kernel_candidate(kind, targets[0])
            except OSError as exc:
                seen[f"kernel bind(0): {describe(exc)}"] += 1
                continue
        refused = claim(candidate)
        if refused is not None:
            seen[refused] += 1
            continue
        busy = probe(candidate, kinds, targets)
        if busy is None and keep is not None:
            try:
                return Found(candidate, bind_socket(kind, keep, candidate))
            except OSError as exc:
                busy = f"{kind} {keep}: {describe(exc)}"
        if busy is None:
            return Found(candidate)
        unclaim(candidate)
        seen[busy] += 1
    saw = "; ".join(f"{n} x {what}" for what, n in seen.most_common(5)) or "nothing"
    raise NoFreePortError(
        f"no free {kind.upper()} port after {tries} candidates in "
        f"{timeout - max(deadline - time.monotonic(), 0):.1f} s (pid {os.getpid()}).\n"
        f"  pool: {pool.description}\n"
        f"  held: {holdings()}\n"
        f"  probes ({', '.join(kinds)} on {', '.join(map(str, targets))}) saw: {saw}\n"
        f"  Widen the pool ({widen}), release ports you no longer need, or check what else "
        "binds ports on this host."
    )


def random_candidate(
    rng: random.Random,
    pool: Pool,
    taken: Callable[[int], bool],
    reuse: Callable[[Pool], int | None] = lambda pool: None,
) -> int | None:
    """Pick a uniform random port from ``pool`` that ``taken`` does not reject.

    When this process holds most of the pool (32 random picks in a row are taken), ``reuse``
    may offer a port this process released earlier; failing that, pick among the free rest.
    Returns ``None`` for a kernel pool: the caller then asks the kernel.
    """
    if pool.kernel:
        return None
    ports = pool.ports
    for _ in range(32):
        port = ports[rng.randrange(len(ports))]
        if not taken(port):
            return port
    spare = reuse(pool)
    if spare is not None:
        return spare
    free = [p for p in ports if not taken(p)]
    return rng.choice(free) if free else ports[rng.randrange(len(ports))]
