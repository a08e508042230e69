"""The suites here are data for the tests beside this file, never collected directly.

``eras/`` holds suites written for each pytest-asyncio era, ``conformance/`` a suite run with
concurrency off and on, ``oracle/`` runs pytest-asyncio's own suites (``nox -s oracle``).
"""

from __future__ import annotations

collect_ignore_glob = ["eras/*", "conformance/*", "oracle/*"]
