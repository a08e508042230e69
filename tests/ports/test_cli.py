"""Tests of ``python -m pytest_ports``."""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest

import pytest_ports

if TYPE_CHECKING:
    from pathlib import Path


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest_ports", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, **(env or {})},
    )


def test_prints_n_distinct_ports_one_a_line() -> None:
    out = _cli("udp", "-n", "5", "--range", "31200-31299", "-4")
    assert out.returncode == 0, out.stderr
    ports = [int(line) for line in out.stdout.splitlines()]
    assert len(set(ports)) == 5
    assert all(31200 <= p <= 31299 for p in ports)


def test_host_option() -> None:
    out = _cli("--host", "127.0.0.1")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().isdigit()


def test_host_localhost() -> None:
    out = _cli("udp", "--host", "localhost", "-n", "2")
    assert out.returncode == 0, out.stderr
    assert len({int(line) for line in out.stdout.splitlines()}) == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--range", "10-20"],
            "argument --range: '10-20' is not LOW-HIGH with 1024 <= LOW <= HIGH <= 65535",
        ),
        (["-n", "0"], "argument -n: must be at least 1"),
        (["--hold=-1"], "argument --hold: must be 0 or more seconds"),
        (["sctp"], "invalid choice"),
        (["--host", "192.0.2.1"], "pytest-ports: error: --host 192.0.2.1 cannot be bound here"),
    ],
)
def test_usage_errors_exit_2_with_a_message_naming_the_flag(args: list[str], message: str) -> None:
    out = _cli(*args)
    assert out.returncode == 2
    assert message in out.stderr
    assert out.stdout == ""


def test_a_host_name_that_is_not_loopback_names_the_flag() -> None:
    # Runs the module as `python -m` does, with example.com resolving to a public address
    # without asking any resolver.
    code = (
        "import runpy, socket, sys\n"
        "socket.getaddrinfo = lambda host, *a, **k: "
        "[(socket.AF_INET, socket.SOCK_STREAM, 6, '', ('93.184.216.34', 0))]\n"
        "sys.argv = ['pytest_ports', '--host', 'example.com']\n"
        "runpy.run_module('pytest_ports', run_name='__main__', alter_sys=True)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert out.returncode == 2
    assert out.stdout == ""
    assert out.stderr == (
        "pytest-ports: error: --host example.com is not a loopback address: use 127.0.0.1, "
        "::1 or a name that resolves only to them (localhost)\n"
    )


def test_pool_exhaustion_names_the_cli_flag(unused_tcp_socket: socket.socket) -> None:
    port = unused_tcp_socket.getsockname()[1]
    out = _cli("--range", f"{port}-{port}")
    assert out.returncode == 1
    assert out.stdout == ""
    assert "pytest-ports: error: no free TCP port" in out.stderr
    assert "Widen the pool (--range or PYTEST_PORTS_RANGE)" in out.stderr
    assert "--ports-range" not in out.stderr


def test_version() -> None:
    out = _cli("--version")
    assert (out.returncode, out.stdout) == (0, f"pytest-ports {pytest_ports.__version__}\n")


def test_help_describes_every_argument() -> None:
    out = _cli("--help", env={"COLUMNS": "80"})
    assert out.returncode == 0
    lines = out.stdout.splitlines()
    assert all(len(line) <= 80 for line in lines)
    for flag in ("{tcp,udp}", "--version", "-n N", "--host HOST", "-4", "-6", "--range LOW-HIGH"):
        (line,) = [line for line in lines if line.startswith(f"  {flag} ")]
        assert line[len(flag) + 2 :].strip(), f"{flag} has no help"
    assert "  {tcp,udp}            protocol of the ports (default: tcp)" in lines
    assert any(line.startswith("  --allow-no-registry  print ports even when") for line in lines)
    assert "exit status:" in lines
    assert "--holder" not in out.stdout


@pytest.fixture(params=["off", "unusable"])
def bad_registry(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str]:
    """Return a PYTEST_PORTS_REGISTRY value that cannot be used, and what the CLI says of it."""
    if request.param == "off":
        return "off", "the port registry is off (PYTEST_PORTS_REGISTRY=off)"
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    return str(blocker), f"the port registry {blocker / 'ports.lock'} is unusable"


@pytest.mark.parametrize("hold", [[], ["--hold", "60"]], ids=["plain", "hold"])
def test_an_unusable_registry_is_an_error(bad_registry: tuple[str, str], hold: list[str]) -> None:
    value, reason = bad_registry
    out = _cli(*hold, env={"PYTEST_PORTS_REGISTRY": value})
    assert out.returncode == 2
    assert out.stdout == ""
    assert out.stderr.startswith(f"pytest-ports: error: {reason}")
    assert "pass --allow-no-registry to accept ports that are unique only" in out.stderr
    assert "Warning" not in out.stderr


def test_allow_no_registry_prints_ports_with_a_warning(bad_registry: tuple[str, str]) -> None:
    value, reason = bad_registry
    out = _cli("-n", "2", "--allow-no-registry", env={"PYTEST_PORTS_REGISTRY": value})
    assert out.returncode == 0, out.stderr
    assert len({int(line) for line in out.stdout.splitlines()}) == 2
    assert out.stderr.startswith(f"pytest-ports: warning: {reason}")
    assert out.stderr.endswith("; the ports are not reserved against other processes.\n")
    assert len(out.stderr.splitlines()) == 1


def _wait_for_exit(pid: int) -> None:
    # pidfd (Linux 5.3+) becomes readable when the process exits: a wait without polling.
    fd = os.pidfd_open(pid)
    try:
        assert select.select([fd], [], [], 30)[0], f"holder {pid} did not exit"
    finally:
        os.close(fd)


def _claims_from_a_fresh_process(location: Path, ports: list[int]) -> list[str | None]:
    """Try to claim ``ports`` in ``location`` from a process that holds no port of its own.

    Not from this test's process: it may hold one of the ports already, through another
    registry (the one its own tests use), and would answer "held by this process".
    """
    code = (
        "import json, sys; from pytest_ports._registry import Registry; "
        "r = Registry(sys.argv[1]); "
        "print(json.dumps([r.claim(int(p)) for p in sys.argv[2:]]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(location), *map(str, ports)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    claims: list[str | None] = json.loads(out.stdout)
    return claims


@pytest.mark.skipif(not hasattr(os, "pidfd_open"), reason="needs os.pidfd_open (Linux)")
def test_hold_keeps_ports_reserved_after_the_cli_exits(tmp_path: Path) -> None:
    out = _cli("-n", "3", "--hold", "120", env={"PYTEST_PORTS_REGISTRY": str(tmp_path)})
    assert out.returncode == 0, out.stderr
    ports = [int(line) for line in out.stdout.splitlines()]
    assert len(set(ports)) == 3
    pid = int(out.stderr.rsplit("pid ", 1)[1].split()[0])
    try:
        held = _claims_from_a_fresh_process(tmp_path, ports)
        assert held == ["held by another process (registry)"] * 3
    finally:
        os.kill(pid, signal.SIGTERM)
    _wait_for_exit(pid)
    assert _claims_from_a_fresh_process(tmp_path, ports) == [None] * 3


def test_hold_reports_a_failing_holder() -> None:
    out = _cli("--hold", "5", "--range", "1100-1100", "--host", "192.0.2.1")
    assert out.returncode != 0
    assert "cannot be bound" in out.stderr
