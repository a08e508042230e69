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

Where each part lives: this module runs the command and reports what it did;
``_migrate_files`` finds and reads the files; ``_migrate_edits`` records the changes to one
file's text; ``_migrate_python`` rewrites Python source; ``_migrate_deps`` rewrites requirements
and requirements files; ``_migrate_replacement`` chooses pytest-aioloop or pytest-aiokit;
``_migrate_config`` rewrites TOML and INI configuration, located by ``_migrate_toml``.
"""

from __future__ import annotations

import dataclasses
import difflib
import io
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from pytest_aioloop._migrate_config import rewrite_ini, rewrite_toml
from pytest_aioloop._migrate_deps import rewrite_requirements
from pytest_aioloop._migrate_edits import Edits
from pytest_aioloop._migrate_files import Unreadable, kind_of, read, walk
from pytest_aioloop._migrate_python import PYTHON_DEPENDENCY_FILES, rewrite_python
from pytest_aioloop._migrate_replacement import Dependencies

if TYPE_CHECKING:
    from collections.abc import Sequence

    from pytest_aioloop._migrate_edits import Change


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


def migrate_file(path: Path, kind: str, dependencies: Dependencies) -> Outcome:
    """Return what ``migrate`` makes of one file; raise :class:`Unreadable` if it cannot."""
    text, encoding = read(path, kind)
    edits = Edits(text)
    if kind == "python":
        rewrite_python(edits, dependencies if path.name in PYTHON_DEPENDENCY_FILES else None)
    elif kind == "toml":
        rewrite_toml(edits, dependencies)
    elif kind == "ini":
        rewrite_ini(edits, dependencies)
    else:
        rewrite_requirements(edits, dependencies)
    notes = [f"{path}:{line}: {message}" for line, message in sorted(edits.notes.items())]
    changes = sorted(edits.changes, key=lambda change: change.line)
    return Outcome(path, text, edits.result(), encoding, changes, notes)


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
    write = not (diff or check)
    report = stderr if diff else stdout  # with --diff, stdout is a patch and nothing else
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
    dependencies = Dependencies(roots)
    changed = unchanged = 0
    for path, kind in files:
        try:
            outcome = migrate_file(path, kind, dependencies)
        except Unreadable as error:
            print(f"error: {path}: {error}; skipped", file=stderr)
            errors += 1
            continue
        if outcome.changed:
            changed += 1
            if diff:
                stdout.write(_diff(outcome))
            if write:
                path.write_bytes(outcome.new.encode(outcome.encoding))
            verb = "rewrote" if write else "would rewrite"
            print(f"{verb} {path} ({_summary(outcome)})", file=report)
            for change in outcome.changes:
                if change.kind == "dependency":
                    print(f"  {path}:{change.line}: {change.detail}", file=report)
        else:
            unchanged += 1
        for note in outcome.notes:
            print(f"note: {note}", file=report)
    if dependencies.kit_chosen:
        print(dependencies.kit_reason(), file=report)
    total = [
        f"{changed} file{'s' * (changed != 1)} {'rewritten' if write else 'would be rewritten'}",
        f"{unchanged} unchanged",
    ]
    if errors:
        total.append(f"{errors} skipped with errors")
    print(", ".join(total), file=report)
    return 1 if errors or (check and changed) else 0
