"""The Kinesis Data Streams domain, pure Python: streams, shards, the hash-key space,
sequence numbers, and how a stream is kept as a document.

- Hash keys are 128-bit: a record's is the MD5 of its partition key (UTF-8) read as a
  big-endian integer, or its ExplicitHashKey. A stream's open shards cover the space
  [0, 2^128 - 1] without gaps, each a contiguous range.
- Sequence numbers: one counter for every shard (storage/kinesis_log.py), shown as
  56-digit decimals like AWS's, so they increase within a shard and compare as integers.
"""

from __future__ import annotations

import bisect
import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

HASH_LIMIT = 2**128
MAX_HASH_KEY = HASH_LIMIT - 1
#: Shown sequence numbers are this plus the stored counter: 56 digits, as on AWS.
SEQUENCE_BASE = 49 * 10**54
ITERATOR_LIFETIME_SECONDS = 300.0
DEFAULT_RETENTION_HOURS = 24
MAX_RETENTION_HOURS = 8760
#: CreateStream without ShardCount makes an on-demand stream with this many shards.
ON_DEMAND_SHARDS = 4
DEFAULT_MAX_RECORD_KIB = 1024

CREATING = "CREATING"
DELETING = "DELETING"
ACTIVE = "ACTIVE"
UPDATING = "UPDATING"


def hash_key_of(partition_key: str) -> int:
    return int.from_bytes(hashlib.md5(partition_key.encode()).digest(), "big")


def encode_sequence(sequence: int) -> str:
    return str(SEQUENCE_BASE + sequence)


def decode_sequence(text: str) -> int | None:
    """The counter value of a shown sequence number; None for one this emulator cannot
    have issued (too small)."""
    value = int(text) - SEQUENCE_BASE
    return value if value >= 0 else None


def shard_id_of(index: int) -> str:
    return f"shardId-{index:012d}"


def amz_time(epoch_seconds: float) -> str:
    """`Mon Jan 02 15:04:05 UTC 2006`, as AWS prints times inside Kinesis messages."""
    return datetime.fromtimestamp(epoch_seconds, UTC).strftime("%a %b %d %H:%M:%S UTC %Y")


class Instant:
    """A timestamp in a Kinesis answer: epoch seconds with a millisecond fraction on the
    JSON wire, CBOR tag 1 around integer epoch milliseconds on the CBOR wire."""

    __slots__ = ("ms",)

    def __init__(self, epoch_seconds: float) -> None:
        self.ms = round(epoch_seconds * 1000)

    def __repr__(self) -> str:
        return f"Instant({self.ms / 1000})"


@dataclass(slots=True)
class Shard:
    shard_pk: int
    index: int
    start_hash: int
    end_hash: int
    start_sequence: int
    created: float
    parent: str | None = None
    adjacent_parent: str | None = None
    end_sequence: int | None = None
    closed: float | None = None

    @property
    def shard_id(self) -> str:
        return shard_id_of(self.index)

    @property
    def is_open(self) -> bool:
        return self.end_sequence is None

    def describe(self) -> dict[str, Any]:
        shard: dict[str, Any] = {"ShardId": self.shard_id}
        if self.parent is not None:
            shard["ParentShardId"] = self.parent
        if self.adjacent_parent is not None:
            shard["AdjacentParentShardId"] = self.adjacent_parent
        shard["HashKeyRange"] = {
            "StartingHashKey": str(self.start_hash),
            "EndingHashKey": str(self.end_hash),
        }
        numbers = {"StartingSequenceNumber": encode_sequence(self.start_sequence)}
        if self.end_sequence is not None:
            numbers["EndingSequenceNumber"] = encode_sequence(self.end_sequence)
        shard["SequenceNumberRange"] = numbers
        return shard

    def to_document(self) -> dict[str, Any]:
        return {
            "pk": self.shard_pk,
            "index": self.index,
            "hash": [str(self.start_hash), str(self.end_hash)],
            "start": self.start_sequence,
            "end": self.end_sequence,
            "created": self.created,
            "closed": self.closed,
            "parent": self.parent,
            "adjacent": self.adjacent_parent,
        }

    @classmethod
    def from_document(cls, document: dict[str, Any]) -> Shard:
        return cls(
            shard_pk=document["pk"],
            index=document["index"],
            start_hash=int(document["hash"][0]),
            end_hash=int(document["hash"][1]),
            start_sequence=document["start"],
            created=document["created"],
            parent=document.get("parent"),
            adjacent_parent=document.get("adjacent"),
            end_sequence=document.get("end"),
            closed=document.get("closed"),
        )


def even_ranges(count: int, start: int = 0, end: int = MAX_HASH_KEY) -> list[tuple[int, int]]:
    """`count` contiguous ranges splitting [start, end] as evenly as integers allow."""
    width = end - start + 1
    bounds = [start + width * i // count for i in range(count + 1)]
    return [(bounds[i], bounds[i + 1] - 1) for i in range(count)]


@dataclass(slots=True)
class KinesisStream:
    """One stream. `pending` is the state change the next scheduler tick completes:
    {"op": "create" | "delete" | "reshard", ...}."""

    region: str
    name: str
    arn: str
    status: str
    created: float
    mode: str
    retention_hours: int
    shards: list[Shard]
    next_shard_index: int
    tags: dict[str, str] = field(default_factory=dict)
    max_record_kib: int = DEFAULT_MAX_RECORD_KIB
    pending: dict[str, Any] | None = None
    encryption: str = "NONE"
    consumers: list[dict[str, Any]] = field(default_factory=list)
    #: Routing table of the open shards: their start hashes, sorted, and the shards.
    _starts: list[int] = field(default_factory=list)
    _open: list[Shard] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.reindex()

    def reindex(self) -> None:
        self._open = sorted((s for s in self.shards if s.is_open), key=lambda s: s.start_hash)
        self._starts = [s.start_hash for s in self._open]

    @property
    def open_shards(self) -> list[Shard]:
        return self._open

    def route(self, hash_key: int) -> Shard:
        """The open shard whose range holds `hash_key`."""
        return self._open[bisect.bisect_right(self._starts, hash_key) - 1]

    def route_key(self, partition_key: str) -> Shard:
        """The open shard of a partition key (no hashing when there is one open shard)."""
        opened = self._open
        if len(opened) == 1:
            return opened[0]
        return opened[bisect.bisect_right(self._starts, hash_key_of(partition_key)) - 1]

    def shard(self, shard_id: str) -> Shard | None:
        for shard in self.shards:
            if shard.shard_id == shard_id:
                return shard
        return None

    def children_of(self, shard_id: str) -> list[Shard]:
        return [s for s in self.shards if shard_id in (s.parent, s.adjacent_parent)]

    def to_document(self) -> dict[str, Any]:
        return {
            "arn": self.arn,
            "status": self.status,
            "created": self.created,
            "mode": self.mode,
            "retention_hours": self.retention_hours,
            "shards": [shard.to_document() for shard in self.shards],
            "next_shard_index": self.next_shard_index,
            "tags": self.tags,
            "max_record_kib": self.max_record_kib,
            "pending": self.pending,
            "encryption": self.encryption,
            "consumers": self.consumers,
        }

    @classmethod
    def from_document(cls, region: str, name: str, document: dict[str, Any]) -> KinesisStream:
        return cls(
            region=region,
            name=name,
            arn=document["arn"],
            status=document["status"],
            created=document["created"],
            mode=document["mode"],
            retention_hours=document["retention_hours"],
            shards=[Shard.from_document(s) for s in document["shards"]],
            next_shard_index=document["next_shard_index"],
            tags=dict(document.get("tags") or {}),
            max_record_kib=document.get("max_record_kib", DEFAULT_MAX_RECORD_KIB),
            pending=document.get("pending"),
            encryption=document.get("encryption", "NONE"),
            consumers=list(document.get("consumers") or []),
        )
