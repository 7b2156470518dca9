"""The SQLite engine: tables, items and stream records, one transaction per API write.

The engine knows bytes, not DynamoDB: keys arrive already encoded in an order-preserving
form (see model/keys.py), items and stream records arrive as their final JSON bytes.
Sort-key ranges are therefore plain index range scans over the primary key.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, cast

import orjson

DATABASE_FILE = "emulator.sqlite3"

# Binding a bytes or None parameter makes the sqlite3 module look for an adapter, and
# its failed lookup raises and clears an AttributeError for every such parameter: about
# a fifth of a PutItem's SQLite cost. Identity adapters turn that into one dict hit.
sqlite3.register_adapter(bytes, bytes)
# {}.get(None) is None, which binds as NULL; a C callable, so adapting costs no frame.
sqlite3.register_adapter(type(None), cast(Callable[[None], None], {}.get))

#: The item cache (Engine._items): how many items, each at most this large.
_CACHED_ITEMS = 1024
_CACHED_ITEM_BYTES = 4096

#: A record's key is its shard's pk above its sequence number's 40 bits (a trillion
#: records: more than an emulator ever writes), so one shard is one key range.
SEQUENCE_BITS = 40
_SEQUENCE_MASK = (1 << SEQUENCE_BITS) - 1


def _record_key(shard_pk: int, sequence: int) -> int:
    return (shard_pk << SEQUENCE_BITS) | sequence


def _sequence_of(record_key: int) -> int:
    return int(record_key) & _SEQUENCE_MASK


def _shard_keys(shard_pk: int) -> tuple[int, int]:
    """[first, end) record keys of a shard."""
    return shard_pk << SEQUENCE_BITS, (shard_pk + 1) << SEQUENCE_BITS


_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS tables (
    table_id INTEGER PRIMARY KEY AUTOINCREMENT,
    region TEXT NOT NULL,
    name TEXT NOT NULL,
    description BLOB NOT NULL,
    UNIQUE (region, name)
);
CREATE TABLE IF NOT EXISTS items (
    table_id INTEGER NOT NULL,
    hash_key BLOB NOT NULL,
    range_key BLOB NOT NULL,
    size INTEGER NOT NULL,
    item BLOB NOT NULL,
    expires REAL,
    PRIMARY KEY (table_id, hash_key, range_key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS items_by_expiry ON items (table_id, expires)
    WHERE expires IS NOT NULL;
CREATE TABLE IF NOT EXISTS index_items (
    index_id INTEGER NOT NULL,
    hash_key BLOB NOT NULL,
    range_key BLOB NOT NULL,
    table_key BLOB NOT NULL,
    size INTEGER NOT NULL,
    item BLOB NOT NULL,
    PRIMARY KEY (index_id, hash_key, range_key, table_key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS streams (
    stream_id INTEGER PRIMARY KEY AUTOINCREMENT,
    region TEXT NOT NULL,
    table_name TEXT NOT NULL,
    arn TEXT NOT NULL UNIQUE,
    description BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS shards (
    shard_pk INTEGER PRIMARY KEY AUTOINCREMENT,
    stream_id INTEGER NOT NULL,
    shard_id TEXT NOT NULL,
    parent_shard_id TEXT,
    starting_sequence INTEGER NOT NULL,
    ending_sequence INTEGER,
    created REAL NOT NULL,
    closed REAL,
    trimmed_sequence INTEGER
);
CREATE INDEX IF NOT EXISTS shards_by_stream ON shards (stream_id, shard_id);
-- Stream records, keyed by record_key (see _record_key): an integer key clusters a
-- shard's records in sequence order, and appending to a rowid table is SQLite's
-- cheapest insert (this runs on every write to a stream table).
CREATE TABLE IF NOT EXISTS stream_records (
    record_key INTEGER PRIMARY KEY,
    created REAL NOT NULL,
    record BLOB NOT NULL
);
"""

#: Statements the engine writes through, recreated on every open so that a database
#: written by an earlier version gets the current definitions.
_WRITE_HELPERS = """
DROP TRIGGER IF EXISTS store_new_item_with_record;
DROP VIEW IF EXISTS new_items_with_records;
-- A new item and its INSERT stream record in one statement (see insert_item_with_record):
-- the record is only stored when the item was (an existing item is left alone).
CREATE VIEW new_items_with_records
    (table_id, hash_key, range_key, size, item, expires, record_key, created, record)
    AS SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL WHERE 0;
CREATE TRIGGER store_new_item_with_record
    INSTEAD OF INSERT ON new_items_with_records
BEGIN
    INSERT OR IGNORE INTO items (table_id, hash_key, range_key, size, item, expires)
        VALUES (NEW.table_id, NEW.hash_key, NEW.range_key, NEW.size, NEW.item, NEW.expires);
    INSERT INTO stream_records (record_key, created, record)
        SELECT NEW.record_key, NEW.created, NEW.record WHERE changes() = 1;
END;
"""


def _add_range_bounds(
    clauses: list[str],
    params: list[Any],
    lower: bytes | None,
    upper: bytes | None,
    lower_inclusive: bool,
    upper_inclusive: bool,
) -> None:
    """SQL conditions keeping `range_key` inside the (encoded) sort-key bounds."""
    if lower is not None:
        clauses.append("range_key >= ?" if lower_inclusive else "range_key > ?")
        params.append(lower)
    if upper is not None:
        clauses.append("range_key <= ?" if upper_inclusive else "range_key < ?")
        params.append(upper)


@dataclass(slots=True)
class TableRow:
    """A table as stored: its id (never reused) and its description document.

    `derived` holds what upper layers parse out of the description once (key schema,
    indexes); it lives and dies with this row object.
    """

    table_id: int
    region: str
    name: str
    description: dict[str, Any]
    derived: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class StreamRow:
    stream_id: int
    region: str
    table_name: str
    arn: str
    description: dict[str, Any]


@dataclass(slots=True)
class ShardRow:
    shard_pk: int
    stream_id: int
    shard_id: str
    parent_shard_id: str | None
    starting_sequence: int
    ending_sequence: int | None
    created: float
    closed: float | None
    #: The highest sequence number trimmed from this shard (retention), if any.
    trimmed_sequence: int | None = None


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


@dataclass(slots=True)
class Engine:
    """One SQLite connection used from the event loop's thread only.

    Table and stream descriptions are cached in memory (they are small and read on every
    request). Recently written or read small items are too (see `_items`); everything
    else is read from SQLite.
    """

    path: str
    connection: sqlite3.Connection = field(init=False)
    _tables: dict[tuple[str, str], TableRow] = field(init=False, default_factory=dict)
    _next_sequence: int = field(init=False, default=0)
    _depth: int = field(init=False, default=0)
    _tables_dirty: bool = field(init=False, default=False)
    _rollback_hooks: list[Callable[[], None]] = field(init=False, default_factory=list)
    _saved_sequence: int = field(init=False, default=0)
    _transaction: _Transaction = field(init=False)
    #: (table_id, hash_key, range_key) -> (item, size) of items as stored right now: a
    #: read-modify-write of a hot item (a counter's UpdateItem) then skips its SELECT.
    #: Every statement changing `items` goes through this class and keeps it exact; a
    #: rollback empties it.
    _items: dict[tuple[int, bytes, bytes], tuple[bytes, int]] = field(
        init=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        self._transaction = _Transaction(self)
        self.connection = sqlite3.connect(
            self.path, isolation_level=None, check_same_thread=False, cached_statements=256
        )
        if self.path != ":memory:":
            self.connection.execute("PRAGMA journal_mode=WAL")
            self.connection.execute("PRAGMA synchronous=FULL")
        self.connection.executescript(_SCHEMA)
        self.connection.executescript(_WRITE_HELPERS)
        for table_id, region, name, description in self.connection.execute(
            "SELECT table_id, region, name, description FROM tables"
        ):
            self._tables[(region, name)] = TableRow(
                table_id, region, name, orjson.loads(description)
            )
        self._migrate_records()
        top = self.connection.execute(
            "SELECT max(max(starting_sequence), coalesce(max(ending_sequence), 0), "
            "coalesce(max((SELECT max(record_key) FROM stream_records "
            f"WHERE record_key >= shard_pk << {SEQUENCE_BITS} "
            f"AND record_key < (shard_pk + 1) << {SEQUENCE_BITS}) & {_SEQUENCE_MASK}), 0)) "
            "FROM shards"
        ).fetchone()[0]
        self._next_sequence = (top or 0) + 1

    def _migrate_records(self) -> None:
        """Move records of a data directory written before `stream_records` existed."""
        found = self.connection.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'records'"
        ).fetchone()
        if found is None:
            return
        with self.transaction():
            self.connection.execute(
                "INSERT INTO stream_records (record_key, created, record) "
                f"SELECT (shard_pk << {SEQUENCE_BITS}) | sequence, created, record FROM records"
            )
            self.connection.execute("DROP TABLE records")

    @classmethod
    def open(cls, data_dir: str | None) -> Engine:
        if data_dir is None:
            return cls(":memory:")
        os.makedirs(data_dir, exist_ok=True)
        return cls(os.path.join(data_dir, DATABASE_FILE))

    def close(self) -> None:
        self.connection.close()

    def transaction(self) -> _Transaction:
        """One write transaction (`with engine.transaction():`); nested uses join the
        outer one."""
        return self._transaction

    def _begin(self) -> None:
        if self._depth:
            self._depth += 1
            return
        self._saved_sequence = self._next_sequence
        self.connection.execute("BEGIN IMMEDIATE")
        self._depth = 1
        self._tables_dirty = False

    def _end(self, failed: bool) -> None:
        if self._depth > 1:
            self._depth -= 1
            return
        self._depth = 0
        if not failed:
            self.connection.execute("COMMIT")
            return
        self.connection.execute("ROLLBACK")
        self._items.clear()
        self._next_sequence = self._saved_sequence
        if self._tables_dirty:
            # Only metadata changes leave in-memory state to undo (a failed condition
            # check, the common rollback, changed nothing).
            self._reload_caches()
            for hook in self._rollback_hooks:
                hook()

    def on_metadata_rollback(self, hook: Callable[[], None]) -> None:
        """Call `hook` after a rollback that undid table or stream metadata."""
        self._rollback_hooks.append(hook)

    def _reload_caches(self) -> None:
        self._tables = {
            (region, name): TableRow(table_id, region, name, orjson.loads(description))
            for table_id, region, name, description in self.connection.execute(
                "SELECT table_id, region, name, description FROM tables"
            )
        }

    # -- meta ---------------------------------------------------------------------------

    def get_meta(self, key: str) -> bytes | None:
        row = self.connection.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else bytes(row[0])

    def set_meta(self, key: str, value: bytes) -> None:
        self.connection.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    # -- tables -------------------------------------------------------------------------

    def get_table(self, region: str, name: str) -> TableRow | None:
        return self._tables.get((region, name))

    def table_names(self, region: str) -> list[str]:
        return sorted(name for (r, name) in self._tables if r == region)

    def all_tables(self) -> list[TableRow]:
        return list(self._tables.values())

    def create_table(self, region: str, name: str, description: dict[str, Any]) -> TableRow:
        cursor = self.connection.execute(
            "INSERT INTO tables (region, name, description) VALUES (?, ?, ?)",
            (region, name, orjson.dumps(description)),
        )
        row = TableRow(int(cursor.lastrowid or 0), region, name, description)
        self._tables[(region, name)] = row
        self._tables_dirty = True
        return row

    def save_table(self, row: TableRow) -> None:
        self._tables_dirty = True
        self.connection.execute(
            "UPDATE tables SET description = ? WHERE table_id = ?",
            (orjson.dumps(row.description), row.table_id),
        )

    def allocate_id(self, name: str) -> int:
        """A new id from a named counter (kept in meta, so ids are never reused)."""
        current = self.get_meta("counter:" + name)
        value = int(current or b"0") + 1
        self.set_meta("counter:" + name, str(value).encode())
        return value

    def delete_table(self, row: TableRow, index_ids: list[int] | None = None) -> None:
        for index_id in index_ids or []:
            self.drop_index(index_id)
        self.connection.execute("DELETE FROM items WHERE table_id = ?", (row.table_id,))
        self._items.clear()
        self.connection.execute("DELETE FROM tables WHERE table_id = ?", (row.table_id,))
        self._tables_dirty = True
        self._tables.pop((row.region, row.name), None)

    def table_usage(self, table_id: int) -> tuple[int, int]:
        """(item count, total item size in bytes)."""
        count, size = self.connection.execute(
            "SELECT count(*), coalesce(sum(size), 0) FROM items WHERE table_id = ?", (table_id,)
        ).fetchone()
        return int(count), int(size)

    # -- items --------------------------------------------------------------------------

    def get_item(self, table_id: int, hash_key: bytes, range_key: bytes) -> bytes | None:
        found = self.get_item_and_size(table_id, hash_key, range_key)
        return None if found is None else found[0]

    def get_item_and_size(
        self, table_id: int, hash_key: bytes, range_key: bytes
    ) -> tuple[bytes, int] | None:
        key = (table_id, hash_key, range_key)
        found = self._items.get(key)
        if found is not None:
            return found
        found = self.connection.execute(
            "SELECT item, size FROM items WHERE table_id = ? AND hash_key = ? AND range_key = ?",
            key,
        ).fetchone()
        if found is not None:
            self._remember_item(key, found)
        return found

    def _remember_item(self, key: tuple[int, bytes, bytes], found: tuple[bytes, int]) -> None:
        if len(found[0]) > _CACHED_ITEM_BYTES:
            self._items.pop(key, None)
            return
        if len(self._items) >= _CACHED_ITEMS:
            self._items.clear()
        self._items[key] = found

    def put_item(
        self,
        table_id: int,
        hash_key: bytes,
        range_key: bytes,
        size: int,
        item: bytes,
        expires: float | None = None,
    ) -> None:
        """Store an item; `expires` is its TTL instant when the table has TTL enabled."""
        self.connection.execute(
            "INSERT OR REPLACE INTO items (table_id, hash_key, range_key, size, item, expires) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (table_id, hash_key, range_key, size, item, expires),
        )
        key = (table_id, hash_key, range_key)
        if key in self._items:  # a hot item stays cached; a new one is not read yet
            self._remember_item(key, (item, size))

    def insert_item(
        self,
        table_id: int,
        hash_key: bytes,
        range_key: bytes,
        size: int,
        item: bytes,
        expires: float | None = None,
    ) -> bool:
        """Store an item unless one with this key exists; whether it was stored."""
        cursor = self.connection.execute(
            "INSERT OR IGNORE INTO items (table_id, hash_key, range_key, size, item, expires) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (table_id, hash_key, range_key, size, item, expires),
        )
        # Stored: the key was absent, so `_items` has nothing to forget.
        return cursor.rowcount == 1

    def insert_item_with_record(
        self,
        table_id: int,
        hash_key: bytes,
        range_key: bytes,
        size: int,
        item: bytes,
        expires: float | None,
        shard_pk: int,
        sequence: int,
        created: float,
        record: bytes,
    ) -> bool:
        """Store a new item and its stream record in one statement (atomic on its own, so
        no explicit transaction is needed); neither is stored when the item exists.
        Whether they were stored."""
        connection = self.connection
        before = connection.total_changes
        connection.execute(
            "INSERT INTO new_items_with_records (table_id, hash_key, range_key, size, item, "
            "expires, record_key, created, record) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                table_id,
                hash_key,
                range_key,
                size,
                item,
                expires,
                _record_key(shard_pk, sequence),
                created,
                record,
            ),
        )
        # Stored: the key was absent, so `_items` has nothing to forget.
        return connection.total_changes != before

    def set_expiry(self, table_id: int, expiries: list[tuple[float | None, bytes, bytes]]) -> None:
        self.connection.executemany(
            "UPDATE items SET expires = ? WHERE table_id = ? AND hash_key = ? AND range_key = ?",
            [(expires, table_id, h, r) for expires, h, r in expiries],
        )

    def clear_expiry(self, table_id: int) -> None:
        self.connection.execute(
            "UPDATE items SET expires = NULL WHERE table_id = ? AND expires IS NOT NULL",
            (table_id,),
        )

    def expired_items(
        self, table_id: int, not_before: float, until: float, limit: int
    ) -> list[tuple[bytes, bytes, int, bytes]]:
        """Items whose TTL instant lies in [not_before, until]: (hash, range, size, item)."""
        return list(
            self.connection.execute(
                "SELECT hash_key, range_key, size, item FROM items WHERE table_id = ? "
                "AND expires IS NOT NULL AND expires >= ? AND expires <= ? "
                "ORDER BY expires LIMIT ?",
                (table_id, not_before, until, limit),
            )
        )

    def delete_item(self, table_id: int, hash_key: bytes, range_key: bytes) -> None:
        key = (table_id, hash_key, range_key)
        self.connection.execute(
            "DELETE FROM items WHERE table_id = ? AND hash_key = ? AND range_key = ?", key
        )
        self._items.pop(key, None)

    def range_read(
        self,
        table_id: int,
        hash_key: bytes,
        lower: bytes | None = None,
        upper: bytes | None = None,
        *,
        lower_inclusive: bool = True,
        upper_inclusive: bool = True,
        forward: bool = True,
        after: bytes | None = None,
        limit: int = -1,
    ) -> list[tuple[bytes, int, bytes]]:
        """Items of one partition with range_key inside the bounds, in key order, resuming
        after `after` (in the direction of travel); an index range scan.

        Returns (range_key, size, item) triples.
        """
        clauses = ["table_id = ?", "hash_key = ?"]
        params: list[Any] = [table_id, hash_key]
        _add_range_bounds(clauses, params, lower, upper, lower_inclusive, upper_inclusive)
        if after is not None:
            clauses.append("range_key > ?" if forward else "range_key < ?")
            params.append(after)
        order = "ASC" if forward else "DESC"
        params.append(limit)
        sql = (
            f"SELECT range_key, size, item FROM items WHERE {' AND '.join(clauses)} "
            f"ORDER BY range_key {order} LIMIT ?"
        )
        return list(self.connection.execute(sql, params))

    def scan_items(
        self, table_id: int, after: tuple[bytes, bytes] | None = None, limit: int = -1
    ) -> list[tuple[bytes, bytes, int, bytes]]:
        """Items in storage order ((hash_key, range_key) order), resuming after a key.

        Returns (hash_key, range_key, size, item) tuples.
        """
        if after is None:
            rows = self.connection.execute(
                "SELECT hash_key, range_key, size, item FROM items WHERE table_id = ? "
                "ORDER BY hash_key, range_key LIMIT ?",
                (table_id, limit),
            )
        else:
            rows = self.connection.execute(
                "SELECT hash_key, range_key, size, item FROM items WHERE table_id = ? "
                "AND (hash_key, range_key) > (?, ?) ORDER BY hash_key, range_key LIMIT ?",
                (table_id, after[0], after[1], limit),
            )
        return list(rows)

    # -- secondary indexes --------------------------------------------------------------

    def index_put(
        self,
        index_id: int,
        hash_key: bytes,
        range_key: bytes,
        table_key: bytes,
        size: int,
        item: bytes,
    ) -> None:
        self.connection.execute(
            "INSERT OR REPLACE INTO index_items "
            "(index_id, hash_key, range_key, table_key, size, item) VALUES (?, ?, ?, ?, ?, ?)",
            (index_id, hash_key, range_key, table_key, size, item),
        )

    def index_delete(
        self, index_id: int, hash_key: bytes, range_key: bytes, table_key: bytes
    ) -> None:
        self.connection.execute(
            "DELETE FROM index_items WHERE index_id = ? AND hash_key = ? AND range_key = ? "
            "AND table_key = ?",
            (index_id, hash_key, range_key, table_key),
        )

    def drop_index(self, index_id: int) -> None:
        self.connection.execute("DELETE FROM index_items WHERE index_id = ?", (index_id,))

    def index_usage(self, index_id: int) -> tuple[int, int]:
        count, size = self.connection.execute(
            "SELECT count(*), coalesce(sum(size), 0) FROM index_items WHERE index_id = ?",
            (index_id,),
        ).fetchone()
        return int(count), int(size)

    def index_range_read(
        self,
        index_id: int,
        hash_key: bytes,
        lower: bytes | None = None,
        upper: bytes | None = None,
        *,
        lower_inclusive: bool = True,
        upper_inclusive: bool = True,
        forward: bool = True,
        after: tuple[bytes, bytes] | None = None,
        limit: int = -1,
    ) -> list[tuple[bytes, bytes, int, bytes]]:
        """Entries of one index partition with range_key inside the bounds, in
        (range_key, table_key) order, resuming after `after`.

        Returns (range_key, table_key, size, item) tuples.
        """
        clauses = ["index_id = ?", "hash_key = ?"]
        params: list[Any] = [index_id, hash_key]
        _add_range_bounds(clauses, params, lower, upper, lower_inclusive, upper_inclusive)
        if after is not None:
            clauses.append(
                "(range_key, table_key) > (?, ?)" if forward else "(range_key, table_key) < (?, ?)"
            )
            params.extend(after)
        order = "ASC" if forward else "DESC"
        params.append(limit)
        sql = (
            "SELECT range_key, table_key, size, item FROM index_items "
            f"WHERE {' AND '.join(clauses)} ORDER BY range_key {order}, table_key {order} LIMIT ?"
        )
        return list(self.connection.execute(sql, params))

    def index_scan(
        self,
        index_id: int,
        after: tuple[bytes, bytes, bytes] | None = None,
        limit: int = -1,
    ) -> list[tuple[bytes, bytes, bytes, int, bytes]]:
        """Index entries in storage order, resuming after (hash, range, table_key).

        Returns (hash_key, range_key, table_key, size, item) tuples.
        """
        if after is None:
            rows = self.connection.execute(
                "SELECT hash_key, range_key, table_key, size, item FROM index_items "
                "WHERE index_id = ? ORDER BY hash_key, range_key, table_key LIMIT ?",
                (index_id, limit),
            )
        else:
            rows = self.connection.execute(
                "SELECT hash_key, range_key, table_key, size, item FROM index_items "
                "WHERE index_id = ? AND (hash_key, range_key, table_key) > (?, ?, ?) "
                "ORDER BY hash_key, range_key, table_key LIMIT ?",
                (index_id, *after, limit),
            )
        return list(rows)

    # -- streams ------------------------------------------------------------------------

    def next_sequence(self) -> int:
        """A new sequence number, greater than every one handed out before (never reused)."""
        value = self._next_sequence
        if value > _SEQUENCE_MASK:
            # Past 40 bits a record key would fall into the next shard's range.
            raise RuntimeError("stream sequence numbers exhausted")
        self._next_sequence += 1
        return value

    def peek_sequence(self) -> int:
        """The number the next record would get (without taking it)."""
        return self._next_sequence

    def create_stream(
        self, region: str, table_name: str, arn: str, description: dict[str, Any]
    ) -> StreamRow:
        self._tables_dirty = True
        cursor = self.connection.execute(
            "INSERT INTO streams (region, table_name, arn, description) VALUES (?, ?, ?, ?)",
            (region, table_name, arn, orjson.dumps(description)),
        )
        return StreamRow(int(cursor.lastrowid or 0), region, table_name, arn, description)

    def save_stream(self, row: StreamRow) -> None:
        self._tables_dirty = True
        self.connection.execute(
            "UPDATE streams SET description = ? WHERE stream_id = ?",
            (orjson.dumps(row.description), row.stream_id),
        )

    def delete_stream(self, stream_id: int) -> None:
        self._tables_dirty = True
        for (shard_pk,) in self.connection.execute(
            "SELECT shard_pk FROM shards WHERE stream_id = ?", (stream_id,)
        ).fetchall():
            self._delete_shard_records(shard_pk)
        self.connection.execute("DELETE FROM shards WHERE stream_id = ?", (stream_id,))
        self.connection.execute("DELETE FROM streams WHERE stream_id = ?", (stream_id,))

    def streams(self) -> list[StreamRow]:
        return [
            StreamRow(stream_id, region, table_name, arn, orjson.loads(description))
            for stream_id, region, table_name, arn, description in self.connection.execute(
                "SELECT stream_id, region, table_name, arn, description FROM streams "
                "ORDER BY stream_id"
            )
        ]

    def create_shard(
        self,
        stream_id: int,
        shard_id: str,
        parent_shard_id: str | None,
        starting_sequence: int,
        created: float,
    ) -> ShardRow:
        self._tables_dirty = True
        cursor = self.connection.execute(
            "INSERT INTO shards (stream_id, shard_id, parent_shard_id, starting_sequence, "
            "created) VALUES (?, ?, ?, ?, ?)",
            (stream_id, shard_id, parent_shard_id, starting_sequence, created),
        )
        return ShardRow(
            int(cursor.lastrowid or 0),
            stream_id,
            shard_id,
            parent_shard_id,
            starting_sequence,
            None,
            created,
            None,
        )

    def close_shard(self, shard: ShardRow, ending_sequence: int, closed: float) -> None:
        self._tables_dirty = True
        self.connection.execute(
            "UPDATE shards SET ending_sequence = ?, closed = ? WHERE shard_pk = ?",
            (ending_sequence, closed, shard.shard_pk),
        )
        shard.ending_sequence = ending_sequence
        shard.closed = closed

    def delete_shard(self, shard_pk: int) -> None:
        self._tables_dirty = True
        self._delete_shard_records(shard_pk)
        self.connection.execute("DELETE FROM shards WHERE shard_pk = ?", (shard_pk,))

    def _delete_shard_records(self, shard_pk: int) -> None:
        self.connection.execute(
            "DELETE FROM stream_records WHERE record_key >= ? AND record_key < ?",
            _shard_keys(shard_pk),
        )

    def shards(self, stream_id: int | None = None) -> list[ShardRow]:
        sql = (
            "SELECT shard_pk, stream_id, shard_id, parent_shard_id, starting_sequence, "
            "ending_sequence, created, closed, trimmed_sequence FROM shards"
        )
        if stream_id is None:
            rows = self.connection.execute(sql + " ORDER BY shard_id")
        else:
            rows = self.connection.execute(
                sql + " WHERE stream_id = ? ORDER BY shard_id", (stream_id,)
            )
        return [ShardRow(*row) for row in rows]

    def append_record(self, shard_pk: int, sequence: int, created: float, record: bytes) -> None:
        self.connection.execute(
            "INSERT INTO stream_records (record_key, created, record) VALUES (?, ?, ?)",
            (_record_key(shard_pk, sequence), created, record),
        )

    def read_records(
        self, shard_pk: int, from_sequence: int, limit: int
    ) -> list[tuple[int, bytes]]:
        """Records with sequence >= from_sequence, in order."""
        return [
            (_sequence_of(record_key), bytes(record))
            for record_key, record in self.connection.execute(
                "SELECT record_key, record FROM stream_records "
                "WHERE record_key >= ? AND record_key < ? ORDER BY record_key LIMIT ?",
                (_record_key(shard_pk, from_sequence), _shard_keys(shard_pk)[1], limit),
            )
        ]

    def last_record_sequence(self, shard_pk: int) -> int | None:
        row = self.connection.execute(
            "SELECT max(record_key) FROM stream_records WHERE record_key >= ? AND record_key < ?",
            _shard_keys(shard_pk),
        ).fetchone()
        return None if row[0] is None else _sequence_of(row[0])

    def trim_shard(self, shard: ShardRow, created_before: float, batch: int) -> int:
        """Delete up to `batch` of the shard's oldest records created before the cutoff.

        Records of a shard are created in sequence order, so the trimmed part is always a
        prefix; the shard remembers where it ends (TrimmedDataAccessException needs it).
        """
        first, end = _shard_keys(shard.shard_pk)
        last_key, count = self.connection.execute(
            "SELECT max(record_key), count(*) FROM (SELECT record_key FROM stream_records "
            "WHERE record_key >= ? AND record_key < ? AND created < ? "
            "ORDER BY record_key LIMIT ?)",
            (first, end, created_before, batch),
        ).fetchone()
        if not count:
            return 0
        self.connection.execute(
            "DELETE FROM stream_records WHERE record_key >= ? AND record_key <= ?",
            (first, last_key),
        )
        last = _sequence_of(last_key)
        self.connection.execute(
            "UPDATE shards SET trimmed_sequence = ? WHERE shard_pk = ?", (last, shard.shard_pk)
        )
        shard.trimmed_sequence = last
        return int(count)

    def oldest_record_time(self, shard_pk: int) -> float | None:
        row = self.connection.execute(
            "SELECT created FROM stream_records WHERE record_key >= ? AND record_key < ? "
            "ORDER BY record_key LIMIT 1",
            _shard_keys(shard_pk),
        ).fetchone()
        return None if row is None else float(row[0])

    def first_sequence_at(self, shard_pk: int, created: float) -> int | None:
        """The first record of the shard created at or after `created`."""
        row = self.connection.execute(
            "SELECT record_key FROM stream_records WHERE record_key >= ? AND record_key < ? "
            "AND created >= ? ORDER BY record_key LIMIT 1",
            (*_shard_keys(shard_pk), created),
        ).fetchone()
        return None if row is None else _sequence_of(row[0])

    def reset(self) -> None:
        """Drop every table and stream (test isolation)."""
        with self.transaction():
            for name in ("items", "index_items", "tables", "stream_records", "shards", "streams"):
                self.connection.execute(f"DELETE FROM {name}")
        self._tables.clear()
        self._items.clear()
