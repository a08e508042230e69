"""pytest-aioloop beside an installed pytest-asyncio: one of them runs, and pytest says which.

Both plugins handle ``@pytest.mark.asyncio`` and register the same options, so they cannot be
active together. The rule: **pytest-aioloop keeps pytest-asyncio out of the run**, whichever
of the two pytest loads first, and the report header says so. ``-p no:aioloop`` runs
pytest-asyncio instead.

- pytest-aioloop loads first: it blocks the plugin names pytest-asyncio registers under, so
  pytest never imports it.
- pytest-asyncio loads first: its options already exist. pytest-aioloop unregisters it before
  any of its hooks run, makes pytest forget it was registered (or pytest would still collect
  its fixtures), and reads the options pytest-asyncio added through the same names.
- A name the block cannot cover (say ``-p pytest_asyncio.plugin`` after pytest-aioloop): a
  ``UsageError`` at configure time says how to choose.
"""

from __future__ import annotations

import importlib.metadata

import pytest

from pytest_aioloop._compat.pytest_internals import (
    drop_registration_history,
    taken_option_names,
)

#: The names pytest-asyncio's plugin module is registered under (entry point, module, -p).
NAMES = ("asyncio", "pytest_asyncio.plugin")
#: pytest-asyncio's option group, where it adds ``--asyncio-mode`` and ``--asyncio-debug``.
THEIR_GROUP = "asyncio"


def keep_out(pluginmanager: pytest.PytestPluginManager, parser: pytest.Parser) -> set[str]:
    """Block pytest-asyncio; return the command-line flags it already registered."""
    loaded_first = [name for name in NAMES if pluginmanager.get_plugin(name) is not None]
    taken: set[str] = set()
    for name in loaded_first:
        plugin = pluginmanager.get_plugin(name)
        pluginmanager.set_blocked(name)
        drop_registration_history(pluginmanager, plugin)
    if loaded_first:
        taken = taken_option_names(parser, THEIR_GROUP)
    for name in NAMES:
        if not pluginmanager.is_blocked(name):
            pluginmanager.set_blocked(name)
    return taken


def check(config: pytest.Config) -> None:
    """Refuse to run if pytest-asyncio got in after all (under a name nobody blocked)."""
    for plugin in config.pluginmanager.get_plugins():
        module = getattr(plugin, "__name__", "")
        if module == "pytest_asyncio.plugin":
            raise pytest.UsageError(
                "pytest-aioloop and pytest-asyncio are both active, and both handle "
                "@pytest.mark.asyncio. Keep one: pass '-p no:aioloop' to use pytest-asyncio, "
                "or remove what loads pytest-asyncio (a pytest_plugins entry or a '-p' option) "
                "to use pytest-aioloop."
            )


def installed_version() -> str | None:
    """Return the version of the installed pytest-asyncio distribution, if any."""
    try:
        return importlib.metadata.version("pytest-asyncio")
    except importlib.metadata.PackageNotFoundError:
        return None


def header_note() -> str | None:
    """Return the header's line about a pytest-asyncio kept out of this run, if one is."""
    version = installed_version()
    if version is None:
        return None
    return (
        f"asyncio: pytest-asyncio {version} is installed too and is not used in this run "
        "(pass -p no:aioloop to use it instead of pytest-aioloop)"
    )
