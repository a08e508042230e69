"""Python source as tokens, read with :mod:`tokenize`: names, strings and comments apart.

Nothing is imported or parsed: a file that does not tokenize is reported and skipped.
"""

from __future__ import annotations

import io
import tokenize

from pytest_aioloop._migrate.files import Unreadable


def _token_types(*names: str) -> frozenset[int]:
    """Return the token types of these names that this Python's tokenizer has."""
    return frozenset(getattr(tokenize, name) for name in names if hasattr(tokenize, name))


# Python 3.12+ splits f-strings (3.14+ also t-strings) into several tokens.
FSTRING_STARTS = _token_types("FSTRING_START", "TSTRING_START")
FSTRING_ENDS = _token_types("FSTRING_END", "TSTRING_END")
STRING_TOKENS = _token_types("STRING", "FSTRING_MIDDLE", "TSTRING_MIDDLE")


def tokenize_source(text: str) -> list[tokenize.TokenInfo]:
    """Return the tokens of Python source; raise :class:`Unreadable` where it cannot be read."""
    try:
        return list(tokenize.generate_tokens(io.StringIO(text, newline="").readline))
    except tokenize.TokenError as error:  # args: the message and the (row, column) it is at
        raise Unreadable(f"line {error.args[1][0]}: {error.args[0]}") from None
    except SyntaxError as error:  # IndentationError, from some Python versions' tokenizers
        raise Unreadable(f"line {error.lineno}: {error.msg}") from None
