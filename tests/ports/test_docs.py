"""Keep the pytest-ports docs in step with the code: every option and fixture is documented."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest

from pytest_ports.plugin import FIXTURE_NAMES, OPTIONS

ROOT = Path(__file__).parents[2]
REFERENCE = ROOT / "docs" / "reference" / "ports.md"
README = ROOT / "packages" / "pytest-ports" / "README.md"
PAGES = [
    REFERENCE,
    ROOT / "docs" / "concepts" / "ports.md",
    ROOT / "docs" / "howto" / "ports-sync-suite.md",
    ROOT / "docs" / "howto" / "ports-xdist.md",
    ROOT / "docs" / "howto" / "ports-bound-sockets.md",
]


@pytest.mark.parametrize("spec", OPTIONS, ids=lambda spec: spec.ini)
def test_reference_lists_every_option_with_its_twins(spec: object) -> None:
    text = REFERENCE.read_text()
    for name in (spec.ini, spec.cli, spec.env):  # type: ignore[attr-defined]
        assert f"`{name}`" in text


@pytest.mark.parametrize("page", [*PAGES, README], ids=lambda p: p.name)
def test_pages_start_with_a_title(page: Path) -> None:
    assert page.read_text().startswith("# ")


def test_readme_lists_every_fixture() -> None:
    text = README.read_text()
    for name in FIXTURE_NAMES:
        assert f"`{name}`" in text


def test_bound_socket_recipe_works(unused_tcp_socket: socket.socket) -> None:
    # The asyncio example of docs/howto/ports-bound-sockets.md, run as written there.
    async def main() -> None:
        async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            writer.write(await reader.readline())
            await writer.drain()
            writer.close()

        server = await asyncio.start_server(echo, sock=unused_tcp_socket)
        host, port = unused_tcp_socket.getsockname()[:2]
        async with server:
            reader, writer = await asyncio.open_connection(host, port)
            writer.write(b"ping\n")
            assert await reader.readline() == b"ping\n"
            writer.close()
            await writer.wait_closed()

    asyncio.run(main())
