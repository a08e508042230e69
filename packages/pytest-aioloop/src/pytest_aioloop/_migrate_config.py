"""Rewrite configuration files for ``migrate``: TOML and INI files.

TOML files are ``pyproject.toml``, ``tox.toml`` and ``pytest.toml``; INI files ``setup.cfg``,
``tox.ini`` and ``pytest.ini``. Each file says, by its tables or sections and keys, which values
are dependencies (rewritten by :func:`~pytest_aioloop._migrate_deps.rewrite_requirement`), which
are pytest options (``-p`` renamed) and which name required plugins; the rest is left alone.
Poetry's dependency tables, keyed by distribution name, are rewritten here too.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from pytest_aioloop._migrate_deps import (
    REST_OF_LINE,
    REST_OF_VALUE,
    is_pytest_asyncio,
    rewrite_requirement,
)
from pytest_aioloop._migrate_edits import MODULE, NO_ASYNCIO_NOTE
from pytest_aioloop._migrate_replacement import NEW_DISTRIBUTION
from pytest_aioloop._migrate_toml import TomlReader

if TYPE_CHECKING:
    from collections.abc import Iterable

    from pytest_aioloop._migrate_edits import Edits
    from pytest_aioloop._migrate_replacement import Dependencies
    from pytest_aioloop._migrate_toml import TomlKey, TomlString

# -- TOML ---------------------------------------------------------------------------------------

_DEPENDENCY_ARRAYS = (
    ("project", "dependencies"),
    ("project", "optional-dependencies", "*"),
    ("dependency-groups", "*"),
    ("tool", "pdm", "dev-dependencies", "*"),
    ("tool", "uv", "dev-dependencies"),
    ("tool", "uv", "constraint-dependencies"),
    ("tool", "uv", "override-dependencies"),
    ("tool", "hatch", "envs", "*", "dependencies"),
    ("tool", "hatch", "envs", "*", "extra-dependencies"),
    ("tool", "poetry", "extras", "*"),
    ("tool", "tox", "env_run_base", "deps"),
    ("tool", "tox", "env", "*", "deps"),
    ("env_run_base", "deps"),  # tox.toml
    ("env", "*", "deps"),
)
_POETRY_TABLES = (
    ("tool", "poetry", "dependencies"),
    ("tool", "poetry", "dev-dependencies"),
    ("tool", "poetry", "group", "*", "dependencies"),
)
_PYTEST_TABLES = (("tool", "pytest", "ini_options"), ("tool", "pytest"), ("pytest",))
_TOX_COMMANDS = (
    ("tool", "tox", "env_run_base", "commands"),
    ("tool", "tox", "env", "*", "commands"),
    ("env_run_base", "commands"),
    ("env", "*", "commands"),
)


_SOURCE_NOTE = (
    "pytest-asyncio from a git, path or url source, left as is: replace it with pytest-aioloop "
    "by hand"
)
_REQUIRED_PLUGINS = [(*table, "required_plugins") for table in _PYTEST_TABLES]
_OPTIONS = [*[(*table, "addopts") for table in _PYTEST_TABLES], *_TOX_COMMANDS]


def _matches(path: tuple[str, ...], patterns: Iterable[tuple[str, ...]]) -> bool:
    return any(
        len(pattern) == len(path) and all(p in ("*", k) for p, k in zip(pattern, path, strict=True))
        for pattern in patterns
    )


def rewrite_toml(edits: Edits, dependencies: Dependencies) -> None:
    """Rewrite a TOML file; raise :class:`~pytest_aioloop._migrate_files.Unreadable` if invalid."""
    reader = TomlReader(edits.text)
    reader.read()
    text = edits.text
    # Poetry: ``name = "^1.0"`` or ``name = {version = "^1.0", ...}``, keyed by the name's path.
    versions: dict[tuple[str, ...], list[TomlString]] = {}
    for string in reader.strings:
        if string.path[-1] == "version" and _poetry_dependency(string.path[:-1]):
            versions.setdefault(string.path[:-1], []).append(string)
        elif _poetry_dependency(string.path) and not string.in_array:
            versions.setdefault(string.path, []).append(string)
    # A git, path or url source is pytest-asyncio's code itself: only a person can replace it.
    sources = {
        string.path[:-1]
        for string in reader.strings
        if string.path[-1] in ("git", "path", "url") and _poetry_dependency(string.path[:-1])
    }
    reported: set[tuple[str, ...]] = set()
    for key in reader.keys:
        if key.path in sources and is_pytest_asyncio(key.path[-1]):
            edits.note(edits.line_of(key.start), _SOURCE_NOTE)
        elif _poetry_dependency(key.path) and is_pytest_asyncio(key.path[-1]):
            # The name may be written more than once (dotted keys): one change for all.
            first = key.path not in reported
            reported.add(key.path)
            _rewrite_poetry_key(
                edits, key, versions.get(key.path, []) if first else None, dependencies
            )
    previous: dict[tuple[str, ...], str] = {}
    for string in reader.strings:
        path, body = string.path, text[string.start : string.end]
        after_p = previous.get(path) == "-p"
        previous[path] = body
        if _matches(path, _DEPENDENCY_ARRAYS) and string.in_array:
            rewrite_requirement(
                edits, string.start, string.end, REST_OF_VALUE, dependencies.replacement
            )
        elif _matches(path, _REQUIRED_PLUGINS):
            _rewrite_required_plugins(edits, string.start, string.end, whole=string.in_array)
        elif _matches(path, _OPTIONS):
            if after_p and body == "asyncio":
                edits.replace(
                    string.start, string.end, "aioloop", "option", "-p asyncio -> -p aioloop"
                )
            elif after_p and MODULE.match(body):
                edits.rename_modules(string.start, string.end)
            else:
                edits.rename_p_options(string.start, string.end)
            if after_p and body == "no:asyncio":
                edits.note(edits.line_of(string.start), NO_ASYNCIO_NOTE)
            edits.note_no_asyncio(string.start, string.end)
    edits.note_mentions()


def _poetry_dependency(path: tuple[str, ...]) -> bool:
    return len(path) > 1 and _matches(path[:-1], _POETRY_TABLES)


def _rewrite_poetry_key(
    edits: Edits,
    key: TomlKey,
    versions: list[TomlString] | None,
    dependencies: Dependencies,
) -> None:
    new = dependencies.replacement()
    if versions is None:  # the same name written again: its change is already reported
        edits.replace(key.start, key.end, new, None)
        return
    reasons = []
    for version in versions:
        old = edits.text[version.start : version.end]
        if old != "*":
            edits.replace(version.start, version.end, "*", None)  # reported with the name
            reasons.append(f'version "{old}" -> "*": {new} has its own versions')
    detail = f"{key.path[-1]} -> {new}" + (f" ({'; '.join(reasons)})" if reasons else "")
    edits.replace(key.start, key.end, new, "dependency", detail)


def _rewrite_required_plugins(edits: Edits, start: int, end: int, *, whole: bool) -> None:
    """``required_plugins`` names the plugin's distribution: pytest-aioloop, even in a kit."""

    def replacement() -> str:
        return NEW_DISTRIBUTION

    if whole:
        rewrite_requirement(edits, start, end, REST_OF_VALUE, replacement)
        return
    for word in re.finditer(r"\S+", edits.text[start:end]):
        rewrite_requirement(
            edits, start + word.start(), start + word.end(), REST_OF_VALUE, replacement
        )


# -- INI files (setup.cfg, tox.ini, pytest.ini) -------------------------------------------------

_SECTION = re.compile(r"\[(?P<name>[^\]]+)\]")
_INI_KEY = re.compile(r"(?P<key>[^=:\s][^=:]*?)\s*[=:]\s*")
_TOX_FACTORS = re.compile(r"[\w{},.!-]+:(?!/)\s*")


def _ini_role(section: str, key: str) -> str | None:
    """Return what the values of ``key`` in ``section`` are: deps, plugins or options."""
    if section == "options" and key in ("install_requires", "tests_require", "setup_requires"):
        return "deps"
    if section == "options.extras_require":
        return "deps"
    if section in ("pytest", "tool:pytest"):
        return {"addopts": "options", "required_plugins": "plugins"}.get(key)
    if key == "deps":  # tox: [testenv], [testenv:name], and sections they refer to
        return "deps"
    if key == "commands" and section.startswith("testenv"):
        return "options"
    return None


def rewrite_ini(edits: Edits, dependencies: Dependencies) -> None:
    """Rewrite an INI file, a line at a time."""
    section = ""
    role: str | None = None
    offset = 0
    for line in edits.lines:
        start, offset = offset, offset + len(line)
        body = line.rstrip("\r\n")
        end = start + len(body)
        stripped = body.lstrip()
        if not stripped or stripped[0] in "#;":
            continue
        if body[0] not in " \t":  # a section header or a new key
            header = _SECTION.match(body)
            if header is not None:
                section, role = header["name"].strip(), None
                continue
            key = _INI_KEY.match(body)
            if key is None:
                role = None
                continue
            role = _ini_role(section, key["key"].strip().lower())
            value = start + key.end()
        else:
            value = start + len(body) - len(stripped)
        if role == "deps":
            factors = _TOX_FACTORS.match(edits.text, value, end)  # tox: "py311: name"
            if factors is not None:
                value = factors.end()
            rewrite_requirement(edits, value, end, REST_OF_LINE, dependencies.replacement)
        elif role == "plugins":
            _rewrite_required_plugins(edits, value, end, whole=False)
        elif role == "options":
            edits.rename_p_options(value, end)
            edits.note_no_asyncio(value, end)
    edits.note_mentions()
