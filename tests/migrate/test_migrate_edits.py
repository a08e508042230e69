"""The migrate rules on text, without files or a command line (pure functions)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_aioloop._migrate.distribution import DistributionChoice, PortFixtureUses
from pytest_aioloop._migrate.edits import Edits
from pytest_aioloop._migrate.files import Unreadable
from pytest_aioloop._migrate.names import is_pytest_asyncio
from pytest_aioloop._migrate.python import rewrite_python
from pytest_aioloop._migrate.requirements import REST_OF_LINE, rewrite_requirement
from pytest_aioloop._migrate.tokens import tokenize_source


def _python(text: str, replacement: str | None = None) -> Edits:
    edits = Edits(text)
    rewrite_python(edits, tokenize_source(text), (lambda: replacement) if replacement else None)
    return edits


def test_edits_apply_all_replacements_at_once_and_count_changes_by_line() -> None:
    edits = Edits("a pytest_asyncio b\nc -p asyncio\n")
    edits.rename_modules(0, len(edits.text))
    edits.rename_p_options(0, len(edits.text))
    assert edits.result() == "a pytest_aioloop b\nc -p aioloop\n"
    assert [(c.line, c.kind) for c in edits.changes] == [(1, "module"), (2, "option")]


def test_longer_names_and_no_asyncio_are_left_alone() -> None:
    text = "pytest_asyncio_loop_factories my_pytest_asyncio -p no:asyncio"
    edits = Edits(text)
    edits.rename_modules(0, len(text))
    edits.rename_p_options(0, len(text))
    assert edits.result() == text


def test_python_names_strings_and_comments_are_renamed() -> None:
    source = 'import pytest_asyncio  # pytest_asyncio\nARGS = ["-p", "asyncio"]\n'
    assert _python(source).result() == (
        'import pytest_aioloop  # pytest_aioloop\nARGS = ["-p", "aioloop"]\n'
    )


def test_requirement_strings_are_dependencies_only_where_the_file_declares_them() -> None:
    source = 'session.install("pytest-asyncio>=0.23")\n'
    assert _python(source).result() == source
    edits = _python(source, replacement="pytest-aioloop")
    assert edits.result() == 'session.install("pytest-aioloop")\n'
    assert "version specifier >=0.23 dropped" in edits.changes[0].detail


def test_a_requirement_keeps_its_marker_and_drops_its_version_and_extras() -> None:
    text = "pytest_asyncio[testing]==0.21 ; python_version < '3.12'  # tests"
    edits = Edits(text)
    assert rewrite_requirement(edits, 0, len(text), REST_OF_LINE, lambda: "pytest-aioloop")
    assert edits.result() == "pytest-aioloop ; python_version < '3.12'  # tests"


@pytest.mark.parametrize("name", ["pytest-asyncio", "Pytest_Asyncio", "pytest.asyncio"])
def test_every_spelling_pip_treats_as_the_same_name(name: str) -> None:
    assert is_pytest_asyncio(name)


def test_source_that_does_not_tokenize_is_unreadable() -> None:
    with pytest.raises(Unreadable, match="line 1"):
        tokenize_source('x = """unterminated\n')


def test_the_kit_is_chosen_when_a_port_fixture_is_used_and_not_defined(tmp_path: Path) -> None:
    (tmp_path / "test_a.py").write_text("def test_a(unused_tcp_port):\n    pass\n")
    uses = PortFixtureUses()
    choice = DistributionChoice([tmp_path], uses)
    assert choice.replacement() == "pytest-aiokit"
    assert "test_a.py:1 uses unused_tcp_port" in choice.kit_reason()


def test_a_port_fixture_the_project_defines_keeps_pytest_aioloop(tmp_path: Path) -> None:
    (tmp_path / "conftest.py").write_text("def unused_tcp_port():\n    return 1\n")
    (tmp_path / "test_a.py").write_text("def test_a(unused_tcp_port):\n    pass\n")
    choice = DistributionChoice([tmp_path], PortFixtureUses())
    assert choice.replacement() == "pytest-aioloop"
    assert not choice.kit_chosen
