"""The table of pytest-aioloop's options: each one's ini name, flag, value shape and help text.

``_settings.options`` registers them with pytest and reads their values into ``Settings``; the
docs' reference is generated from :data:`OPTIONS`.
"""

from __future__ import annotations

from typing import Literal


class Option:
    """One setting: its ini name, command-line flag, value shape and help text.

    (Plain classes, not dataclasses, throughout the plugin: a dataclass costs start-up time.)
    """

    __slots__ = ("default", "flag", "help", "ini", "kind", "metavar")

    def __init__(
        self,
        ini: str,
        flag: str,
        metavar: str | None,
        help: str,
        default: str | None,
        *,
        kind: Literal["string", "bool"] = "string",
    ) -> None:
        self.ini = ini
        self.flag = flag
        self.metavar = metavar
        self.help = help
        self.default = default
        #: ``bool`` options are flags on the command line.
        self.kind = kind

    def __repr__(self) -> str:
        return f"Option({self.ini!r}, {self.flag!r})"


OPTIONS: tuple[Option, ...] = (
    Option(
        "asyncio_mode",
        "--asyncio-mode",
        "MODE",
        "Which async tests and fixtures pytest-aioloop runs: strict (default) takes tests marked "
        "@pytest.mark.asyncio and fixtures made with @pytest_aioloop.fixture; auto takes every "
        "coroutine test and every async fixture.",
        "strict",
    ),
    Option(
        "asyncio_debug",
        "--asyncio-debug",
        None,
        "Run every event loop in asyncio's debug mode (default: false).",
        "false",
        kind="bool",
    ),
    Option(
        "asyncio_default_fixture_loop_scope",
        "--asyncio-default-fixture-loop-scope",
        "SCOPE",
        "Loop scope of async fixtures without loop_scope: function, class, module, package, "
        "session, or fixture-scope (the fixture's own scope). Unset (default, recommended): a "
        "fixture runs in a loop that lives as long as it and that its dependants share.",
        None,
    ),
    Option(
        "asyncio_default_test_loop_scope",
        "--asyncio-default-test-loop-scope",
        "SCOPE",
        "Loop scope of asyncio tests that have no loop_scope and use no async fixture: "
        "function (default), class, module, package or session.",
        "function",
    ),
    Option(
        "asyncio_timeout",
        "--asyncio-timeout",
        "SECONDS",
        "Seconds after which an async test, and separately each async fixture's setup and "
        "teardown, is cancelled and fails; 0 turns timeouts off (default).",
        "0",
    ),
    Option(
        "asyncio_leaked_tasks",
        "--asyncio-leaked-tasks",
        "ACTION",
        "What to do with tasks a test or async fixture leaves pending: report (default: list "
        "them in the summary), warn, error (fail the test) or ignore.",
        "report",
    ),
    Option(
        "asyncio_unhandled_errors",
        "--asyncio-unhandled-errors",
        "ACTION",
        "What to do with exceptions that reach the event loop's exception handler: report "
        "(default: list them in the summary), warn, error (fail the test) or ignore.",
        "report",
    ),
    Option(
        "asyncio_slow_callback",
        "--asyncio-slow-callback",
        "SECONDS",
        "Report callbacks and task steps that hold the event loop longer than this during a "
        "test's call; 0 turns this off (default).",
        "0",
    ),
    Option(
        "asyncio_slow_callback_action",
        "--asyncio-slow-callback-action",
        "ACTION",
        "What to do with a slow callback when asyncio_slow_callback is set: report (default), "
        "warn or error.",
        "report",
    ),
    Option(
        "asyncio_unawaited",
        "--asyncio-unawaited",
        "ACTION",
        "What to do with a coroutine that was never awaited, found after the test that created "
        "it: report (default: list it in the summary under that test), warn (a warning for "
        "that test), error (fail the run, naming that test) or ignore (Python's own warning, "
        "in whichever test it is found). The test running when it is found is never failed "
        "for it.",
        "report",
    ),
    Option(
        "asyncio_virtual_time",
        "--asyncio-virtual-time",
        None,
        "Run the calls of async tests in virtual time: the loop's clock jumps to its next timer "
        "when nothing else is to be done, so sleeps and timeouts take no real time (default: "
        "false). A test's virtual_time= marker argument wins; a test that asks for the "
        "virtual_clock fixture runs in virtual time.",
        "false",
        kind="bool",
    ),
    Option(
        "asyncio_stall_report",
        "--asyncio-stall-report",
        "SECONDS",
        "When no test has finished for this long, write the tests running, where the main "
        "thread is and every event loop's tasks with their await chains to stderr and to a file "
        "in pytest's cache (once per stall; the run goes on); 0 turns it off (default).",
        "0",
    ),
    Option(
        "asyncio_loop_factory",
        "--asyncio-loop-factory",
        "FACTORY",
        "The event loop that tests and async fixtures run in: asyncio (default), uvloop, "
        "winloop, or module:function for a function that returns a new loop. The "
        "pytest_asyncio_loop_factories hook, for the tests it returns factories for, and a "
        "user-defined event_loop_policy take precedence.",
        "asyncio",
    ),
    Option(
        "asyncio_concurrency",
        "--asyncio-concurrency",
        "N",
        "How many async tests may run at the same time, in one event loop: those of a module "
        "or class, joined by the next module's while nothing of theirs needs tearing down; 1 "
        "(default) runs them one after the other. Tests that use process-wide state "
        "(monkeypatch, capsys, caplog, ...) still run alone.",
        "1",
    ),
    Option(
        "asyncio_concurrency_conflicts",
        "--asyncio-concurrency-conflicts",
        "ACTION",
        "What becomes of a test that fails while other tests run beside it, and passes when it "
        "runs again alone (a concurrency conflict): rerun (default: it is reported as it runs "
        "alone, the summary lists it, and it runs alone from the next run on), fail (it is "
        "reported as failed), or off (a test that fails beside others is reported so, without "
        "running it again).",
        "rerun",
    ),
    Option(
        "asyncio_concurrency_stall",
        "--asyncio-concurrency-stall",
        "SECONDS",
        "When tests running together make no progress for this long (none ends, no setup or "
        "teardown goes on), they are cancelled, named with where each waited, and run again "
        "alone; 0 turns it off. Default: 60.",
        "60",
    ),
    Option(
        "asyncio_concurrency_report",
        "--asyncio-concurrency-report",
        None,
        "With concurrency on, add a report to the terminal summary: per module, how many async "
        "tests ran together, which ran alone and why, which conflicted and with whom, and the "
        "time saved (default: false).",
        "false",
        kind="bool",
    ),
    Option(
        "asyncio_loop_scope_mismatch",
        "--asyncio-loop-scope-mismatch",
        "ACTION",
        "When a test pinned to one loop scope uses an async fixture that runs in another loop: "
        "explain (default: run each in its loop, and explain a 'different loop' failure) or "
        "error (fail the test at setup).",
        "explain",
    ),
)
