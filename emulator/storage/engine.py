"""The SQLite engine: one connection, one transaction manager, and the stores built on it.

The engine knows bytes, not DynamoDB: keys arrive already encoded in an order-preserving
form (see model/keys.py), items and stream records arrive as their final JSON bytes.
Sort-key ranges are therefore plain index range scans over the primary key.

Its jobs are split by what they store — `catalog` (tables, streams, shards, meta),
`items` (items and the hot-item cache), `indexes` (secondary-index entries),
`stream_log` (stream records and sequence numbers), `checkpoints` (consumers' positions),
`documents` (resources that are not tables: functions, mappings, Kinesis streams),
`tokens` (TransactWriteItems idempotency tokens), `change_log` (the durable change log
and backup snapshots) — and
every store shares this connection and its transaction, so an item change and everything
it implies commit together. Other packages add stores of their own the same
way (a class built with the Engine, creating its tables on construction).
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from typing import Any, Literal, cast

from emulator.storage.catalog import (
    Catalog,
    PlainStateCodec,
    ShardRow,
    StateCodec,
    StreamRow,
    TableRow,
)
from emulator.storage.change_log import ChangeLog
from emulator.storage.checkpoints import CheckpointStore
from emulator.storage.documents import DocumentStore
from emulator.storage.indexes import IndexStore
from emulator.storage.items import ItemStore
from emulator.storage.lock import DataDirError, DataDirLock
from emulator.storage.stream_log import SEQUENCE_BITS, StreamLog
from emulator.storage.tokens import TokenStore

DATABASE_FILE = "emulator.sqlite3"

# Binding a bytes or None parameter makes the sqlite3 module look for an adapter, and
# its failed lookup raises and clears an AttributeError for every such parameter: about
# a fifth of a PutItem's SQLite cost. Identity adapters turn that into one dict hit.
sqlite3.register_adapter(bytes, bytes)
# {}.get(None) is None, which binds as NULL; a C callable, so adapting costs no frame.
sqlite3.register_adapter(type(None), cast(Callable[[None], None], {}.get))


class _Transaction:
    """The context manager behind `Engine.transaction()`: a plain class, because this
    runs twice per write and a generator-based one costs noticeably more."""

    __slots__ = ("_engine",)

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def __enter__(self) -> None:
        self._engine._begin()

    def __exit__(self, exc_type: object, exc: object, traceback: object) -> Literal[False]:
        self._engine._end(exc_type is not None)
        return False


class Engine:
    """One SQLite connection used from the event loop's thread only."""

    __slots__ = (
        "_after_commit",
        "_depth",
        "_lock",
        "_rollback_hooks",
        "_saved_sequence",
        "_transaction",
        "catalog",
        "change_log",
        "checkpoints",
        "connection",
        "documents",
        "indexes",
        "items",
        "path",
        "stream_log",
        "tokens",
    )

    def __init__(self, path: str, codec: StateCodec | None = None) -> None:
        self.path = path
        self._lock: DataDirLock | None = None
        self._transaction = _Transaction(self)
        self._depth = 0
        self._saved_sequence = 0
        self._rollback_hooks: list[Callable[[], None]] = []
        #: (callback, argument) pairs to call once the current transaction commits.
        self._after_commit: list[tuple[Callable[[Any], None], Any]] = []
        self.connection = sqlite3.connect(
            path, isolation_level=None, check_same_thread=False, cached_statements=256
        )
        if path != ":memory:":
            self.connection.execute("PRAGMA journal_mode=WAL")
            self.connection.execute("PRAGMA synchronous=FULL")
        self.catalog = Catalog(self, codec or PlainStateCodec())
        self.items = ItemStore(self)
        self.indexes = IndexStore(self)
        self.stream_log = StreamLog(self)
        self.checkpoints = CheckpointStore(self)
        self.documents = DocumentStore(self)
        self.tokens = TokenStore(self)
        self.change_log = ChangeLog(self)
        self.catalog.load()

    @classmethod
    def open(cls, data_dir: str | None, codec: StateCodec | None = None) -> Engine:
        """In memory, or the database in `data_dir`, which this process then holds
        exclusively; a directory that cannot be used raises DataDirError (one line)."""
        if data_dir is None:
            return cls(":memory:", codec)
        lock = DataDirLock.acquire(data_dir)
        path = os.path.join(data_dir, DATABASE_FILE)
        try:
            engine = cls(path, codec)
        except sqlite3.DatabaseError as error:
            lock.release()
            raise DataDirError(f"{path} is not a usable emulator database ({error})") from None
        except BaseException:
            lock.release()
            raise
        engine._lock = lock
        return engine

    def close(self) -> None:
        self.connection.close()
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    # -- transactions -------------------------------------------------------------------

    def transaction(self) -> _Transaction:
        """One write transaction (`with engine.transaction():`); nested uses join the
        outer one."""
        return self._transaction

    @property
    def in_transaction(self) -> bool:
        return self._depth > 0

    def _begin(self) -> None:
        if self._depth:
            self._depth += 1
            return
        self._saved_sequence = self.stream_log.next_value
        self.connection.execute("BEGIN IMMEDIATE")
        self._depth = 1
        self.catalog.dirty = False

    def _end(self, failed: bool) -> None:
        if self._depth > 1:
            self._depth -= 1
            return
        self._depth = 0
        if not failed:
            self.connection.execute("COMMIT")
            if self._after_commit:
                self._run_after_commit()
            return
        self.connection.execute("ROLLBACK")
        self._after_commit.clear()
        self.items.forget_all()
        self.stream_log.next_value = self._saved_sequence
        self.stream_log.forget_recent()
        self.change_log.after_rollback()
        if self.catalog.dirty:
            # Only metadata changes leave in-memory state to undo (a failed condition
            # check, the common rollback, changed nothing).
            self.catalog.load()
            for hook in self._rollback_hooks:
                hook()

    def after_commit(self, callback: Callable[[Any], None], argument: Any) -> None:
        """Call `callback(argument)` once what was written so far is committed: at the end
        of the current transaction (never, if it rolls back), or now outside one (the
        statement just run was its own transaction)."""
        if self._depth:
            self._after_commit.append((callback, argument))
        else:
            callback(argument)

    def _run_after_commit(self) -> None:
        pending = self._after_commit
        self._after_commit = []
        for callback, argument in pending:
            callback(argument)

    def on_metadata_rollback(self, hook: Callable[[], None]) -> None:
        """Call `hook` after a rollback that undid table or stream metadata."""
        self._rollback_hooks.append(hook)

    # -- meta and the catalog's most used lookups ---------------------------------------

    def get_meta(self, key: str) -> bytes | None:
        return self.catalog.get_meta(key)

    def set_meta(self, key: str, value: bytes) -> None:
        self.catalog.set_meta(key, value)

    def get_table(self, region: str, name: str) -> TableRow | None:
        return self.catalog.tables.get((region, name))

    def reset(self) -> None:
        """Drop every table, stream and consumer position (test isolation)."""
        with self.transaction():
            for store in (self.catalog, self.items, self.indexes, self.stream_log):
                store.clear()
            self.checkpoints.clear()
            self.documents.clear()
            self.tokens.clear()
            self.change_log.clear()
        self.catalog.tables.clear()
        self.items.forget_all()


__all__ = [
    "DATABASE_FILE",
    "SEQUENCE_BITS",
    "DataDirError",
    "Engine",
    "ShardRow",
    "StateCodec",
    "StreamRow",
    "TableRow",
]
