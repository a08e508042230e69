"""One version for all three distributions, and the nox session that bumps it."""

from __future__ import annotations

import atexit
import importlib.util
import pathlib
import re
import shutil
import sys
import types
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
PACKAGES = ROOT / "packages"
NAMES = ("pytest-aioloop", "pytest-ports", "pytest-aiokit")
VERSION_RE = re.compile(r'^__version__ = "([^"]+)"$', re.MULTILINE)
PIN_RE = re.compile(r'"(pytest-(?:aioloop|ports))\s*(==|>=|~=|<=|!=|<|>)?\s*([^";]*)"')

F = TypeVar("F", bound=Callable[..., Any])


def version_of(root: pathlib.Path, name: str) -> str:
    text = (root / name / "src" / name.replace("-", "_") / "_version.py").read_text()
    match = VERSION_RE.search(text)
    assert match, f"no __version__ line in {name}'s _version.py"
    return match.group(1)


def meta_pins(root: pathlib.Path) -> dict[str, tuple[str | None, str]]:
    text = (root / "pytest-aiokit" / "pyproject.toml").read_text()
    return {m.group(1): (m.group(2), m.group(3).strip()) for m in PIN_RE.finditer(text)}


def test_all_versions_equal() -> None:
    versions = {name: version_of(PACKAGES, name) for name in NAMES}
    assert len(set(versions.values())) == 1, f"versions drifted: {versions}"


def test_meta_package_pins_siblings_exactly() -> None:
    version = version_of(PACKAGES, "pytest-aiokit")
    assert meta_pins(PACKAGES) == {
        "pytest-aioloop": ("==", version),
        "pytest-ports": ("==", version),
    }


def test_runtime_versions_match_files() -> None:
    import pytest_aiokit
    import pytest_aioloop
    import pytest_ports

    modules = {
        "pytest-aioloop": pytest_aioloop,
        "pytest-ports": pytest_ports,
        "pytest-aiokit": pytest_aiokit,
    }
    for name, module in modules.items():
        assert module.__version__ == version_of(PACKAGES, name)


class _SessionError(Exception):
    pass


class _FakeSession:
    """The part of ``nox.Session`` the bump session uses."""

    def __init__(self, *posargs: str) -> None:
        self.posargs = list(posargs)
        self.logged: list[str] = []

    def error(self, message: str) -> NoReturn:
        raise _SessionError(message)

    def log(self, message: str) -> None:
        self.logged.append(message)


def _decorator(*args: Any, **kwargs: Any) -> Any:
    # Stands in for nox.session and nox.parametrize, bare (@nox.session) or called.
    if len(args) == 1 and callable(args[0]) and not kwargs:
        return args[0]

    def wrap(function: F) -> F:
        return function

    return wrap


@pytest.fixture
def noxfile(monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path) -> types.ModuleType:
    """Load the real noxfile against a fake ``nox`` module, with ROOT moved to a copy."""
    fake = types.ModuleType("nox")
    fake.options = types.SimpleNamespace()  # type: ignore[attr-defined]
    fake.session = _decorator  # type: ignore[attr-defined]
    fake.parametrize = _decorator  # type: ignore[attr-defined]
    fake.Session = _FakeSession  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "nox", fake)
    # Its report of the Pythons found is for a nox run, not for this test's process.
    monkeypatch.setattr(atexit, "register", lambda function, *args, **kwargs: function)
    spec = importlib.util.spec_from_file_location("aiokit_noxfile_under_test", ROOT / "noxfile.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for name in NAMES:
        shutil.copytree(
            PACKAGES / name,
            tmp_path / "packages" / name,
            ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "dist", "build"),
        )
    vars(module)["ROOT"] = tmp_path
    return module


def test_bump_session_sets_one_version_everywhere(noxfile: types.ModuleType) -> None:
    session = _FakeSession("7.8.9")
    noxfile.bump(session)
    copy = noxfile.ROOT / "packages"
    assert {name: version_of(copy, name) for name in NAMES} == dict.fromkeys(NAMES, "7.8.9")
    assert meta_pins(copy) == {"pytest-aioloop": ("==", "7.8.9"), "pytest-ports": ("==", "7.8.9")}
    assert session.logged == ["all packages now at 7.8.9"]


@pytest.mark.parametrize("posargs", [(), ("1.2",), ("1.2.3", "4.5.6"), ("v1.2.3",)])
def test_bump_session_rejects_bad_arguments(
    noxfile: types.ModuleType, posargs: tuple[str, ...]
) -> None:
    with pytest.raises(_SessionError, match=r"usage: nox -s bump -- X\.Y\.Z"):
        noxfile.bump(_FakeSession(*posargs))
    assert version_of(noxfile.ROOT / "packages", "pytest-aiokit") == version_of(
        PACKAGES, "pytest-aiokit"
    )
