"""The marker's arguments, parsed and checked without running pytest (pure functions)."""

from __future__ import annotations

import pytest

from pytest_aioloop._settings.marker import (
    MarkerError,
    MarkerSpec,
    concurrency_of,
    parse_marker,
)
from pytest_aioloop._settings.options import parse_count, parse_seconds

NODE = "test_x.py::test_y"


def _mark(**kwargs: object) -> pytest.Mark:
    return pytest.mark.asyncio(**kwargs).mark


def test_no_marker_and_an_empty_marker_give_the_defaults() -> None:
    assert parse_marker(None, NODE) == MarkerSpec()
    assert parse_marker(_mark(), NODE) == MarkerSpec()


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"loop_scope": "module"}, MarkerSpec(loop_scope="module")),
        ({"loop_factories": ["a", "b"]}, MarkerSpec(loop_factories=("a", "b"))),
        ({"timeout": 2}, MarkerSpec(timeout=2.0, has_timeout=True)),
        ({"timeout": 0}, MarkerSpec(timeout=None, has_timeout=True)),
        ({"timeout": None}, MarkerSpec(timeout=None, has_timeout=True)),
        ({"concurrency": 3, "concurrent": False}, MarkerSpec()),
    ],
)
def test_valid_arguments(kwargs: dict[str, object], expected: MarkerSpec) -> None:
    assert parse_marker(_mark(**kwargs), NODE) == expected


def test_a_marker_timeout_wins_over_the_default_even_when_it_turns_timeouts_off() -> None:
    assert MarkerSpec(timeout=None, has_timeout=True).timeout_or(5.0) is None
    assert MarkerSpec().timeout_or(5.0) == 5.0


@pytest.mark.parametrize(
    ("mark", "message"),
    [
        (pytest.mark.asyncio("module").mark, "accepts only keyword arguments 'loop_scope'"),
        (_mark(cope="module"), "unknown argument(s) cope"),
        (_mark(loop_scope="invalid"), "unexpected loop scope value 'invalid'"),
        (_mark(loop_factories="uvloop"), "'loop_factories' must be a non-empty sequence"),
        (_mark(loop_factories=[]), "'loop_factories' must be a non-empty sequence"),
        (_mark(loop_factories=[""]), "'loop_factories' must be a non-empty sequence"),
        (_mark(concurrency=0), "got concurrency=0"),
        (_mark(concurrency=True), "got concurrency=True"),
        (_mark(concurrent="no"), "got concurrent='no'"),
        (_mark(timeout="soon"), "got timeout='soon'"),
        (_mark(timeout=-1), "it must be 0 or more seconds"),
        (_mark(scope="module", loop_scope="module"), 'defines both "scope" and "loop_scope"'),
    ],
)
def test_invalid_arguments_name_the_test_and_the_mistake(mark: pytest.Mark, message: str) -> None:
    with pytest.raises(MarkerError) as info:
        parse_marker(mark, NODE)
    assert NODE in str(info.value)
    assert message in str(info.value)


def test_the_deprecated_scope_argument_is_the_loop_scope_with_a_warning() -> None:
    with pytest.warns(pytest.PytestDeprecationWarning, match="use loop_scope= instead"):
        spec = parse_marker(_mark(scope="class"), NODE)
    assert spec == MarkerSpec(loop_scope="class")


def test_concurrency_comes_from_the_closest_marker_that_has_each_argument() -> None:
    closest_first = [_mark(concurrent=False), _mark(concurrency=4), _mark(concurrency=9)]
    assert concurrency_of(closest_first, 1) == (4, False)
    assert concurrency_of([], 7) == (7, True)
    assert concurrency_of([_mark(concurrency=0)], 2) == (2, True)  # invalid: reported elsewhere


@pytest.mark.parametrize(
    ("value", "seconds"), [("0", None), ("", None), (None, None), ("1.5", 1.5), (3, 3.0)]
)
def test_seconds(value: object, seconds: float | None) -> None:
    assert parse_seconds("asyncio_timeout", value) == seconds


@pytest.mark.parametrize("value", ["x", "-1", "nan"])
def test_bad_seconds_name_the_option(value: str) -> None:
    with pytest.raises(pytest.UsageError, match="asyncio_timeout"):
        parse_seconds("asyncio_timeout", value)


def test_counts() -> None:
    assert parse_count("asyncio_concurrency", "12") == 12
    with pytest.raises(pytest.UsageError, match="1 or more"):
        parse_count("asyncio_concurrency", "0")
