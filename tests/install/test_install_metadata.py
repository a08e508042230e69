"""What the built wheels carry: py.typed, the pytest11 entry points and the metadata."""

from __future__ import annotations

import email.parser
import json
import zipfile
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    import pathlib

    from tests.install.conftest import Venv

ENTRY_POINTS = {
    "pytest-aioloop": ("aioloop", "pytest_aioloop.plugin"),
    "pytest-ports": ("ports", "pytest_ports.plugin"),
    "pytest-aiokit": ("aiokit", "pytest_aiokit.plugin"),
}


def _wheel(dist_dir: pathlib.Path, name: str) -> zipfile.ZipFile:
    wheels = sorted(dist_dir.glob(f"{name.replace('-', '_')}-*.whl"))
    assert len(wheels) == 1, f"expected one {name} wheel in {dist_dir}, found {wheels}"
    return zipfile.ZipFile(wheels[0])


def _dist_info_file(wheel: zipfile.ZipFile, filename: str) -> str:
    (member,) = [n for n in wheel.namelist() if n.endswith(f".dist-info/{filename}")]
    return wheel.read(member).decode()


@pytest.mark.parametrize("name", list(ENTRY_POINTS))
def test_wheel_contents(dist_dir: pathlib.Path, name: str) -> None:
    module = name.replace("-", "_")
    with _wheel(dist_dir, name) as wheel:
        names = set(wheel.namelist())
        assert f"{module}/py.typed" in names
        assert f"{module}/plugin.py" in names
        assert f"{module}/__init__.py" in names
        assert not any(n.startswith(("tests/", "docs/")) for n in names)
        entry_points = _dist_info_file(wheel, "entry_points.txt")
        metadata = email.parser.Parser().parsestr(_dist_info_file(wheel, "METADATA"))
    ep_name, ep_module = ENTRY_POINTS[name]
    assert "[pytest11]" in entry_points
    assert f"{ep_name} = {ep_module}" in entry_points
    classifiers = metadata.get_all("Classifier") or []
    assert "Framework :: Pytest" in classifiers
    assert "Typing :: Typed" in classifiers
    assert metadata["Name"] == name
    assert metadata["Requires-Python"] == ">=3.10"
    assert metadata["License-Expression"] == "MIT"


def test_wheel_dependencies(dist_dir: pathlib.Path) -> None:
    requires: dict[str, list[str]] = {}
    versions: dict[str, str] = {}
    for name in ENTRY_POINTS:
        with _wheel(dist_dir, name) as wheel:
            metadata = email.parser.Parser().parsestr(_dist_info_file(wheel, "METADATA"))
        requires[name] = [r.replace(" ", "") for r in metadata.get_all("Requires-Dist") or []]
        versions[name] = metadata["Version"]
    assert len(set(versions.values())) == 1, versions
    version = versions["pytest-aiokit"]
    # The two plugins depend on pytest alone, never on each other; greenlet is an extra.
    for name in ("pytest-aioloop", "pytest-ports"):
        plain = [r for r in requires[name] if "extra==" not in r]
        assert [r for r in plain if not r.startswith("pytest>")] == [], requires[name]
    extras = [r for r in requires["pytest-aioloop"] if "extra==" in r]
    assert extras == ["greenlet>=3;extra=='concurrency'"], extras
    assert [r for r in requires["pytest-ports"] if "extra==" in r] == []
    assert sorted(requires["pytest-aiokit"]) == [
        f"pytest-aioloop=={version}",
        f"pytest-ports=={version}",
    ]


def test_installed_entry_points_and_typing(aiokit: Venv) -> None:
    script = (
        "import importlib.metadata as md, importlib.resources as r, json\n"
        "eps = {e.name: e.value for e in md.entry_points(group='pytest11')}\n"
        "typed = {m: r.files(m).joinpath('py.typed').is_file()"
        " for m in ('pytest_aioloop', 'pytest_ports', 'pytest_aiokit')}\n"
        "print(json.dumps({'eps': eps, 'typed': typed}))\n"
    )
    found = json.loads(aiokit.ok("-c", script))
    assert found["typed"] == dict.fromkeys(
        ("pytest_aioloop", "pytest_ports", "pytest_aiokit"), True
    )
    for ep_name, ep_module in ENTRY_POINTS.values():
        assert found["eps"][ep_name] == ep_module


def test_installed_not_editable(aiokit: Venv) -> None:
    location = aiokit.ok("-c", "import pytest_aiokit; print(pytest_aiokit.__file__)").strip()
    assert "site-packages" in location
    assert "packages/pytest-aiokit/src" not in location.replace("\\", "/")
