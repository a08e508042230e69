"""Small value classes without dataclasses, which cost start-up time (about 4M instructions each).

A subclass lists its fields in ``__slots__`` and sets them in ``__init__``; equality, hashing,
``repr`` and :meth:`Record.replace` come from the slots.
"""

from __future__ import annotations

from typing import Any, TypeVar

R = TypeVar("R", bound="Record")


class Record:
    """A value made of its ``__slots__``: equal, hashable and shown field by field."""

    __slots__: tuple[str, ...] = ()

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self.__slots__)

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        fields = ", ".join(f"{n}={getattr(self, n)!r}" for n in self.__slots__)
        return f"{type(self).__name__}({fields})"

    def replace(self: R, **changes: Any) -> R:
        """Return a copy with ``changes``."""
        values = {name: getattr(self, name) for name in self.__slots__}
        return type(self)(**{**values, **changes})
