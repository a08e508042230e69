"""What the user configures: options and their validated settings, the marker, the decorator.

``options`` (every ini option with its command-line twin, and the session's ``Settings``),
``marker`` (``@pytest.mark.asyncio`` and its arguments), ``fixture`` (``pytest_aioloop.fixture``
and the options it records). The loop scopes and their order are defined here, where all
three find them. A leaf part: it imports nothing else of pytest-aioloop.
"""

from __future__ import annotations

from typing import Literal

Scope = Literal["function", "class", "module", "package", "session"]
#: The loop scopes, narrowest first.
SCOPES: tuple[Scope, ...] = ("function", "class", "module", "package", "session")
#: Wider scopes have higher ranks.
RANK: dict[str, int] = {name: i for i, name in enumerate(SCOPES)}
