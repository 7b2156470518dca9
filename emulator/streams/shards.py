"""Streams and their shards: identity, lifecycle, lineage, and where a record goes.

Sequence numbers come from one counter in the engine, so they increase strictly within a
shard and across a stream's shards (a child starts after its parent ended), and are never
reused. A shard's range is [its starting number, its ending number once closed].
"""

from __future__ import annotations

import os
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from emulator.clock import Clock
from emulator.model.values import Item
from emulator.storage.engine import Engine, ShardRow, StreamRow
from emulator.storage.stream_log import StoredRecord
from emulator.streams.records import build_insert_record, build_stored_record

ENABLED = "ENABLED"
DISABLED = "DISABLED"


def stream_label(epoch_seconds: float) -> str:
    """`YYYY-MM-DDTHH:MM:SS.mmm` in UTC, millisecond precision, no zone (AWS's format)."""
    moment = datetime.fromtimestamp(epoch_seconds, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}"


def stream_arn(region: str, account_id: str, table_name: str, label: str) -> str:
    return f"arn:aws:dynamodb:{region}:{account_id}:table/{table_name}/stream/{label}"


@dataclass(slots=True)
class StreamManager:
    """Owns the stream rows and the open shards; called inside the write's transaction."""

    engine: Engine
    clock: Clock
    account_id: str
    shards_per_stream: int = 1
    _streams: dict[int, StreamRow] = field(default_factory=dict)
    _open_shards: dict[int, list[ShardRow]] = field(default_factory=dict)
    _shards_by_pk: dict[int, ShardRow] = field(default_factory=dict)
    _last_shard_stamp: int = 0
    _last_label_ms: int = 0

    def load(self) -> None:
        self._streams = {row.stream_id: row for row in self.engine.catalog.streams()}
        self._open_shards = {stream_id: [] for stream_id in self._streams}
        self._shards_by_pk = {}
        for shard in self.engine.catalog.shards():
            self._shards_by_pk[shard.shard_pk] = shard
            if shard.ending_sequence is None:
                self._open_shards.setdefault(shard.stream_id, []).append(shard)
            stamp = int(shard.shard_id[8:28])
            self._last_shard_stamp = max(self._last_shard_stamp, stamp)

    # -- identity -----------------------------------------------------------------------

    def create_stream(
        self, region: str, table_name: str, key_schema: list[dict[str, str]], view_type: str
    ) -> StreamRow:
        now = self.clock.now()
        label_ms = max(int(now * 1000), self._last_label_ms + 1)
        self._last_label_ms = label_ms
        label = stream_label(label_ms / 1000)
        arn = stream_arn(region, self.account_id, table_name, label)
        description: dict[str, Any] = {
            "StreamLabel": label,
            "StreamStatus": ENABLED,
            "StreamViewType": view_type,
            "CreationRequestDateTime": round(now, 3),
            "TableName": table_name,
            "KeySchema": key_schema,
        }
        row = self.engine.catalog.create_stream(region, table_name, arn, description)
        self._streams[row.stream_id] = row
        self._open_shards[row.stream_id] = [
            self._new_shard(row.stream_id, None, now) for _ in range(self.shards_per_stream)
        ]
        return row

    def _new_shard(self, stream_id: int, parent: str | None, now: float) -> ShardRow:
        stamp = max(int(now * 1000), self._last_shard_stamp + 1)
        self._last_shard_stamp = stamp
        shard_id = f"shardId-{stamp:020d}-{os.urandom(4).hex()}"
        shard = self.engine.catalog.create_shard(
            stream_id, shard_id, parent, self.engine.stream_log.next_sequence(), now
        )
        self._shards_by_pk[shard.shard_pk] = shard
        return shard

    def shard(self, shard_pk: int) -> ShardRow | None:
        return self._shards_by_pk.get(shard_pk)

    def stream(self, stream_id: int) -> StreamRow | None:
        return self._streams.get(stream_id)

    def stream_by_arn(self, arn: str) -> StreamRow | None:
        for row in self._streams.values():
            if row.arn == arn:
                return row
        return None

    def all_streams(self) -> list[StreamRow]:
        return sorted(self._streams.values(), key=lambda row: row.stream_id)

    def shards(self, stream_id: int) -> list[ShardRow]:
        """The stream's shards in ShardId order (which is creation order)."""
        return sorted(
            (s for s in self._shards_by_pk.values() if s.stream_id == stream_id),
            key=lambda s: s.shard_id,
        )

    def open_shards(self, stream_id: int) -> list[ShardRow]:
        return self._open_shards.get(stream_id, [])

    # -- lifecycle ----------------------------------------------------------------------

    def disable_stream(self, stream_id: int) -> None:
        """Close the open shards; the stream stays DISABLED and readable."""
        row = self._streams[stream_id]
        now = self.clock.now()
        self._close_open_shards(stream_id, now)
        row.description["StreamStatus"] = DISABLED
        row.description["DisabledAt"] = now
        self.engine.catalog.save_stream(row)

    def _close_open_shards(self, stream_id: int, now: float) -> list[ShardRow]:
        closed = self._open_shards.get(stream_id, [])
        for shard in closed:
            # The last record the shard ever held: still stored, or the end of the
            # trimmed part (a shard trimmed empty keeps its range, so iterators at its
            # old numbers get TrimmedDataAccessException, not an out-of-range error).
            last = self.engine.stream_log.last_sequence(shard.shard_pk)
            if last is None:
                last = shard.trimmed_sequence
            self.engine.catalog.close_shard(shard, last or shard.starting_sequence, now)
        self._open_shards[stream_id] = []
        return closed

    def rollover(
        self, stream_id: int, split: bool = False, at: float | None = None
    ) -> tuple[list[str], list[str]]:
        """Close the open shards and open their children (two each with `split`).

        `at` backdates the change to when it fell due (a clock advance crossing several
        rollover intervals yields the same lineage as real time would).
        """
        now = self.clock.now() if at is None else at
        closed = self._close_open_shards(stream_id, now)
        children = [
            self._new_shard(stream_id, parent.shard_id, now)
            for parent in closed
            for _ in range(2 if split else 1)
        ]
        self._open_shards[stream_id] = children
        return [s.shard_id for s in closed], [s.shard_id for s in children]

    def roll_due_shards(self, now: float, interval: float, max_rounds: int = 1000) -> int:
        """Roll every stream whose open shards are `interval` old; returns rollovers made."""
        made = 0
        for _ in range(max_rounds):
            due = [
                (stream_id, shards[0].created + interval)
                for stream_id, shards in self._open_shards.items()
                if shards and shards[0].created + interval <= now
            ]
            if not due:
                break
            for stream_id, at in due:
                self.rollover(stream_id, at=at)
                made += 1
        return made

    def all_shards(self) -> list[ShardRow]:
        return list(self._shards_by_pk.values())

    def expire(self, now: float, retention: float) -> None:
        """Drop closed shards past retention (all their records are trimmed by then) and
        disabled streams past retention (they leave ListStreams 24 hours after disabling)."""
        cutoff = now - retention
        for shard in list(self._shards_by_pk.values()):
            if shard.closed is not None and shard.closed <= cutoff:
                self.engine.stream_log.drop_shard(shard.shard_pk)
                self.engine.catalog.delete_shard(shard.shard_pk)
                del self._shards_by_pk[shard.shard_pk]
        for row in list(self._streams.values()):
            disabled_at = row.description.get("DisabledAt")
            if disabled_at is not None and disabled_at <= cutoff:
                self.forget(row.stream_id)

    def forget(self, stream_id: int) -> None:
        for shard_pk in self.engine.catalog.shard_pks(stream_id):
            self.engine.stream_log.drop_shard(shard_pk)
        self.engine.catalog.delete_stream(stream_id)
        self._streams.pop(stream_id, None)
        self._open_shards.pop(stream_id, None)
        for pk in [pk for pk, s in self._shards_by_pk.items() if s.stream_id == stream_id]:
            del self._shards_by_pk[pk]

    def reset(self) -> None:
        """Forget every stream; labels and shard stamps may start over from the clock
        (a reset returns it to real time, which may be behind what was used)."""
        self._streams.clear()
        self._open_shards.clear()
        self._shards_by_pk.clear()
        self._last_shard_stamp = 0
        self._last_label_ms = 0

    # -- records ------------------------------------------------------------------------

    def _shard_for(self, stream_id: int, hash_key: bytes) -> ShardRow | None:
        """The open shard an item's records go to (None once the stream is closed).

        The hash picks a slice of the key space, not a residue: a parent's children (one,
        or two after a split, listed in its place) split exactly its slice, so an item's
        records stay in one line of descent and lineage order is per-item order.
        """
        shards = self._open_shards.get(stream_id)
        if not shards:
            return None
        if len(shards) == 1:
            return shards[0]
        return shards[zlib.crc32(hash_key) * len(shards) >> 32]

    def insert_record(
        self,
        stream_id: int,
        view_type: str,
        region: str,
        hash_key: bytes,
        keys: Item,
        size: int,
        blob: bytes,
        created: float,
    ) -> tuple[int, int, StoredRecord] | None:
        """The INSERT record of a new item (`size`, `blob`: as stored), as (shard_pk,
        sequence, record) for the stream log to store in the same statement as the item;
        None when the stream has no open shard."""
        shard = self._shard_for(stream_id, hash_key)
        if shard is None:
            return None
        sequence = self.engine.stream_log.next_sequence()
        record = build_insert_record(view_type, region, keys, sequence, created, size, blob)
        return shard.shard_pk, sequence, record

    def append_record(
        self,
        stream_id: int,
        view_type: str,
        event: str,
        region: str,
        hash_key: bytes,
        keys: Item,
        old_item: Item | None,
        new_item: Item | None,
        user_identity: dict[str, str] | None,
        new_size: int | None,
        old_size: int | None,
        new_blob: bytes | None,
        created: float,
        item: tuple[int, bytes, bytes] | None = None,
    ) -> bool:
        """Append the record of one change in the caller's transaction; whether there was
        an open shard to take it. Runs on every write to a stream table: arguments go by
        position. `item`: the stored item's key when `new_blob` is its stored bytes (an
        INSERT record then refers to it for its new image)."""
        shard = self._shard_for(stream_id, hash_key)
        if shard is None:
            return False
        stream_log = self.engine.stream_log
        sequence = stream_log.next_sequence()
        record = build_stored_record(
            event,
            view_type,
            region,
            keys,
            old_item,
            new_item,
            sequence,
            created,
            user_identity,
            new_size,
            old_size,
            new_blob,
        )
        # Only an INSERT refers to its item. A MODIFY's new image is the OldImage of the
        # item's next record anyway: referring would save its copy only until then, for
        # two more statements on every update (the copy, and noting the record).
        stream_log.append(
            shard.shard_pk, sequence, created, record, item if event == "INSERT" else None
        )
        return True
