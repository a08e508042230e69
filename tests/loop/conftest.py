"""The suites under ``suites/`` are data for the tests here, never collected directly."""

from __future__ import annotations

collect_ignore_glob = ["suites/*"]
