"""The replication sink: in the write's own transaction, a write made in this region to a
replicated table gets its stamp and an outbox row (what the replicators forward).

Replicated writes (origin `replication:<region>`) are not forwarded again, so a write
never echoes back; their stamp is stored by the replicator that applies them.
"""

from __future__ import annotations

from emulator.changes.change import Change, replicated_from
from emulator.changes.sinks import Sink, SinkFactory
from emulator.storage.engine import Engine, TableRow
from emulator.storage.replication import ReplicationStore
from emulator.storage.stream_log import StoredRecord, record_key
from emulator.streams.signals import CommitSignals


def outbox_topic(table_id: int) -> tuple[str, int]:
    """The commit signal of a table's replication outbox."""
    return ("replication", table_id)


class Stamper:
    """Write stamps in µs from the clock, strictly increasing across every region of this
    emulator: two writes never share a stamp, so last-writer-wins has no ties here and
    follows commit order even under a frozen test clock."""

    __slots__ = ("last",)

    def __init__(self, last: int = 0) -> None:
        self.last = last

    def next(self, now: float) -> int:
        stamp = int(now * 1_000_000)
        if stamp <= self.last:
            stamp = self.last + 1
        self.last = stamp
        return stamp


class ReplicationSink:
    __slots__ = ("_after_commit", "_notify", "_stamper", "_store", "_stream_log", "topic")

    def __init__(
        self,
        engine: Engine,
        store: ReplicationStore,
        stamper: Stamper,
        signals: CommitSignals,
        table_id: int,
    ) -> None:
        self._store = store
        self._stamper = stamper
        self._stream_log = engine.stream_log
        self._after_commit = engine.after_commit
        self._notify = signals.notify
        self.topic = outbox_topic(table_id)

    def record(self, change: Change) -> None:
        if change.event is None or replicated_from(change.origin) is not None:
            return
        stamp = self._stamper.next(change.time)
        table = change.table
        self._store.append(
            table.table_id,
            table.region,
            change.hash_key,
            change.range_key,
            stamp,
            change.new_size,
            change.new_blob,
        )
        self._after_commit(self._notify, self.topic)

    def insert_with_item_and_record(
        self,
        change: Change,
        expires: float | None,
        shard_pk: int,
        sequence: int,
        record: StoredRecord,
    ) -> bool:
        """A new item (`change`, an INSERT) with its stream record and, for a write made
        here, its outbox row and stamp, in one statement (see `WritePipeline.put`);
        whether it was stored (not when the item exists)."""
        table = change.table
        blob = change.new_blob
        assert blob is not None
        if replicated_from(change.origin) is not None:
            return self._stream_log.insert_item_with_record(
                table.table_id,
                change.hash_key,
                change.range_key,
                change.new_size,
                blob,
                expires,
                shard_pk,
                sequence,
                change.time,
                record,
            )
        stamp = self._stamper.next(change.time)
        key = record_key(shard_pk, sequence)
        if not self._store.insert_item_with_entry(
            table.table_id,
            table.region,
            change.hash_key,
            change.range_key,
            change.new_size,
            blob,
            expires,
            key,
            change.time,
            record,
            stamp,
        ):
            return False
        self._stream_log.keep_recent(key, change.time, record, blob)
        self._after_commit(self._notify, self.topic)
        return True


def replication_sink_factory(
    engine: Engine,
    store: ReplicationStore,
    stamper: Stamper,
    signals: CommitSignals,
) -> SinkFactory:
    """A sink for every table with replicas or an external replication target."""

    def make(row: TableRow) -> Sink | None:
        if not row.state.replicas:
            return None
        return ReplicationSink(engine, store, stamper, signals, row.table_id)

    return make


__all__ = ["ReplicationSink", "Stamper", "outbox_topic", "replication_sink_factory"]
