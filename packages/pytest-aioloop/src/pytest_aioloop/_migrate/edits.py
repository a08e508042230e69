"""Edit one file's text for ``migrate``: replacements, the changes they make, and notes.

Every rule (Python, dependencies, configuration) records its replacements on an :class:`Edits`
of the file's text, which applies them all at once. The module name and ``-p`` option rules that
several kinds of file share are here too (what they rename is in :mod:`.names`).
"""

from __future__ import annotations

import bisect
import dataclasses
import io

from pytest_aioloop._migrate.names import (
    MENTION,
    MODULE,
    NEW_MODULE,
    NO_ASYNCIO,
    NO_ASYNCIO_NOTE,
    OLD_MODULE,
    P_NAMES,
    P_OPTION,
)


@dataclasses.dataclass(frozen=True)
class Change:
    """One change in a file: ``kind`` is ``module``, ``dependency`` or ``option``."""

    line: int
    kind: str
    detail: str = ""


class Edits:
    """Non-overlapping replacements in a text, with the changes and notes they come with."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.lines = io.StringIO(text, newline="").readlines()
        self._starts = [0]
        for line in self.lines:
            self._starts.append(self._starts[-1] + len(line))
        self._edits: list[tuple[int, int, str]] = []
        self.changes: list[Change] = []
        self.notes: dict[int, str] = {}

    def offset(self, position: tuple[int, int]) -> int:
        """Return the offset of a tokenizer position (1-based row, 0-based column)."""
        row, column = position
        return self._starts[row - 1] + column

    def line_of(self, offset: int) -> int:
        return bisect.bisect_right(self._starts, offset)

    def replace(self, start: int, end: int, new: str, kind: str | None, detail: str = "") -> None:
        """Replace ``text[start:end]``; a change of ``kind`` unless that is ``None``."""
        self._edits.append((start, end, new))
        if kind is not None:
            self.changes.append(Change(self.line_of(start), kind, detail))

    def rename_modules(self, start: int, end: int) -> None:
        """Rename every whole-word ``pytest_asyncio`` in ``text[start:end]``."""
        for match in MODULE.finditer(self.text, start, end):
            self.replace(match.start(), match.end(), NEW_MODULE, "module")

    def rename_p_options(self, start: int, end: int, *, modules_done: bool = False) -> None:
        """Rename ``-p asyncio`` and ``-p pytest_asyncio`` in ``text[start:end]``.

        With ``modules_done``, only ``-p asyncio``: :meth:`rename_modules` did the rest.
        """
        for match in P_OPTION.finditer(self.text, start, end):
            old = match.group(2)
            if modules_done and old == OLD_MODULE:
                continue
            self.replace(
                match.start(2),
                match.end(2),
                P_NAMES[old],
                "option",
                f"-p {old} -> -p {P_NAMES[old]}",
            )

    def note(self, line: int, message: str) -> None:
        self.notes.setdefault(line, message)

    def note_no_asyncio(self, start: int, end: int) -> None:
        for match in NO_ASYNCIO.finditer(self.text, start, end):
            self.note(self.line_of(match.start()), NO_ASYNCIO_NOTE)

    def note_mentions(self) -> None:
        """Note each line that still names pytest-asyncio after the rewrite."""
        new = io.StringIO(self.result(), newline="").readlines()
        for number, line in enumerate(new, start=1):
            if MENTION.search(line):
                self.note(
                    number,
                    "still mentions pytest-asyncio; not a dependency or a -p option, so left as is",
                )

    def result(self) -> str:
        parts: list[str] = []
        position = 0
        for start, end, new in sorted(self._edits):
            parts += [self.text[position:start], new]
            position = end
        parts.append(self.text[position:])
        return "".join(parts)
