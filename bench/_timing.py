"""Time whole processes: a warm-up, then rounds that alternate the contenders; medians."""

from __future__ import annotations

import dataclasses
import os
import re
import statistics
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path

#: Variables that would change what pytest loads or how it reports.
_SCRUBBED = (
    "PYTEST_ADDOPTS",
    "PYTEST_PLUGINS",
    "PYTHONPATH",
    "PYTHONSTARTUP",
    "VIRTUAL_ENV",
    # pytest caches rewritten test modules as bytecode unless this is set; users keep that
    # cache between runs, so the timed runs (after the warm-up) use it too.
    "PYTHONDONTWRITEBYTECODE",
)


def clean_env() -> dict[str, str]:
    """Return the environment every timed process runs in."""
    env = {k: v for k, v in os.environ.items() if k not in _SCRUBBED}
    env["PY_COLORS"] = "0"
    env["PYTHONHASHSEED"] = "0"
    return env


@dataclasses.dataclass
class Job:
    """One command to time, with the check that its output is what the scenario expects."""

    label: str
    argv: list[str]
    cwd: Path
    check: Callable[[subprocess.CompletedProcess[str]], str | None]
    #: Turn one finished run into the number recorded (default: its wall time in seconds).
    measure: Callable[[float, subprocess.CompletedProcess[str]], float] | None = None
    #: Seconds after which a run is killed and the job fails (a plugin that hangs).
    timeout: float = 900
    samples: list[float] = dataclasses.field(default_factory=list)
    error: str | None = None
    #: How many times it runs in each round (set by :func:`run_rounds` for quick jobs).
    repeat: int = 1

    @property
    def median(self) -> float | None:
        """Return the median sample, or None if the job failed or never ran."""
        return statistics.median(self.samples) if self.samples and not self.error else None


def _once(job: Job, env: dict[str, str]) -> float | None:
    start = time.perf_counter()
    try:
        proc = subprocess.run(
            job.argv,
            cwd=job.cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=job.timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        partial = exc.stdout or b""
        text = partial.decode(errors="replace") if isinstance(partial, bytes) else partial
        tail = "\n".join(text.strip().splitlines()[-15:])
        job.error = f"killed after {job.timeout:.0f} s\n--- last lines of output ---\n{tail}"
        return None
    elapsed = time.perf_counter() - start
    problem = job.check(proc)
    if problem:
        output = proc.stdout + proc.stderr
        tail = "\n".join(output.strip().splitlines()[-15:])
        first = first_error(output)
        job.error = f"{problem}\n" + (f"{FIRST_ERROR}\n{first}\n" if first else "")
        job.error += f"--- last lines of output ---\n{tail}"
        return None
    return job.measure(elapsed, proc) if job.measure else elapsed


def run_rounds(
    jobs: Sequence[Job],
    runs: int,
    *,
    warmup: bool,
    log: Callable[[str], None],
    quick: tuple[float, int] | None = None,
) -> None:
    """Run every job ``runs`` times (after one discarded warm-up), rotating their order.

    ``quick = (seconds, repeat)``: a job whose warm-up took less than ``seconds`` runs
    ``repeat`` times in each round, interleaved with the other quick jobs, so that the medians
    of the short runs, which a busy machine disturbs most, rest on more samples.
    """
    env = clean_env()
    live = [j for j in jobs if not j.error]
    if warmup:
        for job in live:
            took = _once(job, env)
            if quick is not None and took is not None and took < quick[0]:
                job.repeat = quick[1]
    for r in range(runs):
        live = [j for j in live if not j.error]
        order = live[r % len(live) :] + live[: r % len(live)] if live else []
        for time_in_round in range(max((j.repeat for j in order), default=1)):
            for job in order:
                if time_in_round < job.repeat and not job.error:
                    sample = _once(job, env)
                    if sample is not None:
                        job.samples.append(sample)
        log(
            f"    round {r + 1}/{runs}: "
            + ", ".join(f"{j.label} {j.samples[-1]:.3f}" for j in order if j.samples)
        )
    for job in jobs:
        if job.error:
            log(f"    {job.label}: FAILED: {job.error.splitlines()[0]}")


#: Heads the section of :attr:`Job.error` that holds :func:`first_error`'s excerpt.
FIRST_ERROR = "--- first error ---"
_ERROR_LINE = re.compile(r"^E +(\S.*)$", re.MULTILINE)
_EXCEPTION_LINE = re.compile(r"^\w*(?:Error|Exception)\b.*$", re.MULTILINE)


def first_error(output: str, width: int = 160) -> str:
    """Return the first error pytest printed (its first ``E`` line, or an exception line).

    In a long line, object reprs (``<Task pending ... at /path/file.py:250>``) become ``<…>``;
    if it is still too long, it keeps its start and its end, which says what failed.
    """
    found = _ERROR_LINE.search(output) or _EXCEPTION_LINE.search(output)
    if not found:
        return ""
    line = " ".join(found.group(found.lastindex or 0).split())
    if len(line) > width:
        while (shorter := _REPR.sub("\0", line)) != line:  # innermost reprs first
            line = shorter
        line = line.replace("\0", "<…>")
    return line if len(line) <= width else f"{line[: width // 3]} … {line[-(width * 2 // 3) :]}"


_REPR = re.compile(r"<[^<>]*>")


_PASSED = re.compile(r"(\d+) passed")
_COLLECTED = re.compile(r"(\d+) tests? collected")


def _summary(proc: subprocess.CompletedProcess[str]) -> str:
    """Return ``: <pytest's last summary line>`` ("3 passed, 2 skipped in 0.1s"), or nothing."""
    lines = [line.strip("= ") for line in proc.stdout.splitlines() if line.strip()]
    return f": {lines[-1]}" if lines and _SUMMARY.search(lines[-1]) else ""


_SUMMARY = re.compile(r"\b(passed|failed|skipped|errors?|deselected|no tests ran)\b")


def expect_passed(n: int) -> Callable[[subprocess.CompletedProcess[str]], str | None]:
    """Check that pytest exited 0 with exactly ``n`` passed tests."""

    def check(proc: subprocess.CompletedProcess[str]) -> str | None:
        found = _PASSED.findall(proc.stdout)
        if proc.returncode != 0 or not found or int(found[-1]) != n:
            return f"expected exit 0 and {n} passed; got exit {proc.returncode}{_summary(proc)}"
        return None

    return check


def expect_collected(n: int) -> Callable[[subprocess.CompletedProcess[str]], str | None]:
    """Check that ``pytest --collect-only`` exited 0 having collected exactly ``n`` tests."""

    def check(proc: subprocess.CompletedProcess[str]) -> str | None:
        found = _COLLECTED.findall(proc.stdout)
        if proc.returncode != 0 or not found or int(found[-1]) != n:
            return f"expected exit 0 and {n} collected; got exit {proc.returncode}"
        return None

    return check


def expect_exit_zero(proc: subprocess.CompletedProcess[str]) -> str | None:
    """Check only the exit status."""
    return None if proc.returncode == 0 else f"exit status {proc.returncode}"


def plugin_import_ms(_elapsed: float, proc: subprocess.CompletedProcess[str]) -> float:
    """Sum ``-X importtime`` self times of every module imported after ``pytest`` itself.

    The command is ``python -X importtime -c "import pytest; import <plugin modules>"``; lines are
    printed when a module finishes importing, so everything after the top-level ``pytest`` line is
    what the plugin adds (asyncio included, if pytest had not imported it).
    """
    total_us = 0
    after_pytest = False
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, _cumulative, name = line[len("import time:") :].split("|", 2)
        if after_pytest:
            total_us += int(self_us)
        elif name.rstrip() == " pytest":  # top level: exactly one space of indentation
            after_pytest = True
    return total_us / 1000


def printed_seconds(_elapsed: float, proc: subprocess.CompletedProcess[str]) -> float:
    """Return the seconds the command printed on its last line (the time it measured itself)."""
    return float(proc.stdout.split()[-1])
