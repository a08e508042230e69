"""Virtual time: the loop's clock jumps to its next timer; threads, I/O and timeouts stay real.

Each inner test that would wait in real time has a real-time timeout (pytest-aioloop's own,
kept by its watchdog thread) far below the virtual time it waits: if the clock did not jump,
the test would fail with that timeout instead of passing.
"""

from __future__ import annotations

import pytest

AN_HOUR = """
import asyncio
import pytest

{marker}
async def test_an_hour_passes({fixture}):
    loop = asyncio.get_running_loop()
    start = loop.time()
    await asyncio.sleep(3600)
    assert loop.time() - start >= 3600
"""

ROUTES = {
    "marker": ("@pytest.mark.asyncio(virtual_time=True, timeout=20)", "", [], ""),
    "fixture": ("@pytest.mark.asyncio(timeout=20)", "virtual_clock", [], ""),
    "ini": ("@pytest.mark.asyncio(timeout=20)", "", [], "asyncio_virtual_time = true"),
    "cli": ("@pytest.mark.asyncio(timeout=20)", "", ["--asyncio-virtual-time"], ""),
}


@pytest.mark.parametrize("route", list(ROUTES))
def test_an_hour_passes_at_once(pytester: pytest.Pytester, route: str) -> None:
    marker, fixture, args, ini = ROUTES[route]
    pytester.makeini(f"[pytest]\n{ini}\n")
    pytester.makepyfile(AN_HOUR.format(marker=marker, fixture=fixture))
    result = pytester.runpytest("-p", "no:cacheprovider", *args)
    result.assert_outcomes(passed=1)


def test_real_time_by_default_and_when_the_marker_says_so(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nasyncio_virtual_time = true\n")
    pytester.makepyfile(
        """
        import asyncio
        import pytest

        @pytest.mark.asyncio(virtual_time=False, timeout=0.3)
        async def test_real_time():
            await asyncio.sleep(3600)
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*The test timed out after 0.3 s.*"])


def test_timeouts_of_timers_fire_in_virtual_time(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import asyncio
        import pytest

        @pytest.mark.asyncio(timeout=20)
        async def test_wait_for_times_out(virtual_clock):
            start = virtual_clock.time()
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.Event().wait(), timeout=600)
            assert virtual_clock.time() - start >= 600
            assert virtual_clock.jumps >= 1
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_a_thread_is_waited_for_in_real_time(pytester: pytest.Pytester) -> None:
    # The thread finishes only when a real-time timer of another thread lets it: had the
    # clock jumped while it worked, wait_for would have timed out at once.
    pytester.makepyfile(
        """
        import asyncio
        import threading
        import pytest

        @pytest.mark.asyncio(virtual_time=True, timeout=20)
        async def test_thread():
            done = threading.Event()
            timer = threading.Timer(0.05, done.set)
            timer.start()
            assert await asyncio.wait_for(asyncio.to_thread(done.wait, 10), timeout=5)
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_io_in_the_loop_is_seen_before_a_jump(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import asyncio
        import pytest

        async def echo(reader, writer):
            writer.write(await reader.readline())
            await writer.drain()
            writer.close()

        @pytest.mark.asyncio(virtual_time=True, timeout=20)
        async def test_echo():
            server = await asyncio.start_server(echo, "127.0.0.1", 0)
            port = server.sockets[0].getsockname()[1]
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"ping\\n")
            assert await asyncio.wait_for(reader.readline(), timeout=30) == b"ping\\n"
            writer.close()
            server.close()
            await server.wait_closed()
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_time_only_moves_forward_in_a_shared_loop(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import asyncio
        import pytest

        pytestmark = pytest.mark.asyncio(loop_scope="module", timeout=20)
        seen = []

        @pytest.mark.asyncio(virtual_time=True, loop_scope="module", timeout=20)
        async def test_jumps():
            await asyncio.sleep(1000)
            seen.append(asyncio.get_running_loop().time())

        async def test_real_time_goes_on_from_there():
            assert asyncio.get_running_loop().time() >= seen[0]

        @pytest.mark.asyncio(virtual_time=True, loop_scope="module", timeout=20)
        async def test_jumps_again():
            await asyncio.sleep(1000)
            assert asyncio.get_running_loop().time() >= seen[0] + 1000
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)


def test_the_clock_can_be_moved_by_hand(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import asyncio
        import pytest

        @pytest.mark.asyncio(virtual_time=False)
        async def test_advance(virtual_clock):
            fired = asyncio.Event()
            asyncio.get_running_loop().call_later(60, fired.set)
            virtual_clock.advance(60)
            await asyncio.wait_for(fired.wait(), timeout=5)
            assert virtual_clock.jumps == 0
            with pytest.raises(ValueError, match="only moves forward"):
                virtual_clock.advance(-1)
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_virtual_time_tests_run_alone_with_concurrency(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nasyncio_mode = auto\nasyncio_concurrency = 4\n")
    pytester.makepyfile(
        """
        import asyncio
        import pytest

        async def test_a():
            await asyncio.sleep(0)

        async def test_b():
            await asyncio.sleep(0)

        @pytest.mark.asyncio(virtual_time=True, timeout=20)
        async def test_virtual():
            await asyncio.sleep(100)
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "-v", "--asyncio-concurrency-report")
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(["*test_virtual*it runs in virtual time*"])


def test_bad_marker_value_names_the_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.asyncio(virtual_time="yes")
        async def test_bad():
            pass
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        ["*::test_bad: mark.asyncio got virtual_time='yes': give True (run the test in virtual*"]
    )


def test_the_fixture_in_a_sync_test_says_why_not(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def test_sync(virtual_clock):
            pass
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        ["*test_sync asks for virtual_clock, which only a coroutine test run by pytest-aioloop*"]
    )


def test_a_loop_without_a_selector_cannot_jump(pytester: pytest.Pytester) -> None:
    pytest.importorskip("uvloop")
    pytester.makepyfile(
        """
        import asyncio
        import pytest

        @pytest.mark.asyncio(virtual_time=True)
        async def test_on_uvloop():
            await asyncio.sleep(0)
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "--asyncio-loop-factory=uvloop")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*test_on_uvloop asks for virtual time, but uvloop.Loop cannot run in virtual time*"]
    )
