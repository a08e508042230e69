"""A run stopped by SIGTERM while an async test hangs says which test, and where it waited."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGTERM"), reason="POSIX signals")

HANGS = """
import asyncio
import os
import pytest
import pytest_aioloop

@pytest_aioloop.fixture
async def client():
    yield "client"

@pytest.mark.asyncio
async def test_waits_for_a_reply(client):
    def waiting():  # runs once the test waits below: tell the outer test, and which process
        with open(os.environ["READY_FIFO"], "w") as ready:
            ready.write(str(os.getpid()))

    asyncio.get_running_loop().call_soon(waiting)
    await asyncio.Event().wait()
"""


def _stopped_while_hanging(pytester: pytest.Pytester, *args: str) -> tuple[int, str]:
    """Run the hanging test; once it is waiting, send SIGTERM to the process running it.

    The test says it waits, and in which process (with xdist, a worker), through a FIFO.
    """
    pytester.makepyfile(HANGS)
    fifo = pytester.path / "ready.fifo"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    env = {**os.environ, "READY_FIFO": str(fifo)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-p", "no:randomly", *args],
        cwd=pytester.path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        readable, _, _ = select.select([reader], [], [], 60)
        assert readable, "the test never started waiting"
        pid = int(os.read(reader, 64) or b"0")
        while not pid:  # the writer opened the FIFO before writing
            select.select([reader], [], [], 60)
            pid = int(os.read(reader, 64) or b"0")
    finally:
        os.close(reader)
    os.kill(pid, signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    return proc.returncode, err


def test_sigterm_writes_the_running_test_and_its_await_chain(pytester: pytest.Pytester) -> None:
    returncode, err = _stopped_while_hanging(pytester)
    assert returncode == -signal.SIGTERM  # it still ends as SIGTERM ends a process
    lines = err.splitlines()
    assert (
        "pytest-aioloop: SIGTERM while these tests ran: "
        "test_sigterm_writes_the_running_test_and_its_await_chain.py::test_waits_for_a_reply"
    ) in lines
    assert "    await asyncio.Event().wait()" in lines
    traces = list((pytester.path / ".pytest_cache/d/aioloop-traces").glob("main-*.txt"))
    assert len(traces) == 1
    assert "await asyncio.Event().wait()" in traces[0].read_text()


def test_an_xdist_worker_stopped_by_sigterm_leaves_its_own_trace(
    pytester: pytest.Pytester,
) -> None:
    _stopped_while_hanging(pytester, "-n", "1")
    traces = list((pytester.path / ".pytest_cache/d/aioloop-traces").glob("gw0-*.txt"))
    assert len(traces) == 1
    text = traces[0].read_text()
    assert "test_waits_for_a_reply" in text
    assert "await asyncio.Event().wait()" in text
