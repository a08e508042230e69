"""The compatibility oracle: pytest-asyncio's own test suites, run against pytest-aioloop.

For each suite (a released pytest-asyncio version) this script

1. downloads the sdist from PyPI (the release's JSON metadata gives the URL and the sha256, which
   is checked) and caches it under the work directory;
2. copies the test tree the sdist's own pytest configuration collects (its ``testpaths``) and that
   configuration file into a fresh directory, renaming the import ``pytest_asyncio`` to
   ``pytest_aioloop`` as a whole word in every text file (so the hook name
   ``pytest_asyncio_loop_factories`` keeps its name);
3. runs ``sys.executable -m pytest`` there with the suite's own configuration (testpaths, addopts,
   filterwarnings, asyncio_mode, ...) and ``--junitxml``;
4. compares each test's outcome with ``expected-<version>.toml`` (beside this script) and
   exits 1 on any difference.

It creates no environment: run it where the three aiokit packages and :data:`REQUIREMENTS` are
installed and pytest-asyncio is not (the ``oracle`` nox session does that). It needs Python 3.11+
for :mod:`tomllib`; the nox session runs it on 3.11.

Usage::

    python tests/asyncio_suites/oracle/run.py [--suite 1.5.0|0.21.2 ...] [--workdir DIR]
        [--update] [--jobs N]

``--update`` rewrites the expected files from the current results: entries that stay keep their
group, kind and reason; new ones get ``group = "?"`` and ``reason = "TODO"`` for a human to fill in.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import time
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import Any

HERE = Path(__file__).resolve().parent
DEFAULT_WORKDIR = HERE / ".work"

#: What the environment needs besides the three aiokit packages, pinned to versions checked on
#: pytest 9.2 / CPython 3.11; both suites run in one environment. 1.5.0's suite needs hypothesis
#: (its ``test`` dependency group also lists coverage, which only its Makefile's ``coverage run``
#: uses). 0.21.2's suite needs hypothesis, flaky and pytest-trio (its ``testing`` extra also lists
#: coverage and mypy, which no test imports). pytest-xdist runs 1.5.0 on two workers.
#: pytest-trio also matters to 1.5.0: its plugin imports hypothesis at start-up. Without that,
#: hypothesis's own plugin imports hypothesis afresh at the end of every pytester in-process run
#: (pytester drops it from sys.modules again): the 1.5.0 run is about 5 times slower, and with the
#: changed garbage-collection timing 2 more tests fail (test_warns_when_scope_argument_is_present,
#: test_auto_mode_method_fixture): coroutines left unawaited by the G3 failures are collected
#: during their inner runs. pytest-asyncio must NOT be installed.
REQUIREMENTS: tuple[str, ...] = (
    "pytest==9.2.0",
    "pytest-xdist==3.8.0",
    "hypothesis==6.170.17",
    "flaky==3.8.1",
    "pytest-trio==0.8.0",
    "trio==0.35.0",
)

PYPI_JSON = "https://pypi.org/pypi/pytest-asyncio/{version}/json"
PYPI_PROJECT_JSON = "https://pypi.org/pypi/pytest-asyncio/json"

_IMPORT_NAME = re.compile(r"\bpytest_asyncio\b")
_NEW_NAME = "pytest_aioloop"
#: Files whose text is renamed; anything else is copied byte for byte.
_TEXT_SUFFIXES = frozenset({".py", ".pyi", ".cfg", ".toml", ".ini", ".txt", ".rst", ".md"})

OUTCOMES = ("passed", "failed", "error", "skipped", "xfailed", "xpassed")
KINDS = ("bug", "deliberate", "internals", "environment")
FAILURE_LINES = 15
RUN_TIMEOUT = 1800.0


@dataclasses.dataclass(frozen=True)
class Suite:
    """One pytest-asyncio release whose own suite the oracle runs."""

    version: str
    #: pytest workers (``-n``); 0 runs serially. Chosen by comparing serial and xdist runs.
    jobs: int

    @property
    def expected_file(self) -> Path:
        return HERE / f"expected-{self.version}.toml"


SUITES: dict[str, Suite] = {
    "1.5.0": Suite("1.5.0", jobs=2),
    # Serial: under xdist, the loop that G16 leaks is garbage-collected during another later test
    # (test_strict_mode_ignores_trio_fixtures instead of the xfail test), so outcomes differ.
    "0.21.2": Suite("0.21.2", jobs=0),
}


@dataclasses.dataclass
class Result:
    """The outcome of one test, read from the junit XML."""

    outcome: str
    text: str = ""


@dataclasses.dataclass
class Entry:
    """One listed (non-passing) test in an expected file."""

    outcome: str
    group: str
    kind: str
    reason: str


@dataclasses.dataclass
class Expected:
    total: int
    passed: int
    entries: dict[str, Entry]


# -- download and extract -----------------------------------------------------------------------


def _fetch(url: str) -> bytes:
    request = urllib.request.Request(url, headers={"User-Agent": "aiokit-oracle"})
    with urllib.request.urlopen(request, timeout=60) as response:
        data: bytes = response.read()
    return data


def _sdist_info(version: str) -> tuple[str, str, str]:
    """Return (filename, url, sha256) of the release's sdist, from PyPI's JSON API."""
    url = PYPI_JSON.format(version=version)
    try:
        files = json.loads(_fetch(url))["urls"]
    except urllib.error.HTTPError as error:
        if error.code != 404:
            raise
        # Some PyPI mirrors serve only the project document; its "releases" has the same files.
        url = PYPI_PROJECT_JSON
        files = json.loads(_fetch(url))["releases"][version]
    for item in files:
        if item["packagetype"] == "sdist":
            # Mirrors may give a URL relative to the JSON document.
            sdist_url = urllib.parse.urljoin(url, item["url"])
            return item["filename"], sdist_url, item["digests"]["sha256"]
    raise SystemExit(f"pytest-asyncio {version}: no sdist on PyPI")


def _sdist(version: str, workdir: Path) -> Path:
    """Download the sdist into the cache (once) and return its path, its sha256 verified."""
    filename, url, sha256 = _sdist_info(version)
    path = workdir / "cache" / filename
    if path.is_file() and hashlib.sha256(path.read_bytes()).hexdigest() == sha256:
        return path
    data = _fetch(url)
    digest = hashlib.sha256(data).hexdigest()
    if digest != sha256:
        raise SystemExit(f"{url}: sha256 {digest}, PyPI says {sha256}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def _members(archive: Path) -> dict[PurePosixPath, bytes]:
    """Every regular file in the sdist, keyed by its path below the top directory."""
    files: dict[PurePosixPath, bytes] = {}
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar.getmembers():
            if not member.isfile():
                continue
            parts = PurePosixPath(member.name).parts[1:]
            if not parts or ".." in parts or PurePosixPath(member.name).is_absolute():
                continue
            handle = tar.extractfile(member)
            if handle is not None:
                files[PurePosixPath(*parts)] = handle.read()
    return files


# -- the suite's pytest configuration ----------------------------------------------------------


def _toml_loads(text: str) -> dict[str, Any]:
    """``tomllib.loads`` (Python 3.11+), imported by name so the module type-checks for 3.10."""
    data: dict[str, Any] = importlib.import_module("tomllib").loads(text)
    return data


def _pytest_config(files: Mapping[PurePosixPath, bytes]) -> tuple[PurePosixPath, list[str]]:
    """Find the sdist's pytest configuration file as pytest would, and its ``testpaths``."""
    import configparser

    for name in ("pytest.toml", ".pytest.toml"):
        if (path := PurePosixPath(name)) in files:
            table = _toml_loads(files[path].decode()).get("pytest", {})
            return path, list(table.get("testpaths", []))
    for name in ("pytest.ini", ".pytest.ini"):
        if (path := PurePosixPath(name)) in files:
            return path, _ini_testpaths(files[path].decode(), "pytest")
    if (path := PurePosixPath("pyproject.toml")) in files:
        tool = _toml_loads(files[path].decode()).get("tool", {})
        if "pytest" in tool:
            table = tool["pytest"].get("ini_options", tool["pytest"])
            testpaths = table.get("testpaths", [])
            return path, testpaths.split() if isinstance(testpaths, str) else list(testpaths)
    for name, section in (("tox.ini", "pytest"), ("setup.cfg", "tool:pytest")):
        path = PurePosixPath(name)
        if path in files:
            parser = configparser.ConfigParser(interpolation=None)
            parser.read_string(files[path].decode())
            if parser.has_section(section):
                return path, _ini_testpaths(files[path].decode(), section)
    raise SystemExit("the sdist has no pytest configuration")


def _ini_testpaths(text: str, section: str) -> list[str]:
    import configparser

    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(text)
    return parser.get(section, "testpaths", fallback="").split()


def _prepare(version: str, archive: Path, suite_dir: Path) -> Path:
    """Lay out the renamed suite in a fresh ``suite_dir``; return its configuration file."""
    files = _members(archive)
    config, testpaths = _pytest_config(files)
    if not testpaths:
        raise SystemExit(f"pytest-asyncio {version}: its pytest configuration has no testpaths")
    if suite_dir.exists():
        shutil.rmtree(suite_dir)
    suite_dir.mkdir(parents=True)
    renamed = 0
    wanted = [PurePosixPath(p.rstrip("/")) for p in testpaths]
    for path, content in sorted(files.items()):
        if path != config and not any(path.is_relative_to(top) for top in wanted):
            continue
        data = content
        if path.suffix in _TEXT_SUFFIXES:
            text, count = _IMPORT_NAME.subn(_NEW_NAME, content.decode("utf-8"))
            data = text.encode("utf-8")
            renamed += count
        target = suite_dir.joinpath(*path.parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    print(
        f"pytest-asyncio {version}: config {config}, testpaths {' '.join(testpaths)}; "
        f"{renamed} occurrences of pytest_asyncio renamed"
    )
    return suite_dir / config


# -- running and reading the junit XML ---------------------------------------------------------


def _check_environment(jobs: int) -> None:
    if importlib.util.find_spec("pytest_asyncio") is not None:
        raise SystemExit("pytest-asyncio is importable here: the oracle must run without it")
    for module in ("pytest_aioloop", "pytest_ports", "pytest_aiokit"):
        if importlib.util.find_spec(module) is None:
            raise SystemExit(f"{module} is not installed in {sys.executable}")
    if jobs and importlib.util.find_spec("xdist") is None:
        raise SystemExit("pytest-xdist is not installed (or pass --jobs 0)")
    for requirement in REQUIREMENTS:
        name, _, version = requirement.partition("==")
        try:
            installed = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            print(f"warning: {name} is not installed (REQUIREMENTS has {requirement})")
            continue
        if installed != version:
            print(f"warning: {name} {installed} is installed; REQUIREMENTS has {requirement}")


def _run_pytest(suite_dir: Path, config: Path, junit: Path, log: Path, jobs: int) -> int:
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-c",
        str(config),
        "--rootdir",
        str(suite_dir),
        "-p",
        "no:cacheprovider",
        f"--junitxml={junit}",
        # One broken module must not hide the outcomes of all the others.
        "--continue-on-collection-errors",
    ]
    if jobs:
        command += ["-p", "xdist", "-n", str(jobs)]
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"PYTEST_ADDOPTS", "PYTEST_PLUGINS", "PYTEST_DISABLE_PLUGIN_AUTOLOAD"}
    }
    with log.open("wb") as out:
        # No testpaths on the command line: pytest takes them from the suite's configuration,
        # because it runs in the rootdir.
        completed = subprocess.run(
            command,
            cwd=suite_dir,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=RUN_TIMEOUT,
            check=False,
        )
    return completed.returncode


def _nodeid(suite_dir: Path, classname: str, name: str) -> str:
    """Rebuild the pytest node id from junit's mangled ``classname`` and ``name``.

    junit writes ``tests/a/test_b.py::TestC::test_d[x]`` as classname ``tests.a.test_b.TestC`` and
    name ``test_d[x]``; the file is the longest dotted prefix that is a ``.py`` file of the suite.
    A collection error has an empty classname and the dotted module as name.
    """
    dotted = (classname.split(".") if classname else []) + ([] if classname else name.split("."))
    for cut in range(len(dotted), 0, -1):
        file = "/".join(dotted[:cut]) + ".py"
        if (suite_dir / file).is_file():
            rest = dotted[cut:]
            if classname:
                rest.append(name)
            return "::".join([file, *rest])
    return "::".join([*dotted, name] if classname else dotted)


def _read_junit(junit: Path, suite_dir: Path) -> dict[str, Result]:
    """Map each node id to its outcome.

    junit cannot tell a non-strict XPASS from a pass (pytest writes no child element for either)
    and writes a strict XPASS as a failure, so "xpassed" only comes from pytest's rare
    "xfail-marked test passes unexpectedly" element. Neither suite has xfail-marked tests of its
    own: their xfails happen inside pytester runs.
    """
    results: dict[str, Result] = {}
    rank = {outcome: index for index, outcome in enumerate(reversed(OUTCOMES))}
    for case in ET.parse(junit).getroot().iter("testcase"):
        nodeid = _nodeid(suite_dir, case.get("classname", ""), case.get("name", ""))
        outcome, texts = "passed", []
        for child in case:
            if child.tag == "failure":
                outcome = "failed"
            elif child.tag == "error":
                outcome = "failed" if outcome == "failed" else "error"
            elif child.tag == "skipped":
                if child.get("type") == "pytest.xfail":
                    found = "xfailed"
                elif child.get("message") == "xfail-marked test passes unexpectedly":
                    found = "xpassed"
                else:
                    found = "skipped"
                outcome = found if outcome == "passed" else outcome
            else:
                continue
            message = (child.get("message") or "").split("\n", 1)[0]
            texts.append(f"{child.tag}: {message}\n{child.text or ''}".strip())
        # A call failure followed by a teardown error gives two testcase elements: keep the worst.
        old = results.get(nodeid)
        if old is not None and rank[old.outcome] > rank[outcome]:
            old.text = "\n".join(filter(None, [old.text, *texts]))
            continue
        text = "\n".join(filter(None, [old.text if old else "", *texts]))
        results[nodeid] = Result(outcome, text)
    return results


# -- expected files ----------------------------------------------------------------------------


def _read_expected(path: Path) -> Expected:
    if not path.exists():
        return Expected(total=-1, passed=-1, entries={})
    data: dict[str, Any] = _toml_loads(path.read_text())
    entries: dict[str, Entry] = {}
    for key, value in data.items():
        if not isinstance(value, dict) or key == "groups":
            continue
        if value.get("outcome") not in OUTCOMES or value["outcome"] == "passed":
            raise SystemExit(f"{path}: [{key!r}] has outcome {value.get('outcome')!r}")
        entries[key] = Entry(
            outcome=value["outcome"],
            group=str(value.get("group", "?")),
            kind=str(value.get("kind", "?")),
            reason=str(value.get("reason", "TODO")),
        )
    return Expected(
        total=int(data.get("expected_total", -1)),
        passed=int(data.get("expected_passed", -1)),
        entries=entries,
    )


def _toml_string(text: str) -> str:
    escaped = []
    for char in text:
        if char in '"\\':
            escaped.append("\\" + char)
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            escaped.append(f"\\u{ord(char):04X}")
        else:
            escaped.append(char)
    return '"' + "".join(escaped) + '"'


_HEADER = """\
# Expected outcomes of pytest-asyncio {version}'s own test suite run against aiokit by
# run.py beside this file (nox -s oracle -- --suite {version}). Tests that pass are not listed.
# kind: bug (ours, to fix), deliberate (documented difference), internals (tests pytest-asyncio
# internals or exact wording), environment (not aiokit). group: the root cause, described in
# the [groups] table below. Regenerate with --update, then fill in every group = "?".
"""

#: The root causes the expected files name (``group``), for a reader of those files.
GROUPS: dict[str, str] = {
    "G2": "a test without loop_scope runs in the loop of its widest async fixture, not in a "
    "fresh loop of asyncio_default_test_loop_scope (deliberate, on the migration page)",
    "G9": "a loop-factories hook that returns None or {} means the default loop; pytest-asyncio "
    "raises a UsageError (deliberate, on the migration page)",
    "G12": "an async generator test fails at setup; pytest-asyncio marks it xfail (deliberate)",
    "G13": "overriding event_loop_policy warns only on Python 3.14+, where asyncio deprecates "
    "policies; pytest-asyncio 1.5 always warns (deliberate)",
    "G15": "the test checks pytest-asyncio internals: a private fixture name, or a private port "
    "helper it monkeypatches",
    "G17": "pytest 9.2's own warning about @staticmethod above @pytest.fixture, made an error by "
    "the suite's filterwarnings = error; it fails with no async plugin at all",
    "-": "not a difference of aiokit's: pytest-asyncio itself skips the test on this pytest",
    "?": "not yet classified",
}


def _write_expected(
    path: Path, version: str, results: Mapping[str, Result], old: Expected
) -> list[str]:
    """Write the expected file for ``results``; return the node ids of the new entries."""
    lines = [_HEADER.format(version=version)]
    passed = sum(1 for result in results.values() if result.outcome == "passed")
    lines.append(f"expected_total = {len(results)}\nexpected_passed = {passed}\n")
    used = sorted({old.entries[n].group for n in results if n in old.entries} | {"?"})
    lines.append("\n[groups]\n")
    lines.extend(
        f"{_toml_string(group)} = {_toml_string(GROUPS.get(group, 'TODO'))}\n" for group in used
    )
    new: list[str] = []
    for nodeid in sorted(results):
        result = results[nodeid]
        if result.outcome == "passed":
            continue
        entry = old.entries.get(nodeid)
        if entry is None:
            new.append(nodeid)
            entry = Entry(result.outcome, "?", "?", "TODO")
        lines.append(
            f"\n[{_toml_string(nodeid)}]\n"
            f"outcome = {_toml_string(result.outcome)}\n"
            f"group = {_toml_string(entry.group)}\n"
            f"kind = {_toml_string(entry.kind)}\n"
            f"reason = {_toml_string(entry.reason)}\n"
        )
    path.write_text("".join(lines))
    return new


# -- comparison --------------------------------------------------------------------------------


def _excerpt(text: str) -> str:
    lines = text.splitlines()[:FAILURE_LINES]
    return "".join(f"        {line}\n" for line in lines)


def _compare(results: Mapping[str, Result], expected: Expected) -> list[str]:
    """Every difference between the run and the expected file, one report paragraph each."""
    problems: list[str] = []
    for nodeid in sorted(results):
        got = results[nodeid]
        entry = expected.entries.get(nodeid)
        want = entry.outcome if entry else "passed"
        if got.outcome == want:
            continue
        if entry is None:
            problems.append(
                f"  NEW {got.outcome.upper()}: {nodeid} (expected passed, got {got.outcome})\n"
                + _excerpt(got.text)
            )
        elif got.outcome == "passed":
            problems.append(
                f"  NOW PASSES: {nodeid} (expected {want} [{entry.group}], got passed)\n"
            )
        else:
            problems.append(
                f"  CHANGED: {nodeid} (expected {want} [{entry.group}], got {got.outcome})\n"
                + _excerpt(got.text)
            )
    for nodeid in sorted(set(expected.entries) - set(results)):
        entry = expected.entries[nodeid]
        problems.append(
            f"  MISSING: {nodeid} (expected {entry.outcome} [{entry.group}], not collected)\n"
        )
    return problems


def _run_suite(suite: Suite, workdir: Path, update: bool, jobs: int) -> bool:
    base = workdir / suite.version
    base.mkdir(parents=True, exist_ok=True)
    archive = _sdist(suite.version, workdir)
    suite_dir = base / "suite"
    config = _prepare(suite.version, archive, suite_dir)
    junit, log = base / "junit.xml", base / "pytest.log"
    junit.unlink(missing_ok=True)
    mode = f"{jobs} xdist workers" if jobs else "serially"
    print(f"pytest-asyncio {suite.version}: running {suite_dir} {mode} (log: {log})", flush=True)
    start = time.monotonic()
    code = _run_pytest(suite_dir, config, junit, log, jobs)
    elapsed = time.monotonic() - start
    if not junit.is_file():
        tail = log.read_text(errors="replace").splitlines()[-30:]
        print("\n".join(tail))
        print(f"pytest-asyncio {suite.version}: pytest exited {code} without a junit XML")
        return False
    results = _read_junit(junit, suite_dir)
    expected = _read_expected(suite.expected_file)
    total = len(results)
    passed = sum(1 for result in results.values() if result.outcome == "passed")

    problems = _compare(results, expected)
    print("".join(problems), end="")
    if update:
        new = _write_expected(suite.expected_file, suite.version, results, expected)
        print(
            f"pytest-asyncio {suite.version} suite: {passed} of {total} passed; "
            f"{len(problems)} changes; wrote {suite.expected_file.name} with {len(new)} new "
            f"entries to fill in (group, kind, reason) [{elapsed:.0f} s]"
        )
        for nodeid in new:
            print(f"  TODO {results[nodeid].outcome}: {nodeid}")
        return True

    counts = []
    if code not in (0, 1):  # 1 is "some tests failed"; anything else is pytest itself failing
        counts.append(f"pytest exited {code}: see {log}")
    if total != expected.total:
        counts.append(f"collected {total}, expected {expected.total}")
    if passed != expected.passed and not problems:
        counts.append(f"passed {passed}, expected {expected.passed}")
    print(
        f"pytest-asyncio {suite.version} suite: {passed} of {total} passed "
        f"(expected {expected.passed}); {len(problems)} unexpected"
        + "".join(f"; {count}" for count in counts)
        + f" [{elapsed:.0f} s, pytest exit {code}]",
        flush=True,
    )
    return not problems and not counts


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--suite",
        action="append",
        choices=list(SUITES),
        help="run only this suite (repeatable; default: all)",
    )
    parser.add_argument("--workdir", type=Path, default=DEFAULT_WORKDIR, help="cache and runs")
    parser.add_argument("--update", action="store_true", help="rewrite the expected files")
    parser.add_argument(
        "--jobs",
        type=int,
        default=None,
        help="xdist workers, 0 for a serial run (default: the suite's own setting)",
    )
    args = parser.parse_args(argv)
    if importlib.util.find_spec("tomllib") is None:
        parser.error("needs Python 3.11+ (tomllib)")
    chosen: Iterable[str] = args.suite or list(SUITES)
    suites = [SUITES[version] for version in dict.fromkeys(chosen)]
    workdir: Path = args.workdir.resolve()
    ok = True
    for suite in suites:
        jobs = suite.jobs if args.jobs is None else args.jobs
        _check_environment(jobs)
        ok = _run_suite(suite, workdir, args.update, jobs) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
