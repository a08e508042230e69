"""The reference pages' directives: the options table and one signature per function."""

from __future__ import annotations

import importlib.util
import sys
import types
from pathlib import Path

import pytest

from pytest_aioloop._settings.table import OPTIONS

EXT = Path(__file__).resolve().parents[2] / "docs" / "_ext" / "pytest_reference.py"


@pytest.fixture(scope="module")
def ext() -> types.ModuleType:
    """Load docs/_ext/pytest_reference.py as a module."""
    spec = importlib.util.spec_from_file_location("aiokit_docs_reference_ext", EXT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being created
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def options_page(ext: types.ModuleType) -> list[str]:
    info = ext.collect("pytest_aioloop.plugin", "pytest_aioloop._settings.table.OPTIONS")
    assert info.problems == []
    return list(ext.render(info, sections=["options"]))


def test_table_pairs_each_ini_option_with_its_flag(options_page: list[str]) -> None:
    text = "\n".join(options_page)
    assert ".. list-table::" in text
    for spec in OPTIONS:
        assert f"   * - ``{spec.ini}``" in options_page
        assert f".. confval:: {spec.ini}" in options_page
        assert f"``{spec.flag}" in text
    # Each is shown once: no entry per flag and per ini name besides the table.
    assert ".. option::" not in text
    assert ":type:" not in text
    assert "Ini options" not in text


def test_table_shows_defaults_as_a_user_reads_them(options_page: list[str]) -> None:
    rows = "\n".join(options_page)
    assert "     - ``--asyncio-timeout=SECONDS``\n     - \N{EM DASH}\n     - ``0`` (off)" in rows
    assert "     - ``--asyncio-debug``\n     - \N{EM DASH}\n     - ``false``" in rows
    assert "     - unset" in rows  # asyncio_default_fixture_loop_scope
    assert "     - ``strict``" in rows
    assert "'" not in "".join(line for line in options_page if line.startswith("     - "))


def test_sections_pick_what_is_shown(ext: types.ModuleType) -> None:
    info = ext.collect("pytest_aioloop.plugin", "pytest_aioloop._settings.table.OPTIONS")
    fixtures = "\n".join(ext.render(info, sections=["fixtures", "markers"]))
    assert ".. describe:: event_loop" in fixtures
    assert ".. describe:: @pytest.mark.asyncio" in fixtures
    assert "list-table" not in fixtures
    assert ".. py:function::" not in fixtures  # the hook
    hooks = ext.render(info, sections=["hooks"])
    assert any(line.startswith(".. py:function:: pytest_asyncio_loop_factories") for line in hooks)
    assert not any(line.startswith(".. rubric::") for line in hooks)  # under the page's heading
    with pytest.raises(ValueError, match="unknown sections"):
        ext.render(info, sections=["fixturez"])


def test_table_must_match_the_registered_options(ext: types.ModuleType) -> None:
    info = ext.collect("pytest_ports.plugin", "pytest_aioloop._settings.table.OPTIONS")
    assert any("which pytest_addoption does not add" in problem for problem in info.problems)


def test_flags_in_help_texts_become_code(ext: types.ModuleType) -> None:
    assert ext._escape("Command line: --asyncio-mode.") == "Command line: ``--asyncio-mode``."
    assert ext._escape("use --x=auto or a_b") == r"use ``--x=auto`` or a\_b"
    assert ext._default("auto") == "``auto``"
    assert ext._default("") == "empty"
    assert ext._default(None) == "unset"
    assert ext._default(3) == "``3``"


def test_fixture_has_one_clean_signature(ext: types.ModuleType) -> None:
    lines = ext.function_lines("pytest_aioloop.fixture", {"timeout": "asyncio_timeout"})
    signatures = [line for line in lines if line.startswith(".. py:function::")]
    assert len(signatures) == 1
    assert signatures[0].startswith(".. py:function:: fixture(fixture_function=None, *, ")
    assert "timeout=asyncio_timeout" in signatures[0]
    assert "Ellipsis" not in "\n".join(lines)
    assert ":" not in signatures[0].removeprefix(".. py:function::")  # no annotations
    assert "   :module: pytest_aioloop" in lines


@pytest.mark.skipif(sys.version_info < (3, 11), reason="typing.get_overloads is 3.11+")
def test_fixture_parameter_types_come_from_the_overloads(ext: types.ModuleType) -> None:
    lines = ext.function_lines("pytest_aioloop.fixture", {"timeout": "asyncio_timeout"})
    text = "\n".join(lines)
    assert "timeout (float | None): Seconds" in text
    assert "loop_scope (str | None):" in text
    assert "fixture_function (" not in text  # a type variable: the description says what it is


def test_sentinel_default_needs_a_spelling(ext: types.ModuleType) -> None:
    with pytest.raises(ValueError, match="say how the default of 'timeout' reads"):
        ext.function_lines("pytest_aioloop.fixture")
    with pytest.raises(ValueError, match="has no parameter nope"):
        ext.function_lines("pytest_aioloop.fixture", {"timeout": "x", "nope": "y"})
