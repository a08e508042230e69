"""Event loops: which loop each test and fixture runs in, making and closing loops.

``kinds`` (which loop: scoped, shared or a user's ``event_loop``), ``chooser`` (the rules that
pick a kind for a test or fixture), ``manager`` (the session's loops: create, share, close),
``factories`` (the loop-factories hook and ``asyncio_loop_factory``), ``policy`` (a user's
``event_loop_policy`` override and what makes a test's loops). Imports only the leaf parts.
"""
