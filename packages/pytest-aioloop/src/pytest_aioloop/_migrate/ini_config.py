"""Rewrite INI configuration for ``migrate``: ``setup.cfg``, ``tox.ini``, ``pytest.ini``.

Each file says, by its sections and keys, which values are dependencies (rewritten by
:func:`~pytest_aioloop._migrate.requirements.rewrite_requirement`), which are pytest options
(``-p`` renamed) and which name required plugins; the rest is left alone.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from pytest_aioloop._migrate.requirements import (
    REST_OF_LINE,
    Replacement,
    rewrite_required_plugins,
    rewrite_requirement,
)

if TYPE_CHECKING:
    from pytest_aioloop._migrate.edits import Edits

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


def rewrite_ini(edits: Edits, replacement: Replacement) -> None:
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
            rewrite_requirement(edits, value, end, REST_OF_LINE, replacement)
        elif role == "plugins":
            rewrite_required_plugins(edits, value, end, whole=False)
        elif role == "options":
            edits.rename_p_options(value, end)
            edits.note_no_asyncio(value, end)
    edits.note_mentions()
