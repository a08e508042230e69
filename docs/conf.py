"""Sphinx configuration of the aiokit documentation (``nox -s docs``)."""

from __future__ import annotations

import logging
import pathlib
import sys

HERE = pathlib.Path(__file__).parent
sys.path.insert(0, str(HERE / "_ext"))

from pytest_aiokit import __version__  # noqa: E402

project = "aiokit"
author = "The aiokit developers"
copyright = "the aiokit developers"
version = release = __version__

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "pytest_reference",
]
source_suffix = {".md": "markdown"}
exclude_patterns = ["_build", "examples", "Thumbs.db", ".DS_Store"]
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3


class _QuietMyst(logging.Filter):
    """Drop MyST's informational print-out of its whole configuration; keep its warnings."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING


# Sphinx's loggers are named "sphinx." + the module; this one logs nothing else at INFO level.
logging.getLogger("sphinx.myst_parser.sphinx_ext.main").addFilter(_QuietMyst())

html_theme = "furo"
html_title = f"aiokit {release}"

autodoc_member_order = "bysource"
autodoc_typehints = "description"
napoleon_google_docstring = True
napoleon_numpy_docstring = False

# Types from pytest, pluggy and the standard library have no inventory here (the build runs
# offline), so references to them are not checked.
nitpick_ignore_regex = [
    (r"py:.*", r"(pytest|_pytest|pluggy|asyncio|socket|contextvars|collections|typing|types)\..*"),
    # Type variables and helpers of private modules have no page of their own.
    (r"py:.*", r"pytest_\w+\._\w+\..*"),
    (r"py:.*", r"(Any|Callable|Iterator|Mapping|Sequence|Iterable|Awaitable|Coroutine|T)"),
]
# A how-to or concepts folder may be empty while its pages are being written.
suppress_warnings = ["toc.empty_glob"]
