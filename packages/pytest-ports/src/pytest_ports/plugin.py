"""The pytest11 entry point of pytest-ports: options, per-config state, fixture registration.

The fixtures live in :mod:`pytest_ports._fixtures`; ``pytest_configure`` registers them as a
plugin of their own, which decides whether they win over same-named fixtures of other plugins.
"""

from __future__ import annotations

import types

import pytest

from pytest_ports import _fixtures
from pytest_ports._fixtures import STATE_KEY, FixturePortFactory, PortsState
from pytest_ports._options import add_options, read_settings

#: Plugin name of the registered fixtures (``pytest --trace-config`` shows it).
FIXTURES_PLUGIN_NAME = "pytest_ports.fixtures"
FIXTURE_NAMES = (
    "unused_tcp_port",
    "unused_udp_port",
    "unused_tcp_port_factory",
    "unused_udp_port_factory",
    "unused_tcp_socket",
    "unused_udp_socket",
)


def pytest_addoption(parser: pytest.Parser) -> None:
    """Register pytest-ports' options (ini, command line and environment)."""
    add_options(parser)


def _defined_elsewhere(config: pytest.Config, name: str) -> bool:
    ours = (_fixtures,)
    return any(
        callable(getattr(plugin, name, None))
        for plugin in config.pluginmanager.get_plugins()
        if plugin not in ours
    )


def pytest_configure(config: pytest.Config) -> None:
    """Read the settings, and register the fixtures where they are to win (see below)."""
    settings = read_settings(config)
    config.stash[STATE_KEY] = PortsState(
        settings=settings,
        tcp=FixturePortFactory("tcp", settings=settings),
        udp=FixturePortFactory("udp", settings=settings),
    )
    # For same-named fixtures at one level, the plugin registered last wins, and entry-point
    # order is site-packages discovery order. Registering here, after every -p, entry-point and
    # initial-conftest plugin, makes ours win over pytest-asyncio's whatever the load order.
    # With ports_override=false we leave out the names another plugin already defines, so that
    # plugin's fixture is used, also whatever the order. Conftest fixtures win either way: they
    # belong to a directory, closer to the test. A fresh module per config keeps in-process
    # pytester runs apart, and registering each fixture once keeps `pytest --fixtures` working.
    holder = types.ModuleType(FIXTURES_PLUGIN_NAME, "pytest-ports fixtures for one config.")
    for name in FIXTURE_NAMES:
        if settings.override or not _defined_elsewhere(config, name):
            setattr(holder, name, getattr(_fixtures, name))
    config.pluginmanager.register(holder, FIXTURES_PLUGIN_NAME)
