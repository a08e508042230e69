"""Asyncio tests as pytest items: what collection adds, the plan, the life and call of a test.

``plan`` (what is decided about a test at its setup, including how its call runs),
``collection`` (fixtures a test needs from collection on, the auto-mode marker, one test per
loop factory), ``lifecycle`` (a test's loop and owner from setup to teardown, and its
findings), ``call`` (the call of a test that runs one after the other). Imports
``_session`` and the parts below it.
"""
