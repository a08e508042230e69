"""looptime's engine on pytest-aioloop's loops, off until a test turns it on.

Why private: looptime's own pytest plugin patches each loop when it is made, with its engine
off (``patch_event_loop(loop, _enabled=False)``, a keyword its public functions do not
document), and turns it on for a test's call with ``looptime_enabled()``. Its public
``patch_event_loop(loop)`` turns the engine on for good, which would put every later test
sharing the loop in looptime's time. pytest-aioloop keeps looptime's plugin out of the run and
does its job (``_items.looptime``), so it patches loops the same way. Where the keyword has
gone, the loop is left unpatched and the test's call patches it on (``patch_on``).
"""

from __future__ import annotations

from typing import Any

__all__ = ["patch_off", "patch_on"]


def patch_off(looptime: Any, loop: Any) -> None:
    """Make ``loop`` ready for looptime with its engine off (real time until a test)."""
    try:
        looptime.patch_event_loop(loop, _enabled=False)
    except TypeError:  # pragma: no cover - looptime changed: patched at the call instead
        return


def patch_on(looptime: Any, loop: Any, options: dict[str, Any]) -> Any:
    """Return ``loop`` ready for looptime with ``options``, its engine still off.

    Where it was not patched when made, it is patched now (as :func:`patch_off` does).
    """
    if not isinstance(loop, looptime.LoopTimeEventLoop):
        patch_off(looptime, loop)
    if isinstance(loop, looptime.LoopTimeEventLoop):
        loop.setup_looptime(**options)
        return loop
    return None
