"""Find ports that are free: bind, probe and search. Socket code only.

This module never imports pytest or asyncio. The reservation step is passed in as two callables,
so the finder can be tested (and reasoned about) without the registry. Where candidates come
from is :mod:`pytest_ports._pool`; which addresses are probed is :mod:`pytest_ports._hosts`.
"""

from __future__ import annotations

import collections
import errno
import os
import socket
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from pytest_ports._errors import NoFreePortError

if TYPE_CHECKING:
    import random

    from pytest_ports._hosts import Target
    from pytest_ports._pool import Pool
    from pytest_ports._settings import Check, Kind

DEFAULT_MAX_TRIES = 2000
DEFAULT_TIMEOUT = 10.0
#: How to widen the pool, as the pool-exhaustion error says it.
WIDEN_HINT = "PYTEST_PORTS_RANGE / --ports-range"

_SOCK_TYPES: dict[Kind, int] = {"tcp": socket.SOCK_STREAM, "udp": socket.SOCK_DGRAM}


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


class Found:
    """A port that was claimed and probed, and the bound socket if one was asked for."""

    __slots__ = ("port", "sock")

    def __init__(self, port: int, sock: socket.socket | None = None) -> None:
        self.port = port
        self.sock = sock


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
        candidate = _draw(kind, pool, targets[0], next_candidate)
        if isinstance(candidate, str):
            seen[candidate] += 1
            continue
        refused = claim(candidate)
        if refused is not None:
            seen[refused] += 1
            continue
        found = _check(candidate, kind, kinds=kinds, targets=targets, keep=keep)
        if isinstance(found, Found):
            return found
        unclaim(candidate)
        seen[found] += 1
    spent = timeout - max(deadline - time.monotonic(), 0)
    probes = f"{', '.join(kinds)} on {', '.join(map(str, targets))}"
    raise _exhausted(
        kind,
        tries=tries,
        spent=spent,
        pool=pool,
        held=holdings(),
        probes=probes,
        seen=seen,
        widen=widen,
    )


def _draw(
    kind: Kind, pool: Pool, target: Target, next_candidate: Callable[[Pool], int | None]
) -> int | str:
    """A candidate from ``pool`` (or the kernel's, for a kernel pool), or why there is none."""
    candidate = next_candidate(pool)
    if candidate is not None:
        return candidate
    try:
        return kernel_candidate(kind, target)
    except OSError as exc:
        return f"kernel bind(0): {describe(exc)}"


def _check(
    candidate: int,
    kind: Kind,
    *,
    kinds: Sequence[Kind],
    targets: Sequence[Target],
    keep: Target | None,
) -> Found | str:
    """Probe a claimed candidate (and bind the socket to keep): found, or what was busy."""
    busy = probe(candidate, kinds, targets)
    if busy is not None:
        return busy
    if keep is None:
        return Found(candidate)
    try:
        return Found(candidate, bind_socket(kind, keep, candidate))
    except OSError as exc:
        return f"{kind} {keep}: {describe(exc)}"


def _exhausted(
    kind: Kind,
    *,
    tries: int,
    spent: float,
    pool: Pool,
    held: str,
    probes: str,
    seen: collections.Counter[str],
    widen: str,
) -> NoFreePortError:
    """The error of a search that found nothing: what it tried, what it saw, what to do."""
    saw = "; ".join(f"{n} x {what}" for what, n in seen.most_common(5)) or "nothing"
    return NoFreePortError(
        f"no free {kind.upper()} port after {tries} candidates in {spent:.1f} s "
        f"(pid {os.getpid()}).\n"
        f"  pool: {pool.description}\n"
        f"  held: {held}\n"
        f"  probes ({probes}) saw: {saw}\n"
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
