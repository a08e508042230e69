"""pytest-aioloop and pytest-ports together."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pytest_aiokit._version import __version__

__all__ = ["__version__"]

if not TYPE_CHECKING:  # pytest imports this package in every run: the version is read on demand

    def __getattr__(name: str) -> object:
        if name != "__version__":
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        from pytest_aiokit._version import __version__

        globals()[name] = __version__
        return __version__
