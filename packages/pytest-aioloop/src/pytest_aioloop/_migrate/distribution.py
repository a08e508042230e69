"""Choose the distribution that replaces pytest-asyncio in a project's dependencies.

It is pytest-aioloop, unless the project's tests use one of pytest-asyncio's port fixtures
(``unused_tcp_port`` and the like) without defining it: pytest-aioloop alone has none, so the
choice is then pytest-aiokit, which is pytest-aioloop with pytest-ports.

Each Python file is tokenized once: the files ``migrate`` rewrites give their tokens to
:class:`PortFixtureUses` as they are rewritten, and only the other files below the project's
roots are read here.
"""

from __future__ import annotations

import re
import tokenize
from pathlib import Path
from typing import TYPE_CHECKING

from pytest_aioloop._migrate.files import Unreadable, read, walk
from pytest_aioloop._migrate.names import KIT_DISTRIBUTION, NEW_DISTRIBUTION, PORT_FIXTURES
from pytest_aioloop._migrate.tokens import STRING_TOKENS, tokenize_source

if TYPE_CHECKING:
    from collections.abc import Iterable

_PORT_FIXTURE = re.compile(rf"\b(?:{'|'.join(PORT_FIXTURES)})\b")


class PortFixtureUses:
    """Where each Python file uses and defines pytest-asyncio's port fixtures (by file)."""

    def __init__(self) -> None:
        #: Resolved path -> (uses as (line, name), names defined).
        self._files: dict[Path, tuple[list[tuple[int, str]], set[str]]] = {}

    def add(self, path: Path, tokens: Iterable[tokenize.TokenInfo]) -> None:
        """Record the uses and definitions in one file's tokens."""
        uses: list[tuple[int, str]] = []
        defined: set[str] = set()
        previous = ""
        for token in tokens:
            if token.type == tokenize.NAME and token.string in PORT_FIXTURES:
                if previous == "def":
                    defined.add(token.string)
                else:
                    uses.append((token.start[0], token.string))
            elif token.type in STRING_TOKENS:
                uses.extend(
                    (token.start[0], m.group()) for m in _PORT_FIXTURE.finditer(token.string)
                )
            if token.type not in (tokenize.NL, tokenize.COMMENT):
                previous = token.string
        self._files[path.resolve()] = (uses, defined)

    def of(self, path: Path) -> tuple[list[tuple[int, str]], set[str]]:
        """Return the uses and definitions of one file, reading it if it was not added."""
        found = self._files.get(path.resolve())
        if found is None:
            try:
                text, _ = read(path, "python")
                self.add(path, tokenize_source(text))
            except Unreadable:
                self._files[path.resolve()] = ([], set())  # reported where it is migrated
            found = self._files[path.resolve()]
        return found


class DistributionChoice:
    """Decide what replaces pytest-asyncio in dependency declarations, and say why.

    ``roots`` are the directories that make up the project: pytest-aiokit is chosen when a Python
    file below them uses one of pytest-asyncio's port fixtures without defining it.
    """

    def __init__(self, roots: Iterable[Path], uses: PortFixtureUses) -> None:
        self._roots = sorted(set(roots))
        self._uses = uses
        self._scanned = False
        self._use: str | None = None
        #: Whether a dependency became pytest-aiokit (the run then says why, once).
        self.kit_chosen = False

    def port_fixture_use(self) -> str | None:
        """Return where a port fixture is first used (``path:line uses name``), or ``None``."""
        if not self._scanned:
            self._scanned = True
            self._use = self._first_use()
        return self._use

    def replacement(self) -> str:
        """Return the distribution to depend on instead of pytest-asyncio."""
        if self.port_fixture_use() is None:
            return NEW_DISTRIBUTION
        self.kit_chosen = True
        return KIT_DISTRIBUTION

    def kit_reason(self) -> str:
        """Say why pytest-aiokit was chosen."""
        return (
            f"{KIT_DISTRIBUTION} rather than {NEW_DISTRIBUTION}: {self.port_fixture_use()}, a "
            f"port fixture that {NEW_DISTRIBUTION} alone does not provide ({KIT_DISTRIBUTION} is "
            f"{NEW_DISTRIBUTION} with pytest-ports)"
        )

    def _first_use(self) -> str | None:
        uses: list[tuple[str, int, str]] = []
        defined: set[str] = set()
        seen: set[Path] = set()
        for root in self._roots:
            for path in walk(root):
                if path.suffix not in (".py", ".pyi") or path.resolve() in seen:
                    continue
                seen.add(path.resolve())
                file_uses, file_defined = self._uses.of(path)
                uses.extend((str(path), line, name) for line, name in file_uses)
                defined |= file_defined
        for where, line, name in uses:
            if name not in defined:
                return f"{where}:{line} uses {name}"
        return None
