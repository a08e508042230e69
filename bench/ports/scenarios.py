"""Adversarial port-finder scenarios, each in its own network namespace.

Usage: ``python bench/ports/scenarios.py SCENARIO ALGO [--size N]`` re-executes itself inside
``unshare -rn`` (a private network namespace with its own port space, loopback brought up), runs
one scenario with one finder algorithm and prints one JSON line. ALGO is ``pytest-ports``,
``pytest-asyncio`` or ``anyio``; the last two need those packages installed (the benchmark's
venv), and their real port functions are imported, not re-implemented.

The tests in ``tests/ports/test_adversarial.py`` and ``bench/ports/compare.py`` both run this.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

SCENARIOS = ("procs", "xdist", "steal-tcp", "steal-udp", "noipv6", "busy", "kill")
ALGOS = ("pytest-ports", "pytest-asyncio", "anyio")
KINDS = {"tcp": socket.SOCK_STREAM, "udp": socket.SOCK_DGRAM}


def finder(algo: str, kind: str) -> Callable[[], int]:
    """Return the algorithm's own function for one free port of ``kind``."""
    if algo == "pytest-ports":
        from pytest_ports import PortFactory

        return PortFactory("tcp" if kind == "tcp" else "udp")
    if algo == "pytest-asyncio":
        from pytest_asyncio.plugin import _unused_port  # type: ignore[import-not-found, unused-ignore]

        return lambda: int(_unused_port(KINDS[kind]))
    if algo == "anyio":
        from anyio.pytest_plugin import FreePortFactory  # type: ignore[import-not-found, unused-ignore]

        return FreePortFactory(socket.SocketKind(KINDS[kind]))  # session-scoped in anyio
    raise SystemExit(f"unknown algorithm {algo!r}; choose from {', '.join(ALGOS)}")


def _sysctl(name: str, value: str) -> None:
    Path("/proc/sys", *name.split(".")).write_text(value)


def _worker(algo: str, kind: str, n: int) -> None:
    """Take ``n`` ports, print them, keep holding them until stdin closes."""
    get = finder(algo, kind)
    ports = [get() for _ in range(n)]
    print(" ".join(map(str, ports)), flush=True)
    sys.stdin.read()


def _spawn_workers(algo: str, kind: str, n: int, count: int) -> list[list[int]]:
    me = [sys.executable, __file__, "--worker", algo, kind, str(n)]
    workers = [
        subprocess.Popen(me, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        for _ in range(count)
    ]
    results = []
    for w in workers:  # each prints only when done; all stay alive until everyone has printed
        assert w.stdout is not None
        results.append([int(p) for p in w.stdout.readline().split()])
    for w in workers:
        w.communicate("")
    return results


def _duplicates(groups: list[list[int]]) -> int:
    owners: collections.Counter[int] = collections.Counter()
    for group in groups:
        owners.update(set(group))
    return sum(1 for n in owners.values() if n > 1)


def procs(algo: str, size: int) -> dict[str, object]:
    """Scenario 1: 4 processes take ``size`` TCP ports each, all held at once."""
    start = time.monotonic()
    groups = _spawn_workers(algo, "tcp", size, 4)
    return {
        "ports": sum(map(len, groups)),
        "duplicates": _duplicates(groups),
        "seconds": round(time.monotonic() - start, 2),
    }


XDIST_TEST = """
import os, pytest

@pytest.mark.parametrize("i", range({size}))
def test_port(i, {fixture}):
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    with open(os.path.join({log!r}, worker), "a") as f:
        f.write(f"{{{fixture}}}\\n")
"""


def xdist(algo: str, size: int) -> dict[str, object]:
    """Scenario 2: ``pytest -n 4`` with ``size`` tests, each asking for a TCP port."""
    fixture = "free_tcp_port" if algo == "anyio" else "unused_tcp_port"
    keep = {"pytest-ports": "ports", "pytest-asyncio": "asyncio", "anyio": "anyio"}[algo]
    disable = [
        arg
        for name in ("ports", "asyncio", "anyio", "aioloop", "aiokit")
        if name != keep
        for arg in ("-p", f"no:{name}")
    ]
    with tempfile.TemporaryDirectory() as tmp:
        log = os.path.join(tmp, "log")
        os.mkdir(log)
        Path(tmp, "pytest.ini").write_text("[pytest]\n")
        test = XDIST_TEST.format(size=size, fixture=fixture, log=log)
        Path(tmp, "test_ports.py").write_text(test)
        start = time.monotonic()
        run = subprocess.run(
            [sys.executable, "-m", "pytest", "-n", "4", "-q", "-p", "no:cacheprovider", *disable],
            cwd=tmp,
            capture_output=True,
            text=True,
            check=False,
        )
        groups = [[int(x) for x in Path(log, w).read_text().split()] for w in os.listdir(log)]
    if run.returncode != 0:
        return {"error": run.stdout[-2000:] + run.stderr[-2000:]}
    return {
        "tests": sum(map(len, groups)),
        "workers": len(groups),
        "duplicates": _duplicates(groups),
        "seconds": round(time.monotonic() - start, 2),
    }


def steal(algo: str, kind: str, held: int, others: int) -> dict[str, object]:
    """Scenario 3: narrow the ephemeral range, hand out ports, open outgoing sockets."""
    _sysctl("net.ipv4.ip_local_port_range", "40000 40999")
    get = finder(algo, kind)
    handed = {get() for _ in range(held)}
    sockets: list[socket.socket] = []
    listener = socket.socket()
    listener.bind(("127.0.0.1", 5000))
    listener.listen(4096)
    try:
        for _ in range(others):
            if kind == "tcp":
                s = socket.create_connection(("127.0.0.1", 5000), timeout=5)
            else:
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                s.sendto(b"x", ("127.0.0.1", 9))  # autobind: the kernel picks an ephemeral port
            sockets.append(s)
        taken = handed & {s.getsockname()[1] for s in sockets}
        failed = 0
        for port in handed:
            with socket.socket(socket.AF_INET, KINDS[kind]) as s:
                try:
                    s.bind(("127.0.0.1", port))
                except OSError:
                    failed += 1
    finally:
        for s in sockets:
            s.close()
        listener.close()
    return {"handed": len(handed), "outgoing": others, "stolen": len(taken), "bind_failed": failed}


def noipv6(algo: str, size: int) -> dict[str, object]:
    """Scenario 4: IPv6 disabled on lo; ports must still come back promptly."""
    _sysctl("net.ipv6.conf.lo.disable_ipv6", "1")
    code = (
        "import sys, time; sys.path.insert(0, sys.argv[1]); from scenarios import finder;"
        f"get = finder({algo!r}, 'tcp'); t = time.monotonic(); [get() for _ in range({size})];"
        "print(time.monotonic() - t)"
    )
    try:
        out = subprocess.run(
            [sys.executable, "-c", code, os.path.dirname(os.path.abspath(__file__))],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
    except subprocess.TimeoutExpired:
        return {"ports": 0, "hung": True, "seconds": 10.0}
    return {"ports": size, "hung": False, "seconds": round(float(out.stdout), 3)}


def busy(algo: str, size: int) -> dict[str, object]:
    """Scenario 5: a port held by a listener on 127.0.0.2, ::1, 0.0.0.0 or :: is reported busy."""
    if algo != "pytest-ports":
        return {"skipped": "only pytest-ports takes a port range"}
    from pytest_ports import NoFreePortError, PortFactory, release_port
    from pytest_ports._settings import Settings

    port = 30500
    result: dict[str, object] = {}
    for kind, sock_type in KINDS.items():
        for address in ("127.0.0.2", "::1", "0.0.0.0", "::"):
            family = socket.AF_INET6 if ":" in address else socket.AF_INET
            settings = Settings(port_range=(port, port))
            factory = PortFactory("tcp" if kind == "tcp" else "udp", settings=settings)
            with socket.socket(family, sock_type) as holder:
                holder.bind((address, port))
                if kind == "tcp":
                    holder.listen()
                try:
                    got: object = factory()
                    release_port(port)
                except NoFreePortError:
                    got = "busy"
            after = factory()  # the holder is gone: the port must be found again
            release_port(after)
            result[f"{kind} {address}"] = got == "busy" and after == port
    return result


def kill(algo: str, size: int) -> dict[str, object]:
    """Scenario 6: a process killed while holding ports releases them."""
    if algo != "pytest-ports":
        return {"skipped": "only pytest-ports reserves ports"}
    from pytest_ports._registry import Registry

    me = [sys.executable, __file__, "--worker", algo, "tcp", str(size)]
    child = subprocess.Popen(me, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    ports = [int(p) for p in child.stdout.readline().split()]
    registry = Registry(os.environ["PYTEST_PORTS_REGISTRY"])
    refused_before = sum(registry.claim(p) is not None for p in ports)
    child.send_signal(signal.SIGKILL)
    child.wait()
    claimed_after = sum(registry.claim(p) is None for p in ports)
    return {
        "ports": len(ports),
        "refused_while_alive": refused_before,
        "claimed_after_kill": claimed_after,
    }


def inside(scenario: str, algo: str, size: int) -> dict[str, object]:
    """Run one scenario in the current (already private) namespace."""
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    # A private registry: the namespace has its own ports, so it must not share claims with
    # pytest-ports users outside it.
    os.environ["PYTEST_PORTS_REGISTRY"] = tempfile.mkdtemp(prefix="ports-registry-")
    if scenario == "procs":
        return procs(algo, size)
    if scenario == "xdist":
        return xdist(algo, size)
    if scenario == "steal-tcp":
        return steal(algo, "tcp", held=200, others=size)
    if scenario == "steal-udp":
        return steal(algo, "udp", held=200, others=size)
    if scenario == "noipv6":
        return noipv6(algo, size)
    if scenario == "busy":
        return busy(algo, size)
    return kill(algo, size)


def run(scenario: str, algo: str, size: int, timeout: float = 300) -> dict[str, object]:
    """Run one scenario in a fresh ``unshare -rn`` namespace and return its JSON result."""
    me = [sys.executable, __file__, "--inside", scenario, algo, "--size", str(size)]
    out = subprocess.run(
        ["unshare", "-rn", *me],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"{scenario}/{algo} failed ({out.returncode}):\n{out.stderr[-3000:]}")
    result: dict[str, object] = json.loads(out.stdout.splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--worker", nargs=3, metavar=("ALGO", "KIND", "N"), help=argparse.SUPPRESS)
    parser.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("scenario", nargs="?", choices=SCENARIOS)
    parser.add_argument("algo", nargs="?", choices=ALGOS, default="pytest-ports")
    parser.add_argument("--size", type=int, default=2000, help="ports, tests or sockets")
    args = parser.parse_args()
    if args.worker:
        _worker(args.worker[0], args.worker[1], int(args.worker[2]))
    elif args.scenario is None:
        parser.error("a scenario is required")
    elif args.inside:
        print(json.dumps(inside(args.scenario, args.algo, args.size)))
    else:
        print(json.dumps(run(args.scenario, args.algo, args.size)))


if __name__ == "__main__":
    main()
