"""Sinks: what an item change implies beyond the item itself, written in the write's own
transaction. A table gets its sinks from its state (see `WritePipeline.plan`), through
sink factories registered with the pipeline; a write function never tests for them.

A sink that raises rolls the whole write back. A sink never calls out of the process:
work that does (a trigger's handler, a forwarder) consumes what was committed instead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import orjson

from emulator.changes.change import Change, micros
from emulator.model.indexes import IndexSchema
from emulator.model.values import Item, item_size
from emulator.storage.change_log import EVENT_CODES
from emulator.storage.engine import Engine, TableRow
from emulator.storage.indexes import table_key_bytes
from emulator.storage.stream_log import StoredRecord
from emulator.streams.shards import StreamManager
from emulator.streams.signals import CommitSignals, stream_topic


class Sink(Protocol):
    def record(self, change: Change) -> None:
        """Write what `change` implies, inside the write's transaction."""
        ...


#: Makes a table's sink from its state, or None when the table needs none of this kind.
SinkFactory = Callable[[TableRow], "Sink | None"]


class IndexSink:
    """Keeps the table's secondary-index entries in step with its items."""

    __slots__ = ("_indexes", "_store")

    def __init__(self, engine: Engine, indexes: tuple[IndexSchema, ...]) -> None:
        self._store = engine.indexes
        self._indexes = indexes

    def record(self, change: Change) -> None:
        update_index_entries(
            self._store.put,
            self._store.delete,
            self._indexes,
            change.hash_key,
            change.range_key,
            change.old_item,
            change.new_item,
        )


def update_index_entries(
    put: Callable[[int, bytes, bytes, bytes, int, bytes], None],
    delete: Callable[[int, bytes, bytes, bytes], None],
    indexes: tuple[IndexSchema, ...],
    hash_key: bytes,
    range_key: bytes,
    old_item: Item | None,
    new_item: Item | None,
) -> None:
    """Move one item's entries from its old index keys to its new ones (also used to
    backfill a new index: no old item)."""
    table_key = table_key_bytes(hash_key, range_key)
    for index in indexes:
        if old_item is not None:
            old_key = index.entry_key(old_item)
            if old_key is not None:
                delete(index.index_id, old_key[0], old_key[1], table_key)
        if new_item is not None:
            new_key = index.entry_key(new_item)
            if new_key is not None:
                projected = index.project(new_item)
                put(
                    index.index_id,
                    new_key[0],
                    new_key[1],
                    table_key,
                    item_size(projected),
                    orjson.dumps(projected),
                )


class StreamSink:
    """Appends the change's stream record to the table's enabled stream, and tells the
    stream's consumers once it is committed. A write that changed nothing appends none."""

    __slots__ = ("_engine", "_notify", "_streams", "stream_id", "topic", "view_type")

    def __init__(
        self,
        engine: Engine,
        streams: StreamManager,
        signals: CommitSignals,
        stream_id: int,
        view_type: str,
    ) -> None:
        self._engine = engine
        self._streams = streams
        self._notify = signals.notify
        self.stream_id = stream_id
        self.view_type = view_type
        self.topic = stream_topic(stream_id)

    def record(self, change: Change) -> None:
        event = change.event
        if event is None:
            return
        if self._streams.append_record(
            self.stream_id,
            self.view_type,
            event,
            change.table.region,
            change.hash_key,
            change.key,
            change.old_item,
            change.new_item,
            change.user_identity,
            change.new_size,
            change.old_size,
            change.new_blob,
            change.time,
            # The new blob is the item as just stored: the record may refer to it.
            None
            if change.new_blob is None
            else (change.table.table_id, change.hash_key, change.range_key),
        ):
            self._engine.after_commit(self._notify, self.topic)

    def insert_record(self, change: Change) -> tuple[int, int, StoredRecord] | None:
        """The INSERT record of a new item, for the one-statement insert (see
        `WritePipeline.put`): (shard_pk, sequence, record), None without an open shard."""
        return self._streams.insert_record(
            self.stream_id,
            self.view_type,
            change.table.region,
            change.hash_key,
            change.key,
            change.new_size,
            change.new_blob,  # type: ignore[arg-type]
            change.time,
        )

    def committed(self) -> None:
        self._engine.after_commit(self._notify, self.topic)


def index_sink_factory(engine: Engine) -> SinkFactory:
    def make(row: TableRow) -> Sink | None:
        indexes = row.state.indexes
        return IndexSink(engine, indexes) if indexes else None

    return make


def stream_sink_factory(
    engine: Engine, streams: StreamManager, signals: CommitSignals
) -> SinkFactory:
    def make(row: TableRow) -> Sink | None:
        stream = row.state.stream
        if stream is None:
            return None
        return StreamSink(engine, streams, signals, stream.stream_id, stream.view_type)

    return make


class ChangeLogSink:
    """Appends the change to the table's durable change log (item history, point-in-time
    restore, exports). A write that changed nothing appends nothing."""

    __slots__ = ("_log", "_table_id")

    def __init__(self, engine: Engine, table_id: int) -> None:
        self._log = engine.change_log
        self._table_id = table_id

    def record(self, change: Change) -> None:
        event = change.event
        if event is None:
            return
        # Compacted: the entry keeps the item as it was; what it became is the next
        # entry's old image, or the item itself (see storage/change_log.py).
        old_item = change.old_item
        identity = change.user_identity
        self._log.append(
            self._table_id,
            micros(change.time),
            change.hash_key,
            change.range_key,
            EVENT_CODES[event],
            change.origin,
            None if identity is None else orjson.dumps(identity),
            None if old_item is None else orjson.dumps(old_item),
        )


def change_log_enabled(row: TableRow, every_table: bool) -> bool:
    """Whether the table's changes are logged: PITR is on, or `--change-log` is."""
    return every_table or row.state.pitr is not None


def change_log_sink_factory(engine: Engine, every_table: bool) -> SinkFactory:
    def make(row: TableRow) -> Sink | None:
        return ChangeLogSink(engine, row.table_id) if change_log_enabled(row, every_table) else None

    return make
