"""Rename pytest-asyncio in Python source for ``migrate``, token by token.

The source is read with :mod:`tokenize`, so that names, strings and comments are told apart
without importing or parsing it: the module name ``pytest_asyncio`` is renamed in all three,
``-p asyncio`` in strings, and in ``noxfile.py`` and ``setup.py`` a string that is a whole
requirement on pytest-asyncio is rewritten as a dependency.
"""

from __future__ import annotations

import re
import tokenize
from collections.abc import Sequence
from typing import TYPE_CHECKING

from pytest_aioloop._migrate.files import Unreadable
from pytest_aioloop._migrate.names import NEW_MODULE, OLD_MODULE
from pytest_aioloop._migrate.requirements import REST_OF_VALUE, Replacement, rewrite_requirement
from pytest_aioloop._migrate.tokens import FSTRING_ENDS, FSTRING_STARTS

if TYPE_CHECKING:
    from pytest_aioloop._migrate.edits import Edits

_STRING_PREFIX = re.compile(r"[A-Za-z]*('''|\"\"\"|'|\")")
#: Python files that declare dependencies in strings.
PYTHON_DEPENDENCY_FILES = frozenset({"noxfile.py", "setup.py"})


def _string_body(token: str) -> tuple[int, int]:
    """Return the span of a string literal's body (between its quotes) within the token."""
    match = _STRING_PREFIX.match(token)
    assert match is not None  # a STRING token always starts so
    quote = len(match.group(1))
    return match.end(), len(token) - quote


def rewrite_python(
    edits: Edits, tokens: Sequence[tokenize.TokenInfo], replacement: Replacement | None
) -> None:
    """Rewrite Python source from its ``tokens``; with ``replacement``, its requirement strings.

    ``replacement`` gives the distribution that replaces pytest-asyncio (in ``noxfile.py`` and
    ``setup.py``, where strings are requirements).
    """
    depth = 0
    fstring_start = 0
    # The two previous significant tokens (a string's body for a string), to find "-p",
    # "asyncio" in argument lists.
    previous: tuple[str, str] = ("", "")
    for token in tokens:
        start, end = edits.offset(token.start), edits.offset(token.end)
        if token.type in FSTRING_STARTS:  # Python 3.12+: an f-string is many tokens
            depth += 1
            fstring_start = start if depth == 1 else fstring_start
            continue
        if token.type in FSTRING_ENDS:
            depth -= 1
            if depth == 0:  # the same rules as for a string, on the whole f-string
                edits.rename_modules(fstring_start, end)
                edits.rename_p_options(fstring_start, end, modules_done=True)
                previous = (previous[1], "")
            continue
        if depth:
            continue
        if token.type == tokenize.ERRORTOKEN and not token.string.isspace():
            raise Unreadable(f"line {token.start[0]}: cannot tokenize {token.string!r}")
        if token.type == tokenize.NAME and token.string == OLD_MODULE:
            edits.replace(start, end, NEW_MODULE, "module")
        elif token.type == tokenize.COMMENT:
            edits.rename_modules(start, end)
        elif token.type == tokenize.STRING:
            first, last = _string_body(token.string)
            body = token.string[first:last]
            if previous == ("-p", ",") and body == "asyncio":
                edits.replace(
                    start + first, start + last, "aioloop", "option", "-p asyncio -> -p aioloop"
                )
            elif replacement is None or not rewrite_requirement(
                edits,
                start + first,
                start + last,
                REST_OF_VALUE,
                replacement,
                bare_module=False,
            ):
                edits.rename_modules(start, end)
                edits.rename_p_options(start, end, modules_done=True)
            previous = (previous[1], body)
            continue
        if token.type not in (tokenize.NL, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT):
            previous = (previous[1], token.string)
