"""Every snippet of the front page, the tutorial and the reference runs as the page shows it."""

from __future__ import annotations

import gc
import re
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
TUTORIAL = DOCS / "tutorial"
EXAMPLES = TUTORIAL / "examples"
#: The pages whose Python snippets must all be included files.
INCLUDING_PAGES = (DOCS / "index.md", TUTORIAL / "index.md")
#: What each tutorial file does when run on its own.
OUTCOMES = {"test_first.py": 1, "test_echo.py": 1, "test_echo_sync.py": 1}

_FENCE = re.compile(r"^(`{3,})\{?(\w[\w-]*)\}?[ \t]*([^\n]*)\n(.*?)^\1[ \t]*$", re.M | re.S)


def fences(page: Path) -> list[tuple[str, str, str]]:
    """Return (language or directive, argument, body) of each fenced block of a MyST page."""
    return [(m.group(2), m.group(3).strip(), m.group(4)) for m in _FENCE.finditer(page.read_text())]


def included_files(page: Path) -> list[Path]:
    """Return the files a page includes with ``literalinclude``."""
    return [
        (page.parent / argument).resolve()
        for kind, argument, _ in fences(page)
        if kind == "literalinclude"
    ]


def _project_name(pyproject: Path) -> str:
    found = re.search(r'^name = "([^"]+)"', pyproject.read_text(), re.M)
    assert found, pyproject
    return found.group(1)


def copy_examples(pytester: pytest.Pytester, *names: str) -> None:
    for name in names:
        shutil.copy(EXAMPLES / name, pytester.path / name)


def test_every_tutorial_file_has_an_expected_outcome() -> None:
    assert sorted(p.name for p in EXAMPLES.glob("*.py")) == sorted(OUTCOMES)


@pytest.mark.parametrize("name", sorted(OUTCOMES))
def test_tutorial_file_runs_alone(pytester: pytest.Pytester, name: str) -> None:
    copy_examples(pytester, name)
    gc.collect()  # earlier tests' garbage is not this in-process run's
    result = pytester.runpytest("-p", "no:cacheprovider", "-W", "error")
    result.assert_outcomes(passed=OUTCOMES[name])


def test_tutorial_files_run_together(pytester: pytest.Pytester) -> None:
    # "Run all three files with python -m pytest: three tests pass."
    copy_examples(pytester, *OUTCOMES)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=sum(OUTCOMES.values()))


def test_header_names_both_plugins(pytester: pytest.Pytester) -> None:
    # The tutorial's check of the installation: an empty directory, plain `python -m pytest`.
    result = pytester.runpytest("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED
    result.stdout.fnmatch_lines(["aiokit *: pytest-aioloop * (active), pytest-ports * (active)"])


def test_header_line_is_not_printed_with_q(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("-p", "no:cacheprovider", "-q")
    result.stdout.no_fnmatch_line("aiokit *")


@pytest.mark.parametrize("page", INCLUDING_PAGES, ids=lambda p: p.relative_to(DOCS).as_posix())
def test_python_snippets_are_included_files(page: Path) -> None:
    inline = [kind for kind, _, _ in fences(page) if kind in ("python", "py", "code-block")]
    assert not inline, f"{page.name}: show Python as a file with literalinclude, not inline"
    for path in included_files(page):
        assert path.is_file(), f"{page.name} includes {path}, which does not exist"


def test_every_tutorial_file_is_shown() -> None:
    shown = {path for page in INCLUDING_PAGES for path in included_files(page)}
    assert {p.resolve() for p in EXAMPLES.glob("*.py")} <= shown


@pytest.mark.parametrize("page", INCLUDING_PAGES, ids=lambda p: p.relative_to(DOCS).as_posix())
def test_install_command_names_real_packages(page: Path) -> None:
    commands = [
        line.removeprefix("$ ")
        for kind, _, body in fences(page)
        if kind == "console"
        for line in body.replace("\\\n", " ").splitlines()  # join continued lines
        if "pip install ./packages/" in line
    ]
    assert commands, f"{page.name} has no install command from a clone"
    for command in commands:
        paths = re.findall(r"\./packages/[\w-]+", command)
        names = {_project_name(ROOT / path / "pyproject.toml") for path in paths}
        assert names == {"pytest-aioloop", "pytest-ports", "pytest-aiokit"}, command


def test_performance_page_snippet_runs(pytester: pytest.Pytester) -> None:
    page = DOCS / "concepts" / "performance.md"
    snippets = [body for kind, _, body in fences(page) if kind == "python"]
    assert snippets
    for i, body in enumerate(snippets):
        pytester.makepyfile(**{f"test_snippet_{i}": body})
    gc.collect()  # earlier tests' garbage is not this in-process run's
    result = pytester.runpytest("-p", "no:cacheprovider", "-W", "error")
    result.assert_outcomes(passed=len(snippets))


def _asyncio_header(result: pytest.RunResult) -> str:
    lines = [line for line in result.outlines if line.startswith("asyncio: pytest-aioloop")]
    assert len(lines) == 1, result.outlines
    return lines[0]


def test_reference_ini_example_equals_its_command_line(pytester: pytest.Pytester) -> None:
    # "[the ini file] does the same as python -m pytest --asyncio-mode=auto --asyncio-timeout=30"
    pytester.makepyfile(
        """
        import asyncio

        async def test_unmarked():
            await asyncio.sleep(0)
        """
    )
    from_cli = pytester.runpytest(
        "-p", "no:cacheprovider", "--asyncio-mode=auto", "--asyncio-timeout=30"
    )
    from_cli.assert_outcomes(passed=1)
    shutil.copy(DOCS / "reference" / "examples" / "pytest.ini", pytester.path / "pytest.ini")
    from_ini = pytester.runpytest("-p", "no:cacheprovider", "--strict-config")
    from_ini.assert_outcomes(passed=1)
    assert _asyncio_header(from_ini) == _asyncio_header(from_cli)
    assert "mode=auto" in _asyncio_header(from_ini)
