"""One process per data directory: an exclusive lock on a file beside the database.

Two emulators writing one SQLite file would each keep their own in-memory view (table
cache, open shards, the next sequence number) and hand out the same sequence numbers:
the second one is turned away at start-up instead. The lock is an OS file lock
(`flock`; `msvcrt.locking` on Windows), so the kernel drops it when the holder exits,
also by SIGKILL: a crashed emulator never leaves a stale lock behind.
"""

from __future__ import annotations

import os
import sys
from typing import IO

LOCK_FILE = "emulator.lock"


class DataDirError(Exception):
    """A data directory that cannot be used; the message is one line for the user."""


class DataDirLock:
    __slots__ = ("_handle", "path")

    def __init__(self, path: str, handle: IO[str]) -> None:
        self.path = path
        self._handle: IO[str] | None = handle

    @classmethod
    def acquire(cls, data_dir: str) -> DataDirLock:
        """Create the directory if needed and lock it, or raise DataDirError."""
        if os.path.exists(data_dir) and not os.path.isdir(data_dir):
            raise DataDirError(f"data directory {data_dir} is not a directory")
        try:
            os.makedirs(data_dir, exist_ok=True)
        except OSError as error:
            raise DataDirError(
                f"cannot create data directory {data_dir}: {error.strerror or error}"
            ) from None
        path = os.path.join(data_dir, LOCK_FILE)
        try:
            handle = open(path, "a+", encoding="ascii")  # noqa: SIM115 - held until release
        except OSError as error:
            raise DataDirError(f"cannot open {path}: {error.strerror or error}") from None
        if not _try_lock(handle):
            handle.seek(0)
            holder = handle.read().strip()
            handle.close()
            owner = f" (pid {holder})" if holder.isdigit() else ""
            raise DataDirError(
                f"data directory {data_dir} is in use by another emulator process{owner}"
            )
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        return cls(path, handle)

    def release(self) -> None:
        handle, self._handle = self._handle, None
        if handle is not None:
            handle.close()  # closing the descriptor drops the lock


def _try_lock(handle: IO[str]) -> bool:
    if sys.platform == "win32":  # pragma: no cover - not exercised on Linux CI
        import msvcrt

        try:
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True
