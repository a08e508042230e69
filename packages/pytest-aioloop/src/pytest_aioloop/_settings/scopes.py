"""The loop scopes, narrowest first."""

from __future__ import annotations

from typing import Literal

Scope = Literal["function", "class", "module", "package", "session"]
SCOPES: tuple[Scope, ...] = ("function", "class", "module", "package", "session")
#: Wider scopes have higher ranks.
RANK: dict[str, int] = {name: i for i, name in enumerate(SCOPES)}
