"""Test configuration for pytest-ports: the ``adversarial`` marker and its opt-in flag."""

from __future__ import annotations

import os
import socket
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from pathlib import Path

ADVERSARIAL_HELP = (
    "adversarial: a network-namespace scenario from issue 4 (unshare -rn); "
    "deselected unless --run-adversarial is given"
)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--run-adversarial",
        action="store_true",
        default=False,
        help="run the pytest-ports scenarios marked adversarial (Linux, needs unshare -rn)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", ADVERSARIAL_HELP)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--run-adversarial"):
        return
    selected: list[pytest.Item] = []
    deselected: list[pytest.Item] = []
    for item in items:
        (deselected if item.get_closest_marker("adversarial") else selected).append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = selected


@pytest.fixture(autouse=True)
def _clean_ports_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the caller's PYTEST_PORTS_* variables out of the tests."""
    for key in [k for k in os.environ if k.startswith("PYTEST_PORTS_")]:
        monkeypatch.delenv(key)


@pytest.fixture
def registry_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point plain functions and the plugin at a private registry directory."""
    path = tmp_path / "registry"
    monkeypatch.setenv("PYTEST_PORTS_REGISTRY", str(path))
    return path


#: Names the ``fake_dns`` fixture resolves, without asking any resolver (no network).
FAKE_NAMES: dict[str, list[str]] = {
    "example.com": ["93.184.216.34"],  # not loopback
    "mixed.test": ["127.0.0.1", "10.1.2.3"],  # loopback and not
    "dual.test": ["::1", "127.0.0.1"],
    "v4.test": ["127.0.0.1"],
    "v6.test": ["::1"],
}
#: A name the ``fake_dns`` fixture fails to resolve, as an unknown name does.
UNKNOWN_NAME = "unknown.test"


@pytest.fixture
def fake_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    """Resolve the names of ``FAKE_NAMES`` (and fail on ``UNKNOWN_NAME``) without a resolver."""
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host == UNKNOWN_NAME:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        if host not in FAKE_NAMES:
            return real(host, port, *args, **kwargs)
        return [
            (socket.AF_INET6, socket.SOCK_STREAM, 6, "", (a, 0, 0, 0))
            if ":" in a
            else (socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, 0))
            for a in FAKE_NAMES[host]
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
