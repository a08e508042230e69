"""Choose the distribution that replaces pytest-asyncio in a project's dependencies.

It is pytest-aioloop, unless the project's tests use one of pytest-asyncio's port fixtures
(``unused_tcp_port`` and the like) without defining it: pytest-aioloop alone has none, so the
choice is then pytest-aiokit, which is pytest-aioloop with pytest-ports.
"""

from __future__ import annotations

import io
import re
import tokenize
from typing import TYPE_CHECKING

from pytest_aioloop._migrate_files import Unreadable, read, walk
from pytest_aioloop._migrate_python import STRING_TOKENS

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from pathlib import Path

NEW_DISTRIBUTION = "pytest-aioloop"
#: pytest-aioloop with pytest-ports: what a suite that uses the port fixtures needs.
KIT_DISTRIBUTION = "pytest-aiokit"
PORT_FIXTURES = (
    "unused_tcp_port",
    "unused_udp_port",
    "unused_tcp_port_factory",
    "unused_udp_port_factory",
)
_PORT_FIXTURE = re.compile(rf"\b(?:{'|'.join(PORT_FIXTURES)})\b")


class Dependencies:
    """Decide what replaces pytest-asyncio in dependency declarations, and say why.

    ``roots`` are the directories that make up the project: pytest-aiokit is chosen when a Python
    file below them uses one of pytest-asyncio's port fixtures without defining it.
    """

    def __init__(self, roots: Iterable[Path]) -> None:
        self._roots = sorted(set(roots))
        self._scanned = False
        self._use: str | None = None
        #: Whether a dependency became pytest-aiokit (the run then says why, once).
        self.kit_chosen = False

    def port_fixture_use(self) -> str | None:
        """Return where a port fixture is first used (``path:line name``), or ``None``."""
        if not self._scanned:
            self._scanned = True
            self._use = _find_port_fixture_use(self._roots)
        return self._use

    def replacement(self) -> str:
        """Return the distribution to depend on instead of pytest-asyncio."""
        if self.port_fixture_use() is None:
            return NEW_DISTRIBUTION
        self.kit_chosen = True
        return KIT_DISTRIBUTION

    def kit_reason(self) -> str:
        return (
            f"{KIT_DISTRIBUTION} rather than {NEW_DISTRIBUTION}: {self.port_fixture_use()}, a "
            f"port fixture that {NEW_DISTRIBUTION} alone does not provide ({KIT_DISTRIBUTION} is "
            f"{NEW_DISTRIBUTION} with pytest-ports)"
        )


def _find_port_fixture_use(roots: Sequence[Path]) -> str | None:
    uses: list[tuple[str, int, str]] = []
    defined: set[str] = set()
    seen: set[Path] = set()
    for root in roots:
        for path in walk(root):
            if path.suffix not in (".py", ".pyi") or path.resolve() in seen:
                continue
            seen.add(path.resolve())
            try:
                text, _ = read(path, "python")
                tokens = list(tokenize.generate_tokens(io.StringIO(text, newline="").readline))
            except (Unreadable, tokenize.TokenError, SyntaxError):
                continue  # reported where the file itself is migrated, if it is
            previous = ""
            for token in tokens:
                if token.type == tokenize.NAME and token.string in PORT_FIXTURES:
                    if previous == "def":
                        defined.add(token.string)
                    else:
                        uses.append((str(path), token.start[0], token.string))
                elif token.type in STRING_TOKENS:
                    uses.extend(
                        (str(path), token.start[0], m.group())
                        for m in _PORT_FIXTURE.finditer(token.string)
                    )
                if token.type not in (tokenize.NL, tokenize.COMMENT):
                    previous = token.string
    for where, line, name in uses:
        if name not in defined:
            return f"{where}:{line} uses {name}"
    return None
