"""pytest's global output capture, while tests' phases overlap in lanes (concurrency).

Why private: pytest captures a test's output in one global buffer per process, resumed for the
length of each phase and read at its end. Tests of a group set up and tear down in lanes that
take turns (``_concurrency.lanes``): a lane that pauses in the middle of its phase would leave
its text in that buffer, where the next phase to end would read it as its own, and the capture
resumed, so that pytest's own report lines would be captured too. pytest's capture manager (the
plugin registered as ``capturemanager``) has no public API for this; its
``read_global_capture()``, ``suspend_global_capture()`` and ``resume_global_capture()`` do it:
a pausing lane takes its text out and suspends the capture; when it resumes, the capture is
resumed and the text written back through ``sys.stdout``/``sys.stderr``, so pytest reads each
test's text at the end of that test's phase, in order. Where the manager or its methods have
gone, nothing is split: text may then show in another test's report.

The trace written when SIGTERM stops a run (``_items.traces``) also pauses the capture, to
reach the real stderr in the middle of a test's phase.
"""

from __future__ import annotations

import sys
from typing import Any

import pytest

#: pytest's capture manager, once found usable (``None``: no capture, or not usable).
_MANAGER = pytest.StashKey[Any]()


def _usable_manager(config: pytest.Config) -> Any:
    manager: Any = config.pluginmanager.get_plugin("capturemanager")
    if manager is None or not getattr(manager, "is_globally_capturing", lambda: False)():
        return None
    if not all(
        hasattr(manager, name)
        for name in ("read_global_capture", "suspend_global_capture", "resume_global_capture")
    ):  # pragma: no cover - pytest changed
        return None
    return manager


def _manager(config: pytest.Config) -> Any:
    stash = config.stash
    if _MANAGER in stash:
        manager = stash[_MANAGER]
    else:
        manager = stash[_MANAGER] = _usable_manager(config)
    if manager is None or getattr(manager, "_global_capturing", None) is None:
        return None  # no capture; or not started, or stopped
    return manager


def pause(config: pytest.Config) -> tuple[str, str]:
    """Take what the pausing phase wrote out of the capture, and suspend it: ``(out, err)``."""
    manager = _manager(config)
    if manager is None:
        return "", ""
    out, err = manager.read_global_capture()
    manager.suspend_global_capture(in_=False)
    return out, err


def resume(config: pytest.Config, out: str, err: str) -> None:
    """Resume the capture for a phase that goes on, with the text it wrote before pausing."""
    manager = _manager(config)
    if manager is None:
        return
    manager.resume_global_capture()
    if out:
        sys.stdout.write(out)
    if err:
        sys.stderr.write(err)
