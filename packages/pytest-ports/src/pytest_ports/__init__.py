"""Free TCP and UDP ports for tests, never handed out twice: across tests, xdist workers and
unrelated processes.

Importing this package imports neither pytest nor asyncio; the pytest fixtures live in
:mod:`pytest_ports.plugin`.
"""

from __future__ import annotations

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
