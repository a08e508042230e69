"""The performance page and the benchmark report speak to users, from the committed results."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bench import _report

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "concepts" / "performance.md"
RESULTS = ROOT / "bench" / "results" / "latest.json"
START, END = "% bench-results:start\n", "% bench-results:end\n"
#: Words of a development log or a to-do list, not of a page for users.
NOT_FOR_USERS = re.compile(r"\bissues?\b|\btargets?\b|\*\*no\*\*|\| no \||what was removed", re.I)


def test_page_speaks_to_users() -> None:
    found = NOT_FOR_USERS.findall(PAGE.read_text())
    assert not found, f"{PAGE.name} says {found}"


def test_page_results_come_from_the_committed_run() -> None:
    text = PAGE.read_text()
    assert text.count(START) == 1
    assert text.count(END) == 1  # bench/run.py --docs replaces what lies between them
    block = text.split(START, 1)[1].split(END, 1)[0]
    meta, groups = _report.groups_from_json(RESULTS)
    assert block == _report.docs_block(meta, groups), (
        f"the results in {PAGE.name} differ from {RESULTS.name}: put "
        "_report.docs_block(...) of that file between the markers"
    )


@pytest.mark.parametrize("smoke", [False, True], ids=["full", "smoke"])
def test_report_speaks_to_users(smoke: bool) -> None:
    meta, groups = _report.groups_from_json(RESULTS)
    text = _report.markdown({**meta, "smoke": smoke}, groups, chart="latest.png")
    assert "## Whole pytest processes" in text
    assert not NOT_FOR_USERS.findall(text)
    assert not NOT_FOR_USERS.findall(_report.docs_block(meta, groups))
