"""A Sphinx directive that documents a pytest plugin module from the plugin itself.

Usage in a MyST page::

    ```{pytest-plugin} pytest_aioloop.plugin
    ```

It imports the module and renders, each from its own docstring or help text:

- the fixtures defined in the module (name, scope, docstring);
- the command-line and ini options its ``pytest_addoption(parser)`` registers, found by calling
  it with a recording parser;
- the markers its ``pytest_configure(config)`` registers through
  ``config.addinivalue_line("markers", ...)``, found with a recording config (if the hook needs
  anything else, the module's ``MARKERS`` constant is used instead);
- the hook specifications it adds (through ``pytest_addhooks`` or a sibling ``hookspecs``
  module).

The collecting half (:func:`collect`, :func:`render`) does not import Sphinx, so it can be
tested without it.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import re
import types
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

__all__ = ["PluginInfo", "collect", "render", "setup"]

_NOTSET: Any = object()


@dataclasses.dataclass
class Fixture:
    """One fixture defined in the plugin module."""

    name: str
    scope: str
    autouse: bool
    doc: str


@dataclasses.dataclass
class Option:
    """One command-line option."""

    flags: list[str]
    metavar: str | None
    default: Any
    help: str
    group: str


@dataclasses.dataclass
class IniOption:
    """One ini option."""

    name: str
    type: str | None
    default: Any
    help: str


@dataclasses.dataclass
class Hook:
    """One hook specification."""

    name: str
    signature: str
    doc: str


@dataclasses.dataclass
class PluginInfo:
    """Everything the directive renders about one plugin module."""

    module: str
    fixtures: list[Fixture] = dataclasses.field(default_factory=list)
    options: list[Option] = dataclasses.field(default_factory=list)
    ini: list[IniOption] = dataclasses.field(default_factory=list)
    markers: list[str] = dataclasses.field(default_factory=list)
    hooks: list[Hook] = dataclasses.field(default_factory=list)
    problems: list[str] = dataclasses.field(default_factory=list)


# --- collecting ---------------------------------------------------------------------------------


def _fixture_marker(obj: object) -> Any:
    # pytest >= 8.4 wraps fixtures in FixtureFunctionDefinition (``_fixture_function_marker``);
    # older versions set ``_pytestfixturefunction`` on the function.
    return getattr(obj, "_fixture_function_marker", None) or getattr(
        obj, "_pytestfixturefunction", None
    )


def _fixtures(module: types.ModuleType) -> list[Fixture]:
    found = []
    for attr, obj in vars(module).items():
        marker = _fixture_marker(obj)
        if marker is None or (marker.name or attr).startswith("_"):
            continue  # not a fixture, or a private one
        scope = marker.scope
        scope = "dynamic" if callable(scope) else str(scope or "function")
        wrapped = getattr(obj, "_get_wrapped_function", None)
        function = wrapped() if callable(wrapped) else obj
        doc = inspect.getdoc(function) or inspect.getdoc(obj) or ""
        found.append(Fixture(marker.name or attr, scope, bool(marker.autouse), doc))
    return sorted(found, key=lambda f: f.name)


class _RecordingGroup:
    def __init__(self, sink: list[Option], name: str) -> None:
        self._sink = sink
        self.name = name

    def addoption(self, *flags: str, **kwargs: Any) -> None:
        metavar = kwargs.get("metavar")
        action = kwargs.get("action", "store")
        if metavar is None and action in ("store", "append"):
            dest = kwargs.get("dest") or flags[-1].lstrip("-").replace("-", "_")
            metavar = str(dest).upper()
        self._sink.append(
            Option(
                flags=list(flags),
                metavar=None if action not in ("store", "append") else str(metavar),
                default=kwargs.get("default", _NOTSET),
                help=str(kwargs.get("help", "")),
                group=self.name,
            )
        )

    _addoption = addoption


class _RecordingParser:
    """Stands in for ``pytest.Parser``: records options and ini options."""

    def __init__(self) -> None:
        self.options: list[Option] = []
        self.ini: list[IniOption] = []
        self._groups: dict[str, _RecordingGroup] = {}

    def getgroup(self, name: str, description: str = "", after: str | None = None) -> Any:
        return self._groups.setdefault(name, _RecordingGroup(self.options, name))

    def addoption(self, *flags: str, **kwargs: Any) -> None:
        self.getgroup("custom options").addoption(*flags, **kwargs)

    def addini(
        self, name: str, help: str, type: str | None = None, default: Any = _NOTSET, **_: Any
    ) -> None:
        self.ini.append(IniOption(name, type, default, help))


class _Nothing:
    """A falsy stand-in for whatever else a hook touches: every use gives another one."""

    def __getattr__(self, name: str) -> _Nothing:
        return self

    def __call__(self, *args: Any, **kwargs: Any) -> _Nothing:
        return self

    def __getitem__(self, key: object) -> _Nothing:
        return self

    def __setitem__(self, key: object, value: object) -> None:
        pass

    def __bool__(self) -> bool:
        return False

    def __iter__(self) -> Iterator[Any]:
        return iter(())


class _RecordingConfig:
    """Stands in for ``pytest.Config``: records ``addinivalue_line``; the rest is inert."""

    def __init__(self) -> None:
        self.lines: dict[str, list[str]] = {}

    def addinivalue_line(self, name: str, line: str) -> None:
        self.lines.setdefault(name, []).append(line)

    def __getattr__(self, name: str) -> Any:
        # e.g. config.pluginmanager.has_plugin(...) is falsy, config.stash[...] = ... is ignored
        return _Nothing()


class _RecordingPluginManager:
    def __init__(self) -> None:
        self.specs: list[object] = []

    def add_hookspecs(self, module_or_class: object) -> None:
        self.specs.append(module_or_class)

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(f"the docs' recording plugin manager has no {name!r}")


class _InertPluginManager:
    """What ``pytest_addoption(parser, pluginmanager)`` sees: no other plugin is loaded."""

    def get_plugin(self, name: str) -> None:
        return None

    def has_plugin(self, name: str) -> bool:
        return False

    def is_blocked(self, name: str) -> bool:
        return False

    def set_blocked(self, name: str) -> None:
        return None


def _call_hook(function: Callable[..., Any], *args: Any) -> None:
    if "pluginmanager" in inspect.signature(function).parameters:
        args = (*args, _InertPluginManager())
    result = function(*args)
    if inspect.isgenerator(result):  # a hook wrapper: run it up to its yield
        next(result, None)


def _options(module: types.ModuleType, info: PluginInfo) -> None:
    hook = getattr(module, "pytest_addoption", None)
    if hook is None:
        return
    parser = _RecordingParser()
    try:
        _call_hook(hook, parser)
    except Exception as exc:  # the docs must still build; the problem is shown on the page
        info.problems.append(f"pytest_addoption: {type(exc).__name__}: {exc}")
    info.options = parser.options
    info.ini = parser.ini


def _markers(module: types.ModuleType, info: PluginInfo) -> None:
    fallback = [str(m) for m in getattr(module, "MARKERS", ())]
    hook = getattr(module, "pytest_configure", None)
    if hook is None:
        info.markers = fallback
        return
    config = _RecordingConfig()
    try:
        _call_hook(hook, config)
    except Exception:
        # The hook does more than register markers and failed on the stand-in config: keep the
        # markers it registered before failing, else trust the module's constant.
        info.markers = config.lines.get("markers", []) or fallback
        return
    info.markers = config.lines.get("markers", []) or fallback


def _hook_modules(module: types.ModuleType) -> list[object]:
    specs: list[object] = []
    addhooks = getattr(module, "pytest_addhooks", None)
    if addhooks is not None:
        manager = _RecordingPluginManager()
        try:
            _call_hook(addhooks, manager)
            specs = manager.specs
        except Exception:
            specs = []
    if not specs:
        package = module.__name__.rpartition(".")[0]
        for name in ("hookspecs", "newhooks"):
            try:
                specs.append(importlib.import_module(f"{package}.{name}" if package else name))
                break
            except ImportError:
                continue
    return specs


def _plain_signature(function: Callable[..., Any]) -> str:
    # Annotations are left out: they would need cross-references to pytest's own docs.
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return "(...)"
    return (
        "("
        + ", ".join(p.replace(annotation=inspect.Parameter.empty).__str__() for p in parameters)
        + ")"
    )


def _hooks(module: types.ModuleType) -> list[Hook]:
    found = []
    for spec in _hook_modules(module):
        for name, obj in vars(spec).items():
            if name.startswith("pytest_") and inspect.isfunction(obj):
                found.append(Hook(name, _plain_signature(obj), inspect.getdoc(obj) or ""))
    return sorted(found, key=lambda h: h.name)


def collect(module_name: str) -> PluginInfo:
    """Import ``module_name`` and gather what a reference page shows about it."""
    module = importlib.import_module(module_name)
    info = PluginInfo(module_name, fixtures=_fixtures(module))
    _options(module, info)
    _markers(module, info)
    info.hooks = _hooks(module)
    return info


# --- rendering ----------------------------------------------------------------------------------

_ESCAPE = re.compile(r"([\\`*_|])")


def _escape(text: str) -> str:
    """Escape plain text (a help string) for reST."""
    return _ESCAPE.sub(r"\\\1", " ".join(text.split()))


def _default(value: Any) -> str:
    if value is _NOTSET:
        return ""
    return f"``{value!r}``"


def _indent(lines: Iterable[str], by: str = "   ") -> list[str]:
    return [by + line if line else "" for line in lines]


def render(
    info: PluginInfo,
    docstring: Callable[[str], Sequence[str]] = str.splitlines,
    index: bool = True,
) -> list[str]:
    """Return reST lines for ``info``; ``docstring`` turns a docstring into reST lines."""
    no_index = [] if index else ["   :no-index:"]
    out: list[str] = []

    def section(title: str) -> None:
        out.extend([f".. rubric:: {title}", ""])

    if info.fixtures:
        section("Fixtures")
        for fixture in info.fixtures:
            extra = f"{fixture.scope} scope" + (", autouse" if fixture.autouse else "")
            out.extend([f".. describe:: {fixture.name}", "", f"   *fixture, {extra}*", ""])
            out.extend(_indent(docstring(fixture.doc) if fixture.doc else ["(undocumented)"]))
            out.append("")
    if info.markers:
        section("Markers")
        for line in info.markers:
            signature, _, text = line.partition(":")
            out.extend([f".. describe:: @pytest.mark.{signature.strip()}", ""])
            out.extend(_indent([_escape(text) or "(undocumented)"]))
            out.append("")
    if info.options:
        section("Command-line options")
        out.extend([".. program:: pytest", ""])
        for option in info.options:
            arg = f"={option.metavar}" if option.metavar else ""
            out.extend([f".. option:: {', '.join(f + arg for f in option.flags)}", *no_index, ""])
            out.extend(_indent([_escape(option.help) or "(undocumented)"]))
            if option.default not in (_NOTSET, None):
                out.extend(["", f"   Default: {_default(option.default)}."])
            out.append("")
    if info.ini:
        section("Ini options")
        for ini in info.ini:
            out.extend([f".. confval:: {ini.name}", *no_index])
            out.append(f"   :type: ``{ini.type or 'string'}``")
            if ini.default is not _NOTSET:
                out.append(f"   :default: {_default(ini.default)}")
            out.append("")
            out.extend(_indent([_escape(ini.help) or "(undocumented)"]))
            out.append("")
    if info.hooks:
        section("Hooks")
        for hook in info.hooks:
            out.extend([f".. py:function:: {hook.name}{hook.signature}", *no_index, ""])
            out.extend(_indent(docstring(hook.doc) if hook.doc else ["(undocumented)"]))
            out.append("")
    if info.problems:
        section("Problems found while reading the plugin")
        out.extend(f"- {_escape(problem)}" for problem in info.problems)
        out.append("")
    if len(out) == 0:
        out.extend([f"``{info.module}`` registers no fixture, marker, option or hook.", ""])
    return out


# --- Sphinx -------------------------------------------------------------------------------------


def setup(app: Any) -> dict[str, Any]:
    """Register the ``pytest-plugin`` directive."""
    from docutils import nodes
    from docutils.parsers.rst import directives
    from docutils.statemachine import StringList
    from sphinx.ext.napoleon.docstring import GoogleDocstring
    from sphinx.util.docutils import SphinxDirective
    from sphinx.util.nodes import nested_parse_with_titles

    class PytestPluginDirective(SphinxDirective):
        """``{pytest-plugin} module.name``: document a pytest plugin module."""

        required_arguments = 1
        option_spec = {"no-index": directives.flag}

        def run(self) -> list[nodes.Node]:
            module_name = self.arguments[0]
            try:
                info = collect(module_name)
            except Exception as exc:
                raise self.error(f"cannot import {module_name}: {exc}") from exc

            def docstring(text: str) -> list[str]:
                return GoogleDocstring(text, self.config, what="function").lines()

            lines = render(info, docstring, index="no-index" not in self.options)
            if self.env.doc2path(self.env.docname).suffix == ".md":
                # Inside MyST, nested content is parsed as Markdown: hand the reST over whole.
                lines = ["````{eval-rst}", *lines, "````"]
            container = nodes.container()
            source = f"<pytest-plugin {module_name}>"
            content = StringList(lines, source=source)
            nested_parse_with_titles(self.state, content, container)
            return list(container.children)

    app.setup_extension("sphinx.ext.napoleon")
    app.add_directive("pytest-plugin", PytestPluginDirective)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
