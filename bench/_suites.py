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

Scenario 7's suites (:func:`write_io_suite`): ``io`` has a session-scoped local
server that answers each line after :data:`IO_DELAY` seconds, a function-scoped connection to it
per test and :data:`IO_ROUND_TRIPS` round trips in each test; ``io-instant`` is the same with a
server that answers at once; ``trivial`` is N tests ``async def test_00001(): pass`` in one
module; ``sync`` is the I/O suite's modules with empty sync tests, for the sync floor.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Literal

from bench._contenders import Contender

Kind = Literal["function", "module", "startup"]
IoKind = Literal["io", "io-instant", "trivial", "sync", "fixture-io", "fixture-io-one-module"]
TESTS_PER_MODULE = 100
#: How long the server of the ``io`` suite waits before it answers a line, in seconds.
IO_DELAY = 0.01
#: Round trips to that server in each test.
IO_ROUND_TRIPS = 3
#: The ``fixture-io`` suite: each test's fixture waits this long in its setup and again in its
#: teardown (a connection, a transaction), and the test's body waits ``FIXTURE_IO_BODY``.
FIXTURE_IO_WAIT = 0.01
FIXTURE_IO_BODY = 0.05


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


_IO_CONFTEST = """\
from __future__ import annotations

import asyncio

import pytest
{imports}

async def answer(reader, writer):
    while line := await reader.readline():
{wait}        writer.write(line)
        await writer.drain()
    writer.close()


{fixtures}"""

# A backlog above the number of tests that connect at once: a full backlog would make a
# connection wait for the kernel's SYN retry (1 s), which would measure the server.
_IO_FIXTURES = {
    "yield": """\
{session}
async def server_port():
    server = await asyncio.start_server(answer, "127.0.0.1", 0, backlog=1024)
    yield server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()


{function}
async def connection(server_port):
    reader, writer = await asyncio.open_connection("127.0.0.1", server_port)
    yield reader, writer
    writer.close()
    await writer.wait_closed()
""",
    "finalizer": """\
{session}
async def server_port(request):
    server = await asyncio.start_server(answer, "127.0.0.1", 0, backlog=1024)
    request.addfinalizer(server.close)
    return server.sockets[0].getsockname()[1]


{function}
async def connection(server_port, request):
    reader, writer = await asyncio.open_connection("127.0.0.1", server_port)
    request.addfinalizer(writer.close)
    return reader, writer
""",
}

_IO_TEST = """
{mark}async def test_{i:05d}(connection):
    reader, writer = connection
    for step in range({round_trips}):
        writer.write(b"{i}.%d\\n" % step)
        assert await reader.readline() == b"{i}.%d\\n" % step
"""


_FIXTURE_IO_CONFTEST = """\
from __future__ import annotations

import asyncio

import pytest
{imports}

{function}
async def transaction():
    await asyncio.sleep({wait})
    yield 1
    await asyncio.sleep({wait})
"""

_FIXTURE_IO_TEST = """
{mark}async def test_{i:05d}(transaction):
    await asyncio.sleep({body})
"""


def _io_module(contender: Contender, kind: IoKind, first: int, count: int) -> str:
    out = ["from __future__ import annotations", "", "import asyncio", "", "import pytest", ""]
    if contender.io_mark_module:
        out += [f"pytestmark = {contender.io_mark_module}", ""]
    mark = f"{contender.io_mark_test}\n" if contender.io_mark_test else ""
    for i in range(first, first + count):
        if kind == "trivial":
            out.append(f"\n{mark}async def test_{i:05d}():\n    pass\n")
        elif kind == "sync":
            out.append(f"\n\ndef test_{i:05d}():\n    pass\n")
        elif kind in ("fixture-io", "fixture-io-one-module"):
            out.append(_FIXTURE_IO_TEST.format(mark=mark, i=i, body=FIXTURE_IO_BODY))
        else:
            out.append(_IO_TEST.format(mark=mark, i=i, round_trips=IO_ROUND_TRIPS))
    return "\n".join(out)


def write_io_suite(root: Path, contender: Contender, kind: IoKind, n: int) -> Path:
    """Write a scenario-7 suite of ``n`` tests (``trivial``, ``fixture-io-one-module``: in one
    module, the others in modules of ``TESTS_PER_MODULE``); return its path."""
    root.mkdir(parents=True, exist_ok=False)
    (root / "pytest.ini").write_text(_ini(contender))
    if kind == "trivial":
        (root / "conftest.py").write_text("")
        (root / "test_trivial.py").write_text(_io_module(contender, kind, 0, n))
        return root
    (root / "conftest.py").write_text("" if kind == "sync" else _io_conftest(contender, kind))
    per_module = n if kind == "fixture-io-one-module" else TESTS_PER_MODULE
    for module, first in enumerate(range(0, n, per_module)):
        count = min(per_module, n - first)
        (root / f"test_io{module:04d}.py").write_text(_io_module(contender, kind, first, count))
    return root


def _io_conftest(contender: Contender, kind: IoKind) -> str:
    if kind in ("fixture-io", "fixture-io-one-module"):
        return _FIXTURE_IO_CONFTEST.format(
            imports=f"{contender.imports}\n" if contender.imports else "",
            function=contender.io_fixture_function,
            wait=FIXTURE_IO_WAIT,
        )
    wait = f"        await asyncio.sleep({IO_DELAY})\n" if kind == "io" else ""
    fixtures = _IO_FIXTURES[contender.io_fixture_style].format(
        session=contender.io_fixture_session, function=contender.io_fixture_function
    )
    imports = f"{contender.imports}\n" if contender.imports else ""
    return _IO_CONFTEST.format(imports=imports, wait=wait, fixtures=fixtures)
