"""The stream log: every stream record, keyed by shard and sequence number, and the one
counter sequence numbers come from.

A record's key is its shard's pk above its sequence number's 40 bits (a trillion records:
more than an emulator ever writes), so one shard is one contiguous key range and an
append takes SQLite's cheapest insert path (this runs on every write to a stream table).

Records are stored compactly, as their parts (`StoredRecord`): about 60 bytes besides
the keys and images, where the wire JSON spends some 300 on field names, a hex eventID,
eventSource, the view type's name. Reading puts the wire form back together in SQL
(`WIRE_COLUMN`), byte for byte what GetRecords sends. The new image of an INSERT
stored with its item (`insert_item_with_record`, most records) is not stored twice: the
record refers to the item (`ref_*`), which notes the record (`items.record_ref`); before such an
item is replaced or deleted, however that happens, a trigger copies its image into the
record (`keep_record_image_*`), so a record's image is always the one at its time.
Rows written before this layout hold their wire JSON in `record` and are read as such.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from emulator.storage.catalog import ShardRow
    from emulator.storage.engine import Engine

SEQUENCE_BITS = 40
_SEQUENCE_MASK = (1 << SEQUENCE_BITS) - 1

#: The parts of a record (see `streams.records.build_record`): form (EVENT_CODES |
#: VIEW_CODES), eventID (16 bytes), awsRegion (JSON), Keys (JSON), NewImage (JSON or None),
#: OldImage (JSON or None), SizeBytes, userIdentity (JSON or None).
StoredRecord = tuple[int, bytes, bytes, bytes, bytes | None, bytes | None, int, bytes | None]

EVENT_CODES = {"INSERT": 1, "MODIFY": 2, "REMOVE": 3}
VIEW_CODES = {"KEYS_ONLY": 0, "NEW_IMAGE": 4, "OLD_IMAGE": 8, "NEW_AND_OLD_IMAGES": 12}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS stream_records (
    record_key INTEGER PRIMARY KEY,
    created REAL NOT NULL,
    record BLOB NOT NULL
);
"""

#: Columns added to `stream_records` for the compact layout (added to a database written
#: before it, whose rows keep their wire JSON in `record`), and to `items`.
_RECORD_COLUMNS = (
    ("form", "INTEGER"),
    ("event_id", "BLOB"),
    ("region", "BLOB"),
    ("keys", "BLOB"),
    ("new_image", "BLOB"),
    ("old_image", "BLOB"),
    ("size", "INTEGER"),
    ("identity", "BLOB"),
    ("ref_table", "INTEGER"),
    ("ref_hash", "BLOB"),
    ("ref_range", "BLOB"),
)

#: The wire form of a record `r` (with `i`, the item it refers to, if any).
WIRE_COLUMN = f"""CASE WHEN r.form IS NULL THEN r.record ELSE CAST(printf(
    '{{"eventID":"%s","eventName":"%s","eventVersion":"1.1","eventSource":"aws:dynamodb",'
    || '"awsRegion":%s,"dynamodb":{{"ApproximateCreationDateTime":%d,"Keys":%s%s%s,'
    || '"SequenceNumber":"1%020d","SizeBytes":%d,"StreamViewType":"%s"}}%s}}',
    lower(hex(r.event_id)),
    CASE r.form & 3 WHEN 1 THEN 'INSERT' WHEN 2 THEN 'MODIFY' ELSE 'REMOVE' END,
    r.region, CAST(r.created AS INTEGER), r.keys,
    ',"NewImage":' || coalesce(r.new_image, i.item),
    ',"OldImage":' || r.old_image,
    r.record_key & {(1 << SEQUENCE_BITS) - 1}, r.size,
    CASE r.form >> 2 WHEN 0 THEN 'KEYS_ONLY' WHEN 1 THEN 'NEW_IMAGE' WHEN 2 THEN 'OLD_IMAGE'
        ELSE 'NEW_AND_OLD_IMAGES' END,
    ',"userIdentity":' || r.identity) AS BLOB) END"""

WIRE_FROM = """FROM stream_records AS r LEFT JOIN items AS i ON r.ref_table IS NOT NULL
    AND i.table_id = r.ref_table AND i.hash_key = r.ref_hash AND i.range_key = r.ref_range"""

#: Before an item a record refers to changes or goes, its image moves into the record.
#: (`INSERT OR REPLACE` deletes the row it replaces: the delete trigger covers it, with
#: recursive triggers on, as the engine's connection has them.)
_KEEP_IMAGES = """
CREATE TRIGGER IF NOT EXISTS keep_record_image_on_delete
    BEFORE DELETE ON items WHEN OLD.record_ref IS NOT NULL
BEGIN
    UPDATE stream_records SET new_image = OLD.item, ref_table = NULL, ref_hash = NULL,
        ref_range = NULL WHERE record_key = OLD.record_ref AND ref_table IS NOT NULL;
END;
CREATE TRIGGER IF NOT EXISTS keep_record_image_on_update
    BEFORE UPDATE OF item ON items WHEN OLD.record_ref IS NOT NULL
BEGIN
    UPDATE stream_records SET new_image = OLD.item, ref_table = NULL, ref_hash = NULL,
        ref_range = NULL WHERE record_key = OLD.record_ref AND ref_table IS NOT NULL;
END;
CREATE TRIGGER IF NOT EXISTS forget_record_on_update
    AFTER UPDATE OF item ON items WHEN OLD.record_ref IS NOT NULL
BEGIN
    UPDATE items SET record_ref = NULL WHERE table_id = NEW.table_id
        AND hash_key = NEW.hash_key AND range_key = NEW.range_key;
END;
"""

#: The statement behind `insert_item_with_record`, recreated on every open so that a
#: database written by an earlier version gets the current definition. It is the one
#: place outside `StreamLog.append` where a stream record is written: a new item and its
#: INSERT record in one statement (an INSERT into the view; its INSTEAD OF trigger stores
#: the item unless it exists, and the record only when the item was stored). A record
#: without its new image (`new_image` NULL, a view type with new images) refers to the
#: item for it.
_FUSED_INSERT = """
DROP TRIGGER IF EXISTS store_new_item_with_record;
DROP VIEW IF EXISTS new_items_with_records;
CREATE VIEW new_items_with_records
    (table_id, hash_key, range_key, size, item, expires, record_key, created, form, event_id,
     region, keys, new_image, record_size)
    AS SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
        NULL WHERE 0;
CREATE TRIGGER store_new_item_with_record
    INSTEAD OF INSERT ON new_items_with_records
BEGIN
    INSERT OR IGNORE INTO items (table_id, hash_key, range_key, size, item, expires,
            record_ref)
        VALUES (NEW.table_id, NEW.hash_key, NEW.range_key, NEW.size, NEW.item, NEW.expires,
            CASE WHEN NEW.new_image IS NULL AND NEW.form & 4 THEN NEW.record_key END);
    INSERT INTO stream_records (record_key, created, record, form, event_id, region, keys,
            new_image, size, ref_table, ref_hash, ref_range)
        SELECT NEW.record_key, NEW.created, x'', NEW.form, NEW.event_id, NEW.region, NEW.keys,
            NEW.new_image, NEW.record_size, CASE WHEN ref.ok THEN NEW.table_id END,
            CASE WHEN ref.ok THEN NEW.hash_key END, CASE WHEN ref.ok THEN NEW.range_key END
        FROM (SELECT NEW.new_image IS NULL AND NEW.form & 4 AS ok) AS ref
        WHERE changes() = 1;
END;
"""


_RANGE = "WHERE r.record_key >= ? AND r.record_key < ? ORDER BY r.record_key LIMIT ?"
_READ = f"SELECT r.record_key, {WIRE_COLUMN} {WIRE_FROM} {_RANGE}"
_READ_TIMED = f"SELECT r.record_key, r.created, {WIRE_COLUMN} {WIRE_FROM} {_RANGE}"
_READ_KEYS = f"SELECT r.record_key FROM stream_records AS r {_RANGE}"

#: `WIRE_COLUMN` in Python, for the recent records kept ready (`StreamLog._recent`).
_WIRE_FORMAT = (
    b'{"eventID":"%s","eventName":"%s","eventVersion":"1.1","eventSource":"aws:dynamodb",'
    b'"awsRegion":%s,"dynamodb":{"ApproximateCreationDateTime":%d,"Keys":%s%s%s,'
    b'"SequenceNumber":"1%020d","SizeBytes":%d,"StreamViewType":"%s"}%s}'
)
_EVENT_NAMES = {1: b"INSERT", 2: b"MODIFY", 3: b"REMOVE"}
_VIEW_NAMES = {0: b"KEYS_ONLY", 1: b"NEW_IMAGE", 2: b"OLD_IMAGE", 3: b"NEW_AND_OLD_IMAGES"}
#: How many bytes of the most recent records' wire forms are kept in memory: readers
#: mostly read the tail of a stream, which then costs no SQL to put together.
RECENT_BYTES = 4 * 1024 * 1024


def wire_form(key: int, created: float, record: StoredRecord, new_image: bytes | None) -> bytes:
    """`WIRE_COLUMN` of a record with key (or sequence number) `key`, in Python."""
    form, event_id, region, keys, _, old_image, size, identity = record
    return _WIRE_FORMAT % (
        event_id.hex().encode(),
        _EVENT_NAMES[form & 3],
        region,
        int(created),
        keys,
        b"" if new_image is None else b',"NewImage":' + new_image,
        b"" if old_image is None else b',"OldImage":' + old_image,
        key & _SEQUENCE_MASK,
        size,
        _VIEW_NAMES[form >> 2],
        b"" if identity is None else b',"userIdentity":' + identity,
    )


#: `StreamLog.append` of a record whose new image is the item just stored: the record
#: refers to the item instead, if the item is as the record says and no other record
#: refers to it (else the image is stored in the record).
_APPEND_REFERRING = """
DROP TRIGGER IF EXISTS store_record_of_stored_item;
DROP VIEW IF EXISTS records_of_stored_items;
CREATE VIEW records_of_stored_items
    (record_key, created, form, event_id, region, keys, new_image, old_image, size, identity,
     table_id, hash_key, range_key)
    AS SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
    WHERE 0;
CREATE TRIGGER store_record_of_stored_item
    INSTEAD OF INSERT ON records_of_stored_items
BEGIN
    UPDATE items SET record_ref = NEW.record_key WHERE table_id = NEW.table_id
        AND hash_key = NEW.hash_key AND range_key = NEW.range_key AND record_ref IS NULL
        AND item = NEW.new_image;
    INSERT INTO stream_records (record_key, created, record, form, event_id, region, keys,
            new_image, old_image, size, identity, ref_table, ref_hash, ref_range)
        SELECT NEW.record_key, NEW.created, x'', NEW.form, NEW.event_id, NEW.region, NEW.keys,
            CASE WHEN ref.ok THEN NULL ELSE NEW.new_image END, NEW.old_image, NEW.size,
            NEW.identity, CASE WHEN ref.ok THEN NEW.table_id END,
            CASE WHEN ref.ok THEN NEW.hash_key END, CASE WHEN ref.ok THEN NEW.range_key END
        FROM (SELECT changes() = 1 AS ok) AS ref;
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
    __slots__ = ("_recent", "_recent_bytes", "connection", "next_value", "refers")

    def __init__(self, engine: Engine) -> None:
        self.connection = connection = engine.connection
        #: Whether INSERT records refer to their items for the new image: in memory only,
        #: where memory is what it saves (a data directory keeps every image in its record,
        #: one page less to write when an item changes).
        self.refers = engine.path == ":memory:"
        connection.executescript(_SCHEMA)
        self._add_columns()
        # Replacing a row deletes it: let that fire the delete trigger of _KEEP_IMAGES.
        connection.execute("PRAGMA recursive_triggers = ON")
        connection.executescript(_KEEP_IMAGES)
        connection.executescript(_FUSED_INSERT)
        connection.executescript(_APPEND_REFERRING)
        self._migrate_records()
        #: The sequence number the next record gets: above every number a shard or a
        #: record ever used (trimmed records included), so none is handed out twice.
        self.next_value = max(engine.catalog.highest_shard_sequence(), self._top_record()) + 1
        #: record key -> (created, wire form) of the latest records written, oldest first,
        #: RECENT_BYTES at most: what readers of a stream's tail get without SQL.
        #: (An OrderedDict: a plain dict popped from the front rescans the slots it freed
        #: on every `next(iter(...))`, microseconds per write once full.)
        self._recent: OrderedDict[int, tuple[float, bytes]] = OrderedDict()
        self._recent_bytes = 0

    def _top_record(self) -> int:
        top = self.connection.execute(
            "SELECT coalesce(max((SELECT max(record_key) FROM stream_records "
            f"WHERE record_key >= shard_pk << {SEQUENCE_BITS} "
            f"AND record_key < (shard_pk + 1) << {SEQUENCE_BITS}) & {_SEQUENCE_MASK}), 0) "
            "FROM shards"
        ).fetchone()[0]
        return int(top or 0)

    def _add_columns(self) -> None:
        """The compact layout's columns, added to a database written before it."""
        connection = self.connection
        have = {row[1] for row in connection.execute("PRAGMA table_info(stream_records)")}
        for name, kind in _RECORD_COLUMNS:
            if name not in have:
                connection.execute(f"ALTER TABLE stream_records ADD COLUMN {name} {kind}")
        item_columns = {row[1] for row in connection.execute("PRAGMA table_info(items)")}
        if "record_ref" not in item_columns:
            connection.execute("ALTER TABLE items ADD COLUMN record_ref INTEGER")

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
        self.forget_recent()

    def forget_recent(self) -> None:
        """Drop the recent records kept ready (a rollback may have undone some: their
        keys are handed out again)."""
        self._recent.clear()
        self._recent_bytes = 0

    def keep_recent(self, key: int, created: float, record: StoredRecord, item: bytes) -> None:
        """Keep ready the wire form of a record stored by another store's statement
        (`item`: the new item, the record's new image when it has none of its own)."""
        image = item if record[4] is None and record[0] & 4 else record[4]
        self._keep(key, created, wire_form(key, created, record, image))

    def _keep(self, key: int, created: float, wire: bytes) -> None:
        recent = self._recent
        recent[key] = (created, wire)
        self._recent_bytes += len(wire)
        while self._recent_bytes > RECENT_BYTES:
            self._recent_bytes -= len(recent.popitem(last=False)[1][1])

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

    def append(
        self,
        shard_pk: int,
        sequence: int,
        created: float,
        record: StoredRecord,
        item: tuple[int, bytes, bytes] | None = None,
    ) -> None:
        """Store a record; `item` (table_id, hash_key, range_key): the stored item whose
        bytes are the record's new image, which the record then refers to."""
        key = record_key(shard_pk, sequence)
        self._keep(key, created, wire_form(key, created, record, record[4]))
        if item is not None and record[4] is not None and self.refers:
            self.connection.execute(
                "INSERT INTO records_of_stored_items (record_key, created, form, event_id, "
                "region, keys, new_image, old_image, size, identity, table_id, hash_key, "
                "range_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (key, created, *record, *item),
            )
            return
        self.connection.execute(
            "INSERT INTO stream_records (record_key, created, record, form, event_id, region, "
            "keys, new_image, old_image, size, identity) "
            "VALUES (?, ?, x'', ?, ?, ?, ?, ?, ?, ?, ?)",
            (key, created, *record),
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
        record: StoredRecord,
    ) -> bool:
        """Store a new item and its INSERT record in one statement (atomic on its own, so
        no explicit transaction is needed); neither is stored when the item exists.
        Whether they were stored. (A new item has no entry in the item cache to update.)
        A record without its new image gets the item's (it refers to the item)."""
        connection = self.connection
        before = connection.total_changes
        form, event_id, region, keys, new_image, _, record_size, _ = record
        if new_image is None and form & 4 and not self.refers:
            new_image = item
        key = (shard_pk << SEQUENCE_BITS) | sequence
        connection.execute(
            "INSERT INTO new_items_with_records (table_id, hash_key, range_key, size, item, "
            "expires, record_key, created, form, event_id, region, keys, new_image, "
            "record_size) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                table_id,
                hash_key,
                range_key,
                size,
                item,
                expires,
                key,
                created,
                form,
                event_id,
                region,
                keys,
                new_image,
                record_size,
            ),
        )
        if connection.total_changes == before:
            return False
        image = item if new_image is None and form & 4 else new_image
        self._keep(key, created, wire_form(key, created, record, image))
        return True

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
        """Records (their wire JSON) with sequence >= from_sequence, in order."""
        recent = self._recent_range(shard_pk, from_sequence, limit)
        if recent is not None:
            return [(key & _SEQUENCE_MASK, wire) for key, _, wire in recent]
        return [
            (key & _SEQUENCE_MASK, record)
            for key, record in self.connection.execute(
                _READ, (record_key(shard_pk, from_sequence), shard_keys(shard_pk)[1], limit)
            )
        ]

    def read_timed(
        self, shard_pk: int, from_sequence: int, limit: int
    ) -> list[tuple[int, float, bytes]]:
        """`read`, with each record's creation time (for consumers that age records)."""
        recent = self._recent_range(shard_pk, from_sequence, limit)
        if recent is not None:
            return [(key & _SEQUENCE_MASK, created, wire) for key, created, wire in recent]
        return [
            (key & _SEQUENCE_MASK, float(created), record)
            for key, created, record in self.connection.execute(
                _READ_TIMED, (record_key(shard_pk, from_sequence), shard_keys(shard_pk)[1], limit)
            )
        ]

    def _recent_range(
        self, shard_pk: int, from_sequence: int, limit: int
    ) -> list[tuple[int, float, bytes]] | None:
        """The records `read` would return, when all of them are kept ready (else None).
        Which records exist is still SQLite's to say (trimming deletes there)."""
        recent = self._recent
        if not recent:
            return None
        found = []
        for (key,) in self.connection.execute(
            _READ_KEYS, (record_key(shard_pk, from_sequence), shard_keys(shard_pk)[1], limit)
        ):
            kept = recent.get(key)
            if kept is None:
                return None
            found.append((key, *kept))
        return found

    def read_last(self, shard_pk: int, limit: int) -> list[tuple[int, float, bytes]]:
        """The newest `limit` records of a shard with their creation times, in order (a
        page that opens shows what was written just before)."""
        rows = self.connection.execute(
            f"SELECT r.record_key, r.created, {WIRE_COLUMN} {WIRE_FROM} "
            "WHERE r.record_key >= ? AND r.record_key < ? ORDER BY r.record_key DESC LIMIT ?",
            (*shard_keys(shard_pk), limit),
        ).fetchall()
        return [(key & _SEQUENCE_MASK, float(created), record) for key, created, record in rows][
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
