"""The event_loop_policy fixture and the pytest_asyncio_loop_factories hook."""

from __future__ import annotations

import pytest

POLICY_CONFTEST = """
import asyncio
import pytest

class MarkedLoop(asyncio.SelectorEventLoop):
    pass

class MarkedPolicy(asyncio.DefaultEventLoopPolicy):
    def new_event_loop(self):
        return MarkedLoop()
"""


def test_policy_override_changes_loop_type_and_is_restored(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(POLICY_CONFTEST)
    pytester.makepyfile(
        test_custom="""
        import asyncio
        import pytest
        import pytest_aioloop
        from conftest import MarkedLoop, MarkedPolicy

        @pytest.fixture(scope="session")
        def event_loop_policy():
            return MarkedPolicy()

        @pytest_aioloop.fixture
        async def fixture_loop():
            return asyncio.get_running_loop()

        @pytest.mark.asyncio
        async def test_marked(fixture_loop):
            assert isinstance(asyncio.get_running_loop(), MarkedLoop)
            assert isinstance(fixture_loop, MarkedLoop)
        """,
        test_zdefault="""
        import asyncio
        import pytest
        from conftest import MarkedLoop, MarkedPolicy

        @pytest.mark.asyncio
        async def test_default():
            assert not isinstance(asyncio.get_running_loop(), MarkedLoop)
            assert not isinstance(asyncio.get_event_loop_policy(), MarkedPolicy)
        """,
    )
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=2)


def test_parametrized_policy(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        POLICY_CONFTEST
        + """
@pytest.fixture(scope="session", params=["default", "marked"])
def event_loop_policy(request):
    return MarkedPolicy() if request.param == "marked" else asyncio.DefaultEventLoopPolicy()
"""
    )
    pytester.makepyfile(
        """
        import asyncio
        import pytest
        from conftest import MarkedLoop

        @pytest.mark.asyncio
        async def test_loop(request):
            marked = isinstance(asyncio.get_running_loop(), MarkedLoop)
            assert marked == ("marked" in request.node.name)
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-v")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*test_loop?default? PASSED*", "*test_loop?marked? PASSED*"])


FACTORIES_CONFTEST = """
import asyncio

class LoopA(asyncio.SelectorEventLoop):
    pass

class LoopB(asyncio.SelectorEventLoop):
    pass

def pytest_asyncio_loop_factories(config, item):
    if "single" in item.name:
        return {"only": LoopA}
    return {"a": LoopA, "b": LoopB}
"""


def test_loop_factories_hook(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(FACTORIES_CONFTEST)
    pytester.makepyfile(
        """
        import asyncio
        import pytest
        import pytest_aioloop
        from conftest import LoopA, LoopB

        @pytest_aioloop.fixture
        async def fixture_loop():
            return asyncio.get_running_loop()

        @pytest.mark.asyncio
        async def test_each(request, fixture_loop):
            expected = LoopA if request.node.name.endswith("[a]") else LoopB
            assert type(asyncio.get_running_loop()) is expected
            assert fixture_loop is asyncio.get_running_loop()

        @pytest.mark.asyncio
        async def test_single():
            assert type(asyncio.get_running_loop()) is LoopA

        @pytest.mark.asyncio(loop_factories=["b"])
        async def test_selected():
            assert type(asyncio.get_running_loop()) is LoopB

        @pytest.mark.asyncio(loop_factories=["a", "nope"])
        async def test_unknown():
            pass

        def test_sync_with_async_fixture(fixture_loop):
            assert not fixture_loop.is_closed()
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "-v", "-rs")
    result.assert_outcomes(passed=6, skipped=1)
    result.stdout.fnmatch_lines_random(
        [
            "*::test_each?a? PASSED*",
            "*::test_each?b? PASSED*",
            "*::test_single PASSED*",
            "*::test_selected PASSED*",
            "*::test_unknown?a? PASSED*",
            "*Loop factory 'nope' is not available. Available factories: a, b.",
            "asyncio: pytest-aioloop*loop factories hook=yes*",
        ]
    )


def test_wider_async_fixtures_are_made_again_for_each_factory(pytester: pytest.Pytester) -> None:
    pytester.mkdir("sub")
    pytester.makeconftest("")
    (pytester.path / "sub" / "conftest.py").write_text(FACTORIES_CONFTEST)
    (pytester.path / "sub" / "test_pool.py").write_text(
        """
import asyncio
import pytest
import pytest_aioloop
from conftest import LoopA, LoopB

MADE = []

@pytest_aioloop.fixture(scope="session")
async def pool():
    MADE.append(type(asyncio.get_running_loop()).__name__)
    yield asyncio.get_running_loop()

@pytest.mark.asyncio
async def test_one(pool, request):
    assert asyncio.get_running_loop() is pool
    assert type(pool) is (LoopA if request.node.name.endswith("[a]") else LoopB)

@pytest.mark.asyncio
async def test_two(pool):
    assert asyncio.get_running_loop() is pool

def test_sync(pool):
    assert not pool.is_closed()

def test_made_once_per_factory():
    assert sorted(MADE) == ["LoopA", "LoopB"]
"""
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "-p", "no:randomly", "-v")
    result.assert_outcomes(passed=6)


@pytest.mark.parametrize("route", ["cli", "ini"])
def test_loop_factory_option_chooses_the_loop_for_the_run(
    pytester: pytest.Pytester, route: str
) -> None:
    pytester.makepyfile(
        my_loops="""
        import asyncio

        class Tagged(asyncio.SelectorEventLoop):
            pass

        def new_loop():
            return Tagged()
        """,
        test_loops="""
        import asyncio
        import pytest
        import pytest_aioloop

        @pytest_aioloop.fixture(scope="module")
        async def module_loop():
            return asyncio.get_running_loop()

        @pytest.mark.asyncio
        async def test_function_loop():
            assert type(asyncio.get_running_loop()).__name__ == "Tagged"

        @pytest.mark.asyncio
        async def test_shared_loop(module_loop):
            assert type(module_loop).__name__ == "Tagged"

        def test_sync(event_loop):
            assert type(event_loop).__name__ == "Tagged"
        """,
    )
    pytester.syspathinsert()
    args = ["-p", "no:cacheprovider"]
    if route == "cli":
        args.append("--asyncio-loop-factory=my_loops:new_loop")
    else:
        pytester.makeini("[pytest]\nasyncio_loop_factory = my_loops:new_loop\n")
    result = pytester.runpytest(*args)
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(["asyncio: pytest-aioloop*loop factory=my_loops:new_loop*"])


def test_loop_factory_by_name_uvloop(pytester: pytest.Pytester) -> None:
    pytest.importorskip("uvloop")
    pytester.makepyfile(
        """
        import asyncio
        import pytest

        @pytest.mark.asyncio
        async def test_uvloop():
            assert type(asyncio.get_running_loop()).__module__.startswith("uvloop")
        """
    )
    pytester.runpytest("-p", "no:cacheprovider", "--asyncio-loop-factory=uvloop").assert_outcomes(
        passed=1
    )


def test_hook_factories_take_precedence_over_the_option(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
        import asyncio

        class FromHook(asyncio.SelectorEventLoop):
            pass

        def pytest_asyncio_loop_factories(config, item):
            return {"hooked": FromHook}
        """
    )
    pytester.makepyfile(
        """
        import asyncio
        import pytest

        @pytest.mark.asyncio
        async def test_hooked():
            assert type(asyncio.get_running_loop()).__name__ == "FromHook"
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "--asyncio-loop-factory=uvloop")
    result.assert_outcomes(passed=1)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("trio", "'trio' is not a valid asyncio_loop_factory. Valid values: asyncio, uvloop,*"),
        ("no_such_module:f", "asyncio_loop_factory = no_such_module:f: cannot import*"),
        ("asyncio:no_such_function", "asyncio_loop_factory = asyncio:no_such_function: 'asyncio'*"),
    ],
)
def test_bad_loop_factory_is_a_usage_error(
    pytester: pytest.Pytester, value: str, message: str
) -> None:
    pytester.makepyfile("def test_x():\n    pass\n")
    result = pytester.runpytest("-p", "no:cacheprovider", f"--asyncio-loop-factory={value}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"ERROR: {message}"])
    result.stderr.no_fnmatch_line("*Traceback*")
