"""The plugin's options: each an ini option with a command-line and an environment twin.

``OPTIONS`` is the single source of the names and help texts; the reference docs render it.
Precedence: command line, then environment, then ini file, then the default.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import pytest

from pytest_ports import _settings
from pytest_ports._settings import Settings

if TYPE_CHECKING:
    from collections.abc import Callable

    from pytest_ports._settings import Check, Family


@dataclass(frozen=True)
class OptionSpec:
    """One setting, and the three ways to give it."""

    field: str
    ini: str
    cli: str
    env: str
    default: str
    metavar: str
    valid: str
    help: str
    parse: Callable[[str], Any]

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


OPTIONS: tuple[OptionSpec, ...] = (
    OptionSpec(
        "port_range",
        "ports_range",
        "--ports-range",
        _settings.ENV_RANGE,
        "auto",
        "LOW-HIGH",
        "auto, or LOW-HIGH with 1024 <= LOW <= HIGH <= 65535",
        "Pool to draw ports from: auto (default: the ports just below the OS ephemeral range) "
        "or LOW-HIGH, with 1024 <= LOW <= HIGH <= 65535.",
        _settings.parse_range,
    ),
    OptionSpec(
        "check",
        "ports_check",
        "--ports-check",
        _settings.ENV_CHECK,
        "both",
        "PROTOCOL",
        "tcp, udp, both",
        "Protocols a port must be free for besides its own kind: tcp, udp or both (default).",
        _settings.parse_check,
    ),
    OptionSpec(
        "family",
        "ports_family",
        "--ports-family",
        _settings.ENV_FAMILY,
        "auto",
        "FAMILY",
        "auto, ipv4, ipv6, both",
        "Address families a port must be free on: auto (default: IPv4, plus IPv6 where "
        "usable), ipv4, ipv6 or both.",
        _settings.parse_family,
    ),
    OptionSpec(
        "registry",
        "ports_registry",
        "--ports-registry",
        _settings.ENV_REGISTRY,
        "",
        "DIR",
        "a directory, or off",
        "Directory of the cross-process port registry (default: pytest-ports-<uid> in the "
        "temp directory), or off to keep ports unique within each process only.",
        _settings.parse_registry,
    ),
    OptionSpec(
        "override",
        "ports_override",
        "--ports-override",
        _settings.ENV_OVERRIDE,
        "true",
        "BOOL",
        "true, false",
        "Whether pytest-ports' fixtures win over same-named fixtures of other plugins, such "
        "as pytest-asyncio: true (default) or false.",
        _settings.parse_bool,
    ),
)


def add_options(parser: pytest.Parser) -> None:
    """Register every option as an ini option and a command-line option with one help text."""
    group = parser.getgroup("ports", "pytest-ports: free TCP and UDP ports")
    for spec in OPTIONS:
        group.addoption(
            spec.cli, dest=spec.dest, default=None, metavar=spec.metavar, help=spec.cli_help
        )
        parser.addini(spec.ini, help=spec.ini_help, default=spec.default)


def read_settings(config: pytest.Config) -> Settings:
    """Resolve every option (command line, environment, ini, default) into a :class:`Settings`.

    Raises:
        pytest.UsageError: A value is invalid; the message names the option and valid values.
    """
    values: dict[str, Any] = {}
    for spec in OPTIONS:
        raw: str | None = config.getoption(spec.dest)
        where = spec.cli
        if raw is None and os.environ.get(spec.env, "").strip():  # empty means unset
            raw, where = os.environ[spec.env], f"{spec.env} (environment variable)"
        if raw is None:
            raw, where = str(config.getini(spec.ini)), f"{spec.ini} (ini option)"
        try:
            values[spec.field] = spec.parse(raw)
        except ValueError:
            raise pytest.UsageError(
                f"{raw!r} is not a valid {where}. Valid values: {spec.valid}."
            ) from None
    check: Check = values.pop("check")
    family: Family = values.pop("family")
    return replace(Settings(), check=check, family=family, **values)
