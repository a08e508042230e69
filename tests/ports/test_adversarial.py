"""Adversarial scenarios from issue 4, each in a private network namespace (``unshare -rn``).

Deselected unless ``--run-adversarial`` is given. The scenarios live in
``bench/ports/scenarios.py``, which the benchmark also runs against pytest-asyncio and anyio.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).parents[2] / "bench" / "ports" / "scenarios.py"

pytestmark = pytest.mark.adversarial


def unshare_available() -> str | None:
    """Return why ``unshare -rn`` cannot be used here, or ``None`` if it can."""
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return "needs the unshare and ip commands (util-linux, iproute2)"
    probe = subprocess.run(
        ["unshare", "-rn", "true"], capture_output=True, text=True, timeout=10, check=False
    )
    if probe.returncode != 0:
        return f"unshare -rn is not permitted here: {probe.stderr.strip() or probe.returncode}"
    return None


@pytest.fixture(scope="module", autouse=True)
def _needs_unshare() -> None:
    reason = unshare_available()
    if reason is not None:
        pytest.skip(f"adversarial scenarios run in network namespaces: {reason}")


def scenario(name: str, size: int | None = None, timeout: float = 120) -> dict[str, object]:
    args = [sys.executable, str(SCRIPT), name, "pytest-ports"]
    if size is not None:
        args += ["--size", str(size)]
    out = subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=False)
    assert out.returncode == 0, out.stderr[-3000:]
    result: dict[str, object] = json.loads(out.stdout.splitlines()[-1])
    return result


def test_four_processes_2000_ports_each_share_none() -> None:
    result = scenario("procs", 2000)
    assert result["ports"] == 8000
    assert result["duplicates"] == 0


def test_xdist_four_workers_2000_tests_share_no_port() -> None:
    result = scenario("xdist", 2000, timeout=240)
    assert "error" not in result, result.get("error")
    assert (result["tests"], result["workers"], result["duplicates"]) == (2000, 4, 0)


@pytest.mark.parametrize(("kind", "outgoing"), [("tcp", 700), ("udp", 300)])
def test_outgoing_sockets_steal_nothing_in_a_narrow_range(kind: str, outgoing: int) -> None:
    result = scenario(f"steal-{kind}", outgoing)
    assert result == {"handed": 200, "outgoing": outgoing, "stolen": 0, "bind_failed": 0}


def test_ipv6_disabled_on_loopback_returns_promptly() -> None:
    result = scenario("noipv6", 100)
    assert result["hung"] is False
    assert isinstance(result["seconds"], float)
    assert result["seconds"] < 2


def test_holders_on_every_address_are_reported_busy() -> None:
    result = scenario("busy")
    assert len(result) == 8
    assert all(result.values()), result


def test_a_killed_process_releases_its_ports() -> None:
    result = scenario("kill", 100)
    assert result == {"ports": 100, "refused_while_alive": 100, "claimed_after_kill": 100}


def test_unshare_is_what_the_scenarios_use() -> None:
    # Guards the skip logic: where unshare works, the namespace really has its own port space.
    out = subprocess.run(
        ["unshare", "-rn", "cat", "/proc/net/tcp"], capture_output=True, text=True, check=True
    )
    assert len(out.stdout.splitlines()) == 1  # header only: no sockets of the host
