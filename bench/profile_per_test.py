"""Profile pytest-aiokit's per-test path: scenario 1 (N=2000) under cProfile, in-process.

Usage::

    python bench/profile_per_test.py [-n 2000] [--top 30] [--kind function|module]
        [--out FILE.pstats]

It reuses (or creates) the pytest-aiokit venv of ``bench/run.py`` with a freshly built wheel of
the local packages, generates the scenario-1 suite in a temporary directory, and re-runs itself
in that venv, where ``pytest.main()`` runs the suite under cProfile. It then prints the entries
inside ``pytest_aioloop`` and inside pytest's fixture machinery (``_pytest/fixtures.py``),
sorted by cumulative time, with the time per test, then the same for time spent in the function
itself (``tottime``), which is where per-test work that could be cached shows up, and last the
time of each ``pytest_aioloop`` module (its functions' own time, plus the C functions they call
directly). ``bench/run.py`` reports that last table with its instruction counts (``--json``).
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent

WATCHED = ("pytest_aioloop", "_pytest/fixtures.py", "_pytest\\fixtures.py")


def _where(filename: str) -> str:
    for marker in ("pytest_aioloop", "_pytest"):
        at = filename.rfind(marker)
        if at >= 0:
            return filename[at:]
    return filename


def module_times(raw: dict[tuple[str, int, str], Any]) -> dict[str, float]:
    """Seconds spent in each ``pytest_aioloop`` module: its own, and in C functions it called."""
    times: collections.Counter[str] = collections.Counter()

    def module(filename: str) -> str | None:
        at = filename.replace("\\", "/").rfind("pytest_aioloop/")
        return filename[at + len("pytest_aioloop/") :] if at >= 0 else None

    for (file, _line, _func), (_cc, _nc, tt, _ct, callers) in raw.items():
        if file == "~":  # a C function: charge each caller for the time it spent in it
            for (caller, _l, _f), (_ccc, _cnc, ctt, _cct) in callers.items():
                name = module(caller)
                if name is not None:
                    times[name] += ctt
        else:
            name = module(file)
            if name is not None:
                times[name] += tt
    return dict(times)


def report(stats_path: Path, n: int, top: int) -> None:
    """Print the watched entries of a saved profile by cumulative and by own time."""
    import pstats

    stats = pstats.Stats(str(stats_path))
    raw: dict[tuple[str, int, str], tuple[int, int, float, float, object]]
    raw = stats.stats  # type: ignore[attr-defined]
    total = getattr(stats, "total_tt", 0.0)
    rows = [
        (_where(file), line, func, cc, nc, tt, ct)
        for (file, line, func), (cc, nc, tt, ct, _callers) in raw.items()
        if any(w in file for w in WATCHED)
    ]
    print(f"\n{n} tests; whole profiled run {total:.2f} s = {total / n * 1e3:.3f} ms per test")
    for title, index in (("cumulative", 6), ("own time (tottime)", 5)):
        print(f"\nTop {top} by {title}, inside pytest_aioloop and _pytest/fixtures.py")
        print(
            f"{'calls':>9} {'per test':>9} {'own ms':>9} {'cum ms':>9} {'cum µs/test':>12}  where"
        )
        for file, line, func, _cc, nc, tt, ct in sorted(rows, key=lambda r: -float(r[index]))[:top]:
            print(
                f"{nc:>9} {nc / n:>9.2f} {tt * 1e3:>9.1f} {ct * 1e3:>9.1f} "
                f"{ct / n * 1e6:>12.1f}  {file}:{line}({func})"
            )
    times = module_times(raw)
    ours = sum(times.values())
    print(f"\nBy pytest_aioloop module: {ours / n * 1e6:.1f} µs per test in all")
    for name, seconds in sorted(times.items(), key=lambda kv: -kv[1]):
        print(f"{seconds / n * 1e6:>9.1f} µs/test {seconds / ours * 100:>5.1f} %  {name}")


def inner(suite: Path, n: int, top: int, out: Path | None, as_json: Path | None) -> None:
    """Run the suite with ``pytest.main`` under cProfile (inside the benchmark venv)."""
    import cProfile

    import pytest

    os.chdir(suite)
    profiler = cProfile.Profile()
    profiler.enable()
    code = pytest.main(["-p", "no:cacheprovider", "-q", "-x", str(suite)])
    profiler.disable()
    if code != 0:
        raise SystemExit(f"the profiled suite failed (exit {code})")
    if as_json is not None:
        profiler.create_stats()
        raw = profiler.stats
        as_json.write_text(json.dumps({"tests": n, "seconds": module_times(raw)}))
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = out or Path(tmp) / "profile.pstats"
        profiler.dump_stats(str(path))
        report(path, n, top)
        if out:
            print(f"\nfull profile saved to {out} (open with python -m pstats or snakeviz)")


def outer(args: argparse.Namespace) -> None:
    """Prepare the venv and the suite, then re-run this file inside the venv."""
    sys.path.insert(0, str(HERE.parent))
    from bench import _contenders, _envs, _suites

    pytest_spec = "pytest"
    floor_python = _envs.python_of(_envs.VENVS / "floor")
    if floor_python.exists():  # stay on the pytest version of the last benchmark run
        pytest_spec = "pytest==" + _envs.installed_versions(floor_python.parent.parent)["pytest"]
    venv = _envs.create(_contenders.AIOKIT, pytest_spec, reuse=True)
    with tempfile.TemporaryDirectory(prefix="aiokit-profile-") as tmp:
        suite = _suites.write_suite(Path(tmp) / "suite", _contenders.AIOKIT, args.kind, args.n)
        argv = [str(_envs.python_of(venv)), __file__, "--inner", str(suite), "-n", str(args.n)]
        argv += ["--top", str(args.top)]
        if args.out:
            argv += ["--out", str(args.out.resolve())]
        # Once unprofiled, so that the profile sees no bytecode compilation.
        subprocess.run(
            [str(_envs.python_of(venv)), "-m", "pytest", "-p", "no:cacheprovider", "-q"],
            cwd=suite,
            check=True,
            capture_output=True,
        )
        raise SystemExit(subprocess.run(argv, check=False).returncode)


def main() -> None:
    """Parse the command line and profile."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("-n", type=int, default=2000, help="number of tests (default 2000)")
    parser.add_argument("--top", type=int, default=30, help="entries to print (default 30)")
    parser.add_argument("--kind", choices=("function", "module"), default="function")
    parser.add_argument("--out", type=Path, help="also save the whole profile (.pstats)")
    parser.add_argument("--inner", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--json", type=Path, help=argparse.SUPPRESS)  # with --inner
    args = parser.parse_args()
    if args.inner:
        inner(args.inner, args.n, args.top, args.out, args.json)
    else:
        outer(args)


if __name__ == "__main__":
    main()
