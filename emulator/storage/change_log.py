"""The durable change log: every committed item change of a table whose log is on, in
commit order, with its time (µs), key, old image, origin and user identity; and the item
snapshots of on-demand backups.

Images are compacted: an entry stores only the item as it was *before* the change (none
for an INSERT). Its new image is the next entry's old image, or, for the item's latest
entry, the item as stored now — a change log entry is never written without its item
change, and a table whose changes stop being logged loses its log (see
`runtime.backend`). A new item therefore costs a row without any image, and trimming old
entries never has to hand anything on.

A table's entries are one rowid range (`entry_id = table_id << 40 | n`, `n` growing in
commit order): reading or trimming a table is a range of the primary key, and since the
clock never goes backwards (times are also clamped here) the range is in time order too,
so instants are found by bisection and no index on time is kept. The one index is by
item, for an item's history.

Deferred INSERT entries: the one-statement PutItem path keeps a new item's INSERT entry
(its id and time; it has no image) in the item's own row (`items.insert_entry`,
`insert_time`) instead of a row here, so a new item costs one row. Table
`deferred_inserts` names the tables whose items may hold one (with the earliest time).
They are written out as rows ("settled") before anything reads the table's entries in
bulk or trims them, and an item's before any other write path changes or deletes it
(`settle_item`); an item's history reads its row's entry directly.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from emulator.storage.engine import Engine

#: Bits of an entry id below its table id.
TABLE_SHIFT = 40

_SCHEMA = """
CREATE TABLE IF NOT EXISTS item_changes (
    entry_id INTEGER PRIMARY KEY,
    time_us INTEGER NOT NULL,
    hash_key BLOB NOT NULL,
    range_key BLOB NOT NULL,
    event INTEGER NOT NULL,
    origin TEXT NOT NULL,
    identity BLOB,
    old_image BLOB
);
CREATE INDEX IF NOT EXISTS item_changes_by_item
    ON item_changes (hash_key, range_key, entry_id);
DROP TRIGGER IF EXISTS store_new_item_with_entry;
DROP VIEW IF EXISTS new_items_with_entries;
CREATE TABLE IF NOT EXISTS deferred_inserts (
    table_id INTEGER PRIMARY KEY,
    since_us INTEGER NOT NULL
);
DROP TRIGGER IF EXISTS store_item_with_entry;
DROP VIEW IF EXISTS items_with_entries;
CREATE VIEW items_with_entries
    (table_id, hash_key, range_key, size, item, expires, entry_id, time_us)
    AS SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL WHERE 0;
CREATE TRIGGER store_item_with_entry
    INSTEAD OF INSERT ON items_with_entries
BEGIN
    INSERT INTO item_changes (entry_id, time_us, hash_key, range_key, event, origin,
            old_image)
        SELECT NEW.entry_id, NEW.time_us, NEW.hash_key, NEW.range_key, 2, 'user', item
        FROM items WHERE table_id = NEW.table_id AND hash_key = NEW.hash_key
            AND range_key = NEW.range_key AND item IS NOT NEW.item;
    INSERT INTO items (table_id, hash_key, range_key, size, item, expires, insert_entry,
            insert_time)
        VALUES (NEW.table_id, NEW.hash_key, NEW.range_key, NEW.size, NEW.item, NEW.expires,
            NEW.entry_id, NEW.time_us)
        ON CONFLICT DO UPDATE SET size = excluded.size, item = excluded.item,
            expires = excluded.expires;
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

#: A database written before entries kept old images (table `change_log`, one row per
#: entry with its new image, and its old image only on an item's first entry): its
#: entries are moved over once, each taking its old image from the item's entry before.
_MIGRATE = """
INSERT INTO item_changes (entry_id, time_us, hash_key, range_key, event, origin, identity,
        old_image)
    SELECT (table_id << 40) | entry_id, time_us, hash_key, range_key, event, origin,
        identity, CASE WHEN event = 1 THEN NULL ELSE coalesce(old_image, lag(new_image)
        OVER (PARTITION BY table_id, hash_key, range_key ORDER BY entry_id)) END
    FROM change_log;
DROP TABLE change_log;
"""

INSERT, MODIFY, REMOVE = 1, 2, 3
EVENT_NAMES = {INSERT: "INSERT", MODIFY: "MODIFY", REMOVE: "REMOVE"}
EVENT_CODES = {name: code for code, name in EVENT_NAMES.items()}

#: One entry as read back: (entry_id, time_us, hash_key, range_key, event, origin,
#: identity, None, new_image, old_image), both images resolved (None where there is no
#: item: before an INSERT, after a REMOVE). The key is not stored: every entry has an
#: image holding it, and the table's key schema (a layer up) reads it from there.
Entry = tuple[int, int, bytes, bytes, int, str, bytes | None, None, bytes | None, bytes | None]

# The new image of entry `c`: the old image of the item's next entry (which has one: only
# an INSERT has none, and an INSERT never follows an entry that left an item), else the
# item as stored now. Parameters: the table id, then the end of its entry range.
_NEW_IMAGE = (
    "CASE WHEN c.event = 3 THEN NULL ELSE coalesce(("
    "SELECT n.old_image FROM item_changes AS n WHERE n.hash_key = c.hash_key "
    "AND n.range_key = c.range_key AND n.entry_id > c.entry_id AND n.entry_id < :end "
    "ORDER BY n.entry_id LIMIT 1), (SELECT item FROM items WHERE table_id = :table "
    "AND hash_key = c.hash_key AND range_key = c.range_key)) END"
)
_ENTRY_COLUMNS = (
    "c.entry_id, c.time_us, c.hash_key, c.range_key, c.event, c.origin, c.identity, NULL, "
    f"{_NEW_IMAGE}, c.old_image"
)


# A new item with its deferred INSERT entry; without `expires` it is NULL.
_INSERT_NEW = (
    "INSERT OR IGNORE INTO items (table_id, hash_key, range_key, size, item, insert_entry, "
    "insert_time) VALUES (?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_NEW_EXPIRING = (
    "INSERT OR IGNORE INTO items (table_id, hash_key, range_key, size, item, insert_entry, "
    "insert_time, expires) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
# PutItem with its entry, through the view's trigger.
_PUT = (
    "INSERT INTO items_with_entries (table_id, hash_key, range_key, size, item, "
    "entry_id, time_us) VALUES (?, ?, ?, ?, ?, ?, ?)"
)
_PUT_EXPIRING = (
    "INSERT INTO items_with_entries (table_id, hash_key, range_key, size, item, "
    "entry_id, time_us, expires) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
# Deferred INSERT entries written out as rows: an item's, or (without the key) a table's.
_SETTLE = (
    "INSERT OR IGNORE INTO item_changes (entry_id, time_us, hash_key, range_key, event, "
    "origin) SELECT insert_entry, insert_time, hash_key, range_key, 1, 'user' FROM items "
    "WHERE table_id = ? AND insert_entry IS NOT NULL"
)
_SETTLE_ITEM = f"{_SETTLE} AND hash_key = ? AND range_key = ?"
_CLEAR_DEFERRED = (
    "UPDATE items SET insert_entry = NULL, insert_time = NULL WHERE table_id = ? "
    "AND insert_entry IS NOT NULL"
)


def _range(table_id: int) -> tuple[int, int]:
    start = table_id << TABLE_SHIFT
    return start, start + (1 << TABLE_SHIFT)


class ChangeLog:
    __slots__ = ("_deferred", "_deferred_changed", "_tails", "connection")

    def __init__(self, engine: Engine) -> None:
        self.connection = engine.connection
        self.connection.executescript(_SCHEMA)
        if self.connection.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'change_log'"
        ).fetchone():
            self.connection.executescript(f"BEGIN IMMEDIATE; {_MIGRATE} COMMIT;")
        #: table id -> [last entry id, last time (µs)] handed out, loaded on first use.
        self._tails: dict[int, list[int]] = {}
        #: table id -> earliest time of its deferred INSERT entries (`deferred_inserts`).
        self._deferred: dict[int, int] = {}
        #: Whether `_deferred` changed inside the current transaction (a rollback reloads).
        self._deferred_changed = False
        self.reload_deferred()

    def clear(self) -> None:
        self.connection.execute("DELETE FROM item_changes")
        self.connection.execute("DELETE FROM backup_items")
        self.connection.execute("DELETE FROM deferred_inserts")
        self._tails.clear()
        self._deferred.clear()
        self._note_deferred_change()

    def reload_deferred(self) -> None:
        """Read `_deferred` back from its table (at start, and after a rollback that may
        have undone a change to it)."""
        self._deferred = dict(
            self.connection.execute("SELECT table_id, since_us FROM deferred_inserts")
        )
        self._deferred_changed = False

    def after_rollback(self) -> None:
        if self._deferred_changed:
            self.reload_deferred()

    def _note_deferred_change(self) -> None:
        if self.connection.in_transaction:
            self._deferred_changed = True

    # -- writing ------------------------------------------------------------------------

    def _next(self, table_id: int, time_us: int) -> tuple[int, int]:
        """The next entry id of the table and its time, never before the last one's (ids
        of entries rolled back are simply not used again)."""
        tail = self._tails.get(table_id)
        if tail is None:
            self.settle(table_id)  # deferred entries may hold the last ids
            start, end = _range(table_id)
            row = self.connection.execute(
                "SELECT entry_id, time_us FROM item_changes WHERE entry_id >= ? "
                "AND entry_id < ? ORDER BY entry_id DESC LIMIT 1",
                (start, end),
            ).fetchone()
            tail = self._tails[table_id] = [start, 0] if row is None else list(row)
        tail[0] += 1
        if time_us > tail[1]:
            tail[1] = time_us
        return tail[0], tail[1]

    def _defer(self, table_id: int, time_us: int) -> None:
        """Name the table in `deferred_inserts` before its first deferred entry (committed
        on its own or with it: naming a table without one is harmless)."""
        self.connection.execute(
            "INSERT OR IGNORE INTO deferred_inserts (table_id, since_us) VALUES (?, ?)",
            (table_id, time_us),
        )
        self._deferred[table_id] = time_us
        self._note_deferred_change()

    def settle(self, table_id: int) -> None:
        """Write the table's deferred INSERT entries out as rows (atomic on its own)."""
        if table_id not in self._deferred:
            return
        execute = self.connection.execute
        execute("SAVEPOINT settle")
        try:
            execute(_SETTLE, (table_id,))
            self._forget_deferred(table_id)
        except BaseException:
            execute("ROLLBACK TO settle")
            execute("RELEASE settle")
            raise
        execute("RELEASE settle")

    def _forget_deferred(self, table_id: int) -> None:
        """Clear the table's deferred INSERT entries from its items and from the list."""
        self.connection.execute(_CLEAR_DEFERRED, (table_id,))
        self.connection.execute("DELETE FROM deferred_inserts WHERE table_id = ?", (table_id,))
        del self._deferred[table_id]
        self._note_deferred_change()

    def settle_item(self, table_id: int, hash_key: bytes, range_key: bytes) -> None:
        """Write the item's deferred INSERT entry out as a row, before a write that does
        not keep it (the item's row is then replaced or deleted)."""
        if table_id in self._deferred:
            self.connection.execute(_SETTLE_ITEM, (table_id, hash_key, range_key))

    def append(
        self,
        table_id: int,
        time_us: int,
        hash_key: bytes,
        range_key: bytes,
        event: int,
        origin: str,
        identity: bytes | None,
        old_image: bytes | None,
    ) -> None:
        """Append one entry, with the item as it was before the change (None for an
        INSERT); its new image is whatever the item becomes."""
        entry_id, time_us = self._next(table_id, time_us)
        self.connection.execute(
            "INSERT INTO item_changes (entry_id, time_us, hash_key, range_key, event, origin, "
            "identity, old_image) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (entry_id, time_us, hash_key, range_key, event, origin, identity, old_image),
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
    ) -> bool:
        """Store a new item with its INSERT entry (origin user, deferred: in the item's
        row) in one statement; neither when the item exists. Whether they were stored
        (the cheapest PutItem of a new item; `put_item_with_entry` does the rest)."""
        entry_id, time_us = self._next(table_id, time_us)
        if table_id not in self._deferred:
            self._defer(table_id, time_us)
        if expires is None:  # one parameter less to bind: NULL all the same
            cursor = self.connection.execute(
                _INSERT_NEW, (table_id, hash_key, range_key, size, item, entry_id, time_us)
            )
        else:
            cursor = self.connection.execute(
                _INSERT_NEW_EXPIRING,
                (table_id, hash_key, range_key, size, item, entry_id, time_us, expires),
            )
        return cursor.rowcount == 1

    def put_item_with_entry(
        self,
        table_id: int,
        hash_key: bytes,
        range_key: bytes,
        size: int,
        item: bytes,
        expires: float | None,
        time_us: int,
    ) -> None:
        """PutItem on a table whose only sink is its change log, in one statement (atomic
        on its own): the entry (MODIFY, or a new item's deferred INSERT, origin user;
        none when the stored item is byte for byte the same), then the item, keeping a
        deferred INSERT entry it has. The caller keeps the item cache exact.

        A re-put of the same item with its attributes in another order is logged as a
        MODIFY whose images are equal; readers of the log skip such entries."""
        entry_id, time_us = self._next(table_id, time_us)
        if table_id not in self._deferred:
            self._defer(table_id, time_us)
        if expires is None:
            self.connection.execute(
                _PUT, (table_id, hash_key, range_key, size, item, entry_id, time_us)
            )
        else:
            self.connection.execute(
                _PUT_EXPIRING,
                (table_id, hash_key, range_key, size, item, entry_id, time_us, expires),
            )

    def drop_table(self, table_id: int) -> None:
        """Forget the table's entries (deferred ones too)."""
        self.connection.execute(
            "DELETE FROM item_changes WHERE entry_id >= ? AND entry_id < ?", _range(table_id)
        )
        if table_id in self._deferred:
            self._forget_deferred(table_id)

    def _first_at(self, table_id: int, time_us: int) -> int:
        """A bound splitting the table's (settled) entries at `time_us`: those with a
        smaller id were written before it, the others at or after it. By bisection over
        the ids (they grow with time): every id below `low` is earlier, every id from
        `high` on is not."""
        low, end = _range(table_id)
        execute = self.connection.execute
        last = execute(
            "SELECT entry_id FROM item_changes WHERE entry_id >= ? AND entry_id < ? "
            "ORDER BY entry_id DESC LIMIT 1",
            (low, end),
        ).fetchone()
        high = low if last is None else last[0] + 1
        while low < high:
            found = execute(
                "SELECT entry_id, time_us FROM item_changes WHERE entry_id >= ? "
                "AND entry_id < ? ORDER BY entry_id LIMIT 1",
                ((low + high) // 2, high),
            ).fetchone()
            if found is None:
                high = (low + high) // 2
            elif found[1] >= time_us:
                high = found[0]
            else:
                low = found[0] + 1
        return high

    def trim(self, table_id: int, before_us: int, limit: int) -> int:
        """Delete up to `limit` of the table's oldest entries written before `before_us`;
        returns how many were deleted (the next entry of an item keeps its old image)."""
        since = self._deferred.get(table_id)
        if since is not None and since < before_us:
            self.settle(table_id)
        start, _end = _range(table_id)
        bound = self._first_at(table_id, before_us)
        cursor = self.connection.execute(
            "DELETE FROM item_changes WHERE entry_id IN (SELECT entry_id FROM item_changes "
            "WHERE entry_id >= ? AND entry_id < ? ORDER BY entry_id LIMIT ?)",
            (start, bound, limit),
        )
        return cursor.rowcount

    def oldest_time(self, table_id: int) -> int | None:
        row = self.connection.execute(
            "SELECT time_us FROM item_changes WHERE entry_id >= ? AND entry_id < ? "
            "ORDER BY entry_id LIMIT 1",
            _range(table_id),
        ).fetchone()
        since = self._deferred.get(table_id)
        if row is None:
            return since
        return int(row[0]) if since is None else min(int(row[0]), since)

    # -- reading ------------------------------------------------------------------------

    def item_history(
        self, table_id: int, hash_key: bytes, range_key: bytes, since_us: int, until_us: int
    ) -> list[Entry]:
        """One item's entries written in [since_us, until_us], oldest first."""
        start, end = _range(table_id)
        execute = self.connection.execute
        rows = execute(
            "SELECT entry_id, time_us, hash_key, range_key, event, origin, identity, NULL, "
            "old_image FROM item_changes WHERE hash_key = ? AND range_key = ? "
            "AND entry_id >= ? AND entry_id < ? ORDER BY entry_id",
            (hash_key, range_key, start, end),
        ).fetchall()
        current = None
        found = execute(
            "SELECT item, insert_entry, insert_time FROM items WHERE table_id = ? "
            "AND hash_key = ? AND range_key = ?",
            (table_id, hash_key, range_key),
        ).fetchone()
        if found is not None:
            current, insert_entry, insert_time = found
            if insert_entry is not None:  # deferred: it starts the item's present life
                index = bisect.bisect_left(rows, insert_entry, key=lambda row: row[0])
                deferred = (insert_entry, insert_time, hash_key, range_key, INSERT, "user")
                rows.insert(index, (*deferred, None, None, None))
        found_entries: list[Entry] = []
        for index, row in enumerate(rows):
            if since_us <= row[1] <= until_us:
                if row[4] == REMOVE:
                    new_image = None
                elif index + 1 < len(rows):
                    new_image = rows[index + 1][8]
                else:
                    new_image = current
                found_entries.append((*row[:8], new_image, row[8]))
        return found_entries

    def between(
        self, table_id: int, since_us: int, until_us: int, include_until: bool = True
    ) -> Iterator[Entry]:
        """The table's entries written in [since_us, until_us] (or `until_us` excluded),
        in commit order, read in chunks."""
        self.settle(table_id)
        _start, end = _range(table_id)
        after = self._first_at(table_id, since_us) - 1
        stop = self._first_at(table_id, until_us + 1 if include_until else until_us)
        while True:
            rows = self.connection.execute(
                f"SELECT {_ENTRY_COLUMNS} FROM item_changes AS c WHERE c.entry_id > :after "
                "AND c.entry_id < :stop ORDER BY c.entry_id LIMIT 500",
                {"after": after, "stop": stop, "end": end, "table": table_id},
            ).fetchall()
            if not rows:
                return
            yield from rows
            after = rows[-1][0]

    def states_before(
        self, table_id: int, after_us: int
    ) -> Iterator[tuple[bytes, bytes, bytes | None]]:
        """For every item changed after `after_us`: (hash_key, range_key, its item as it
        was at `after_us`, None when absent) — the old image of its first later entry."""
        self.settle(table_id)
        _start, end = _range(table_id)
        first = self._first_at(table_id, after_us + 1)
        # A bare column next to min() comes from the row holding the minimum (SQLite).
        for hash_key, range_key, old_image, _entry_id in self.connection.execute(
            "SELECT hash_key, range_key, old_image, min(entry_id) FROM item_changes "
            "WHERE entry_id >= ? AND entry_id < ? GROUP BY hash_key, range_key",
            (first, end),
        ).fetchall():
            yield hash_key, range_key, old_image

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
