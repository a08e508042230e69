"""pytest-aioloop's command line: ``python -m pytest_aioloop --help``."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from pytest_aioloop._version import __version__

if TYPE_CHECKING:
    from collections.abc import Sequence

_MIGRATE_RULES = """\
what changes:
  Python files   the module name pytest_asyncio, as a whole word, in code, strings and
                 comments: import pytest_asyncio, @pytest_asyncio.fixture,
                 pytest_asyncio.is_async_test, pytest_plugins = ["pytest_asyncio"], code in
                 pytester strings. In strings, -p asyncio becomes -p aioloop.
  dependencies   pytest-asyncio (any spelling pip treats as the same name) in pyproject.toml
                 (PEP 621, dependency groups, Poetry, PDM, Hatch, uv, tox), setup.cfg,
                 tox.ini, tox.toml, requirements*.txt and *.in, noxfile.py and setup.py
                 becomes pytest-aioloop; its version specifier and extras are dropped (they
                 are pytest-asyncio's), its environment marker and comment are kept. It
                 becomes pytest-aiokit if the tests use unused_tcp_port, unused_udp_port or
                 their factories: pytest-aioloop alone has no port fixtures.
  pytest options -p asyncio -> -p aioloop and -p pytest_asyncio -> -p pytest_aioloop in
                 addopts and tox commands; required_plugins names pytest-aioloop.

what does not change:
  names that only start with pytest_asyncio (the hook pytest_asyncio_loop_factories), the
  word pytest-asyncio in prose, -p no:asyncio, the asyncio_* options (pytest-aioloop reads
  the same ones), documentation files, hashed (locked) requirements (regenerate them), git,
  path or url sources. A line of a configuration file that still mentions pytest-asyncio is
  listed as a note.

exit status: 0 when done (or, with --check, nothing to change); 1 when --check finds
changes or a file could not be read or parsed (the other files are still done).
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m pytest_aioloop",
        description="pytest-aioloop's tools. The plugin itself needs no command: pytest loads it.",
    )
    parser.add_argument(
        "--version",
        action="version",
        version=f"pytest-aioloop {__version__}",
        help="show the version and exit",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    migrate = commands.add_parser(
        "migrate",
        help="rewrite a project from pytest-asyncio to pytest-aioloop",
        description="Rewrite a project written for pytest-asyncio to use pytest-aioloop, in\n"
        "place: the module name in Python files, the dependency declarations and\n"
        "pytest's -p options. Files that need no change are not touched.",
        epilog=_MIGRATE_RULES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    migrate.add_argument(
        "paths",
        nargs="*",
        default=["."],
        metavar="PATH",
        help="files and directories to migrate (default: the current directory); directories "
        "are walked, skipping .git, .nox, .tox, virtualenvs, node_modules, build, dist, "
        "*.egg-info and site-packages",
    )
    migrate.add_argument(
        "--diff",
        action="store_true",
        help="print a unified diff of every change to stdout (the summary goes to stderr) and "
        "write nothing",
    )
    migrate.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit with 1 if any file would change (for CI)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    args = _parser().parse_args(sys.argv[1:] if argv is None else argv)
    from pytest_aioloop._migrate import command

    return command.run(
        args.paths, diff=args.diff, check=args.check, stdout=sys.stdout, stderr=sys.stderr
    )


if __name__ == "__main__":
    sys.exit(main())
