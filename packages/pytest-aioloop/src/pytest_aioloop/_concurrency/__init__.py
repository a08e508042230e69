"""Async tests of one module or class running at the same time in one loop (opt-in).

``plugin`` (the hooks: which test joins a group, when a group drains, the summary),
``admission`` (which tests may run together, how many at once, and why others run alone),
``group`` (a group of running tests: setup, start, wait, report, teardown), ``calls`` (the call
strategy of a test in a group: started as a task, its outcome delivered later), ``running``
(one running test and its outcome), ``phases`` (a phase run and reported as pytest's runner
does), ``routing`` (output, logs and warnings of each running test to that test). Loaded only
when concurrency is on; the top of the part order.
"""
