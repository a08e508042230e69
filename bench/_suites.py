"""Generate the same test suites for every contender: only the spelling of "async" differs.

A suite is a directory with a ``pytest.ini``, a ``conftest.py`` holding the one fixture, and test
modules of :data:`TESTS_PER_MODULE` tests each. Async contenders get::

    @<their fixture decorator>
    async def resource():
        await asyncio.sleep(0)
        yield 1

    async def test_00001(resource):
        await asyncio.sleep(0)
        assert resource == 1

and the sync floor gets the same without ``async``/``await``.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Literal

from bench._contenders import Contender

Kind = Literal["function", "module", "startup"]
TESTS_PER_MODULE = 100


def _ini(contender: Contender) -> str:
    lines = ["[pytest]", contender.ini] if contender.ini else ["[pytest]"]
    return "\n".join(lines) + "\n"


def _conftest(contender: Contender, kind: Kind) -> str:
    head = ["from __future__ import annotations", "", "import asyncio", "", "import pytest"]
    if contender.imports:
        head.append(contender.imports)
    parts = ["\n".join(head) + "\n"]
    if contender.conftest_extra:
        parts.append(contender.conftest_extra)
    if kind != "startup":
        decorator = contender.fixture_module if kind == "module" else contender.fixture_function
        if contender.is_async:
            body = "async def resource():\n    await asyncio.sleep(0)\n    yield 1\n"
        else:
            body = "def resource():\n    yield 1\n"
        parts.append(f"{decorator}\n{body}")
    return "\n\n".join(parts)


def _module(contender: Contender, kind: Kind, first: int, count: int) -> str:
    out = ["from __future__ import annotations", "", "import asyncio", "", "import pytest", ""]
    mark = contender.mark_module if kind == "module" else contender.mark_function
    if mark:
        out += [f"pytestmark = {mark}", ""]
    for i in range(first, first + count):
        if contender.is_async:
            out.append(
                f"\nasync def test_{i:05d}(resource):\n"
                "    await asyncio.sleep(0)\n"
                "    assert resource == 1\n"
            )
        else:
            out.append(f"\ndef test_{i:05d}(resource):\n    assert resource == 1\n")
    return "\n".join(out)


def write_suite(root: Path, contender: Contender, kind: Kind, n: int) -> Path:
    """Write a suite of ``n`` tests (or, for ``startup``, one sync test) and return its path."""
    root.mkdir(parents=True, exist_ok=False)
    (root / "pytest.ini").write_text(_ini(contender))
    (root / "conftest.py").write_text(_conftest(contender, kind))
    if kind == "startup":
        (root / "test_startup.py").write_text(
            textwrap.dedent("""\
                def test_nothing_async():
                    assert True
                """)
        )
        return root
    for module, first in enumerate(range(0, n, TESTS_PER_MODULE)):
        count = min(TESTS_PER_MODULE, n - first)
        (root / f"test_m{module:04d}.py").write_text(_module(contender, kind, first, count))
    return root
