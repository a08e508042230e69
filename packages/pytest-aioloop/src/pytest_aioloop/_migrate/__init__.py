"""``python -m pytest_aioloop migrate``: rewrite a project from pytest-asyncio to pytest-aioloop.

``command`` (the command: which files, in what order, what it says), ``files`` (finding and
reading files), ``names`` (what is renamed to what), ``edits`` (the changes to one file's text),
``tokens`` (Python source as tokens), ``python`` (Python files), ``requirements`` (a requirement
wherever it is written, and requirements files), ``toml_config`` and ``ini_config``
(configuration files), ``toml_locator`` (where keys and strings are in a TOML document),
``distribution`` (pytest-aioloop or pytest-aiokit). Only the standard library: imported only by
``pytest_aioloop.__main__``, never by the plugin.
"""
