"""Shared configuration of the aiokit test suite.

``pytester`` is enabled for every test through ``-p pytester`` in the root pyproject's
``addopts``, so nothing needs to be declared here. Keep this file small: every directory's own
helpers live in that directory.
"""

import gc

# Imported here, before any in-process pytester run snapshots ``sys.modules``: otherwise each
# inner run imports Hypothesis afresh and pytest rewrites its ~70 modules every time (the
# rewrite cache is not written where PYTHONDONTWRITEBYTECODE is set), ~0.5 s per run.
import hypothesis  # noqa: F401

# Every in-process pytester run ends with full garbage collections (pytest's unraisable-
# exception plugin collects several times; pytest 8.4.0 five times), which traverse the whole
# heap of this process: with Hypothesis and the plugins imported, ~0.2 s per run on 3.10.
# Freezing what is alive now leaves those collections only the objects tests create.
gc.freeze()
