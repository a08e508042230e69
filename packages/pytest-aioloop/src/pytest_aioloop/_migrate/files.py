"""Find the files ``python -m pytest_aioloop migrate`` reads, and read them.

Which files a walked directory yields (and which directories are skipped), how each file is read
(``python``, ``toml``, ``ini`` or ``requirements``), and its text: a Python file decoded by its
coding cookie, any other file as UTF-8 with or without a BOM.
"""

from __future__ import annotations

import io
import os
import tokenize
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator

#: Directories never walked into (a directory holding ``pyvenv.cfg`` is a virtualenv: skipped).
SKIPPED_DIRECTORIES = frozenset(
    {".git", ".hg", ".nox", ".tox", ".venv", "venv", "node_modules", "__pycache__", "build", "dist"}
    | {"site-packages"}
)

_TOML_NAMES = frozenset({"pyproject.toml", "pytest.toml", ".pytest.toml", "tox.toml"})
_INI_NAMES = frozenset({"setup.cfg", "tox.ini", "pytest.ini", ".pytest.ini"})


class Unreadable(Exception):
    """A file that cannot be decoded or parsed; it is reported and skipped."""


def kind_of(path: Path, *, explicit: bool = False) -> str | None:
    """Return how ``migrate`` reads a file (``python``, ``toml``, ``ini``, ``requirements``).

    A file named on the command line is read by its suffix; in a walked directory only the
    names the rules are about are read: ``*.py``, ``*.pyi``, ``pyproject.toml``, ``pytest.toml``,
    ``tox.toml``, ``setup.cfg``, ``tox.ini``, ``pytest.ini``, and ``*.txt``/``*.in`` files whose
    name contains "requirements" or that are in a ``requirements`` directory.
    """
    name, suffix = path.name, path.suffix
    if suffix in (".py", ".pyi"):
        return "python"
    if name in _TOML_NAMES or (explicit and suffix == ".toml"):
        return "toml"
    if name in _INI_NAMES or (explicit and suffix in (".cfg", ".ini")):
        return "ini"
    if suffix in (".txt", ".in") and (
        explicit or "requirements" in name.lower() or path.parent.name.lower() == "requirements"
    ):
        return "requirements"
    return None


def _skipped(directory: Path) -> bool:
    name = directory.name
    return (
        name in SKIPPED_DIRECTORIES
        or name.endswith(".egg-info")
        or (directory / "pyvenv.cfg").is_file()
    )


def walk(root: Path) -> Iterator[Path]:
    """Yield the files below ``root`` that ``migrate`` reads, in a stable order."""
    for directory, subdirectories, files in os.walk(root):
        subdirectories[:] = sorted(d for d in subdirectories if not _skipped(Path(directory, d)))
        for name in sorted(files):
            path = Path(directory, name)
            if not path.is_symlink() and kind_of(path) is not None:
                yield path


def read(path: Path, kind: str) -> tuple[str, str]:
    """Return the text of a file of ``kind`` and its encoding; raise :class:`Unreadable`."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise Unreadable(f"cannot read: {error.strerror or error}") from None
    if kind == "python":
        return _decode_python(data)
    encoding = "utf-8-sig" if data.startswith(b"\xef\xbb\xbf") else "utf-8"
    return _decode(data, encoding), encoding


def _decode_python(data: bytes) -> tuple[str, str]:
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as error:  # a bad coding cookie, or no cookie and not UTF-8
        raise Unreadable(f"cannot decode: {error.msg}") from None
    return _decode(data, encoding), encoding


def _decode(data: bytes, encoding: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as error:
        byte = error.object[error.start]
        raise Unreadable(
            f"cannot decode as {error.encoding}: byte {byte:#04x} at offset {error.start}"
        ) from None
