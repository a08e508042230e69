"""The one task runner for aiokit: every session has a docstring (``nox --list``).

``nox`` with no arguments runs what a contributor runs before committing: lint, typing and the
whole test suite on one Python against the newest pytest (a few minutes). ``nox -t ci`` runs
everything CI runs: every Python with every supported pytest, the install tests from the built
wheels, pytest-asyncio's own suites, the docs, the demo and the benchmark smoke runs.
"""

from __future__ import annotations

import atexit
import os
import pathlib
import re
import shutil
import sys

import nox

ROOT = pathlib.Path(__file__).parent
PACKAGES = ("pytest-aioloop", "pytest-ports", "pytest-aiokit")
#: pytest-asyncio's own suites run against pytest-aioloop: the script and the expected outcomes.
ORACLE = ROOT / "tests" / "asyncio_suites" / "oracle"
PYTHONS = ("3.10", "3.11", "3.12", "3.13", "3.14", "3.15")
#: The newest pytest 9, the newest pytest 8 and the lowest pytest the packages declare.
PYTESTS = {"pytest9": "pytest>=9,<10", "pytest8": "pytest>=8,<9", "pytest-min": "pytest==8.4.0"}

# Never let uv download an interpreter: the Pythons under test are the machine's own.
os.environ.setdefault("UV_PYTHON_DOWNLOADS", "never")


def _interpreter_dirs() -> list[pathlib.Path]:
    """Return directories holding ``python3.X`` for the Pythons under test, wherever they are.

    A ``python3.X`` on ``PATH`` is found by nox anyway. Beyond it: every Python pyenv has (its
    shims only run the active one), the ones ``.ci/install-pythons`` installs, and uv's.
    """
    found: dict[str, pathlib.Path] = {}
    roots: list[pathlib.Path] = []
    pyenv = pathlib.Path(os.environ.get("PYENV_ROOT", pathlib.Path.home() / ".pyenv"))
    roots += sorted((pyenv / "versions").glob("3.*"), key=_version_key)
    uv_pythons = pathlib.Path(
        os.environ.get("UV_PYTHON_INSTALL_DIR", pathlib.Path.home() / ".local/share/uv/python")
    )
    roots += sorted(uv_pythons.glob("cpython-3.*"), key=_version_key)
    ours = pathlib.Path(
        os.environ.get("AIOKIT_PYTHONS_DIR", pathlib.Path.home() / ".cache/aiokit-pythons")
    )
    roots.append(ours)
    for root in roots:
        for minor in PYTHONS:
            exe = root / "bin" / f"python{minor}"
            if exe.is_file() and os.access(exe, os.X_OK):
                found[minor] = exe.parent  # later roots are newer patch releases
    return list(dict.fromkeys(found.values()))


def _version_key(path: pathlib.Path) -> tuple[int, ...]:
    numbers = re.findall(r"\d+", path.name.split("-")[1] if "-" in path.name else path.name)
    return tuple(int(n) for n in numbers[:3])


def _tool_dirs() -> list[str]:
    """Return the directory of the uv that nox itself uses, if no uv is on ``PATH``.

    ``noxw.py`` installs nox with uv into ``.nox-env/``; sessions that call uv themselves (the
    wheels build, the benchmark) find it there on a machine that has no uv of its own.
    """
    here = pathlib.Path(sys.executable).parent
    if shutil.which("uv") is None and (here / "uv").is_file():
        return [str(here)]
    return []


os.environ["PATH"] = os.pathsep.join(
    [*map(str, _interpreter_dirs()), *_tool_dirs(), os.environ.get("PATH", "")]
)


def _report_pythons() -> None:
    """Say, at the end of a run with test sessions, which Pythons were found and which not."""
    args = sys.argv[1:]
    if any(a in ("-l", "--list", "--json", "-h", "--help", "--version") for a in args):
        return
    chosen = [a for a in args if not a.startswith("-")]
    if any(a in ("-s", "--session", "--sessions", "-e", "-k", "-t") for a in args) and not any(
        "tests" in a for a in chosen
    ):
        return
    found = {v: shutil.which(f"python{v}") for v in PYTHONS}
    have = [f"{v} ({path})" for v, path in found.items() if path]
    missing = [v for v, path in found.items() if not path]
    print(f"nox: Pythons found for the tests: {', '.join(have) or 'none'}", file=sys.stderr)
    if missing:
        print(
            f"nox: not found, so not tested: {', '.join(missing)}. Install them with pyenv, uv "
            "or your system's packages (on Debian 12: .ci/install-pythons); nox finds them.",
            file=sys.stderr,
        )


atexit.register(_report_pythons)
nox.options.default_venv_backend = "uv|virtualenv"
# A missing Python is reported (and skipped, or an error in CI), never downloaded.
nox.options.download_python = "never"
nox.options.reuse_existing_virtualenvs = False
# In CI a missing interpreter is a failure, never a skip.
nox.options.error_on_missing_interpreters = bool(os.environ.get("CI"))
nox.options.sessions = ["lint", "typing", "suite"]


def _package_paths() -> list[str]:
    return [str(ROOT / "packages" / name) for name in PACKAGES]


def _install_dev(session: nox.Session, *groups: str, pytest_spec: str | None = None) -> None:
    """Install the three packages (editable) and the named dependency groups."""
    args: list[str] = []
    for path in _package_paths():
        args += ["-e", path]
    for group in groups:
        args += ["--group", group]
    if pytest_spec:
        args.append(pytest_spec)
    session.install(*args)


def _run_tests(session: nox.Session, workers: str) -> None:
    # tests/install builds the wheels and fresh environments: the wheels session runs it.
    session.run(
        "python",
        "-m",
        "pytest",
        "-n",
        workers,
        "-p",
        "no:cacheprovider",
        "--ignore=tests/install",
        *session.posargs,
    )


@nox.session(python=None)
def suite(session: nox.Session) -> None:
    """Run the whole test suite once: on the Python that runs nox, with the newest pytest."""
    _install_dev(session, "test", pytest_spec=PYTESTS["pytest9"])
    _run_tests(session, "auto")


@nox.session(python=PYTHONS, tags=["ci"])
@nox.parametrize("pytest_version", list(PYTESTS), ids=list(PYTESTS))
def tests(session: nox.Session, pytest_version: str) -> None:
    """Run the whole test suite on one Python with one pytest (newest 9, newest 8, lowest)."""
    _install_dev(session, "test", pytest_spec=PYTESTS[pytest_version])
    _run_tests(session, "2")


@nox.session(name="ports_adversarial", python="3.11", tags=["ci"])
def ports_adversarial(session: nox.Session) -> None:
    """Run pytest-ports' adversarial tests, each in its own network namespace (unshare -rn)."""
    _install_dev(session, "test")
    session.run(
        "python",
        "-m",
        "pytest",
        "tests/ports",
        "--run-adversarial",
        "-m",
        "adversarial",
        "-p",
        "no:cacheprovider",
        *session.posargs,
    )


@nox.session(python=None, tags=["ci"])
def lint(session: nox.Session) -> None:
    """Check style with ruff (lint and format) and the direction of imports with import-linter."""
    session.install("--group", "lint")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    # The packages' sources, not installed: import-linter only reads them.
    sources = os.pathsep.join(str(ROOT / "packages" / name / "src") for name in PACKAGES)
    session.run("lint-imports", env={"PYTHONPATH": sources})


@nox.session(python=None, tags=["ci"])
def typing(session: nox.Session) -> None:
    """Type-check packages, tests, examples, benchmarks and this noxfile with mypy --strict."""
    _install_dev(session, "typing")
    session.run("mypy")


@nox.session(python="3.11", tags=["ci"])
def docs(session: nox.Session) -> None:
    """Build the Sphinx documentation with warnings as errors, then check the pages in Chromium.

    The check (tools/check_built_pages.py) needs a ``chromium`` on PATH; it writes its
    screenshots to docs/_build/screenshots. ``nox -s docs -- --no-browser`` only builds.
    """
    _install_dev(session, "docs")
    out = ROOT / "docs" / "_build" / "html"
    shutil.rmtree(out, ignore_errors=True)
    session.run("sphinx-build", "-W", "--keep-going", "-n", "-b", "html", "docs", str(out))
    if "--no-browser" not in session.posargs:
        screenshots = ROOT / "docs" / "_build" / "screenshots"
        check = ROOT / "tools" / "check_built_pages.py"
        session.run("python", str(check), str(out), "--screenshots", str(screenshots))


@nox.session(python="3.11", tags=["ci"])
def wheels(session: nox.Session) -> None:
    """Build wheels and sdists, check them, and run the install tests from the built wheels."""
    session.install("--group", "wheels")
    dist = ROOT / "dist"
    shutil.rmtree(dist, ignore_errors=True)
    for path in _package_paths():
        session.run("python", "-m", "build", "--installer", "uv", "--outdir", str(dist), path)
    session.run("twine", "check", "--strict", *map(str, sorted(dist.iterdir())))
    session.run("check-wheel-contents", *map(str, sorted(dist.glob("*.whl"))))
    session.install("--group", "test")
    session.run(
        "python",
        "-m",
        "pytest",
        "tests/install",
        "-p",
        "no:cacheprovider",
        env={"AIOKIT_DIST_DIR": str(dist)},
    )


@nox.session(python=None, tags=["ci"])
def demo(session: nox.Session) -> None:
    """Install the three packages afresh and run the example suite in docs/examples (main job)."""
    session.install(*_package_paths())
    session.run(
        "python",
        "-m",
        "pytest",
        "docs/examples",
        "-p",
        "no:cacheprovider",
        "-v",
        "-c",
        str(ROOT / "docs" / "examples" / "pytest.ini"),
        "--rootdir",
        str(ROOT / "docs" / "examples"),
    )


def _oracle_requirements() -> list[str]:
    """``REQUIREMENTS`` of the oracle's run.py, read from its source (it is not imported)."""
    import ast

    tree = ast.parse((ORACLE / "run.py").read_text())
    for node in tree.body:
        if (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and node.target.id == "REQUIREMENTS"
            and node.value is not None
        ):
            return [str(requirement) for requirement in ast.literal_eval(node.value)]
    raise RuntimeError(f"{ORACLE / 'run.py'} defines no REQUIREMENTS")


@nox.session(python="3.11", tags=["ci"])
def oracle(session: nox.Session) -> None:
    """Run pytest-asyncio 1.5.0's and 0.21.2's own suites on aiokit; compare with expected outcomes.

    The sdists come from PyPI, with ``pytest_asyncio`` renamed to ``pytest_aioloop``. A test that
    passes or fails unexpectedly fails the session; ``nox -s oracle -- --update`` rewrites the
    expected lists (review the diff).
    """
    editable = [arg for path in _package_paths() for arg in ("-e", path)]
    session.install(*editable, *_oracle_requirements())
    session.run("python", str(ORACLE / "run.py"), *session.posargs)


@nox.session(python="3.11")
def bench(session: nox.Session) -> None:
    """Benchmark aiokit against pytest-asyncio, anyio and concurrent runners (bench/README.md)."""
    session.install("--group", "bench")
    session.run("python", "bench/run.py", *session.posargs)


@nox.session(name="bench_smoke", python="3.11", tags=["ci"])
def bench_smoke(session: nox.Session) -> None:
    """Run a tiny version of the benchmark so it cannot rot (no assertion on times)."""
    session.install("--group", "bench")
    session.run("python", "bench/run.py", "--smoke")


def _bench_ports(session: nox.Session, *args: str) -> None:
    # pytest-aioloop is left out on purpose: it refuses to run beside pytest-asyncio.
    session.install(
        "pytest", "pytest-xdist", "pytest-asyncio", "anyio", str(ROOT / "packages" / "pytest-ports")
    )
    session.run("python", "bench/ports/compare.py", *args)


@nox.session(name="bench_ports", python="3.11")
def bench_ports(session: nox.Session) -> None:
    """Count duplicate and stolen ports: pytest-ports vs pytest-asyncio's and anyio's finders."""
    _bench_ports(session, *(session.posargs or ["--repeat", "2"]))


@nox.session(name="bench_ports_smoke", python="3.11", tags=["ci"])
def bench_ports_smoke(session: nox.Session) -> None:
    """Run a tiny version of the ports comparison so it cannot rot (no assertion on counts)."""
    _bench_ports(session, "--smoke")


@nox.session(python=False)
def bump(session: nox.Session) -> None:
    """Set one version on all three packages and the meta pins: ``nox -s bump -- X.Y.Z``."""
    if len(session.posargs) != 1 or not re.fullmatch(r"\d+\.\d+\.\d+(\w+\d*)?", session.posargs[0]):
        session.error("usage: nox -s bump -- X.Y.Z")
    new = session.posargs[0]
    for name in PACKAGES:
        module = name.replace("-", "_")
        version_file = ROOT / "packages" / name / "src" / module / "_version.py"
        version_file.write_text(f'__version__ = "{new}"\n')
    meta = ROOT / "packages" / "pytest-aiokit" / "pyproject.toml"
    text = re.sub(r'("pytest-(?:aioloop|ports)==)[^"]+"', rf'\g<1>{new}"', meta.read_text())
    meta.write_text(text)
    session.log(f"all packages now at {new}")


if __name__ == "__main__":  # pragma: no cover
    sys.exit("run this file with nox")
