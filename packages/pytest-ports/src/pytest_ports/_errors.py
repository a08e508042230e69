"""The errors of the port finder: no free port, and a ``host`` argument that cannot be used."""

from __future__ import annotations


class NoFreePortError(RuntimeError):
    """No free port was found within the bounded number of tries or the deadline."""


#: What to use instead of a host name that resolves to something other than loopback.
LOOPBACK_FIX = "use 127.0.0.1, ::1 or a name that resolves only to them (localhost)"


class HostError(Exception):
    """A ``host`` argument that cannot be used; the message starts with ``host='...'``.

    Attributes:
        host: The host as given.
        reason: What is wrong with it and what to use instead.
    """

    def __init__(self, host: object, reason: str) -> None:
        super().__init__(f"host={host!r} {reason}")
        self.host = host
        self.reason = reason


class BadHostError(HostError, ValueError):
    """A host name that does not resolve, or resolves to an address that is not loopback."""


class UnbindableHostError(HostError, NoFreePortError):
    """A host address that cannot be bound on this machine."""
