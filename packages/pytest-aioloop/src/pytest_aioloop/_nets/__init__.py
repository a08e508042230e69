"""The safety nets: what tests and async fixtures leave behind, and how it reaches the user.

``nets`` (the session's nets: who is watched, where findings go), ``leaks`` (tasks left
pending), ``errors`` (exceptions that reach a loop's exception handler), ``slow_callbacks``
(callbacks and task steps that hold the loop), ``findings`` (what was found, delivered as a
summary line, a warning or a failure), ``reporter`` (the terminal summary section),
``loop_hygiene`` (loops that tests install and leave open). Imports ``_run``, ``_loop`` and the
leaf parts.
"""
