"""Rename pytest-asyncio in Python source for ``migrate``, token by token.

The source is read with :mod:`tokenize`, so that names, strings and comments are told apart
without importing or parsing it: the module name ``pytest_asyncio`` is renamed in all three,
``-p asyncio`` in strings, and in ``noxfile.py`` and ``setup.py`` a string that is a whole
requirement on pytest-asyncio is rewritten as a dependency.
"""

from __future__ import annotations

import io
import re
import tokenize
from typing import TYPE_CHECKING

from pytest_aioloop._migrate_deps import REST_OF_VALUE, rewrite_requirement
from pytest_aioloop._migrate_edits import NEW_MODULE, OLD_MODULE
from pytest_aioloop._migrate_files import Unreadable

if TYPE_CHECKING:
    from pytest_aioloop._migrate_edits import Edits
    from pytest_aioloop._migrate_replacement import Dependencies


def _token_types(*names: str) -> frozenset[int]:
    """Return the token types of these names that this Python's tokenizer has."""
    return frozenset(getattr(tokenize, name) for name in names if hasattr(tokenize, name))


# Python 3.12+ splits f-strings (3.14+ also t-strings) into several tokens.
_FSTRING_STARTS = _token_types("FSTRING_START", "TSTRING_START")
_FSTRING_ENDS = _token_types("FSTRING_END", "TSTRING_END")
STRING_TOKENS = _token_types("STRING", "FSTRING_MIDDLE", "TSTRING_MIDDLE")
_STRING_PREFIX = re.compile(r"[A-Za-z]*('''|\"\"\"|'|\")")
#: Python files that declare dependencies in strings.
PYTHON_DEPENDENCY_FILES = frozenset({"noxfile.py", "setup.py"})


def _string_body(token: str) -> tuple[int, int]:
    """Return the span of a string literal's body (between its quotes) within the token."""
    match = _STRING_PREFIX.match(token)
    assert match is not None  # a STRING token always starts so
    quote = len(match.group(1))
    return match.end(), len(token) - quote


def rewrite_python(edits: Edits, dependencies: Dependencies | None) -> None:
    """Rewrite Python source; with ``dependencies``, also its requirement strings."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(edits.text, newline="").readline))
    except tokenize.TokenError as error:  # args: the message and the (row, column) it is at
        raise Unreadable(f"line {error.args[1][0]}: {error.args[0]}") from None
    except SyntaxError as error:  # IndentationError, from some Python versions' tokenizers
        raise Unreadable(f"line {error.lineno}: {error.msg}") from None
    depth = 0
    fstring_start = 0
    # The two previous significant tokens (a string's body for a string), to find "-p",
    # "asyncio" in argument lists.
    previous: tuple[str, str] = ("", "")
    for token in tokens:
        start, end = edits.offset(token.start), edits.offset(token.end)
        if token.type in _FSTRING_STARTS:  # Python 3.12+: an f-string is many tokens
            depth += 1
            fstring_start = start if depth == 1 else fstring_start
            continue
        if token.type in _FSTRING_ENDS:
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
            elif dependencies is None or not rewrite_requirement(
                edits,
                start + first,
                start + last,
                REST_OF_VALUE,
                dependencies.replacement,
                bare_module=False,
            ):
                edits.rename_modules(start, end)
                edits.rename_p_options(start, end, modules_done=True)
            previous = (previous[1], body)
            continue
        if token.type not in (tokenize.NL, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT):
            previous = (previous[1], token.string)
