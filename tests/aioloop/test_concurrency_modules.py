"""Tests of the next module (or class) join the running ones only when pytest would not notice."""

from __future__ import annotations

import pytest

from tests.aioloop.reports import run_collecting as _run

#: Shared by the test modules of a run: who started, who runs now, what was set up and torn down.
SHARED = """
STARTED = []
RUNNING = set()
EVENTS = []


async def wait_until(condition, steps=500):
    # Bounded: gives up after ``steps`` turns of the loop (1 ms each).
    import asyncio

    for _ in range(steps):
        if condition():
            return True
        await asyncio.sleep(0.001)
    return False
"""

FIRST = """
import pytest
from shared import STARTED, wait_until

pytestmark = pytest.mark.asyncio

@pytest.mark.parametrize("i", range(3))
async def test_waits_for_the_next_module(i):
    STARTED.append(f"first{i}")
    # Passes only if a test of the next module starts while this one runs.
    assert await wait_until(lambda: "second" in STARTED)
"""

SECOND = """
import pytest
from shared import STARTED

pytestmark = pytest.mark.asyncio

async def test_starts():
    STARTED.append("second")
"""


def test_tests_of_the_next_module_join_the_running_ones(pytester: pytest.Pytester) -> None:
    pytester.syspathinsert()
    pytester.makepyfile(shared=SHARED, test_first=FIRST, test_second=SECOND, test_third=SECOND)
    result, _ = _run(pytester, "-v", "-o", "asyncio_concurrency=10")
    result.assert_outcomes(passed=5)
    result.stdout.fnmatch_lines(
        [
            "asyncio: up to 10 tests at once in test_first.py",
            "asyncio: the tests of test_second.py join the 3 running",
            "asyncio: 5 tests ran together in test_first.py, test_second.py, test_third.py "
            "(up to 5 at once)",
        ]
    )


CLASSES = """
import pytest
from shared import STARTED, wait_until

pytestmark = pytest.mark.asyncio

class TestFirst:
    @pytest.mark.parametrize("i", range(2))
    async def test_waits(self, i):
        STARTED.append(i)
        assert await wait_until(lambda: "second" in STARTED)

class TestSecond:
    async def test_starts(self):
        STARTED.append("second")

async def test_in_the_module():
    assert "second" in STARTED
"""


def test_tests_of_the_next_class_join_the_running_ones(pytester: pytest.Pytester) -> None:
    pytester.syspathinsert()
    pytester.makepyfile(shared=SHARED, test_classes=CLASSES)
    result, _ = _run(pytester, "-v", "-o", "asyncio_concurrency=10")
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(["asyncio: 4 tests ran together in *TestFirst, *TestSecond, *"])


MODULE_FIXTURE = """
import asyncio
import pytest
import pytest_aioloop
from shared import EVENTS

pytestmark = pytest.mark.asyncio

@pytest_aioloop.fixture(scope="module")
async def connection():
    EVENTS.append("open")
    yield
    await asyncio.sleep(0)
    EVENTS.append("close")

@pytest.mark.parametrize("i", range(3))
async def test_uses_it(connection, i):
    await asyncio.sleep(0.01 * i)
    EVENTS.append(f"test{i}")
"""

AFTER_IT = """
import pytest
from shared import EVENTS

pytestmark = pytest.mark.asyncio

async def test_starts_after_the_module_ended():
    assert EVENTS[-1] == "close"
"""


def test_a_module_with_a_fixture_of_its_own_ends_before_the_next_starts(
    pytester: pytest.Pytester,
) -> None:
    pytester.syspathinsert()
    pytester.makepyfile(shared=SHARED, test_first=MODULE_FIXTURE, test_second=AFTER_IT)
    result, _ = _run(pytester, "-v", "-o", "asyncio_concurrency=10")
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(
        ["asyncio: 3 tests ran together in test_first.py (up to 3 at once)"]
    )
    result.stdout.no_fnmatch_line("*join the*")


RUNS_LONG = """
import pytest
from shared import RUNNING, wait_until

pytestmark = pytest.mark.asyncio

# As many as the group admits before it first lets the loop run: they run when the next
# module's tests arrive.
@pytest.mark.parametrize("i", range(8))
async def test_runs(i):
    RUNNING.add(i)
    try:
        await wait_until(lambda: False, steps=20)
    finally:
        RUNNING.discard(i)
"""

SETS_UP_ITS_MODULE = """
import pytest
from shared import RUNNING

pytestmark = pytest.mark.asyncio

@pytest.fixture(scope="module", autouse=True)
def clean_slate():
    # A module's setup (a database emptied, a server restarted) must not overlap the tests
    # of the module before it: they would see it.
    assert not RUNNING

async def test_after():
    pass
"""


@pytest.mark.parametrize("how", ["fixture", "setup_module", "used-by-a-later-test"])
def test_a_module_that_sets_up_a_wider_fixture_waits_for_the_running_tests(
    pytester: pytest.Pytester, how: str
) -> None:
    """Also when its first test joins the running ones and a later one sets the fixture up."""
    second = SETS_UP_ITS_MODULE
    if how == "setup_module":
        second = second.replace(
            '@pytest.fixture(scope="module", autouse=True)\ndef clean_slate():',
            "def setup_module():",
        )
    elif how == "used-by-a-later-test":
        second = second.replace("autouse=True", "").replace(
            "async def test_after():",
            "async def test_joins():\n    pass\n\nasync def test_after(clean_slate):",
        )
    pytester.syspathinsert()
    pytester.makepyfile(shared=SHARED, test_first=RUNS_LONG, test_second=second)
    result, _ = _run(pytester, "-v", "-o", "asyncio_concurrency=20")
    if how == "used-by-a-later-test":
        result.assert_outcomes(passed=10)
        result.stdout.fnmatch_lines(["asyncio: the tests of test_second.py join the 8 running"])
    else:
        result.assert_outcomes(passed=9)
        result.stdout.no_fnmatch_line("*join the*")
    result.stdout.no_fnmatch_line("*failed beside other tests*")


LATE = """
import pytest
from shared import EVENTS, STARTED, wait_until

pytestmark = pytest.mark.asyncio

@pytest.fixture(scope="module")
def late():
    EVENTS.append("late open")
    yield
    EVENTS.append("late close")
    raise RuntimeError("late fixture's teardown failed")

async def test_asks_late(request):
    assert await wait_until(lambda: "second" in STARTED)
    request.getfixturevalue("late")
    EVENTS.append("first done")
"""

LAST = """
from shared import EVENTS

def test_sync_after_all():
    assert EVENTS == ["late open", "first done", "late close"]
"""


def test_a_wider_fixture_asked_for_late_in_a_module_left_behind_ends_with_its_last_test(
    pytester: pytest.Pytester,
) -> None:
    """It ends after the module's last test, in that test's teardown, as without concurrency.

    (The teardown's failure is reported as it is here, not run again alone.)
    """
    pytester.syspathinsert()
    pytester.makepyfile(shared=SHARED, test_first=LATE, test_second=SECOND, test_third=LAST)
    options = ("-o", "asyncio_concurrency=10", "-o", "asyncio_concurrency_conflicts=off")
    result, reports = _run(pytester, "-v", *options)
    result.assert_outcomes(passed=3, errors=1)
    result.stdout.fnmatch_lines(
        ["*ERROR at teardown of test_asks_late*", "*late fixture's teardown failed*"]
    )
    assert reports.seen[("test_first.py::test_asks_late", "call")][0] == "passed"
    assert reports.seen[("test_first.py::test_asks_late", "teardown")][0] == "failed"
    result.stdout.fnmatch_lines(["asyncio: the tests of test_second.py join the 1 running"])


CONFLICT = """
import pytest
from shared import RUNNING, STARTED, wait_until

pytestmark = pytest.mark.asyncio

async def test_conflicts_{name}():
    RUNNING.add("{name}")
    try:
        # Fails only beside the other one: each waits (bounded) to see it run, and for the other
        # to see it too. Alone, it never comes.
        together = await wait_until(lambda: "{other}" in RUNNING, steps=100)
        STARTED.append("{name} saw it" if together else "{name} alone")
        if together:
            assert await wait_until(lambda: "{other} saw it" in STARTED, steps=100)
        assert not together, "ran beside the other"
    finally:
        RUNNING.discard("{name}")
"""

#: A module-scoped fixture that records its setup and teardown.
RECORDED = """
@pytest.fixture(scope="module")
def {name}():
    EVENTS.append("open")
    yield
    EVENTS.append("close")
"""

#: The module after the first conflicting test: a test, the other conflicting one, then a test
#: that sets up a module fixture (once the first module's test is done).
SECOND_WITH_MODULE_FIXTURE = (
    """
import pytest
from shared import EVENTS

pytestmark = pytest.mark.asyncio

async def test_plain():
    pass
"""
    + CONFLICT.format(name="second", other="first")
    + RECORDED.format(name="shared")
    + """
async def test_uses_the_module_fixture(shared):
    pass
"""
)

CHECK = """
from shared import EVENTS, STARTED

def test_each_ran_again_alone_and_the_module_was_set_up_once():
    assert EVENTS == ["open", "close"]
    assert "first alone" in STARTED and "second alone" in STARTED
"""


def test_tests_that_fail_beside_a_module_left_behind_run_again_alone(
    pytester: pytest.Pytester,
) -> None:
    """The one of the module left behind runs again alone while the last module stays set up
    for its own test that runs again; nothing is set up twice."""
    pytester.syspathinsert()
    pytester.makepyfile(
        shared=SHARED,
        test_first=CONFLICT.format(name="first", other="second"),
        test_second=SECOND_WITH_MODULE_FIXTURE,
        test_third=CHECK,
    )
    result, _ = _run(pytester, "-v", "-o", "asyncio_concurrency=10")
    result.assert_outcomes(passed=5)
    result.stdout.fnmatch_lines(
        [
            "asyncio: test_first.py::test_conflicts_first failed beside other tests: it runs "
            "again alone",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "asyncio: test_second.py::test_conflicts_second failed beside other tests: it runs "
            "again alone",
        ]
    )


SLOW_TEARDOWN = """
import pytest
import pytest_aioloop
from shared import EVENTS, wait_until

pytestmark = pytest.mark.asyncio

@pytest_aioloop.fixture
async def slow_to_close():
    yield
    # Still closing when the next module's tests arrive (bounded: gives up after 0.2 s).
    await wait_until(lambda: "open" in EVENTS, steps=200)

# More than the group admits before it first lets the loop run: the first ones are done, and
# wait in their teardown, by the time the next module's tests arrive.
@pytest.mark.parametrize("i", range(12))
async def test_closes_slowly(slow_to_close, i):
    pass
"""

NEXT_WITH_MODULE_FIXTURE = (
    """
import pytest
import pytest_aioloop
from shared import EVENTS

pytestmark = pytest.mark.asyncio

@pytest_aioloop.fixture
async def quick():
    yield
"""
    + RECORDED.format(name="resource")
    + """
async def test_plain(quick):
    pass

@pytest.mark.parametrize("i", range(3))
async def test_uses_it(quick, resource, i):
    pass
"""
)

ONCE = """
from shared import EVENTS

def test_set_up_once():
    assert EVENTS == ["open", "close"]
"""


BREAKS_LATE = """
import pytest
import pytest_aioloop
from shared import EVENTS, wait_until

pytestmark = pytest.mark.asyncio

@pytest_aioloop.fixture
async def connection():
    # Still connecting when the next module's tests arrive; then it fails.
    await wait_until(lambda: "open" in EVENTS, steps=100)
    raise ConnectionError("could not connect")
    yield

@pytest.mark.parametrize("i", range(9))
async def test_connects(connection, i):
    pass
"""


@pytest.mark.parametrize(
    ("first", "outcomes"),
    [(SLOW_TEARDOWN, {"passed": 17}), (BREAKS_LATE, {"passed": 5, "errors": 9})],
    ids=["teardowns-waiting", "setups-failing-later"],
)
def test_steps_waiting_when_the_group_moves_on_keep_the_next_module_set_up(
    pytester: pytest.Pytester, first: str, outcomes: dict[str, int]
) -> None:
    """A teardown that waits while the group moves on ends towards what it began towards, and a
    setup that fails after it tears down only its own: neither tears the next module's fixtures
    down (it is set up once)."""
    pytester.syspathinsert()
    pytester.makepyfile(
        shared=SHARED, test_first=first, test_second=NEXT_WITH_MODULE_FIXTURE, test_third=ONCE
    )
    result, _ = _run(pytester, "-v", "-o", "asyncio_concurrency=20")
    result.assert_outcomes(**outcomes)
    result.stdout.fnmatch_lines(["asyncio: the tests of test_second.py join the * running"])
