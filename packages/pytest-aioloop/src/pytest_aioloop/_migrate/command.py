"""Rewrite a project from pytest-asyncio to pytest-aioloop: ``python -m pytest_aioloop migrate``.

The rules, by kind of file (the CLI's ``--help`` and the migration how-to say the same):

- Python files (``*.py``, ``*.pyi``): the module name ``pytest_asyncio`` becomes
  ``pytest_aioloop`` wherever it is a whole word: in code, in every string (pytester sources,
  ``pytest_plugins``, ``"pytest_asyncio.fixture"`` in mocks, paths in expected output) and in
  comments. A longer name that starts with it, such as the hook ``pytest_asyncio_loop_factories``,
  is never touched, and neither is the distribution name ``pytest-asyncio`` in prose. In strings,
  ``-p asyncio`` (pytest-asyncio's plugin name) becomes ``-p aioloop``. In ``noxfile.py`` and
  ``setup.py``, a string whose whole value is a requirement on pytest-asyncio is a dependency.
- Dependencies (``pyproject.toml``, ``setup.cfg``, ``tox.ini``, ``tox.toml``, requirements files
  and the two Python files above): a requirement on pytest-asyncio, in any spelling PEP 503
  normalises to it, becomes ``pytest-aioloop``, keeping its environment marker and dropping its
  version specifier and extras (the versions and extras are pytest-asyncio's). It becomes
  ``pytest-aiokit`` instead when the tests use pytest-asyncio's port fixtures, which pytest-aioloop
  alone does not provide. Hashed (locked) requirements are left for the lock tool, and git, path
  or url sources for a person.
- pytest configuration (``addopts``, tox ``commands``): ``-p asyncio`` becomes ``-p aioloop`` and
  ``-p pytest_asyncio`` ``-p pytest_aioloop``; ``required_plugins`` names pytest-aioloop.
  ``-p no:asyncio`` and the ``asyncio_*`` options stay as they are.

Everything else is left alone; a line of a configuration file that still mentions pytest-asyncio
afterwards is listed as a note. Only the standard library is used, so the command starts fast.

This module runs the command and reports what it did; the package's docstring says where each
rule lives. Python files are rewritten first (each tokenized once: the tokens also tell whether
the project uses pytest-asyncio's port fixtures), then the files that declare dependencies; the
report lists the files in the order they were found.
"""

from __future__ import annotations

import dataclasses
import difflib
import io
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from pytest_aioloop._migrate.distribution import DistributionChoice, PortFixtureUses
from pytest_aioloop._migrate.edits import Edits
from pytest_aioloop._migrate.files import Unreadable, kind_of, read, walk
from pytest_aioloop._migrate.ini_config import rewrite_ini
from pytest_aioloop._migrate.python import PYTHON_DEPENDENCY_FILES, rewrite_python
from pytest_aioloop._migrate.requirements import rewrite_requirements
from pytest_aioloop._migrate.tokens import tokenize_source
from pytest_aioloop._migrate.toml_config import rewrite_toml

if TYPE_CHECKING:
    from collections.abc import Sequence

    from pytest_aioloop._migrate.edits import Change


@dataclasses.dataclass
class Outcome:
    """What ``migrate`` does to one file."""

    path: Path
    old: str
    new: str
    encoding: str
    changes: list[Change]
    notes: list[str]

    @property
    def changed(self) -> bool:
        return self.new != self.old


def migrate_file(
    path: Path, kind: str, choice: DistributionChoice, uses: PortFixtureUses
) -> Outcome:
    """Return what ``migrate`` makes of one file; raise :class:`Unreadable` if it cannot."""
    text, encoding = read(path, kind)
    edits = Edits(text)
    if kind == "python":
        tokens = tokenize_source(text)
        uses.add(path, tokens)
        declares = path.name in PYTHON_DEPENDENCY_FILES
        rewrite_python(edits, tokens, choice.replacement if declares else None)
    elif kind == "toml":
        rewrite_toml(edits, choice.replacement)
    elif kind == "ini":
        rewrite_ini(edits, choice.replacement)
    else:
        rewrite_requirements(edits, choice.replacement)
    notes = [f"{path}:{line}: {message}" for line, message in sorted(edits.notes.items())]
    changes = sorted(edits.changes, key=lambda change: change.line)
    return Outcome(path, text, edits.result(), encoding, changes, notes)


def _declares_dependencies(path: Path, kind: str) -> bool:
    """Whether a file may name pytest-asyncio as a dependency (it asks which distribution)."""
    return kind != "python" or path.name in PYTHON_DEPENDENCY_FILES


def _summary(outcome: Outcome) -> str:
    counts: dict[str, int] = {}
    for change in outcome.changes:
        counts[change.kind] = counts.get(change.kind, 0) + 1
    words = {
        "module": ("rename of pytest_asyncio", "renames of pytest_asyncio"),
        "dependency": ("dependency", "dependencies"),
        "option": ("-p option", "-p options"),
    }
    return ", ".join(
        f"{counts[kind]} {words[kind][counts[kind] != 1]}" for kind in words if kind in counts
    )


def _diff(outcome: Outcome) -> str:
    name = outcome.path.as_posix()  # a patch: patch -p0 and git apply -p0 read it
    lines = difflib.unified_diff(
        io.StringIO(outcome.old, newline="").readlines(),
        io.StringIO(outcome.new, newline="").readlines(),
        fromfile=name,
        tofile=name,
    )
    text = []
    for line in lines:
        text.append(line)
        if not line.endswith(("\n", "\r")):
            text.append("\n\\ No newline at end of file\n")
    return "".join(text)


def run(paths: Sequence[str], *, diff: bool, check: bool, stdout: TextIO, stderr: TextIO) -> int:
    """Migrate ``paths``; return the exit status (1 on an unreadable file, or with ``check``)."""
    files, roots, errors = _collect(paths, stderr)
    uses = PortFixtureUses()
    choice = DistributionChoice(roots, uses)
    # Python files first: their tokens tell the choice of distribution what the project uses.
    outcomes: dict[int, Outcome | Unreadable] = {}
    for declares in (False, True):
        for index, (path, kind) in enumerate(files):
            if _declares_dependencies(path, kind) is declares:
                outcomes[index] = _attempt(path, kind, choice, uses)
    write = not (diff or check)
    report = stderr if diff else stdout  # with --diff, stdout is a patch and nothing else
    changed = unchanged = 0
    for index, (path, _) in enumerate(files):
        outcome = outcomes[index]
        if isinstance(outcome, Unreadable):
            print(f"error: {path}: {outcome}; skipped", file=stderr)
            errors += 1
            continue
        if outcome.changed:
            changed += 1
            _apply(outcome, diff=diff, write=write, stdout=stdout, report=report)
        else:
            unchanged += 1
        for note in outcome.notes:
            print(f"note: {note}", file=report)
    if choice.kit_chosen:
        print(choice.kit_reason(), file=report)
    total = [
        f"{changed} file{'s' * (changed != 1)} {'rewritten' if write else 'would be rewritten'}",
        f"{unchanged} unchanged",
    ]
    if errors:
        total.append(f"{errors} skipped with errors")
    print(", ".join(total), file=report)
    return 1 if errors or (check and changed) else 0


def _collect(
    paths: Sequence[str], stderr: TextIO
) -> tuple[list[tuple[Path, str]], list[Path], int]:
    """Return the files to migrate with their kinds, the project's roots, and the errors."""
    errors = 0
    files: list[tuple[Path, str]] = []
    roots: list[Path] = []
    seen: set[Path] = set()
    for argument in paths:
        path = Path(argument)
        if path.is_dir():
            roots.append(path)
            found = [(p, kind_of(p) or "") for p in walk(path)]
        elif path.is_file():
            roots.append(path.parent)
            kind = kind_of(path, explicit=True)
            if kind is None:
                print(f"error: {path}: not a Python, TOML, INI or requirements file", file=stderr)
                errors += 1
                continue
            found = [(path, kind)]
        else:
            print(f"error: {path}: no such file or directory", file=stderr)
            errors += 1
            continue
        for file, kind in found:
            if file.resolve() not in seen:
                seen.add(file.resolve())
                files.append((file, kind))
    return files, roots, errors


def _attempt(
    path: Path, kind: str, choice: DistributionChoice, uses: PortFixtureUses
) -> Outcome | Unreadable:
    try:
        outcome = migrate_file(path, kind, choice, uses)
    except Unreadable as error:
        return error
    if not outcome.changed:
        outcome.old = outcome.new = ""  # kept until the report: only what it says
    return outcome


def _apply(outcome: Outcome, *, diff: bool, write: bool, stdout: TextIO, report: TextIO) -> None:
    """Write (or show) a changed file and report its changes."""
    path = outcome.path
    if diff:
        stdout.write(_diff(outcome))
    if write:
        path.write_bytes(outcome.new.encode(outcome.encoding))
    verb = "rewrote" if write else "would rewrite"
    print(f"{verb} {path} ({_summary(outcome)})", file=report)
    for change in outcome.changes:
        if change.kind == "dependency":
            print(f"  {path}:{change.line}: {change.detail}", file=report)
