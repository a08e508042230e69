"""Fresh virtual environments with the built wheels installed, one per install set.

The ``wheels`` nox session builds the wheels and points ``AIOKIT_DIST_DIR`` at them. When the
variable is unset (a plain ``pytest`` run), the wheels are built here, once per session, into a
temporary directory. Each install set gets one environment per test session; with pytest-xdist
the workers share it through a lock file in pytest's common temporary directory.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

ROOT = pathlib.Path(__file__).resolve().parents[2]
PACKAGES = ("pytest-aioloop", "pytest-ports", "pytest-aiokit")
BIN = "Scripts" if sys.platform == "win32" else "bin"


def _uv() -> str | None:
    return os.environ.get("UV") or shutil.which("uv")


def _clean_env() -> dict[str, str]:
    """Return this process's environment without what would leak the outer test session."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PYTEST_", "PYTHON", "VIRTUAL_ENV", "COV_"))
    }
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def _check(args: Sequence[str | os.PathLike[str]], **kwargs: object) -> str:
    proc = subprocess.run(
        [os.fspath(a) for a in args],
        capture_output=True,
        text=True,
        check=False,
        env=_clean_env(),
        **kwargs,  # type: ignore[call-overload]
    )
    if proc.returncode != 0:
        pytest.fail(
            f"command failed ({proc.returncode}): {' '.join(map(str, args))}\n"
            f"--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}",
            pytrace=False,
        )
    return str(proc.stdout)


@contextlib.contextmanager
def _shared(
    tmp_path_factory: pytest.TempPathFactory, name: str
) -> Iterator[tuple[pathlib.Path, bool]]:
    """Yield (directory, ready): one directory per name for all xdist workers of this run.

    ``ready`` is true when another worker already filled it; the caller fills it otherwise,
    and it is marked ready when the block ends without an error.
    """
    if "PYTEST_XDIST_WORKER" not in os.environ or sys.platform == "win32":
        yield tmp_path_factory.mktemp(name), False
        return
    import fcntl

    root = tmp_path_factory.getbasetemp().parent / name
    root.mkdir(exist_ok=True)
    with (root.parent / f"{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # blocks until the worker that builds it is done
        try:
            done = root / ".ready"
            if done.exists():
                yield root, True
                return
            yield root, False
            done.touch()
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def dist_dir(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    """Return the directory holding the three wheels (built here if AIOKIT_DIST_DIR is unset)."""
    given = os.environ.get("AIOKIT_DIST_DIR")
    if given:
        return pathlib.Path(given)
    with _shared(tmp_path_factory, "aiokit-dist") as (out, ready):
        if not ready:
            for name in PACKAGES:
                source = ROOT / "packages" / name
                uv = _uv()
                if uv:
                    _check([uv, "build", "--quiet", "--wheel", "--out-dir", out, source])
                else:
                    _check([sys.executable, "-m", "build", "--wheel", "--outdir", out, source])
        return out


@dataclasses.dataclass(frozen=True)
class Venv:
    """A virtual environment with some of the aiokit wheels installed."""

    path: pathlib.Path
    project: pathlib.Path

    @property
    def python(self) -> pathlib.Path:
        """The environment's interpreter."""
        exe = "python.exe" if sys.platform == "win32" else "python"
        return self.path / BIN / exe

    def run(self, *args: str, cwd: pathlib.Path | None = None) -> subprocess.CompletedProcess[str]:
        """Run the environment's Python with ``args`` and return the finished process."""
        return subprocess.run(
            [os.fspath(self.python), *args],
            capture_output=True,
            text=True,
            check=False,
            cwd=cwd or self.project,
            env=_clean_env(),
        )

    def pytest(self, *args: str, files: dict[str, str] | None = None) -> pytest.RunResult:
        """Run pytest in a new directory holding ``files``; return a result to assert on."""
        # mkdtemp: xdist workers share the environment, and each run needs its own directory.
        directory = pathlib.Path(tempfile.mkdtemp(prefix="run-", dir=self.project))
        (directory / "pytest.ini").write_text("[pytest]\n")
        for name, text in (files or {}).items():
            (directory / name).write_text(text)
        start = time.monotonic()
        proc = self.run("-m", "pytest", "-p", "no:cacheprovider", *args, cwd=directory)
        return pytest.RunResult(
            proc.returncode,
            proc.stdout.splitlines(),
            proc.stderr.splitlines(),
            time.monotonic() - start,
        )

    def ok(self, *args: str) -> str:
        """Run the environment's Python with ``args``; fail the test unless it succeeds."""
        proc = self.run(*args)
        assert proc.returncode == 0, f"{args} failed:\n{proc.stdout}\n{proc.stderr}"
        return proc.stdout


def make_venv(
    tmp_path_factory: pytest.TempPathFactory,
    dist: pathlib.Path,
    name: str,
    *wanted: str,
    extra: Sequence[str] = (),
    pytest_req: str | None = None,
) -> Venv:
    """Make (once per run) an environment with ``wanted`` from ``dist`` and ``extra`` from PyPI."""
    with _shared(tmp_path_factory, f"venv-{name}") as (root, ready):
        venv = Venv(root / "venv", root / "project")
        if ready:
            return venv
        venv.project.mkdir()
        # pytest comes from the index at the version running this test; ours only from `dist`.
        pytest_req = pytest_req or f"pytest=={pytest.__version__}"
        uv = _uv()
        if uv:
            _check([uv, "venv", "--quiet", "--python", sys.executable, venv.path])
            pip: list[str | os.PathLike[str]] = [
                uv,
                "pip",
                "install",
                "--quiet",
                "--python",
                venv.python,
            ]
            _check([*pip, pytest_req, *extra])
            # --no-cache: every build is 0.1.0 with the same file names and (reproducible)
            # timestamps, so uv's cache would install an earlier build of the same path.
            _check([*pip, "--no-cache", "--no-index", "--find-links", dist, *wanted])
        else:
            _check([sys.executable, "-m", "venv", venv.path])
            pip = [venv.python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
            _check([*pip, pytest_req, *extra])
            _check([*pip, "--no-index", "--find-links", dist, *wanted])
        return venv


@pytest.fixture(scope="session")
def ports_only(tmp_path_factory: pytest.TempPathFactory, dist_dir: pathlib.Path) -> Venv:
    """An environment with pytest-ports alone."""
    return make_venv(tmp_path_factory, dist_dir, "ports-only", "pytest-ports")


@pytest.fixture(scope="session")
def aioloop_only(tmp_path_factory: pytest.TempPathFactory, dist_dir: pathlib.Path) -> Venv:
    """An environment with pytest-aioloop alone."""
    return make_venv(tmp_path_factory, dist_dir, "aioloop-only", "pytest-aioloop")


@pytest.fixture(scope="session")
def aioloop_concurrency(tmp_path_factory: pytest.TempPathFactory, dist_dir: pathlib.Path) -> Venv:
    """An environment with pytest-aioloop and its ``concurrency`` extra (greenlet)."""
    return make_venv(
        tmp_path_factory,
        dist_dir,
        "aioloop-concurrency",
        "pytest-aioloop[concurrency]",
        extra=["greenlet>=3"],
    )


@pytest.fixture(scope="session")
def aiokit(tmp_path_factory: pytest.TempPathFactory, dist_dir: pathlib.Path) -> Venv:
    """An environment with pytest-aiokit (and so both plugins)."""
    return make_venv(tmp_path_factory, dist_dir, "aiokit", "pytest-aiokit")
