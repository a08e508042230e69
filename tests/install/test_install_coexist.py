"""pytest-aiokit installed beside a real pytest-asyncio release: the documented rule holds.

The rule: pytest-aioloop keeps pytest-asyncio out of the run, whichever plugin pytest loads
first, and the report header says so; ``-p no:aioloop`` runs pytest-asyncio instead. Each
release is installed from PyPI into a fresh environment on a pytest it supports. ``-p aioloop``
makes pytest load pytest-aioloop first, ``-p asyncio`` pytest-asyncio first; without either,
the order is whatever the environment's file system gives.
"""

from __future__ import annotations

import pathlib
import re

import pytest

from tests.install.conftest import Venv, make_venv

FLAG = re.compile(r"^  (--asyncio[-\w]*)")
#: pytest-asyncio releases and a pytest each supports (0.21 and 0.24 predate pytest 9).
RELEASES = {
    "0.21.2": "pytest>=8.4,<9",
    "0.24.0": "pytest>=8.4,<9",
    "1.5.0": None,  # the pytest running this test
}

SUITE = """
import asyncio

import pytest
import pytest_aioloop
import pytest_ports


@pytest_aioloop.fixture
async def value():
    await asyncio.sleep(0)
    return 42


@pytest.mark.asyncio
async def test_async(value):
    assert value == 42
    RUNS.append(1)


def test_ran_once():
    assert RUNS == [1]


def test_sync_event_loop(event_loop):
    assert event_loop.run_until_complete(asyncio.sleep(0, result=7)) == 7


def test_ports_come_from_pytest_ports(unused_tcp_port_factory):
    assert isinstance(unused_tcp_port_factory, pytest_ports.PortFactory)


RUNS = []
"""

#: The same suite as a pytest-asyncio user writes it (for ``-p no:aioloop``).
THEIR_SUITE = """
import asyncio

import pytest
import pytest_asyncio


@pytest_asyncio.fixture
async def value():
    await asyncio.sleep(0)
    return 42


@pytest.mark.asyncio
async def test_async(value):
    assert value == 42
"""


@pytest.fixture(scope="module", params=list(RELEASES))
def beside(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    dist_dir: pathlib.Path,
) -> tuple[str, Venv]:
    """An environment with pytest-aiokit and one pytest-asyncio release."""
    version = request.param
    venv = make_venv(
        tmp_path_factory,
        dist_dir,
        f"beside-pytest-asyncio-{version}",
        "pytest-aiokit",
        extra=[f"pytest-asyncio=={version}"],
        pytest_req=RELEASES[version],
    )
    return version, venv


@pytest.mark.parametrize("order", ["environment", "-p aioloop", "-p asyncio"])
def test_pytest_aioloop_runs_and_says_so(beside: tuple[str, Venv], order: str) -> None:
    version, venv = beside
    args = order.split() if order.startswith("-p") else []
    result = venv.pytest(*args, "-v", files={"test_suite.py": SUITE})
    text = "\n".join(result.outlines + result.errlines)
    assert "Traceback" not in text, text
    assert "INTERNALERROR" not in text, text
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(
        [
            "asyncio: pytest-aioloop, *",
            f"asyncio: pytest-asyncio {version} is installed too and is not used in this run "
            "(pass -p no:aioloop to use it instead of pytest-aioloop)",
        ]
    )


#: A suite written for pytest-asyncio, its imports not renamed yet, in strict mode.
NOT_RENAMED = """
import asyncio
import contextvars

import pytest
import pytest_asyncio

VAR = contextvars.ContextVar("var")


@pytest_asyncio.fixture
async def value():
    await asyncio.sleep(0)
    return 42


@pytest_asyncio.fixture
async def var_set():
    token = VAR.set("set")
    yield
    VAR.reset(token)


@pytest_asyncio.fixture(scope="module")
async def module_loop():
    return asyncio.get_running_loop()


@pytest.mark.asyncio
async def test_async(value, var_set):
    assert value == 42
    assert VAR.get() == "set"


def test_sync_test_gets_the_value(value):
    assert value == 42


@pytest.mark.asyncio
async def test_module_fixture(module_loop):
    assert module_loop.is_running()
"""


def test_pytest_asyncio_fixtures_run_before_the_imports_are_renamed(
    beside: tuple[str, Venv],
) -> None:
    _, venv = beside
    result = venv.pytest(
        "-W", "error", "-o", "asyncio_mode=strict", files={"test_theirs.py": NOT_RENAMED}
    )
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(["asyncio: pytest-aioloop, *"])


def test_no_aioloop_runs_pytest_asyncio(beside: tuple[str, Venv]) -> None:
    _, venv = beside
    result = venv.pytest(
        "-p", "no:aioloop", "-o", "asyncio_mode=strict", files={"test_theirs.py": THEIR_SUITE}
    )
    result.assert_outcomes(passed=1)
    result.stdout.no_fnmatch_line("asyncio: pytest-aioloop*")


def test_no_asyncio_runs_pytest_aioloop(beside: tuple[str, Venv]) -> None:
    _, venv = beside
    result = venv.pytest("-p", "no:asyncio", files={"test_suite.py": SUITE})
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(["asyncio: pytest-aioloop, *"])


def test_help_lists_each_option_once(beside: tuple[str, Venv]) -> None:
    _, venv = beside
    result = venv.pytest("--help")
    assert result.ret == 0, "\n".join(result.errlines)
    flags = [m.group(1) for line in result.outlines if (m := FLAG.match(line))]
    assert flags, result.outlines
    assert len(flags) == len(set(flags)), flags
