"""Unit tests of the cross-process registry and the in-process record, without pytester."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import warnings
from typing import TYPE_CHECKING

import pytest

from pytest_ports import PortRegistryWarning, _registry
from pytest_ports._registry import Registry, get_registry

if TYPE_CHECKING:
    from pathlib import Path

# A child that claims the ports given on the command line, reports, then waits for stdin to close.
HOLDER = """
import sys
from pytest_ports._registry import get_registry
reg = get_registry(sys.argv[1])
print(" ".join(str(reg.claim(int(p))) for p in sys.argv[2:]), flush=True)
sys.stdin.read()
"""

# Ports far from the pools other tests draw from, so these tests cannot disturb them.
P1, P2 = 1100, 1101


def _holder(location: Path, *ports: int) -> subprocess.Popen[str]:
    child = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(location), *map(str, ports)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    assert child.stdout.readline().split() == ["None"] * len(ports)
    return child


def _fresh(location: Path) -> Registry:
    # A new instance (not the cached one) so each test starts from a closed file.
    return Registry(str(location))


def test_claim_is_exclusive_within_the_process(tmp_path: Path) -> None:
    reg = _fresh(tmp_path)
    assert reg.claim(P1) is None
    try:
        assert reg.claim(P1) == "held by this process"
        assert reg.is_taken(P1)
    finally:
        assert reg.release(P1)
    assert not reg.release(P1)
    assert not reg.is_taken(P1)


def test_registry_file_is_private(tmp_path: Path) -> None:
    reg = _fresh(tmp_path / "r")
    assert reg.shared
    assert reg.path is not None
    assert oct(os.stat(reg.path).st_mode & 0o777) == "0o600"
    assert oct(os.stat(tmp_path / "r").st_mode & 0o777) == "0o700"


def test_another_process_cannot_claim_until_released(tmp_path: Path) -> None:
    child = _holder(tmp_path, P1, P2)
    reg = _fresh(tmp_path)
    try:
        assert reg.claim(P1) == "held by another process (registry)"
        assert reg.foreign_count([P1, P2, 1102]) == 2
    finally:
        child.communicate("")  # closing stdin lets the holder exit normally
    assert reg.claim(P1) is None
    assert reg.release(P1)


def test_a_killed_process_releases_its_ports(tmp_path: Path) -> None:
    child = _holder(tmp_path, P1)
    reg = _fresh(tmp_path)
    assert reg.claim(P1) is not None
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert child.stdin is not None
    assert child.stdout is not None
    child.stdin.close()
    child.stdout.close()
    assert reg.claim(P1) is None
    assert reg.release(P1)


def test_release_lets_other_processes_claim(tmp_path: Path) -> None:
    reg = _fresh(tmp_path)
    assert reg.claim(P2) is None
    assert reg.release(P2)
    child = _holder(tmp_path, P2)  # asserts the child's claim succeeded
    child.communicate("")


def test_retired_ports_stay_reserved_and_are_reused_only_when_low(tmp_path: Path) -> None:
    reg = _fresh(tmp_path)
    assert reg.claim(P1) is None
    reg.retire(P1)
    try:
        assert reg.is_taken(P1)
        assert reg.oldest_spare(range(P2, P2 + 1)) is None  # only spares inside the pool
        assert reg.oldest_spare(range(P1, P2 + 1)) == P1
        assert reg.claim(P1) is None  # reclaiming our own spare port succeeds
        assert reg.claim(P1) == "held by this process"
    finally:
        reg.release(P1)


def test_unusable_registry_warns_once_and_stays_unique_in_process(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a file where the registry directory should be")
    reg = _fresh(blocker)
    with pytest.warns(PortRegistryWarning, match="cannot use the port registry") as record:
        results = [reg.claim(P1), reg.claim(P2)]
    try:
        assert results == [None, None]
        assert len(record) == 1
        assert not reg.shared
        assert reg.claim(P1) == "held by this process"
        assert "unusable" in reg.describe([P1])
    finally:
        reg.release(P1)
        reg.release(P2)


def test_off_uses_no_file(tmp_path: Path) -> None:
    reg = _fresh(tmp_path)
    off = Registry("off")
    assert off.path is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert off.claim(P1) is None
    try:
        assert reg.claim(P1) == "held by this process"  # the in-process record is shared
        assert "disabled" in off.describe([])
    finally:
        off.release(P1)


def test_get_registry_is_cached_per_location(tmp_path: Path) -> None:
    assert get_registry(str(tmp_path)) is get_registry(str(tmp_path))
    assert get_registry(None) is not get_registry("off")


_FORK_SCRIPT = """
import os, sys
from pytest_ports._registry import get_registry
reg = get_registry(sys.argv[1])
assert reg.claim(int(sys.argv[2])) is None
read, write = os.pipe()
pid = os.fork()
if pid == 0:
    try:
        verdict = f"{reg.is_taken(int(sys.argv[2]))} {reg.claim(int(sys.argv[2]))}"
    except BaseException as exc:
        verdict = repr(exc)
    os.write(write, verdict.encode())
    os._exit(0)
os.close(write)
with os.fdopen(read) as f:
    print(f.read())
os.waitpid(pid, 0)
reg.release(int(sys.argv[2]))
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_forked_child_neither_inherits_nor_shares_claims(tmp_path: Path) -> None:
    # In a fresh single-threaded interpreter: forking this multi-threaded test process is
    # unsafe (and Python 3.12+ warns about it).
    proc = subprocess.run(
        [sys.executable, "-c", _FORK_SCRIPT, str(tmp_path), str(P1)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "False held by another process (registry)"


def test_default_location_is_per_user() -> None:
    location = _registry.default_location()
    assert os.path.basename(location).startswith("pytest-ports-")
