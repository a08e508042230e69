"""pytester tests of the fixtures and of every way to give each option."""

from __future__ import annotations

import gc
from typing import TYPE_CHECKING

import pytest

from pytest_ports.plugin import OPTIONS, OptionSpec

if TYPE_CHECKING:
    from pathlib import Path

FIXTURES = (
    "unused_tcp_port",
    "unused_udp_port",
    "unused_tcp_port_factory",
    "unused_udp_port_factory",
    "unused_tcp_socket",
    "unused_udp_socket",
)


def test_all_fixtures_share_one_record_and_give_usable_ports(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import socket
        from pytest_ports import PortFactory

        def test_ports(unused_tcp_port, unused_udp_port,
                       unused_tcp_port_factory: PortFactory,
                       unused_udp_port_factory: PortFactory,
                       unused_tcp_socket, unused_udp_socket):
            ports = [unused_tcp_port, unused_udp_port,
                     unused_tcp_port_factory(), unused_tcp_port_factory(host="127.0.0.1"),
                     unused_udp_port_factory(), unused_udp_port_factory(family="ipv4"),
                     unused_tcp_socket.getsockname()[1], unused_udp_socket.getsockname()[1]]
            assert len(set(ports)) == len(ports)
            assert isinstance(unused_tcp_port_factory, PortFactory)
            with socket.socket() as s:
                s.bind(("127.0.0.1", unused_tcp_port))
                s.listen()
            with socket.socket(type=socket.SOCK_DGRAM) as s:
                s.bind(("127.0.0.1", unused_udp_port))
            with socket.create_connection(unused_tcp_socket.getsockname()[:2], timeout=5):
                unused_tcp_socket.accept()[0].close()
        """
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_function_ports_differ_between_tests_and_factories_are_session_scoped(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        """
        import pytest
        seen = []
        factories = []

        @pytest.mark.parametrize("i", range(20))
        def test_port(i, unused_tcp_port, unused_udp_port, unused_tcp_port_factory):
            seen.extend([unused_tcp_port, unused_udp_port])
            factories.append(unused_tcp_port_factory)

        def test_check():
            assert len(set(seen)) == len(seen) == 40
            assert len({id(f) for f in factories}) == 1
        """
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=21)


def test_fixtures_are_documented(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--fixtures", "-p", "no:cacheprovider")
    # pytest orders them by "file:line" as text, so each name and its docstring on their own.
    for pair in (
        [
            "unused_tcp_port -- *",
            "    Provide a free TCP port that no other test, worker or process gets meanwhile.",
        ],
        [
            "unused_udp_port_factory [[]session scope[]] -- *",
            "    Return a callable that gives a different free UDP port on each call.",
        ],
        [
            "unused_udp_socket -- *",
            "    Provide a UDP socket bound to a free port of 127.0.0.1; closed after the test.",
        ],
    ):
        result.stdout.fnmatch_lines(pair)
    assert result.ret == 0


def test_help_shows_descriptive_metavars_and_every_twin(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--help", "-p", "no:cacheprovider")
    assert result.ret == 0
    result.stdout.fnmatch_lines(
        [
            "pytest-ports: free TCP and UDP ports:",
            "  --ports-range=LOW-HIGH",
            "  --ports-check=PROTOCOL",
            "  --ports-family=FAMILY",
            "  --ports-registry=DIR*",
            "  --ports-override=BOOL",
        ]
    )
    # pytest wraps help texts: compare them with the line breaks taken out.
    text = " ".join(result.stdout.str().split())
    for spec in OPTIONS:
        assert " ".join(spec.cli_help.split()) in text
        assert f"{spec.ini} (string): {' '.join(spec.ini_help.split())}" in text


@pytest.mark.parametrize("spec", OPTIONS, ids=lambda spec: spec.ini)
def test_help_texts_are_sentences_that_name_the_twins(spec: OptionSpec) -> None:
    for text in (spec.help, spec.cli_help, spec.ini_help):
        assert text[0].isupper()
        assert text.endswith(".")
    assert spec.cli_help.endswith(f". Ini: {spec.ini}. Environment: {spec.env}.")
    assert spec.ini_help.endswith(f". Command line: {spec.cli}. Environment: {spec.env}.")
    assert "default" in spec.help


@pytest.mark.parametrize("spec", OPTIONS, ids=lambda spec: spec.ini)
def test_each_option_parses_and_reads_its_env_as_the_plain_functions_do(
    spec: OptionSpec, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pytest_ports import _settings

    parse = getattr(_settings, spec.parse)
    assert getattr(_settings.Settings(), spec.field) == parse(spec.default)
    assert _settings.settings_from_env({spec.env: spec.default}) == _settings.Settings()
    changed = "/tmp/ports" if spec.field == "registry" else "not a valid value"
    monkeypatch.setenv(spec.env, changed)
    if spec.field == "registry":
        assert _settings.settings_from_env().registry == parse(changed)
    else:
        with pytest.raises(ValueError, match=spec.env):
            _settings.settings_from_env()


RANGE_TEST = """
from pytest_ports import release_port

def test_range(unused_tcp_port, unused_udp_port_factory):
    udp = unused_udp_port_factory()
    assert 31300 <= unused_tcp_port <= 31799
    assert 31300 <= udp <= 31799
    # Give them back: concurrent runs of this suite share the small range.
    assert release_port(unused_tcp_port) and release_port(udp)
"""


def _give(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, route: str, ini: str, value: str
) -> list[str]:
    """Set option ``ini`` to ``value`` by ``route`` and return the extra command-line args."""
    cli = "--" + ini.replace("_", "-")
    env = "PYTEST_" + ini.upper()
    if route == "cli":
        return [f"{cli}={value}"]
    if route == "env":
        monkeypatch.setenv(env, value)
        return []
    pytester.makeini(f"[pytest]\n{ini} = {value}\n")
    return []


ROUTES = ("cli", "ini", "env")


@pytest.mark.parametrize("route", ROUTES)
def test_range_option(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, route: str
) -> None:
    pytester.makepyfile(RANGE_TEST)
    args = _give(pytester, monkeypatch, route, "ports_range", "31300-31799")
    pytester.runpytest("-p", "no:cacheprovider", *args).assert_outcomes(passed=1)


def test_cli_beats_env_beats_ini(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(RANGE_TEST)
    pytester.makeini("[pytest]\nports_range = 1\n")
    monkeypatch.setenv("PYTEST_PORTS_RANGE", "2")
    result = pytester.runpytest("-p", "no:cacheprovider", "--ports-range=31300-31799")
    result.assert_outcomes(passed=1)
    monkeypatch.setenv("PYTEST_PORTS_RANGE", "31300-31799")
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize(
    "case",
    [
        ("ports_range", "5-1", "auto, or LOW-HIGH with 1024 <= LOW <= HIGH <= 65535"),
        ("ports_check", "sctp", "tcp, udp, both"),
        ("ports_family", "ipx", "auto, ipv4, ipv6, both"),
        ("ports_override", "maybe", "true, false"),
    ],
    ids=lambda case: case[0],
)
def test_bad_values_are_usage_errors(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    route: str,
    case: tuple[str, str, str],
) -> None:
    ini, bad, valid = case
    pytester.makepyfile("def test_x(): pass")
    args = _give(pytester, monkeypatch, route, ini, bad)
    result = pytester.runpytest("-p", "no:cacheprovider", *args)
    where = {
        "cli": "--" + ini.replace("_", "-"),
        "env": f"PYTEST_{ini.upper()} (environment variable)",
        "ini": f"{ini} (ini option)",
    }[route]
    result.stderr.fnmatch_lines([f"ERROR: '{bad}' is not a valid {where}. Valid values: {valid}."])
    assert result.ret == pytest.ExitCode.USAGE_ERROR


CHECK_TEST = """
from dataclasses import replace
from pytest_ports import NoFreePortError, PortFactory, release_port

def test_check(unused_udp_socket, unused_tcp_port_factory):
    # UDP holds the port; make a one-port pool of it. The TCP port must be refused exactly
    # when the configured check includes UDP.
    port = unused_udp_socket.getsockname()[1]
    release_port(port)
    settings = replace(unused_tcp_port_factory.settings, port_range=(port, port))
    try:
        got = "free" if PortFactory("tcp", settings=settings)() == port else "other"
    except NoFreePortError as exc:
        got = str(exc)
    release_port(port)
    print("RESULT", got)
"""


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize(
    ("check", "expect"), [("tcp", "*RESULT free"), ("both", "*RESULT no free TCP port*")]
)
def test_check_option(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, route: str, check: str, expect: str
) -> None:
    pytester.makepyfile(CHECK_TEST)
    args = _give(pytester, monkeypatch, route, "ports_check", check)
    result = pytester.runpytest("-p", "no:cacheprovider", "-s", *args)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([expect])


FAMILY_TEST = """
def test_family(request):
    from pytest_ports._fixtures import STATE_KEY
    print("FAMILY", request.config.stash[STATE_KEY].tcp.family)
"""


@pytest.mark.parametrize("route", ROUTES)
def test_family_option(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, route: str
) -> None:
    pytester.makepyfile(FAMILY_TEST + RANGE_TEST.replace("test_range", "test_ipv4"))
    args = _give(pytester, monkeypatch, route, "ports_family", "ipv4")
    result = pytester.runpytest("-p", "no:cacheprovider", "-s", "--ports-range=31300-31799", *args)
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*FAMILY ipv4"])


REGISTRY_TEST = """
def test_registry(unused_tcp_port_factory):
    from pytest_ports import release_port
    assert release_port(unused_tcp_port_factory())
    print("REGISTRY", unused_tcp_port_factory.registry.path)
"""


@pytest.mark.parametrize("route", ROUTES)
def test_registry_option(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, route: str, tmp_path: Path
) -> None:
    pytester.makepyfile(REGISTRY_TEST)
    location = tmp_path / "reg"
    args = _give(pytester, monkeypatch, route, "ports_registry", str(location))
    result = pytester.runpytest("-p", "no:cacheprovider", "-s", *args)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([f"*REGISTRY {location / 'ports.lock'}"])
    assert (location / "ports.lock").exists()


@pytest.mark.parametrize("route", ROUTES)
def test_registry_off(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, route: str
) -> None:
    pytester.makepyfile(REGISTRY_TEST)
    args = _give(pytester, monkeypatch, route, "ports_registry", "off")
    gc.collect()  # earlier tests' garbage is not this in-process run's
    result = pytester.runpytest("-p", "no:cacheprovider", "-s", "-W", "error", *args)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*REGISTRY None"])


def test_unusable_registry_warns(pytester: pytest.Pytester, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    pytester.makepyfile(REGISTRY_TEST)
    result = pytester.runpytest("-p", "no:cacheprovider", f"--ports-registry={blocker}")
    result.assert_outcomes(passed=1, warnings=1)
    result.stdout.fnmatch_lines(
        ["*PortRegistryWarning: pytest-ports cannot use the port registry*"]
    )


# A stand-in for pytest-asyncio: a plugin that defines the same fixture names and is registered
# after the pytest-ports entry point (pytest_plugins in the root conftest loads after entry points).
def _fake_fixture(name: str) -> str:
    scope = '(scope="session")' if name.endswith("factory") else ""
    return f"@pytest.fixture{scope}\ndef {name}():\n    return 'fake'\n"


FAKE_PLUGIN = "import pytest\n" + "\n".join(map(_fake_fixture, FIXTURES))

OVERRIDE_TEST = f"""
def test_which({", ".join(FIXTURES)}):
    values = [{", ".join(FIXTURES)}]
    print("FAKE", sum(v == "fake" for v in values))
"""


@pytest.mark.parametrize(
    ("how", "expect"),
    [(None, "*FAKE 0"), ("cli", "*FAKE 6"), ("ini", "*FAKE 6"), ("env", "*FAKE 6")],
)
def test_our_fixtures_win_unless_turned_off(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, how: str | None, expect: str
) -> None:
    pytester.makepyfile(fakeasyncio=FAKE_PLUGIN)
    pytester.makeconftest("pytest_plugins = ['fakeasyncio']")
    pytester.makepyfile(OVERRIDE_TEST)
    pytester.syspathinsert()
    args = _give(pytester, monkeypatch, how, "ports_override", "false") if how else []
    result = pytester.runpytest("-p", "no:cacheprovider", "-s", *args)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([expect])


def test_conftest_fixtures_still_win(pytester: pytest.Pytester) -> None:
    pytester.makeconftest("import pytest\n@pytest.fixture\ndef unused_tcp_port():\n    return 7\n")
    pytester.makepyfile("def test_mine(unused_tcp_port):\n    assert unused_tcp_port == 7\n")
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_plugin_can_be_disabled(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_x(unused_tcp_port):\n    pass\n")
    result = pytester.runpytest("-p", "no:cacheprovider", "-p", "no:ports")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*fixture 'unused_tcp_port' not found*"])


def test_failure_names_the_pool(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        from dataclasses import replace
        from pytest_ports import PortFactory, release_port

        def test_busy(unused_tcp_socket, unused_tcp_port_factory):
            port = unused_tcp_socket.getsockname()[1]
            release_port(port)  # only the listening socket holds it now
            settings = replace(unused_tcp_port_factory.settings, port_range=(port, port))
            PortFactory("tcp", settings=settings)()
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*NoFreePortError: no free TCP port after * candidates*",
            "*pool: *-* (1 ports, configured)",
            "*held: * by this process*",
            "*saw: * x tcp *EADDRINUSE*",
        ]
    )


def test_factory_fixtures_accept_localhost(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import socket
        from pytest_ports import release_port

        def test_localhost(unused_tcp_port_factory, unused_udp_port_factory):
            ports = [unused_tcp_port_factory(host="localhost"),
                     unused_udp_port_factory(host="localhost")]
            with unused_tcp_port_factory.bind(host="localhost") as tcp:
                ports.append(tcp.getsockname()[1])
                with socket.create_connection(("localhost", ports[-1]), timeout=5):
                    tcp.accept()[0].close()
            assert len(set(ports)) == 3
            assert all(release_port(p) for p in ports)
        """
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)


# example.com is made to resolve to a public address without asking any resolver.
FAKE_DNS_CONFTEST = """
import socket
import pytest

@pytest.fixture(autouse=True)
def _fake_dns(monkeypatch):
    real = socket.getaddrinfo
    def getaddrinfo(host, *args, **kwargs):
        if host == "example.com":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", 0))]
        return real(host, *args, **kwargs)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
"""

FIX = "use 127.0.0.1, ::1 or a name that resolves only to them (localhost)"


@pytest.mark.parametrize("kind", ["tcp", "udp"])
@pytest.mark.parametrize(
    ("call", "message"),
    [
        ('(host="example.com")', f"(): host='example.com' is not a loopback address: {FIX}"),
        (
            '.bind(host="example.com")',
            f".bind(): host='example.com' is not a loopback address: {FIX}",
        ),
        ('(host="192.0.2.1")', "(): host='192.0.2.1' cannot be bound here (*): use an address *"),
        ('(family="ipv5")', "(): family='ipv5' is not one of 'auto', 'ipv4', 'ipv6', 'both'*"),
    ],
    ids=["name", "bind", "unbindable", "family"],
)
def test_a_bad_argument_fails_the_test_without_plugin_frames(
    pytester: pytest.Pytester, kind: str, call: str, message: str
) -> None:
    pytester.makeconftest(FAKE_DNS_CONFTEST)
    pytester.makepyfile(
        test_bad=f"def test_bad(unused_{kind}_port_factory):\n"
        f"    unused_{kind}_port_factory{call}\n"
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*_ test_bad _*",
            f"test_bad.py::test_bad: unused_{kind}_port_factory{message}",
            "*= short test summary info =*",
        ],
        consecutive=True,
    )
    result.stdout.no_fnmatch_line("*pytest_ports*")
    result.stdout.no_fnmatch_line("*During handling*")
