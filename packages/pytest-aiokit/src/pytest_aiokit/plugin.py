"""The pytest11 entry point of pytest-aiokit: one report-header line, nothing else.

pytest-aioloop and pytest-ports register themselves through their own entry points
(``aioloop`` and ``ports``); this module only says which of them are installed and active,
so it never registers a fixture, marker or option twice.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pytest

__all__ = ["PluginStatus", "plugin_statuses", "pytest_report_header"]

#: (distribution name, import name, pytest11 entry-point name) of each plugin aiokit bundles.
BUNDLED: tuple[tuple[str, str, str], ...] = (
    ("pytest-aioloop", "pytest_aioloop", "aioloop"),
    ("pytest-ports", "pytest_ports", "ports"),
)


class PluginStatus:
    """What the report header says about one bundled plugin."""

    __slots__ = ("distribution", "entry_point", "state", "version")

    def __init__(
        self, distribution: str, entry_point: str, version: str | None, state: str
    ) -> None:
        self.distribution = distribution
        self.entry_point = entry_point
        self.version = version
        self.state = state

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PluginStatus) and self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        return "PluginStatus({!r}, {!r}, {!r}, {!r})".format(*self._values())

    def _values(self) -> tuple[str, str, str | None, str]:
        return (self.distribution, self.entry_point, self.version, self.state)

    def describe(self) -> str:
        """Return the header fragment, e.g. ``pytest-ports 0.1.0 (active)``."""
        version = self.version if self.version is not None else "(not installed)"
        if self.version is None:
            return f"{self.distribution} {version}"
        return f"{self.distribution} {version} ({self.state})"


def _version_of(module_name: str) -> str | None:
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        return None
    version = getattr(module, "__version__", None)
    return version if isinstance(version, str) else None


def plugin_statuses(pluginmanager: pytest.PytestPluginManager) -> list[PluginStatus]:
    """Describe each bundled plugin: its version and whether this run uses it."""
    statuses = []
    for distribution, module_name, entry_point in BUNDLED:
        version = _version_of(module_name)
        if pluginmanager.has_plugin(entry_point):
            state = "active"
        elif pluginmanager.is_blocked(entry_point):
            state = f"disabled with -p no:{entry_point}"
        else:
            # Installed but not loaded, e.g. under PYTEST_DISABLE_PLUGIN_AUTOLOAD.
            state = f"not loaded: enable with -p {entry_point}"
        statuses.append(PluginStatus(distribution, entry_point, version, state))
    return statuses


def pytest_report_header(config: pytest.Config) -> str:
    """Add one header line with the version and state of pytest-aioloop and pytest-ports."""
    from pytest_aiokit._version import __version__

    statuses = plugin_statuses(config.pluginmanager)
    line = f"aiokit {__version__}: " + ", ".join(status.describe() for status in statuses)
    drift = sorted(
        {s.version for s in statuses if s.version is not None and s.version != __version__}
    )
    if drift:
        line += f" (version mismatch with aiokit {__version__}: reinstall pytest-aiokit)"
    return line
