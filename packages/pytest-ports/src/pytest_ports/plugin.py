"""The pytest11 entry point of pytest-ports: options, per-config state, fixture registration.

The fixtures live in :mod:`pytest_ports._fixtures`; ``pytest_configure`` registers them as a
plugin of their own, which decides whether they win over same-named fixtures of other plugins.
Start-up imports nothing else: the settings are parsed only where an option is given, and
the port finder is imported when a test first asks for a port.
"""

from __future__ import annotations

import os
import types
from typing import TYPE_CHECKING, Any

import pytest

from pytest_ports import _fixtures
from pytest_ports._fixtures import STATE_KEY, PortsState

if TYPE_CHECKING:
    from pytest_ports._settings import Settings

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


class OptionSpec:
    """One setting, and the three ways to give it (the reference docs render the table)."""

    __slots__ = ("cli", "default", "env", "field", "help", "ini", "metavar", "parse", "valid")

    def __init__(  # noqa: PLR0917 - the table below reads best one value a line, in order
        self,
        field: str,
        ini: str,
        cli: str,
        env: str,
        default: str,
        metavar: str,
        valid: str,
        help: str,
        parse: str,
    ) -> None:
        self.field = field
        self.ini = ini
        self.cli = cli
        self.env = env
        #: The ini default, as text; a value equal to it needs no parsing.
        self.default = default
        self.metavar = metavar
        self.valid = valid
        self.help = help
        #: The name of the function of :mod:`pytest_ports._settings` that parses a value.
        self.parse = parse

    def __repr__(self) -> str:
        return f"OptionSpec({self.ini!r})"

    @property
    def dest(self) -> str:
        """The ``config.getoption`` name of the command-line twin."""
        return self.ini

    @property
    def cli_help(self) -> str:
        """The command-line option's help: the shared sentence, then the ini and env twins."""
        return f"{self.help} Ini: {self.ini}. Environment: {self.env}."

    @property
    def ini_help(self) -> str:
        """The ini option's help: the shared sentence, then the command-line and env twins."""
        return f"{self.help} Command line: {self.cli}. Environment: {self.env}."


#: Every option: ini name, command-line and environment twins, default, help (in that order).
#: Precedence: command line, then environment, then ini file, then the default.
OPTIONS: tuple[OptionSpec, ...] = (
    OptionSpec(
        "port_range",
        "ports_range",
        "--ports-range",
        "PYTEST_PORTS_RANGE",
        "auto",
        "LOW-HIGH",
        "auto, or LOW-HIGH with 1024 <= LOW <= HIGH <= 65535",
        "Pool to draw ports from: auto (default: the ports just below the OS ephemeral range) "
        "or LOW-HIGH, with 1024 <= LOW <= HIGH <= 65535.",
        "parse_range",
    ),
    OptionSpec(
        "check",
        "ports_check",
        "--ports-check",
        "PYTEST_PORTS_CHECK",
        "both",
        "PROTOCOL",
        "tcp, udp, both",
        "Protocols a port must be free for besides its own kind: tcp, udp or both (default).",
        "parse_check",
    ),
    OptionSpec(
        "family",
        "ports_family",
        "--ports-family",
        "PYTEST_PORTS_FAMILY",
        "auto",
        "FAMILY",
        "auto, ipv4, ipv6, both",
        "Address families a port must be free on: auto (default: IPv4, plus IPv6 where "
        "usable), ipv4, ipv6 or both.",
        "parse_family",
    ),
    OptionSpec(
        "registry",
        "ports_registry",
        "--ports-registry",
        "PYTEST_PORTS_REGISTRY",
        "",
        "DIR",
        "a directory, or off",
        "Directory of the cross-process port registry (default: pytest-ports-<uid> in the "
        "temp directory), or off to keep ports unique within each process only.",
        "parse_registry",
    ),
    OptionSpec(
        "override",
        "ports_override",
        "--ports-override",
        "PYTEST_PORTS_OVERRIDE",
        "true",
        "BOOL",
        "true, false",
        "Whether pytest-ports' fixtures win over same-named fixtures of other plugins, such "
        "as pytest-asyncio: true (default) or false.",
        "parse_bool",
    ),
)


def pytest_addoption(parser: pytest.Parser) -> None:
    """Register pytest-ports' options (ini, command line and environment)."""
    group = parser.getgroup("ports", "pytest-ports: free TCP and UDP ports")
    for spec in OPTIONS:
        group.addoption(
            spec.cli, dest=spec.dest, default=None, metavar=spec.metavar, help=spec.cli_help
        )
        parser.addini(spec.ini, help=spec.ini_help, default=spec.default)


def read_settings(config: pytest.Config) -> Settings | None:
    """Resolve every option (command line, environment, ini, default) into a ``Settings``.

    Returns ``None`` where every option has its default (nothing to parse).

    Raises:
        pytest.UsageError: A value is invalid; the message names the option and valid values.
    """
    given: list[tuple[OptionSpec, str, str]] = []
    for spec in OPTIONS:
        raw: str | None = config.getoption(spec.dest)
        where = spec.cli
        if raw is None and os.environ.get(spec.env, "").strip():  # empty means unset
            raw, where = os.environ[spec.env], f"{spec.env} (environment variable)"
        if raw is None:
            raw, where = str(config.getini(spec.ini)), f"{spec.ini} (ini option)"
        if raw != spec.default:
            given.append((spec, raw, where))
    if not given:
        return None
    from pytest_ports import _settings

    values: dict[str, Any] = {}
    for spec, raw, where in given:
        try:
            values[spec.field] = getattr(_settings, spec.parse)(raw)
        except ValueError:
            raise pytest.UsageError(
                f"{raw!r} is not a valid {where}. Valid values: {spec.valid}."
            ) from None
    return _settings.Settings(**values)


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
    config.stash[STATE_KEY] = PortsState(settings)
    override = settings is None or settings.override
    # For same-named fixtures at one level, the plugin registered last wins, and entry-point
    # order is site-packages discovery order. Registering here, after every -p, entry-point and
    # initial-conftest plugin, makes ours win over pytest-asyncio's whatever the load order.
    # With ports_override=false we leave out the names another plugin already defines, so that
    # plugin's fixture is used, also whatever the order. Conftest fixtures win either way: they
    # belong to a directory, closer to the test. A fresh module per config keeps in-process
    # pytester runs apart, and registering each fixture once keeps `pytest --fixtures` working.
    holder = types.ModuleType(FIXTURES_PLUGIN_NAME, "pytest-ports fixtures for one config.")
    for name in FIXTURE_NAMES:
        if override or not _defined_elsewhere(config, name):
            setattr(holder, name, getattr(_fixtures, name))
    config.pluginmanager.register(holder, FIXTURES_PLUGIN_NAME)
