"""Kinesis data: the records of the built-in Kinesis streams' shards, and the outbox of
records a table's Kinesis destination still has to send to an external endpoint.

A record's key is its shard's pk above a 40-bit sequence number (as in the stream log),
so one shard is one contiguous key range and an append is SQLite's cheapest insert. The
sequence counter is shared by every Kinesis shard and never goes back: its high-water
mark is kept in meta whenever records that held it may disappear (trim, delete) and when
a shard is opened, so a restart never hands out a number twice.

Both tables share the engine's connection and transaction: a table write and the Kinesis
record (or outbox entry) it implies commit together.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from emulator.storage.engine import Engine

SEQUENCE_BITS = 40
_SEQUENCE_MASK = (1 << SEQUENCE_BITS) - 1
_FLOOR_META = "kinesis_sequence_floor"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS kinesis_records (
    record_key INTEGER PRIMARY KEY,
    arrival REAL NOT NULL,
    partition_key TEXT NOT NULL,
    data BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS kinesis_outbox (
    entry INTEGER PRIMARY KEY,
    stream_arn TEXT NOT NULL,
    partition_key TEXT NOT NULL,
    data BLOB NOT NULL,
    created REAL NOT NULL
);
"""


#: A new item and its Kinesis record in one statement (as the stream log's fused insert):
#: an INSERT into the view; its INSTEAD OF trigger stores the item unless it exists, and
#: the record only when the item was stored. Recreated on every open.
_FUSED_INSERT = """
DROP TRIGGER IF EXISTS store_new_item_with_kinesis_record;
DROP VIEW IF EXISTS new_items_with_kinesis_records;
CREATE VIEW new_items_with_kinesis_records
    (table_id, hash_key, range_key, size, item, expires, record_key, arrival, partition_key,
     data)
    AS SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL WHERE 0;
CREATE TRIGGER store_new_item_with_kinesis_record
    INSTEAD OF INSERT ON new_items_with_kinesis_records
BEGIN
    INSERT OR IGNORE INTO items (table_id, hash_key, range_key, size, item, expires)
        VALUES (NEW.table_id, NEW.hash_key, NEW.range_key, NEW.size, NEW.item, NEW.expires);
    INSERT INTO kinesis_records (record_key, arrival, partition_key, data)
        SELECT NEW.record_key, NEW.arrival, NEW.partition_key, NEW.data WHERE changes() = 1;
END;
"""


def shard_keys(shard_pk: int) -> tuple[int, int]:
    """[first, end) record keys of a shard."""
    return shard_pk << SEQUENCE_BITS, (shard_pk + 1) << SEQUENCE_BITS


class KinesisLog:
    __slots__ = ("_engine", "connection", "next_value")

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self.connection = engine.connection
        self.connection.executescript(_SCHEMA)
        self.connection.executescript(_FUSED_INSERT)
        top = self.connection.execute(
            f"SELECT coalesce(max(record_key & {_SEQUENCE_MASK}), 0) FROM kinesis_records"
        ).fetchone()[0]
        floor = int(engine.get_meta(_FLOOR_META) or b"0")
        #: The sequence number the next record gets.
        self.next_value = max(int(top), floor) + 1

    def clear(self) -> None:
        self.connection.execute("DELETE FROM kinesis_records")
        self.connection.execute("DELETE FROM kinesis_outbox")

    # -- sequence numbers ---------------------------------------------------------------

    def peek_sequence(self) -> int:
        return self.next_value

    def keep_high_water(self) -> None:
        """Remember the counter in meta (before records holding its top may go away, or
        when a shard starts at it)."""
        self._engine.set_meta(_FLOOR_META, str(self.next_value).encode())

    # -- records ------------------------------------------------------------------------

    def append(self, shard_pk: int, arrival: float, partition_key: str, data: bytes) -> int:
        """Store one record at the shard's next sequence number; returns the number."""
        sequence = self.next_value
        if sequence > _SEQUENCE_MASK:
            raise RuntimeError("Kinesis sequence numbers exhausted")
        self.connection.execute(
            "INSERT INTO kinesis_records (record_key, arrival, partition_key, data) "
            "VALUES (?, ?, ?, ?)",
            ((shard_pk << SEQUENCE_BITS) | sequence, arrival, partition_key, data),
        )
        self.next_value = sequence + 1
        return sequence

    def insert_item_with_record(
        self,
        table_id: int,
        hash_key: bytes,
        range_key: bytes,
        size: int,
        item: bytes,
        expires: float | None,
        shard_pk: int,
        arrival: float,
        partition_key: str,
        data: bytes,
    ) -> bool:
        """Store a new item and its Kinesis record in one statement (atomic on its own);
        neither when the item exists. Whether they were stored."""
        sequence = self.next_value
        if sequence > _SEQUENCE_MASK:
            raise RuntimeError("Kinesis sequence numbers exhausted")
        connection = self.connection
        before = connection.total_changes
        connection.execute(
            "INSERT INTO new_items_with_kinesis_records (table_id, hash_key, range_key, size, "
            "item, expires, record_key, arrival, partition_key, data) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                table_id,
                hash_key,
                range_key,
                size,
                item,
                expires,
                (shard_pk << SEQUENCE_BITS) | sequence,
                arrival,
                partition_key,
                data,
            ),
        )
        if connection.total_changes == before:
            return False
        self.next_value = sequence + 1
        return True

    def append_many(self, rows: list[tuple[int, float, str, bytes]]) -> list[int]:
        """`append` for (shard_pk, arrival, partition_key, data) rows, in order."""
        first = self.next_value
        if first + len(rows) > _SEQUENCE_MASK:
            raise RuntimeError("Kinesis sequence numbers exhausted")
        sequences = list(range(first, first + len(rows)))
        self.connection.executemany(
            "INSERT INTO kinesis_records (record_key, arrival, partition_key, data) "
            "VALUES (?, ?, ?, ?)",
            [
                ((shard_pk << SEQUENCE_BITS) | sequence, arrival, key, data)
                for sequence, (shard_pk, arrival, key, data) in zip(sequences, rows, strict=True)
            ],
        )
        self.next_value = first + len(rows)
        return sequences

    def read(
        self, shard_pk: int, from_sequence: int, limit: int
    ) -> list[tuple[int, float, str, bytes]]:
        """(sequence, arrival, partition key, data) from `from_sequence` on, in order."""
        start, end = shard_keys(shard_pk)
        return [
            (key & _SEQUENCE_MASK, arrival, partition_key, data)
            for key, arrival, partition_key, data in self.connection.execute(
                "SELECT record_key, arrival, partition_key, data FROM kinesis_records "
                "WHERE record_key >= ? AND record_key < ? ORDER BY record_key LIMIT ?",
                (start | from_sequence, end, limit),
            )
        ]

    def count_from(self, shard_pk: int, from_sequence: int) -> int:
        """How many records of the shard have a sequence number >= `from_sequence`."""
        start, end = shard_keys(shard_pk)
        row = self.connection.execute(
            "SELECT count(*) FROM kinesis_records WHERE record_key >= ? AND record_key < ?",
            (start | from_sequence, end),
        ).fetchone()
        return int(row[0])

    def last_record(self, shard_pk: int) -> tuple[int, float] | None:
        """(sequence, arrival) of the shard's newest record."""
        row = self.connection.execute(
            "SELECT record_key, arrival FROM kinesis_records WHERE record_key >= ? "
            "AND record_key < ? ORDER BY record_key DESC LIMIT 1",
            shard_keys(shard_pk),
        ).fetchone()
        return None if row is None else (row[0] & _SEQUENCE_MASK, float(row[1]))

    def first_sequence(self, shard_pk: int) -> int | None:
        """The sequence number of the shard's oldest record (its trim horizon)."""
        row = self.connection.execute(
            "SELECT record_key FROM kinesis_records WHERE record_key >= ? AND record_key < ? "
            "ORDER BY record_key LIMIT 1",
            shard_keys(shard_pk),
        ).fetchone()
        return None if row is None else int(row[0]) & _SEQUENCE_MASK

    def first_sequence_at(self, shard_pk: int, arrival: float) -> int | None:
        """The first record that arrived at or after `arrival` (AT_TIMESTAMP)."""
        start, end = shard_keys(shard_pk)
        row = self.connection.execute(
            "SELECT record_key FROM kinesis_records WHERE record_key >= ? AND record_key < ? "
            "AND arrival >= ? ORDER BY record_key LIMIT 1",
            (start, end, arrival),
        ).fetchone()
        return None if row is None else int(row[0]) & _SEQUENCE_MASK

    def trim(self, shard_pk: int, arrived_before: float, batch: int) -> int:
        """Delete up to `batch` of the shard's oldest records that arrived before the
        cutoff (arrival follows sequence order, so they are a prefix); how many."""
        start, end = shard_keys(shard_pk)
        oldest = self.connection.execute(
            "SELECT arrival FROM kinesis_records WHERE record_key >= ? AND record_key < ? "
            "ORDER BY record_key LIMIT 1",
            (start, end),
        ).fetchone()
        if oldest is None or oldest[0] >= arrived_before:
            return 0  # the common case, answered from the first row
        last_key, count = self.connection.execute(
            "SELECT max(record_key), count(*) FROM (SELECT record_key FROM kinesis_records "
            "WHERE record_key >= ? AND record_key < ? AND arrival < ? "
            "ORDER BY record_key LIMIT ?)",
            (start, end, arrived_before, batch),
        ).fetchone()
        if not count:
            return 0
        self.keep_high_water()
        self.connection.execute(
            "DELETE FROM kinesis_records WHERE record_key >= ? AND record_key <= ?",
            (start, last_key),
        )
        return int(count)

    def drop_shard(self, shard_pk: int) -> None:
        self.keep_high_water()
        self.connection.execute(
            "DELETE FROM kinesis_records WHERE record_key >= ? AND record_key < ?",
            shard_keys(shard_pk),
        )

    # -- the destination outbox ---------------------------------------------------------

    def enqueue(self, stream_arn: str, partition_key: str, data: bytes, created: float) -> None:
        self.connection.execute(
            "INSERT INTO kinesis_outbox (stream_arn, partition_key, data, created) "
            "VALUES (?, ?, ?, ?)",
            (stream_arn, partition_key, data, created),
        )

    def outbox_head(self, limit: int, after: int = 0) -> list[tuple[int, str, str, bytes, float]]:
        """(entry, stream ARN, partition key, data, created) oldest first."""
        return [
            (int(entry), arn, key, bytes(data), float(created))
            for entry, arn, key, data, created in self.connection.execute(
                "SELECT entry, stream_arn, partition_key, data, created FROM kinesis_outbox "
                "WHERE entry > ? ORDER BY entry LIMIT ?",
                (after, limit),
            )
        ]

    def outbox_size(self) -> int:
        return int(self.connection.execute("SELECT count(*) FROM kinesis_outbox").fetchone()[0])

    def dequeue(self, entries: list[int]) -> None:
        self.connection.executemany(
            "DELETE FROM kinesis_outbox WHERE entry = ?", [(entry,) for entry in entries]
        )
