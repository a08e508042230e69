"""Turn measured groups into JSON, a Markdown table with the issue's targets, and a chart."""

from __future__ import annotations

import dataclasses
import json
import statistics
from pathlib import Path
from typing import Any

AIOKIT = "pytest-aiokit"
ASYNCIO = "pytest-asyncio"
ANYIO = "anyio"
FLOOR = "pytest (sync floor)"
NETS_ON = "pytest-aiokit, safety nets on"
NETS_OFF = "pytest-aiokit, safety nets off"
TIMES = "\N{MULTIPLICATION SIGN}"
AIOKIT_ALL = "pytest-aiokit, all three plugins"


@dataclasses.dataclass
class Group:
    """One scenario at one size: every contender's samples, measured in the same rounds."""

    key: str
    scenario: int
    title: str
    n: int | None
    unit: str  # "s" or "ms"
    medians: dict[str, float | None]
    samples: dict[str, list[float]]
    errors: dict[str, str]
    notes: list[str] = dataclasses.field(default_factory=list)

    def ratio(self, num: str, den: str) -> float | None:
        """Return ``median(num) / median(den)``, or None when either is missing or zero."""
        a, b = self.medians.get(num), self.medians.get(den)
        return a / b if a is not None and b else None


#: (scenario, label, limit, numerator, denominator): the targets of issue 6.
TARGETS: tuple[tuple[int, str, float, str, str], ...] = (
    (1, f"≤ 1.10 {TIMES} floor (function-scoped loop)", 1.10, AIOKIT, FLOOR),
    (2, f"≤ 1.02 {TIMES} floor (module-scoped loop)", 1.02, AIOKIT, FLOOR),
    (3, f"≤ 1.05 {TIMES} floor (collection)", 1.05, AIOKIT, FLOOR),
    (1, f"≤ 0.7 {TIMES} pytest-asyncio", 0.7, AIOKIT, ASYNCIO),
    (2, f"≤ 0.7 {TIMES} pytest-asyncio", 0.7, AIOKIT, ASYNCIO),
    (3, f"≤ 0.7 {TIMES} pytest-asyncio", 0.7, AIOKIT, ASYNCIO),
    (5, f"≤ 0.7 {TIMES} pytest-asyncio", 0.7, AIOKIT, ASYNCIO),
    (6, f"≤ 0.7 {TIMES} pytest-asyncio", 0.7, AIOKIT, ASYNCIO),
)


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "n/a"
    return f"{value:.1f} ms" if unit == "ms" else f"{value:.3f} s"


def _x(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}{TIMES}"


def write_json(path: Path, meta: dict[str, Any], groups: list[Group]) -> None:
    """Write every sample, median and ratio."""
    data = {
        "meta": meta,
        "groups": [
            {
                **dataclasses.asdict(g),
                "ratios": {
                    "aiokit_vs_floor": g.ratio(AIOKIT, FLOOR),
                    "aiokit_vs_pytest_asyncio": g.ratio(AIOKIT, ASYNCIO),
                    "pytest_asyncio_vs_floor": g.ratio(ASYNCIO, FLOOR),
                    "anyio_vs_floor": g.ratio(ANYIO, FLOOR),
                    "nets_on_vs_floor": g.ratio(NETS_ON, FLOOR),
                    "nets_on_vs_pytest_asyncio": g.ratio(NETS_ON, ASYNCIO),
                    "defaults_vs_nets_off": g.ratio(AIOKIT, NETS_OFF),
                },
            }
            for g in groups
        ],
    }
    path.write_text(json.dumps(data, indent=2) + "\n")


def results_table(groups: list[Group]) -> str:
    """Return the main Markdown table: one row per scenario and size."""
    head = (
        "| Scenario | N | pytest-aiokit | pytest-asyncio | anyio | sync floor "
        "| aiokit ÷ floor | aiokit ÷ pytest-asyncio | pytest-asyncio ÷ floor | anyio ÷ floor |\n"
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n"
    )
    rows = []
    for g in groups:
        variants = [(AIOKIT, g.title + (": at defaults" if NETS_ON in g.medians else ""))]
        if NETS_OFF in g.medians:
            variants.append((NETS_OFF, f"{g.title}: all off"))
        if NETS_ON in g.medians:
            variants.append((NETS_ON, f"{g.title}: switched on"))
        if AIOKIT_ALL in g.medians:
            variants.append((AIOKIT_ALL, f"{g.title}: all three aiokit plugins"))
        for label, title in variants:
            rows.append(
                f"| {title} | {g.n if g.n is not None else ''} "
                f"| {_fmt(g.medians.get(label), g.unit)} "
                f"| {_fmt(g.medians.get(ASYNCIO), g.unit)} "
                f"| {_fmt(g.medians.get(ANYIO), g.unit)} "
                f"| {_fmt(g.medians.get(FLOOR), g.unit)} "
                f"| {_x(g.ratio(label, FLOOR))} | {_x(g.ratio(label, ASYNCIO))} "
                f"| {_x(g.ratio(ASYNCIO, FLOOR))} | {_x(g.ratio(ANYIO, FLOOR))} |"
            )
    return head + "\n".join(rows) + "\n"


def extra_per_test_table(groups: list[Group]) -> str:
    """Return a table of each plugin's extra milliseconds per test over the sync floor."""
    lines = [
        "| Scenario | N | pytest-aiokit | pytest-asyncio | anyio |",
        "|---|--:|--:|--:|--:|",
    ]
    for g in groups:
        floor = g.medians.get(FLOOR)
        if g.scenario not in (1, 2) or not g.n or floor is None:
            continue
        cells = []
        for label in (AIOKIT, ASYNCIO, ANYIO):
            value = g.medians.get(label)
            cells.append("n/a" if value is None else f"{(value - floor) / g.n * 1000:.3f} ms")
        lines.append(f"| {g.title} | {g.n} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def asyncio_minimum_us(scenario: int, costs: dict[str, float] | None) -> float | None:
    """Return the least time per test that asyncio itself takes in ``scenario``, if measured.

    Function loops: one loop created and closed, and three loop runs (fixture setup, test,
    fixture teardown). Module loops: one loop run (the test). Collection: none.
    """
    if not costs:
        return None
    step = costs["run_step_us"]
    if scenario == 1:
        return costs["loop_create_close_us"] + 3 * step
    if scenario == 2:
        return step
    return None


def _leaves(g: Group, limit: float, den: str, costs: dict[str, float] | None) -> str:
    """Say what a target leaves: a budget per test over the floor, or a bound below the floor."""
    floor = g.medians.get(FLOOR)
    if floor is None:
        return ""
    if den == FLOOR:
        if not g.n:
            return ""
        budget = (limit - 1) * floor / g.n * (1e3 if g.unit == "ms" else 1e6)
        text = f"{budget:.0f} µs per test over the floor"
        least = asyncio_minimum_us(g.scenario, costs)
        if least is not None:
            text += f"; asyncio alone takes {least:.0f} µs"
        return text
    other = g.medians.get(den)
    if other is None:
        return ""
    bound = limit * other
    if bound < floor:
        return f"{_fmt(bound, g.unit)}: below the sync floor ({_fmt(floor, g.unit)})"
    return ""


def targets_table(groups: list[Group], costs: dict[str, float] | None = None) -> str:
    """Return the issue's targets against the measured ratios: one row per target and size.

    The last column says what each target leaves: for a ratio to the floor, the time per test
    it allows over bare pytest (and asyncio's own least cost there, when ``costs`` were
    measured); for a ratio to pytest-asyncio, whether the time it allows is below the floor,
    which no plugin can reach.
    """
    lines = [
        "| Scenario | N | Target | Measured | Met | What the target leaves |",
        "|---|--:|---|--:|:-:|---|",
    ]
    for scenario, label, limit, num, den in TARGETS:
        for g in groups:
            if g.scenario != scenario:
                continue
            for variant in (num, NETS_ON) if scenario == 6 else (num,):
                if variant not in g.medians:
                    continue
                ratio = g.ratio(variant, den)
                met = "n/a" if ratio is None else ("yes" if ratio <= limit else "**no**")
                if scenario == 6:
                    title = g.title + (": switched on" if variant == NETS_ON else ": at defaults")
                else:
                    title = g.title
                leaves = _leaves(g, limit, den, costs)
                lines.append(
                    f"| {title} | {g.n or ''} | {label} | {_x(ratio)} | {met} | {leaves} |"
                )
    return "\n".join(lines) + "\n"


def asyncio_cost_line(costs: dict[str, float] | None) -> str:
    """Return one sentence with asyncio's own costs of this run, or nothing."""
    if not costs:
        return ""
    create, step = costs["loop_create_close_us"], costs["run_step_us"]
    return (
        f"asyncio's own costs in this run (the floor's interpreter, no pytest): creating and "
        f"closing a loop {create:.0f} µs, one `run_until_complete` of a coroutine that awaits "
        f"`sleep(0)` {step:.0f} µs. A test with a function-scoped loop and fixture therefore "
        f"needs at least {create + 3 * step:.0f} µs more than its sync twin, with a module-scoped "
        f"loop {step:.0f} µs, whatever the plugin. These are lower bounds: they are timed in a "
        "tight loop, with warm CPU caches; between two tests pytest runs enough code to make the "
        "same calls several times slower.\n"
    )


def spread_lines(groups: list[Group]) -> str:
    """Return, per cell, the spread of its samples: (slowest - fastest) / median."""
    lines = []
    for g in groups:
        cells = [
            f"{label} {(max(v) - min(v)) / statistics.median(v) * 100:.0f}%"
            for label, v in g.samples.items()
            if len(v) > 1 and statistics.median(v)
        ]
        if cells:
            size = f" (N={g.n})" if g.n and g.n > 1 else ""
            lines.append(f"- {g.title}{size}: " + ", ".join(cells))
    return "\n".join(lines) + "\n" if lines else ""


def groups_from_json(path: Path) -> tuple[dict[str, Any], list[Group]]:
    """Read back what :func:`write_json` wrote."""
    data = json.loads(path.read_text())
    fields = {f.name for f in dataclasses.fields(Group)}
    groups = [Group(**{k: v for k, v in g.items() if k in fields}) for g in data["groups"]]
    return data["meta"], groups


def meta_lines(meta: dict[str, Any]) -> str:
    """Return the machine and versions as a Markdown bullet list."""
    versions = ", ".join(f"{k} {v}" for k, v in meta["versions"].items())
    return (
        f"- Machine: {meta['machine']}, {meta['cpus']} CPUs, {meta['platform']}\n"
        f"- Python {meta['python']}; pytest {meta['pytest']} in every environment\n"
        f"- Versions: {versions}\n"
        f"- aiokit source: {meta['source']}\n"
        + (
            f"- Date: {meta['date']}; smoke run (one run per cell, no warm-up, tiny N): "
            "the times mean nothing\n"
            if meta["smoke"]
            else f"- Date: {meta['date']}; {meta['runs']} timed runs per cell after one warm-up "
            f"({meta['runs_large']} at N ≥ 10,000), contenders alternated in each round, medians\n"
        )
    )


def markdown(meta: dict[str, Any], groups: list[Group], chart: str | None) -> str:
    """Return the whole ``latest.md``."""
    notes = [f"- {g.title}: {note}" for g in groups for note in g.notes]
    errors = [
        f"- {g.title}{f' (N={g.n})' if g.n else ''}, {label}: {err.splitlines()[0]}"
        for g in groups
        for label, err in g.errors.items()
    ]
    parts = [
        "# Benchmark results\n",
        meta_lines(meta),
        "## Whole pytest processes (median wall time)\n",
        results_table(groups),
        "## Extra time per test over the sync floor\n",
        extra_per_test_table(groups),
        asyncio_cost_line(meta.get("asyncio_costs")),
        "## Targets (issue 6)\n",
        targets_table(groups, meta.get("asyncio_costs")),
    ]
    if notes:
        parts += ["## Notes\n", "\n".join(notes) + "\n"]
    spread = spread_lines(groups)
    if spread:
        parts += ["## Spread of the samples ((slowest - fastest) / median)\n", spread]
    if errors:
        parts += ["## Failures\n", "\n".join(errors) + "\n"]
    if chart:
        parts += [f"![time per test against N]({chart})\n"]
    return "\n".join(parts)


def chart(path: Path, groups: list[Group]) -> None:
    """Plot milliseconds per test (whole process / N) against N, one line per contender."""
    import matplotlib  # type: ignore[import-not-found, unused-ignore]

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # type: ignore[import-not-found, unused-ignore]

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
    for ax, scenario, title in (
        (axes[0], 1, "function-scoped loop and fixture"),
        (axes[1], 2, "module-scoped loop and fixture"),
    ):
        chosen = sorted(
            (g for g in groups if g.scenario == scenario and g.n), key=lambda g: g.n or 0
        )
        for label, style in ((AIOKIT, "o-"), (ASYNCIO, "s-"), (ANYIO, "^-"), (FLOOR, "k--")):
            points = [
                (g.n, value / g.n * 1000)
                for g in chosen
                if g.n and (value := g.medians.get(label)) is not None
            ]
            if points:
                xs, ys = zip(*points, strict=True)
                ax.plot(xs, ys, style, label=label)
        ax.set_xscale("log")
        sizes = [g.n for g in chosen if g.n]
        ax.set_xticks(sizes, [f"{n:,}" for n in sizes])
        ax.minorticks_off()
        ax.set_title(title)
        ax.set_xlabel("tests in the run (N)")
        ax.grid(visible=True, which="both", alpha=0.3)
    axes[0].set_ylabel("ms per test (whole pytest process ÷ N)")
    axes[0].set_ylim(bottom=0)
    axes[1].legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
