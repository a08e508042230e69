"""Where port candidates come from: the OS ephemeral range and the pool outside it.

Never imports pytest or asyncio. The range is read once per process: from ``/proc`` on Linux,
``sysctl`` on macOS and the BSDs, ``netsh`` on Windows.
"""

from __future__ import annotations

import re
import subprocess
import sys
import threading
from collections.abc import Container, Sequence

from pytest_ports._record import Record

#: Ports below this need privileges on most systems; never hand them out.
MIN_PORT = 1024
MAX_PORT = 65535
#: Size of the automatic pool just below the ephemeral range (20000-32767 on stock Linux).
POOL_SIZE = 12768
#: Below this many ports outside the ephemeral range, the kernel picks candidates instead.
MIN_POOL = 1000

_LINUX_RANGE = "/proc/sys/net/ipv4/ip_local_port_range"
_LINUX_RESERVED = "/proc/sys/net/ipv4/ip_local_reserved_ports"
#: IANA's dynamic range: the Windows default, and the fallback where the range cannot be read.
_IANA_DYNAMIC = (49152, 65535)


class EphemeralRange(Record):
    """The range the OS picks ports from for ``bind(0)`` and outgoing connections."""

    __slots__ = ("high", "low", "reserved", "source")

    def __init__(self, low: int, high: int, reserved: frozenset[int], source: str) -> None:
        self.low = low
        self.high = high
        self.reserved = reserved
        self.source = source


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


class Pool(Record):
    """Where candidates come from: a list of ports, or the kernel when ``ports`` is empty."""

    __slots__ = ("description", "members", "ports")

    def __init__(
        self, ports: Sequence[int], description: str, members: Container[int] = ()
    ) -> None:
        self.ports = ports
        self.description = description
        #: Fast membership: the ``range`` itself, or a frozenset for a list of ports.
        self.members = members

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
