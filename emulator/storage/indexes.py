"""Secondary-index entries: (index, index key, table key) → the projected item."""

from __future__ import annotations

from typing import TYPE_CHECKING

from emulator.storage.items import INDEX_ENTRIES, Cursor, KeyRange

if TYPE_CHECKING:
    from emulator.storage.engine import Engine

_SCHEMA = """
CREATE TABLE IF NOT EXISTS index_items (
    index_id INTEGER NOT NULL,
    hash_key BLOB NOT NULL,
    range_key BLOB NOT NULL,
    table_key BLOB NOT NULL,
    size INTEGER NOT NULL,
    item BLOB NOT NULL,
    PRIMARY KEY (index_id, hash_key, range_key, table_key)
) WITHOUT ROWID;
"""


def table_key_bytes(hash_key: bytes, range_key: bytes) -> bytes:
    """The table key of an index entry: unambiguous (length-prefixed) and unique."""
    return len(hash_key).to_bytes(2, "big") + hash_key + range_key


class IndexStore:
    __slots__ = ("connection",)

    def __init__(self, engine: Engine) -> None:
        self.connection = engine.connection
        self.connection.executescript(_SCHEMA)

    def clear(self) -> None:
        self.connection.execute("DELETE FROM index_items")

    def put(
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

    def delete(self, index_id: int, hash_key: bytes, range_key: bytes, table_key: bytes) -> None:
        self.connection.execute(
            "DELETE FROM index_items WHERE index_id = ? AND hash_key = ? AND range_key = ? "
            "AND table_key = ?",
            (index_id, hash_key, range_key, table_key),
        )

    def drop(self, index_id: int) -> None:
        self.connection.execute("DELETE FROM index_items WHERE index_id = ?", (index_id,))

    def usage(self, index_id: int) -> tuple[int, int]:
        count, size = self.connection.execute(
            "SELECT count(*), coalesce(sum(size), 0) FROM index_items WHERE index_id = ?",
            (index_id,),
        ).fetchone()
        return int(count), int(size)

    def partition_size(self, index_id: int, hash_key: bytes) -> int:
        """Total entry size under one index hash key (an LSI's part of an item collection)."""
        (size,) = self.connection.execute(
            "SELECT coalesce(sum(size), 0) FROM index_items WHERE index_id = ? AND hash_key = ?",
            (index_id, hash_key),
        ).fetchone()
        return int(size)

    def cursor(self, index_id: int, bounds: KeyRange | None = None) -> Cursor:
        """A walk over the index's entries in (index key, table key) order."""
        return Cursor(self.connection, INDEX_ENTRIES, index_id, bounds)
