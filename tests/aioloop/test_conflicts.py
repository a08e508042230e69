"""Concurrency never changes an outcome: a test that fails beside others runs again alone.

Each shape below is a way real suites share state between tests. Each is run sequentially
and at concurrency 50, and must give the same outcomes.
"""

from __future__ import annotations

import json

import pytest

from tests.aioloop.reports import run_collecting

#: Tests that write a module-global cache and read it back after awaiting.
GLOBAL_CACHE = """
import asyncio
import pytest

CACHE = {}

@pytest.mark.parametrize("n", range(10))
async def test_cache(n):
    CACHE["user"] = n
    await asyncio.sleep(0)
    assert CACHE["user"] == n

async def test_fails_anyway():
    await asyncio.sleep(0)
    assert 1 == 2
"""

#: The same, with every test_cache writing before any reads it back, however the group
#: interleaves them (the last writer is test_cache[9], and the nine others conflict). A test
#: alone gives up waiting for the others after a bounded number of loop turns.
GLOBAL_CACHE_ALL_WRITE_FIRST = """
import asyncio
import pytest

CACHE = {}
STARTED = []

@pytest.mark.parametrize("n", range(10))
async def test_cache(n):
    CACHE["user"] = n
    STARTED.append(n)
    for _ in range(200):
        if len(STARTED) >= 10:
            break
        await asyncio.sleep(0)
    assert CACHE["user"] == n

async def test_fails_anyway():
    await asyncio.sleep(0)
    assert 1 == 2
"""

#: Each test starts a server on the module's one port and talks to it with a client.
SERVERS = """
import asyncio
import socket
import pytest

def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]

PORT = _free_port()

@pytest.fixture
async def server():
    async def echo(reader, writer):
        writer.write(await reader.readline())
        await writer.drain()
        writer.close()
    server = await asyncio.start_server(echo, "127.0.0.1", PORT)
    yield server
    server.close()
    await server.wait_closed()

@pytest.mark.parametrize("n", range(6))
async def test_echo(server, n):
    reader, writer = await asyncio.open_connection("127.0.0.1", PORT)
    writer.write(b"%d\\n" % n)
    assert await reader.readline() == b"%d\\n" % n
    writer.close()
"""

#: A router installed for the whole process, as HTTP-mocking libraries do.
HTTP_MOCK = """
import asyncio
import pytest

ROUTES = {}

async def get(url):
    await asyncio.sleep(0)
    return ROUTES[url]

@pytest.fixture
async def http_mock():
    yield ROUTES
    ROUTES.clear()

@pytest.mark.parametrize("user", ["ann", "bob", "cid", "dan"])
async def test_profile(http_mock, user):
    http_mock["https://api.example/me"] = {"name": user}
    await asyncio.sleep(0)
    assert (await get("https://api.example/me"))["name"] == user
"""

#: A timing assertion, beside a test that blocks the loop with synchronous code.
TIMING = """
import asyncio
import time
import pytest

async def test_quick_enough():
    loop = asyncio.get_running_loop()
    start = loop.time()
    await asyncio.sleep(0.02)
    assert loop.time() - start < 0.12

async def test_blocks_the_loop():
    time.sleep(0.2)
"""


#: An autouse fixture sets an environment variable with monkeypatch; tests read it.
AUTOUSE_SETENV = """
import asyncio
import os
import pytest

@pytest.fixture(autouse=True)
def environment(monkeypatch):
    monkeypatch.setenv("APP_MODE", "test")
    monkeypatch.setattr(os, "sep", os.sep)

@pytest.mark.parametrize("n", range(8))
async def test_reads_it(n):
    await asyncio.sleep(0)
    assert os.environ["APP_MODE"] == "test"

def test_restored_after_the_module():
    pass
"""

#: Checks, in a later module, that nothing of the patches above is left.
AFTER_SETENV = """
import os

def test_nothing_left():
    assert "APP_MODE" not in os.environ
"""


def _outcomes(result: pytest.RunResult) -> dict[str, int]:
    return {k: v for k, v in result.parseoutcomes().items() if k not in ("warnings", "warning")}


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (GLOBAL_CACHE, {"passed": 10, "failed": 1}),
        (SERVERS, {"passed": 6}),
        (HTTP_MOCK, {"passed": 4}),
        (TIMING, {"passed": 2}),
    ],
    ids=["module-global-cache", "per-test-servers", "process-wide-http-mock", "timing"],
)
def test_sequential_outcomes_at_concurrency_50(
    pytester: pytest.Pytester, source: str, expected: dict[str, int]
) -> None:
    pytester.makepyfile(source)
    alone, _ = run_collecting(pytester, "--asyncio-mode=auto")
    together, _ = run_collecting(pytester, "--asyncio-mode=auto", "-o", "asyncio_concurrency=50")
    assert _outcomes(alone) == expected
    assert _outcomes(together) == expected
    together.stdout.fnmatch_lines(["asyncio: * async tests ran together*"])


def test_an_autouse_setenv_lets_tests_run_together_and_is_undone_after_them(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_a_setenv=AUTOUSE_SETENV, test_b_after=AFTER_SETENV)
    alone, _ = run_collecting(pytester, "--asyncio-mode=auto")
    together, _ = run_collecting(
        pytester, "--asyncio-mode=auto", "-o", "asyncio_concurrency=50", "-v"
    )
    alone.assert_outcomes(passed=10)
    together.assert_outcomes(passed=10)
    together.stdout.fnmatch_lines(["asyncio: 8 async tests ran together."])
    together.stdout.no_fnmatch_line("*concurrency conflict*")


MODULE_EVENT_LOOP = """
import asyncio
import pytest

@pytest.fixture(scope="module")
def event_loop():
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()

LOOPS = set()
ARRIVED = []

@pytest.mark.asyncio
@pytest.mark.parametrize("n", range(5))
async def test_in_the_module_loop(n):
    LOOPS.add(asyncio.get_running_loop())
    ARRIVED.append(n)
    assert len(LOOPS) == 1

@pytest.mark.asyncio
async def test_asks_for_it(event_loop):
    assert asyncio.get_running_loop() is event_loop

def test_one_loop_for_all():
    assert len(LOOPS) == 1
"""


@pytest.mark.parametrize("scope", ["module", "function"])
def test_tests_sharing_a_module_scoped_event_loop_run_together_in_it(
    pytester: pytest.Pytester, scope: str
) -> None:
    pytester.makepyfile(MODULE_EVENT_LOOP.replace('scope="module"', f'scope="{scope}"'))
    expected = {"passed": 7} if scope == "module" else {"passed": 2, "failed": 5}
    alone, _ = run_collecting(pytester)
    together, _ = run_collecting(pytester, "-o", "asyncio_concurrency=50", "-v")
    assert _outcomes(alone) == expected
    assert _outcomes(together) == expected
    if scope == "module":
        together.stdout.fnmatch_lines(["asyncio: 6 async tests ran together."])
    else:
        together.stdout.fnmatch_lines(
            ["asyncio: 0 async tests ran together; 6 ran alone: it uses an event_loop of its own*"]
        )


def test_a_test_that_asks_for_monkeypatch_itself_runs_alone(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import os
        import pytest

        @pytest.mark.parametrize("mode", ["a", "b", "c"])
        async def test_patches_in_its_body(monkeypatch, mode):
            monkeypatch.setenv("APP_MODE", mode)
            assert os.environ["APP_MODE"] == mode

        async def test_other():
            pass
        """
    )
    result, _ = run_collecting(
        pytester, "--asyncio-mode=auto", "-o", "asyncio_concurrency=50", "-v"
    )
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(
        [
            "*test_patches_in_its_body[[]a[]] runs alone: it uses monkeypatch in its body *",
            "asyncio: 1 async tests ran together; 3 ran alone: it uses monkeypatch in its body*",
        ]
    )


def test_the_summary_names_each_conflict_with_its_neighbours_and_first_error(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(GLOBAL_CACHE_ALL_WRITE_FIRST)
    result, _ = run_collecting(pytester, "--asyncio-mode=auto", "-o", "asyncio_concurrency=50")
    result.assert_outcomes(passed=10, failed=1)
    result.stdout.fnmatch_lines(
        [
            "asyncio: 11 async tests ran together.",
            "asyncio: 9 concurrency conflict(s): test(s) that failed while others ran beside "
            "them and passed alone (reported as passed; *",
            "  test_the_summary_names_each_conflict_with_its_neighbours_and_first_error.py::"
            "test_cache[[]0[]]",
            "    It failed while 10 other test(s) ran beside it (test_cache[[]1[]], "
            "test_cache[[]2[]], test_cache[[]3[]] and 7 more):",
            "    call: assert 9 == 0",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "asyncio: 1 test(s) failed while running together and failed alone too: reported "
            "as they fail alone.",
            "FAILED *::test_fails_anyway*",
        ]
    )


def test_conflicts_are_remembered_and_run_alone_next_time(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(GLOBAL_CACHE_ALL_WRITE_FIRST)
    args = ("-p", "no:randomly", "--asyncio-mode=auto", "-o", "asyncio_concurrency=50", "-v")
    first = pytester.runpytest(*args)
    first.assert_outcomes(passed=10, failed=1)
    remembered = json.loads(
        (pytester.path / ".pytest_cache/v/aioloop/concurrency-conflicts").read_text()
    )
    assert len(remembered) == 9

    second = pytester.runpytest(*args)
    second.assert_outcomes(passed=10, failed=1)
    second.stdout.fnmatch_lines(
        [
            "*test_cache[[]0[]] runs alone: it conflicted with tests running beside it in an "
            "earlier run (remembered in pytest's cache; --cache-clear forgets)",
        ]
    )
    second.stdout.no_fnmatch_line("*concurrency conflict(s)*")

    cleared = pytester.runpytest(*args, "--cache-clear")
    cleared.stdout.fnmatch_lines(["asyncio: 9 concurrency conflict(s)*"])


def test_conflicts_fail_the_run_when_asked(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(GLOBAL_CACHE_ALL_WRITE_FIRST)
    result, _ = run_collecting(
        pytester,
        "--asyncio-mode=auto",
        "-o",
        "asyncio_concurrency=50",
        "--asyncio-concurrency-conflicts=fail",
    )
    result.assert_outcomes(passed=1, failed=10)
    result.stdout.fnmatch_lines(
        [
            "asyncio: concurrency conflict (asyncio_concurrency_conflicts = fail): this test "
            "passes alone.",
            "It failed while 10 other test(s) ran beside it (*",
        ]
    )
    result.stdout.fnmatch_lines(["*9 concurrency conflict(s)*(reported as failed;*"])


def test_off_reports_failures_as_they_happened_together(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(GLOBAL_CACHE_ALL_WRITE_FIRST)
    result, _ = run_collecting(
        pytester,
        "--asyncio-mode=auto",
        "-o",
        "asyncio_concurrency=50",
        "-o",
        "asyncio_concurrency_conflicts=off",
    )
    result.assert_outcomes(passed=1, failed=10)
    result.stdout.no_fnmatch_line("*ran again alone*")


def test_a_bad_conflicts_value_names_the_option(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("-o", "asyncio_concurrency_conflicts=retry")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "ERROR: 'retry' is not a valid asyncio_concurrency_conflicts. Valid values: rerun, "
            "fail, off."
        ]
    )


#: Concurrency 50, and a stall limit short enough for a test.
STALL_AT_03 = (
    "--asyncio-mode=auto",
    "-o",
    "asyncio_concurrency=50",
    "-o",
    "asyncio_concurrency_stall=0.3",
)

HANGS_TOGETHER = """
import asyncio
import pytest

CLIENTS = []

@pytest.fixture
async def listener(request):
    CLIENTS.append(request.node.name)
    try:
        yield
    finally:
        CLIENTS.remove(request.node.name)

@pytest.mark.parametrize("n", range(3))
async def test_gets_its_reply(listener, n):
    if len(CLIENTS) > 1:  # another client took the reply: this one waits for ever
        await asyncio.Event().wait()
"""


def test_a_test_that_hangs_only_together_is_named_and_passes_alone(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(HANGS_TOGETHER)
    result, _ = run_collecting(pytester, *STALL_AT_03)
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(
        [
            "asyncio: 3 concurrency conflict(s)*",
            "  *::test_gets_its_reply[[]0[]]",
            "    It failed while 2 other test(s) ran beside it (*",
            "    No test of its group made progress for 0.3 s while this test ran beside others "
            "(asyncio_concurrency_stall), so it was cancelled. It was waiting here:",
            "    task '*::test_gets_its_reply[[]0[]]' was suspended at:",
            "      File *, line 17, in test_gets_its_reply",
            "        await asyncio.Event().wait()",
        ]
    )


HANGS_IN_SETUP = """
import asyncio
import pytest

SERVING = []

@pytest.fixture
async def server(request):
    SERVING.append(request.node.name)
    try:
        await asyncio.sleep(0)
        if len(SERVING) > 1:  # the port is taken: it waits for a handshake that never comes
            await asyncio.Event().wait()
        yield
    finally:
        SERVING.remove(request.node.name)

@pytest.mark.parametrize("n", range(3))
async def test_serves(server, n):
    pass
"""


def test_a_setup_that_hangs_only_together_is_named_and_passes_alone(
    pytester: pytest.Pytester,
) -> None:
    pytest.importorskip("greenlet")  # setups overlap only with pytest-aioloop[concurrency]
    pytester.makepyfile(HANGS_IN_SETUP)
    result, _ = run_collecting(pytester, *STALL_AT_03)
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(
        [
            "asyncio: 3 concurrency conflict(s)*",
            "    No test of its group made progress for 0.3 s while this test ran beside others *",
            "    task \"async fixture 'server'\" was suspended at:",
            "      File *, line 12, in server",
        ]
    )


def test_maxfail_settles_a_failure_before_it_stops(pytester: pytest.Pytester) -> None:
    """``-x`` stops at a failure that fails alone too, not at a conflict.

    The cache's conflicts pass alone and the run goes on; ``test_fails_anyway`` fails alone
    too, and the run stops once the tests running beside it (``test_after[0]``) are done.
    """
    pytester.makepyfile(
        GLOBAL_CACHE
        + """
@pytest.mark.parametrize("n", range(5))
async def test_after(n):
    pass
"""
    )
    result, _ = run_collecting(pytester, "--asyncio-mode=auto", "-o", "asyncio_concurrency=4", "-x")
    result.assert_outcomes(passed=11, failed=1)
    result.stdout.fnmatch_lines(["*stopping after 1 failures*"])


ADVERSARIAL = """
import asyncio
import pytest

RUNNING = set()

@pytest.mark.parametrize("n", range(1000))
async def test_many(n):
    others = set(RUNNING)
    RUNNING.add(n)
    try:
        await asyncio.sleep(0.001)
        if n % 20 == 7:  # 5 %: conflicts with any test running beside it
            assert not others, f"{len(others)} tests ran beside it"
    finally:
        RUNNING.discard(n)
"""


def test_adversarial_suite_gives_sequential_outcomes_and_then_reruns_nothing(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(ADVERSARIAL)
    args = ("-p", "no:randomly", "--asyncio-mode=auto", "-q")
    alone = pytester.runpytest(*args, "-p", "no:cacheprovider")
    alone.assert_outcomes(passed=1000)
    first = pytester.runpytest(*args, "-o", "asyncio_concurrency=100")
    first.assert_outcomes(passed=1000)
    first.stdout.fnmatch_lines(
        ["asyncio: 50 concurrency conflict(s)*", "  ... and 40 more (-v shows them all)"]
    )
    second = pytester.runpytest(*args, "-o", "asyncio_concurrency=100")
    second.assert_outcomes(passed=1000)
    second.stdout.fnmatch_lines(
        [
            "asyncio: 950 async tests ran together; 50 ran alone: it conflicted with tests "
            "running beside it in an earlier run *"
        ]
    )
    second.stdout.no_fnmatch_line("*concurrency conflict(s)*")
    second.stdout.no_fnmatch_line("*failed while running together*")


PATCHERS = """
import unittest
import unittest.mock
from unittest import mock
from unittest.mock import patch
import pytest

class Client:
    def patch(self, url):
        return url

@pytest.fixture
def mocker():  # stands for pytest-mock's fixture of that name
    yield

@pytest.fixture
def client():
    return Client()

async def test_with_patch():
    with patch("os.getcwd", return_value="/"):
        pass

async def test_with_mock_patch_object():
    import os
    with mock.patch.object(os, "getcwd", return_value="/"):
        pass

async def test_with_unittest_mock_patch_dict():
    with unittest.mock.patch.dict("os.environ", {"A": "1"}):
        pass

async def test_uses_mocker(mocker):
    pass

@pytest.mark.freeze_time("2020-01-01")
async def test_frozen():
    pass

async def test_http_patch_is_not_mock_patch(client):
    assert client.patch("/users/1") == "/users/1"

async def test_plain():
    pass
"""


def test_tests_that_patch_the_process_run_alone(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(PATCHERS)
    # As freezegun's plugin registers it (a mark no plugin registered patches nothing).
    pytester.makeini("[pytest]\nmarkers =\n    freeze_time(time): freeze the clock\n")
    result, _ = run_collecting(
        pytester, "--asyncio-mode=auto", "-o", "asyncio_concurrency=50", "-v"
    )
    result.assert_outcomes(passed=7)
    result.stdout.fnmatch_lines_random(
        [
            "*test_with_patch runs alone: it calls unittest.mock.patch in its body*",
            "*test_with_mock_patch_object runs alone: it calls unittest.mock.patch in its body*",
            "*test_with_unittest_mock_patch_dict runs alone: it calls unittest.mock.patch*",
            "*test_uses_mocker runs alone: it uses mocker (pytest-mock patches attributes*",
            "*test_frozen runs alone: it is marked freeze_time (freezegun freezes the clock*",
            "asyncio: 2 async tests ran together; 5 ran alone: *",
        ]
    )


@pytest.mark.parametrize("dist", ["load", "loadfile", "loadscope"])
def test_xdist_workers_rerun_and_the_controller_sums_up_and_remembers(
    pytester: pytest.Pytester, dist: str
) -> None:
    pytester.makepyfile(GLOBAL_CACHE)
    args = ("-p", "no:randomly", "--asyncio-mode=auto", "-n", "2", "--dist", dist)
    first = pytester.runpytest_subprocess(*args, "-o", "asyncio_concurrency=50")
    first.assert_outcomes(passed=10, failed=1)
    first.stdout.fnmatch_lines(
        ["asyncio: * concurrency conflict(s)*", "    It failed while * other test(s) ran *"]
    )
    remembered = json.loads(
        (pytester.path / ".pytest_cache/v/aioloop/concurrency-conflicts").read_text()
    )
    assert remembered
    second = pytester.runpytest_subprocess(*args, "-o", "asyncio_concurrency=50")
    second.assert_outcomes(passed=10, failed=1)
    if dist != "load":  # the module stays on one worker: the same tests run together again
        second.stdout.no_fnmatch_line("*concurrency conflict(s)*")


REPORTED = """
import asyncio
import pytest

CACHE = {}

@pytest.mark.parametrize("n", range(4))
async def test_cache(n):
    CACHE["user"] = n
    await asyncio.sleep(0)
    assert CACHE["user"] == n

@pytest.mark.parametrize("n", range(6))
async def test_waits(n):
    await asyncio.sleep(0.05)

async def test_patches_env(monkeypatch):
    monkeypatch.setenv("A", "1")

@pytest.mark.asyncio(concurrent=False)
async def test_marked_alone():
    pass
"""


@pytest.mark.parametrize("xdist", [False, True], ids=["one-process", "xdist"])
def test_the_concurrency_report_per_module(pytester: pytest.Pytester, xdist: bool) -> None:
    pytester.makepyfile(test_reported=REPORTED)
    args = ["-p", "no:randomly", "--asyncio-mode=auto", "--asyncio-concurrency=50"]
    args.append("--asyncio-concurrency-report")
    if xdist:
        result = pytester.runpytest_subprocess(*args, "-n", "1", "-p", "no:cacheprovider")
    else:
        result, _ = run_collecting(pytester, *args)
    result.assert_outcomes(passed=12)
    result.stdout.fnmatch_lines(
        [
            "*= asyncio concurrency report =*",
            "test_reported.py: 10 ran together, 2 alone, 3 conflict(s); tests took * s in all, "
            "the module * s: * s saved",
            "  alone (1): it uses monkeypatch in its body *",
            "  alone (1): it is marked concurrent=False",
            "  conflict: test_cache[[]0[]] failed while 9 other test(s) ran beside it "
            "(test_cache[[]1[]], test_cache[[]2[]], test_cache[[]3[]] and 6 more)",
        ]
    )


MODULE_FIXTURE_ONCE = """
import asyncio
import pytest

EVENTS = []
RUNNING = set()

@pytest.fixture(scope="module")
async def database():
    EVENTS.append("up")
    yield
    EVENTS.append("down")

@pytest.mark.parametrize("n", range(3))
async def test_slow(database, n):
    RUNNING.add(n)
    await asyncio.sleep(0.05)
    RUNNING.discard(n)

async def test_last_fails_beside_others(database):
    # pytest's last test of the module: it ends first, while the others still run.
    assert not RUNNING, f"{len(RUNNING)} tests ran beside it"
"""

AFTER_THE_MODULE = """
from test_a import EVENTS

def test_after_the_module():
    assert EVENTS == ["up", "down"]
"""


def test_a_rerun_keeps_the_module_set_up_once(pytester: pytest.Pytester) -> None:
    """The last test in pytest's order fails beside the others and runs again alone: the
    module-scoped fixture is set up once and torn down once, after that run."""
    pytester.makepyfile(test_a=MODULE_FIXTURE_ONCE, test_b=AFTER_THE_MODULE)
    result, _ = run_collecting(pytester, "--asyncio-mode=auto", "-o", "asyncio_concurrency=50")
    result.assert_outcomes(passed=5)
    result.stdout.fnmatch_lines(["asyncio: 1 concurrency conflict(s)*"])


def test_a_failure_waiting_to_run_again_is_reported_when_the_run_is_interrupted(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        """
        import asyncio

        async def test_fails_beside_the_other():
            await asyncio.sleep(0)
            assert 1 == 2

        async def test_interrupted():
            await asyncio.sleep(0.05)
            raise KeyboardInterrupt
        """
    )
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--asyncio-mode=auto", "-o", "asyncio_concurrency=5"
    )
    result.stdout.fnmatch_lines(["*KeyboardInterrupt*"])
    result.stdout.fnmatch_lines(["*1 failed*"])
    result.stdout.fnmatch_lines(["FAILED *::test_fails_beside_the_other*"])
