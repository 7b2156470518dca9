"""What exists: tables (their AWS description and their typed state), streams, shards,
and small named values (meta). Table rows are cached in memory: they are small and read
on every request."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import orjson

if TYPE_CHECKING:
    from emulator.storage.engine import Engine

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
    state BLOB NOT NULL DEFAULT x'7b7d',
    UNIQUE (region, name)
);
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
"""


class StateCodec(Protocol):
    """How a table's typed state is made from its stored document and back.

    Storage keeps the document (JSON); the layer that owns the state's meaning (see
    model/table_state.py) supplies the codec.
    """

    def decode(self, description: dict[str, Any], document: dict[str, Any]) -> Any: ...

    def encode(self, state: Any) -> dict[str, Any]: ...

    def migrate(self, description: dict[str, Any]) -> dict[str, Any]:
        """The state document of a table stored before states existed (its internals
        were kept in the description), removing them from `description`."""
        ...


class PlainStateCodec:
    """Keeps a state as its plain document (storage used on its own, e.g. in tests)."""

    def decode(self, description: dict[str, Any], document: dict[str, Any]) -> Any:
        return document

    def encode(self, state: Any) -> dict[str, Any]:
        return dict(state)

    def migrate(self, description: dict[str, Any]) -> dict[str, Any]:
        return {}


@dataclass(slots=True)
class TableRow:
    """A table as stored: its id (never reused), its AWS description (wire fields only)
    and its typed state (what the emulator needs to serve it)."""

    table_id: int
    region: str
    name: str
    description: dict[str, Any]
    state: Any


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


class Catalog:
    __slots__ = ("codec", "connection", "dirty", "tables")

    def __init__(self, engine: Engine, codec: StateCodec) -> None:
        self.connection = engine.connection
        self.codec = codec
        self.tables: dict[tuple[str, str], TableRow] = {}
        #: Whether the current transaction changed metadata (a rollback must reload).
        self.dirty = False
        self.connection.executescript(_SCHEMA)
        columns = {row[1] for row in self.connection.execute("PRAGMA table_info(tables)")}
        if "state" not in columns:
            self._add_state_column()

    def _add_state_column(self) -> None:
        """Tables stored before typed states existed: move their internals out of the
        description into the new `state` column."""
        connection = self.connection
        connection.execute("BEGIN IMMEDIATE")
        try:
            connection.execute("ALTER TABLE tables ADD COLUMN state BLOB NOT NULL DEFAULT x'7b7d'")
            for table_id, description in connection.execute(
                "SELECT table_id, description FROM tables"
            ).fetchall():
                document = orjson.loads(description)
                state = self.codec.migrate(document)
                connection.execute(
                    "UPDATE tables SET description = ?, state = ? WHERE table_id = ?",
                    (orjson.dumps(document), orjson.dumps(state), table_id),
                )
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise

    def load(self) -> None:
        decode = self.codec.decode
        tables = {}
        for table_id, region, name, description, state in self.connection.execute(
            "SELECT table_id, region, name, description, state FROM tables"
        ):
            document = orjson.loads(description)
            tables[(region, name)] = TableRow(
                table_id, region, name, document, decode(document, orjson.loads(state))
            )
        self.tables = tables

    def clear(self) -> None:
        for name in ("tables", "shards", "streams"):
            self.connection.execute(f"DELETE FROM {name}")
        self.tables.clear()

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

    def allocate_id(self, name: str) -> int:
        """A new id from a named counter (kept in meta, so ids are never reused)."""
        current = self.get_meta("counter:" + name)
        value = int(current or b"0") + 1
        self.set_meta("counter:" + name, str(value).encode())
        return value

    # -- tables -------------------------------------------------------------------------

    def table_names(self, region: str) -> list[str]:
        return sorted(name for (r, name) in self.tables if r == region)

    def all_tables(self) -> list[TableRow]:
        return list(self.tables.values())

    def create_table(
        self,
        region: str,
        name: str,
        description: dict[str, Any],
        make_state: Callable[[int], Any],
    ) -> TableRow:
        """Store a new table; `make_state(table_id)` gives its state (ids are known only
        once the row exists)."""
        cursor = self.connection.execute(
            "INSERT INTO tables (region, name, description) VALUES (?, ?, ?)",
            (region, name, orjson.dumps(description)),
        )
        table_id = int(cursor.lastrowid or 0)
        row = TableRow(table_id, region, name, description, make_state(table_id))
        self.tables[(region, name)] = row
        self.save_table(row)
        return row

    def save_table(self, row: TableRow) -> None:
        self.dirty = True
        self.connection.execute(
            "UPDATE tables SET description = ?, state = ? WHERE table_id = ?",
            (
                orjson.dumps(row.description),
                orjson.dumps(self.codec.encode(row.state)),
                row.table_id,
            ),
        )

    def delete_table(self, row: TableRow) -> None:
        self.connection.execute("DELETE FROM tables WHERE table_id = ?", (row.table_id,))
        self.dirty = True
        self.tables.pop((row.region, row.name), None)

    # -- streams and shards -------------------------------------------------------------

    def create_stream(
        self, region: str, table_name: str, arn: str, description: dict[str, Any]
    ) -> StreamRow:
        self.dirty = True
        cursor = self.connection.execute(
            "INSERT INTO streams (region, table_name, arn, description) VALUES (?, ?, ?, ?)",
            (region, table_name, arn, orjson.dumps(description)),
        )
        return StreamRow(int(cursor.lastrowid or 0), region, table_name, arn, description)

    def save_stream(self, row: StreamRow) -> None:
        self.dirty = True
        self.connection.execute(
            "UPDATE streams SET description = ? WHERE stream_id = ?",
            (orjson.dumps(row.description), row.stream_id),
        )

    def delete_stream(self, stream_id: int) -> None:
        """The stream's row and its shards' rows (the stream log drops their records)."""
        self.dirty = True
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

    def shard_pks(self, stream_id: int) -> list[int]:
        return [
            pk
            for (pk,) in self.connection.execute(
                "SELECT shard_pk FROM shards WHERE stream_id = ?", (stream_id,)
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
        self.dirty = True
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
        self.dirty = True
        self.connection.execute(
            "UPDATE shards SET ending_sequence = ?, closed = ? WHERE shard_pk = ?",
            (ending_sequence, closed, shard.shard_pk),
        )
        shard.ending_sequence = ending_sequence
        shard.closed = closed

    def set_trimmed(self, shard: ShardRow, sequence: int) -> None:
        self.connection.execute(
            "UPDATE shards SET trimmed_sequence = ? WHERE shard_pk = ?", (sequence, shard.shard_pk)
        )
        shard.trimmed_sequence = sequence

    def delete_shard(self, shard_pk: int) -> None:
        self.dirty = True
        self.connection.execute("DELETE FROM shards WHERE shard_pk = ?", (shard_pk,))

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

    def highest_shard_sequence(self) -> int:
        """The highest sequence number any shard row names: a start, an end, or the end
        of a trimmed prefix (a shard trimmed empty still used those numbers)."""
        top = self.connection.execute(
            "SELECT max(max(starting_sequence), coalesce(max(ending_sequence), 0), "
            "coalesce(max(trimmed_sequence), 0)) FROM shards"
        ).fetchone()[0]
        return int(top or 0)
