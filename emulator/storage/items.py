"""Items, the hot-item cache, TTL instants, and the one cursor every Query and Scan reads
through (over a table's items or an index's entries)."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from emulator.storage.engine import Engine

_SCHEMA = """
CREATE TABLE IF NOT EXISTS items (
    table_id INTEGER NOT NULL,
    hash_key BLOB NOT NULL,
    range_key BLOB NOT NULL,
    size INTEGER NOT NULL,
    item BLOB NOT NULL,
    expires REAL,
    insert_entry INTEGER,
    insert_time INTEGER,
    PRIMARY KEY (table_id, hash_key, range_key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS items_by_expiry ON items (table_id, expires)
    WHERE expires IS NOT NULL;
"""
#: `insert_entry` / `insert_time`: the item's change-log INSERT entry, when the change log
#: keeps it here rather than in a row of its own (see storage/change_log.py).
_ADD_INSERT_ENTRY = """
ALTER TABLE items ADD COLUMN insert_entry INTEGER;
ALTER TABLE items ADD COLUMN insert_time INTEGER;
"""

#: The item cache (ItemStore._cache): how many items, each at most this large.
_CACHED_ITEMS = 1024
_CACHED_ITEM_BYTES = 4096

ItemKey = tuple[int, bytes, bytes]


class ItemStore:
    """Items by (table_id, hash_key, range_key), as JSON bytes with their stored size.

    `_cache` holds (item, size) of recently read small items exactly as stored right now:
    a read-modify-write of a hot item (a counter's UpdateItem) then skips its SELECT.
    Every statement changing `items` goes through this class (or tells it, `stored`) and
    keeps it exact; a
    rollback empties it (`forget_all`).
    """

    __slots__ = ("_cache", "connection")

    def __init__(self, engine: Engine) -> None:
        self.connection = engine.connection
        self.connection.executescript(_SCHEMA)
        columns = {row[1] for row in self.connection.execute("PRAGMA table_info(items)")}
        if "insert_entry" not in columns:  # a database written before these columns
            self.connection.executescript(_ADD_INSERT_ENTRY)
        self._cache: dict[ItemKey, tuple[bytes, int]] = {}

    def clear(self) -> None:
        self.connection.execute("DELETE FROM items")
        self._cache.clear()

    def forget_all(self) -> None:
        self._cache.clear()

    def get(self, table_id: int, hash_key: bytes, range_key: bytes) -> tuple[bytes, int] | None:
        """(item bytes, stored size), or None."""
        key = (table_id, hash_key, range_key)
        found = self._cache.get(key)
        if found is not None:
            return found
        found = self.connection.execute(
            "SELECT item, size FROM items WHERE table_id = ? AND hash_key = ? AND range_key = ?",
            key,
        ).fetchone()
        if found is not None:
            self._remember(key, found)
        return found

    def _remember(self, key: ItemKey, found: tuple[bytes, int]) -> None:
        if len(found[0]) > _CACHED_ITEM_BYTES:
            self._cache.pop(key, None)
            return
        if len(self._cache) >= _CACHED_ITEMS:
            self._cache.clear()
        self._cache[key] = found

    def put(
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
        if key in self._cache:  # a hot item stays cached; a new one is not read yet
            self._remember(key, (item, size))

    def cached(self, table_id: int, hash_key: bytes, range_key: bytes) -> bool:
        """Whether the item is in the cache (then it exists)."""
        return (table_id, hash_key, range_key) in self._cache

    def stored(
        self, table_id: int, hash_key: bytes, range_key: bytes, item: bytes, size: int
    ) -> None:
        """Keep the cache exact after a statement elsewhere stored this item."""
        key = (table_id, hash_key, range_key)
        if key in self._cache:
            self._remember(key, (item, size))

    def insert(
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
        # Stored: the key was absent, so the cache has nothing to forget.
        return cursor.rowcount == 1

    def delete(self, table_id: int, hash_key: bytes, range_key: bytes) -> None:
        key = (table_id, hash_key, range_key)
        self.connection.execute(
            "DELETE FROM items WHERE table_id = ? AND hash_key = ? AND range_key = ?", key
        )
        self._cache.pop(key, None)

    def drop_table(self, table_id: int) -> None:
        self.connection.execute("DELETE FROM items WHERE table_id = ?", (table_id,))
        self._cache.clear()

    def usage(self, table_id: int) -> tuple[int, int]:
        """(item count, total item size in bytes)."""
        count, size = self.connection.execute(
            "SELECT count(*), coalesce(sum(size), 0) FROM items WHERE table_id = ?", (table_id,)
        ).fetchone()
        return int(count), int(size)

    def partition_size(self, table_id: int, hash_key: bytes) -> int:
        """Total item size of one partition (an item collection's table part)."""
        (size,) = self.connection.execute(
            "SELECT coalesce(sum(size), 0) FROM items WHERE table_id = ? AND hash_key = ?",
            (table_id, hash_key),
        ).fetchone()
        return int(size)

    # -- TTL instants -------------------------------------------------------------------

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

    def expired(
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

    # -- reading in key order -----------------------------------------------------------

    def cursor(self, table_id: int, bounds: KeyRange | None = None) -> Cursor:
        """A walk over the table's items in key order: one partition within sort-key
        bounds (Query), or every partition (Scan, `bounds` None)."""
        return Cursor(self.connection, ITEMS, table_id, bounds)


@dataclass(frozen=True, slots=True)
class KeyRange:
    """One partition (`hash_key`) and, optionally, encoded sort-key bounds."""

    hash_key: bytes
    lower: bytes | None = None
    upper: bytes | None = None
    lower_inclusive: bool = True
    upper_inclusive: bool = True
    forward: bool = True


@dataclass(frozen=True, slots=True)
class Source:
    """A stored key order: a table's items or an index's entries."""

    table: str
    owner: str
    #: Columns after the owner id that make a row's key, in order.
    key_columns: tuple[str, ...]


ITEMS = Source("items", "table_id", ("hash_key", "range_key"))
INDEX_ENTRIES = Source("index_items", "index_id", ("hash_key", "range_key", "table_key"))


class Cursor:
    """Reads rows `(*key columns, size, item)` in key order, chunk by chunk, resuming
    after the last row returned (or after `after`, a full key tuple, at the start)."""

    __slots__ = ("_bounds", "_connection", "_owner_id", "_source", "after")

    def __init__(
        self,
        connection: Any,
        source: Source,
        owner_id: int,
        bounds: KeyRange | None,
        after: tuple[bytes, ...] | None = None,
    ) -> None:
        self._connection = connection
        self._source = source
        self._owner_id = owner_id
        self._bounds = bounds
        self.after = after

    def fetch(self, limit: int) -> list[tuple[Any, ...]]:
        bounds = self._bounds
        params: list[Any] = [self._owner_id]
        columns = self._source.key_columns
        if bounds is None:
            forward = True
            sql = _walk_sql(self._source, False, None, None, True, self.after is not None)
            if self.after is not None:
                params.extend(self.after)
        else:
            forward = bounds.forward
            params.append(bounds.hash_key)
            if bounds.lower is not None:
                params.append(bounds.lower)
            if bounds.upper is not None:
                params.append(bounds.upper)
            if self.after is not None:
                params.extend(self.after[1:])  # the partition is fixed
            sql = _walk_sql(
                self._source,
                True,
                None if bounds.lower is None else bounds.lower_inclusive,
                None if bounds.upper is None else bounds.upper_inclusive,
                forward,
                self.after is not None,
            )
        params.append(limit)
        rows = self._connection.execute(sql, params).fetchall()
        if rows:
            self.after = rows[-1][: len(columns)]
        return rows


@functools.cache
def _walk_sql(
    source: Source,
    one_partition: bool,
    lower_inclusive: bool | None,
    upper_inclusive: bool | None,
    forward: bool,
    resume: bool,
) -> str:
    """The one range-read statement: the owner, then for a Query the partition and the
    sort-key bounds (None: no bound on that side), then resuming after a key, in the
    direction of travel. Built once per shape."""
    columns = source.key_columns
    clauses = [f"{source.owner} = ?"]
    if one_partition:
        clauses.append("hash_key = ?")
        if lower_inclusive is not None:
            clauses.append("range_key >= ?" if lower_inclusive else "range_key > ?")
        if upper_inclusive is not None:
            clauses.append("range_key <= ?" if upper_inclusive else "range_key < ?")
        ordered = columns[1:]
    else:
        ordered = columns
    if resume:
        tuple_sql = ordered[0] if len(ordered) == 1 else f"({', '.join(ordered)})"
        marks = "?" if len(ordered) == 1 else f"({', '.join('?' for _ in ordered)})"
        clauses.append(f"{tuple_sql} {'>' if forward else '<'} {marks}")
    direction = "ASC" if forward else "DESC"
    return (
        f"SELECT {', '.join(columns)}, size, item FROM {source.table} "
        f"WHERE {' AND '.join(clauses)} "
        f"ORDER BY {', '.join(f'{c} {direction}' for c in ordered)} LIMIT ?"
    )
