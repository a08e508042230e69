"""Running coroutines of tests and fixtures: the runner, ownership, timeouts, the watchdog.

``runner`` (one interface that runs a test's coroutine, a fixture's steps, and starts a test
as a task), ``owners`` (who owns a task: the test or fixture whose task tree made it),
``timeouts`` (drive a task within its timeout and fail it cleanly), ``watchdog`` (the thread
that interrupts synchronous code blocking the loop), ``stacks`` (await chains, stacks and
source locations for reports). Imports ``_loop`` and the leaf parts only.
"""
