"""Suites that are green on pytest-asyncio stay green: each case once broke a real suite.

Each test below is the smallest suite that shows one behaviour a real library's suite (or
pytest-asyncio's own) relies on. They run with ``filterwarnings = error`` where the original
suites did.
"""

from __future__ import annotations

import sys

import pytest

STRICT_WARNINGS = "[pytest]\nfilterwarnings =\n    error\n"


def test_sync_test_drives_the_loop_of_its_async_server_fixture(pytester: pytest.Pytester) -> None:
    """A sync client driving "the current loop" reaches the server an async fixture started."""
    pytester.makeini(STRICT_WARNINGS)
    pytester.makepyfile(
        """
        import asyncio
        import pytest
        import pytest_aioloop

        async def handle(reader, writer):
            await reader.readline()
            writer.write(b"pong\\n")
            await writer.drain()
            writer.close()

        @pytest_aioloop.fixture
        async def server():
            srv = await asyncio.start_server(handle, "127.0.0.1", 0)
            yield srv.sockets[0].getsockname()[1]
            srv.close()
            await srv.wait_closed()

        def sync_client(port):
            async def talk():
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.write(b"ping\\n")
                line = await reader.readline()
                writer.close()
                await writer.wait_closed()
                return line
            loop = asyncio.get_event_loop()
            return loop.run_until_complete(asyncio.wait_for(talk(), 5))

        def test_sync_client(server):
            assert sync_client(server) == b"pong\\n"

        @pytest.fixture
        def client_reply(server):
            return sync_client(server)

        def test_sync_fixture_client(client_reply):
            assert client_reply == b"pong\\n"
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)


def test_keyboard_interrupt_thrown_into_a_client_lets_it_say_goodbye(
    pytester: pytest.Pytester,
) -> None:
    """A sync test throws KeyboardInterrupt into a client's async generator, in a task of its
    server fixture's loop: the client's last message reaches the server before its teardown."""
    pytester.makeini(STRICT_WARNINGS)
    pytester.makepyfile(
        """
        import asyncio
        import pytest
        import pytest_aioloop

        @pytest_aioloop.fixture
        async def server():
            got = []
            async def handle(reader, writer):
                while line := await reader.readline():
                    got.append(line)
                writer.close()
            srv = await asyncio.start_server(handle, "127.0.0.1", 0)
            yield srv.sockets[0].getsockname()[1], got
            await asyncio.sleep(0.05)
            assert got == [b"ping\\n", b"bye\\n"], got
            srv.close()
            await srv.wait_closed()

        async def client(port):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            try:
                while True:
                    writer.write(b"ping\\n")
                    await writer.drain()
                    yield
            except KeyboardInterrupt:
                writer.write(b"bye\\n")
                await writer.drain()
                writer.close()
                raise

        def test_graceful(server):
            port, got = server
            loop = asyncio.get_event_loop()
            agen = client(port)
            loop.run_until_complete(agen.__anext__())
            async def interrupt():
                await agen.athrow(KeyboardInterrupt)
            with pytest.raises(KeyboardInterrupt):
                loop.run_until_complete(loop.create_task(interrupt()))
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_a_sync_client_shuts_down_gracefully_on_ctrl_c(pytester: pytest.Pytester) -> None:
    """A client library's sync API (gql's ``Client.subscribe``) drives the server fixture's loop
    and, on KeyboardInterrupt, closes its async generators with ``shutdown_asyncgens()``: its
    last message reaches the server before the test checks for it."""
    # Not under -W error: a server connection of this scenario is left to the garbage
    # collector (a ResourceWarning), under pytest-asyncio too.
    pytester.makepyfile(
        """
        import asyncio
        import warnings
        import pytest
        import pytest_aioloop

        received = []

        @pytest_aioloop.fixture
        async def server():
            handlers = []

            async def handle(reader, writer):
                handlers.append(asyncio.current_task())

                async def log():
                    while line := await reader.readline():
                        received.append(line.strip())
                        if received[-1] == b"terminate":
                            writer.close()
                            return
                logger = asyncio.ensure_future(log())
                try:
                    for n in range(10, 0, -1):
                        writer.write(b"%d\\n" % n)
                        await writer.drain()
                        await asyncio.sleep(0.01)
                    await logger
                finally:
                    logger.cancel()
                    writer.close()
            srv = await asyncio.start_server(handle, "127.0.0.1", 0)
            yield srv.sockets[0].getsockname()[1], asyncio.get_running_loop()
            for handler in handlers:
                handler.cancel()
            await asyncio.gather(*handlers, return_exceptions=True)
            srv.close()
            await srv.wait_closed()

        async def numbers(port):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            try:
                while line := await reader.readline():
                    yield int(line)
            finally:  # the library says goodbye and waits for the server to close
                writer.write(b"terminate\\n")
                await writer.drain()
                await reader.read()
                writer.close()
                await writer.wait_closed()

        def subscribe(port):  # the library's sync API, as gql writes it
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message="There is no current event loop")
                loop = asyncio.get_event_loop()
            agen = numbers(port)
            try:
                while True:
                    task = asyncio.ensure_future(agen.__anext__(), loop=loop)
                    yield loop, loop.run_until_complete(task)
            except StopAsyncIteration:
                pass
            except (KeyboardInterrupt, Exception, GeneratorExit):
                asyncio.ensure_future(agen.aclose(), loop=loop)
                task.cancel()
                loop.run_until_complete(loop.shutdown_asyncgens())
                raise

        def test_graceful(server):
            port, server_loop = server
            count = 10
            with pytest.raises(KeyboardInterrupt):
                for loop, n in subscribe(port):
                    assert loop is server_loop
                    assert n == count
                    count -= 1
                    if count == 4:
                        raise KeyboardInterrupt
            assert count == 4
            assert received[-1] == b"terminate", received
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_tasks_a_fixture_starts_during_the_test_belong_to_the_fixture(
    pytester: pytest.Pytester,
) -> None:
    """A fixture's background task keeps making short-lived tasks while the test runs."""
    pytester.makeini(STRICT_WARNINGS)
    pytester.makepyfile(
        """
        import asyncio
        import pytest
        import pytest_aioloop

        class Backend:
            def __init__(self):
                self.queue = asyncio.Queue()
                self.stopping = False
                self.task = asyncio.get_running_loop().create_task(self.run())

            async def run(self):
                while not self.stopping:
                    inner = asyncio.ensure_future(self.queue.get())
                    try:
                        await asyncio.wait_for(inner, 0.01)
                    except asyncio.TimeoutError:
                        pass

            async def close(self):
                self.stopping = True
                await self.task

        @pytest_aioloop.fixture
        async def backend():
            backend = Backend()
            yield backend
            await backend.close()

        @pytest.mark.parametrize("i", range(5))
        @pytest.mark.asyncio
        async def test_uses_backend(backend, i):
            for _ in range(3):
                await asyncio.sleep(0.01)
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=5)
    result.stdout.no_fnmatch_line("*safety nets*")


def test_a_stop_callback_left_queued_does_not_break_the_teardown(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeini(STRICT_WARNINGS)
    pytester.makepyfile(
        """
        import asyncio
        import pytest

        @pytest.mark.asyncio
        async def test_leaves_a_stop_queued():
            loop = asyncio.get_running_loop()
            asyncio.ensure_future(asyncio.sleep(0.05))
            # Runs after the test's task is done: loop.stop() is still queued afterwards.
            loop.call_soon(loop.call_soon, loop.stop)

        @pytest.mark.asyncio(loop_scope="module")
        async def test_module_loop_too():
            loop = asyncio.get_running_loop()
            asyncio.ensure_future(asyncio.sleep(0.05))
            loop.call_soon(loop.call_soon, loop.stop)

        @pytest.mark.asyncio(loop_scope="module")
        async def test_after_it():
            await asyncio.sleep(0)
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)


def test_leaking_suite_under_filterwarnings_error_passes_and_is_summarised(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeini(STRICT_WARNINGS)
    pytester.makepyfile(
        """
        import asyncio
        import pytest

        async def forever():
            await asyncio.Event().wait()

        @pytest.mark.asyncio
        async def test_leaks_one():
            asyncio.ensure_future(forever())

        @pytest.mark.asyncio
        async def test_leaks_a_task_that_raises_when_cancelled():
            async def stubborn():
                try:
                    while True:
                        await asyncio.sleep(0)
                finally:
                    raise RuntimeError("The task should be cancelled at this point.")
            asyncio.create_task(stubborn(), name="stubborn")

        @pytest.mark.asyncio
        async def test_clean():
            await asyncio.sleep(0)
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=3, warnings=0)
    result.stdout.fnmatch_lines(
        [
            "*= asyncio safety nets (pytest-aioloop) =*",
            "test_leaking_suite_under_filterwarnings_error_passes_and_is_summarised.py::"
            "test_leaks_one",
            "  The test left 1 task pending*",
            "    task 'Task-*' running forever()*",
            "*::test_leaks_a_task_that_raises_when_cancelled",
            "    task 'stubborn' running *stubborn()*",
            "2 leaked tasks. Nothing failed because of them*",
        ]
    )
    # The error the cancelled task raised is a reaction to the cancellation, not an error.
    result.stdout.no_fnmatch_line("*unhandled error*")
    result.stdout.no_fnmatch_line("*test_clean*")

    failing = pytester.runpytest("-p", "no:cacheprovider", "--asyncio-leaked-tasks=error")
    failing.assert_outcomes(passed=3, errors=2)
    failing.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_leaks_one*",
            "The test left 1 task pending*",
            "  task 'Task-*' running forever()*",
        ]
    )


def test_leak_warning_category_is_public(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import asyncio
        import pytest

        @pytest.mark.asyncio
        async def test_leaks():
            asyncio.ensure_future(asyncio.Event().wait())
        """
    )
    result = pytester.runpytest(
        "-p",
        "no:cacheprovider",
        "--asyncio-leaked-tasks=warn",
        "-W",
        "error::pytest_aioloop.LeakedTaskWarning",
    )
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["pytest_aioloop.LeakedTaskWarning: The test left 1 task*"])
    result.stdout.no_fnmatch_line("*plugin.py*")
    result.stdout.no_fnmatch_line("*_reports*")


def test_sync_fixture_that_closes_the_current_loop(pytester: pytest.Pytester) -> None:
    """A sync fixture may close "the current loop" and call asyncio.run() before the test."""
    pytester.makepyfile(
        """
        import asyncio
        import pytest

        @pytest.fixture
        def sets_event_loop_to_none():
            try:
                asyncio.get_event_loop().close()
            except RuntimeError:
                pass
            return asyncio.run(asyncio.sleep(0))

        @pytest.mark.asyncio
        @pytest.mark.parametrize("n", (0, 1))
        async def test_function_loop(sets_event_loop_to_none, n):
            await asyncio.sleep(0)

        @pytest.mark.asyncio(loop_scope="module")
        @pytest.mark.parametrize("n", (0, 1))
        async def test_module_loop(sets_event_loop_to_none, n):
            await asyncio.sleep(0)
        """
    )
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-W", "ignore::DeprecationWarning"
    )
    result.assert_outcomes(passed=4)


def test_test_and_fixture_pinned_to_package_share_one_loop(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        **{
            "pkg/__init__.py": "",
            "pkg/conftest.py": """
                import asyncio
                import pytest_aioloop

                @pytest_aioloop.fixture(scope="package", loop_scope="package")
                async def package_loop():
                    return asyncio.get_running_loop()
                """,
            "pkg/sub/__init__.py": "",
            "pkg/sub/test_sub.py": """
                import asyncio
                import pytest

                @pytest.mark.asyncio(loop_scope="package")
                async def test_same_loop(package_loop):
                    assert asyncio.get_running_loop() is package_loop
                """,
            "pkg/test_top.py": """
                import asyncio
                import pytest

                @pytest.mark.asyncio(loop_scope="package")
                async def test_same_loop(package_loop):
                    assert asyncio.get_running_loop() is package_loop
                """,
        }
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)


def test_auto_mode_marks_each_coroutine_test_once(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        async def test_marked_by_auto_mode(request):
            assert [m.name for m in request.node.iter_markers()] == ["asyncio"]

        @pytest.mark.asyncio(loop_scope="module")
        async def test_keeps_its_own(request):
            assert [m.kwargs for m in request.node.iter_markers("asyncio")] == [
                {"loop_scope": "module"}
            ]

        def test_sync():
            pass
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "--asyncio-mode=auto", "-m", "asyncio")
    result.assert_outcomes(passed=2, deselected=1)


def test_loop_factories_hook_applies_below_its_conftest_only(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        **{
            "factories/conftest.py": """
                import asyncio

                class Custom(asyncio.SelectorEventLoop):
                    pass

                def pytest_asyncio_loop_factories(config, item):
                    return {"default": asyncio.new_event_loop, "custom": Custom}
                """,
            "factories/test_here.py": """
                import pytest

                @pytest.mark.asyncio
                async def test_parametrized():
                    pass
                """,
            "elsewhere/test_there.py": """
                import pytest

                @pytest.mark.asyncio
                async def test_plain():
                    pass
                """,
        }
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "-v")
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines_random(
        [
            "factories/test_here.py::test_parametrized[[]default[]] PASSED*",
            "factories/test_here.py::test_parametrized[[]custom[]] PASSED*",
            "elsewhere/test_there.py::test_plain PASSED*",
        ]
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("return [asyncio.new_event_loop]", "must return a non-empty mapping of factory names"),
        ("return {'default': 1}", "must return a non-empty mapping of factory names"),
        ("return {'': asyncio.new_event_loop}", "must return a non-empty mapping of factory"),
    ],
)
def test_bad_loop_factories_are_named_errors(
    pytester: pytest.Pytester, body: str, message: str
) -> None:
    pytester.makeconftest(
        f"""
        import asyncio

        def pytest_asyncio_loop_factories(config, item):
            {body}
        """
    )
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.asyncio
        async def test_async():
            pass
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([f"pytest_asyncio_loop_factories {message}*"])
    result.stdout.no_fnmatch_line("*Traceback*")


def test_marker_loop_factories_need_the_hook(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.asyncio(loop_factories=["custom"])
        async def test_async():
            pass
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "*::test_async: mark.asyncio 'loop_factories' requires at least one "
            "pytest_asyncio_loop_factories hook implementation."
        ]
    )


def test_test_that_closes_its_loop_gets_a_warning(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import asyncio
        import pytest
        import pytest_aioloop

        @pytest_aioloop.fixture
        async def loop():
            return asyncio.get_running_loop()

        @pytest.fixture
        def close_event_loop(loop):
            yield
            loop.close()

        @pytest.mark.asyncio
        async def test_something(close_event_loop):
            await asyncio.sleep(0.01)
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, warnings=1)
    result.stdout.fnmatch_lines(["*An exception occurred during teardown of an asyncio.Runner*"])


def test_loop_a_test_installs_and_leaves_open_is_closed_with_a_warning(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        """
        import asyncio
        import pytest

        @pytest.mark.asyncio
        async def test_ends_with_unclosed_loop():
            asyncio.set_event_loop(asyncio.new_event_loop())

        @pytest.mark.asyncio
        async def test_next():
            await asyncio.sleep(0)
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-W", "default")
    result.assert_outcomes(passed=2, warnings=1)
    result.stdout.fnmatch_lines(["*unclosed event loop*"])
    result.stdout.no_fnmatch_line("*ResourceWarning*")


def test_asyncio_imported_afresh_between_runs(pytester: pytest.Pytester) -> None:
    """pytester's in-process runs drop asyncio from sys.modules when the outer run had not
    imported it: the next run's loop classes come from a new asyncio module."""
    pytester.makepyfile(
        test_outer="""
        import pytest

        INNER = '''
        import asyncio
        import pytest

        class Custom(asyncio.SelectorEventLoop):
            pass

        def pytest_asyncio_loop_factories(config, item):
            return {"custom": Custom}
        '''

        TEST = '''
        import asyncio
        import pytest

        @pytest.mark.asyncio
        async def test_custom():
            assert type(asyncio.get_running_loop()).__name__ == "Custom"
        '''

        @pytest.mark.parametrize("run", range(3))
        def test_inner_run(pytester, run):
            pytester.makeconftest(INNER)
            pytester.makepyfile(TEST)
            pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)
        """
    )
    # A fresh interpreter that has not imported asyncio, running the outer suite in-process.
    result = pytester.runpytest_subprocess("-p", "pytester", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)


@pytest.mark.skipif(sys.version_info < (3, 14), reason="asyncio policies are deprecated in 3.14")
def test_runs_without_the_policy_api(pytester: pytest.Pytester) -> None:
    """Python 3.16 removes asyncio's policies: nothing of pytest-aioloop may need them."""
    pytester.makeini("[pytest]\nfilterwarnings =\n    error\n")
    pytester.makeconftest(
        """
        import asyncio

        # What Python 3.16 will look like: the policy functions and classes are gone.
        for name in ("get_event_loop_policy", "set_event_loop_policy"):
            vars(asyncio).pop(name, None)

        def __getattr__(name):
            raise AttributeError(f"module 'asyncio' has no attribute {name!r}")

        asyncio.__getattr__ = __getattr__
        """
    )
    pytester.makepyfile(
        """
        import asyncio
        import pytest
        import pytest_aioloop

        @pytest_aioloop.fixture(scope="module")
        async def shared():
            return asyncio.get_running_loop()

        @pytest.mark.asyncio
        async def test_function_loop():
            await asyncio.sleep(0)

        @pytest.mark.asyncio
        async def test_follows_fixture(shared):
            assert asyncio.get_running_loop() is shared

        def test_sync_with_event_loop(event_loop):
            assert event_loop.run_until_complete(asyncio.sleep(0, result=1)) == 1

        def test_sync_with_async_fixture(shared):
            assert asyncio.get_event_loop() is shared
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=4)
