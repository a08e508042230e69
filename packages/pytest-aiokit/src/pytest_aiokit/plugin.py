"""The pytest11 entry point of pytest-aiokit: one report-header line, nothing else.

pytest-aioloop and pytest-ports register themselves through their own entry points
(``aioloop`` and ``ports``); this module only says which of them are installed and active,
so it never registers a fixture, marker or option twice.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pytest_aiokit._version import __version__

if TYPE_CHECKING:
    import pytest

__all__ = ["PluginStatus", "plugin_statuses", "pytest_report_header"]

#: (distribution name, import name, pytest11 entry-point name) of each plugin aiokit bundles.
BUNDLED: tuple[tuple[str, str, str], ...] = (
    ("pytest-aioloop", "pytest_aioloop", "aioloop"),
    ("pytest-ports", "pytest_ports", "ports"),
)


@dataclass(frozen=True)
class PluginStatus:
    """What the report header says about one bundled plugin."""

    distribution: str
    entry_point: str
    version: str | None
    state: str

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
    statuses = plugin_statuses(config.pluginmanager)
    line = f"aiokit {__version__}: " + ", ".join(status.describe() for status in statuses)
    drift = sorted(
        {s.version for s in statuses if s.version is not None and s.version != __version__}
    )
    if drift:
        line += f" (version mismatch with aiokit {__version__}: reinstall pytest-aiokit)"
    return line
