"""The consumer seam: a checkpointed, lineage-aware reader of one stream's stored log, for
in-process consumers (trigger pollers, forwarders, replicators) that must not go through
HTTP.

It reads the same storage GetRecords serves, so every record it hands out is also
readable through the Streams API with the same sequence number. Its positions are kept
in SQLite per consumer name (`storage/checkpoints.py`): a restart with --data-dir resumes
where the consumer stopped. Lineage as AWS's adapters read it: a child shard is ready
only once its parents are finished (read to their end, or gone), and a child found after
the consumer started is read from its trim horizon whatever the starting position was.
Wake-ups come from `CommitSignals` (topic `stream_topic(stream_id)`).
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any, Protocol

from emulator.storage.engine import Engine
from emulator.streams.shards import StreamManager
from emulator.streams.signals import stream_topic

TRIM_HORIZON = "TRIM_HORIZON"
LATEST = "LATEST"
AT_TIMESTAMP = "AT_TIMESTAMP"


@dataclass(frozen=True, slots=True)
class LogRecord:
    sequence: int
    #: When the record was written (the clock's epoch seconds, not rounded).
    created: float
    #: The record's GetRecords wire form.
    data: bytes


@dataclass(frozen=True, slots=True)
class ShardRead:
    shard: Any
    records: list[LogRecord]
    #: Sequence numbers [first, last] that were trimmed by retention before this
    #: consumer read them (None: nothing lost). The position has moved past them.
    lost: tuple[int, int] | None = None


class LogShard(Protocol):
    """What the reader needs of a shard (a DynamoDB stream's `ShardRow`, a Kinesis shard)."""

    @property
    def shard_pk(self) -> int: ...
    @property
    def shard_id(self) -> str: ...
    @property
    def parent_shard_id(self) -> str | None: ...
    @property
    def starting_sequence(self) -> int: ...
    @property
    def ending_sequence(self) -> int | None: ...
    @property
    def trimmed_sequence(self) -> int | None: ...


class LogSource(Protocol):
    """A sharded log with lineage: a DynamoDB stream, or a Kinesis stream."""

    #: The commit-signal topic notified when records are appended.
    topic: Hashable

    def shards(self) -> list[Any]: ...
    def parents(self, shard: Any) -> list[str]: ...
    def tip(self) -> int: ...
    def read_timed(
        self, shard_pk: int, from_sequence: int, limit: int
    ) -> list[tuple[int, float, bytes]]: ...
    def has_records_from(self, shard_pk: int, sequence: int) -> bool: ...
    def count_from(self, shard_pk: int, sequence: int) -> int: ...
    def first_sequence_at(self, shard_pk: int, created: float) -> int | None: ...


class DynamoStreamSource:
    """A DynamoDB stream's stored log."""

    def __init__(self, engine: Engine, streams: StreamManager, stream_id: int) -> None:
        self._log = engine.stream_log
        self._streams = streams
        self.stream_id = stream_id
        self.topic: Hashable = stream_topic(stream_id)

    def shards(self) -> list[Any]:
        return list(self._streams.shards(self.stream_id))

    def parents(self, shard: Any) -> list[str]:
        return [shard.parent_shard_id] if shard.parent_shard_id else []

    def tip(self) -> int:
        return self._log.peek_sequence() - 1

    def read_timed(
        self, shard_pk: int, from_sequence: int, limit: int
    ) -> list[tuple[int, float, bytes]]:
        return self._log.read_timed(shard_pk, from_sequence, limit)

    def has_records_from(self, shard_pk: int, sequence: int) -> bool:
        return self._log.has_records_from(shard_pk, sequence)

    def count_from(self, shard_pk: int, sequence: int) -> int:
        return self._log.count_from(shard_pk, sequence)

    def first_sequence_at(self, shard_pk: int, created: float) -> int | None:
        return self._log.first_sequence_at(shard_pk, created)


class CheckpointedReader:
    """One consumer's view of one log (a DynamoDB stream unless `source` says otherwise).
    Everything runs on the event loop's thread."""

    def __init__(
        self,
        engine: Engine,
        streams: StreamManager,
        consumer: str,
        stream_id: int,
        source: LogSource | None = None,
    ) -> None:
        self._engine = engine
        self.source: LogSource = source or DynamoStreamSource(engine, streams, stream_id)
        self.consumer = consumer
        self.stream_id = stream_id
        #: shard_pk -> (last sequence handled, finished)
        self._checkpoints = engine.checkpoints.load(consumer)

    @property
    def started(self) -> bool:
        """Whether this consumer has positions already (it existed before a restart)."""
        return bool(self._checkpoints)

    def anchor(self, starting_position: str, timestamp: float | None = None) -> None:
        """Fix where a new consumer starts. LATEST: after the newest record of every open
        shard, with every closed shard finished; AT_TIMESTAMP (Kinesis): at each shard's
        first record written at or after `timestamp`; TRIM_HORIZON: at the oldest
        retained record (nothing to store: that is where a shard without a position
        starts). The anchor is stored, so it holds across a restart."""
        if starting_position == AT_TIMESTAMP and timestamp is not None:
            tip = self.source.tip()
            for shard in self.source.shards():
                first = self.source.first_sequence_at(shard.shard_pk, float(timestamp))
                if first is not None:
                    self._save(shard.shard_pk, first - 1, False)
                elif shard.ending_sequence is None:
                    self._save(shard.shard_pk, max(tip, shard.starting_sequence - 1), False)
                else:
                    self._save(shard.shard_pk, shard.ending_sequence, True)
            if not self._checkpoints:
                self._save(0, tip, True)
            return
        if starting_position != LATEST:
            return
        tip = self.source.tip()
        for shard in self.source.shards():
            if shard.ending_sequence is None:
                self._save(shard.shard_pk, max(tip, shard.starting_sequence - 1), False)
            else:
                self._save(shard.shard_pk, shard.ending_sequence, True)
        if not self._checkpoints:
            # A stream without shards: remember that the consumer has started all the same.
            self._save(0, tip, True)

    def forget(self) -> None:
        """Drop every stored position (the consumer is deleted)."""
        self._engine.checkpoints.drop(self.consumer)
        self._checkpoints = {}

    # -- where the consumer is ----------------------------------------------------------

    def next_sequence(self, shard: Any) -> int:
        """The first sequence number this consumer has not handled in `shard`."""
        checkpoint = self._checkpoints.get(shard.shard_pk)
        if checkpoint is not None:
            return checkpoint[0] + 1
        return shard.starting_sequence

    def is_finished(self, shard: Any) -> bool:
        checkpoint = self._checkpoints.get(shard.shard_pk)
        if checkpoint is not None and checkpoint[1]:
            return True
        if shard.ending_sequence is None:
            return False
        position = self.next_sequence(shard)
        if position > shard.ending_sequence:
            return True
        return not self.source.has_records_from(shard.shard_pk, position)

    def ready_shards(self) -> list[Any]:
        """The shards to read now: not finished, with every ancestor finished or gone.

        Ancestry is followed all the way up: an empty closed shard whose own parent is
        still being read does not let its children overtake that parent."""
        source = self.source
        shards = source.shards()
        by_id = {shard.shard_id: shard for shard in shards}
        done: dict[str, bool] = {}

        def parents_finished(shard: Any) -> bool:
            return all(
                lineage_finished(by_id[parent])
                for parent in source.parents(shard)
                if parent in by_id
            )

        def lineage_finished(shard: Any) -> bool:
            known = done.get(shard.shard_id)
            if known is None:
                known = self.is_finished(shard) and parents_finished(shard)
                done[shard.shard_id] = known
            return known

        return [
            shard for shard in shards if not self.is_finished(shard) and parents_finished(shard)
        ]

    def caught_up(self) -> bool:
        """Whether every retained record of the stream has been handled."""
        source = self.source
        return all(
            not source.has_records_from(shard.shard_pk, self.next_sequence(shard))
            for shard in source.shards()
        )

    def backlog(self, shard: Any) -> int:
        """How many stored records of `shard` this consumer has not handled."""
        return self.source.count_from(shard.shard_pk, self.next_sequence(shard))

    # -- reading and advancing ----------------------------------------------------------

    def read(self, shard: Any, limit: int, after: int | None = None) -> ShardRead:
        """Up to `limit` records of `shard` from the consumer's position (or after
        sequence `after`, for a consumer reading ahead of its checkpoint)."""
        position = self.next_sequence(shard) if after is None else after + 1
        lost = None
        trimmed = shard.trimmed_sequence
        if trimmed is not None and position <= trimmed:
            lost = (position, trimmed)
            position = trimmed + 1
        rows = self.source.read_timed(shard.shard_pk, position, limit)
        return ShardRead(shard, [LogRecord(*row) for row in rows], lost)

    def commit(self, shard: Any, sequence: int) -> None:
        """Everything of `shard` up to `sequence` is handled: store the position."""
        current = self._checkpoints.get(shard.shard_pk)
        if current is not None and current[0] >= sequence and not current[1]:
            return
        ending = shard.ending_sequence
        finished = ending is not None and sequence >= ending
        self._save(shard.shard_pk, sequence, finished)

    def finish(self, shard: Any) -> None:
        """Mark a closed shard read to its end (e.g. after its last records were lost)."""
        self._save(shard.shard_pk, shard.ending_sequence or self.next_sequence(shard) - 1, True)

    def _save(self, shard_pk: int, sequence: int, finished: bool) -> None:
        self._checkpoints[shard_pk] = (sequence, finished)
        self._engine.checkpoints.save(self.consumer, shard_pk, sequence, finished)
