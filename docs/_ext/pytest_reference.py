"""Sphinx directives that document a pytest plugin module from the plugin itself.

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

Options of the directive:

- ``:options-table: package.module.OPTIONS``: the options listed in that sequence (objects with
  ``ini``, ``flag``, ``metavar``, ``help``, ``default``, ``kind`` and optionally ``env``) are
  shown as one table pairing each ini option with its command-line flag, environment variable
  and default, followed by what each means, instead of one entry per flag and per ini name;
- ``:sections: fixtures markers``: only those of ``fixtures``, ``markers``, ``options`` and
  ``hooks``, so that each can stand under its own heading;
- ``:no-index:``: no index entries (for a second page about the same plugin).

A second directive, ``{overloaded-function} package.function``, documents a function that has
``typing.overload`` variants or a sentinel default with one clean signature::

    ```{overloaded-function} pytest_aioloop.fixture
    :defaults: timeout=asyncio_timeout
    ```

The collecting half (:func:`collect`, :func:`render`, :func:`function_lines`) does not import
Sphinx, so it can be tested without it.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import re
import types
import typing
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

__all__ = ["OptionRow", "PluginInfo", "collect", "function_lines", "render", "setup"]

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
class OptionRow:
    """One setting of an options table: its ini name and its command-line and env twins."""

    ini: str
    flag: str
    metavar: str | None
    env: str | None
    default: str | None
    kind: str
    help: str


@dataclasses.dataclass
class PluginInfo:
    """Everything the directive renders about one plugin module."""

    module: str
    fixtures: list[Fixture] = dataclasses.field(default_factory=list)
    options: list[Option] = dataclasses.field(default_factory=list)
    ini: list[IniOption] = dataclasses.field(default_factory=list)
    table: list[OptionRow] = dataclasses.field(default_factory=list)
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


def _import_attribute(dotted: str) -> Any:
    module_name, _, attribute = dotted.rpartition(".")
    return getattr(importlib.import_module(module_name), attribute)


def _option_table(dotted: str, info: PluginInfo) -> None:
    """Read the options table ``dotted`` and check it against what the plugin registers."""
    rows = [
        OptionRow(
            ini=str(spec.ini),
            flag=str(spec.flag),
            metavar=None if spec.metavar is None else str(spec.metavar),
            env=getattr(spec, "env", None),
            default=None if spec.default is None else str(spec.default),
            kind=str(getattr(spec, "kind", "string")),
            help=str(spec.help),
        )
        for spec in _import_attribute(dotted)
    ]
    registered_ini = {ini.name for ini in info.ini}
    registered_flags = {flag for option in info.options for flag in option.flags}
    for row in rows:
        if row.ini not in registered_ini:
            info.problems.append(f"{dotted} lists {row.ini}, which pytest_addoption does not add")
        if row.flag not in registered_flags:
            info.problems.append(f"{dotted} lists {row.flag}, which pytest_addoption does not add")
    # What the table shows is not listed again, one entry per flag and per ini name.
    info.ini = [ini for ini in info.ini if ini.name not in {row.ini for row in rows}]
    flags = {row.flag for row in rows}
    info.options = [option for option in info.options if not flags.intersection(option.flags)]
    info.table = rows


def collect(module_name: str, options_table: str | None = None) -> PluginInfo:
    """Import ``module_name`` and gather what a reference page shows about it.

    ``options_table`` names a sequence of option specifications (``package.module.OPTIONS``)
    to show as one table instead of the per-flag and per-ini entries.
    """
    module = importlib.import_module(module_name)
    info = PluginInfo(module_name, fixtures=_fixtures(module))
    _options(module, info)
    if options_table:
        _option_table(options_table, info)
    _markers(module, info)
    info.hooks = _hooks(module)
    return info


# --- rendering ----------------------------------------------------------------------------------

_ESCAPE = re.compile(r"([\\`*_|])")
#: A command-line flag inside a help text: shown as code, so ``--x`` never becomes a dash.
_FLAG = re.compile(r"(?<![\w-])(--[a-z][\w-]*(?:=[\w-]+)?)")


def _escape(text: str) -> str:
    """Escape plain text (a help string) for reST; command-line flags become inline code."""
    parts = _FLAG.split(" ".join(text.split()))
    return "".join(
        f"``{part}``" if i % 2 else _ESCAPE.sub(r"\\\1", part) for i, part in enumerate(parts)
    )


def _default(value: Any) -> str:
    """Spell a default as it is written in an ini file or on the command line."""
    if value is _NOTSET:
        return ""
    if value is None:
        return "unset"
    if isinstance(value, str):
        return f"``{value}``" if value else "empty"
    return f"``{value!r}``"


#: Metavars that name a unit: a default of ``0`` in that unit turns the setting off.
_UNITS = {"SECONDS": "seconds"}


def _row_default(row: OptionRow) -> str:
    if row.default is None:
        return "unset"
    unit = _UNITS.get(row.metavar or "")
    if unit and row.default.strip() in ("0", ""):
        return "``0`` (off)"
    return _default(row.default) + (f" {unit}" if unit else "")


def _row_flag(row: OptionRow) -> str:
    if row.kind == "bool" or not row.metavar:
        return f"``{row.flag}``"
    return f"``{row.flag}={row.metavar}``"


def _table_row(cells: Sequence[str]) -> list[str]:
    first, *rest = cells
    return [f"   * - {first}", *(f"     - {cell}" for cell in rest)]


def _table(rows: Sequence[OptionRow], no_index: Sequence[str] = ()) -> list[str]:
    """Return a reST table (ini option, command line, environment, default), then each meaning."""
    out = [".. list-table::", "   :header-rows: 1", "   :class: option-table", ""]
    out += _table_row(["ini option", "command line", "environment", "default"])
    for row in rows:
        env = f"``{row.env}``" if row.env else "\N{EM DASH}"
        out += _table_row([f"``{row.ini}``", _row_flag(row), env, _row_default(row)])
    out.append("")
    for row in rows:
        meaning = _escape(row.help) or "(undocumented)"
        if row.kind == "bool":
            meaning += " In the ini file: ``true`` or ``false``; on the command line, a flag."
        out.extend([f".. confval:: {row.ini}", *no_index, "", f"   {meaning}", ""])
    return out


def _indent(lines: Iterable[str], by: str = "   ") -> list[str]:
    return [by + line if line else "" for line in lines]


#: What :func:`render` can show, in the order it shows it.
SECTIONS = ("fixtures", "markers", "options", "hooks")


def render(
    info: PluginInfo,
    docstring: Callable[[str], Sequence[str]] = str.splitlines,
    index: bool = True,
    sections: Iterable[str] = SECTIONS,
) -> list[str]:
    """Return reST lines for ``info``; ``docstring`` turns a docstring into reST lines.

    ``sections`` picks some of :data:`SECTIONS`, so that one page can put each under its own
    heading; problems found while reading the plugin are always shown.
    """
    no_index = [] if index else ["   :no-index:"]
    out: list[str] = []
    chosen = set(sections)
    if chosen - set(SECTIONS):
        raise ValueError(f"unknown sections {sorted(chosen - set(SECTIONS))}; use {SECTIONS}")
    everything = chosen == set(SECTIONS)
    if not everything:  # only what was asked for
        info = dataclasses.replace(
            info,
            fixtures=info.fixtures if "fixtures" in chosen else [],
            markers=info.markers if "markers" in chosen else [],
            table=info.table if "options" in chosen else [],
            options=info.options if "options" in chosen else [],
            ini=info.ini if "options" in chosen else [],
            hooks=info.hooks if "hooks" in chosen else [],
        )

    def section(title: str) -> None:
        if chosen != {title.lower()}:  # alone, a section sits under the page's own heading
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
    if info.table:
        section("Options")
        out.extend(_table(info.table, no_index))
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
        what = "fixture, marker, option or hook" if everything else " or ".join(sorted(chosen))
        out.extend([f"``{info.module}`` registers no {what}.", ""])
    return out


class _Shown:
    """A default value whose repr is the text given for it (``timeout=asyncio_timeout``)."""

    def __init__(self, text: str) -> None:
        self._text = text

    def __repr__(self) -> str:
        return self._text


def _is_sentinel(value: object) -> bool:
    return value is Ellipsis or type(value) is object


def _mentions_typevar(annotation: str, namespace: dict[str, Any]) -> bool:
    names = re.findall(r"[A-Za-z_]\w*", annotation)
    return any(isinstance(namespace.get(name), typing.TypeVar) for name in names)


def _spelled(annotation: object) -> str:
    return annotation if isinstance(annotation, str) else inspect.formatannotation(annotation)


def _parameter_types(function: Callable[..., Any]) -> dict[str, str]:
    """Return each parameter's type as the overloads spell it (the implementation's, if none).

    Types that involve a type variable are left out: the description says what they are.
    """
    variants = list(typing.get_overloads(function)) if hasattr(typing, "get_overloads") else []
    namespace = getattr(function, "__globals__", {})
    spelled: dict[str, list[str]] = {}
    for variant in variants or [function]:
        for name, annotation in getattr(variant, "__annotations__", {}).items():
            text = _spelled(annotation)
            if name != "return" and text not in spelled.setdefault(name, []):
                spelled[name].append(text)
    types_: dict[str, str] = {}
    for name, texts in spelled.items():
        if any(_mentions_typevar(text, namespace) for text in texts):
            continue
        # ``x: T`` in one variant and ``x: None`` in another read as ``T | None``.
        not_none = [text for text in texts if text != "None"]
        types_[name] = " | ".join([*not_none, "None"] if len(not_none) < len(texts) else texts)
    return types_


def _typed_google_args(doc: str, types_: dict[str, str]) -> str:
    """Write ``name (type):`` for each entry of the docstring's ``Args:`` section."""
    lines = doc.splitlines()
    out: list[str] = []
    indent: str | None = None
    in_args = False
    for line in lines:
        stripped = line.strip()
        if stripped in ("Args:", "Arguments:", "Parameters:"):
            in_args, indent = True, None
        elif in_args and stripped and not line.startswith((" ", "\t")):
            in_args = False  # the next section
        elif in_args and stripped:
            current = line[: len(line) - len(line.lstrip())]
            indent = indent or current
            match = re.match(r"(\*{0,2}\w+):(\s|$)", stripped)
            if current == indent and match and match.group(1) in types_:
                name = match.group(1)
                out.append(f"{indent}{name} ({types_[name]}):{stripped[len(name) + 1 :]}")
                continue
        out.append(line)
    return "\n".join(out)


def function_lines(
    dotted: str,
    defaults: dict[str, str] | None = None,
    docstring: Callable[[str], Sequence[str]] = str.splitlines,
) -> list[str]:
    """Return reST for the function ``dotted`` with one signature, without annotations.

    ``defaults`` spells a parameter's default as a reader should see it (the name of the
    setting it falls back to, say). A sentinel default (``...`` or a bare ``object()``) without
    such a spelling is an error, so the page never shows ``Ellipsis``. Each parameter's type
    goes into the description, as autodoc does with ``autodoc_typehints = "description"``.
    """
    defaults = defaults or {}
    module_name, _, name = dotted.rpartition(".")
    function = _import_attribute(dotted)
    signature = inspect.signature(function)
    unknown = set(defaults) - set(signature.parameters)
    if unknown:
        raise ValueError(f"{dotted} has no parameter {', '.join(sorted(unknown))}")
    parameters = []
    for parameter in signature.parameters.values():
        default = parameter.default
        if parameter.name in defaults:
            default = _Shown(defaults[parameter.name])
        elif default is not inspect.Parameter.empty and _is_sentinel(default):
            raise ValueError(
                f"{dotted}: say how the default of {parameter.name!r} reads, "
                f"e.g. :defaults: {parameter.name}=the_setting"
            )
        parameters.append(parameter.replace(annotation=inspect.Parameter.empty, default=default))
    shown = signature.replace(parameters=parameters, return_annotation=inspect.Signature.empty)
    doc = _typed_google_args(inspect.getdoc(function) or "", _parameter_types(function))
    out = [f".. py:function:: {name}{shown}", f"   :module: {module_name}", ""]
    out.extend(_indent(docstring(doc) if doc else ["(undocumented)"]))
    out.append("")
    return out


# --- Sphinx -------------------------------------------------------------------------------------


def _parse_defaults(text: str) -> dict[str, str]:
    """Parse ``name=shown; other=shown`` (or one pair a line)."""
    pairs = [item.strip() for item in re.split(r"[;\n]", text) if item.strip()]
    parsed = {}
    for pair in pairs:
        name, sep, shown = pair.partition("=")
        if not sep or not name.strip() or not shown.strip():
            raise ValueError(f"expected name=text, got {pair!r}")
        parsed[name.strip()] = shown.strip()
    return parsed


def setup(app: Any) -> dict[str, Any]:
    """Register the ``pytest-plugin`` and ``overloaded-function`` directives."""
    from docutils import nodes
    from docutils.parsers.rst import directives
    from docutils.statemachine import StringList
    from sphinx.ext.napoleon.docstring import GoogleDocstring
    from sphinx.util.docutils import SphinxDirective
    from sphinx.util.nodes import nested_parse_with_titles

    class _RestDirective(SphinxDirective):
        """Render generated reST lines in place, in a MyST page as in a reST one."""

        def docstring(self, text: str) -> list[str]:
            return GoogleDocstring(text, self.config, what="function").lines()

        def parse(self, lines: list[str], source: str) -> list[nodes.Node]:
            if self.env.doc2path(self.env.docname).suffix == ".md":
                # Inside MyST, nested content is parsed as Markdown: hand the reST over whole.
                lines = ["````{eval-rst}", *lines, "````"]
            container = nodes.container()
            nested_parse_with_titles(self.state, StringList(lines, source=source), container)
            return list(container.children)

    class PytestPluginDirective(_RestDirective):
        """``{pytest-plugin} module.name``: document a pytest plugin module."""

        required_arguments = 1
        option_spec = {
            "no-index": directives.flag,
            "options-table": directives.unchanged,
            "sections": directives.unchanged,
        }

        def run(self) -> list[nodes.Node]:
            module_name = self.arguments[0]
            try:
                info = collect(module_name, self.options.get("options-table"))
            except Exception as exc:
                raise self.error(f"cannot import {module_name}: {exc}") from exc
            sections = self.options.get("sections", "").split() or SECTIONS
            try:
                lines = render(
                    info, self.docstring, index="no-index" not in self.options, sections=sections
                )
            except ValueError as exc:
                raise self.error(str(exc)) from exc
            return self.parse(lines, f"<pytest-plugin {module_name}>")

    class OverloadedFunctionDirective(_RestDirective):
        """``{overloaded-function} module.function``: one clean signature, then the docstring."""

        required_arguments = 1
        option_spec = {"defaults": directives.unchanged}

        def run(self) -> list[nodes.Node]:
            dotted = self.arguments[0]
            try:
                defaults = _parse_defaults(self.options.get("defaults", ""))
                lines = function_lines(dotted, defaults, self.docstring)
            except Exception as exc:
                raise self.error(f"cannot document {dotted}: {exc}") from exc
            return self.parse(lines, f"<overloaded-function {dotted}>")

    app.setup_extension("sphinx.ext.napoleon")
    app.add_directive("pytest-plugin", PytestPluginDirective)
    app.add_directive("overloaded-function", OverloadedFunctionDirective)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
