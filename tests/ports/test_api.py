"""Tests of the plain functions and the factory: usable without pytest or asyncio."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
from typing import TYPE_CHECKING, Literal

import pytest

import pytest_ports
from pytest_ports import PortFactory, _hosts, release_port
from pytest_ports._registry import owner_of

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path


def test_import_pulls_in_neither_pytest_nor_asyncio() -> None:
    code = (
        "import sys, pytest_ports; pytest_ports.find_unused_tcp_port();"
        "print(sorted(m for m in sys.modules"
        " if m.split('.')[0] in ('pytest', '_pytest', 'asyncio')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_public_api() -> None:
    assert sorted(pytest_ports.__all__) == [
        "NoFreePortError",
        "PortFactory",
        "PortRegistryWarning",
        "Settings",
        "__version__",
        "bind_unused_tcp_socket",
        "bind_unused_udp_socket",
        "find_unused_tcp_port",
        "find_unused_udp_port",
        "release_port",
    ]


@pytest.mark.parametrize(
    ("find", "kind"),
    [
        (pytest_ports.find_unused_tcp_port, socket.SOCK_STREAM),
        (pytest_ports.find_unused_udp_port, socket.SOCK_DGRAM),
    ],
)
def test_found_ports_bind_and_are_reserved(registry_dir: Path, find: object, kind: int) -> None:
    assert callable(find)
    ports = [find() for _ in range(20)]
    assert len(set(ports)) == 20
    for port in ports:
        assert 1024 <= port <= 65535
        with socket.socket(socket.AF_INET, kind) as sock:
            sock.bind(("127.0.0.1", port))
        assert owner_of(port) is not None
        assert release_port(port)
    assert (registry_dir / "ports.lock").exists()


def test_threads_never_get_the_same_port() -> None:
    results: list[list[int]] = [[] for _ in range(8)]

    def work(out: list[int]) -> None:
        factory = PortFactory("tcp", family="ipv4")
        out.extend(factory() for _ in range(100))

    threads = [threading.Thread(target=work, args=(r,)) for r in results]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    everything = [p for r in results for p in r]
    try:
        assert len(everything) == len(set(everything)) == 800
    finally:
        for port in everything:
            release_port(port)


def test_port_range_and_family_arguments() -> None:
    port = pytest_ports.find_unused_tcp_port(port_range=(31000, 31050), family=socket.AF_INET)
    assert 31000 <= port <= 31050
    assert release_port(port)


def test_factory_returns_distinct_ports_and_takes_keywords() -> None:
    factory = PortFactory("udp")
    ports = {factory(), factory(host="127.0.0.1"), factory(family="ipv4")}
    assert len(ports) == 3
    assert repr(factory) == "PortFactory('udp', host=None, family='auto')"
    for port in ports:
        assert factory.release(port)


def test_factory_rejects_an_unknown_kind() -> None:
    with pytest.raises(ValueError, match="kind must be 'tcp' or 'udp'"):
        PortFactory("sctp")  # type: ignore[arg-type]


def test_a_host_that_cannot_be_bound_fails_at_once() -> None:
    with pytest.raises(pytest_ports.NoFreePortError, match=r"192\.0\.2\.1"):
        pytest_ports.find_unused_tcp_port(host="192.0.2.1")  # TEST-NET-1: never local


NOT_LOOPBACK = (
    "host='example.com' is not a loopback address: use 127.0.0.1, ::1 or a name that resolves "
    "only to them (localhost)"
)
HOST_USERS: list[tuple[str, Callable[[str], object]]] = [
    ("find_unused_tcp_port", lambda host: pytest_ports.find_unused_tcp_port(host=host)),
    ("find_unused_udp_port", lambda host: pytest_ports.find_unused_udp_port(host=host)),
    ("bind_unused_tcp_socket", lambda host: pytest_ports.bind_unused_tcp_socket(host=host)),
    ("bind_unused_udp_socket", lambda host: pytest_ports.bind_unused_udp_socket(host=host)),
    ("PortFactory(host=)", lambda host: PortFactory("udp", host=host)()),
    ("PortFactory.__call__", lambda host: PortFactory("tcp")(host=host)),
    ("PortFactory.bind", lambda host: PortFactory("tcp").bind(host=host)),
]


def _port_of(result: object) -> int:
    if isinstance(result, socket.socket):
        with result:
            return int(result.getsockname()[1])
    assert isinstance(result, int)
    return result


@pytest.mark.parametrize("use", [use for _, use in HOST_USERS], ids=[n for n, _ in HOST_USERS])
def test_every_function_accepts_localhost(use: Callable[[str], object]) -> None:
    port = _port_of(use("localhost"))
    assert release_port(port)


@pytest.mark.usefixtures("fake_dns")
@pytest.mark.parametrize("use", [use for _, use in HOST_USERS], ids=[n for n, _ in HOST_USERS])
def test_every_function_refuses_a_name_that_is_not_loopback(
    use: Callable[[str], object],
) -> None:
    with pytest.raises(ValueError) as info:
        use("example.com")
    assert str(info.value) == NOT_LOOPBACK


@pytest.mark.parametrize("kind", ["tcp", "udp"])
def test_a_bound_socket_on_localhost_uses_its_first_address(kind: Literal["tcp", "udp"]) -> None:
    with PortFactory(kind).bind(host="localhost") as sock:
        host, port = sock.getsockname()[:2]
    assert host == _hosts.host_targets("localhost")[0].address
    assert release_port(port)


@pytest.mark.usefixtures("fake_dns")
@pytest.mark.skipif(not _hosts.ipv6_support().loopback, reason="::1 cannot be bound here")
@pytest.mark.parametrize(("family", "address"), [("auto", "127.0.0.1"), ("ipv6", "::1")])
def test_a_name_with_both_families_is_bound_on_the_one_the_family_picks(
    family: Literal["auto", "ipv6"], address: str
) -> None:
    sock = PortFactory("tcp").bind(host="dual.test", family=family)
    with sock:
        host, port = sock.getsockname()[:2]
        assert (host, sock.family) == (address, _hosts.host_target(address).family)
    assert release_port(port)


def test_a_bad_family_names_the_argument() -> None:
    with pytest.raises(ValueError, match=r"^family='ipv5' is not one of 'auto', 'ipv4', "):
        pytest_ports.find_unused_tcp_port(family="ipv5")  # type: ignore[arg-type]


def test_bad_environment_value_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTEST_PORTS_CHECK", "sctp")
    with pytest.raises(
        ValueError, match=r"PYTEST_PORTS_CHECK: 'sctp' is not one of tcp, udp, both"
    ):
        pytest_ports.find_unused_tcp_port()


def test_environment_range_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTEST_PORTS_RANGE", "31100-31109")
    port = pytest_ports.find_unused_udp_port()
    assert 31100 <= port <= 31109
    assert release_port(port)


def test_bound_tcp_socket_listens() -> None:
    with pytest_ports.bind_unused_tcp_socket() as server:
        host, port = server.getsockname()[:2]
        assert host == "127.0.0.1"
        with socket.create_connection((host, port), timeout=5):
            conn, _ = server.accept()
            conn.close()
    assert release_port(port)


def test_bound_udp_socket_receives() -> None:
    with pytest_ports.bind_unused_udp_socket() as server:
        address = server.getsockname()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
            client.sendto(b"ping", address)
        server.settimeout(5)
        assert server.recvfrom(16)[0] == b"ping"
    assert release_port(address[1])


def test_release_of_a_foreign_port_is_false() -> None:
    assert release_port(1) is False
