"""A built-in Kinesis stream as the source of an event source mapping (SPEC-STREAM-APPS
3.12): the same poller and knobs as a DynamoDB stream, reading the Kinesis log, with
Kinesis lineage (a merged shard has two parents) and the Kinesis record shape."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

from emulator.kinesis.model import Shard, encode_sequence
from emulator.kinesis.service import KinesisService
from emulator.triggers.events import KinesisEvent, kinesis_record
from emulator.triggers.mapping import EventSourceMapping
from emulator.triggers.poller import SourceBinding


@dataclass(frozen=True, slots=True)
class KinesisShardView:
    """A Kinesis shard as the checkpointed reader sees shards."""

    shard_pk: int
    shard_id: str
    parent_shard_id: str | None
    adjacent_parent_shard_id: str | None
    starting_sequence: int
    ending_sequence: int | None
    trimmed_sequence: int | None = None

    @classmethod
    def of(cls, shard: Shard) -> KinesisShardView:
        return cls(
            shard.shard_pk,
            shard.shard_id,
            shard.parent,
            shard.adjacent_parent,
            shard.start_sequence,
            shard.end_sequence,
        )


class KinesisSource:
    def __init__(self, kinesis: KinesisService, stream_arn: str, identity_arn: str) -> None:
        self._kinesis = kinesis
        self._log = kinesis.log
        self.stream_arn = stream_arn
        self.identity_arn = identity_arn
        self.topic: Hashable = ("kinesis", stream_arn)
        self._shard_ids: dict[int, str] = {}

    def shards(self) -> list[Any]:
        stream = self._kinesis.by_arn.get(self.stream_arn)
        if stream is None:
            return []
        views = [KinesisShardView.of(shard) for shard in stream.shards]
        self._shard_ids = {view.shard_pk: view.shard_id for view in views}
        return views

    def parents(self, shard: Any) -> list[str]:
        return [p for p in (shard.parent_shard_id, shard.adjacent_parent_shard_id) if p]

    def tip(self) -> int:
        return self._log.peek_sequence() - 1

    def read_timed(
        self, shard_pk: int, from_sequence: int, limit: int
    ) -> list[tuple[int, float, bytes]]:
        stream = self._kinesis.by_arn.get(self.stream_arn)
        region = stream.region if stream is not None else ""
        if shard_pk not in self._shard_ids:
            self.shards()
        shard_id = self._shard_ids.get(shard_pk, "")
        return [
            (
                sequence,
                arrival,
                kinesis_record(
                    sequence_number=encode_sequence(sequence),
                    shard_id=shard_id,
                    partition_key=partition_key,
                    data=data,
                    arrival=arrival,
                    region=region,
                    stream_arn=self.stream_arn,
                    identity_arn=self.identity_arn,
                ),
            )
            for sequence, arrival, partition_key, data in self._log.read(
                shard_pk, from_sequence, limit
            )
        ]

    def has_records_from(self, shard_pk: int, sequence: int) -> bool:
        return bool(self._log.read(shard_pk, sequence, 1))

    def count_from(self, shard_pk: int, sequence: int) -> int:
        return self._log.count_from(shard_pk, sequence)

    def first_sequence_at(self, shard_pk: int, created: float) -> int | None:
        return self._log.first_sequence_at(shard_pk, created)


def kinesis_binder(
    kinesis: KinesisService, identity_of: Callable[[EventSourceMapping], str]
) -> Callable[[EventSourceMapping], SourceBinding | None]:
    """How the trigger supervisor binds a mapping to a built-in Kinesis stream."""

    def bind(mapping: EventSourceMapping) -> SourceBinding | None:
        stream = kinesis.by_arn.get(mapping.event_source_arn)
        if stream is None:
            return None
        source = KinesisSource(kinesis, stream.arn, identity_of(mapping))
        return SourceBinding(source, stream.arn, 0, KinesisEvent, kinesis=True)

    return bind
