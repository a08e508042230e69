"""Every access to private pytest, xdist, asyncio and CPython internals, each with its reason.

Everything else in pytest-aioloop uses public APIs only. Each function here documents why no
public API serves, and degrades gracefully where the private attribute has gone. The modules:

- ``pytest_internals``: fixture definitions and their functions, the test function, its
  parameters and fixture names, pytest's own option names, historic warning records;
- ``setup_stack``: pytest's setup stack and fixture caches, which concurrent tests share;
- ``xdist``: pytest-xdist's worker, which must report tests that run concurrently;
- ``asyncio_internals``: the current loop without creating one, task and handle contexts,
  policies, what a loop still holds;
- ``frames``: the frame another thread is running (the watchdog's view of the main thread);
- ``unawaited``: CPython's "coroutine ... was never awaited" hook, routed while the tests run;
- ``lazy_asyncio``: ``asyncio`` imported on first use (no private access; a leaf every part uses).

The tests in ``tests/aioloop/test_compat_internals.py`` exercise each function on every pytest of
the matrix (the unawaited hook: ``tests/aioloop/test_unawaited.py``, on every Python).
"""
