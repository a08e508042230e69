"""Print free ports for shell scripts and CI steps: ``python -m pytest_ports --help``."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import warnings
from dataclasses import replace
from typing import TYPE_CHECKING

from pytest_ports._errors import HostError, NoFreePortError
from pytest_ports._factory import PortFactory
from pytest_ports._registry import PortRegistryWarning
from pytest_ports._settings import Family, parse_range, settings_from_env
from pytest_ports._version import __version__

if TYPE_CHECKING:
    from collections.abc import Sequence

_READY = "ready"
#: Exit statuses; 2 is also what argparse uses for bad usage.
EXIT_NO_PORT = 1
EXIT_USAGE = 2
ALLOW_FLAG = "--allow-no-registry"

_DESCRIPTION = """\
Print free ports, one a line. Each port is reserved in the port registry that
pytest-ports shares with test runs, xdist workers and other uses of this
command, so none of them gets it meanwhile. Without --hold the ports stay
reserved only while this command runs; with --hold a detached process keeps
them reserved for SECONDS."""

_EPILOG = f"""\
environment:
  PYTEST_PORTS_RANGE, PYTEST_PORTS_CHECK, PYTEST_PORTS_FAMILY and
  PYTEST_PORTS_REGISTRY apply as in pytest; --range wins over
  PYTEST_PORTS_RANGE.

exit status:
  0  the ports were printed
  1  no free port was found
  2  bad usage, or the port registry cannot be used (see {ALLOW_FLAG})

example:
  PORT=$(python -m pytest_ports --hold 600)
  my-server --port "$PORT"
"""


class _CliFactory(PortFactory):
    _widen = "--range or PYTEST_PORTS_RANGE"


def _port_range(value: str) -> tuple[int, int] | None:
    try:
        return parse_range(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not LOW-HIGH with 1024 <= LOW <= HIGH <= 65535 (or auto)"
        ) from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m pytest_ports",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "kind",
        nargs="?",
        choices=("tcp", "udp"),
        default="tcp",
        help="protocol of the ports (default: tcp)",
    )
    parser.add_argument(
        "--version",
        action="version",
        version=f"pytest-ports {__version__}",
        help="show the version and exit",
    )
    parser.add_argument(
        "-n", type=int, default=1, metavar="N", help="how many ports to print (default: 1)"
    )
    _add_where(parser)
    parser.add_argument(
        "--hold",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="keep the ports reserved this long in a detached process, and return at once",
    )
    parser.add_argument(
        ALLOW_FLAG,
        dest="allow_no_registry",
        action="store_true",
        help="print ports even when the port registry cannot be used; they are then not "
        "reserved against other processes",
    )
    # Internal: the detached holder re-runs this module with this flag.
    parser.add_argument("--holder", action="store_true", help=argparse.SUPPRESS)
    return parser


def _add_where(parser: argparse.ArgumentParser) -> None:
    """The options that say where the ports must be free, and where they come from."""
    parser.add_argument(
        "--host",
        help="also require the ports to be bindable on HOST: an address of this machine, or a "
        "name that resolves only to loopback addresses (localhost)",
    )
    fam = parser.add_mutually_exclusive_group()
    fam.add_argument(
        "-4",
        dest="family",
        action="store_const",
        const="ipv4",
        help="require the ports to be free on IPv4 only (default: IPv4, and IPv6 where usable)",
    )
    fam.add_argument(
        "-6",
        dest="family",
        action="store_const",
        const="ipv6",
        help="require the ports to be free on IPv6 only",
    )
    parser.add_argument(
        "--range",
        dest="port_range",
        type=_port_range,
        metavar="LOW-HIGH",
        help="draw the ports from LOW-HIGH (default: the ports just below the OS ephemeral range)",
    )


def _error(message: str, status: int) -> int:
    print(f"pytest-ports: error: {message}", file=sys.stderr)
    return status


def _registry_problem(factory: PortFactory) -> str | None:
    """Say why the cross-process registry cannot be used, or return ``None`` if it can."""
    registry = factory.registry
    with warnings.catch_warnings():
        # The CLI reports the problem itself, as an error or a one-line note.
        warnings.simplefilter("ignore", PortRegistryWarning)
        if registry.shared:
            return None
    if registry.path is None:
        return "the port registry is off (PYTEST_PORTS_REGISTRY=off)"
    return f"the port registry {registry.path} is {registry.failure}"


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
        return child.returncode or EXIT_NO_PORT
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
        parser.error("argument -n: must be at least 1")
    if not args.hold >= 0:  # also catches NaN
        parser.error("argument --hold: must be 0 or more seconds")
    try:
        settings = settings_from_env()
    except ValueError as exc:
        return _error(str(exc), EXIT_USAGE)
    if args.port_range is not None:
        settings = replace(settings, port_range=args.port_range)
    family: Family | None = args.family
    factory = _CliFactory(args.kind, settings=settings, family=family)
    problem = _registry_problem(factory)
    if problem is not None and not args.allow_no_registry:
        return _error(
            f"{problem}, so the ports could not be reserved against other processes. Set "
            f"PYTEST_PORTS_REGISTRY to a writable local directory, or pass {ALLOW_FLAG} to "
            "accept ports that are unique only within this command.",
            EXIT_USAGE,
        )
    if args.hold > 0 and not args.holder:
        if problem is not None:
            print(f"pytest-ports: warning: {problem}; --hold reserves nothing.", file=sys.stderr)
        return _spawn_holder(argv)
    if problem is not None and not args.holder:
        print(
            f"pytest-ports: warning: {problem}; the ports are not reserved against other "
            "processes.",
            file=sys.stderr,
        )
    try:
        ports = [factory(host=args.host) for _ in range(args.n)]
    except HostError as exc:
        return _error(f"--host {exc.host} {exc.reason}", EXIT_USAGE)
    except NoFreePortError as exc:
        return _error(str(exc), EXIT_NO_PORT)
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
