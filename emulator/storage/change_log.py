"""The durable change log: every committed item change of a table whose log is on, in
commit order, with its time (µs), keys, images, origin and user identity; and the item
snapshots of on-demand backups.

Images are compacted: an entry stores its new image, and its old image only when the
log holds no earlier entry for the item (otherwise the old image *is* that entry's new
image). Trimming an entry therefore first hands its new image to the item's next entry
(`trim`), so the oldest retained entry of every item always knows what came before it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from emulator.storage.engine import Engine

_SCHEMA = """
CREATE TABLE IF NOT EXISTS change_log (
    entry_id INTEGER PRIMARY KEY,
    table_id INTEGER NOT NULL,
    time_us INTEGER NOT NULL,
    hash_key BLOB NOT NULL,
    range_key BLOB NOT NULL,
    event INTEGER NOT NULL,
    origin TEXT NOT NULL,
    identity BLOB,
    keys BLOB NOT NULL,
    new_image BLOB,
    old_image BLOB
);
CREATE INDEX IF NOT EXISTS change_log_by_item
    ON change_log (table_id, hash_key, range_key, entry_id);
CREATE INDEX IF NOT EXISTS change_log_by_time ON change_log (table_id, time_us);
DROP TRIGGER IF EXISTS store_new_item_with_entry;
DROP VIEW IF EXISTS new_items_with_entries;
CREATE VIEW new_items_with_entries
    (table_id, hash_key, range_key, size, item, expires, time_us, keys)
    AS SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL WHERE 0;
CREATE TRIGGER store_new_item_with_entry
    INSTEAD OF INSERT ON new_items_with_entries
BEGIN
    INSERT OR IGNORE INTO items (table_id, hash_key, range_key, size, item, expires)
        VALUES (NEW.table_id, NEW.hash_key, NEW.range_key, NEW.size, NEW.item, NEW.expires);
    INSERT INTO change_log (table_id, time_us, hash_key, range_key, event, origin, keys,
            new_image)
        SELECT NEW.table_id, NEW.time_us, NEW.hash_key, NEW.range_key, 1, 'user', NEW.keys,
            NEW.item
        WHERE changes() = 1;
END;
DROP TRIGGER IF EXISTS store_item_with_entry;
DROP VIEW IF EXISTS items_with_entries;
CREATE VIEW items_with_entries
    (table_id, hash_key, range_key, size, item, expires, time_us, keys)
    AS SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL WHERE 0;
CREATE TRIGGER store_item_with_entry
    INSTEAD OF INSERT ON items_with_entries
BEGIN
    INSERT INTO change_log (table_id, time_us, hash_key, range_key, event, origin, keys,
            new_image, old_image)
        SELECT NEW.table_id, NEW.time_us, NEW.hash_key, NEW.range_key,
            CASE WHEN old.item IS NULL THEN 1 ELSE 2 END, 'user', NEW.keys, NEW.item,
            CASE WHEN old.item IS NULL OR EXISTS (
                SELECT 1 FROM change_log AS earlier WHERE earlier.table_id = NEW.table_id
                AND earlier.hash_key = NEW.hash_key AND earlier.range_key = NEW.range_key)
            THEN NULL ELSE old.item END
        FROM (SELECT (SELECT item FROM items WHERE table_id = NEW.table_id
            AND hash_key = NEW.hash_key AND range_key = NEW.range_key) AS item) AS old
        WHERE old.item IS NOT NEW.item;
    INSERT OR REPLACE INTO items (table_id, hash_key, range_key, size, item, expires)
        VALUES (NEW.table_id, NEW.hash_key, NEW.range_key, NEW.size, NEW.item, NEW.expires);
END;
CREATE TABLE IF NOT EXISTS backup_items (
    backup_id TEXT NOT NULL,
    hash_key BLOB NOT NULL,
    range_key BLOB NOT NULL,
    size INTEGER NOT NULL,
    item BLOB NOT NULL,
    PRIMARY KEY (backup_id, hash_key, range_key)
) WITHOUT ROWID;
"""

INSERT, MODIFY, REMOVE = 1, 2, 3
EVENT_NAMES = {INSERT: "INSERT", MODIFY: "MODIFY", REMOVE: "REMOVE"}
EVENT_CODES = {name: code for code, name in EVENT_NAMES.items()}

#: One entry as read back: (entry_id, time_us, hash_key, range_key, event, origin,
#: identity, keys, new_image, old_image); old_image is resolved (never "see before").
Entry = tuple[int, int, bytes, bytes, int, str, bytes | None, bytes, bytes | None, bytes | None]

_COLUMNS = (
    "entry_id, time_us, hash_key, range_key, event, origin, identity, keys, new_image, old_image"
)


class ChangeLog:
    __slots__ = ("connection",)

    def __init__(self, engine: Engine) -> None:
        self.connection = engine.connection
        self.connection.executescript(_SCHEMA)

    def clear(self) -> None:
        self.connection.execute("DELETE FROM change_log")
        self.connection.execute("DELETE FROM backup_items")

    # -- writing ------------------------------------------------------------------------

    def append(
        self,
        table_id: int,
        time_us: int,
        hash_key: bytes,
        range_key: bytes,
        event: int,
        origin: str,
        identity: bytes | None,
        keys: bytes,
        new_image: bytes | None,
        old_image: bytes | None,
    ) -> None:
        """Append one entry; `old_image` only when no earlier entry of the item holds it
        (an INSERT has none)."""
        self.connection.execute(
            "INSERT INTO change_log (table_id, time_us, hash_key, range_key, event, origin, "
            "identity, keys, new_image, old_image) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                table_id,
                time_us,
                hash_key,
                range_key,
                event,
                origin,
                identity,
                keys,
                new_image,
                old_image,
            ),
        )

    def insert_item_with_entry(
        self,
        table_id: int,
        hash_key: bytes,
        range_key: bytes,
        size: int,
        item: bytes,
        expires: float | None,
        time_us: int,
        keys: bytes,
    ) -> bool:
        """Store a new item and its INSERT entry (origin user) in one statement, atomic on
        its own; neither when the item exists. Whether they were stored (the cheapest
        PutItem of a new item; `put_item_with_entry` does the rest)."""
        connection = self.connection
        before = connection.total_changes
        connection.execute(
            "INSERT INTO new_items_with_entries (table_id, hash_key, range_key, size, item, "
            "expires, time_us, keys) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (table_id, hash_key, range_key, size, item, expires, time_us, keys),
        )
        return connection.total_changes != before

    def put_item_with_entry(
        self,
        table_id: int,
        hash_key: bytes,
        range_key: bytes,
        size: int,
        item: bytes,
        expires: float | None,
        time_us: int,
        keys: bytes,
    ) -> None:
        """PutItem on a table whose only sink is its change log, in one statement (atomic
        on its own): the entry (INSERT or MODIFY, origin user; none when the stored item
        is byte for byte the same), then the item. The caller keeps the item cache exact.

        A re-put of the same item with its attributes in another order is logged as a
        MODIFY whose images are equal; readers of the log skip such entries."""
        self.connection.execute(
            "INSERT INTO items_with_entries (table_id, hash_key, range_key, size, item, "
            "expires, time_us, keys) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (table_id, hash_key, range_key, size, item, expires, time_us, keys),
        )

    def has_entry(self, table_id: int, hash_key: bytes, range_key: bytes) -> bool:
        return (
            self.connection.execute(
                "SELECT 1 FROM change_log WHERE table_id = ? AND hash_key = ? AND range_key = ? "
                "LIMIT 1",
                (table_id, hash_key, range_key),
            ).fetchone()
            is not None
        )

    def drop_table(self, table_id: int) -> None:
        self.connection.execute("DELETE FROM change_log WHERE table_id = ?", (table_id,))

    def trim(self, table_id: int, before_us: int, limit: int) -> int:
        """Delete up to `limit` of the table's oldest entries written before `before_us`,
        handing each one's new image to the item's next entry when that entry relies on
        it; returns how many were deleted."""
        connection = self.connection
        rows = connection.execute(
            "SELECT entry_id, hash_key, range_key, new_image FROM change_log "
            "WHERE table_id = ? AND time_us < ? ORDER BY time_us, entry_id LIMIT ?",
            (table_id, before_us, limit),
        ).fetchall()
        for entry_id, hash_key, range_key, new_image in rows:
            if new_image is not None:
                connection.execute(
                    "UPDATE change_log SET old_image = ? WHERE entry_id = ("
                    "SELECT entry_id FROM change_log WHERE table_id = ? AND hash_key = ? "
                    "AND range_key = ? AND entry_id > ? ORDER BY entry_id LIMIT 1) "
                    "AND event != ? AND old_image IS NULL",
                    (new_image, table_id, hash_key, range_key, entry_id, INSERT),
                )
            connection.execute("DELETE FROM change_log WHERE entry_id = ?", (entry_id,))
        return len(rows)

    def oldest_time(self, table_id: int) -> int | None:
        row = self.connection.execute(
            "SELECT min(time_us) FROM change_log WHERE table_id = ?", (table_id,)
        ).fetchone()
        return None if row[0] is None else int(row[0])

    # -- reading ------------------------------------------------------------------------

    def _resolve(self, table_id: int, row: Any) -> Entry:
        """The entry with its old image filled in from the item's previous entry."""
        if row[4] != INSERT and row[9] is None:
            previous = self.connection.execute(
                "SELECT new_image FROM change_log WHERE table_id = ? AND hash_key = ? "
                "AND range_key = ? AND entry_id < ? ORDER BY entry_id DESC LIMIT 1",
                (table_id, row[2], row[3], row[0]),
            ).fetchone()
            if previous is not None:
                row = (*row[:9], previous[0])
        return tuple(row)

    def item_history(
        self, table_id: int, hash_key: bytes, range_key: bytes, since_us: int, until_us: int
    ) -> list[Entry]:
        """One item's entries written in [since_us, until_us], oldest first."""
        rows = self.connection.execute(
            f"SELECT {_COLUMNS} FROM change_log WHERE table_id = ? AND hash_key = ? "
            "AND range_key = ? ORDER BY entry_id",
            (table_id, hash_key, range_key),
        ).fetchall()
        previous: bytes | None = None
        found: list[Entry] = []
        for row in rows:
            if row[4] != INSERT and row[9] is None:
                row = (*row[:9], previous)
            previous = row[8]
            if since_us <= row[1] <= until_us:
                found.append(row)
        return found

    def between(
        self, table_id: int, since_us: int, until_us: int, include_until: bool = True
    ) -> Iterator[Entry]:
        """The table's entries written in [since_us, until_us] (or `until_us` excluded),
        in commit order, read in chunks."""
        after = 0
        operator = "<=" if include_until else "<"
        while True:
            rows = self.connection.execute(
                f"SELECT {_COLUMNS} FROM change_log WHERE table_id = ? AND time_us >= ? "
                f"AND time_us {operator} ? AND entry_id > ? ORDER BY entry_id LIMIT 500",
                (table_id, since_us, until_us, after),
            ).fetchall()
            if not rows:
                return
            for row in rows:
                yield self._resolve(table_id, row)
            after = rows[-1][0]

    def states_before(
        self, table_id: int, after_us: int
    ) -> Iterator[tuple[bytes, bytes, bytes | None]]:
        """For every item changed after `after_us`: (hash_key, range_key, its item as it
        was at `after_us`, None when absent) — the old image of its first later entry."""
        firsts = self.connection.execute(
            "SELECT min(entry_id) FROM change_log WHERE table_id = ? AND time_us > ? "
            "GROUP BY hash_key, range_key",
            (table_id, after_us),
        ).fetchall()
        for (entry_id,) in firsts:
            row = self.connection.execute(
                f"SELECT {_COLUMNS} FROM change_log WHERE entry_id = ?", (entry_id,)
            ).fetchone()
            entry = self._resolve(table_id, row)
            yield entry[2], entry[3], None if entry[4] == INSERT else entry[9]

    # -- backups ------------------------------------------------------------------------

    def snapshot(self, backup_id: str, table_id: int) -> None:
        """Copy the table's items as they are now into a backup."""
        self.connection.execute(
            "INSERT INTO backup_items (backup_id, hash_key, range_key, size, item) "
            "SELECT ?, hash_key, range_key, size, item FROM items WHERE table_id = ?",
            (backup_id, table_id),
        )

    def backup_items(self, backup_id: str) -> Iterator[tuple[bytes, bytes, int, bytes]]:
        """(hash_key, range_key, size, item) of a backup, in key order, in chunks."""
        after: tuple[bytes, bytes] = (b"", b"")
        while True:
            rows = self.connection.execute(
                "SELECT hash_key, range_key, size, item FROM backup_items WHERE backup_id = ? "
                "AND (hash_key, range_key) > (?, ?) ORDER BY hash_key, range_key LIMIT 1000",
                (backup_id, *after),
            ).fetchall()
            if not rows:
                return
            yield from rows
            after = (rows[-1][0], rows[-1][1])

    def backup_usage(self, backup_id: str) -> tuple[int, int]:
        count, size = self.connection.execute(
            "SELECT count(*), coalesce(sum(size), 0) FROM backup_items WHERE backup_id = ?",
            (backup_id,),
        ).fetchone()
        return int(count), int(size)

    def drop_backup(self, backup_id: str) -> None:
        self.connection.execute("DELETE FROM backup_items WHERE backup_id = ?", (backup_id,))
