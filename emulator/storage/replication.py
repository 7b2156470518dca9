"""What replication keeps: the outbox of locally made writes of replicated tables, each
item's last write stamp (for last-writer-wins), and every link's progress.

- `replication_outbox`: one row per write made in this region to a table that replicates
  (a user write or a TTL delete; replicated writes are never forwarded again), keyed by
  the table id above a per-table sequence (one table is one contiguous key range, as in
  the stream log), with the write's stamp (µs) and the new item's bytes (NULL: deleted).
  Rows are dropped once every link of the table has applied them.
- `item_versions`: the stamp and origin region of the last write each item of a
  replicated table saw (deletes included: a tombstone), never an attribute of the item:
  every write made here, and the replicated writes a member of three or more regions
  applied (see `ReplicationManager.apply`).
- `replication_links`: per link (source table → destination), the last outbox sequence
  applied and, while backfilling, the last source key copied.

All of it is written in the caller's transaction, so a write, its outbox row and its
stamp commit together, and a link's progress commits with what it applied.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from emulator.storage.engine import Engine
    from emulator.storage.stream_log import StoredRecord

_SEQUENCE_BITS = 40
#: An entry key's sequence part (below its table id).
_SEQUENCE_MASK = (1 << _SEQUENCE_BITS) - 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS replication_outbox (
    entry_key INTEGER PRIMARY KEY,
    hash_key BLOB NOT NULL,
    range_key BLOB NOT NULL,
    stamp INTEGER NOT NULL,
    size INTEGER NOT NULL,
    item BLOB
);
CREATE TABLE IF NOT EXISTS item_versions (
    table_id INTEGER NOT NULL,
    hash_key BLOB NOT NULL,
    range_key BLOB NOT NULL,
    stamp INTEGER NOT NULL,
    region TEXT NOT NULL,
    PRIMARY KEY (table_id, hash_key, range_key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS replication_links (
    link TEXT PRIMARY KEY,
    applied INTEGER NOT NULL,
    backfill_hash BLOB,
    backfill_range BLOB,
    backfilling INTEGER NOT NULL DEFAULT 0,
    applied_count INTEGER NOT NULL DEFAULT 0,
    last_applied_stamp INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
"""

#: The statements behind `append` and `insert_item_with_entry`, recreated on every open so
#: that a database written by an earlier version gets the current definitions. Each is an
#: INSERT into a view whose INSTEAD OF trigger does the work inside SQLite, so a write's
#: outbox row and its item's stamp cost one statement (`queue_write`), and a new item with
#: its stream record, its outbox row and its stamp one more (`new_replicated_items`; the
#: rows after the item only when the item was stored, as in the stream log's fused insert).
_WRITES = """
DROP TRIGGER IF EXISTS outbox_stamps_item;
DROP TRIGGER IF EXISTS queue_write;
DROP VIEW IF EXISTS queued_writes;
CREATE VIEW queued_writes
    (entry_key, hash_key, range_key, stamp, size, item, table_id, region)
    AS SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL WHERE 0;
CREATE TRIGGER queue_write INSTEAD OF INSERT ON queued_writes
BEGIN
    INSERT INTO replication_outbox (entry_key, hash_key, range_key, stamp, size, item)
        VALUES (NEW.entry_key, NEW.hash_key, NEW.range_key, NEW.stamp, NEW.size, NEW.item);
    INSERT INTO item_versions (table_id, hash_key, range_key, stamp, region)
        VALUES (NEW.table_id, NEW.hash_key, NEW.range_key, NEW.stamp, NEW.region)
        ON CONFLICT (table_id, hash_key, range_key) DO UPDATE SET
            stamp = excluded.stamp, region = excluded.region;
END;
DROP TRIGGER IF EXISTS store_new_replicated_item;
DROP VIEW IF EXISTS new_replicated_items;
CREATE VIEW new_replicated_items
    (table_id, hash_key, range_key, size, item, expires, record_key, created, form, event_id,
     record_region, keys, new_image, record_size, entry_key, stamp, region)
    AS SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
        NULL, NULL, NULL, NULL WHERE 0;
CREATE TRIGGER store_new_replicated_item INSTEAD OF INSERT ON new_replicated_items
BEGIN
    INSERT OR IGNORE INTO items (table_id, hash_key, range_key, size, item, expires)
        VALUES (NEW.table_id, NEW.hash_key, NEW.range_key, NEW.size, NEW.item, NEW.expires);
    INSERT INTO stream_records (record_key, created, record, form, event_id, region, keys,
            new_image, size)
        SELECT NEW.record_key, NEW.created, x'', NEW.form, NEW.event_id, NEW.record_region,
            NEW.keys, NEW.new_image, NEW.record_size WHERE changes() = 1;
    INSERT INTO replication_outbox (entry_key, hash_key, range_key, stamp, size, item)
        SELECT NEW.entry_key, NEW.hash_key, NEW.range_key, NEW.stamp, NEW.size, NEW.item
        WHERE changes() = 1;
    INSERT INTO item_versions (table_id, hash_key, range_key, stamp, region)
        SELECT NEW.table_id, NEW.hash_key, NEW.range_key, NEW.stamp, NEW.region
        WHERE changes() = 1
        ON CONFLICT (table_id, hash_key, range_key) DO UPDATE SET
            stamp = excluded.stamp, region = excluded.region;
END;
"""

#: (entry sequence, hash_key, range_key, stamp µs, size, item bytes or None)
OutboxEntry = tuple[int, bytes, bytes, int, int, bytes | None]
#: An outbox entry with what its destination holds for the key: (entry sequence,
#: hash_key, range_key, stamp µs, size, item bytes or None, the destination's stamp and
#: region or None, None, and its item's size and bytes or None, None).
ApplyEntry = tuple[
    int, bytes, bytes, int, int, bytes | None, int | None, str | None, int | None, bytes | None
]


class LinkProgress:
    """A link's stored position (mutable: the replicator moves it, then saves it)."""

    __slots__ = (
        "applied",
        "applied_count",
        "backfill_hash",
        "backfill_range",
        "backfilling",
        "last_applied_stamp",
        "link",
    )

    def __init__(
        self,
        link: str,
        applied: int,
        backfill_hash: bytes | None,
        backfill_range: bytes | None,
        backfilling: bool,
        applied_count: int = 0,
        last_applied_stamp: int = 0,
    ) -> None:
        self.link = link
        self.applied = applied
        self.backfill_hash = backfill_hash
        self.backfill_range = backfill_range
        self.backfilling = backfilling
        self.applied_count = applied_count
        self.last_applied_stamp = last_applied_stamp


class ReplicationStore:
    __slots__ = ("_links", "_next", "connection")

    def __init__(self, engine: Engine) -> None:
        self.connection = engine.connection
        self.connection.executescript(_SCHEMA)
        self.connection.executescript(_WRITES)
        #: table_id -> the next outbox sequence (loaded lazily from the stored maximum).
        self._next: dict[int, int] = {}
        #: Every link's progress, as stored (loaded lazily; read on every pass).
        self._links: dict[str, LinkProgress] | None = None

    def clear(self) -> None:
        for name in ("replication_outbox", "item_versions", "replication_links"):
            self.connection.execute(f"DELETE FROM {name}")
        self._next.clear()
        self._links = {}

    def forget_counters(self) -> None:
        """After a rollback: sequences and positions are read again from what is stored."""
        self._next.clear()
        self._links = None

    # -- the outbox ---------------------------------------------------------------------

    def tip(self, table_id: int) -> int:
        """The last outbox sequence used for the table (0: none)."""
        following = self._next.get(table_id)
        if following is not None:
            return following - 1
        low = table_id << _SEQUENCE_BITS
        row = self.connection.execute(
            "SELECT max(entry_key) FROM replication_outbox WHERE entry_key >= ? AND entry_key < ?",
            (low, low + (1 << _SEQUENCE_BITS)),
        ).fetchone()
        last = 0 if row[0] is None else int(row[0]) - low
        stored = self.connection.execute(
            "SELECT max(applied) FROM replication_links WHERE link LIKE ?", (f"{table_id}>%",)
        ).fetchone()[0]
        last = max(last, int(stored or 0))
        self._next[table_id] = last + 1
        return last

    def append(
        self,
        table_id: int,
        region: str,
        hash_key: bytes,
        range_key: bytes,
        stamp: int,
        size: int,
        item: bytes | None,
    ) -> None:
        """Queue a local write and store its stamp (one statement: `queue_write`)."""
        sequence = self._next.get(table_id)
        if sequence is None:
            sequence = self.tip(table_id) + 1
        self._next[table_id] = sequence + 1
        self.connection.execute(
            "INSERT INTO queued_writes (entry_key, hash_key, range_key, stamp, size, item, "
            "table_id, region) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                (table_id << _SEQUENCE_BITS) | sequence,
                hash_key,
                range_key,
                stamp,
                size,
                item,
                table_id,
                region,
            ),
        )

    def insert_item_with_entry(
        self,
        table_id: int,
        region: str,
        hash_key: bytes,
        range_key: bytes,
        size: int,
        item: bytes,
        expires: float | None,
        record_key: int,
        created: float,
        record: StoredRecord,
        stamp: int,
    ) -> bool:
        """Store a new item with its stream record, its outbox row and its stamp in one
        statement (atomic on its own); none of them when the item exists. Whether they
        were stored. The record keeps its own new image (it never refers to the item)."""
        sequence = self._next.get(table_id)
        if sequence is None:
            sequence = self.tip(table_id) + 1
        form, event_id, record_region, keys, new_image, _, record_size, _ = record
        if new_image is None and form & 4:
            new_image = item
        connection = self.connection
        before = connection.total_changes
        connection.execute(
            "INSERT INTO new_replicated_items (table_id, hash_key, range_key, size, item, "
            "expires, record_key, created, form, event_id, record_region, keys, new_image, "
            "record_size, entry_key, stamp, region) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                table_id,
                hash_key,
                range_key,
                size,
                item,
                expires,
                record_key,
                created,
                form,
                event_id,
                record_region,
                keys,
                new_image,
                record_size,
                (table_id << _SEQUENCE_BITS) | sequence,
                stamp,
                region,
            ),
        )
        if connection.total_changes == before:
            return False
        self._next[table_id] = sequence + 1
        return True

    def read(self, table_id: int, after: int, limit: int) -> list[OutboxEntry]:
        low = table_id << _SEQUENCE_BITS
        rows: list[OutboxEntry] = self.connection.execute(
            "SELECT entry_key & ?, hash_key, range_key, stamp, size, item FROM "
            "replication_outbox WHERE entry_key > ? AND entry_key < ? ORDER BY entry_key "
            "LIMIT ?",
            (_SEQUENCE_MASK, low | after, low + (1 << _SEQUENCE_BITS), limit),
        ).fetchall()
        return rows

    def read_for(
        self, table_id: int, after: int, limit: int, destination_id: int
    ) -> list[ApplyEntry]:
        """The next outbox entries of a table, each with the destination table's stamp and
        item for its key (one query for a whole batch: no lookup per entry)."""
        low = table_id << _SEQUENCE_BITS
        rows: list[ApplyEntry] = self.connection.execute(
            "SELECT o.entry_key & ?5, o.hash_key, o.range_key, o.stamp, o.size, o.item, "
            "v.stamp, v.region, i.size, i.item FROM replication_outbox AS o "
            "LEFT JOIN item_versions AS v ON v.table_id = ?1 "
            "AND v.hash_key = o.hash_key AND v.range_key = o.range_key "
            "LEFT JOIN items AS i ON i.table_id = ?1 "
            "AND i.hash_key = o.hash_key AND i.range_key = o.range_key "
            "WHERE o.entry_key > ?2 AND o.entry_key < ?3 ORDER BY o.entry_key LIMIT ?4",
            (
                destination_id,
                low | after,
                low + (1 << _SEQUENCE_BITS),
                limit,
                _SEQUENCE_MASK,
            ),
        ).fetchall()
        return rows

    def pending(self, table_id: int, after: int) -> int:
        low = table_id << _SEQUENCE_BITS
        row = self.connection.execute(
            "SELECT count(*) FROM replication_outbox WHERE entry_key > ? AND entry_key < ?",
            (low | after, low + (1 << _SEQUENCE_BITS)),
        ).fetchone()
        return int(row[0])

    def trim(self, table_id: int, through: int) -> None:
        """Drop the table's entries up to sequence `through` (every link applied them)."""
        low = table_id << _SEQUENCE_BITS
        self.connection.execute(
            "DELETE FROM replication_outbox WHERE entry_key >= ? AND entry_key <= ?",
            (low, low | through),
        )

    def drop_table(self, table_id: int) -> None:
        """Everything kept for a table that no longer replicates (or no longer exists)."""
        self.trim(table_id, _SEQUENCE_MASK)
        self.connection.execute("DELETE FROM item_versions WHERE table_id = ?", (table_id,))
        self._next.pop(table_id, None)

    # -- item stamps --------------------------------------------------------------------

    def set_version(
        self, table_id: int, hash_key: bytes, range_key: bytes, stamp: int, region: str
    ) -> None:
        self.connection.execute(
            "INSERT INTO item_versions (table_id, hash_key, range_key, stamp, region) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (table_id, hash_key, range_key) DO UPDATE SET "
            "stamp = excluded.stamp, region = excluded.region",
            (table_id, hash_key, range_key, stamp, region),
        )

    def set_versions(self, versions: list[tuple[int, bytes, bytes, int, str]]) -> None:
        """`set_version` for many items: (table_id, hash_key, range_key, stamp, region)."""
        self.connection.executemany(
            "INSERT INTO item_versions (table_id, hash_key, range_key, stamp, region) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (table_id, hash_key, range_key) DO UPDATE SET "
            "stamp = excluded.stamp, region = excluded.region",
            versions,
        )

    def highest_stamp(self) -> int:
        row = self.connection.execute(
            "SELECT max(coalesce((SELECT max(stamp) FROM item_versions), 0), "
            "coalesce((SELECT max(stamp) FROM replication_outbox), 0))"
        ).fetchone()
        return int(row[0] or 0)

    def items_after(
        self, table_id: int, hash_key: bytes | None, range_key: bytes | None, limit: int
    ) -> list[tuple[bytes, bytes, int, bytes]]:
        """A backfill's next items of a table in key order: (hash, range, size, item)."""
        if hash_key is None:
            rows = self.connection.execute(
                "SELECT hash_key, range_key, size, item FROM items WHERE table_id = ? "
                "ORDER BY hash_key, range_key LIMIT ?",
                (table_id, limit),
            )
        else:
            rows = self.connection.execute(
                "SELECT hash_key, range_key, size, item FROM items WHERE table_id = ? "
                "AND (hash_key, range_key) > (?, ?) ORDER BY hash_key, range_key LIMIT ?",
                (table_id, hash_key, range_key, limit),
            )
        return [(bytes(h), bytes(r), int(s), bytes(i)) for h, r, s, i in rows]

    # -- links --------------------------------------------------------------------------

    def _cache(self) -> dict[str, LinkProgress]:
        links = self._links
        if links is None:
            links = self._links = {
                link: LinkProgress(
                    link,
                    int(applied),
                    None if backfill_hash is None else bytes(backfill_hash),
                    None if backfill_range is None else bytes(backfill_range),
                    bool(backfilling),
                    int(count),
                    int(last),
                )
                for link, applied, backfill_hash, backfill_range, backfilling, count, last in (
                    self.connection.execute(
                        "SELECT link, applied, backfill_hash, backfill_range, backfilling, "
                        "applied_count, last_applied_stamp FROM replication_links"
                    )
                )
            }
        return links

    def link(self, link: str) -> LinkProgress | None:
        return self._cache().get(link)

    def save_link(self, progress: LinkProgress) -> None:
        self.connection.execute(
            "INSERT INTO replication_links (link, applied, backfill_hash, backfill_range, "
            "backfilling, applied_count, last_applied_stamp) VALUES (?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (link) DO UPDATE SET applied = excluded.applied, "
            "backfill_hash = excluded.backfill_hash, backfill_range = excluded.backfill_range, "
            "backfilling = excluded.backfilling, applied_count = excluded.applied_count, "
            "last_applied_stamp = excluded.last_applied_stamp",
            (
                progress.link,
                progress.applied,
                progress.backfill_hash,
                progress.backfill_range,
                int(progress.backfilling),
                progress.applied_count,
                progress.last_applied_stamp,
            ),
        )
        self._cache()[progress.link] = progress

    def drop_link(self, link: str) -> None:
        self.connection.execute("DELETE FROM replication_links WHERE link = ?", (link,))
        self._cache().pop(link, None)

    def links(self) -> list[str]:
        return list(self._cache())

    def versions_between(
        self, table_id: int, first: tuple[bytes, bytes], last: tuple[bytes, bytes]
    ) -> dict[tuple[bytes, bytes], tuple[int, str]]:
        """The stamps of a table's items with keys in [first, last] (a backfill chunk)."""
        return {
            (bytes(h), bytes(r)): (int(stamp), str(region))
            for h, r, stamp, region in self.connection.execute(
                "SELECT hash_key, range_key, stamp, region FROM item_versions WHERE table_id = ? "
                "AND (hash_key, range_key) >= (?, ?) AND (hash_key, range_key) <= (?, ?)",
                (table_id, *first, *last),
            )
        }
