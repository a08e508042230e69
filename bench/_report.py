"""Turn measured groups into JSON, Markdown tables (the report and the docs page) and a chart."""

from __future__ import annotations

import dataclasses
import json
import statistics
from collections.abc import Callable
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


def _variants(g: Group) -> list[tuple[str, str]]:
    """Return (label, row title) of each pytest-aiokit variant measured in ``g``."""
    variants = [(AIOKIT, g.title + (": at defaults" if NETS_ON in g.medians else ""))]
    if NETS_OFF in g.medians:
        variants.append((NETS_OFF, f"{g.title}: all off"))
    if NETS_ON in g.medians:
        variants.append((NETS_ON, f"{g.title}: switched on"))
    if AIOKIT_ALL in g.medians:
        variants.append((AIOKIT_ALL, f"{g.title}: all three aiokit plugins"))
    return variants


def _times(g: Group, label: str) -> list[str]:
    return [_fmt(g.medians.get(name), g.unit) for name in (label, ASYNCIO, ANYIO, FLOOR)]


def _ratios(g: Group, label: str) -> list[str]:
    return [
        _x(g.ratio(label, FLOOR)),
        _x(g.ratio(label, ASYNCIO)),
        _x(g.ratio(ASYNCIO, FLOOR)),
        _x(g.ratio(ANYIO, FLOOR)),
    ]


_Column = Callable[[Group, str], list[str]]
_TIME_HEADS = ["pytest-aiokit", "pytest-asyncio", "anyio", "sync floor"]
_RATIO_HEADS = [
    "aiokit ÷ floor",
    "aiokit ÷ pytest-asyncio",
    "pytest-asyncio ÷ floor",
    "anyio ÷ floor",
]


def _table(groups: list[Group], heads: list[str], *columns: _Column) -> str:
    lines = [
        "| " + " | ".join(["Scenario", "N", *heads]) + " |",
        "|---|" + "--:|" * (len(heads) + 1),
    ]
    for g in groups:
        for label, title in _variants(g):
            cells = [title, "" if g.n is None else str(g.n)]
            for column in columns:
                cells += column(g, label)
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def results_table(groups: list[Group]) -> str:
    """Return the main Markdown table: one row per scenario and size, times and ratios."""
    return _table(groups, _TIME_HEADS + _RATIO_HEADS, _times, _ratios)


def times_table(groups: list[Group]) -> str:
    """Return the median times only: one row per scenario and size."""
    return _table(groups, _TIME_HEADS, _times)


def ratios_table(groups: list[Group]) -> str:
    """Return the ratios between the median times only: one row per scenario and size."""
    return _table(groups, _RATIO_HEADS, _ratios)


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


def docs_block(meta: dict[str, Any], groups: list[Group]) -> str:
    """Return what ``docs/concepts/performance.md`` shows between its results markers."""
    return "\n".join(
        [
            meta_lines(meta),
            "Whole pytest processes, median wall time:\n",
            times_table(groups),
            "The ratios between those times:\n",
            ratios_table(groups),
            "The same runs as extra time per test over the sync floor, (plugin - floor) / N:\n",
            extra_per_test_table(groups),
            asyncio_cost_line(meta.get("asyncio_costs")),
        ]
    )


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
