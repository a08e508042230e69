"""The report-header line of the pytest-aiokit meta-package."""

from __future__ import annotations

import pytest

import pytest_aiokit
import pytest_aiokit.plugin
import pytest_aioloop
import pytest_ports

AIOLOOP = f"pytest-aioloop {pytest_aioloop.__version__}"
PORTS = f"pytest-ports {pytest_ports.__version__}"
PREFIX = f"aiokit {pytest_aiokit.__version__}:"


@pytest.fixture
def one_test(pytester: pytest.Pytester) -> pytest.Pytester:
    """Write a module with one passing synchronous test."""
    pytester.makepyfile("def test_nothing():\n    pass\n")
    return pytester


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param((), f"{PREFIX} {AIOLOOP} (active), {PORTS} (active)", id="both-active"),
        pytest.param(
            ("-p", "no:aioloop"),
            f"{PREFIX} {AIOLOOP} (disabled with -p no:aioloop), {PORTS} (active)",
            id="aioloop-disabled",
        ),
        pytest.param(
            ("-p", "no:ports"),
            f"{PREFIX} {AIOLOOP} (active), {PORTS} (disabled with -p no:ports)",
            id="ports-disabled",
        ),
        pytest.param(
            ("-p", "no:aioloop", "-p", "no:ports"),
            f"{PREFIX} {AIOLOOP} (disabled with -p no:aioloop), "
            f"{PORTS} (disabled with -p no:ports)",
            id="both-disabled",
        ),
    ],
)
def test_header_line(one_test: pytest.Pytester, args: tuple[str, ...], expected: str) -> None:
    result = one_test.runpytest(*args)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([expected])
    assert sum(line.startswith("aiokit ") for line in result.outlines) == 1


def test_header_absent_when_aiokit_disabled(one_test: pytest.Pytester) -> None:
    result = one_test.runpytest("-p", "no:aiokit")
    result.assert_outcomes(passed=1)
    result.stdout.no_fnmatch_line("aiokit *")


def test_header_says_not_loaded_without_autoload(
    one_test: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    result = one_test.runpytest("-p", "aiokit", "-p", "ports")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [f"{PREFIX} {AIOLOOP} (not loaded: enable with -p aioloop), {PORTS} (active)"]
    )


def test_header_reports_version_drift(
    one_test: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pytest_ports, "__version__", "9.9.9")
    result = one_test.runpytest()
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [f"{PREFIX} * pytest-ports 9.9.9 (active) (version mismatch with aiokit *: reinstall*"]
    )


def test_aiokit_registers_nothing_but_the_header(one_test: pytest.Pytester) -> None:
    # Every other fixture, marker and option comes from the two plugins' own entry points:
    # the same plugin set must be visible with aiokit disabled.
    with_aiokit = one_test.runpytest("--fixtures", "--markers")
    without = one_test.runpytest("--fixtures", "--markers", "-p", "no:aiokit")
    assert with_aiokit.ret == without.ret == pytest.ExitCode.OK
    assert "pytest_aiokit" not in with_aiokit.stdout.str()
    hooks = {name for name in vars(pytest_aiokit.plugin) if name.startswith("pytest_")}
    assert hooks == {"pytest_report_header"}
