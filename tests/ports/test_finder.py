"""Unit tests of the pool, the probe and the search, without pytester."""

from __future__ import annotations

import ipaddress
import socket
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pytest_ports import _finder, _hosts, _pool, find_unused_tcp_port
from pytest_ports._errors import NoFreePortError
from pytest_ports._hosts import Target
from pytest_ports._pool import EphemeralRange
from pytest_ports._settings import Family, Kind, parse_range

STOCK = EphemeralRange(32768, 60999, frozenset(), "test")
V4 = (Target(socket.AF_INET, "0.0.0.0"),)


def test_linux_list_syntax() -> None:
    assert _pool._parse_port_list("1000,2000-2002\n") == {1000, 2000, 2001, 2002}
    assert _pool._parse_port_list("\n") == frozenset()


def test_default_pool_lies_just_below_the_ephemeral_range() -> None:
    pool = _pool.make_pool(None, STOCK)
    assert (pool.ports[0], pool.ports[-1], len(pool)) == (20000, 32767, 12768)
    assert "below the ephemeral range 32768-60999" in pool.description


def test_pool_never_goes_below_1024() -> None:
    pool = _pool.make_pool(None, EphemeralRange(5000, 60999, frozenset(), "t"))
    assert (pool.ports[0], pool.ports[-1]) == (1024, 4999)


def test_pool_uses_ports_outside_when_little_room_below() -> None:
    eph = EphemeralRange(1500, 64000, frozenset(range(30000, 30600)), "t")
    pool = _pool.make_pool(None, eph)
    assert set(pool.ports) == set(range(1024, 1500)) | set(range(30000, 30600)) | set(
        range(64001, 65536)
    )


def test_pool_falls_back_to_the_kernel_when_no_room_outside() -> None:
    pool = _pool.make_pool(None, EphemeralRange(1024, 65535, frozenset(), "t"))
    assert pool.kernel
    assert "kernel-chosen" in pool.description


def test_this_hosts_range_is_read() -> None:
    eph = _pool.ephemeral_range()
    assert 1024 <= eph.low <= eph.high <= 65535
    assert _pool.ephemeral_range() is eph  # read once


@given(st.integers(1024, 65535), st.integers(1024, 65535))
def test_range_option_round_trips(a: int, b: int) -> None:
    low, high = min(a, b), max(a, b)
    assert parse_range(f"{low}-{high}") == (low, high)
    with pytest.raises(ValueError, match="LOW-HIGH"):
        parse_range(f"{high + 1}-{low}" if high < 65535 else "1-2")


@pytest.mark.parametrize(
    ("kind", "host"),
    [("tcp", "127.0.0.1"), ("udp", "127.0.0.1"), ("tcp", "::1"), ("udp", "::1")],
)
def test_probe_sees_a_loopback_holder(kind: Kind, host: str) -> None:
    target = _hosts.host_target(host)
    if target.family == socket.AF_INET6 and not _hosts.ipv6_support().loopback:
        pytest.skip("::1 cannot be bound on this host")
    # A port reserved for us and outside the ephemeral range: no outgoing socket of another
    # test can hold it for the other protocol (a kernel-chosen port 0 can be, under -n 2).
    port = find_unused_tcp_port()
    holder = _finder.bind_socket(kind, target, port)
    with holder:
        seen = _finder.probe(port, (kind,), _hosts.probe_targets("auto"))
        assert seen is not None
        assert "EADDRINUSE" in seen
        # Each protocol has its own port space: the other kind alone does not see the holder.
        other: Kind = "udp" if kind == "tcp" else "tcp"
        assert _finder.probe(port, (other,), _hosts.probe_targets("auto")) is None


def test_probe_kinds() -> None:
    assert _finder.probe_kinds("tcp", "both") == ("tcp", "udp")
    assert _finder.probe_kinds("udp", "both") == ("udp", "tcp")
    assert _finder.probe_kinds("tcp", "tcp") == ("tcp",)
    assert _finder.probe_kinds("tcp", "udp") == ("tcp", "udp")


def test_probe_targets_by_family() -> None:
    assert _hosts.probe_targets("ipv4", _hosts.host_targets("127.0.0.1")) == (
        Target(socket.AF_INET, "0.0.0.0"),
        Target(socket.AF_INET, "127.0.0.1"),
    )
    auto = _hosts.probe_targets("auto")
    v6 = _hosts.ipv6_support()
    if v6.dual_stack:
        assert auto == (Target(socket.AF_INET6, "::", v6only=False),)
    else:
        assert Target(socket.AF_INET, "0.0.0.0") in auto
    # The wildcard adds nothing.
    assert _hosts.probe_targets("auto", _hosts.host_targets("0.0.0.0")) == auto


def test_ipv6_support_is_detected_once() -> None:
    assert _hosts.ipv6_support() is _hosts.ipv6_support()


def test_ipv6_required_but_unusable_fails_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_hosts, "_ipv6_cache", _hosts.Ipv6Support(False, False))
    with pytest.raises(NoFreePortError, match="needs IPv6"):
        _hosts.probe_targets("ipv6")
    assert _hosts.probe_targets("auto") == V4


V4_LOOPBACK = Target(socket.AF_INET, "127.0.0.1")
V6_LOOPBACK = Target(socket.AF_INET6, "::1", v6only=True)
IPV6_USABLE = _hosts.Ipv6Support(loopback=True, dual_stack=True)
IPV6_OFF = _hosts.Ipv6Support(loopback=False, dual_stack=False)
NOT_LOOPBACK = (
    "is not a loopback address: use 127.0.0.1, ::1 or a name that resolves only to them (localhost)"
)


def test_host_target_takes_literals_only() -> None:
    assert _hosts.host_target("[::1]") == V6_LOOPBACK
    with pytest.raises(ValueError, match="host='localhost' is not an IP address literal"):
        _hosts.host_target("localhost")


@pytest.mark.parametrize("family", ["auto", "ipv4", "ipv6", "both"])
def test_a_literal_host_is_used_as_given(family: Family) -> None:
    assert _hosts.host_targets("127.0.0.1", family) == (V4_LOOPBACK,)
    assert _hosts.host_targets("::1", family) == (V6_LOOPBACK,)


def test_localhost_resolves_to_loopback_targets() -> None:
    targets = _hosts.host_targets("localhost")
    assert targets
    assert all(ipaddress.ip_address(t.address).is_loopback for t in targets)


@pytest.mark.usefixtures("fake_dns")
@pytest.mark.parametrize(
    ("family", "expected"),
    [
        ("auto", (V4_LOOPBACK, V6_LOOPBACK)),
        ("both", (V4_LOOPBACK, V6_LOOPBACK)),
        ("ipv4", (V4_LOOPBACK,)),
        ("ipv6", (V6_LOOPBACK,)),
    ],
)
def test_a_loopback_name_gives_its_addresses_of_the_family_ipv4_first(
    monkeypatch: pytest.MonkeyPatch, family: Family, expected: tuple[Target, ...]
) -> None:
    monkeypatch.setattr(_hosts, "_ipv6_cache", IPV6_USABLE)
    assert _hosts.host_targets("dual.test", family) == expected
    assert _hosts.probe_targets(family, expected)[-len(expected) :] == expected


@pytest.mark.usefixtures("fake_dns")
def test_ipv6_addresses_of_a_name_are_left_out_where_ipv6_is_unusable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_hosts, "_ipv6_cache", IPV6_OFF)
    assert _hosts.host_targets("dual.test") == (V4_LOOPBACK,)
    with pytest.raises(NoFreePortError, match=r"host='v6\.test' .* ::1 cannot be bound here"):
        _hosts.host_targets("v6.test")


@pytest.mark.usefixtures("fake_dns")
@pytest.mark.parametrize(
    ("host", "family", "message"),
    [
        ("example.com", "auto", f"host='example.com' {NOT_LOOPBACK}"),
        ("mixed.test", "ipv4", f"host='mixed.test' {NOT_LOOPBACK}"),
        (
            "unknown.test",
            "auto",
            "host='unknown.test' cannot be resolved (Name or service not known): use 127.0.0.1, "
            "::1 or a name that resolves only to them (localhost)",
        ),
        (
            "v4.test",
            "ipv6",
            "host='v4.test' has no IPv6 address, which family='ipv6' requires: use "
            "family='auto', or ::1",
        ),
        (
            "v6.test",
            "ipv4",
            "host='v6.test' has no IPv4 address, which family='ipv4' requires: use "
            "family='auto', or 127.0.0.1",
        ),
    ],
)
def test_a_name_that_is_not_only_loopback_is_refused(
    monkeypatch: pytest.MonkeyPatch, host: str, family: Family, message: str
) -> None:
    monkeypatch.setattr(_hosts, "_ipv6_cache", IPV6_USABLE)
    with pytest.raises(ValueError) as info:
        _hosts.host_targets(host, family)
    assert str(info.value) == message


def _search(pool: _pool.Pool, **kwargs: object) -> _finder.Found:
    claimed: set[int] = set()

    def claim(port: int) -> str | None:
        if port in claimed:
            return "held by this process"
        claimed.add(port)
        return None

    defaults: dict[str, object] = {
        "pool": pool,
        "targets": V4,
        "kinds": ("tcp",),
        "claim": claim,
        "unclaim": claimed.discard,
        "next_candidate": lambda p: None if p.kernel else p.ports[0],
    }
    defaults.update(kwargs)
    return _finder.search("tcp", **defaults)  # type: ignore[arg-type]


def test_search_gives_up_with_a_message_naming_pool_holdings_and_probes() -> None:
    holder = _finder.bind_socket("tcp", Target(socket.AF_INET, "127.0.0.1"), 0)
    with holder:
        port = holder.getsockname()[1]
        pool = _pool.make_pool((port, port))
        start = time.monotonic()
        with pytest.raises(NoFreePortError) as info:
            _search(pool, max_tries=50, holdings=lambda: "3 by this process")
        assert time.monotonic() - start < 5
    message = str(info.value)
    assert f"pool: {port}-{port} (1 ports, configured)" in message
    assert "held: 3 by this process" in message
    assert "50 x tcp 0.0.0.0: EADDRINUSE" in message


def test_search_respects_the_deadline() -> None:
    pool = _pool.make_pool((30000, 30000))
    start = time.monotonic()
    with pytest.raises(NoFreePortError, match="after"):
        _search(pool, claim=lambda port: "held by another process", timeout=0.2, max_tries=10**9)
    assert time.monotonic() - start < 2


def test_search_with_the_kernel_pool_returns_a_port_that_binds() -> None:
    found = _search(_pool.Pool((), "kernel"))
    assert found.sock is None
    _finder.bind_socket("tcp", Target(socket.AF_INET, "127.0.0.1"), found.port).close()


def test_search_keeps_a_bound_socket_when_asked() -> None:
    found = _search(_pool.Pool((), "kernel"), keep=Target(socket.AF_INET, "127.0.0.1"))
    assert found.sock is not None
    with found.sock:
        assert found.sock.getsockname() == ("127.0.0.1", found.port)


def test_random_candidate_skips_taken_ports() -> None:
    import random

    pool = _pool.make_pool((30000, 30009))
    rng = random.Random(1)
    taken = set(range(30000, 30009))
    assert {_finder.random_candidate(rng, pool, taken.__contains__) for _ in range(20)} == {30009}
    # All taken: a released port of ours is offered before a random taken one.
    taken.add(30009)
    assert _finder.random_candidate(rng, pool, taken.__contains__, lambda p: 30004) == 30004
    assert _finder.random_candidate(rng, _pool.Pool((), "kernel"), taken.__contains__) is None
