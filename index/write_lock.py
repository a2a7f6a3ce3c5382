"""One writer at a time per data home: an exclusive lock on `<home>/write.lock` that every write to the index holds
(an ingest, a deletion, a recovery, a BM25 save), in this process and in any other on this machine, CLI or server.

The lock is an `flock` on an open file, so the kernel lets it go when its holder dies, kill -9 included: a dead writer
never blocks the next one, which then finds the dead one's unfinished files in the write journal (index/journal.py).
Within one process the lock is re-entrant for the thread that took it; the helper threads an ingest hands its writes
to do not take it themselves, they rely on `held`.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from litassist.index.errors import StoreError

FILE = "write.lock"
T = TypeVar("T")
_GUARD = threading.Lock()
_HOMES: dict[Path, _HomeLock] = {}  # one lock object per data home, so threads of one process exclude each other


def read_only(folder: Path) -> bool:
    """Whether a folder that exists cannot be written (a read-only mount, or permissions)."""
    return folder.is_dir() and not os.access(folder, os.W_OK)


class _HomeLock:
    """A thread lock (for this process) joined to an flock (for other processes) on one lock file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.threads = threading.RLock()
        self.depth = 0  # acquisitions not yet released, by the thread holding `threads`
        self.fd: int | None = None

    def acquire(self, blocking: bool) -> bool:
        """Take the lock; False when `blocking` is off and someone else holds it."""
        if not self.threads.acquire(blocking=blocking):
            return False
        if self.depth == 0:
            try:
                self.fd = self._lock_file(blocking)
            except BaseException:
                self.threads.release()
                raise
            if self.fd is None:
                self.threads.release()
                return False
        self.depth += 1
        return True

    def _lock_file(self, blocking: bool) -> int | None:
        """The lock file, open and flock-ed; None when another process holds it and `blocking` is off."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            if read_only(self.path.parent):
                raise StoreError(f"the data home {self.path.parent} is read-only: litassist can answer from it but "
                                 "not change it") from exc
            raise StoreError(f"cannot lock the index for writing ({self.path}): {exc.strerror or exc}") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except BlockingIOError:
            os.close(fd)
            return None
        except BaseException:
            os.close(fd)
            raise
        return fd

    def release(self) -> None:
        """Give one acquisition back; the last one unlocks the file."""
        self.depth -= 1
        if self.depth == 0 and self.fd is not None:
            fd, self.fd = self.fd, None
            os.close(fd)  # closing the only descriptor drops the flock
        self.threads.release()


class WriteLock:
    """The write lock of one data home; use `with lock:` (waits) or `acquire(blocking=False)` (tries)."""

    def __init__(self, home: Path) -> None:
        key = Path(home).resolve()
        with _GUARD:
            self._lock = _HOMES.setdefault(key, _HomeLock(key / FILE))

    @property
    def held(self) -> bool:
        """Whether this process holds the lock now (one of its operations is writing)."""
        return self._lock.depth > 0

    def acquire(self, blocking: bool = True) -> bool:
        """Take the lock, waiting for other writers unless `blocking` is off; whether it was taken."""
        return self._lock.acquire(blocking)

    def release(self) -> None:
        """Give the lock back."""
        self._lock.release()

    def if_free(self, action: Callable[[], T], otherwise: Callable[[], T]) -> T:
        """`action()` holding the lock if it is free right now, else `otherwise()` without waiting (a read-only data
        home is never free: nothing can be written there)."""
        if read_only(self._lock.path.parent) or not self.acquire(blocking=False):
            return otherwise()
        try:
            return action()
        finally:
            self.release()

    def __enter__(self) -> WriteLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
