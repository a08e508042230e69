"""Each private pytest internal pytest-aioloop reads still works on this pytest.

The functions of ``pytest_aioloop._compat`` are called here on real pytest objects (the test
sessions run this file with every pytest of the matrix). Those that change pytest's state while
tests run (the setup stack, the test function, fixture finalizers, xdist's reports) are covered
by the behaviour they give: the concurrency, fixture and coexistence tests.
"""

from __future__ import annotations

import pytest

from pytest_aioloop._compat import pytest_internals as internals
from pytest_aioloop._compat import setup_stack

MODULE = """
import pytest

@pytest.fixture
def dep():
    return 1

@pytest.fixture
def thing(dep):
    return dep

@pytest.mark.parametrize("x", [7])
def test_a(thing, x):
    pass

def helper():
    pass
"""


def test_fixture_definitions_and_their_parts(pytester: pytest.Pytester) -> None:
    (item,) = pytester.getitems(MODULE)
    defs = internals.fixturedefs_of_item(item)
    thing = defs["thing"][-1]
    assert internals.fixture_name(thing) == "thing"
    assert internals.fixture_argnames(thing) == ("dep",)
    assert internals.fixture_function(thing).__name__ == "thing"
    assert internals.fixture_baseid(thing).endswith(".py")
    assert internals.visible_fixturedefs(item, "dep")[-1] is defs["dep"][-1]
    assert internals.visible_fixturedefs(item, "no_such_fixture") == ()


def test_the_test_function_its_parameters_and_its_collector(pytester: pytest.Pytester) -> None:
    (item,) = pytester.getitems(MODULE)
    assert isinstance(item, pytest.Function)
    assert internals.callspec_param(item, "x") == 7
    assert internals.callspec_param(item, "y") is None
    module = item.getparent(pytest.Module)
    assert module is not None
    assert internals.is_test_function(module, item.obj, "test_a")
    assert not internals.is_test_function(module, module.obj.helper, "helper")
    original = item.obj
    restore = internals.replace_test_function(item, lambda: None, original)
    assert item.obj is not original
    restore()
    assert item.obj is original


def test_a_fixture_can_stand_in_for_another_function(pytester: pytest.Pytester) -> None:
    (item,) = pytester.getitems(MODULE)
    thing = internals.fixturedefs_of_item(item)["thing"][-1]
    original = internals.fixture_function(thing)
    with internals.standing_in(thing, len):
        assert internals.fixture_function(thing) is len
    assert internals.fixture_function(thing) is original


def test_pytest_s_own_options_by_their_dest(pytester: pytest.Pytester) -> None:
    config = pytester.parseconfigure("--setup-show")
    assert internals.pytest_option(config, "setupshow") is True
    assert internals.pytest_option(config, "usepdb") is False


def test_what_concurrent_tests_need_is_there(pytester: pytest.Pytester) -> None:
    """The setup stack and fixture caches concurrent tests use (else concurrency stays off)."""
    (item,) = pytester.getitems(MODULE)
    assert setup_stack.can_run_concurrently(item.session)


def test_a_report_section_is_extended_not_repeated(pytester: pytest.Pytester) -> None:
    (item,) = pytester.getitems(MODULE)
    item.add_report_section("teardown", "stdout", "first\n")
    internals.extend_report_section(item, "teardown", "stdout", "second\n")
    internals.extend_report_section(item, "teardown", "stderr", "")
    internals.extend_report_section(item, "teardown", "stderr", "other\n")
    report = pytest.TestReport.from_item_and_call(
        item, pytest.CallInfo.from_call(lambda: None, when="teardown")
    )
    assert report.sections == [
        ("Captured stdout teardown", "first\nsecond\n"),
        ("Captured stderr teardown", "other\n"),
    ]


def test_a_module_with_nothing_to_tear_down_can_be_left_for_the_next(
    pytester: pytest.Pytester,
) -> None:
    """What a group needs to move on to the next module: which parents it may leave, and
    setting them aside, ending them, and parking the current one for a rerun alone."""
    pytester.makepyfile(
        test_a="def test_one(): pass\n\nclass TestC:\n    def test_two(self): pass\n",
        test_b=(
            "import pytest\n\n@pytest.fixture(scope='module')\ndef m():\n    yield\n"
            "    print('m torn down')\n\ndef test_three(m): pass\n"
        ),
    )
    one, two, three = pytester.inline_genitems()[0]
    session = one.session
    state = session._setupstate
    state.setup(one)
    setup_stack.set_aside(one)
    assert setup_stack.parents_to_leave(two) == []  # the class it enters sets up nothing
    module_a = one.parent
    assert setup_stack.parents_to_leave(three) == [module_a]
    setup_stack.leave(session, [module_a])
    state.setup(three)  # module b is set up, with its module-scoped fixture
    setup_stack.set_aside(three)
    assert setup_stack.parents_to_leave(one) is None  # b has a fixture to tear down
    parked = setup_stack.park_above(one)
    assert [node for node, _ in parked] == [three.parent]
    assert setup_stack.park_above(one) == []
    setup_stack.unpark(session, parked)
    assert setup_stack.park_above(three) == []
    setup_stack.end_left(session, [module_a])  # its own (empty) teardown runs
    setup_stack.put_back(three)
    state.teardown_exact(None)
    assert issubclass(pytest.skip.Exception, setup_stack.CAUGHT)
