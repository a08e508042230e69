"""Do scenario 7's work with asyncio alone, no pytest: the least any plugin's run of it costs.

Run as a script in the floor's interpreter::

    python bench/_asyncio_io.py TESTS DELAY ROUND_TRIPS AT_ONCE
    python bench/_asyncio_io.py fixtures TESTS WAIT BODY AT_ONCE

The first starts the same local server as the I/O-bound suite (it answers each line after
``DELAY`` seconds), then ``TESTS`` times opens a connection, makes ``ROUND_TRIPS`` round trips
and closes it, ``AT_ONCE`` of those at a time, all in one loop. The second does the work of the
suite that waits in its fixtures: ``TESTS`` times waits ``WAIT`` seconds (the fixture's setup),
``BODY`` seconds (the test) and ``WAIT`` seconds again (the fixture's teardown), each in a task
of its own as a plugin runs them, ``AT_ONCE`` of those at a time. Each prints the seconds this
took inside the process (interpreter start-up not), because the sync floor it is added to
already pays for one interpreter start-up.
"""

from __future__ import annotations

import asyncio
import sys
import time


async def _answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float) -> None:
    while line := await reader.readline():
        if delay:
            await asyncio.sleep(delay)
        writer.write(line)
        await writer.drain()
    writer.close()


async def _one(port: int, i: int, round_trips: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    for step in range(round_trips):
        line = b"%d.%d\n" % (i, step)
        writer.write(line)
        if await reader.readline() != line:
            raise AssertionError(f"connection {i}: wrong answer")
    writer.close()
    await writer.wait_closed()


async def _work(tests: int, delay: float, round_trips: int, at_once: int) -> None:
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _answer(reader, writer, delay)

    # The suite's backlog, for the same reason: a full backlog would measure the kernel.
    server = await asyncio.start_server(answer, "127.0.0.1", 0, backlog=1024)
    port = server.sockets[0].getsockname()[1]
    slots = asyncio.Semaphore(at_once)

    async def bounded(i: int) -> None:
        async with slots:
            await _one(port, i, round_trips)

    await asyncio.gather(*(bounded(i) for i in range(tests)))
    server.close()
    await server.wait_closed()


def measure(tests: int, delay: float, round_trips: int, at_once: int) -> float:
    """Return the seconds the work took in this process."""
    start = time.perf_counter()
    asyncio.run(_work(tests, delay, round_trips, at_once))
    return time.perf_counter() - start


async def _fixture_work(tests: int, wait: float, body: float, at_once: int) -> None:
    slots = asyncio.Semaphore(at_once)
    loop = asyncio.get_running_loop()

    async def bounded() -> None:
        async with slots:
            for seconds in (wait, body, wait):  # setup, call, teardown: a task each
                await loop.create_task(asyncio.sleep(seconds))

    await asyncio.gather(*(bounded() for _ in range(tests)))


def measure_fixtures(tests: int, wait: float, body: float, at_once: int) -> float:
    """Return the seconds the fixture-waiting suite's work took in this process."""
    start = time.perf_counter()
    asyncio.run(_fixture_work(tests, wait, body, at_once))
    return time.perf_counter() - start


if __name__ == "__main__":
    if sys.argv[1] == "fixtures":
        tests, wait, body, at_once = sys.argv[2:6]
        seconds = measure_fixtures(int(tests), float(wait), float(body), int(at_once))
    else:
        tests, delay, round_trips, at_once = sys.argv[1:5]
        seconds = measure(int(tests), float(delay), int(round_trips), int(at_once))
    print(f"{seconds:.6f}")
