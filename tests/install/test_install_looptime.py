"""pytest-aiokit installed beside looptime 0.9: tests written for looptime run unchanged.

looptime's own plugin needs pytest-asyncio; pytest-aioloop keeps it out and serves its marker,
its ``looptime`` fixture and its ``--looptime``/``--no-looptime`` flags with looptime's engine.
"""

from __future__ import annotations

import pathlib

import pytest

from tests.install.conftest import Venv, make_venv

#: Tests as looptime's documentation writes them (marked, with options, its fixture).
SUITE = """
import asyncio

import looptime
import pytest
import pytest_aioloop


@pytest_aioloop.fixture
async def ticked():
    with looptime.enabled():  # a fixture of its own in looptime's time: the loop is patched
        await asyncio.sleep(5)
    return "ticked"


@pytest.mark.asyncio(timeout=30)
@pytest.mark.looptime
async def test_a_hundred_seconds_at_once(looptime):
    await asyncio.sleep(100)
    assert looptime == 100


@pytest.mark.asyncio(timeout=30)
@pytest.mark.looptime(start=123)
async def test_starts_where_asked(looptime):
    assert looptime == 123
    await asyncio.sleep(7)
    assert looptime == 130


@pytest.mark.asyncio(timeout=30)
@pytest.mark.looptime(end=1)
async def test_ends_where_asked():
    with pytest.raises(looptime.LoopTimeoutError):
        await asyncio.sleep(10)


@pytest.mark.asyncio(timeout=30)
@pytest.mark.looptime
async def test_fixture_in_looptime_too(ticked, looptime):
    assert ticked == "ticked"
    await asyncio.sleep(1)
    assert looptime == 6  # the loop's time goes on from the fixture's 5 s


@pytest.mark.asyncio
@pytest.mark.looptime(False)
async def test_marked_off_runs_in_real_time(chronometer):
    with chronometer:
        await asyncio.sleep(0.01)
    assert chronometer >= 0.01


def test_sync_tests_are_untouched():
    pass
"""

UNMARKED = """
import asyncio
import pytest


@pytest.mark.asyncio(timeout=30)
async def test_unmarked(looptime):
    await asyncio.sleep(100)
    assert looptime == 100
"""


@pytest.fixture(scope="module")
def beside_looptime(tmp_path_factory: pytest.TempPathFactory, dist_dir: pathlib.Path) -> Venv:
    """An environment with pytest-aiokit and looptime 0.9."""
    return make_venv(
        tmp_path_factory, dist_dir, "beside-looptime", "pytest-aiokit", extra=["looptime==0.9"]
    )


def test_tests_written_for_looptime_pass(beside_looptime: Venv) -> None:
    result = beside_looptime.pytest("-v", "-W", "error", files={"test_looptime.py": SUITE})
    text = "\n".join(result.outlines + result.errlines)
    assert "Traceback" not in text, text
    result.assert_outcomes(passed=6)


def test_the_looptime_flag_puts_unmarked_tests_in_looptime(beside_looptime: Venv) -> None:
    result = beside_looptime.pytest("--looptime", files={"test_unmarked.py": UNMARKED})
    result.assert_outcomes(passed=1)


MARKED_REAL = """
import asyncio
import pytest


@pytest.mark.asyncio
@pytest.mark.looptime
async def test_marked(chronometer):
    with chronometer:
        await asyncio.sleep(0.01)
    assert chronometer >= 0.01
"""


def test_no_looptime_keeps_marked_tests_in_real_time(beside_looptime: Venv) -> None:
    result = beside_looptime.pytest("--no-looptime", files={"test_real.py": MARKED_REAL})
    result.assert_outcomes(passed=1)
    in_looptime = beside_looptime.pytest(files={"test_real.py": MARKED_REAL})
    in_looptime.assert_outcomes(failed=1)


def test_looptime_s_names_are_documented(beside_looptime: Venv) -> None:
    markers = beside_looptime.pytest("--markers")
    markers.stdout.fnmatch_lines(["@pytest.mark.looptime: *"])
    fixtures = beside_looptime.pytest("--fixtures")
    fixtures.stdout.fnmatch_lines(["looptime -- *", "    Return the event loop's time*"])
    helps = beside_looptime.pytest("--help")
    helps.stdout.fnmatch_lines(["  --no-looptime *", "  --looptime *"])
