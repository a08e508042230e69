"""Locate the keys and strings of a TOML document for ``migrate``, with their offsets.

``tomllib`` gives values, not where they are written; a rewrite that leaves the rest of the file
as it is needs each key's path and where its string values start and end. :class:`TomlReader`
finds only that: values are not decoded, and the document is validated no further than it takes
to find them.
"""

from __future__ import annotations

import dataclasses
import re

from pytest_aioloop._migrate.files import Unreadable


@dataclasses.dataclass(frozen=True)
class TomlString:
    """A string value: its key path and where its body is."""

    path: tuple[str, ...]  # the key path of the value; an array's items share the array's
    start: int  # the body: between the quotes, escapes not decoded
    end: int
    in_array: bool


@dataclasses.dataclass(frozen=True)
class TomlKey:
    """A key as written (one part of a dotted key, a table header): its path and where it is."""

    path: tuple[str, ...]  # up to and including this key
    start: int  # the key as written, quotes included
    end: int


class TomlReader:
    """Find the keys and strings of a TOML document, with their key paths and offsets.

    Only what a line-based rewrite needs: values are not decoded, and the document is not
    validated beyond finding where each key, string, array and table starts and ends.
    """

    _BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
    _SCALAR = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:[^\s,\]}#]*|[^\s,\]}#]+")

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.strings: list[TomlString] = []
        self.keys: list[TomlKey] = []

    def read(self) -> None:
        table: tuple[str, ...] = ()
        while True:
            self._skip(newlines=True)
            if self.pos >= len(self.text):
                return
            if self.text[self.pos] == "[":
                double = self.text.startswith("[[", self.pos)
                self.pos += 2 if double else 1
                table = self._key(())
                self._expect("]]" if double else "]")
            else:
                path = self._key(table)
                self._expect("=")
                self._value(path, in_array=False)
            self._skip(newlines=False)
            if self.pos < len(self.text) and self.text[self.pos] not in "\r\n":
                self._fail("expected the end of the line")

    def _fail(self, message: str) -> None:
        line = self.text.count("\n", 0, self.pos) + 1
        raise Unreadable(f"line {line}: not valid TOML ({message})")

    def _skip(self, *, newlines: bool) -> None:
        blanks = " \t\r\n" if newlines else " \t"
        text = self.text
        while self.pos < len(text):
            char = text[self.pos]
            if char in blanks:
                self.pos += 1
            elif char == "#":
                end = text.find("\n", self.pos)
                self.pos = len(text) if end < 0 else end
            else:
                return

    def _expect(self, token: str) -> None:
        self._skip(newlines=False)
        if not self.text.startswith(token, self.pos):
            self._fail(f"expected {token!r}")
        self.pos += len(token)

    def _key(self, prefix: tuple[str, ...]) -> tuple[str, ...]:
        path = prefix
        while True:
            self._skip(newlines=False)
            start = self.pos
            char = self.text[start : start + 1]
            if char in ('"', "'"):
                name = self.text[start + 1 : self._string_end(char, multiline=False) - 1]
            else:
                match = self._BARE_KEY.match(self.text, start)
                if match is None:
                    self._fail("expected a key")
                    raise AssertionError  # unreachable: _fail raises
                name = match.group()
                self.pos = match.end()
            path = (*path, name)
            self.keys.append(TomlKey(path, start, self.pos))
            self._skip(newlines=False)
            if not self.text.startswith(".", self.pos):
                return path
            self.pos += 1

    def _string_end(self, quote: str, *, multiline: bool) -> int:
        """Move past the string that starts at ``pos``; return the offset after its end."""
        text = self.text
        delimiter = quote * 3 if multiline else quote
        i = self.pos + len(delimiter)
        while i < len(text):
            char = text[i]
            if char == "\\" and quote == '"':
                i += 2
            elif text.startswith(delimiter, i):
                i += len(delimiter)
                # Up to two more quotes belong to the body: """a"""" is 'a"'.
                for _ in range(2 if multiline else 0):
                    if text.startswith(quote, i):
                        i += 1
                self.pos = i
                return i
            elif char == "\n" and not multiline:
                break
            else:
                i += 1
        self._fail("unterminated string")
        raise AssertionError  # unreachable: _fail raises

    def _value(self, path: tuple[str, ...], *, in_array: bool) -> None:
        self._skip(newlines=False)
        text, start = self.text, self.pos
        char = text[start : start + 1]
        if char in ('"', "'"):
            multiline = text.startswith(char * 3, start)
            end = self._string_end(char, multiline=multiline)
            quote = 3 if multiline else 1
            self.strings.append(TomlString(path, start + quote, end - quote, in_array))
        elif char == "[":
            self.pos += 1
            while True:
                self._skip(newlines=True)
                if text.startswith("]", self.pos):
                    break
                self._value(path, in_array=True)
                self._skip(newlines=True)
                if text.startswith(",", self.pos):
                    self.pos += 1
                elif not text.startswith("]", self.pos):
                    self._fail("expected ',' or ']' in an array")
            self.pos += 1
        elif char == "{":
            self.pos += 1
            while True:
                self._skip(newlines=True)  # newlines: TOML 1.1 allows them in inline tables
                if text.startswith("}", self.pos):
                    break
                key = self._key(path)
                self._expect("=")
                self._value(key, in_array=False)
                self._skip(newlines=True)
                if text.startswith(",", self.pos):
                    self.pos += 1
                elif not text.startswith("}", self.pos):
                    self._fail("expected ',' or '}' in an inline table")
            self.pos += 1
        else:
            match = self._SCALAR.match(text, start)
            if match is None:
                self._fail("expected a value")
                raise AssertionError  # unreachable: _fail raises
            self.pos = match.end()
