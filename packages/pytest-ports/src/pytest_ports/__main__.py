"""Print free ports for shell scripts and CI steps: ``python -m pytest_ports --help``."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from dataclasses import replace
from typing import TYPE_CHECKING

from pytest_ports._api import PortFactory
from pytest_ports._finder import NoFreePortError
from pytest_ports._settings import Family, parse_range, settings_from_env

if TYPE_CHECKING:
    from collections.abc import Sequence

_READY = "ready"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m pytest_ports",
        description="Print free ports, one a line. Without --hold they stay reserved only while "
        "this command runs; with --hold a detached process keeps them reserved for SECONDS.",
    )
    parser.add_argument("kind", nargs="?", choices=("tcp", "udp"), default="tcp")
    parser.add_argument("-n", type=int, default=1, metavar="N", help="how many ports (default 1)")
    parser.add_argument("--host", help="also require the ports to be bindable on this address")
    fam = parser.add_mutually_exclusive_group()
    fam.add_argument("-4", dest="family", action="store_const", const="ipv4", help="IPv4 only")
    fam.add_argument("-6", dest="family", action="store_const", const="ipv6", help="IPv6 only")
    parser.add_argument("--range", dest="port_range", metavar="A-B", help="pool to draw from")
    parser.add_argument(
        "--hold",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="keep the ports reserved this long in a detached process",
    )
    # Internal: the detached holder re-runs this module with this flag.
    parser.add_argument("--holder", action="store_true", help=argparse.SUPPRESS)
    return parser


def _find(args: argparse.Namespace) -> list[int]:
    settings = settings_from_env()
    if args.port_range:
        settings = replace(settings, port_range=parse_range(args.port_range))
    family: Family | None = args.family
    factory = PortFactory(args.kind, settings=settings, family=family)
    return [factory(host=args.host) for _ in range(args.n)]


def _spawn_holder(argv: Sequence[str]) -> int:
    """Start a detached holder, relay its ports once it holds the locks, and return."""
    kwargs: dict[str, object] = {}
    if sys.platform == "win32":  # pragma: no cover - not run here
        kwargs["creationflags"] = subprocess.DETACHED_PROCESS | subprocess.CREATE_NEW_PROCESS_GROUP
    else:
        kwargs["start_new_session"] = True  # outlive the shell's job control and Ctrl-C
    child = subprocess.Popen(
        [sys.executable, "-m", "pytest_ports", *argv, "--holder"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        **kwargs,  # type: ignore[call-overload]
    )
    assert child.stdout is not None
    # The holder prints the ports and "ready" only after it holds their locks, then closes its
    # end of the pipe; reading to EOF therefore waits exactly for that.
    lines = child.stdout.read().splitlines()
    child.stdout.close()
    if not lines or lines[-1] != _READY:
        child.wait()
        sys.stderr.write("\n".join(lines) + "\n")
        return child.returncode or 1
    print("\n".join(lines[:-1]), flush=True)
    print(f"pytest-ports: held by pid {child.pid}", file=sys.stderr)
    child.returncode = 0  # detached on purpose: do not warn that it is still running
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = _parser()
    args = parser.parse_args(argv)
    if args.n < 1:
        parser.error("-n must be at least 1")
    if args.hold > 0 and not args.holder:
        return _spawn_holder(argv)
    try:
        ports = _find(args)
    except (NoFreePortError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print("\n".join(map(str, ports)))
    if args.holder:
        print(_READY, flush=True)
        # Close our end of the pipe so the parent's read ends; keep nothing of the caller's.
        devnull = os.open(os.devnull, os.O_RDWR)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        time.sleep(args.hold)  # the whole point of the holder: keep the locks this long
    return 0


if __name__ == "__main__":
    sys.exit(main())
