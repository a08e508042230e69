"""``pytest --help`` reads the same for every option of both plugins."""

from __future__ import annotations

import re

import pytest

OPTION = re.compile(r"^  (--(?:asyncio|ports)-[a-z-]+)(=\S+)?\s*(.*)$")
INI = re.compile(r"^  ((?:asyncio|ports)_[a-z_]+) \((\w+)\):\s*(.*)$")


def _entries(lines: list[str], pattern: re.Pattern[str]) -> dict[str, str]:
    """Map each option (or ini name) to its whole help text, joined from wrapped lines."""
    found: dict[str, str] = {}
    current: str | None = None
    for line in lines:
        match = pattern.match(line)
        if match:
            current = match.group(1)
            found[current] = match.group(match.lastindex or 1).strip()
            continue
        if current is not None and line.startswith(" " * 10) and line.strip():
            found[current] = f"{found[current]} {line.strip()}".strip()
        else:
            current = None
    return found


@pytest.fixture(scope="module")
def help_lines(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "--help", "-p", "no:cacheprovider"],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path_factory.mktemp("help"),
        env={"COLUMNS": "100", "PATH": ""},
    )
    return proc.stdout.splitlines()


def test_every_option_has_an_ini_twin_and_one_shape(help_lines: list[str]) -> None:
    flags = _entries(help_lines, OPTION)
    inis = _entries(help_lines, INI)
    assert len(flags) >= 15  # pytest-aioloop and pytest-ports
    assert {f[2:].replace("-", "_") for f in flags} == set(inis)
    for flag, text in flags.items():
        name = flag[2:].replace("-", "_")
        assert text[:1].isupper(), (flag, text)
        assert re.search(rf"\. Ini: {name}\.( Environment: PYTEST_[A-Z_]+\.)?$", text), (flag, text)
    for name, text in inis.items():
        flag = "--" + name.replace("_", "-")
        assert text[:1].isupper(), (name, text)
        assert re.search(rf"\. Command line: {flag}\.( Environment: PYTEST_[A-Z_]+\.)?$", text), (
            name,
            text,
        )


def test_environment_twins_are_named_alike(help_lines: list[str]) -> None:
    flags = _entries(help_lines, OPTION)
    inis = _entries(help_lines, INI)
    for flag, text in flags.items():
        env = re.search(r"Environment: (PYTEST_[A-Z_]+)\.", text)
        name = flag[2:].replace("-", "_")
        if env is not None:
            assert env.group(1) == "PYTEST_" + name.upper()
            assert f"Environment: {env.group(1)}." in inis[name]


def test_metavars_are_not_defaults(help_lines: list[str]) -> None:
    for line in help_lines:
        match = OPTION.match(line)
        if match and match.group(2):
            assert match.group(2) not in ("=AUTO", "=BOTH", "=TRUE", "=FALSE"), line
