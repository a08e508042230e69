"""The docs' ``pytest-plugin`` directive: what it reads from a plugin module (no Sphinx needed)."""

from __future__ import annotations

import importlib.util
import pathlib
import sys
import textwrap
import types
from collections.abc import Iterator

import pytest

EXT = pathlib.Path(__file__).resolve().parents[2] / "docs" / "_ext" / "pytest_reference.py"
FAKE = "aiokit_fake_plugin"

PLUGIN = '''
"""A fake plugin with one of everything."""
import pytest

from . import hookspecs


@pytest.fixture(scope="session")
def shared_thing():
    """Return a thing shared by the whole session."""
    return 1


@pytest.fixture(autouse=True)
def _private_helper():
    """Not for users."""


@pytest.fixture(name="renamed", scope=lambda fixture_name, config: "module")
def _renamed_impl():
    """A fixture with a dynamic scope and another name."""


def not_a_fixture():
    """Plain function."""


def pytest_addhooks(pluginmanager):
    pluginmanager.add_hookspecs(hookspecs)


def pytest_addoption(parser):
    group = parser.getgroup("fake", "fake options")
    group.addoption("--fake-level", metavar="N", default=3, help="how fake *this* is")
    group.addoption("--fake-on", action="store_true", help="turn fakeness on")
    parser.addini("fake_level", "how fake this is", default="3")
    parser.addini("fake_paths", "where fakes live", type="paths")


def pytest_configure(config):
    config.addinivalue_line("markers", "fake(level=3): mark a test as fake.")
    if config.pluginmanager.has_plugin("something"):
        raise RuntimeError("not reached with the docs' recording config")
    config.stash["key"] = config.getini("fake_level")
'''

HOOKSPECS = '''
def pytest_fake_hook(config, item):
    """Return how fake ``item`` is."""


def helper():
    """Not a hook."""
'''

FAILING_CONFIGURE = """
MARKERS = ("fake_constant: a marker documented by a constant.",)


def pytest_configure(config):
    int(config.getini("level"))  # fails on the stand-in config
    config.addinivalue_line("markers", "never: reached")
"""


@pytest.fixture(scope="module")
def ext() -> types.ModuleType:
    """Load docs/_ext/pytest_reference.py as a module."""
    spec = importlib.util.spec_from_file_location("aiokit_docs_pytest_reference", EXT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being created
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def fake_package(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[pathlib.Path]:
    """Create an importable package ``aiokit_fake_plugin`` with a plugin and hookspecs."""
    package = tmp_path / FAKE
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "plugin.py").write_text(textwrap.dedent(PLUGIN))
    (package / "hookspecs.py").write_text(textwrap.dedent(HOOKSPECS))
    (package / "failing.py").write_text(textwrap.dedent(FAILING_CONFIGURE))
    monkeypatch.syspath_prepend(str(tmp_path))
    yield package
    for name in [m for m in sys.modules if m == FAKE or m.startswith(f"{FAKE}.")]:
        del sys.modules[name]


@pytest.mark.usefixtures("fake_package")
def test_collects_everything(ext: types.ModuleType) -> None:
    info = ext.collect(f"{FAKE}.plugin")
    assert [(f.name, f.scope, f.autouse, f.doc) for f in info.fixtures] == [
        ("renamed", "dynamic", False, "A fixture with a dynamic scope and another name."),
        ("shared_thing", "session", False, "Return a thing shared by the whole session."),
    ]
    assert [(o.flags, o.metavar, o.default, o.group) for o in info.options] == [
        (["--fake-level"], "N", 3, "fake"),
        (["--fake-on"], None, ext._NOTSET, "fake"),
    ]
    assert [(i.name, i.type, i.default) for i in info.ini] == [
        ("fake_level", None, "3"),
        ("fake_paths", "paths", ext._NOTSET),
    ]
    assert info.markers == ["fake(level=3): mark a test as fake."]
    assert [(h.name, h.signature, h.doc) for h in info.hooks] == [
        ("pytest_fake_hook", "(config, item)", "Return how fake ``item`` is.")
    ]
    assert info.problems == []


@pytest.mark.usefixtures("fake_package")
def test_failing_configure_falls_back_to_constant(ext: types.ModuleType) -> None:
    info = ext.collect(f"{FAKE}.failing")
    assert info.markers == ["fake_constant: a marker documented by a constant."]


@pytest.mark.usefixtures("fake_package")
def test_render_escapes_help_and_lists_sections(ext: types.ModuleType) -> None:
    lines = ext.render(ext.collect(f"{FAKE}.plugin"))
    text = "\n".join(lines)
    for expected in (
        ".. rubric:: Fixtures",
        ".. describe:: shared_thing",
        "   *fixture, session scope*",
        ".. describe:: @pytest.mark.fake(level=3)",
        ".. option:: --fake-level=N",
        r"   how fake \*this\* is",
        "   Default: ``3``.",
        ".. option:: --fake-on",
        ".. confval:: fake_paths",
        "   :type: ``paths``",
        ".. py:function:: pytest_fake_hook(config, item)",
    ):
        assert expected in lines, f"{expected!r} not in:\n{text}"
    assert "_private_helper" not in text
    assert "not_a_fixture" not in text


@pytest.mark.usefixtures("fake_package")
def test_render_without_index(ext: types.ModuleType) -> None:
    lines = ext.render(ext.collect(f"{FAKE}.plugin"), index=False)
    assert lines.count("   :no-index:") == 2 + 2 + 1  # two options, two ini options, one hook


def test_aiokit_plugin_registers_nothing(ext: types.ModuleType) -> None:
    info = ext.collect("pytest_aiokit.plugin")
    assert (info.fixtures, info.options, info.ini, info.markers, info.hooks) == ([],) * 5
    assert ext.render(info) == [
        "``pytest_aiokit.plugin`` registers no fixture, marker, option or hook.",
        "",
    ]


@pytest.mark.parametrize("module", ["pytest_aioloop.plugin", "pytest_ports.plugin"])
def test_real_plugins_are_readable(ext: types.ModuleType, module: str) -> None:
    info = ext.collect(module)
    assert info.problems == []
    assert info.options
    assert info.ini
