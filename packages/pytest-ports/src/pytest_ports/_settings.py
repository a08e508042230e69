"""Parse and hold pytest-ports settings; shared by the plain functions, the plugin and the CLI.

This module never imports pytest: the plain functions read their defaults from the environment
through it, and the plugin turns its ``ValueError`` into ``pytest.UsageError``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from collections.abc import Mapping

Kind = Literal["tcp", "udp"]
Check = Literal["tcp", "udp", "both"]
Family = Literal["auto", "ipv4", "ipv6", "both"]

CHECKS: tuple[Check, ...] = ("tcp", "udp", "both")
FAMILIES: tuple[Family, ...] = ("auto", "ipv4", "ipv6", "both")
#: Registry value that turns the cross-process registry off.
REGISTRY_OFF = "off"

ENV_RANGE = "PYTEST_PORTS_RANGE"
ENV_CHECK = "PYTEST_PORTS_CHECK"
ENV_FAMILY = "PYTEST_PORTS_FAMILY"
ENV_REGISTRY = "PYTEST_PORTS_REGISTRY"
ENV_OVERRIDE = "PYTEST_PORTS_OVERRIDE"

_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


@dataclass(frozen=True)
class Settings:
    """Resolved settings for finding ports.

    Attributes:
        port_range: Inclusive ``(low, high)`` pool, or ``None`` for the automatic pool below the
            OS ephemeral range.
        check: Protocols a port must be free for, besides its own kind.
        family: Address families a port must be free on.
        registry: Directory of the cross-process registry, ``None`` for the per-user default, or
            ``"off"``.
        override: Whether the plugin's fixtures replace same-named fixtures of other plugins.
    """

    port_range: tuple[int, int] | None = None
    check: Check = "both"
    family: Family = "auto"
    registry: str | None = None
    override: bool = True


def parse_range(value: str) -> tuple[int, int] | None:
    """Parse ``"auto"`` or ``"LOW-HIGH"`` (inclusive, 1024..65535)."""
    text = value.strip()
    if text.lower() == "auto":
        return None
    low_text, sep, high_text = text.partition("-")
    try:
        low, high = int(low_text), int(high_text)
    except ValueError:
        low = high = -1
    if not sep or not 1024 <= low <= high <= 65535:
        raise ValueError(f"{value!r} is not 'auto' or LOW-HIGH with 1024 <= LOW <= HIGH <= 65535")
    return low, high


def parse_check(value: str) -> Check:
    """Parse one of ``tcp``, ``udp``, ``both``."""
    text = value.strip().lower()
    for check in CHECKS:
        if text == check:
            return check
    raise ValueError(f"{value!r} is not one of {', '.join(CHECKS)}")


def parse_family(value: str) -> Family:
    """Parse one of ``auto``, ``ipv4``, ``ipv6``, ``both``."""
    text = value.strip().lower()
    for family in FAMILIES:
        if text == family:
            return family
    raise ValueError(f"{value!r} is not one of {', '.join(FAMILIES)}")


def parse_registry(value: str) -> str | None:
    """Parse a registry directory, ``off``, or an empty value for the default."""
    text = value.strip()
    if not text:
        return None
    if text.lower() == REGISTRY_OFF:
        return REGISTRY_OFF
    return os.path.abspath(os.path.expanduser(text))


def parse_bool(value: str) -> bool:
    """Parse a yes/no value such as ``true``, ``false``, ``1`` or ``0``."""
    text = value.strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"{value!r} is not one of {', '.join(_TRUE + _FALSE)}")


def settings_from_env(environ: Mapping[str, str] | None = None) -> Settings:
    """Build settings from the ``PYTEST_PORTS_*`` environment variables.

    Raises:
        ValueError: A variable holds an invalid value; the message names the variable.
    """
    env = os.environ if environ is None else environ
    values: dict[str, object] = {}
    parsers = (
        (ENV_RANGE, "port_range", parse_range),
        (ENV_CHECK, "check", parse_check),
        (ENV_FAMILY, "family", parse_family),
        (ENV_REGISTRY, "registry", parse_registry),
        (ENV_OVERRIDE, "override", parse_bool),
    )
    for var, field, parse in parsers:
        raw = env.get(var)
        if raw is None or (not raw.strip() and field != "registry"):
            continue
        try:
            values[field] = parse(raw)
        except ValueError as exc:
            raise ValueError(f"environment variable {var}: {exc}") from None
    return Settings(**values)  # type: ignore[arg-type]
