"""The stream log: every stream record in its final wire bytes, keyed by shard and
sequence number, and the one counter sequence numbers come from.

A record's key is its shard's pk above its sequence number's 40 bits (a trillion records:
more than an emulator ever writes), so one shard is one contiguous key range and an
append takes SQLite's cheapest insert path (this runs on every write to a stream table).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from emulator.storage.catalog import ShardRow
    from emulator.storage.engine import Engine

SEQUENCE_BITS = 40
_SEQUENCE_MASK = (1 << SEQUENCE_BITS) - 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS stream_records (
    record_key INTEGER PRIMARY KEY,
    created REAL NOT NULL,
    record BLOB NOT NULL
);
"""

#: The statement behind `insert_item_with_record`, recreated on every open so that a
#: database written by an earlier version gets the current definition. It is the one
#: place outside `StreamLog.append` where a stream record is written: a new item and its
#: INSERT record in one statement (an INSERT into the view; its INSTEAD OF trigger stores
#: the item unless it exists, and the record only when the item was stored).
_FUSED_INSERT = """
DROP TRIGGER IF EXISTS store_new_item_with_record;
DROP VIEW IF EXISTS new_items_with_records;
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


def record_key(shard_pk: int, sequence: int) -> int:
    return (shard_pk << SEQUENCE_BITS) | sequence


def sequence_of(key: int) -> int:
    return int(key) & _SEQUENCE_MASK


def shard_keys(shard_pk: int) -> tuple[int, int]:
    """[first, end) record keys of a shard."""
    return shard_pk << SEQUENCE_BITS, (shard_pk + 1) << SEQUENCE_BITS


class StreamLog:
    __slots__ = ("connection", "next_value")

    def __init__(self, engine: Engine) -> None:
        self.connection = connection = engine.connection
        connection.executescript(_SCHEMA)
        connection.executescript(_FUSED_INSERT)
        self._migrate_records()
        #: The sequence number the next record gets: above every number a shard or a
        #: record ever used (trimmed records included), so none is handed out twice.
        self.next_value = max(engine.catalog.highest_shard_sequence(), self._top_record()) + 1

    def _top_record(self) -> int:
        top = self.connection.execute(
            "SELECT coalesce(max((SELECT max(record_key) FROM stream_records "
            f"WHERE record_key >= shard_pk << {SEQUENCE_BITS} "
            f"AND record_key < (shard_pk + 1) << {SEQUENCE_BITS}) & {_SEQUENCE_MASK}), 0) "
            "FROM shards"
        ).fetchone()[0]
        return int(top or 0)

    def _migrate_records(self) -> None:
        """Move records of a data directory written before `stream_records` existed."""
        connection = self.connection
        found = connection.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'records'"
        ).fetchone()
        if found is None:
            return
        connection.execute("BEGIN IMMEDIATE")
        try:
            connection.execute(
                "INSERT INTO stream_records (record_key, created, record) "
                f"SELECT (shard_pk << {SEQUENCE_BITS}) | sequence, created, record FROM records"
            )
            connection.execute("DROP TABLE records")
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise

    def clear(self) -> None:
        self.connection.execute("DELETE FROM stream_records")

    # -- sequence numbers ---------------------------------------------------------------

    def next_sequence(self) -> int:
        """A new sequence number, greater than every one handed out before (never reused)."""
        value = self.next_value
        if value > _SEQUENCE_MASK:
            # Past 40 bits a record key would fall into the next shard's range.
            raise RuntimeError("stream sequence numbers exhausted")
        self.next_value = value + 1
        return value

    def peek_sequence(self) -> int:
        """The number the next record would get (without taking it)."""
        return self.next_value

    # -- writing ------------------------------------------------------------------------

    def append(self, shard_pk: int, sequence: int, created: float, record: bytes) -> None:
        self.connection.execute(
            "INSERT INTO stream_records (record_key, created, record) VALUES (?, ?, ?)",
            (record_key(shard_pk, sequence), created, record),
        )

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
        """Store a new item and its INSERT record in one statement (atomic on its own, so
        no explicit transaction is needed); neither is stored when the item exists.
        Whether they were stored. (A new item has no entry in the item cache to update.)"""
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
                (shard_pk << SEQUENCE_BITS) | sequence,
                created,
                record,
            ),
        )
        return connection.total_changes != before

    def drop_shard(self, shard_pk: int) -> None:
        self.connection.execute(
            "DELETE FROM stream_records WHERE record_key >= ? AND record_key < ?",
            shard_keys(shard_pk),
        )

    def trim_shard(self, shard: ShardRow, created_before: float, batch: int) -> int | None:
        """Delete up to `batch` of the shard's oldest records created before the cutoff;
        the sequence number of the last one deleted (None: nothing to trim).

        Records of a shard are created in sequence order, so the trimmed part is always a
        prefix; the caller records where it ends (TrimmedDataAccessException needs it).
        """
        first, end = shard_keys(shard.shard_pk)
        last_key, count = self.connection.execute(
            "SELECT max(record_key), count(*) FROM (SELECT record_key FROM stream_records "
            "WHERE record_key >= ? AND record_key < ? AND created < ? "
            "ORDER BY record_key LIMIT ?)",
            (first, end, created_before, batch),
        ).fetchone()
        if not count:
            return None
        self.connection.execute(
            "DELETE FROM stream_records WHERE record_key >= ? AND record_key <= ?",
            (first, last_key),
        )
        return sequence_of(last_key)

    # -- reading ------------------------------------------------------------------------

    def read(self, shard_pk: int, from_sequence: int, limit: int) -> list[tuple[int, bytes]]:
        """Records with sequence >= from_sequence, in order."""
        return [
            (sequence_of(key), bytes(record))
            for key, record in self.connection.execute(
                "SELECT record_key, record FROM stream_records "
                "WHERE record_key >= ? AND record_key < ? ORDER BY record_key LIMIT ?",
                (record_key(shard_pk, from_sequence), shard_keys(shard_pk)[1], limit),
            )
        ]

    def read_timed(
        self, shard_pk: int, from_sequence: int, limit: int
    ) -> list[tuple[int, float, bytes]]:
        """`read`, with each record's creation time (for consumers that age records)."""
        return [
            (sequence_of(key), float(created), bytes(record))
            for key, created, record in self.connection.execute(
                "SELECT record_key, created, record FROM stream_records "
                "WHERE record_key >= ? AND record_key < ? ORDER BY record_key LIMIT ?",
                (record_key(shard_pk, from_sequence), shard_keys(shard_pk)[1], limit),
            )
        ]

    def read_last(self, shard_pk: int, limit: int) -> list[tuple[int, float, bytes]]:
        """The newest `limit` records of a shard with their creation times, in order (a
        page that opens shows what was written just before)."""
        rows = self.connection.execute(
            "SELECT record_key, created, record FROM stream_records "
            "WHERE record_key >= ? AND record_key < ? ORDER BY record_key DESC LIMIT ?",
            (*shard_keys(shard_pk), limit),
        ).fetchall()
        return [(sequence_of(key), float(created), bytes(record)) for key, created, record in rows][
            ::-1
        ]

    def last_sequence(self, shard_pk: int) -> int | None:
        row = self.connection.execute(
            "SELECT max(record_key) FROM stream_records WHERE record_key >= ? AND record_key < ?",
            shard_keys(shard_pk),
        ).fetchone()
        return None if row[0] is None else sequence_of(row[0])

    def has_records_from(self, shard_pk: int, from_sequence: int) -> bool:
        return bool(
            self.connection.execute(
                "SELECT 1 FROM stream_records WHERE record_key >= ? AND record_key < ? LIMIT 1",
                (record_key(shard_pk, from_sequence), shard_keys(shard_pk)[1]),
            ).fetchone()
        )

    def count_from(self, shard_pk: int, from_sequence: int) -> int:
        row = self.connection.execute(
            "SELECT count(*) FROM stream_records WHERE record_key >= ? AND record_key < ?",
            (record_key(shard_pk, from_sequence), shard_keys(shard_pk)[1]),
        ).fetchone()
        return int(row[0])

    def oldest_time(self, shard_pk: int) -> float | None:
        row = self.connection.execute(
            "SELECT created FROM stream_records WHERE record_key >= ? AND record_key < ? "
            "ORDER BY record_key LIMIT 1",
            shard_keys(shard_pk),
        ).fetchone()
        return None if row is None else float(row[0])

    def first_sequence_at(self, shard_pk: int, created: float) -> int | None:
        """The first record of the shard created at or after `created`."""
        row = self.connection.execute(
            "SELECT record_key FROM stream_records WHERE record_key >= ? AND record_key < ? "
            "AND created >= ? ORDER BY record_key LIMIT 1",
            (*shard_keys(shard_pk), created),
        ).fetchone()
        return None if row is None else sequence_of(row[0])
