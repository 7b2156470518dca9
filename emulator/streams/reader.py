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

from dataclasses import dataclass

from emulator.storage.engine import Engine, ShardRow
from emulator.streams.shards import StreamManager

TRIM_HORIZON = "TRIM_HORIZON"
LATEST = "LATEST"


@dataclass(frozen=True, slots=True)
class LogRecord:
    sequence: int
    #: When the record was written (the clock's epoch seconds, not rounded).
    created: float
    #: The record's GetRecords wire form.
    data: bytes


@dataclass(frozen=True, slots=True)
class ShardRead:
    shard: ShardRow
    records: list[LogRecord]
    #: Sequence numbers [first, last] that were trimmed by retention before this
    #: consumer read them (None: nothing lost). The position has moved past them.
    lost: tuple[int, int] | None = None


class CheckpointedReader:
    """One consumer's view of one stream. Everything runs on the event loop's thread."""

    def __init__(
        self, engine: Engine, streams: StreamManager, consumer: str, stream_id: int
    ) -> None:
        self._engine = engine
        self._streams = streams
        self.consumer = consumer
        self.stream_id = stream_id
        #: shard_pk -> (last sequence handled, finished)
        self._checkpoints = engine.checkpoints.load(consumer)

    @property
    def started(self) -> bool:
        """Whether this consumer has positions already (it existed before a restart)."""
        return bool(self._checkpoints)

    def anchor(self, starting_position: str) -> None:
        """Fix where a new consumer starts. LATEST: after the newest record of every open
        shard, with every closed shard finished; TRIM_HORIZON: at the oldest retained
        record (nothing to store: that is where a shard without a position starts). The
        anchor is stored, so it holds across a restart."""
        if starting_position != LATEST:
            return
        tip = self._engine.stream_log.peek_sequence() - 1
        for shard in self._streams.shards(self.stream_id):
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

    def next_sequence(self, shard: ShardRow) -> int:
        """The first sequence number this consumer has not handled in `shard`."""
        checkpoint = self._checkpoints.get(shard.shard_pk)
        if checkpoint is not None:
            return checkpoint[0] + 1
        return shard.starting_sequence

    def is_finished(self, shard: ShardRow) -> bool:
        checkpoint = self._checkpoints.get(shard.shard_pk)
        if checkpoint is not None and checkpoint[1]:
            return True
        if shard.ending_sequence is None:
            return False
        position = self.next_sequence(shard)
        if position > shard.ending_sequence:
            return True
        return not self._engine.stream_log.has_records_from(shard.shard_pk, position)

    def ready_shards(self) -> list[ShardRow]:
        """The shards to read now: not finished, with every ancestor finished or gone.

        Ancestry is followed all the way up: an empty closed shard whose own parent is
        still being read does not let its children overtake that parent."""
        shards = self._streams.shards(self.stream_id)
        by_id = {shard.shard_id: shard for shard in shards}
        done: dict[str, bool] = {}

        def lineage_finished(shard: ShardRow) -> bool:
            known = done.get(shard.shard_id)
            if known is None:
                parent = by_id.get(shard.parent_shard_id) if shard.parent_shard_id else None
                known = self.is_finished(shard) and (parent is None or lineage_finished(parent))
                done[shard.shard_id] = known
            return known

        ready = []
        for shard in shards:
            if self.is_finished(shard):
                continue
            parent = by_id.get(shard.parent_shard_id) if shard.parent_shard_id else None
            if parent is not None and not lineage_finished(parent):
                continue
            ready.append(shard)
        return ready

    def caught_up(self) -> bool:
        """Whether every retained record of the stream has been handled."""
        log = self._engine.stream_log
        return all(
            not log.has_records_from(shard.shard_pk, self.next_sequence(shard))
            for shard in self._streams.shards(self.stream_id)
        )

    def backlog(self, shard: ShardRow) -> int:
        """How many stored records of `shard` this consumer has not handled."""
        return self._engine.stream_log.count_from(shard.shard_pk, self.next_sequence(shard))

    # -- reading and advancing ----------------------------------------------------------

    def read(self, shard: ShardRow, limit: int, after: int | None = None) -> ShardRead:
        """Up to `limit` records of `shard` from the consumer's position (or after
        sequence `after`, for a consumer reading ahead of its checkpoint)."""
        position = self.next_sequence(shard) if after is None else after + 1
        lost = None
        trimmed = shard.trimmed_sequence
        if trimmed is not None and position <= trimmed:
            lost = (position, trimmed)
            position = trimmed + 1
        rows = self._engine.stream_log.read_timed(shard.shard_pk, position, limit)
        return ShardRead(shard, [LogRecord(*row) for row in rows], lost)

    def commit(self, shard: ShardRow, sequence: int) -> None:
        """Everything of `shard` up to `sequence` is handled: store the position."""
        current = self._checkpoints.get(shard.shard_pk)
        if current is not None and current[0] >= sequence and not current[1]:
            return
        ending = shard.ending_sequence
        finished = ending is not None and sequence >= ending
        self._save(shard.shard_pk, sequence, finished)

    def finish(self, shard: ShardRow) -> None:
        """Mark a closed shard read to its end (e.g. after its last records were lost)."""
        self._save(shard.shard_pk, shard.ending_sequence or self.next_sequence(shard) - 1, True)

    def _save(self, shard_pk: int, sequence: int, finished: bool) -> None:
        self._checkpoints[shard_pk] = (sequence, finished)
        self._engine.checkpoints.save(self.consumer, shard_pk, sequence, finished)
