"""Command-line and ini options of pytest-aioloop, and the frozen settings read from them.

Every option is an ini option with a command-line twin (the command line wins); both show
one help text. Bad values raise a ``pytest.UsageError`` that names the option and its valid
values; where pytest-asyncio has the same option, the first line is pytest-asyncio's sentence.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import pytest

from pytest_aioloop._settings import SCOPES, Scope
from pytest_aioloop._settings.table import OPTIONS

MODES = ("auto", "strict")
#: What a net does with what it finds.
NET_ACTIONS = ("report", "warn", "error", "ignore")
MISMATCH_ACTIONS = ("explain", "error")
GROUP = "aioloop"


def add_options(parser: pytest.Parser, *, taken: Collection[str] = ()) -> None:
    """Register every option; an ini option and its command-line twin share one help text.

    ``taken`` lists flags another plugin (pytest-asyncio, loaded first) already registered:
    they are not added again, and their values are read through the same ``dest``.
    """
    group = parser.getgroup(GROUP, "asyncio (pytest-aioloop)")
    for option in OPTIONS:
        if option.flag not in taken:
            cli_help = f"{option.help} Ini: {option.ini}."
            if option.kind == "bool":
                group.addoption(
                    option.flag, dest=option.ini, action="store_true", default=None, help=cli_help
                )
            else:
                group.addoption(option.flag, dest=option.ini, metavar=option.metavar, help=cli_help)
        parser.addini(
            option.ini, f"{option.help} Command line: {option.flag}.", default=option.default
        )


class Settings:
    """Every option's value, validated once per session."""

    __slots__ = _FIELDS = (
        "concurrency",
        "concurrency_conflicts",
        "concurrency_report",
        "concurrency_stall",
        "debug",
        "default_fixture_loop_scope",
        "default_test_loop_scope",
        "leaked_tasks",
        "loop_factory",
        "loop_scope_mismatch",
        "mode",
        "slow_callback",
        "slow_callback_action",
        "stall_report",
        "timeout",
        "unawaited",
        "unhandled_errors",
        "virtual_time",
    )

    def __init__(
        self,
        *,
        mode: str,
        debug: bool,
        default_fixture_loop_scope: str | None,
        default_test_loop_scope: Scope,
        timeout: float | None,
        leaked_tasks: str,
        unhandled_errors: str,
        slow_callback: float | None,
        slow_callback_action: str,
        loop_scope_mismatch: str = "explain",
        concurrency: int = 1,
        loop_factory: str = "asyncio",
        concurrency_conflicts: str = "rerun",
        concurrency_stall: float | None = 60.0,
        concurrency_report: bool = False,
        unawaited: str = "report",
        stall_report: float | None = None,
        virtual_time: bool = False,
    ) -> None:
        self.mode = mode
        self.debug = debug
        self.default_fixture_loop_scope = default_fixture_loop_scope
        self.default_test_loop_scope: Scope = default_test_loop_scope
        #: Seconds (``None``: no timeout).
        self.timeout = timeout
        #: The leaked-task net's action: report, warn, error or ignore.
        self.leaked_tasks = leaked_tasks
        #: The unhandled-error net's action: report, warn, error or ignore.
        self.unhandled_errors = unhandled_errors
        #: The slow-callback threshold in seconds (``None``: not watched).
        self.slow_callback = slow_callback
        #: What the slow-callback net does with one: report, warn or error.
        self.slow_callback_action = slow_callback_action
        self.loop_scope_mismatch = loop_scope_mismatch
        self.concurrency = concurrency
        self.loop_factory = loop_factory
        #: What a concurrency conflict is reported as: ``rerun`` (its run alone) or ``fail``.
        self.concurrency_conflicts = concurrency_conflicts
        #: Seconds without progress after which a group's tests are cancelled (``None``: off).
        self.concurrency_stall = concurrency_stall
        #: Whether the concurrency report is written in the terminal summary.
        self.concurrency_report = concurrency_report
        #: The unawaited-coroutine net's action: report, warn, error or ignore.
        self.unawaited = unawaited
        #: Seconds without a test finishing after which a trace is written (``None``: off).
        self.stall_report = stall_report
        #: Whether async tests' calls run in virtual time (see ``_loop.virtual_time``).
        self.virtual_time = virtual_time

    @property
    def auto(self) -> bool:
        """Whether auto mode is on."""
        return self.mode == "auto"

    def replace(self, **changes: Any) -> Settings:
        """Return a copy with ``changes``."""
        values = {name: getattr(self, name) for name in self._FIELDS}
        return Settings(**{**values, **changes})

    def __repr__(self) -> str:
        values = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._FIELDS)
        return f"Settings({values})"


def _value(config: pytest.Config, name: str) -> object:
    cli = config.getoption(name, None)
    return cli if cli is not None else config.getini(name)


def _one_of(
    name: str,
    value: object,
    valid: tuple[str, ...],
    *,
    listing: str = "Valid values:",
    shown: tuple[str, ...] | None = None,
) -> str:
    """Return ``value`` if it is one of ``valid``; else raise a ``UsageError`` naming ``name``.

    The message lists ``shown`` (default: ``valid``) after ``listing``, pytest-asyncio's words
    for the options it shares; an option with more valid values than it shows adds a hint.
    """
    text = str(value).strip()
    if text not in valid:
        values = ", ".join(valid if shown is None else shown)
        raise pytest.UsageError(
            f"{text!r} is not a valid {name}. {listing} {values}." + _HINTS.get(name, "")
        )
    return text


_SCOPES_LISTING = "Valid scopes are:"
_MODES_LISTING = "Valid modes:"


_HINTS = {
    "asyncio_default_fixture_loop_scope": (
        "\nAlso valid: fixture-scope (each fixture's own scope). Leave it unset to let each "
        "async fixture run in a loop that lives as long as it does."
    ),
    "asyncio_mode": "\nSet it in the ini file (asyncio_mode = auto) or with --asyncio-mode=auto.",
}

_TRUE = ("1", "true", "yes", "on", "y", "t")
_FALSE = ("0", "false", "no", "off", "n", "f", "")


def _flag(name: str, value: object) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise pytest.UsageError(
        f"{str(value)!r} is not a valid {name}. Valid values: true or false "
        "(also 1/0, yes/no, on/off)."
    )


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
    fixture_scope = _value(config, "asyncio_default_fixture_loop_scope")
    test_scope = _value(config, "asyncio_default_test_loop_scope")
    return Settings(
        mode=_one_of("asyncio_mode", _value(config, "asyncio_mode"), MODES, listing=_MODES_LISTING),
        debug=_flag("asyncio_debug", _value(config, "asyncio_debug")),
        default_fixture_loop_scope=(
            _one_of(
                "asyncio_default_fixture_loop_scope",
                fixture_scope,
                (*SCOPES, "fixture-scope"),
                listing=_SCOPES_LISTING,
                shown=SCOPES,
            )
            if fixture_scope
            else None
        ),
        default_test_loop_scope=_one_of(  # type: ignore[arg-type]
            "asyncio_default_test_loop_scope",
            test_scope or "function",
            SCOPES,
            listing=_SCOPES_LISTING,
        ),
        timeout=parse_seconds("asyncio_timeout", _value(config, "asyncio_timeout")),
        leaked_tasks=_one_of(
            "asyncio_leaked_tasks", _value(config, "asyncio_leaked_tasks"), NET_ACTIONS
        ),
        unhandled_errors=_one_of(
            "asyncio_unhandled_errors", _value(config, "asyncio_unhandled_errors"), NET_ACTIONS
        ),
        slow_callback=parse_seconds(
            "asyncio_slow_callback", _value(config, "asyncio_slow_callback")
        ),
        slow_callback_action=_one_of(
            "asyncio_slow_callback_action",
            _value(config, "asyncio_slow_callback_action"),
            ("report", "warn", "error"),
        ),
        loop_scope_mismatch=_one_of(
            "asyncio_loop_scope_mismatch",
            _value(config, "asyncio_loop_scope_mismatch"),
            MISMATCH_ACTIONS,
        ),
        concurrency=parse_count("asyncio_concurrency", _value(config, "asyncio_concurrency")),
        loop_factory=str(_value(config, "asyncio_loop_factory") or "asyncio").strip(),
        concurrency_conflicts=_one_of(
            "asyncio_concurrency_conflicts",
            _value(config, "asyncio_concurrency_conflicts"),
            ("rerun", "fail", "off"),
        ),
        concurrency_stall=parse_seconds(
            "asyncio_concurrency_stall", _value(config, "asyncio_concurrency_stall")
        ),
        concurrency_report=_flag(
            "asyncio_concurrency_report", _value(config, "asyncio_concurrency_report")
        ),
        unawaited=_one_of("asyncio_unawaited", _value(config, "asyncio_unawaited"), NET_ACTIONS),
        stall_report=parse_seconds("asyncio_stall_report", _value(config, "asyncio_stall_report")),
        virtual_time=_flag("asyncio_virtual_time", _value(config, "asyncio_virtual_time")),
    )


def parse_count(name: str, value: object) -> int:
    """Parse a whole number of tests, 1 or more."""
    text = str(value).strip() if value is not None else "1"
    if not text.isdigit() or int(text) < 1:
        raise pytest.UsageError(
            f"{value!r} is not a valid {name}: give a whole number of tests, 1 or more (1 runs "
            "tests one after the other)."
        )
    return int(text)
