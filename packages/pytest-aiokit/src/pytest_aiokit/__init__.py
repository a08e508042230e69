"""pytest-aioloop and pytest-ports together."""

from pytest_aiokit._version import __version__

__all__ = ["__version__"]
