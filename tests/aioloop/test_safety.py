"""Safety nets: timeouts, leaked tasks, unhandled errors and slow callbacks."""

from __future__ import annotations

import pytest

TIMEOUT_ROUTES = {
    "marker": ("@pytest.mark.asyncio(timeout=0.5)", [], ""),
    "cli": ("@pytest.mark.asyncio", ["--asyncio-timeout=0.5"], ""),
    "ini": ("@pytest.mark.asyncio", [], "asyncio_timeout = 0.5"),
}


@pytest.mark.parametrize("route", list(TIMEOUT_ROUTES))
def test_hung_test_times_out_and_next_test_passes(pytester: pytest.Pytester, route: str) -> None:
    marker, args, ini = TIMEOUT_ROUTES[route]
    if ini:
        pytester.makeini(f"[pytest]\n{ini}\n")
    pytester.makepyfile(
        f"""
        import asyncio
        import pytest

        {marker}
        async def test_hung():
            await asyncio.Event().wait()

        @pytest.mark.asyncio
        async def test_next():
            await asyncio.sleep(0)
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider", *args)
    result.assert_outcomes(failed=1, passed=1)
    result.stdout.fnmatch_lines(
        [
            "The test timed out after 0.5 s.",
            "task '*test_hung' was suspended at:",
            '  File "*", line *, in test_hung',
            "    await asyncio.Event().wait()",
        ]
    )


def test_timeout_counts_the_clock_of_a_loop_that_has_its_own(pytester: pytest.Pytester) -> None:
    # A loop whose clock jumps 10,000 s at each look (as a virtual-time loop's jumps to its next
    # timer): the hour-long timeout expires in the loop's time, at once, as asyncio's own
    # timers there do. Counted in real time, the run would not end within the hour.
    pytester.makeconftest(
        """
        import asyncio

        class JumpingClockLoop(asyncio.SelectorEventLoop):
            looks = 0

            def time(self):
                self.looks += 1
                return super().time() + 10_000 * self.looks

        def pytest_asyncio_loop_factories(config, item):
            return {"jumping": JumpingClockLoop}
        """
    )
    pytester.makepyfile(
        """
        import asyncio
        import pytest

        @pytest.mark.asyncio(timeout=3600)
        async def test_long_wait_in_loop_time():
            await asyncio.Event().wait()
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", timeout=120)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*The test timed out after 3600 s.*"])


def test_timeout_precedence_marker_over_cli_over_ini(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nasyncio_timeout = 0.1\n")
    pytester.makepyfile(
        """
        import asyncio
        import pytest

        @pytest.mark.asyncio
        async def test_cli_allows_it():
            await asyncio.sleep(0.3)

        @pytest.mark.asyncio(timeout=0)
        async def test_marker_disables():
            await asyncio.sleep(0.3)

        @pytest.mark.asyncio(timeout=0.1)
        async def test_marker_tightens():
            await asyncio.sleep(0.3)
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "--asyncio-timeout=2")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*The test timed out after 0.1 s.*"])


def test_task_swallowing_cancellation(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import asyncio
        import pytest

        @pytest.mark.asyncio(timeout=0.2)
        async def test_stubborn():
            while True:
                try:
                    await asyncio.sleep(10)
                except asyncio.CancelledError:
                    pass

        @pytest.mark.asyncio
        async def test_next():
            await asyncio.sleep(0)
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1, passed=1)
    result.stdout.fnmatch_lines(
        ["*The test timed out after 0.2 s and its task ignored the cancellation*abandoned*"]
    )


def test_blocking_sync_call_is_interrupted_with_its_stack(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import asyncio
        import time
        import pytest

        @pytest.mark.asyncio(timeout=0.2)
        async def test_blocks():
            time.sleep(30)

        @pytest.mark.asyncio
        async def test_next():
            await asyncio.sleep(0)
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--durations=1")
    result.assert_outcomes(failed=1, passed=1)
    result.stdout.fnmatch_lines(
        [
            "*The test timed out after 0.2 s: synchronous code blocked the event loop*",
            '  File "*", line *, in test_blocks',
            "    time.sleep(30)",
        ]
    )
    # The interrupted call did not run its 30 s: the run is not left hanging.
    result.stdout.no_fnmatch_line("[1-9][0-9].*s call *test_blocks")


def test_fixture_setup_and_teardown_timeouts(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import asyncio
        import pytest
        import pytest_aioloop

        @pytest_aioloop.fixture(timeout=0.2)
        async def slow_setup():
            await asyncio.sleep(10)

        @pytest_aioloop.fixture(timeout=0.2)
        async def slow_teardown():
            yield
            await asyncio.sleep(10)

        @pytest.mark.asyncio
        async def test_setup(slow_setup):
            pass

        @pytest.mark.asyncio
        async def test_teardown(slow_teardown):
            pass

        @pytest.mark.asyncio
        async def test_next():
            pass
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, errors=2)
    result.stdout.fnmatch_lines_random(
        [
            "*Setup of async fixture 'slow_setup' timed out after 0.2 s.*",
            "*Teardown of async fixture 'slow_teardown' timed out after 0.2 s.*",
        ]
    )


def test_with_pytest_timeout_neither_hangs(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import asyncio
        import pytest
        import pytest_aioloop

        @pytest_aioloop.fixture
        async def resource():
            yield
            await asyncio.sleep(0)

        @pytest.mark.timeout(0.3)
        @pytest.mark.asyncio
        async def test_hung(resource):
            await asyncio.Event().wait()

        @pytest.mark.asyncio
        async def test_next(resource):
            await asyncio.sleep(0)
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "timeout")
    result.assert_outcomes(failed=1, passed=1)
    result.stdout.fnmatch_lines(["*Timeout (>0.3s)*"])


LEAK = """
import asyncio
import pytest
import pytest_aioloop

async def forever():
    await asyncio.Event().wait()

@pytest_aioloop.fixture(scope="module")
async def server():
    task = asyncio.get_running_loop().create_task(forever(), name="module-server")
    yield
    task.cancel()

@pytest.mark.asyncio(loop_scope="module")
async def test_clean(server):
    await asyncio.sleep(0)

LEAKED = []  # keeps the leaked task alive: a pending task nobody refers to is garbage

@pytest.mark.asyncio(loop_scope="module")
async def test_leaky(server):
    LEAKED.append(asyncio.get_running_loop().create_task(forever(), name="leaked-one"))

@pytest.mark.asyncio(loop_scope="module")
async def test_after(server):
    await asyncio.sleep(0)
"""


@pytest.mark.parametrize("action", ["report", "warn", "error", "ignore"])
def test_leaked_tasks_are_attributed_to_the_test(pytester: pytest.Pytester, action: str) -> None:
    pytester.makeini(f"[pytest]\nasyncio_leaked_tasks = {action}\n")
    pytester.makepyfile(LEAK)
    result = pytester.runpytest("-p", "no:cacheprovider", "-p", "no:randomly")
    if action == "report":
        result.assert_outcomes(passed=3, warnings=0)
        result.stdout.fnmatch_lines(
            [
                "*= asyncio safety nets (pytest-aioloop) =*",
                "test_leaked_tasks_are_attributed_to_the_test.py::test_leaky",
                "  The test left 1 task pending; pytest-aioloop cancels it when the event "
                "loop closes.*",
                "    task 'leaked-one' running forever()*",
                "1 leaked task. Nothing failed because of them: set asyncio_leaked_tasks = warn "
                "or error*",
            ]
        )
    elif action == "warn":
        result.assert_outcomes(passed=3, warnings=1)
        result.stdout.fnmatch_lines(
            [
                "*test_leaky",
                # The warning points at the test, not at the plugin.
                "*test_leaked_tasks_are_attributed_to_the_test.py:2?: "
                "LeakedTaskWarning: The test left 1 task pending*",
                "*task 'leaked-one' running forever()*",
            ]
        )
        result.stdout.no_fnmatch_line("*safety nets (pytest-aioloop)*")
        result.stdout.no_fnmatch_line("*pytest_aioloop/*")
    elif action == "error":
        result.assert_outcomes(passed=3, errors=1)
        result.stdout.fnmatch_lines(
            [
                "*ERROR at teardown of test_leaky*",
                "The test left 1 task pending; pytest-aioloop cancels it*",
            ]
        )
    else:
        result.assert_outcomes(passed=3)
        result.stdout.no_fnmatch_line("*leaked-one*")
    result.stdout.no_fnmatch_line("*module-server*")


def test_leak_report_shows_creation_site_in_debug_mode(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(LEAK)
    result = pytester.runpytest("-p", "no:cacheprovider", "--asyncio-debug")
    result.stdout.fnmatch_lines(
        ["*task 'leaked-one' running forever(), created at *:* in test_leaky"]
    )


ERRORS = """
import asyncio
import pytest

def boom():
    raise ValueError("boom in a callback")

async def fails():
    raise KeyError("nobody awaited me")

@pytest.mark.asyncio
async def test_callback():
    asyncio.get_running_loop().call_soon(boom)
    await asyncio.sleep(0.01)

@pytest.mark.asyncio
async def test_orphan_task():
    asyncio.ensure_future(fails())
    await asyncio.sleep(0.01)

@pytest.mark.asyncio
async def test_own_handler():
    seen = []
    asyncio.get_running_loop().set_exception_handler(lambda loop, ctx: seen.append(ctx))
    asyncio.get_running_loop().call_soon(boom)
    await asyncio.sleep(0.01)
    assert seen
"""


@pytest.mark.parametrize("action", ["report", "warn", "error", "ignore"])
def test_unhandled_errors(pytester: pytest.Pytester, action: str) -> None:
    pytester.makeini(f"[pytest]\nasyncio_unhandled_errors = {action}\n")
    pytester.makepyfile(ERRORS)
    result = pytester.runpytest("-p", "no:cacheprovider")
    if action == "report":
        result.assert_outcomes(passed=3, warnings=0)
        result.stdout.fnmatch_lines(
            [
                "*= asyncio safety nets (pytest-aioloop) =*",
                "test_unhandled_errors.py::test_callback",
                "  An exception reached the event loop's exception handler: "
                "Exception in callback boom()*",
                "*ValueError: boom in a callback",
                "test_unhandled_errors.py::test_orphan_task",
                "  An exception reached the event loop's exception handler: "
                "Task exception was never retrieved",
                "*KeyError: 'nobody awaited me'",
                "2 unhandled errors. Nothing failed because of them*",
            ]
        )
    elif action == "warn":
        result.assert_outcomes(passed=3, warnings=2)
        result.stdout.fnmatch_lines_random(
            [
                "*UnhandledErrorWarning: An exception reached the event loop's*"
                "Exception in callback boom()*",
                "*ValueError: boom in a callback",
                "*UnhandledErrorWarning: An exception reached*Task exception was never retrieved*",
                "*KeyError: 'nobody awaited me'",
            ]
        )
    elif action == "error":
        result.assert_outcomes(passed=1, failed=2)
    else:
        result.assert_outcomes(passed=3)
        result.stdout.no_fnmatch_line("*safety nets*")


def test_unhandled_errors_still_reach_asyncios_own_handler(pytester: pytest.Pytester) -> None:
    """The net records an error, then passes it on: asyncio's log line is still there."""
    pytester.makepyfile(
        """
        import asyncio
        import gc
        import logging
        import pytest

        async def fails():
            raise KeyError("nobody awaited me")

        @pytest.mark.asyncio
        async def test_logged(caplog):
            caplog.set_level(logging.ERROR, logger="asyncio")
            task = asyncio.ensure_future(fails())
            await asyncio.sleep(0)
            del task
            gc.collect()
            assert "Task exception was never retrieved" in caplog.text
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["  An exception reached the event loop's*"])


def test_nets_hold_no_task_of_the_test(pytester: pytest.Pytester) -> None:
    """Tasks a test made, and the errors they raised, are garbage once the test drops them."""
    pytester.makepyfile(
        """
        import asyncio
        import gc
        import weakref
        import pytest

        async def fails(i):
            raise ValueError(i)

        @pytest.mark.asyncio
        async def test_collected():
            refs = []
            for i in range(1000):
                refs.append(weakref.ref(asyncio.ensure_future(fails(i))))
            await asyncio.sleep(0)
            await asyncio.sleep(0)
            gc.collect()
            assert sum(ref() is not None for ref in refs) == 0
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "-o", "log_level=CRITICAL")
    result.assert_outcomes(passed=1)


@pytest.mark.parametrize(
    ("threshold", "flagged"), [("0.1", True), ("0.5", False)], ids=["flagged", "not-flagged"]
)
@pytest.mark.parametrize("route", ["cli", "ini"])
def test_slow_callbacks(
    pytester: pytest.Pytester, threshold: str, flagged: bool, route: str
) -> None:
    args: list[str] = []
    if route == "ini":
        pytester.makeini(f"[pytest]\nasyncio_slow_callback = {threshold}\n")
    else:
        args = [f"--asyncio-slow-callback={threshold}"]
    pytester.makepyfile(
        """
        import asyncio
        import time
        import pytest

        @pytest.mark.asyncio
        async def test_blocks_briefly():
            time.sleep(0.2)
            await asyncio.sleep(0)
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "-o", "log_level=CRITICAL", *args)
    if flagged:
        result.assert_outcomes(passed=1, warnings=0)
        result.stdout.fnmatch_lines(
            [
                "*= asyncio safety nets (pytest-aioloop) =*",
                "test_slow_callbacks.py::test_blocks_briefly",
                "  Synchronous code held the event loop for 0.2* s (asyncio_slow_callback = 0.1 s),"
                " at:",
                '    File "*test_slow_callbacks.py", line 7, in test_blocks_briefly',
                "      time.sleep(0.2)",
            ]
        )
    else:
        result.assert_outcomes(passed=1)


def test_slow_callback_error_action(pytester: pytest.Pytester) -> None:
    pytester.makeini(
        "[pytest]\nasyncio_slow_callback = 0.05\nasyncio_slow_callback_action = error\n"
    )
    pytester.makepyfile(
        """
        import time
        import pytest

        @pytest.mark.asyncio
        async def test_blocks():
            time.sleep(0.1)
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*held the event loop for*"])


def test_task_that_swallows_the_timeout_and_returns_still_fails(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import asyncio
        import pytest

        @pytest.mark.asyncio(timeout=0.1)
        async def test_returns():
            try:
                await asyncio.sleep(10)
            except asyncio.CancelledError:
                return
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*timed out after 0.1 s; it caught the cancellation and returned*"]
    )


def test_fixture_timeout_shows_the_fixture_line(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import asyncio
        import pytest
        import pytest_aioloop

        @pytest_aioloop.fixture(timeout=0.1)
        async def slow():
            await asyncio.sleep(10)

        @pytest.mark.asyncio
        async def test_it(slow):
            pass
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "task \"setup of async fixture 'slow'\" was suspended at:",
            '  File "*test_fixture_timeout_shows_the_fixture_line.py", line 7, in slow',
            "    await asyncio.sleep(10)",
        ]
    )
    result.stdout.no_fnmatch_line("*_runner.py*")


def test_exception_in_a_protocol_callback_is_reported(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import asyncio
        import pytest

        class Broken(asyncio.DatagramProtocol):
            def __init__(self, received):
                self.received = received

            def datagram_received(self, data, addr):
                self.received.set()
                raise RuntimeError("protocol callback failed")

        @pytest.mark.asyncio(timeout=5)
        async def test_protocol(unused_udp_port):
            loop = asyncio.get_running_loop()
            received = asyncio.Event()
            server, _ = await loop.create_datagram_endpoint(
                lambda: Broken(received), local_addr=("127.0.0.1", unused_udp_port)
            )
            client, _ = await loop.create_datagram_endpoint(
                asyncio.DatagramProtocol, remote_addr=("127.0.0.1", unused_udp_port)
            )
            client.sendto(b"ping")
            await received.wait()
            client.close()
            server.close()
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "--asyncio-unhandled-errors=warn")
    result.assert_outcomes(passed=1, warnings=1)
    result.stdout.fnmatch_lines(
        [
            "*UnhandledErrorWarning: An exception reached the event loop's*",
            "*RuntimeError: protocol callback failed",
        ]
    )


def test_ctrl_c_shows_where_the_test_was_waiting(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import asyncio
        import os
        import signal
        import pytest
        import pytest_aioloop

        # Ctrl-C: a parent (an xdist worker, say) may have left SIGINT ignored.
        signal.signal(signal.SIGINT, signal.default_int_handler)

        @pytest_aioloop.fixture
        async def resource():
            yield
            print("teardown ran", flush=True)

        @pytest.mark.asyncio
        async def test_hangs(resource):
            asyncio.get_running_loop().call_later(0.1, os.kill, os.getpid(), signal.SIGINT)
            await asyncio.sleep(20)
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-s", timeout=60)
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(
        [
            "Interrupted while *::test_hangs was waiting:",
            "task '*::test_hangs' was suspended at:",
            "*in test_hangs",
            "    await asyncio.sleep(20)",
        ]
    )
    result.stdout.fnmatch_lines(["*teardown ran*"])


def test_unmarked_coroutine_test_in_strict_mode_says_what_to_do(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("async def test_not_marked():\n    pass\n")
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "async def functions are not natively supported.",
            "pytest-aioloop runs this test if it is marked with @pytest.mark.asyncio*"
            "asyncio_mode = auto*",
        ]
    )
    result.stdout.no_fnmatch_line("*install a suitable plugin*")
