"""Free TCP and UDP ports for tests, never handed out twice: across tests, xdist workers and
unrelated processes.

Importing this package imports neither pytest nor asyncio; the pytest fixtures live in
:mod:`pytest_ports.plugin`. Each public name is imported when first used (pytest loads the
plugin in every run, also where no test asks for a port).
"""

from __future__ import annotations

import importlib
import importlib.machinery
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pytest_ports._errors import NoFreePortError
    from pytest_ports._factory import (
        PortFactory,
        bind_unused_tcp_socket,
        bind_unused_udp_socket,
        find_unused_tcp_port,
        find_unused_udp_port,
        release_port,
    )
    from pytest_ports._registry import PortRegistryWarning
    from pytest_ports._settings import Settings
    from pytest_ports._version import __version__

__all__ = [
    "NoFreePortError",
    "PortFactory",
    "PortRegistryWarning",
    "Settings",
    "__version__",
    "bind_unused_tcp_socket",
    "bind_unused_udp_socket",
    "find_unused_tcp_port",
    "find_unused_udp_port",
    "release_port",
]

#: The module each public name comes from (PEP 562).
_LAZY = {
    "NoFreePortError": "pytest_ports._errors",
    "PortFactory": "pytest_ports._factory",
    "bind_unused_tcp_socket": "pytest_ports._factory",
    "bind_unused_udp_socket": "pytest_ports._factory",
    "find_unused_tcp_port": "pytest_ports._factory",
    "find_unused_udp_port": "pytest_ports._factory",
    "release_port": "pytest_ports._factory",
    "PortRegistryWarning": "pytest_ports._registry",
    "Settings": "pytest_ports._settings",
    "__version__": "pytest_ports._version",
}

if not TYPE_CHECKING:  # type checkers see the imports above, and misspelt names stay errors

    def __getattr__(name: str) -> object:
        module = _LAZY.get(name)
        if module is None:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        globals()[name] = value  # the next lookup is an ordinary one
        return value


class _OwnModules:
    """Find this package's own submodules with Python's standard path finder.

    pytest imports an installed plugin's modules through its assertion-rewriting import hook,
    which reads each cached module in many small reads, a cost paid at every start-up. These
    modules have no assertions for users to read: they are found here, ahead of the hook, as
    Python finds any module (pytest-aioloop does the same for its own).
    """

    #: Names this finder serves (``pytest_ports.`` and what is below it).
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


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
