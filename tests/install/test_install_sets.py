"""Each distribution installed from its wheel into a fresh environment, alone and together."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.install.conftest import Venv

SYNC_PORT_SUITE = """
import socket


def _bind(kind, port):
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", port))
        return sock.getsockname()[1]


def test_tcp_port(unused_tcp_port):
    assert _bind(socket.SOCK_STREAM, unused_tcp_port) == unused_tcp_port


def test_udp_port(unused_udp_port):
    assert _bind(socket.SOCK_DGRAM, unused_udp_port) == unused_udp_port


def test_tcp_factory(unused_tcp_port_factory):
    ports = {unused_tcp_port_factory() for _ in range(3)}
    assert len(ports) == 3
    for port in ports:
        assert _bind(socket.SOCK_STREAM, port) == port


def test_udp_factory(unused_udp_port_factory):
    ports = {unused_udp_port_factory() for _ in range(3)}
    assert len(ports) == 3
    for port in ports:
        assert _bind(socket.SOCK_DGRAM, port) == port
"""

ASYNC_SUITE = """
import asyncio

import pytest


@pytest.mark.asyncio
async def test_marked_coroutine():
    loop = asyncio.get_running_loop()
    assert await loop.run_in_executor(None, sum, [1, 2]) == 3


def test_sync_drives_event_loop(event_loop):
    assert event_loop.run_until_complete(asyncio.sleep(0, result=7)) == 7
"""

TOGETHER_SUITE = """
import asyncio

import pytest


async def _echo(reader, writer):
    writer.write(await reader.readline())
    await writer.drain()
    writer.close()
    await writer.wait_closed()


@pytest.mark.asyncio
async def test_server_on_free_port(unused_tcp_port):
    server = await asyncio.start_server(_echo, "127.0.0.1", unused_tcp_port)
    async with server:
        reader, writer = await asyncio.open_connection("127.0.0.1", unused_tcp_port)
        writer.write(b"ping\\n")
        assert await reader.readline() == b"ping\\n"
        writer.close()
        await writer.wait_closed()
"""


def _no_asyncio_marker(result: pytest.RunResult) -> None:
    assert result.ret == pytest.ExitCode.OK
    result.stdout.no_fnmatch_line("@pytest.mark.asyncio*")


# 1. pytest-ports alone ------------------------------------------------------------------------


def test_ports_only_sync_suite_passes(ports_only: Venv) -> None:
    result = ports_only.pytest(files={"test_ports.py": SYNC_PORT_SUITE})
    result.assert_outcomes(passed=4)
    result.stdout.no_fnmatch_line("aiokit *")


def test_ports_only_has_no_aioloop(ports_only: Venv) -> None:
    proc = ports_only.run("-c", "import pytest_aioloop")
    assert proc.returncode != 0
    assert "ModuleNotFoundError: No module named 'pytest_aioloop'" in proc.stderr


def test_ports_only_has_no_asyncio_marker(ports_only: Venv) -> None:
    _no_asyncio_marker(ports_only.pytest("--markers"))


def test_ports_import_does_not_import_asyncio(ports_only: Venv) -> None:
    out = ports_only.ok(
        "-c",
        "import sys, pytest_ports\n"
        "print(sorted(m for m in sys.modules if m.partition('.')[0] == 'asyncio'))",
    )
    assert out.strip() == "[]"


def test_ports_plugin_import_does_not_import_asyncio(ports_only: Venv) -> None:
    out = ports_only.ok("-c", "import sys, pytest_ports.plugin; print('asyncio' in sys.modules)")
    assert out.strip() == "False"


# 2. pytest-aioloop alone ----------------------------------------------------------------------


def test_aioloop_only_async_tests_run(aioloop_only: Venv) -> None:
    result = aioloop_only.pytest(files={"test_async.py": ASYNC_SUITE})
    result.assert_outcomes(passed=2)
    result.stdout.no_fnmatch_line("aiokit *")


def test_aioloop_only_has_no_port_fixtures(aioloop_only: Venv) -> None:
    listing = aioloop_only.pytest("--fixtures")
    assert listing.ret == pytest.ExitCode.OK
    listing.stdout.fnmatch_lines(["event_loop*"])
    listing.stdout.no_fnmatch_line("unused_*_port*")
    result = aioloop_only.pytest(
        files={"test_port.py": "def test_port(unused_tcp_port):\n    pass\n"}
    )
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*fixture 'unused_tcp_port' not found*"])


def test_aioloop_only_has_no_ports_package(aioloop_only: Venv) -> None:
    proc = aioloop_only.run("-c", "import pytest_ports")
    assert proc.returncode != 0
    assert "No module named 'pytest_ports'" in proc.stderr


OVERLAP_SUITE = """
import asyncio

import pytest

import pytest_aioloop

EVENTS = []


@pytest_aioloop.fixture
async def connection():
    EVENTS.append("(")
    await asyncio.sleep(0.01)
    EVENTS.append(")")
    yield


@pytest.mark.asyncio(concurrency=3)
class TestTogether:
    @pytest.mark.parametrize("n", range(3))
    async def test_uses_connection(self, connection, n):
        await asyncio.sleep(0)


def test_setups_seen():
    print("setups:", "".join(EVENTS))
"""


def test_aioloop_only_concurrency_without_greenlet(aioloop_only: Venv) -> None:
    # Without the extra, tests run together and their setups run one at a time, as the
    # summary says.
    assert aioloop_only.run("-c", "import greenlet").returncode != 0
    result = aioloop_only.pytest("-s", files={"test_overlap.py": OVERLAP_SUITE})
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(
        [
            "*setups: ()()()",
            "asyncio: 3 async tests ran together*",
            "asyncio: their setups and teardowns ran one test at a time; install "
            "pytest-aioloop[concurrency] (greenlet) to let them overlap.",
        ]
    )


HANGS_IN_SETUP = """
import asyncio
import pytest
import pytest_aioloop

pytestmark = pytest.mark.asyncio(concurrency=5)

SERVING = []

@pytest_aioloop.fixture
async def server(request):
    SERVING.append(request.node.name)
    try:
        if len(SERVING) > 1:  # the port is taken: it waits for a handshake that never comes
            await asyncio.Event().wait()
        yield
    finally:
        SERVING.remove(request.node.name)

@pytest.mark.parametrize("n", range(3))
async def test_serves(server, n):
    await asyncio.sleep(0.05)
"""


def test_aioloop_only_a_setup_that_waits_beside_others_is_stopped(aioloop_only: Venv) -> None:
    # Without the extra, setups run in the main flow, one at a time, while the running tests
    # go on: a setup that waits for ever there is cancelled at the stall limit, and runs
    # again alone.
    result = aioloop_only.pytest(
        "-o", "asyncio_concurrency_stall=0.3", files={"test_stall.py": HANGS_IN_SETUP}
    )
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(
        [
            "asyncio: 2 concurrency conflict(s)*",
            "    setup: *Setup of async fixture 'server', waiting beside other tests "
            "(asyncio_concurrency_stall), timed out after 0.3 s.",
        ]
    )


def test_aioloop_concurrency_extra_overlaps_setups(aioloop_concurrency: Venv) -> None:
    result = aioloop_concurrency.pytest("-s", files={"test_overlap.py": OVERLAP_SUITE})
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(["*setups: (((*", "asyncio: 3 async tests ran together*"])
    result.stdout.no_fnmatch_line("*one test at a time*")


# 3. pytest-aiokit: both together --------------------------------------------------------------


def test_aiokit_both_plugins_work_together(aiokit: Venv) -> None:
    result = aiokit.pytest(
        files={
            "test_ports.py": SYNC_PORT_SUITE,
            "test_async.py": ASYNC_SUITE,
            "test_together.py": TOGETHER_SUITE,
        }
    )
    result.assert_outcomes(passed=7)


def test_aiokit_header_shows_both(aiokit: Venv) -> None:
    version = aiokit.ok("-c", "import pytest_aiokit; print(pytest_aiokit.__version__)").strip()
    result = aiokit.pytest(files={"test_async.py": ASYNC_SUITE})
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(
        [
            f"aiokit {version}: pytest-aioloop {version} (active), pytest-ports {version} (active)",
            "plugins: *aiokit-*",
        ]
    )


def test_aiokit_sync_suite_never_imports_asyncio(aiokit: Venv) -> None:
    conftest = (
        "import sys\n\n"
        "def pytest_unconfigure(config):\n"
        "    print('asyncio imported:', 'asyncio' in sys.modules)\n"
    )
    result = aiokit.pytest("-s", files={"conftest.py": conftest, "test_ports.py": SYNC_PORT_SUITE})
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(["asyncio imported: False"])
    result = aiokit.pytest("-s", files={"conftest.py": conftest, "test_async.py": ASYNC_SUITE})
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["asyncio imported: True"])


# 4. each plugin can be disabled ---------------------------------------------------------------


def test_disable_aioloop(aiokit: Venv) -> None:
    _no_asyncio_marker(aiokit.pytest("-p", "no:aioloop", "--markers"))
    ports = aiokit.pytest("-p", "no:aioloop", files={"test_ports.py": SYNC_PORT_SUITE})
    ports.assert_outcomes(passed=4)
    ports.stdout.fnmatch_lines(["aiokit *: pytest-aioloop * (disabled with -p no:aioloop), *"])


def test_disable_ports(aiokit: Venv) -> None:
    result = aiokit.pytest("-p", "no:ports", "--fixtures")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.no_fnmatch_line("unused_*_port*")
    result.stdout.fnmatch_lines(["aiokit *, pytest-ports * (disabled with -p no:ports)"])
    loop = aiokit.pytest("-p", "no:ports", files={"test_async.py": ASYNC_SUITE})
    loop.assert_outcomes(passed=2)


def test_disable_aiokit(aiokit: Venv) -> None:
    result = aiokit.pytest(
        "-p", "no:aiokit", files={"test_async.py": ASYNC_SUITE, "test_ports.py": SYNC_PORT_SUITE}
    )
    result.assert_outcomes(passed=6)
    result.stdout.no_fnmatch_line("aiokit *")


@pytest.mark.parametrize("venv_name", ["ports_only", "aioloop_only"])
def test_disable_the_only_plugin(request: pytest.FixtureRequest, venv_name: str) -> None:
    venv: Venv = request.getfixturevalue(venv_name)
    entry_point = "ports" if venv_name == "ports_only" else "aioloop"
    result = venv.pytest("-p", f"no:{entry_point}", "--fixtures", "--markers")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.no_fnmatch_line("unused_*_port*")
    result.stdout.no_fnmatch_line("event_loop*")
    result.stdout.no_fnmatch_line("@pytest.mark.asyncio*")
