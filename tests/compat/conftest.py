"""The suites under ``suites/`` are data for ``test_compat.py``, never collected directly."""

from __future__ import annotations

collect_ignore_glob = ["suites/*"]
