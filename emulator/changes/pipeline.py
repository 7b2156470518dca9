"""The one write pipeline every item change goes through.

PutItem, UpdateItem, DeleteItem, BatchWriteItem, TransactWriteItems and the TTL sweep all
store an item change here: the storage strategy is chosen in one place (`put`, `scope`),
then the table's sinks (index entries, the stream log, and whatever later features
register) run inside the same transaction. A table's sinks come from its state through
the registered sink factories, and are rebuilt whenever the state is replaced.

Strategies, cheapest first:
- a table without sinks: the item's one statement is its own transaction;
- a new item on a table whose only sink is its stream (or another sink that can do it,
  such as a Kinesis destination): the item and its INSERT record in one statement
  (`StreamLog.insert_item_with_record`, `insert_with_item`); likewise when the stream's
  one companion sink can join that statement (`insert_with_item_and_record`: a global
  table's replication sink); and any PutItem on a table
  whose only sink is its change log, with its entry (`ChangeLog.put_item_with_entry`);
- otherwise an explicit transaction: read the old item, store, run the sinks.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from typing import Any

import orjson

from emulator.changes.change import USER, Change, micros
from emulator.changes.sinks import ChangeLogSink, Sink, SinkFactory, StreamSink
from emulator.clock import Clock
from emulator.model.values import Item, item_size
from emulator.storage.engine import Engine, TableRow

_NO_SCOPE = nullcontext()
#: After a log-only PutItem's insert attempt found the item, this many PutItems skip the
#: attempt (a table being overwritten pays one statement per put, not two), then one
#: tries again.
LOG_SKIP_INSERTS = 32


def expiry_of(item: Item, attribute: str) -> float | None:
    """The item's TTL instant: its TTL attribute when that is a Number, else none."""
    value = item.get(attribute)
    if value is None:
        return None
    number = value.get("N")
    return None if number is None else float(number)


class WritePlan:
    """How writes to one table (in one state) are stored."""

    __slots__ = (
        "fused",
        "log_only",
        "log_skip_inserts",
        "logged",
        "sinks",
        "state",
        "stream_only",
        "stream_pair",
        "ttl_attribute",
    )

    def __init__(self, state: Any, sinks: tuple[Sink, ...]) -> None:
        self.state = state
        self.sinks = sinks
        #: The stream sink when it is the only sink (a new item can then be stored
        #: with its record in one statement).
        self.stream_only = (
            sinks[0] if len(sinks) == 1 and isinstance(sinks[0], StreamSink) else None
        )
        #: The only sink, when it can store a new item with its record in one statement
        #: itself (`insert_with_item`, e.g. a Kinesis destination's).
        self.fused: Any = (
            sinks[0] if len(sinks) == 1 and hasattr(sinks[0], "insert_with_item") else None
        )
        #: The stream sink and one more sink that can store a new item with its INSERT
        #: record and its own rows in one statement (`insert_with_item_and_record`, e.g.
        #: a replicated table's replication sink), when they are the only sinks.
        self.stream_pair: tuple[StreamSink, Any] | None = (
            (sinks[0], sinks[1])
            if len(sinks) == 2
            and isinstance(sinks[0], StreamSink)
            and hasattr(sinks[1], "insert_with_item_and_record")
            else None
        )
        #: Likewise when the change log is the only sink.
        self.log_only = len(sinks) == 1 and isinstance(sinks[0], ChangeLogSink)
        #: Whether the change log is a sink: an item's deferred INSERT entry (kept in
        #: its row, see storage/change_log.py) is then written out before `write`
        #: replaces or deletes the row.
        self.logged = any(isinstance(sink, ChangeLogSink) for sink in sinks)
        #: How many more PutItems go straight to `put_item_with_entry` (it stores a new
        #: item too) because an insert attempt found its item: see `LOG_SKIP_INSERTS`.
        self.log_skip_inserts = 0
        self.ttl_attribute: str | None = state.ttl_attribute()


class WritePipeline:
    __slots__ = ("_factories", "_items", "_plans", "clock", "engine")

    def __init__(self, engine: Engine, clock: Clock, factories: list[SinkFactory]) -> None:
        self.engine = engine
        self.clock = clock
        self._items = engine.items
        self._factories = list(factories)
        self._plans: dict[int, WritePlan] = {}

    def register(self, factory: SinkFactory) -> None:
        """Attach a kind of sink to every table whose state calls for it (from now on)."""
        self._factories.append(factory)
        self._plans.clear()

    def unregister(self, factory: SinkFactory) -> None:
        self._factories.remove(factory)
        self._plans.clear()

    def plan(self, row: TableRow) -> WritePlan:
        plan = self._plans.get(row.table_id)
        if plan is None or plan.state is not row.state:
            sinks = tuple(
                sink for sink in (factory(row) for factory in self._factories) if sink is not None
            )
            plan = WritePlan(row.state, sinks)
            self._plans[row.table_id] = plan
        return plan

    def tracks_changes(self, row: TableRow) -> bool:
        """Whether writes to the table need the old item (some sink wants the change)."""
        return bool(self.plan(row).sinks)

    def scope(self, row: TableRow) -> AbstractContextManager[None]:
        """The transaction around a single-item read-then-write: an explicit one when the
        table has sinks; otherwise the item's one write statement is its own transaction,
        and the read before it cannot interleave with another request (every request
        runs on the one event loop thread)."""
        return self.engine.transaction() if self.plan(row).sinks else _NO_SCOPE

    def load(self, row: TableRow, hash_key: bytes, range_key: bytes) -> tuple[Item | None, int]:
        """The stored item and its stored size (0 when absent): sizes are never recomputed."""
        found = self._items.get(row.table_id, hash_key, range_key)
        if found is None:
            return None, 0
        return orjson.loads(found[0]), found[1]

    def write(
        self,
        row: TableRow,
        key: Item,
        hash_key: bytes,
        range_key: bytes,
        old_item: Item | None,
        old_size: int,
        new_item: Item | None,
        new_size: int | None = None,
        origin: str = USER,
        user_identity: dict[str, Any] | None = None,
    ) -> None:
        """Store `new_item` (None deletes) over `old_item` and run the table's sinks.

        Inside `scope(row)` (or a wider transaction), so the item and what it implies
        commit together.
        """
        plan = self.plan(row)
        blob = None
        if plan.logged and old_item is not None:
            self.engine.change_log.settle_item(row.table_id, hash_key, range_key)
        if new_item is None:
            if old_item is None:
                return
            self._items.delete(row.table_id, hash_key, range_key)
            new_size = 0
        else:
            if new_size is None:
                new_size = item_size(new_item)
            blob = orjson.dumps(new_item)
            ttl = plan.ttl_attribute
            self._items.put(
                row.table_id,
                hash_key,
                range_key,
                new_size,
                blob,
                None if ttl is None else expiry_of(new_item, ttl),
            )
        if plan.sinks:
            change = Change(
                row,
                key,
                hash_key,
                range_key,
                old_item,
                old_size,
                new_item,
                new_size,
                blob,
                origin,
                user_identity,
                self.clock.now(),
            )
            for sink in plan.sinks:
                sink.record(change)

    def put(
        self,
        row: TableRow,
        key: Item,
        hash_key: bytes,
        range_key: bytes,
        item: Item,
        size: int,
        origin: str = USER,
        blob: bytes | None = None,
    ) -> None:
        """PutItem when nothing but the change itself needs the old item: the insert is
        tried first, so a new item costs one statement (with its INSERT record on a table
        whose only sink is its stream), and only an item that exists is read. (Also a
        replicator's put of a whole item: `origin`, and `blob`, the item's bytes as
        replicated, so they are not encoded again.)"""
        plan = self.plan(row)
        if blob is None:
            blob = orjson.dumps(item)
        ttl = plan.ttl_attribute
        expires = None if ttl is None else expiry_of(item, ttl)
        sinks = plan.sinks
        if not sinks:
            self._items.put(row.table_id, hash_key, range_key, size, blob, expires)
            return
        now = self.clock.now()
        if plan.log_only and origin == USER:
            # A new item costs one cheap statement; an existing one (known from the item
            # cache, or found by that statement) one more.
            log = self.engine.change_log
            table_id = row.table_id
            time_us = micros(now)
            if plan.log_skip_inserts:
                plan.log_skip_inserts -= 1
            elif not self._items.cached(table_id, hash_key, range_key):
                if log.insert_item_with_entry(
                    table_id, hash_key, range_key, size, blob, expires, time_us
                ):
                    return
                # The table's puts overwrite: the next ones skip the insert attempt.
                plan.log_skip_inserts = LOG_SKIP_INSERTS
            log.put_item_with_entry(table_id, hash_key, range_key, size, blob, expires, time_us)
            self._items.stored(table_id, hash_key, range_key, blob, size)
            return
        may_be_new = True
        fused = plan.fused
        if fused is not None:
            stored = fused.insert_with_item(
                key, now, row.table_id, hash_key, range_key, size, blob, expires
            )
            if stored:
                return
            if stored is False:
                may_be_new = False
        change = Change(row, key, hash_key, range_key, None, 0, item, size, blob, origin, None, now)
        stream = plan.stream_only
        partner = None
        if stream is None and plan.stream_pair is not None:
            stream, partner = plan.stream_pair
        if stream is not None:
            found = stream.insert_record(change)
            if found is not None:
                shard_pk, sequence, record = found
                if (
                    self.engine.stream_log.insert_item_with_record(
                        row.table_id,
                        hash_key,
                        range_key,
                        size,
                        blob,
                        expires,
                        shard_pk,
                        sequence,
                        change.time,
                        record,
                    )
                    if partner is None
                    else partner.insert_with_item_and_record(
                        change, expires, shard_pk, sequence, record
                    )
                ):
                    stream.committed()
                    return
                may_be_new = False  # the insert found the item
        with self.engine.transaction():
            if may_be_new and self._items.insert(
                row.table_id, hash_key, range_key, size, blob, expires
            ):
                for sink in sinks:
                    sink.record(change)
                return
            old_item, old_size = self.load(row, hash_key, range_key)
            self.write(row, key, hash_key, range_key, old_item, old_size, item, size, origin)

    def replace(
        self,
        row: TableRow,
        key: Item,
        hash_key: bytes,
        range_key: bytes,
        new_item: Item | None,
        size: int | None,
    ) -> int:
        """Read the current item, then write `new_item` (None deletes) in the caller's
        transaction; returns the old item's size (capacity is charged on it)."""
        old_item, old_size = self.load(row, hash_key, range_key)
        self.write(row, key, hash_key, range_key, old_item, old_size, new_item, size)
        return old_size
