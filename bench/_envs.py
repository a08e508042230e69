"""Build one fresh virtual environment per contender with uv, all on the same pytest."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bench._contenders import FLOOR, Contender, slug

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
VENVS = BENCH / ".venvs"
LOCAL_PACKAGES = ("pytest-aioloop", "pytest-ports", "pytest-aiokit")


def _uv(*args: str) -> str:
    uv = shutil.which("uv")
    if uv is None:
        raise SystemExit("bench needs uv on PATH (https://docs.astral.sh/uv/)")
    proc = subprocess.run([uv, *args], capture_output=True, text=True, check=False)
    if proc.returncode:
        raise SystemExit(f"uv {' '.join(args)} failed:\n{proc.stdout}{proc.stderr}")
    return proc.stdout


def python_of(venv: Path) -> Path:
    """Return the interpreter of ``venv``."""
    return venv / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")


#: What ``pytest-aioloop[concurrency]`` adds: concurrent tests' setups and teardowns overlap.
CONCURRENCY_EXTRA = ("greenlet>=3",)


def build_local_wheels(out: Path) -> list[Path]:
    """Build fresh wheels of the three local packages (never a cached or editable build)."""
    for name in LOCAL_PACKAGES:
        _uv("build", "--quiet", "--wheel", "--out-dir", str(out), str(ROOT / "packages" / name))
    return sorted(out.glob("*.whl"))


def installed_versions(venv: Path) -> dict[str, str]:
    """Return ``{distribution: version}`` for everything installed in ``venv``."""
    listing = json.loads(_uv("pip", "list", "--python", str(python_of(venv)), "--format", "json"))
    return {row["name"]: row["version"] for row in listing}


def create(contender: Contender, pytest_spec: str, *, reuse: bool = False) -> Path:
    """Create (or, with ``reuse``, keep) the venv of ``contender`` and install its packages."""
    venv = VENVS / slug(contender)
    if reuse and python_of(venv).exists():
        if contender.requirements == ("local",):
            _install_local(venv, pytest_spec)  # the local code may have changed: always rebuild
        return venv
    shutil.rmtree(venv, ignore_errors=True)
    VENVS.mkdir(parents=True, exist_ok=True)
    _uv("venv", "--quiet", "--python", sys.executable, str(venv))
    if contender.requirements == ("local",):
        _install_local(venv, pytest_spec)
    else:
        reqs = [r for r in contender.requirements if r != "local"]
        _uv("pip", "install", "--quiet", "--python", str(python_of(venv)), pytest_spec, *reqs)
    return venv


def _install_local(venv: Path, pytest_spec: str) -> None:
    with tempfile.TemporaryDirectory(prefix="aiokit-wheels-") as tmp:
        wheels = build_local_wheels(Path(tmp))
        _uv(
            "pip", "install", "--quiet", "--reinstall-package", "pytest-aioloop",
            "--reinstall-package", "pytest-ports", "--reinstall-package", "pytest-aiokit",
            "--python", str(python_of(venv)), pytest_spec, *map(str, wheels),
            *CONCURRENCY_EXTRA,
        )  # fmt: skip


def create_all(
    contenders: tuple[Contender, ...], pytest_spec: str | None, *, reuse: bool = False
) -> tuple[dict[str, Path], str]:
    """Create every venv; return them and the exact pytest version they all share.

    Without ``pytest_spec`` the floor's venv gets the newest pytest and the others are pinned to
    the same version, so that every ratio compares one pytest with itself. A contender with a
    ``pytest_spec`` of its own gets that instead (its label says so).
    """
    venvs: dict[str, Path] = {}
    floor = create(FLOOR, pytest_spec or "pytest", reuse=reuse)
    version = installed_versions(floor)["pytest"]
    venvs[FLOOR.name] = floor
    for contender in contenders:
        if contender is not FLOOR:
            spec = contender.pytest_spec or f"pytest=={version}"
            venvs[contender.name] = create(contender, spec, reuse=reuse)
    for contender in contenders:
        got = installed_versions(venvs[contender.name]).get("pytest")
        if contender.pytest_spec is None and got != version:
            raise SystemExit(f"{contender.name}'s venv has pytest {got}, expected {version}")
    return venvs, version
