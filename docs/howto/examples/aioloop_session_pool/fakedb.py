"""A database-like connection pool: connections are made, and waited for, in one event loop."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator


class Connection:
    """A pretend database connection."""

    def __init__(self, number: int) -> None:
        self.number = number
        self.loop = asyncio.get_running_loop()  # real drivers bind their sockets to it too

    async def fetch(self, query: str) -> str:
        """Pretend to run ``query`` over the network."""
        await asyncio.sleep(0)
        return f"{query} on connection {self.number}"


class Pool:
    """A fixed number of connections, handed out one at a time."""

    def __init__(self) -> None:
        self._idle: asyncio.Queue[Connection] = asyncio.Queue()
        self.closed = False

    @classmethod
    async def create(cls, size: int) -> Pool:
        """Open ``size`` connections."""
        pool = cls()
        for number in range(size):
            await asyncio.sleep(0)  # connecting takes a round trip
            pool._idle.put_nowait(Connection(number))
        return pool

    @contextlib.asynccontextmanager
    async def acquire(self) -> AsyncIterator[Connection]:
        """Borrow a connection; wait while all of them are in use."""
        connection = await self._idle.get()
        try:
            yield connection
        finally:
            self._idle.put_nowait(connection)

    async def close(self) -> None:
        """Close the pool."""
        self.closed = True
