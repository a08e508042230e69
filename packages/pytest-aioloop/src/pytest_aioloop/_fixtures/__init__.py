"""Fixtures: pytest-aioloop's own, users' async fixtures run in their loop, users' event loops.

``setup`` (what happens around pytest's setup of each fixture), ``wrapper`` (the function pytest
calls instead of an async fixture's), ``builtin`` (``event_loop``, ``event_loop_policy``),
``user_event_loop`` (pytest-asyncio 0.21-style ``event_loop`` fixtures of the user's). Imports
``_items`` and the parts below it.
"""
