"""Turn measured groups into JSON, Markdown tables (the report and the docs page) and a chart."""

from __future__ import annotations

import dataclasses
import json
import math
import statistics
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench._timing import FIRST_ERROR

AIOKIT = "pytest-aiokit"
ASYNCIO = "pytest-asyncio"
ANYIO = "anyio"
FLOOR = "pytest (sync floor)"
NETS_ON = "pytest-aiokit, safety nets on"
NETS_OFF = "pytest-aiokit, safety nets off"
TIMES = "\N{MULTIPLICATION SIGN}"
AIOKIT_ALL = "pytest-aiokit, all three plugins"
IO_TITLE = "7. I/O-bound suite, concurrently"
TRIVIAL_TITLE = "7. trivial tests in one module"
FIXTURE_IO_TITLE = "7. tests that wait in their fixtures, concurrently"
COOPERATIVE = "pytest-asyncio-cooperative"
#: Scenario 7's measure of everything but the waiting: the overhead part of the ideal.
IO_INSTANT = "pytest-aiokit, concurrency 1, server answering at once"
CONCURRENCY = "pytest-aiokit, concurrency "
#: Scenario 7's lower bound, in two parts: pytest with no plugin running as many empty sync tests,
#: and asyncio alone doing the suite's work in one process without pytest.
IO_SYNC_FLOOR = "pytest alone, as many empty sync tests"
IO_ASYNCIO = "asyncio alone, the suite's work"
FIXTURE_IO_ASYNCIO = "asyncio alone, the suite's waits"
_IO_PARTS = (IO_INSTANT, IO_SYNC_FLOOR, IO_ASYNCIO, FIXTURE_IO_ASYNCIO)


def concurrency(limit: int) -> str:
    """Return the label of pytest-aiokit's run at ``asyncio_concurrency = limit``."""
    return f"{CONCURRENCY}{limit}"


#: The suffix of a fixture-I/O run on the same tests written in one module.
ONE_MODULE = ", tests in one module"


def one_module(label: str) -> str:
    """Return the label of ``label``'s run of the fixture-I/O tests written in one module."""
    return label + ONE_MODULE


def fixture_io_cooperative(tasks: int) -> str:
    """Return the label of pytest-asyncio-cooperative's run of the fixture-I/O suite."""
    return f"{COOPERATIVE}, {tasks} tasks"


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
    #: Contenders that cannot run the scenario (a fact about them, not a failed benchmark).
    unsupported: dict[str, str] = dataclasses.field(default_factory=dict)

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
        "groups": [{**dataclasses.asdict(g), "ratios": _json_ratios(meta, g)} for g in groups],
    }
    path.write_text(json.dumps(data, indent=2) + "\n")


def _json_ratios(meta: dict[str, Any], g: Group) -> dict[str, Any]:
    if g.title == IO_TITLE:
        ideal = io_ideal(meta, g)
        runs = _io_runs(g)
        return {
            "ideal_s": ideal,
            "speed_up_over_pytest_asyncio": {label: g.ratio(ASYNCIO, label) for label in runs},
            "vs_ideal": {label: _over(g.medians.get(label), ideal) for label in runs},
        }
    if g.title == TRIVIAL_TITLE:
        on, off = _trivial_labels(g)
        return {"on_vs_off": g.ratio(on, off) if on and off else None}
    return {
        "aiokit_vs_floor": g.ratio(AIOKIT, FLOOR),
        "aiokit_vs_pytest_asyncio": g.ratio(AIOKIT, ASYNCIO),
        "pytest_asyncio_vs_floor": g.ratio(ASYNCIO, FLOOR),
        "anyio_vs_floor": g.ratio(ANYIO, FLOOR),
        "nets_on_vs_floor": g.ratio(NETS_ON, FLOOR),
        "nets_on_vs_pytest_asyncio": g.ratio(NETS_ON, ASYNCIO),
        "defaults_vs_nets_off": g.ratio(AIOKIT, NETS_OFF),
    }


def _over(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


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


def _per_test(groups: list[Group]) -> list[Group]:
    """Return the groups of scenarios 1-6 (scenario 7 has tables of its own)."""
    return [g for g in groups if g.scenario != 7]


def results_table(groups: list[Group]) -> str:
    """Return the main Markdown table: one row per scenario and size, times and ratios."""
    return _table(_per_test(groups), _TIME_HEADS + _RATIO_HEADS, _times, _ratios)


def times_table(groups: list[Group]) -> str:
    """Return the median times only: one row per scenario and size."""
    return _table(_per_test(groups), _TIME_HEADS, _times)


def ratios_table(groups: list[Group]) -> str:
    """Return the ratios between the median times only: one row per scenario and size."""
    return _table(_per_test(groups), _RATIO_HEADS, _ratios)


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


def _find(groups: list[Group], title: str) -> Group | None:
    return next((g for g in groups if g.title == title), None)


def _io_runs(g: Group) -> list[str]:
    """Return the labels of the I/O suite's runs, in the order they were measured."""
    return [label for label in g.medians if label not in _IO_PARTS]


def _trivial_labels(g: Group) -> tuple[str | None, str | None]:
    """Return the labels of the trivial module's runs with concurrency on and off."""
    off = concurrency(1) if concurrency(1) in g.medians else None
    on = next(
        (label for label in g.medians if label.startswith(CONCURRENCY) and label != off), None
    )
    return on, off


def io_ideal(meta: dict[str, Any], g: Group) -> float | None:
    """Return the ideal wall time of the I/O suite: everything but the waiting, plus one wait.

    Everything but the waiting is the same suite with a server that answers at once, run one
    test at a time; the waits of all the tests can overlap, so one test's waiting is added.
    """
    instant, wait = g.medians.get(IO_INSTANT), meta.get("io_wait_s")
    return instant + wait if instant is not None and wait is not None else None


def io_bound(g: Group, alone_label: str = IO_ASYNCIO) -> float | None:
    """Return the least wall time of an I/O suite for a plugin that keeps pytest's protocol.

    Such a plugin runs pytest's setup, call and teardown of every test (the sync floor of as
    many tests pays that, with start-up and collection) and does the suite's work in asyncio
    (asyncio alone needs the measured time for it, its waits overlapping); one thread does both.
    """
    floor, alone = g.medians.get(IO_SYNC_FLOOR), g.medians.get(alone_label)
    return floor + alone if floor is not None and alone is not None else None


def _pytest_of(meta: dict[str, Any], label: str) -> str:
    return str(meta.get("own_pytest", {}).get(label, meta["pytest"]))


def _reason(error: str) -> str:
    """Return the first error a run printed, or else what its check said."""
    lines = error.splitlines()
    if FIRST_ERROR in lines:
        return lines[lines.index(FIRST_ERROR) + 1]
    return lines[0] if lines else ""


def _seconds(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f} s"


def io_table(meta: dict[str, Any], g: Group) -> str:
    """Return the I/O suite's table: wall time, speed-up over pytest-asyncio, time ÷ ideal."""
    ideal = io_ideal(meta, g)
    lines = [
        "| Run | Wall time | Faster than pytest-asyncio | Time ÷ ideal |",
        "|---|--:|--:|--:|",
    ]
    for label in _io_runs(g):
        value = g.medians.get(label)
        if value is None:
            lines.append(f"| {label} | could not run | | |")
            continue
        speed_up = g.ratio(ASYNCIO, label)
        lines.append(
            f"| {label} | {_seconds(value)} | "
            + ("n/a" if speed_up is None else f"{speed_up:.1f}{TIMES}")
            + f" | {_x(_over(value, ideal))} |"
        )
    lines.append(f"| ideal | {_seconds(ideal)} | | |")
    bound = io_bound(g)
    if bound is not None:
        most = _over(g.medians.get(ASYNCIO), bound)
        lines.append(
            f"| lower bound: pytest alone + asyncio alone | {_seconds(bound)} | "
            + ("n/a" if not most else f"{most:.1f}{TIMES}")
            + f" | {_x(_over(bound, ideal))} |"
        )
    return "\n".join(lines) + "\n"


def bound_line(g: Group) -> str:
    """Return one sentence saying what the lower bound is, with this run's numbers."""
    bound, floor, alone = io_bound(g), g.medians.get(IO_SYNC_FLOOR), g.medians.get(IO_ASYNCIO)
    slow = g.medians.get(ASYNCIO)
    if bound is None or floor is None or alone is None:
        return ""
    most = (
        f", so none can be more than {slow / bound:.1f}{TIMES} faster than pytest-asyncio here"
        if slow
        else ""
    )
    return (
        f"The lower bound, {bound:.2f} s, is what any plugin that gives each test pytest's own "
        f"setup, call and teardown must pay on this machine{most}: pytest with no plugin runs "
        f"{g.n} empty sync tests in the same modules in {floor:.2f} s (start-up, collection and "
        f"each test's three phases), and asyncio alone, without pytest, does the suite's work "
        f"(the server, {g.n} connections and their round trips, the waits overlapping) in "
        f"{alone:.2f} s. One thread does both, so their times add up.\n"
    )


def trivial_table(g: Group) -> str:
    """Return the trivial module's table: wall time with concurrency on and off."""
    lines = ["| Run | Wall time |", "|---|--:|"]
    lines += [f"| {label} | {_fmt(value, g.unit)} |" for label, value in g.medians.items()]
    return "\n".join(lines) + "\n"


def ideal_line(meta: dict[str, Any], g: Group) -> str:
    """Return one sentence saying what the ideal is, with this run's numbers."""
    ideal, instant, wait = io_ideal(meta, g), g.medians.get(IO_INSTANT), meta.get("io_wait_s")
    if ideal is None or instant is None or wait is None:
        return ""
    return (
        f"The ideal, {ideal:.2f} s, is the same {g.n} tests with a server that answers at once, "
        f"run one at a time by pytest-aiokit ({instant:.2f} s: pytest, the plugin, the fixtures "
        f"and the connections, everything but the waiting), plus one test's own waiting "
        f"({wait * 1000:.0f} ms): the tests' waiting can overlap, nothing else of a run does.\n"
    )


def io_facts(meta: dict[str, Any], groups: list[Group]) -> str:
    """Return, as a bullet list, how fast pytest-aiokit ran scenario 7 with concurrency on."""
    facts = []
    g = _find(groups, IO_TITLE)
    if g is not None:
        ideal = io_ideal(meta, g)
        slow = g.medians.get(ASYNCIO)
        for label in _io_runs(g):
            value = g.medians.get(label)
            if not label.startswith(CONCURRENCY) or label == concurrency(1) or value is None:
                continue
            speed_up = g.ratio(ASYNCIO, label)
            if speed_up is not None and slow is not None:
                facts.append(
                    f"{label} is {speed_up:.1f}{TIMES} faster than pytest-asyncio "
                    f"({value:.2f} s against {slow:.2f} s)."
                )
            if ideal:
                facts.append(
                    f"{label} took {value / ideal:.2f}{TIMES} the ideal time "
                    f"({value:.2f} s against {ideal:.2f} s)."
                )
        bound = io_bound(g)
        if bound is not None and slow is not None:
            facts.append(
                f"No plugin that runs pytest's setup, call and teardown of each test can be more "
                f"than {slow / bound:.1f}{TIMES} faster than pytest-asyncio on this machine "
                f"(the lower bound, {bound:.2f} s)."
            )
    t = _find(groups, TRIVIAL_TITLE)
    if t is not None:
        on, off = _trivial_labels(t)
        ratio = t.ratio(on, off) if on and off else None
        if on and off and ratio is not None:
            facts.append(
                f"On {t.n} trivial tests in one module, concurrency "
                f"{on.removeprefix(CONCURRENCY)} took {ratio:.2f}{TIMES} the time of "
                f"concurrency off ({_fmt(t.medians[on], 's')} against {_fmt(t.medians[off], 's')})."
            )
    return "".join(f"- {fact}\n" for fact in facts)


def _cooperative_label(g: Group, label: str = "") -> str | None:
    """The cooperative's run on the same layout as ``label`` (modules of 100, or one module)."""
    one = label.endswith(ONE_MODULE)
    return next(
        (
            other
            for other in g.medians
            if other.startswith(COOPERATIVE) and other.endswith(ONE_MODULE) == one
        ),
        None,
    )


def _fixture_io_runs(g: Group) -> list[str]:
    return [label for label in g.medians if label not in _IO_PARTS]


def fixture_io_table(g: Group) -> str:
    """Return the fixture-I/O suite's table: wall time, speed-up, time ÷ the cooperative's and
    ÷ the lower bound."""
    bound = io_bound(g, FIXTURE_IO_ASYNCIO)
    lines = [
        "| Run | Wall time | Faster than pytest-asyncio | Time ÷ pytest-asyncio-cooperative "
        "| Time ÷ lower bound |",
        "|---|--:|--:|--:|--:|",
    ]
    for label in _fixture_io_runs(g):
        value = g.medians.get(label)
        if value is None:
            lines.append(f"| {label} | could not run | | | |")
            continue
        cooperative = _cooperative_label(g, label)
        speed_up = g.ratio(ASYNCIO, label)
        versus = g.ratio(label, cooperative) if cooperative else None
        # The bound is for the tests in modules of 100 (its sync floor's layout).
        over_bound = None if label.endswith(ONE_MODULE) else _over(value, bound)
        lines.append(
            f"| {label} | {_seconds(value)} | "
            + ("n/a" if speed_up is None else f"{speed_up:.1f}{TIMES}")
            + f" | {_x(versus)} | {_x(over_bound)} |"
        )
    if bound is not None:
        most = _over(g.medians.get(ASYNCIO), bound)
        cooperative = _cooperative_label(g)
        lines.append(
            f"| lower bound: pytest alone + asyncio alone | {_seconds(bound)} | "
            + ("n/a" if not most else f"{most:.1f}{TIMES}")
            + f" | {_x(_over(bound, g.medians.get(cooperative)) if cooperative else None)} | |"
        )
    return "\n".join(lines) + "\n"


def fixture_io_bound_line(g: Group) -> str:
    """Return what the fixture-I/O suite's lower bound is, with this run's numbers."""
    bound = io_bound(g, FIXTURE_IO_ASYNCIO)
    floor, alone = g.medians.get(IO_SYNC_FLOOR), g.medians.get(FIXTURE_IO_ASYNCIO)
    cooperative = _cooperative_label(g)
    if bound is None or floor is None or alone is None:
        return ""
    versus = ""
    fast = g.medians.get(cooperative) if cooperative else None
    if fast:
        versus = (
            f" It is {bound / fast:.2f}{TIMES} the time of {cooperative}, which runs its tests "
            "outside pytest's setup, call and teardown, with fixtures of its own making; pytest "
            f"alone takes {floor / fast:.2f}{TIMES} its time to run as many empty tests."
        )
    return (
        f"The lower bound, {bound:.2f} s, is what any plugin that gives each test pytest's own "
        f"setup, call and teardown pays on this machine: pytest with no plugin runs {g.n} empty "
        f"sync tests in the same modules in {floor:.2f} s, and asyncio alone, without pytest, "
        f"does the suite's waiting ({g.n} tests' setup, body and teardown, each step a task, "
        f"as many at once as the concurrent runs) in {alone:.2f} s; one thread does both."
        f"{versus}\n"
    )


def fixture_io_facts(g: Group) -> str:
    """Return, as a bullet list, how pytest-aiokit ran the fixture-I/O suite concurrently."""
    facts = []
    slow = g.medians.get(ASYNCIO)
    bound = io_bound(g, FIXTURE_IO_ASYNCIO)
    for label in _fixture_io_runs(g):
        value = g.medians.get(label)
        if not label.startswith(CONCURRENCY) or label == concurrency(1) or value is None:
            continue
        cooperative = _cooperative_label(g, label)
        speed_up = g.ratio(ASYNCIO, label)
        if speed_up is not None and slow is not None:
            facts.append(
                f"{label} is {speed_up:.1f}{TIMES} faster than pytest-asyncio "
                f"({value:.2f} s against {slow:.2f} s)."
            )
        versus = g.ratio(label, cooperative) if cooperative else None
        if cooperative and versus is not None:
            facts.append(
                f"{label} took {versus:.2f}{TIMES} the time of {cooperative} "
                f"({value:.2f} s against {_seconds(g.medians.get(cooperative))})."
            )
        if bound and not label.endswith(ONE_MODULE):
            facts.append(
                f"{label} took {value / bound:.2f}{TIMES} the lower bound "
                f"({value:.2f} s against {bound:.2f} s)."
            )
    return "".join(f"- {fact}\n" for fact in facts)


def fixture_io_parts(meta: dict[str, Any], groups: list[Group]) -> list[str]:
    """Return the paragraphs on the fixture-I/O suite, or none if it was not measured."""
    f = _find(groups, FIXTURE_IO_TITLE)
    if f is None:
        return []
    parts = [
        f"{f.n} tests that each wait in their fixture's setup and teardown, and in their body "
        f"({'; '.join(f.notes)}):\n",
        fixture_io_table(f),
        fixture_io_bound_line(f),
        "pytest-aiokit runs the tests of the next module beside those still running when "
        "nothing of the module they leave needs tearing down, as here (its fixtures are "
        "function-scoped); pytest-asyncio-cooperative runs tests of different modules together "
        'too. The runs marked "tests in one module" show the same tests without module '
        "boundaries.\n",
        fixture_io_facts(f),
    ]
    unsupported = io_unsupported(meta, f)
    if unsupported:
        parts += ["Could not run this suite:\n", unsupported]
    return parts


def io_unsupported(meta: dict[str, Any], g: Group) -> str:
    """Return, as a bullet list, each plugin that could not run the I/O suite, and its error."""
    return "".join(
        f"- {label} (pytest {_pytest_of(meta, label)}): `{_reason(error)}`\n"
        for label, error in g.unsupported.items()
    )


def io_section(meta: dict[str, Any], groups: list[Group], chart: str | None) -> str:
    """Return the report's section on scenario 7, or nothing if it was not measured."""
    g, t = _find(groups, IO_TITLE), _find(groups, TRIVIAL_TITLE)
    if g is None:
        return ""
    parts = [
        f"## {IO_TITLE} (N={g.n})\n",
        io_table(meta, g),
        ideal_line(meta, g),
        bound_line(g),
    ]
    if t is not None:
        parts += [f"{t.n} tests `async def test(): pass` in one module:\n", trivial_table(t)]
    parts.append(io_facts(meta, groups))
    unsupported = io_unsupported(meta, g)
    if unsupported:
        parts += ["Could not run the suite:\n", unsupported]
    parts += fixture_io_parts(meta, groups)
    if chart:
        parts.append(f"![wall time of each run of the I/O-bound suite]({chart})\n")
    return "\n".join(parts)


#: What the performance page says until a run with scenario 7 fills its block.
CONCURRENCY_PLACEHOLDER = (
    "The numbers of this section come from `nox -s bench` (scenario 7); its next full run with "
    "`--docs` writes them here.\n"
)


def concurrency_block(meta: dict[str, Any], groups: list[Group]) -> str:
    """Return what ``docs/concepts/performance.md`` shows between its concurrency markers."""
    g = _find(groups, IO_TITLE)
    if g is None:
        return CONCURRENCY_PLACEHOLDER
    parts = [
        f"In the run described under Results, median wall time of {g.n} tests:\n",
        io_table(meta, g),
        ideal_line(meta, g),
        bound_line(g),
        io_facts(meta, groups),
    ]
    unsupported = io_unsupported(meta, g)
    if unsupported:
        parts += ["These could not run the suite; the first error each printed:\n", unsupported]
    parts += fixture_io_parts(meta, groups)
    parts.append(
        "```{image} ../_static/concurrency.png\n"
        ":alt: Wall time of each run of the I/O-bound suite, on a log scale, with the ideal\n"
        "```\n"
    )
    return "\n".join(parts)


def groups_from_json(path: Path) -> tuple[dict[str, Any], list[Group]]:
    """Read back what :func:`write_json` wrote."""
    data = json.loads(path.read_text())
    fields = {f.name for f in dataclasses.fields(Group)}
    groups = [Group(**{k: v for k, v in g.items() if k in fields}) for g in data["groups"]]
    return data["meta"], groups


def _own_pytest(meta: dict[str, Any]) -> str:
    own: dict[str, str] = meta.get("own_pytest", {})
    if not own:
        return ""
    return " but: " + "; ".join(f"{name} ({version})" for name, version in own.items())


def meta_lines(meta: dict[str, Any]) -> str:
    """Return the machine and versions as a Markdown bullet list."""
    versions = ", ".join(f"{k} {v}" for k, v in meta["versions"].items())
    return (
        f"- Machine: {meta['machine']}, {meta['cpus']} CPUs, {meta['platform']}\n"
        f"- Python {meta['python']}; pytest {meta['pytest']} in every environment"
        + _own_pytest(meta)
        + "\n"
        f"- Versions: {versions}\n"
        f"- aiokit source: {meta['source']}\n"
        + (
            f"- Date: {meta['date']}; smoke run (one run per cell, no warm-up, tiny N): "
            "the times mean nothing\n"
            if meta["smoke"]
            else f"- Date: {meta['date']}; {meta['runs']} timed runs per cell after one warm-up "
            f"({meta['runs_large']} at N ≥ 10,000"
            + (f", {meta['runs_io']} in scenario 7" if "runs_io" in meta else "")
            + (
                f" and {meta['runs_io_quick']} for its runs under {meta['io_quick_below_s']:g} s"
                if "runs_io_quick" in meta
                else ""
            )
            + "), contenders alternated in each round, medians\n"
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
    io = io_section(meta, groups, chart="concurrency.png" if chart else None)
    if io:
        parts.append(io)
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


def concurrency_chart(path: Path, meta: dict[str, Any], groups: list[Group]) -> bool:
    """Plot the I/O suite's wall time per run as bars, with the ideal; False if not measured."""
    g = _find(groups, IO_TITLE)
    if g is None:
        return False
    import matplotlib  # type: ignore[import-not-found, unused-ignore]

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # type: ignore[import-not-found, unused-ignore]
    from matplotlib.ticker import (  # type: ignore[import-not-found, unused-ignore]
        FuncFormatter,
        NullFormatter,
    )

    labels = _io_runs(g)
    values = [g.medians.get(label) for label in labels]
    ideal = io_ideal(meta, g)
    known = [v for v in [*values, ideal, io_bound(g)] if v]
    # A log scale: the sequential runs take tens of times longer than the concurrent ones.
    left = 10 ** math.floor(math.log10(min(known) / 1.5)) if known else 0.1
    right = max(known) * 2.5 if known else 1.0
    fig, ax = plt.subplots(figsize=(10, 0.5 * len(labels) + 1.4))
    ys = list(range(len(labels)))
    colours = ["tab:blue" if label.startswith(CONCURRENCY) else "tab:gray" for label in labels]
    ax.barh(ys, [v - left if v else 0 for v in values], left=left, color=colours)
    for y, value in zip(ys, values, strict=True):
        if value is None:
            ax.text(left * 1.1, y, "could not run", va="center", fontsize=9, style="italic")
        else:
            ax.text(value * 1.05, y, f"{value:.2f} s", va="center", fontsize=9)
    if ideal:
        ax.axvline(ideal, color="k", linestyle="--", linewidth=1)
        ax.text(ideal * 1.05, -0.6, f"ideal {ideal:.2f} s", fontsize=9, va="bottom")
    bound = io_bound(g)
    if bound:
        ax.axvline(bound, color="tab:red", linestyle=":", linewidth=1)
        ax.text(
            bound / 1.05, -0.6, f"lower bound {bound:.2f} s", fontsize=9, va="bottom", ha="right"
        )
    ax.set_yticks(ys, labels)
    ax.set_ylim(len(labels) - 0.5, -1)
    ax.set_xscale("log")
    ax.set_xlim(left, right)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _pos: f"{x:g} s"))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("whole pytest process, median wall time (log scale)")
    wait = meta.get("io_wait_s")
    waiting = f", each waiting {wait * 1000:.0f} ms for a local server" if wait else ""
    ax.set_title(f"{g.n} async tests{waiting}")
    ax.grid(visible=True, axis="x", which="major", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True
