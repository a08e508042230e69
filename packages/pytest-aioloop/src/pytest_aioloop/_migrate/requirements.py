"""Rewrite requirements on pytest-asyncio for ``migrate``, and requirements files.

:func:`rewrite_requirement` is the one rule for a PEP 508 requirement wherever it is written (a
requirements line, a TOML or INI value, a string in ``noxfile.py``): the name becomes the
replacement distribution, the environment marker stays, the version specifier and extras go.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from pytest_aioloop._migrate.names import NEW_DISTRIBUTION, OLD_MODULE, is_pytest_asyncio

if TYPE_CHECKING:
    from pytest_aioloop._migrate.edits import Edits

#: Returns the distribution that replaces pytest-asyncio (asked only when one is found).
Replacement = Callable[[], str]

# PEP 508, as far as a line-based rewrite needs it: the name, extras, a version specifier.
_CLAUSE = r"(?:===|~=|==|!=|<=|>=|<|>)\s*[A-Za-z0-9_.*+!-]+"
_REQUIREMENT = re.compile(
    r"(?P<name>[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)"
    r"(?P<extras>\s*\[[^\]\n]*\])?"
    rf"(?P<spec>\s*(?:\(\s*{_CLAUSE}(?:\s*,\s*{_CLAUSE})*\s*\)|{_CLAUSE}(?:\s*,\s*{_CLAUSE})*))?"
)
# What may follow a requirement: in a whole string value, a marker; on a line, also a comment,
# a line continuation or per-requirement options.
REST_OF_VALUE = re.compile(r"\s*(?:;.*)?\Z", re.DOTALL)
REST_OF_LINE = re.compile(r"\s*(?:[;#].*|\\)?\Z|\s+-.*\Z")


def rewrite_requirement(
    edits: Edits,
    start: int,
    end: int,
    rest: re.Pattern[str],
    replacement: Replacement,
    *,
    bare_module: bool = True,
) -> bool:
    """Rewrite a requirement on pytest-asyncio at ``text[start:end]``; return whether it was one.

    With ``bare_module=False`` a bare ``pytest_asyncio`` is not a requirement (in Python files it
    is the module name, renamed by the module rule; pip reads the result as pytest-aioloop).
    """
    match = _REQUIREMENT.match(edits.text, start, end)
    if match is None or not is_pytest_asyncio(match["name"]):
        return False
    after = edits.text[match.end() : end]
    if not rest.match(after):
        return False
    if not bare_module and match.group() == OLD_MODULE and not after.strip():
        return False
    extras, spec = match["extras"], match["spec"]
    new = replacement()
    reasons = []
    if spec:
        reasons.append(f"version specifier {spec.strip()} dropped: {new} has its own versions")
    if extras:
        reasons.append(f"extras {extras.strip()} dropped: {new} has none")
    detail = f"{match.group().strip()} -> {new}" + (f" ({'; '.join(reasons)})" if reasons else "")
    edits.replace(match.start(), match.end(), new, "dependency", detail)
    return True


def rewrite_requirements(edits: Edits, replacement: Replacement) -> None:
    """Rewrite a requirements file (``requirements*.txt``, ``*.in``)."""
    # Logical lines: a line ending with a backslash continues on the next (hashes often do).
    logical: list[list[tuple[int, str]]] = []
    offset = 0
    continued = False
    for line in edits.lines:
        body = line.rstrip("\r\n")
        if continued:
            logical[-1].append((offset, body))
        else:
            logical.append([(offset, body)])
        continued = body.endswith("\\")
        offset += len(line)
    for lines in logical:
        start, body = lines[0]
        stripped = body.lstrip()
        if not stripped or stripped.startswith(("#", "-")):  # comments, -r, -e, options
            continue
        value = start + len(body) - len(stripped)
        match = _REQUIREMENT.match(stripped)
        if any("--hash" in text for _, text in lines):
            if match is not None and is_pytest_asyncio(match["name"]):
                edits.note(
                    edits.line_of(start),
                    "a hashed (locked) requirement, left as is: regenerate this file with the "
                    "tool that locked it, from its rewritten source",
                )
            continue
        rewrite_requirement(edits, value, start + len(body), REST_OF_LINE, replacement)
    edits.note_mentions()


def rewrite_required_plugins(edits: Edits, start: int, end: int, *, whole: bool) -> None:
    """``required_plugins`` names the plugin's distribution: pytest-aioloop, even in a kit.

    ``whole``: the text is one requirement (an array item), else words separated by spaces.
    """

    def plugin() -> str:
        return NEW_DISTRIBUTION

    if whole:
        rewrite_requirement(edits, start, end, REST_OF_VALUE, plugin)
        return
    for word in re.finditer(r"\S+", edits.text[start:end]):
        rewrite_requirement(edits, start + word.start(), start + word.end(), REST_OF_VALUE, plugin)
