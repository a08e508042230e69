"""pytest-aioloop and pytest-ports together."""

from __future__ import annotations

import importlib.machinery
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pytest_aiokit._version import __version__

__all__ = ["__version__"]


class _OwnModules:
    """Find this package's own submodules with Python's standard path finder.

    pytest imports an installed plugin's modules through its assertion-rewriting import hook,
    which reads each cached module in many small reads, at every start-up; these modules have no
    assertions for users to read (pytest-aioloop and pytest-ports do the same for theirs).
    """

    #: Names this finder serves (``pytest_aiokit.`` and what is below it).
    prefix = __name__ + "."

    @classmethod
    def find_spec(
        cls, name: str, path: Sequence[str] | None = None, target: object = None
    ) -> importlib.machinery.ModuleSpec | None:
        """Return the spec of one of the package's submodules (``None`` for other modules)."""
        if path is None or not name.startswith(cls.prefix):
            return None
        return importlib.machinery.PathFinder.find_spec(name, path)


if not any(getattr(finder, "prefix", None) == _OwnModules.prefix for finder in sys.meta_path):
    sys.meta_path.insert(0, _OwnModules())

if not TYPE_CHECKING:  # pytest imports this package in every run: the version is read on demand

    def __getattr__(name: str) -> object:
        if name != "__version__":
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        from pytest_aiokit._version import __version__

        globals()[name] = __version__
        return __version__
