"""Reserve ports across processes (a per-user lock file) and within this process (a set).

The cross-process part is one file with one exclusive byte-range lock per port, at offset =
port. The kernel drops a process's locks when it exits, however it exits, so a crashed run leaves
nothing stale and no pid bookkeeping is needed.

The in-process record is deliberately process-wide, not per pytest config: uniqueness is a
property of the process (an outer test session and the in-process pytester runs it starts share
one port space, and so do the plain functions), so one record must see every hand-out. It holds
no configuration, only which ports this process holds.
"""

from __future__ import annotations

import collections
import os
import struct
import sys
import tempfile
import threading
import warnings
from typing import TYPE_CHECKING

from pytest_ports._settings import REGISTRY_OFF

if TYPE_CHECKING:
    from collections.abc import Container, Iterable

if sys.platform == "win32":  # pragma: no cover
    import msvcrt

    _OFD_SETLK = 0
else:
    import fcntl

    # Linux open-file-description locks belong to the descriptor, not the process: two
    # registries on one file in one process conflict as they should, and a forked child that
    # reopens the file gets its own. Only the 64-bit struct flock layout is packed below; other
    # systems use lockf (per-process locks, hence the single private descriptor).
    _OFD_SETLK: int = getattr(fcntl, "F_OFD_SETLK", 0) if sys.maxsize > 2**32 else 0

REGISTRY_FILE = "ports.lock"


class PortRegistryWarning(UserWarning):
    """The cross-process port registry cannot be used; ports are unique only within this process."""


# ---------------------------------------------------------------------------------------------
# The lock primitive, one small implementation per platform


class _LockFile:
    """One private descriptor on the registry file and the byte-range locks taken through it."""

    def __init__(self, path: str, *, check_owner: bool) -> None:
        self.path = path
        directory = os.path.dirname(path)
        os.makedirs(directory, mode=0o700, exist_ok=True)
        if check_owner and hasattr(os, "getuid"):
            # The default directory lives in a shared temp dir: refuse one another user made.
            st = os.stat(directory)
            if st.st_uid != os.getuid():
                raise PermissionError(f"{directory} is owned by uid {st.st_uid}, not by us")
        # Kept open for the life of the process: with POSIX lockf, closing ANY descriptor on the
        # file would drop all of this process's locks, so nobody else may open/close it here.
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if not self.try_lock(0):
                # Offset 0 is never a port; failing here means only that someone else is
                # checking too. Locking itself works.
                return
            self.unlock(0)
        except OSError:
            os.close(self.fd)
            raise

    def close(self) -> None:
        os.close(self.fd)

    if sys.platform == "win32":  # pragma: no cover - written from the msvcrt docs, not run here

        def try_lock(self, port: int) -> bool:
            os.lseek(self.fd, port, os.SEEK_SET)
            try:
                msvcrt.locking(self.fd, msvcrt.LK_NBLCK, 1)
            except PermissionError:
                return False
            return True

        def unlock(self, port: int) -> None:
            os.lseek(self.fd, port, os.SEEK_SET)
            msvcrt.locking(self.fd, msvcrt.LK_UNLCK, 1)

    else:

        def _ofd(self, lock_type: int, port: int) -> None:
            # struct flock: l_type, l_whence, l_start, l_len, l_pid (must be 0 for OFD locks).
            arg = struct.pack("@hhqqi4x", lock_type, os.SEEK_SET, port, 1, 0)
            fcntl.fcntl(self.fd, _OFD_SETLK, arg)

        def try_lock(self, port: int) -> bool:
            try:
                if _OFD_SETLK:
                    self._ofd(fcntl.F_WRLCK, port)
                else:
                    fcntl.lockf(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, port)
            except (BlockingIOError, PermissionError):
                # EAGAIN / EACCES: another holder. Anything else propagates: locking is broken.
                return False
            return True

        def unlock(self, port: int) -> None:
            if _OFD_SETLK:
                self._ofd(fcntl.F_UNLCK, port)
            else:
                fcntl.lockf(self.fd, fcntl.LOCK_UN, 1, port)


# ---------------------------------------------------------------------------------------------
# The process-wide record and the registries


class _Record:
    """Which ports this process holds: in use, or released but still reserved (spare)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.owner: dict[int, Registry] = {}
        #: Released ports this process keeps reserved, oldest first, reused when the pool is low.
        self.spare: collections.OrderedDict[int, None] = collections.OrderedDict()


_record = _Record()
_registries: dict[str, Registry] = {}
_registries_lock = threading.Lock()


def default_location() -> str:
    """Return the per-user default registry directory."""
    user = str(os.getuid()) if hasattr(os, "getuid") else os.environ.get("USERNAME", "user")
    return os.path.join(tempfile.gettempdir(), f"pytest-ports-{user}")


class Registry:
    """Reserve ports for this process, in a lock file shared with other processes if possible.

    Use :func:`get_registry`; one instance exists per location per process.
    """

    def __init__(self, location: str | None) -> None:
        self.location = location
        self._file: _LockFile | None = None
        self._opened = False
        self.failure: str | None = "disabled (off)" if location == REGISTRY_OFF else None

    @property
    def path(self) -> str | None:
        """The lock file's path, or ``None`` when the registry is off."""
        if self.location == REGISTRY_OFF:
            return None
        return os.path.join(self.location or default_location(), REGISTRY_FILE)

    def _lockfile(self) -> _LockFile | None:
        # Called with the record lock held. Open once; on failure warn once and stay in-process.
        if not self._opened:
            self._opened = True
            path = self.path
            if path is not None:
                try:
                    self._file = _LockFile(path, check_owner=self.location is None)
                except OSError as exc:
                    self.failure = f"unusable ({exc})"
                    warnings.warn(
                        PortRegistryWarning(
                            f"pytest-ports cannot use the port registry {path}: {exc}. Ports are "
                            "unique within this process only; set PYTEST_PORTS_REGISTRY (or the "
                            "ports_registry ini option) to a writable local directory."
                        ),
                        stacklevel=5,
                    )
        return self._file

    @property
    def shared(self) -> bool:
        """Whether claims are visible to other processes (the lock file works)."""
        with _record.lock:
            return self._lockfile() is not None

    def is_taken(self, port: int) -> bool:
        """Whether this process holds ``port`` (in use or spare). Call without the lock."""
        return port in _record.owner

    def held_count(self) -> int:
        """How many ports this process holds through any registry."""
        return len(_record.owner)

    def claim(self, port: int) -> str | None:
        """Reserve ``port``; return ``None`` on success, or why it is not available."""
        with _record.lock:
            owner = _record.owner.get(port)
            if owner is not None:
                if owner is self and port in _record.spare:
                    del _record.spare[port]
                    return None
                return "held by this process"
            lockfile = self._lockfile()
            if lockfile is not None and not lockfile.try_lock(port):
                return "held by another process (registry)"
            _record.owner[port] = self
            return None

    def release(self, port: int) -> bool:
        """Give ``port`` back to everyone; return whether this registry held it."""
        with _record.lock:
            if _record.owner.get(port) is not self:
                return False
            del _record.owner[port]
            _record.spare.pop(port, None)
            if self._file is not None:
                self._file.unlock(port)
            return True

    def retire(self, port: int) -> None:
        """Mark ``port`` as no longer in use but keep it reserved against other processes.

        Retired ports are reused by this process only when its pool runs low, so a port a test
        just closed (perhaps still in TIME_WAIT) is not handed out again at once.
        """
        with _record.lock:
            if _record.owner.get(port) is self:
                _record.spare[port] = None

    def oldest_spare(self, pool: Container[int]) -> int | None:
        """Return the port in ``pool`` this registry released longest ago, if any."""
        with _record.lock:
            for port in _record.spare:
                if port in pool and _record.owner.get(port) is self:
                    _record.spare.move_to_end(port)
                    return port
            return None

    def foreign_count(self, ports: Iterable[int]) -> int:
        """Count ``ports`` locked by other processes (slow: used only for error messages)."""
        with _record.lock:
            lockfile = self._lockfile()
            if lockfile is None:
                return 0
            count = 0
            for port in ports:
                if port in _record.owner:
                    continue
                if lockfile.try_lock(port):
                    lockfile.unlock(port)
                else:
                    count += 1
            return count

    def describe(self, pool: Iterable[int]) -> str:
        """Say how many ports this process and other processes hold, for error messages."""
        spare = sum(1 for p in _record.spare if _record.owner.get(p) is self)
        mine = f"{self.held_count()} by this process ({spare} of them released, kept reserved)"
        if self.failure is not None:
            return f"{mine}; registry {self.path or ''} {self.failure}"
        return f"{mine}; {self.foreign_count(pool)} of the pool by other processes ({self.path})"

    def _after_fork(self) -> None:
        # A forked child must not share the parent's descriptor: with OFD locks it would share
        # the parent's locks too and believe it holds ports it must not hand out.
        if self._file is not None:
            self._file.close()
        self._file = None
        self._opened = False


def get_registry(location: str | None = None) -> Registry:
    """Return this process's registry for ``location`` (a directory, ``None`` or ``"off"``)."""
    key = location or ""
    with _registries_lock:
        registry = _registries.get(key)
        if registry is None:
            registry = _registries[key] = Registry(location)
        return registry


def owner_of(port: int) -> Registry | None:
    """Return the registry through which this process holds ``port``."""
    return _record.owner.get(port)


def _reset_after_fork() -> None:
    global _record, _registries_lock
    _record = _Record()
    _registries_lock = threading.Lock()
    for registry in _registries.values():
        registry._after_fork()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)
