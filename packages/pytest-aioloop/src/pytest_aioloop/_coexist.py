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

looptime's pytest plugin works with pytest-asyncio only, so it is kept out the same way where
looptime is installed (:func:`keep_looptime_out`); ``_items.looptime`` does its job.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util

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


#: The names looptime's pytest plugin is registered under (entry point, module).
LOOPTIME_NAMES = ("looptime_plugin", "looptime._internal.plugin")
#: The option group looptime adds its flags to, and the option's destination.
LOOPTIME_GROUP = "asyncio time contraction"
LOOPTIME_DEST = "looptime"


def keep_looptime_out(pluginmanager: pytest.PytestPluginManager, parser: pytest.Parser) -> None:
    """Block looptime's pytest plugin; where looptime is installed, its flags are registered."""
    loaded_first = [name for name in LOOPTIME_NAMES if pluginmanager.get_plugin(name) is not None]
    for name in loaded_first:
        plugin = pluginmanager.get_plugin(name)
        pluginmanager.set_blocked(name)
        drop_registration_history(pluginmanager, plugin)
    for name in LOOPTIME_NAMES:
        if not pluginmanager.is_blocked(name):
            pluginmanager.set_blocked(name)
    if loaded_first or importlib.util.find_spec("looptime") is None:
        return  # its own plugin added the flags, or looptime is not installed
    group = parser.getgroup(LOOPTIME_GROUP)
    group.addoption(
        "--no-looptime",
        dest=LOOPTIME_DEST,
        action="store_const",
        const=False,
        help="Run every test in real loop time, marked ones too (looptime's flag, served by "
        "pytest-aioloop).",
    )
    group.addoption(
        "--looptime",
        dest=LOOPTIME_DEST,
        action="store_const",
        const=True,
        help="Run unmarked async tests in looptime's fast-forwarding loop time too (looptime's "
        "flag, served by pytest-aioloop).",
    )


def looptime_installed(config: pytest.Config) -> bool:
    """Whether looptime is installed (its flags were registered, by it or by us)."""
    return config.getoption(LOOPTIME_DEST, _MISSING) is not _MISSING


_MISSING = object()


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
