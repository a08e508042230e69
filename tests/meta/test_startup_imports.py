"""pytest's start-up imports only what configuration and collection need of the three plugins.

pytest imports every installed plugin in every run, and its assertion-rewrite import hook
charges each module a plugin imports: the rest of each package is imported on first use.
"""

from __future__ import annotations

import pytest

#: What a run of one sync test imports (the report header reads the versions).
STARTUP = (
    "pytest_aiokit",
    "pytest_aiokit._version",
    "pytest_aiokit.plugin",
    "pytest_aioloop",
    "pytest_aioloop._coexist",
    "pytest_aioloop._compat",
    "pytest_aioloop._compat.lazy_asyncio",
    "pytest_aioloop._compat.pytest_internals",
    "pytest_aioloop._compat.unawaited",
    "pytest_aioloop._items",
    "pytest_aioloop._items.collection",
    "pytest_aioloop._items.plan",
    "pytest_aioloop._items.watches",
    "pytest_aioloop._session",
    "pytest_aioloop._settings",
    "pytest_aioloop._settings.fixture",
    "pytest_aioloop._settings.marker",
    "pytest_aioloop._settings.options",
    "pytest_aioloop._settings.table",
    "pytest_aioloop._version",
    "pytest_aioloop.hookspecs",
    "pytest_aioloop.plugin",
    "pytest_ports",
    "pytest_ports._fixtures",
    "pytest_ports._version",
    "pytest_ports.plugin",
)

CONFTEST = """
import sys

def pytest_unconfigure(config):
    ours = ("pytest_aioloop", "pytest_ports", "pytest_aiokit")
    print("loaded:", " ".join(sorted(m for m in sys.modules if m.split(".")[0] in ours)))
"""


def test_a_sync_run_imports_only_the_start_up_modules(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile("def test_sync():\n    pass\n")
    result = pytester.runpytest_subprocess("-s", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["loaded: " + " ".join(STARTUP)])


def test_an_async_test_and_a_port_import_the_rest_on_first_use(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.asyncio
        async def test_async(unused_tcp_port):
            assert unused_tcp_port > 0
        """
    )
    result = pytester.runpytest_subprocess("-s", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    loaded = next(line for line in result.outlines if line.startswith("loaded:")).split()[1:]
    for module in (
        "pytest_aioloop._run.runner",
        "pytest_aioloop._nets.nets",
        "pytest_aioloop._loop.manager",
        "pytest_ports._fixture_factory",
        "pytest_ports._settings",
    ):
        assert module in loaded
    assert "pytest_aioloop._concurrency.plugin" not in loaded
    assert "pytest_aioloop._nets.reporter" not in loaded


LOADERS = """
import sys

def pytest_unconfigure(config):
    ours = ("pytest_aioloop", "pytest_ports", "pytest_aiokit")
    for name in sorted(m for m in sys.modules if m.split(".")[0] in ours):
        print("loader:", name, type(sys.modules[name].__loader__).__name__)
"""


def test_submodules_are_loaded_as_python_loads_any_module(pytester: pytest.Pytester) -> None:
    # pytest's assertion-rewriting hook reads cached modules in many small reads; only the
    # three packages themselves go through it (they put the finder of their submodules first).
    pytester.makeconftest(LOADERS)
    pytester.makepyfile("def test_sync():\n    pass\n")
    result = pytester.runpytest_subprocess("-s", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    loaders = dict(line.split()[1:] for line in result.outlines if line.startswith("loader:"))
    packages = {"pytest_aioloop", "pytest_ports", "pytest_aiokit"}
    assert set(loaders) == set(STARTUP)
    assert {n for n, loader in loaders.items() if loader != "SourceFileLoader"} <= packages
