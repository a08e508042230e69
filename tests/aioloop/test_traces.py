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


#: A test that waits for a line on a FIFO, which the outer test writes once it has read the
#: stall report on the run's stderr.
WAITS_FOR_THE_REPORT = """
import asyncio
import os
import pytest

@pytest.mark.asyncio
async def test_waits_for_a_go():
    go = asyncio.Event()

    async def worker():
        await go.wait()

    task = asyncio.create_task(worker(), name="worker")
    fd = os.open(os.environ["GO_FIFO"], os.O_RDONLY | os.O_NONBLOCK)
    loop = asyncio.get_running_loop()
    loop.add_reader(fd, go.set)
    try:
        await task
    finally:
        loop.remove_reader(fd)
        os.close(fd)
"""


def _read_until(fd: int, wanted: str) -> list[str]:
    """Read lines from ``fd`` until one starts with ``wanted`` (at most 200 reads of 60 s)."""
    data = b""
    for _ in range(200):
        lines = data.decode(errors="replace").splitlines()
        if any(line.startswith(wanted) for line in lines):
            return lines
        readable, _, _ = select.select([fd], [], [], 60)
        assert readable, f"nothing more after: {lines}"
        chunk = os.read(fd, 65536)
        assert chunk, f"the stream ended before {wanted!r}: {lines}"
        data += chunk
    raise AssertionError(f"{wanted!r} never came: {data!r}")


@pytest.mark.parametrize("args", [(), ("-s",)], ids=["captured", "not-captured"])
def test_a_stall_writes_a_trace_and_the_run_goes_on(
    pytester: pytest.Pytester, args: tuple[str, ...]
) -> None:
    pytester.makepyfile(test_stalls=WAITS_FOR_THE_REPORT)
    fifo = pytester.path / "go.fifo"
    os.mkfifo(fifo)
    proc = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-p", "no:randomly", "--asyncio-stall-report=0.2", *args],
        cwd=pytester.path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "GO_FIFO": str(fifo)},
    )
    assert proc.stderr is not None
    try:
        lines = _read_until(proc.stderr.fileno(), "pytest-aioloop: this trace is also in ")
        with open(fifo, "w") as go:  # the test goes on
            go.write("go\n")
        out, _ = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 0, out
    assert (
        "pytest-aioloop: no test finished for 0.2 s while these tests ran: "
        "test_stalls.py::test_waits_for_a_go"
    ) in lines
    assert "task 'worker' was suspended at:" in lines
    assert "    await go.wait()" in lines
    assert "    await task" in lines
    if sys.version_info >= (3, 14):
        assert "Which task awaits which (asyncio.capture_call_graph):" in lines
    traces = list((pytester.path / ".pytest_cache/d/aioloop-traces").glob("main-*.txt"))
    assert "await go.wait()" in traces[0].read_text()
    assert "1 passed" in out
