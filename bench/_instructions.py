"""Scenario 8: instructions, counted with valgrind's cachegrind (repeatable on a noisy machine).

Wall times on shared machines drift by 20-50 % between runs; the number of instructions a
process executes repeats to within a few instructions when its files live at the same paths
(the suites are written under ``bench/.instructions/``, not a random temporary directory) and
``PYTHONHASHSEED`` is fixed. Each count is taken after a warm-up run without valgrind (which
writes the bytecode caches), from one run under ``valgrind --tool=cachegrind --cache-sim=no``.

What is counted, for each contender:

- **per test**: ``(count(N2) - count(N1)) / (N2 - N1)`` for suites of N1 and N2 tests, so that
  start-up and collection of the modules cancel out; reported over the same tests written sync
  under bare pytest (the *sync floor*), for function- and module-scoped loops;
- **start-up**: one sync test, the whole process, over bare pytest's;
- pytest-aiokit with every safety net on, and 2000 trivial tests with concurrency off and on.

The *minimal runner* is a feature-less plugin written only for this scenario (no marker, no
safety net, no policy: a loop per test or module, async generator fixtures, the test's
coroutine); it shows what any plugin that keeps pytest's protocol pays at the least.
"""

from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

from bench import _suites, _timing
from bench._contenders import AIOKIT, ANYIO, FLOOR, MINIMAL, PYTEST_ASYNCIO, Contender, slug
from bench._report import TIMES

BENCH = Path(__file__).resolve().parent
#: Fixed paths, so that counts repeat from run to run (paths are hashed and compared).
WORKDIR = BENCH / ".instructions"
PYTEST = ("-m", "pytest", "-p", "no:cacheprovider", "-q")
CONTENDERS = (MINIMAL, AIOKIT, PYTEST_ASYNCIO, ANYIO)
#: The safety nets all on (as scenario 6).
NETS_ON = (
    "--asyncio-timeout=30",
    "-o",
    "asyncio_leaked_tasks=error",
    "-o",
    "asyncio_unhandled_errors=error",
    "--asyncio-slow-callback=1",
)
#: Each feature that costs something per test, on (or off, where it is on by default): the
#: report gives each one's difference from the defaults, function loops, pytest-aiokit.
FEATURES: dict[str, tuple[str, ...]] = {
    "unawaited coroutines off (asyncio_unawaited = ignore; on by default)": (
        "-o",
        "asyncio_unawaited=ignore",
    ),
    "slow-callback watch on, naming the line that holds the loop (asyncio_slow_callback = 1)": (
        "--asyncio-slow-callback=1",
    ),
    "stall report on (asyncio_stall_report = 600)": ("--asyncio-stall-report=600",),
    "virtual time on (asyncio_virtual_time = true)": ("--asyncio-virtual-time",),
}
CACHEGRIND = ("valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null")
_IREFS = re.compile(r"I\s+refs:\s+([\d,]+)")


def available() -> str | None:
    """Return why the scenario cannot run here, or ``None`` if it can."""
    if shutil.which("valgrind") is None:
        return "valgrind is not installed (on Debian: apt-get install valgrind)"
    return None


@dataclasses.dataclass
class Counter:
    """Runs and counts processes with the venvs of the benchmark."""

    pythons: dict[str, str]
    sizes: tuple[int, int]
    log: Any

    def count(self, python: str, cwd: Path, *args: str) -> int:
        """Return the instructions one pytest process executes (after a warm-up run)."""
        env = _timing.clean_env()
        argv = [python, *PYTEST, *args]
        subprocess.run(argv, cwd=cwd, env=env, capture_output=True, check=False)
        proc = subprocess.run(
            [*CACHEGRIND, *argv],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        found = _IREFS.search(proc.stderr)
        if proc.returncode != 0 or found is None:
            tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-12:])
            raise SystemExit(f"instruction count failed in {cwd}:\n{tail}")
        return int(found.group(1).replace(",", ""))

    def suite(self, contender: Contender, kind: _suites.Kind, n: int) -> Path:
        """Write (once) the suite of ``contender`` at a fixed path."""
        path = WORKDIR / f"{slug(contender)}-{kind}-{n}"
        if not (path / "conftest.py").exists():
            shutil.rmtree(path, ignore_errors=True)
            _suites.write_suite(path, contender, kind, n)
        return path

    def per_test(self, contender: Contender, kind: _suites.Kind, *args: str) -> float:
        """Instructions per test of ``contender`` (the slope between the two sizes)."""
        python = self.pythons[contender.name]
        n1, n2 = self.sizes
        counts = [self.count(python, self.suite(contender, kind, n), *args) for n in (n1, n2)]
        self.log(f"scenario 8: {contender.name}, {kind}{' ' + ' '.join(args) if args else ''}")
        return (counts[1] - counts[0]) / (n2 - n1)


#: Concurrency 200 without what guards outcomes (reruns alone, the stall watch): the key of its
#: count, and its options.
UNGUARDED = "200-unguarded"
UNGUARDED_OPTIONS = (
    "-o",
    "asyncio_concurrency_conflicts=off",
    "-o",
    "asyncio_concurrency_stall=0",
)


def measure(pythons: dict[str, str], *, smoke: bool, trivial_n: int, log: Any) -> dict[str, Any]:
    """Count everything scenario 8 reports; return it as JSON-ready data."""
    WORKDIR.mkdir(exist_ok=True)
    counter = Counter(pythons, (5, 15) if smoke else (100, 300), log)
    contenders = (MINIMAL, AIOKIT) if smoke else CONTENDERS
    per_test: dict[str, dict[str, float]] = {}
    kinds: tuple[_suites.Kind, ...] = ("function",) if smoke else ("function", "module")
    for kind in kinds:
        per_test[kind] = {c.name: counter.per_test(c, kind) for c in (FLOOR, *contenders)}
    per_test["function, safety nets on"] = {
        FLOOR.name: per_test["function"][FLOOR.name],
        AIOKIT.name: counter.per_test(AIOKIT, "function", *NETS_ON),
    }
    features = (
        {}
        if smoke
        else {name: counter.per_test(AIOKIT, "function", *args) for name, args in FEATURES.items()}
    )
    startup = {
        c.name: counter.count(pythons[c.name], counter.suite(c, "startup", 1))
        for c in ((FLOOR, AIOKIT) if smoke else (FLOOR, AIOKIT, PYTEST_ASYNCIO, ANYIO))
    }
    trivial = WORKDIR / f"trivial-{trivial_n}"
    if not trivial.exists():
        _suites.write_io_suite(trivial, AIOKIT, "trivial", trivial_n)
    concurrency = {
        str(limit): counter.count(
            pythons[AIOKIT.name], trivial, "-o", f"asyncio_concurrency={limit}"
        )
        for limit in (1, 200)
    }
    concurrency[UNGUARDED] = counter.count(
        pythons[AIOKIT.name], trivial, "-o", "asyncio_concurrency=200", *UNGUARDED_OPTIONS
    )
    log("scenario 8: done")
    return {
        "sizes": list(counter.sizes),
        "per_test": per_test,
        "features": features,
        "startup": startup,
        "trivial_tests": trivial_n,
        "concurrency": concurrency,
    }


def _k(value: float) -> str:
    return f"{value / 1000:,.0f}k"


def _signed_k(value: float) -> str:
    return f"{value / 1000:+,.0f}k"


def markdown(data: dict[str, Any]) -> list[str]:
    """The report's section for scenario 8."""
    n1, n2 = data["sizes"]
    floor = FLOOR.name
    lines = [
        "",
        "### 8. Instructions (cachegrind)",
        "",
        f"Per test: the difference between suites of {n1} and {n2} tests, divided by "
        f"{n2 - n1}; over the sync floor (the same tests written sync, bare pytest).",
        "",
        "| Loops | Contender | instructions per test | over the sync floor | ÷ sync floor |",
        "|---|---|--:|--:|--:|",
    ]
    for kind, counts in data["per_test"].items():
        base = counts[floor]
        for name, value in counts.items():
            if name == floor:
                continue
            lines.append(
                f"| {kind} | {name} | {_k(value)} | +{_k(value - base)} | "
                f"{value / base:.3f}{TIMES} |"
            )
    features = data.get("features") or {}
    if features:
        defaults = data["per_test"]["function"][AIOKIT.name]
        lines += [
            "",
            "What each feature costs per test, pytest-aiokit, function loops, against its "
            f"defaults ({_k(defaults)}):",
            "",
            "| Feature | instructions per test | against the defaults |",
            "|---|--:|--:|",
        ]
        for name, value in features.items():
            lines.append(f"| {name} | {_k(value)} | {_signed_k(value - defaults)} |")
    start = data["startup"]
    lines += [
        "",
        "Start-up, one sync test, the whole process:",
        "",
        "| Contender | instructions | over bare pytest |",
        "|---|--:|--:|",
    ]
    for name, value in start.items():
        if name != floor:
            over = (value - start[floor]) / 1e6
            lines.append(f"| {name} | {value / 1e6:,.1f}M | +{over:,.1f}M |")
    off, on = data["concurrency"]["1"], data["concurrency"]["200"]
    lines += [
        "",
        f"{data['trivial_tests']} trivial tests in one module, pytest-aiokit: concurrency off "
        f"{off / 1e6:,.1f}M instructions, concurrency 200 {on / 1e6:,.1f}M "
        f"({(on - off) / off * 100:+.1f} %).",
    ]
    unguarded = data["concurrency"].get(UNGUARDED)
    if unguarded:
        lines.append(
            f"What keeps outcomes as they are alone (a failure runs again alone, the stall "
            f"watch) costs {(on - unguarded) / unguarded * 100:+.2f} % there: concurrency 200 "
            f"with both off (`asyncio_concurrency_conflicts = off`, `asyncio_concurrency_stall "
            f"= 0`) takes {unguarded / 1e6:,.1f}M."
        )
    modules = data.get("aiokit_modules") or {}
    if modules:
        total = sum(modules.values())
        lines += [
            "",
            "Where pytest-aiokit's own share of a test goes (function loops, cProfile: each "
            "module's functions and the C functions they call; its timer inflates small "
            f"functions, so read the shares, not the times): {total:.1f} µs per test in all.",
            "",
            "| Module of pytest_aioloop | µs per test | share |",
            "|---|--:|--:|",
        ]
        rest = 0.0
        for name, micros in sorted(modules.items(), key=lambda kv: -kv[1]):
            if micros / total < 0.005:  # under half a percent: summed up below
                rest += micros
                continue
            lines.append(f"| `{name}` | {micros:.1f} | {micros / total * 100:.0f} % |")
        if rest:
            lines.append(f"| the other modules | {rest:.1f} | {rest / total * 100:.0f} % |")
    return lines
