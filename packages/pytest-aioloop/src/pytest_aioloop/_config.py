"""Command-line and ini options of pytest-aioloop, and the frozen settings read from them."""

from __future__ import annotations

import dataclasses
from typing import Literal

import pytest

Scope = Literal["function", "class", "module", "package", "session"]
SCOPES: tuple[Scope, ...] = ("function", "class", "module", "package", "session")
#: Wider scopes have higher ranks.
RANK: dict[str, int] = {name: i for i, name in enumerate(SCOPES)}
MODES = ("strict", "auto")
NET_ACTIONS = ("warn", "error", "ignore")

HELP_MODE = (
    "which async tests and fixtures pytest-aioloop runs: 'strict' (default) takes only tests "
    "marked @pytest.mark.asyncio and fixtures made with @pytest_aioloop.fixture; 'auto' takes "
    "every coroutine test and every async fixture."
)
HELP_DEBUG = "run every event loop in asyncio debug mode."
HELP_FIXTURE_SCOPE = (
    "default loop scope of async fixtures without loop_scope: function, class, module, package, "
    "session, or fixture-scope (the fixture's own scope). Unset (recommended): a fixture runs in "
    "a loop that lives at least as long as the fixture and that its dependants share."
)
HELP_TEST_SCOPE = (
    "default loop scope of asyncio tests that use no async fixture and have no loop_scope: "
    "function (default), class, module, package or session."
)
HELP_TIMEOUT = (
    "seconds after which an async test, and separately each async fixture's setup and "
    "teardown, is cancelled and fails; 0 disables (default)."
)
HELP_LEAKS = "what to do with tasks a test leaves pending: warn (default), error or ignore."
HELP_ERRORS = (
    "what to do with exceptions that reach the loop's exception handler during a test: "
    "warn (default), error or ignore."
)
HELP_SLOW = (
    "report callbacks or task steps that hold the loop longer than this many seconds during a "
    "test; 0 disables (default)."
)
HELP_SLOW_ACTION = (
    "what to do with a slow callback when asyncio_slow_callback is set: warn or error."
)


def add_options(parser: pytest.Parser) -> None:
    """Register every option; each ini option and its command-line twin share one help text."""
    group = parser.getgroup("aioloop", "asyncio (pytest-aioloop)")
    group.addoption("--asyncio-mode", dest="asyncio_mode", metavar="MODE", help=HELP_MODE)
    parser.addini("asyncio_mode", HELP_MODE, default="strict")
    group.addoption(
        "--asyncio-debug", dest="asyncio_debug", action="store_true", default=None, help=HELP_DEBUG
    )
    parser.addini("asyncio_debug", HELP_DEBUG, type="bool", default=False)
    parser.addini("asyncio_default_fixture_loop_scope", HELP_FIXTURE_SCOPE, default=None)
    parser.addini("asyncio_default_test_loop_scope", HELP_TEST_SCOPE, default="function")
    group.addoption(
        "--asyncio-timeout", dest="asyncio_timeout", metavar="SECONDS", help=HELP_TIMEOUT
    )
    parser.addini("asyncio_timeout", HELP_TIMEOUT, default="0")
    parser.addini("asyncio_leaked_tasks", HELP_LEAKS, default="warn")
    parser.addini("asyncio_unhandled_errors", HELP_ERRORS, default="warn")
    group.addoption(
        "--asyncio-slow-callback", dest="asyncio_slow_callback", metavar="SECONDS", help=HELP_SLOW
    )
    parser.addini("asyncio_slow_callback", HELP_SLOW, default="0")
    parser.addini("asyncio_slow_callback_action", HELP_SLOW_ACTION, default="warn")


@dataclasses.dataclass(frozen=True)
class Settings:
    """Every option's value, validated once per session."""

    mode: str
    debug: bool
    default_fixture_loop_scope: str | None
    default_test_loop_scope: Scope
    timeout: float | None
    leaked_tasks: str
    unhandled_errors: str
    slow_callback: float | None
    slow_callback_action: str

    @property
    def auto(self) -> bool:
        """Whether auto mode is on."""
        return self.mode == "auto"


def _choice(name: str, value: object, valid: tuple[str, ...]) -> str:
    text = str(value).strip()
    if text not in valid:
        raise pytest.UsageError(
            f"{text!r} is not a valid {name}. Valid values: {', '.join(valid)}."
        )
    return text


def parse_seconds(name: str, value: object) -> float | None:
    """Parse a number of seconds; ``0``, empty and ``None`` mean off."""
    if value is None or str(value).strip() in ("", "0", "none", "None"):
        return None
    try:
        seconds = float(str(value))
    except ValueError:
        raise pytest.UsageError(
            f"{value!r} is not a valid {name}: give a number of seconds, or 0 to turn it off."
        ) from None
    if not seconds >= 0:  # negative or NaN
        raise pytest.UsageError(f"{value!r} is not a valid {name}: it must be 0 or more seconds.")
    return seconds or None


def read_settings(config: pytest.Config) -> Settings:
    """Read and validate every option (command line over ini); raise ``pytest.UsageError``."""
    mode = config.getoption("asyncio_mode") or config.getini("asyncio_mode")
    debug_opt = config.getoption("asyncio_debug")
    debug = bool(debug_opt) if debug_opt is not None else bool(config.getini("asyncio_debug"))
    fixture_scope = config.getini("asyncio_default_fixture_loop_scope")
    test_scope = config.getini("asyncio_default_test_loop_scope")
    timeout_opt = config.getoption("asyncio_timeout")
    slow_opt = config.getoption("asyncio_slow_callback")
    return Settings(
        mode=_choice("asyncio_mode", mode, MODES),
        debug=debug,
        default_fixture_loop_scope=(
            _choice("asyncio_default_fixture_loop_scope", fixture_scope, (*SCOPES, "fixture-scope"))
            if fixture_scope
            else None
        ),
        default_test_loop_scope=_choice(  # type: ignore[arg-type]
            "asyncio_default_test_loop_scope", test_scope or "function", SCOPES
        ),
        timeout=parse_seconds(
            "asyncio_timeout",
            timeout_opt if timeout_opt is not None else config.getini("asyncio_timeout"),
        ),
        leaked_tasks=_choice(
            "asyncio_leaked_tasks", config.getini("asyncio_leaked_tasks"), NET_ACTIONS
        ),
        unhandled_errors=_choice(
            "asyncio_unhandled_errors", config.getini("asyncio_unhandled_errors"), NET_ACTIONS
        ),
        slow_callback=parse_seconds(
            "asyncio_slow_callback",
            slow_opt if slow_opt is not None else config.getini("asyncio_slow_callback"),
        ),
        slow_callback_action=_choice(
            "asyncio_slow_callback_action",
            config.getini("asyncio_slow_callback_action"),
            ("warn", "error"),
        ),
    )
