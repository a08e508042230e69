"""Unhandled errors: what reaches a loop's exception handler, attributed to its owner.

An exception handler put on each loop records what reaches it, attributed to the owner of the
failing task or callback, then passes it on to the loop's previous handler (by default
asyncio's, which logs it), so nothing asyncio would log is lost.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pytest_aioloop._run.owners import OWNER, Owner, owner_of, owner_of_handle

if TYPE_CHECKING:
    import asyncio
else:
    from pytest_aioloop._compat.lazy_asyncio import asyncio

#: Where an unhandled error goes: ``(owner, text)``.
Record = Callable[[Owner | None, str], None]


def put_handler(loop: asyncio.AbstractEventLoop, record: Record) -> None:
    """Put the error net's handler on ``loop``, in front of the handler it has."""
    previous = loop.get_exception_handler()

    def handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        owner = _owner(context)
        record(owner, describe_error(owner, context))
        if previous is not None:
            previous(loop, context)
        else:
            loop.default_exception_handler(context)

    loop.set_exception_handler(handler)


def _owner(context: dict[str, Any]) -> Owner | None:
    """The owner of the task, future or callback the error came from, else of the caller."""
    for key in ("task", "future"):
        found = context.get(key)
        if isinstance(found, asyncio.Future):
            owner = owner_of(found)
            if owner is not None:
                return owner
            break
    if "handle" in context:
        owner = owner_of_handle(context["handle"])
        if owner is not None:
            return owner
    return OWNER.get()


def describe_error(owner: Owner | None, context: dict[str, Any]) -> str:
    """Say what reached the exception handler: asyncio's message, the objects, the traceback."""
    message = str(context.get("message") or "unhandled error")
    for key in ("task", "future", "handle", "protocol", "transport"):
        if key in context:
            message += f"\n{key}: {context[key]!r}"
    exc = context.get("exception")
    if isinstance(exc, BaseException):
        message += "\n" + "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    prefix = owner.prefix() if owner is not None else ""
    first = "an" if prefix else "An"
    return (
        f"{prefix}{first} exception reached the event loop's exception handler: {message.rstrip()}"
    )
