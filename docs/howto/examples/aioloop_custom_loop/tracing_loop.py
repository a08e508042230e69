"""A custom event loop class: it remembers every task created on it."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Generator
from typing import Any, TypeVar

T = TypeVar("T")


class TracingLoop(asyncio.SelectorEventLoop):
    """A selector loop that records the tasks it runs."""

    def __init__(self) -> None:
        super().__init__()
        self.tasks: list[asyncio.Task[Any]] = []

    def create_task(
        self, coro: Coroutine[Any, Any, T] | Generator[Any, None, T], **kwargs: Any
    ) -> asyncio.Task[T]:
        task = super().create_task(coro, **kwargs)
        self.tasks.append(task)
        return task

    def task_names(self) -> list[str]:
        """Return the names of the tasks created so far."""
        return [task.get_name() for task in self.tasks]
