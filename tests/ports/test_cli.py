"""Tests of ``python -m pytest_ports``."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest

from pytest_ports._registry import Registry

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


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--range", "10-20"], "LOW-HIGH"),
        (["-n", "0"], "-n must be at least 1"),
        (["sctp"], "invalid choice"),
        (["--host", "192.0.2.1"], "cannot be bound"),
    ],
)
def test_errors_exit_non_zero_with_a_message(args: list[str], message: str) -> None:
    out = _cli(*args)
    assert out.returncode != 0
    assert message in out.stderr
    assert out.stdout == ""


def _wait_for_exit(pid: int) -> None:
    # pidfd (Linux 5.3+) becomes readable when the process exits: a wait without polling.
    fd = os.pidfd_open(pid)
    try:
        assert select.select([fd], [], [], 30)[0], f"holder {pid} did not exit"
    finally:
        os.close(fd)


@pytest.mark.skipif(not hasattr(os, "pidfd_open"), reason="needs os.pidfd_open (Linux)")
def test_hold_keeps_ports_reserved_after_the_cli_exits(tmp_path: Path) -> None:
    out = _cli("-n", "3", "--hold", "120", env={"PYTEST_PORTS_REGISTRY": str(tmp_path)})
    assert out.returncode == 0, out.stderr
    ports = [int(line) for line in out.stdout.splitlines()]
    assert len(set(ports)) == 3
    pid = int(out.stderr.rsplit("pid ", 1)[1].split()[0])
    reg = Registry(str(tmp_path))
    try:
        assert [reg.claim(p) for p in ports] == ["held by another process (registry)"] * 3
    finally:
        os.kill(pid, signal.SIGTERM)
    _wait_for_exit(pid)
    assert [reg.claim(p) for p in ports] == [None] * 3
    for p in ports:
        reg.release(p)


def test_hold_reports_a_failing_holder() -> None:
    out = _cli("--hold", "5", "--range", "1100-1100", "--host", "192.0.2.1")
    assert out.returncode != 0
    assert "cannot be bound" in out.stderr
