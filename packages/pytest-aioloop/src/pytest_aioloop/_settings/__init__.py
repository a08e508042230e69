"""What the user configures: options and their validated settings, the marker, the decorator.

``options`` (every ini option with its command-line twin, and the session's ``Settings``),
``marker`` (``@pytest.mark.asyncio`` and its arguments), ``fixture`` (``pytest_aioloop.fixture``
and the options it records), ``scopes`` (the loop scopes and their order). A leaf part: it
imports nothing else of pytest-aioloop.
"""
