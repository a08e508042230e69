"""Async tests that run concurrently keep pytest's semantics, reports and the safety nets."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.aioloop.reports import run_collecting as _run

TOGETHER = """
import asyncio
import pytest

ARRIVED = []

@pytest.mark.parametrize("i", range(5))
@pytest.mark.asyncio
async def test_all_wait_for_each_other(i):
    ARRIVED.append(i)
    # Passes only if the five run at the same time: each waits until all have arrived.
    async with asyncio.timeout(5) if hasattr(asyncio, "timeout") else _Nothing():
        while len(ARRIVED) < 5:
            await asyncio.sleep(0.001)

class _Nothing:
    async def __aenter__(self): pass
    async def __aexit__(self, *exc): pass
"""


@pytest.mark.parametrize("how", ["ini", "marker"])
def test_tests_really_run_at_the_same_time(pytester: pytest.Pytester, how: str) -> None:
    source = TOGETHER
    args: list[str] = ["-v"]
    if how == "ini":
        args += ["--asyncio-concurrency=5"]
    else:
        source += "\npytestmark = pytest.mark.asyncio(concurrency=5)\n"
    pytester.makepyfile(source)
    result, _ = _run(pytester, *args)
    result.assert_outcomes(passed=5)
    result.stdout.fnmatch_lines(
        [
            "asyncio: up to 5 tests at once in test_tests_really_run_at_the_same_time.py",
            "*::test_all_wait_for_each_other[[]0[]] PASSED*",
            "asyncio: 5 tests ran together in *.py (up to 5 at once)",
        ]
    )


def test_admitted_tests_start_while_the_next_ones_set_up(pytester: pytest.Pytester) -> None:
    """Tests admitted first begin running (and waiting) while later ones are still being set
    up: the group lets the loop run every few admissions, not only once it is full."""
    pytester.makepyfile(
        """
        import asyncio
        import pytest

        STARTED = []
        SEEN_AT_SETUP = {}

        @pytest.fixture
        def seen(request):
            SEEN_AT_SETUP[request.node.name] = len(STARTED)

        @pytest.mark.parametrize("i", range(30))
        async def test_waits(seen, i):
            STARTED.append(i)
            await asyncio.sleep(0)

        def test_the_last_setups_saw_tests_running():
            assert SEEN_AT_SETUP["test_waits[0]"] == 0
            assert SEEN_AT_SETUP["test_waits[29]"] >= 16, SEEN_AT_SETUP
        """
    )
    result, _ = _run(pytester, "--asyncio-mode=auto", "-o", "asyncio_concurrency=50")
    result.assert_outcomes(passed=31)
    result.stdout.fnmatch_lines(["asyncio: 30 async tests ran together."])


def test_off_by_default(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        TOGETHER.replace("while len(ARRIVED) < 5", "while len(ARRIVED) < 5 and False")
        + "\ndef test_one_at_a_time():\n    assert ARRIVED == [0, 1, 2, 3, 4]\n"
    )
    result, _ = _run(pytester)
    result.assert_outcomes(passed=6)
    result.stdout.no_fnmatch_line("*ran together*")


ALONE = """
import asyncio
import unittest.mock
import pytest
import pytest_aioloop

pytestmark = pytest.mark.asyncio(concurrency=10)

@pytest_aioloop.fixture(concurrent=False)
async def exclusive():
    return 1

async def test_monkeypatch(monkeypatch):
    monkeypatch.setenv("X", "1")

async def test_capsys(capsys):
    print("x")
    assert capsys.readouterr().out == "x\\n"

async def test_caplog(caplog):
    pass

@pytest.mark.asyncio(concurrent=False)
async def test_marked():
    pass

async def test_fixture(exclusive):
    pass

@unittest.mock.patch("os.getcwd")
async def test_patched(getcwd):
    pass

@pytest.mark.filterwarnings("ignore")
async def test_own_filter():
    pass

async def test_free():
    await asyncio.sleep(0)
"""


def test_what_runs_alone_and_why(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(ALONE)
    result, _ = _run(pytester, "-v", "--asyncio-mode=auto")
    result.assert_outcomes(passed=8)
    result.stdout.fnmatch_lines_random(
        [
            "asyncio: *::test_monkeypatch runs alone: it uses monkeypatch*",
            "asyncio: *::test_capsys runs alone: it uses capsys*",
            "asyncio: *::test_caplog runs alone: it uses caplog*",
            "asyncio: *::test_marked runs alone: it is marked concurrent=False",
            "asyncio: *::test_fixture runs alone: it uses fixture 'exclusive', made with "
            "concurrent=False",
            "asyncio: *::test_patched runs alone: it is decorated with unittest.mock.patch*",
            "asyncio: *::test_own_filter runs alone: it has a filterwarnings mark of its own*",
            "asyncio: 1 async tests ran together; 7 ran alone: *",
        ]
    )


@pytest.mark.parametrize("flag", ["--setup-show", "--setup-plan"])
def test_setup_show_and_plan_turn_it_off(pytester: pytest.Pytester, flag: str) -> None:
    pytester.makepyfile(TOGETHER.replace("< 5", "< 1"))
    result, _ = _run(pytester, "--asyncio-concurrency=5", flag)
    assert result.ret == 0
    result.stdout.fnmatch_lines(
        [f"asyncio: concurrency is off with {flag} (5 tests would otherwise run together)."]
    )
    result.stdout.no_fnmatch_line("*ran together in*")


def test_a_pytest_without_the_internals_it_needs_runs_tests_one_by_one(
    pytester: pytest.Pytester,
) -> None:
    """Where the setup stack or fixture cache is not what it knows, concurrency stays off."""
    pytester.makeconftest(
        """
        from pytest_aioloop._compat import setup_stack

        setup_stack.can_run_concurrently = lambda session: False
        """
    )
    pytester.makepyfile(TOGETHER.replace("< 5", "< 1"))
    # A subprocess: the conftest replaces a function of the plugin for the whole process.
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--asyncio-concurrency=5")
    result.assert_outcomes(passed=5)
    result.stdout.fnmatch_lines(
        [
            "asyncio: concurrency is off with pytest *, whose setup internals pytest-aioloop "
            "does not know (5 tests would otherwise run together)."
        ]
    )


@pytest.mark.parametrize("conflicts", ["rerun", "off"])
def test_a_hung_test_times_out_alone(pytester: pytest.Pytester, conflicts: str) -> None:
    """Its timeout cancels it without stopping the others (``off``: its report is the group's;
    ``rerun``: it times out again alone, and that is its report)."""
    pytester.makepyfile(
        """
        import asyncio
        import pytest

        pytestmark = pytest.mark.asyncio(concurrency=10, timeout=0.3)

        async def test_hangs():
            await asyncio.Event().wait()

        @pytest.mark.parametrize("i", range(8))
        async def test_finishes(i):
            await asyncio.sleep(0.05)
        """
    )
    result, _ = _run(
        pytester, "--asyncio-mode=auto", "-o", f"asyncio_concurrency_conflicts={conflicts}"
    )
    result.assert_outcomes(passed=8, failed=1)
    result.stdout.fnmatch_lines(
        [
            "The test timed out after 0.3 s.",
            "task '*::test_hangs' was suspended at:",
            "*await asyncio.Event().wait()",
        ]
    )


def test_a_leak_is_attributed_to_its_test_only(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import asyncio
        import pytest

        pytestmark = pytest.mark.asyncio(concurrency=20)
        KEEP = []

        @pytest.mark.parametrize("i", range(50))
        async def test_many(i):
            if i == 17:
                KEEP.append(asyncio.ensure_future(asyncio.Event().wait()))
            await asyncio.sleep(0.01)
        """
    )
    result, _ = _run(pytester, "--asyncio-mode=auto")
    result.assert_outcomes(passed=50)
    result.stdout.fnmatch_lines(
        ["*= asyncio safety nets (pytest-aioloop) =*", "*::test_many[[]17[]]", "1 leaked task.*"]
    )
    result.stdout.no_fnmatch_line("*::test_many[[]16[]]*")


def test_a_fixture_leak_in_overlapping_setups_is_attributed_to_its_test_only(
    pytester: pytest.Pytester,
) -> None:
    # The tests set up together (their fixtures wait): each fixture's tasks are recorded from
    # its first step, also for tests set up before the group's first test started.
    pytester.makepyfile(
        """
        import asyncio
        import pytest
        import pytest_aioloop

        pytestmark = pytest.mark.asyncio(concurrency=20)
        KEEP = []

        @pytest_aioloop.fixture
        async def connection(request):
            await asyncio.sleep(0.01)
            if request.node.callspec.params["i"] == 3:
                KEEP.append(asyncio.ensure_future(asyncio.Event().wait()))
            yield
            await asyncio.sleep(0.01)

        @pytest.mark.parametrize("i", range(10))
        async def test_many(connection, i):
            await asyncio.sleep(0.01)
        """
    )
    result, _ = _run(pytester, "--asyncio-mode=auto")
    result.assert_outcomes(passed=10)
    result.stdout.fnmatch_lines(
        ["*= asyncio safety nets (pytest-aioloop) =*", "*::test_many[[]3[]]", "1 leaked task*"]
    )
    result.stdout.no_fnmatch_line("*::test_many[[]2[]]*")


def test_maxfail_starts_nothing_new_and_reports_the_running(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import asyncio
        import pytest

        pytestmark = pytest.mark.asyncio(concurrency=4)

        async def test_fails_first():
            await asyncio.sleep(0.01)
            assert False

        @pytest.mark.parametrize("i", range(3))
        async def test_slower(i):
            await asyncio.sleep(0.2)

        @pytest.mark.parametrize("i", range(20))
        async def test_never_started(i):
            pass
        """
    )
    result, _ = _run(pytester, "--asyncio-mode=auto", "-x")
    result.assert_outcomes(failed=1, passed=3)


def test_xdist_workers_run_tests_together(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(TOGETHER.replace("< 5", "< 2"))
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-n", "2", "--asyncio-concurrency=5"
    )
    result.assert_outcomes(passed=5)


def test_junitxml_and_durations(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import asyncio
        import pytest

        pytestmark = pytest.mark.asyncio(concurrency=5)

        @pytest.mark.parametrize("i", range(5))
        async def test_sleeps(i):
            print(f"test {i} says hello")
            await asyncio.sleep(0.1)
        """
    )
    result, _ = _run(pytester, "--junitxml=out.xml", "--durations=3", "-o", "junit_logging=all")
    result.assert_outcomes(passed=5)
    result.stdout.fnmatch_lines(["*slowest 3 durations*", "0.1*s call *::test_sleeps*"])
    xml = (pytester.path / "out.xml").read_text()
    assert xml.count("<testcase") == 5
    assert "test 3 says hello" in xml


def test_output_of_tests_running_during_another_tests_setup_is_their_own(
    pytester: pytest.Pytester,
) -> None:
    # The talker runs while each quiet test's async fixture sets up and tears down (the loop
    # runs then): its lines must reach its own report, not the quiet tests' captures.
    pytester.makepyfile(
        """
        import asyncio
        import pytest
        import pytest_aioloop

        pytestmark = pytest.mark.asyncio(concurrency=5)

        @pytest_aioloop.fixture
        async def slow(request):
            print(f"setup of {request.node.name}")
            for _ in range(3):
                await asyncio.sleep(0)
            yield
            for _ in range(3):
                await asyncio.sleep(0)
            print(f"teardown of {request.node.name}")

        async def test_talker():
            for i in range(50):
                print(f"talker {i}")
                await asyncio.sleep(0)

        @pytest.mark.parametrize("i", range(3))
        async def test_quiet(slow, i):
            print(f"call of quiet {i}")
        """
    )
    result, _ = _run(pytester, "--junitxml=out.xml", "-o", "junit_logging=all")
    result.assert_outcomes(passed=4)
    import xml.etree.ElementTree as ET

    cases = {
        case.get("name"): "".join(case.itertext())
        for case in ET.parse(pytester.path / "out.xml").iter("testcase")
    }
    assert all(f"talker {i}\n" in cases["test_talker"] for i in range(50))
    for i in range(3):
        quiet = cases[f"test_quiet[{i}]"]
        assert "talker" not in quiet
        for line in (f"setup of test_quiet[{i}]", f"call of quiet {i}"):
            assert line in quiet
        assert f"teardown of test_quiet[{i}]" in quiet


def test_rerunfailures_reruns_run_alone(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import asyncio
        import pytest

        pytestmark = pytest.mark.asyncio(concurrency=5)
        ATTEMPTS = []

        @pytest.mark.flaky(reruns=1)
        async def test_flaky():
            ATTEMPTS.append(1)
            assert len(ATTEMPTS) == 2

        async def test_plain():
            await asyncio.sleep(0)
        """
    )
    result, _ = _run(pytester, "-v", "--asyncio-mode=auto")
    assert result.parseoutcomes() == {"passed": 2, "rerun": 1}
    result.stdout.fnmatch_lines(["*test_flaky runs alone: pytest-rerunfailures may rerun it*"])


def test_ports_never_clash_among_1000_concurrent_servers(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import asyncio
        import pytest

        pytestmark = pytest.mark.asyncio(concurrency=100, timeout=30)

        async def echo(reader, writer):
            writer.write(await reader.readline())
            await writer.drain()
            writer.close()

        @pytest.mark.parametrize("i", range(1000))
        async def test_server(unused_tcp_port, i):
            server = await asyncio.start_server(echo, "127.0.0.1", unused_tcp_port)
            async with server:
                reader, writer = await asyncio.open_connection("127.0.0.1", unused_tcp_port)
                writer.write(b"%d\\n" % i)
                assert await reader.readline() == b"%d\\n" % i
                writer.close()
                await writer.wait_closed()
        """
    )
    result, _ = _run(pytester, "--asyncio-mode=auto")
    result.assert_outcomes(passed=1000)


@pytest.mark.skipif(sys.platform == "win32", reason="sends SIGINT to itself")
def test_ctrl_c_tears_down_and_leaves_nothing_behind(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
        import logging

        def pytest_unconfigure(config):
            # After the session: what the run left on the root logger.
            root = logging.getLogger()
            left = [type(h).__name__ for h in root.handlers]
            left += [type(f).__name__ for h in root.handlers for f in h.filters]
            with open("root-logger.txt", "w") as f:
                f.write(" ".join(left) + "\\n")
        """
    )
    pytester.makepyfile(
        """
        import asyncio
        import os
        import signal
        import pytest
        import pytest_aioloop

        # Ctrl-C: a parent (an xdist worker, say) may have left SIGINT ignored.
        signal.signal(signal.SIGINT, signal.default_int_handler)

        pytestmark = pytest.mark.asyncio(concurrency=10)
        STARTED = []

        @pytest_aioloop.fixture
        async def resource(request):
            yield
            print(f"teardown of {request.node.name}", flush=True)
            with open("teardowns.txt", "a") as f:
                f.write(request.node.name + "\\n")

        @pytest.mark.parametrize("i", range(4))
        async def test_waits(resource, i):
            STARTED.append(i)
            if len(STARTED) == 4:
                asyncio.get_running_loop().call_later(0.05, os.kill, os.getpid(), signal.SIGINT)
            await asyncio.sleep(20)
        """
    )
    result = pytester.runpytest_subprocess(
        "-p",
        "no:cacheprovider",
        "--asyncio-mode=auto",
        "-W",
        "error::ResourceWarning",
        timeout=60,
    )
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(
        [
            "asyncio: interrupted while 4 test(s) ran together:",
            "*::test_waits[[]0[]] was waiting here:",
            "*await asyncio.sleep(20)",
        ]
    )
    assert sorted((pytester.path / "teardowns.txt").read_text().split()) == [
        f"test_waits[{i}]" for i in range(4)
    ]
    output = "\n".join(result.outlines + result.errlines)
    assert "Task was destroyed" not in output
    assert "unclosed" not in output
    left = (pytester.path / "root-logger.txt").read_text().split()
    assert not [name for name in left if name in ("_LogHandler", "_OtherTests")], left


def test_the_how_to_example_runs_together(pytester: pytest.Pytester) -> None:
    example = Path(__file__).parents[2] / "docs" / "howto" / "examples" / "aioloop_concurrency"
    for name in ("conftest.py", "test_io_bound.py"):
        (pytester.path / name).write_text((example / name).read_text())
    result, _ = _run(pytester, "-v")
    result.assert_outcomes(passed=50)
    result.stdout.fnmatch_lines(
        [
            "asyncio: up to 50 tests at once in test_io_bound.py",
            "test_io_bound.py::test_three_round_trips[[]0[]] PASSED*",
            "asyncio: 50 tests ran together in test_io_bound.py (up to 50 at once)",
        ]
    )


def test_selection_options_work_with_tests_run_together(pytester: pytest.Pytester) -> None:
    """-k, -m and --lf select as usual; the selected tests still run together."""
    pytester.makeini("[pytest]\nmarkers =\n    slow: a slow test\n")
    pytester.makepyfile(
        """
        import asyncio
        import pytest

        pytestmark = pytest.mark.asyncio(concurrency=5)

        @pytest.mark.parametrize("i", range(4))
        async def test_alpha(i):
            await asyncio.sleep(0.01)
            assert i != 3

        @pytest.mark.slow
        @pytest.mark.parametrize("i", range(3))
        async def test_beta(i):
            await asyncio.sleep(0.01)
        """
    )
    args = ("-p", "cacheprovider", "-p", "no:randomly")
    by_k = pytester.runpytest(*args, "-k", "alpha")
    by_k.assert_outcomes(passed=3, failed=1, deselected=3)
    by_m = pytester.runpytest(*args, "-m", "slow", "-v")
    by_m.assert_outcomes(passed=3, deselected=4)
    by_m.stdout.fnmatch_lines(["asyncio: 3 tests ran together in *"])
    last_failed = pytester.runpytest(*args, "--lf")
    assert last_failed.parseoutcomes()["failed"] == 1
    assert "passed" not in last_failed.parseoutcomes()


def test_no_aioloop_leaves_a_configured_suite_to_pytest(pytester: pytest.Pytester) -> None:
    """With ``-p no:aioloop`` the concurrency settings are inert: pytest runs the sync tests."""
    pytester.makeini("[pytest]\nasyncio_concurrency = 5\n")
    pytester.makepyfile(
        """
        import pytest

        pytestmark = pytest.mark.asyncio(concurrency=5)

        def test_sync():
            pass
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "-p", "no:aioloop")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*Unknown config option: asyncio_concurrency*"])
    result.stdout.no_fnmatch_line("*pytest_aioloop*")
    result.stdout.no_fnmatch_line("*ran together*")


def test_a_reported_test_keeps_nothing_of_its_task(pytester: pytest.Pytester) -> None:
    # A group's tests are reported one by one; what ran them (task, coroutine, context) goes
    # with them, not at the end of the session.
    pytester.makepyfile(
        """
        import asyncio
        import gc
        import weakref

        import pytest

        TASKS = []


        @pytest.mark.asyncio(concurrency=5)
        class TestTogether:
            @pytest.mark.parametrize("n", range(10))
            async def test_one(self, n):
                TASKS.append(weakref.ref(asyncio.current_task()))
                await asyncio.sleep(0)


        def test_tasks_are_gone():
            gc.collect()
            assert len(TASKS) == 10
            assert [ref for ref in TASKS if ref() is not None] == []
        """
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=11)
    result.stdout.fnmatch_lines(["asyncio: 10 async tests ran together*"])


@pytest.mark.parametrize("scope", ["function", "module", "session", "fixture-scope"])
def test_function_fixtures_run_in_the_loop_of_their_test(
    pytester: pytest.Pytester, scope: str
) -> None:
    # asyncio_default_fixture_loop_scope = function (as pytest-asyncio 1.x asks) gave a
    # concurrent test's function-scoped fixtures a loop of their own: a fixture's background
    # task never ran during the test.
    pytester.makeini(f"[pytest]\nasyncio_default_fixture_loop_scope = {scope}\n")
    pytester.makepyfile(
        """
        import asyncio

        import pytest
        import pytest_aioloop


        @pytest_aioloop.fixture
        async def listener():
            heard = []
            task = asyncio.create_task(asyncio.sleep(0, result="heard"))
            task.add_done_callback(lambda t: heard.append(t.result()))
            yield asyncio.get_running_loop(), heard
            await task


        @pytest.mark.asyncio(concurrency=4)
        class TestTogether:
            @pytest.mark.parametrize("n", range(4))
            async def test_uses_its_fixture_loop(self, listener, n):
                loop, heard = listener
                assert asyncio.get_running_loop() is loop
                await asyncio.sleep(0.01)
                assert heard == ["heard"]
        """
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(["asyncio: 4 async tests ran together*"])
