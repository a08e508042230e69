"""Benchmark pytest-aiokit against pytest-asyncio, anyio and the sync floor, in one run.

Usage (``nox -s bench`` / ``nox -s bench_smoke`` run exactly this)::

    python bench/run.py            # the full benchmark: ~10 minutes on 2 cores
    python bench/run.py --smoke    # every scenario once with N=20, to check it still works

It builds one fresh virtual environment per contender under ``bench/.venvs/`` with uv (the local
packages as freshly built wheels, the newest pytest-asyncio and anyio, the pinned peers of
scenario 7, all on one pytest but where a peer needs an older one), generates the same suites
for each in a temporary directory, times whole pytest processes (``-p no:cacheprovider -q``) with
a warm-up and several rounds that alternate the contenders, and writes ``latest.json``,
``latest.md``, ``latest.png`` and ``concurrency.png`` to ``bench/results/`` (``--smoke``:
``bench/results/tmp/``, which git ignores). Scenarios:

1. N async tests, each awaiting one function-scoped async fixture (N = 500, 2000, 10000);
2. the same with a module-scoped loop and a module-scoped async fixture;
3. ``--collect-only`` of 10,000 tests;
4. the sync floor: the same tests written sync under bare pytest (a column of every row);
5. plugin import cost (``python -X importtime``) and pytest start-up with no async tests;
6. pytest-aiokit with its safety nets at their defaults and switched on;
7. an I/O-bound suite (each test makes three round trips of 10 ms to a local server) run one
   test at a time and concurrently: pytest-asyncio, pytest-aiokit at concurrency 1, 50 and 200,
   pytest-asyncio-cooperative and pytest-asyncio-concurrent; and 2000 trivial tests in one
   module, pytest-aiokit with concurrency off and on;
8. instructions (valgrind's cachegrind), which repeat where wall times drift: per test over the
   sync floor, start-up over bare pytest, the safety nets on, concurrency off and on; and where
   pytest-aiokit's own share of each test goes, by module (``bench/_instructions.py``).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

# Run as a script (``python bench/run.py``): make ``bench`` importable as a package.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import _contenders, _envs, _instructions, _report, _suites, _timing
from bench._contenders import (
    AIOKIT,
    ANYIO,
    CONCURRENT,
    CONCURRENT_PYTEST_90,
    CONCURRENT_PYTEST_90_FINALIZER,
    COOPERATIVE,
    FLOOR,
    PYTEST_ASYNCIO,
    Contender,
)

BENCH = Path(__file__).resolve().parent
PYTEST = ["-m", "pytest", "-p", "no:cacheprovider", "-q"]
#: The nets that are on by default, switched off for scenario 6's baseline.
NETS_OFF = ("-o", "asyncio_leaked_tasks=ignore", "-o", "asyncio_unhandled_errors=ignore")
#: The safety nets of scenario 6: (kind, name, value) where kind is "cli" or "ini".
SAFETY_NETS = (
    ("cli", "--asyncio-timeout", "30"),
    ("ini", "asyncio_leaked_tasks", "error"),
    ("ini", "asyncio_unhandled_errors", "error"),
    ("cli", "--asyncio-slow-callback", "1"),
)
#: Scenario 7: pytest-aiokit's concurrency limits, and pytest-asyncio-cooperative's task limit.
IO_CONCURRENCY = (1, 50, 200)
COOPERATIVE_TASKS = 200
#: Scenario 7's fixture-I/O suite: pytest-aiokit's limits (the last one also the cooperative's).
FIXTURE_IO_CONCURRENCY = (1, 100)
#: Scenario 7: how many connections asyncio alone (the lower bound) has open at once.
IO_ASYNCIO_AT_ONCE = 200
#: Scenario 7: the trivial tests' concurrency limit when on.
TRIVIAL_CONCURRENCY = 200
#: Scenario 7: a run that takes longer than this has hung (500 sequential tests take ~20 s).
IO_TIMEOUT = 180.0
#: Scenario 7: runs whose warm-up took less than this many seconds (the concurrent ones, about
#: a second each, where a busy machine weighs most) run this many times in each round.
IO_QUICK = (5.0, 3)


def log(message: str) -> None:
    """Print progress to stderr (stdout gets the table)."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


class Bench:
    """The venvs, the generated suites and the groups measured so far."""

    def __init__(self, args: argparse.Namespace, venvs: dict[str, Path], workdir: Path) -> None:
        self.args = args
        self.venvs = venvs
        self.workdir = workdir
        self.groups: list[_report.Group] = []
        self._suites: dict[tuple[str, str, int], Path] = {}
        self._io_suites: dict[tuple[str, str, int], Path] = {}

    def python(self, contender: Contender) -> str:
        return str(_envs.python_of(self.venvs[contender.name]))

    def suite(self, contender: Contender, kind: _suites.Kind, n: int) -> Path:
        key = (contender.name, kind, n)
        if key not in self._suites:
            path = self.workdir / f"{_contenders.slug(contender)}-{kind}-{n}"
            self._suites[key] = _suites.write_suite(path, contender, kind, n)
        return self._suites[key]

    def io_suite(self, contender: Contender, kind: _suites.IoKind, n: int) -> Path:
        key = (contender.name, kind, n)
        if key not in self._io_suites:
            path = self.workdir / f"{_contenders.slug(contender)}-{kind}-{n}"
            self._io_suites[key] = _suites.write_io_suite(path, contender, kind, n)
        return self._io_suites[key]

    def runs_for(self, n: int | None, *, io: bool = False) -> int:
        if self.args.smoke:
            return 1
        if io:
            return int(self.args.runs_io)
        return int(self.args.runs_large if n and n >= 10_000 else self.args.runs)

    def measure(
        self,
        key: str,
        scenario: int,
        title: str,
        n: int | None,
        jobs: list[_timing.Job],
        *,
        unit: str = "s",
        notes: list[str] | None = None,
        runs: int | None = None,
        may_fail: frozenset[str] = frozenset(),
        quick: tuple[float, int] | None = None,
    ) -> None:
        """Time ``jobs`` in rounds and record them as one group.

        ``may_fail`` names the jobs whose failure is a finding about that plugin (it cannot run
        the suite), reported with its first error, rather than a broken benchmark.
        """
        log(f"scenario {scenario}: {title}" + (f", N={n}" if n else ""))
        _timing.run_rounds(
            jobs, runs or self.runs_for(n), warmup=not self.args.smoke, log=log, quick=quick
        )
        self.groups.append(
            _report.Group(
                key=key,
                scenario=scenario,
                title=title,
                n=n,
                unit=unit,
                medians={j.label: j.median for j in jobs},
                samples={j.label: j.samples for j in jobs},
                errors={j.label: j.error for j in jobs if j.error and j.label not in may_fail},
                notes=notes or [],
                unsupported={j.label: j.error for j in jobs if j.error and j.label in may_fail},
            )
        )

    def pytest_job(
        self, contender: Contender, kind: _suites.Kind, n: int, *extra: str, label: str = ""
    ) -> _timing.Job:
        collect = "--collect-only" in extra
        check = _timing.expect_collected(n) if collect else _timing.expect_passed(n)
        return _timing.Job(
            label=label or contender.name,
            argv=[self.python(contender), *PYTEST, *extra],
            cwd=self.suite(contender, kind, n),
            check=check,
        )


def scenario_runs(bench: Bench, kind: _suites.Kind, sizes: list[int]) -> None:
    """Scenarios 1 and 2: N tests, each awaiting one async fixture."""
    scenario, title = (1, "1. function loop") if kind == "function" else (2, "2. module loop")
    for n in sizes:
        jobs = [bench.pytest_job(c, kind, n) for c in _contenders.ALL]
        bench.measure(f"s{scenario}-{kind}-{n}", scenario, title, n, jobs)


def scenario_collect(bench: Bench, n: int) -> None:
    """Scenario 3: ``--collect-only`` of the function-loop suite."""
    jobs = [bench.pytest_job(c, "function", n, "--collect-only") for c in _contenders.ALL]
    bench.measure(f"s3-collect-{n}", 3, "3. collect only", n, jobs)


def scenario_startup(bench: Bench) -> None:
    """Scenario 5: the plugins' import cost, and pytest start-up with one sync test."""
    jobs: list[_timing.Job] = []
    imports = [(c.name, c, c.plugin_modules) for c in (AIOKIT, PYTEST_ASYNCIO, ANYIO)]
    imports.append(
        (
            _report.AIOKIT_ALL,
            AIOKIT,
            ("pytest_aioloop.plugin", "pytest_ports.plugin", "pytest_aiokit.plugin"),
        )
    )
    for label, contender, modules in imports:
        code = "import pytest; " + "; ".join(f"import {m}" for m in modules)
        jobs.append(
            _timing.Job(
                label=label,
                argv=[bench.python(contender), "-X", "importtime", "-c", code],
                cwd=bench.workdir,
                check=_timing.expect_exit_zero,
                measure=_timing.plugin_import_ms,
            )
        )
    bench.measure(
        "s5-import",
        5,
        "5. plugin import (-X importtime, after pytest)",
        None,
        jobs,
        unit="ms",
        notes=[
            "sum of the self times of every module imported after pytest; "
            "asyncio counts when the plugin is what imports it"
        ],
    )
    jobs = [bench.pytest_job(c, "startup", 1) for c in _contenders.ALL]
    bench.measure("s5-startup", 5, "5. start-up, one sync test", 1, jobs)


def _known_options(bench: Bench) -> tuple[set[str], set[str]]:
    """Return the command-line options and ini names pytest-aiokit's pytest knows."""
    proc = subprocess.run(
        [bench.python(AIOKIT), *PYTEST, "--help"],
        cwd=bench.suite(AIOKIT, "startup", 1),
        capture_output=True,
        text=True,
        check=False,
        env=_timing.clean_env(),
    )
    cli = set(re.findall(r"(--[\w-]+)", proc.stdout))
    ini = set(re.findall(r"^\s{2}([a-z_]+) \(", proc.stdout, re.MULTILINE))
    return cli, ini


def scenario_safety(bench: Bench, n: int) -> None:
    """Scenario 6: pytest-aiokit with the safety nets all off, at their defaults, and all on."""
    cli, ini = _known_options(bench)
    extra: list[str] = []
    notes: list[str] = []
    for kind, name, value in SAFETY_NETS:
        if (kind == "cli" and name in cli) or (kind == "ini" and name in ini):
            extra += [f"{name}={value}"] if kind == "cli" else ["-o", f"{name}={value}"]
            notes.append(f"{name}={value}: on")
        else:
            notes.append(f"{name}={value}: n/a (pytest-aiokit has no such option yet)")
    jobs = [
        bench.pytest_job(FLOOR, "function", n),
        bench.pytest_job(PYTEST_ASYNCIO, "function", n),
        bench.pytest_job(AIOKIT, "function", n),
        bench.pytest_job(AIOKIT, "function", n, *NETS_OFF, label=_report.NETS_OFF),
        bench.pytest_job(AIOKIT, "function", n, *extra, label=_report.NETS_ON),
    ]
    bench.measure(f"s6-safety-{n}", 6, "6. safety nets", n, jobs, notes=notes)


def asyncio_alone(bench: Bench, label: str, *args: object) -> _timing.Job:
    """The job that times a suite's work done by asyncio alone (``_asyncio_io.py args``)."""
    return _timing.Job(
        label=label,
        argv=[bench.python(FLOOR), str(BENCH / "_asyncio_io.py"), *map(str, args)],
        cwd=bench.workdir,
        check=_timing.expect_exit_zero,
        measure=_timing.printed_seconds,
        timeout=IO_TIMEOUT,
    )


def scenario_io(bench: Bench, n: int, trivial_n: int) -> None:
    """Scenario 7: an I/O-bound suite one test at a time and concurrently; trivial tests."""

    def job(
        contender: Contender, kind: _suites.IoKind, count: int, *extra: str, label: str = ""
    ) -> _timing.Job:
        return _timing.Job(
            label=label or contender.name,
            argv=[bench.python(contender), *PYTEST, *extra],
            cwd=bench.io_suite(contender, kind, count),
            check=_timing.expect_passed(count),
            timeout=IO_TIMEOUT,
        )

    def aiokit(kind: _suites.IoKind, count: int, concurrency: int, label: str = "") -> _timing.Job:
        option = ("-o", f"asyncio_concurrency={concurrency}")
        return job(AIOKIT, kind, count, *option, label=label or _report.concurrency(concurrency))

    peers = [
        job(
            COOPERATIVE,
            "io",
            n,
            f"--max-asyncio-tasks={COOPERATIVE_TASKS}",
            label=f"{COOPERATIVE.name}, {COOPERATIVE_TASKS} tasks",
        ),
        *(
            job(c, "io", n)
            for c in (CONCURRENT, CONCURRENT_PYTEST_90, CONCURRENT_PYTEST_90_FINALIZER)
        ),
    ]
    jobs = [
        job(PYTEST_ASYNCIO, "io", n),
        *(aiokit("io", n, c) for c in IO_CONCURRENCY),
        *peers,
        aiokit("io-instant", n, 1, label=_report.IO_INSTANT),
        job(FLOOR, "sync", n, label=_report.IO_SYNC_FLOOR),
        asyncio_alone(
            bench,
            _report.IO_ASYNCIO,
            n,
            _suites.IO_DELAY,
            _suites.IO_ROUND_TRIPS,
            IO_ASYNCIO_AT_ONCE,
        ),
    ]
    notes = [
        f"{n} tests in modules of {_suites.TESTS_PER_MODULE}, each with its own connection to a "
        f"session-scoped local server and {_suites.IO_ROUND_TRIPS} round trips of "
        f"{_suites.IO_DELAY * 1000:.0f} ms; {_report.IO_INSTANT}: the same tests, server "
        "without the wait; "
        f"{_report.IO_SYNC_FLOOR}: {n} tests `def test(): pass` in the same modules, no plugin; "
        f"{_report.IO_ASYNCIO}: the time, measured inside the process, that asyncio alone takes "
        f"to do the suite's work (server, {n} connections, their round trips and waits), "
        f"{IO_ASYNCIO_AT_ONCE} connections at once"
    ]
    runs = bench.runs_for(n, io=True)
    may_fail = frozenset(j.label for j in peers)
    bench.measure(
        f"s7-io-{n}",
        7,
        _report.IO_TITLE,
        n,
        jobs,
        notes=notes,
        runs=runs,
        may_fail=may_fail,
        quick=IO_QUICK,
    )
    jobs = [aiokit("trivial", trivial_n, c) for c in (1, TRIVIAL_CONCURRENCY)]
    bench.measure(f"s7-trivial-{trivial_n}", 7, _report.TRIVIAL_TITLE, trivial_n, jobs)
    scenario_fixture_io(bench, n, job, aiokit)


def scenario_fixture_io(bench: Bench, n: int, job: Any, aiokit: Any) -> None:
    """Scenario 7, second suite: tests that wait in their fixtures' setup and teardown."""
    tasks = FIXTURE_IO_CONCURRENCY[-1]
    peers = [
        *(job(c, "fixture-io", n) for c in (CONCURRENT, CONCURRENT_PYTEST_90)),
    ]
    jobs = [
        job(PYTEST_ASYNCIO, "fixture-io", n),
        *(aiokit("fixture-io", n, c) for c in FIXTURE_IO_CONCURRENCY),
        job(
            COOPERATIVE,
            "fixture-io",
            n,
            f"--max-asyncio-tasks={tasks}",
            label=_report.fixture_io_cooperative(tasks),
        ),
        *peers,
        # The same tests in one module: what module boundaries cost, if anything (pytest-aiokit
        # moves on to the next module only when nothing of the last one needs tearing down).
        aiokit(
            "fixture-io-one-module",
            n,
            tasks,
            label=_report.one_module(_report.concurrency(tasks)),
        ),
        job(
            COOPERATIVE,
            "fixture-io-one-module",
            n,
            f"--max-asyncio-tasks={tasks}",
            label=_report.one_module(_report.fixture_io_cooperative(tasks)),
        ),
        # The lower bound's two parts, as for the I/O-bound suite.
        job(FLOOR, "sync", n, label=_report.IO_SYNC_FLOOR),
        asyncio_alone(
            bench,
            _report.FIXTURE_IO_ASYNCIO,
            "fixtures",
            n,
            _suites.FIXTURE_IO_WAIT,
            _suites.FIXTURE_IO_BODY,
            tasks,
        ),
    ]
    notes = [
        f"{n} tests in modules of {_suites.TESTS_PER_MODULE}, each with a function-scoped async "
        f"fixture that waits {_suites.FIXTURE_IO_WAIT * 1000:.0f} ms in its setup and again in "
        f"its teardown, and a body that waits {_suites.FIXTURE_IO_BODY * 1000:.0f} ms"
    ]
    bench.measure(
        f"s7-fixture-io-{n}",
        7,
        _report.FIXTURE_IO_TITLE,
        n,
        jobs,
        notes=notes,
        runs=bench.runs_for(n, io=True),
        may_fail=frozenset(j.label for j in jobs if j.label.startswith(_report.COOPERATIVE))
        | frozenset(j.label for j in peers),
        quick=IO_QUICK,
    )


def scenario_instructions(bench: Bench) -> dict[str, Any] | None:
    """Scenario 8: instructions counted with cachegrind, and pytest-aiokit's share by module."""
    why_not = _instructions.available()
    if why_not is not None:
        log(f"scenario 8 skipped: {why_not}")
        return None
    pythons = {c.name: bench.python(c) for c in _contenders.ALL}
    pythons[_contenders.MINIMAL.name] = bench.python(FLOOR)  # it needs nothing but pytest
    data = _instructions.measure(
        pythons,
        smoke=bench.args.smoke,
        trivial_n=20 if bench.args.smoke else bench.args.trivial_tests,
        log=log,
    )
    data["aiokit_modules"] = _module_profile(bench, 20 if bench.args.smoke else 2000)
    return data


def _module_profile(bench: Bench, n: int) -> dict[str, float]:
    """Microseconds per test in each pytest_aioloop module (``profile_per_test.py``, cProfile)."""
    suite = bench.suite(AIOKIT, "function", n)
    subprocess.run(
        [bench.python(AIOKIT), *PYTEST], cwd=suite, capture_output=True, check=False
    )  # bytecode first
    out = bench.workdir / "modules.json"
    profile = str(BENCH / "profile_per_test.py")
    subprocess.run(
        [bench.python(AIOKIT), profile, "--inner", str(suite), "-n", str(n), "--json", str(out)],
        capture_output=True,
        check=True,
        env=_timing.clean_env(),
    )
    data = json.loads(out.read_text())
    return {name: seconds / n * 1e6 for name, seconds in data["seconds"].items()}


def _source() -> str:
    """Describe the aiokit source tree measured: the commit, and whether packages/ had edits."""

    def git(*args: str) -> str:
        proc = subprocess.run(
            ["git", *args], cwd=_envs.ROOT, capture_output=True, text=True, check=False
        )
        return proc.stdout.strip() if proc.returncode == 0 else ""

    commit = git("rev-parse", "--short", "HEAD") or "unknown commit"
    dirty = git("status", "--porcelain", "--", "packages")
    return commit + (" with uncommitted changes in packages/" if dirty else "")


def _machine() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def meta(bench: Bench, pytest_version: str, source: str) -> dict[str, Any]:
    """Return the machine, interpreter and package versions of this run.

    ``source`` is :func:`_source` as it was when the wheels were built (the tree may change
    while the scenarios run).
    """
    versions: dict[str, str] = {}
    own_pytest: dict[str, str] = {}
    for contender in _contenders.ALL + _contenders.PEERS:
        installed = _envs.installed_versions(bench.venvs[contender.name])
        versions.update({d: installed.get(d, "?") for d in contender.dists})
        if contender.pytest_spec:
            own_pytest[contender.name] = installed.get("pytest", "?")
    python = subprocess.run(
        [bench.python(FLOOR), "-c", "import platform; print(platform.python_version())"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    return {
        "machine": _machine(),
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": f"{python} ({platform.python_implementation()})",
        "pytest": pytest_version,
        "own_pytest": own_pytest,
        "versions": versions,
        "source": source,
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "smoke": bench.args.smoke,
        "runs": bench.runs_for(1),
        "runs_large": bench.runs_for(10_000),
        "runs_io": bench.runs_for(1, io=True),
        "runs_io_quick": bench.runs_for(1, io=True) * (1 if bench.args.smoke else IO_QUICK[1]),
        "io_quick_below_s": IO_QUICK[0],
        "io_wait_s": _suites.IO_DELAY * _suites.IO_ROUND_TRIPS,
        "asyncio_costs": asyncio_costs(bench),
    }


def asyncio_costs(bench: Bench) -> dict[str, float]:
    """Measure asyncio's own costs with the floor's interpreter (``bench/_asyncio_cost.py``)."""
    done = subprocess.run(
        [bench.python(FLOOR), str(BENCH / "_asyncio_cost.py")],
        capture_output=True,
        text=True,
        check=True,
        env=_timing.clean_env(),
    )
    costs: dict[str, float] = json.loads(done.stdout)
    log(f"asyncio's own costs: {costs}")
    return costs


def _replace_block(text: str, name: str, block: str) -> str:
    start, end = f"% {name}:start\n", f"% {name}:end\n"
    if start not in text or end not in text:
        raise SystemExit(f"performance.md has no '% {name}:start/end' markers to replace")
    head, rest = text.split(start, 1)
    _old, tail = rest.split(end, 1)
    return f"{head}{start}{block}{end}{tail}"


def update_docs(blocks: dict[str, str], charts: dict[str, Path]) -> None:
    """Copy the charts to docs/_static and replace the results blocks of the performance page."""
    page = _envs.ROOT / "docs" / "concepts" / "performance.md"
    static = _envs.ROOT / "docs" / "_static"
    static.mkdir(exist_ok=True)
    for name, chart in charts.items():
        shutil.copyfile(chart, static / name)
    text = page.read_text()
    for name, block in blocks.items():
        text = _replace_block(text, name, block)
    page.write_text(text)
    copied = ", ".join(f"docs/_static/{name}" for name in charts)
    log(f"updated {page.relative_to(_envs.ROOT)} and {copied}")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--smoke", action="store_true", help="every scenario once with N=20; no warm-up"
    )
    parser.add_argument("--runs", type=int, default=5, help="timed runs per cell (default 5)")
    parser.add_argument(
        "--runs-large", type=int, default=3, help="timed runs per cell at N >= 10000 (default 3)"
    )
    parser.add_argument(
        "--runs-io", type=int, default=3, help="timed runs per cell of scenario 7 (default 3)"
    )
    parser.add_argument(
        "--sizes", type=int, nargs="+", default=[500, 2000, 10_000], help="N for scenarios 1-2"
    )
    parser.add_argument(
        "--io-tests", type=int, default=500, help="tests of scenario 7's I/O suite (default 500)"
    )
    parser.add_argument(
        "--trivial-tests",
        type=int,
        default=2000,
        help="tests of scenario 7's trivial module (default 2000)",
    )
    parser.add_argument("--pytest", help="pytest requirement for every venv (default: newest)")
    parser.add_argument(
        "--reuse-venvs", action="store_true", help="keep existing venvs (aiokit is still rebuilt)"
    )
    parser.add_argument("--out", type=Path, help="results directory (default bench/results)")
    parser.add_argument(
        "--docs", action="store_true", help="also update docs/concepts/performance.md"
    )
    parser.add_argument("--keep", action="store_true", help="keep the generated suites")
    parser.add_argument(
        "--no-instructions", action="store_true", help="skip scenario 8 (cachegrind counts)"
    )
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="measure nothing: re-render latest.md/png (and --docs) from latest.json",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; return 1 if any contender's run failed."""
    args = parse_args(argv)
    sizes = [20] if args.smoke else sorted(args.sizes)
    out: Path = args.out or BENCH / "results" / ("tmp" if args.smoke else "")
    out.mkdir(parents=True, exist_ok=True)
    if args.report_only:
        info, groups = _report.groups_from_json(out / "latest.json")
        return publish(args, out, info, groups)
    started = time.perf_counter()
    log("creating virtual environments under bench/.venvs/")
    venvs, pytest_version = _envs.create_all(
        _contenders.ALL + _contenders.PEERS, args.pytest, reuse=args.reuse_venvs
    )
    source = _source()  # what the wheels just built were built from
    log(f"venvs ready on pytest {pytest_version} ({time.perf_counter() - started:.0f} s)")
    workdir = Path(tempfile.mkdtemp(prefix="aiokit-bench-"))
    try:
        bench = Bench(args, venvs, workdir)
        scenario_startup(bench)
        scenario_runs(bench, "function", sizes)
        scenario_runs(bench, "module", sizes)
        scenario_collect(bench, sizes[-1])
        scenario_safety(bench, 20 if args.smoke else 2000)
        if args.smoke:
            scenario_io(bench, 20, 20)
        else:
            scenario_io(bench, args.io_tests, args.trivial_tests)
        info = meta(bench, pytest_version, source)
        if not args.no_instructions:
            info["instructions"] = scenario_instructions(bench)
    finally:
        if args.keep:
            log(f"suites kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    order = {1: 0, 2: 1, 3: 2, 5: 3, 6: 4, 7: 5}
    groups = sorted(bench.groups, key=lambda g: (order[g.scenario], g.key.endswith("startup")))
    _report.write_json(out / "latest.json", info, groups)
    code = publish(args, out, info, groups)
    log(f"wrote {out}/latest.{{json,md,png}} in {time.perf_counter() - started:.0f} s")
    return code


def publish(
    args: argparse.Namespace, out: Path, info: dict[str, Any], groups: list[_report.Group]
) -> int:
    """Write latest.md and the charts (and the docs page); print the report; 1 on failures."""
    _report.chart(out / "latest.png", groups)
    charts = {"performance.png": out / "latest.png"}
    if _report.concurrency_chart(out / "concurrency.png", info, groups):
        charts["concurrency.png"] = out / "concurrency.png"
    text = _report.markdown(info, groups, chart="latest.png")
    instructions = info.get("instructions")
    if instructions:
        text += "\n".join(_instructions.markdown(instructions)) + "\n"
    (out / "latest.md").write_text(text)
    if args.docs:
        blocks = {
            "bench-results": _report.docs_block(info, groups),
            "bench-concurrency": _report.concurrency_block(info, groups),
        }
        if instructions:
            blocks["bench-instructions"] = "\n".join(_instructions.markdown(instructions)) + "\n"
        update_docs(blocks, charts)
    print(text)
    return 1 if any(g.errors for g in groups) else 0


if __name__ == "__main__":
    sys.exit(main())
