"""Rewrite TOML configuration for ``migrate``: ``pyproject.toml``, ``tox.toml``, ``pytest.toml``.

Each file says, by its tables and keys, which values are dependencies (rewritten by
:func:`~pytest_aioloop._migrate.requirements.rewrite_requirement`), which are pytest options
(``-p`` renamed) and which name required plugins; the rest is left alone. Poetry's dependency
tables, keyed by distribution name, are rewritten here too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pytest_aioloop._migrate.names import MODULE, NO_ASYNCIO_NOTE, is_pytest_asyncio
from pytest_aioloop._migrate.requirements import (
    REST_OF_VALUE,
    Replacement,
    rewrite_required_plugins,
    rewrite_requirement,
)
from pytest_aioloop._migrate.toml_locator import TomlReader

if TYPE_CHECKING:
    from collections.abc import Iterable

    from pytest_aioloop._migrate.edits import Edits
    from pytest_aioloop._migrate.toml_locator import TomlKey, TomlString

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


def rewrite_toml(edits: Edits, replacement: Replacement) -> None:
    """Rewrite a TOML file; raise :class:`~pytest_aioloop._migrate.files.Unreadable` if invalid."""
    reader = TomlReader(edits.text)
    reader.read()
    _rewrite_poetry(edits, reader, replacement)
    text = edits.text
    previous: dict[tuple[str, ...], str] = {}
    for string in reader.strings:
        path, body = string.path, text[string.start : string.end]
        after_p = previous.get(path) == "-p"
        previous[path] = body
        if _matches(path, _DEPENDENCY_ARRAYS) and string.in_array:
            rewrite_requirement(edits, string.start, string.end, REST_OF_VALUE, replacement)
        elif _matches(path, _REQUIRED_PLUGINS):
            rewrite_required_plugins(edits, string.start, string.end, whole=string.in_array)
        elif _matches(path, _OPTIONS):
            _rewrite_option(edits, string, body, after_p=after_p)
    edits.note_mentions()


def _rewrite_option(edits: Edits, string: TomlString, body: str, *, after_p: bool) -> None:
    """One string of ``addopts`` or tox ``commands``; ``after_p``: the one before is ``-p``."""
    if after_p and body == "asyncio":
        edits.replace(string.start, string.end, "aioloop", "option", "-p asyncio -> -p aioloop")
    elif after_p and MODULE.match(body):
        edits.rename_modules(string.start, string.end)
    else:
        edits.rename_p_options(string.start, string.end)
    if after_p and body == "no:asyncio":
        edits.note(edits.line_of(string.start), NO_ASYNCIO_NOTE)
    edits.note_no_asyncio(string.start, string.end)


def _rewrite_poetry(edits: Edits, reader: TomlReader, replacement: Replacement) -> None:
    """Poetry: ``name = "^1.0"`` or ``name = {version = "^1.0", ...}``, keyed by the name."""
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
                edits, key, versions.get(key.path, []) if first else None, replacement
            )


def _poetry_dependency(path: tuple[str, ...]) -> bool:
    return len(path) > 1 and _matches(path[:-1], _POETRY_TABLES)


def _rewrite_poetry_key(
    edits: Edits,
    key: TomlKey,
    versions: list[TomlString] | None,
    replacement: Replacement,
) -> None:
    new = replacement()
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
