"""The built-in Kinesis Data Streams service: streams kept as documents, their records in
the Kinesis log, resharding, retention, and the state changes the scheduler completes.

Every method runs on the event loop's thread, inside or outside the caller's
transaction; a table write that streams into Kinesis appends here within its own
transaction (see kinesis/destination.py), so the record exists exactly when the write
does.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from emulator.clock import Clock
from emulator.kinesis.errors import InvalidArgument, ResourceInUse, ResourceNotFound
from emulator.kinesis.model import (
    ACTIVE,
    CREATING,
    DEFAULT_RETENTION_HOURS,
    DELETING,
    MAX_HASH_KEY,
    UPDATING,
    KinesisStream,
    Shard,
    even_ranges,
)
from emulator.storage.engine import Engine
from emulator.storage.kinesis_log import KinesisLog
from emulator.streams.iterators import IteratorCodec

DOCUMENT_KIND = "kinesis-stream"
#: Records trimmed per transaction by retention.
TRIM_BATCH = 500


def stream_name_of_arn(arn: str) -> tuple[str, str, str] | None:
    """(region, account, name) of `arn:aws:kinesis:<region>:<account>:stream/<name>`."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[2] != "kinesis" or not parts[5].startswith("stream/"):
        return None
    name = parts[5][len("stream/") :]
    if not name or "/" in name:
        return None
    return parts[3], parts[4], name


class KinesisService:
    def __init__(self, engine: Engine, clock: Clock, account_id: str, iterators: IteratorCodec):
        self.engine = engine
        self.clock = clock
        self.account_id = account_id
        self.iterators = iterators
        self.log = KinesisLog(engine)
        self.streams: dict[tuple[str, str], KinesisStream] = {}
        self.by_arn: dict[str, KinesisStream] = {}
        self.by_shard_pk: dict[int, tuple[KinesisStream, Shard]] = {}
        #: Opt-in fault: the next N PutRecord(s) entries fail with
        #: ProvisionedThroughputExceededException (to exercise retrying producers).
        self.throttle_next_puts = 0
        self.load()

    # -- persistence --------------------------------------------------------------------

    def load(self) -> None:
        self.streams.clear()
        for region, name, document in self.engine.documents.list(DOCUMENT_KIND):
            self.streams[(region, name)] = KinesisStream.from_document(region, name, document)
        self._reindex()

    def _reindex(self) -> None:
        self.by_arn = {stream.arn: stream for stream in self.streams.values()}
        self.by_shard_pk = {
            shard.shard_pk: (stream, shard)
            for stream in self.streams.values()
            for shard in stream.shards
        }

    def save(self, stream: KinesisStream) -> None:
        stream.reindex()
        self.engine.documents.put(DOCUMENT_KIND, stream.region, stream.name, stream.to_document())
        self._reindex()

    def reset(self) -> None:
        """After the engine dropped every document: drop the records and forget all."""
        with self.engine.transaction():
            self.log.clear()
            self.engine.documents.connection.execute(
                "DELETE FROM documents WHERE kind = ?", (DOCUMENT_KIND,)
            )
        self.throttle_next_puts = 0
        self.load()

    # -- identity -----------------------------------------------------------------------

    def arn(self, region: str, name: str) -> str:
        return f"arn:aws:kinesis:{region}:{self.account_id}:stream/{name}"

    def not_found(self, name: str) -> ResourceNotFound:
        return ResourceNotFound(f"Stream {name} under account {self.account_id} not found.")

    def lookup(self, region: str, name: str | None, arn: str | None) -> KinesisStream:
        """The stream a request names by StreamARN or StreamName (or both, which must
        agree)."""
        if arn is not None:
            parts = stream_name_of_arn(arn)
            if parts is None:
                raise InvalidArgument(f"Invalid StreamARN {arn}.")
            arn_region, account, arn_name = parts
            if name is not None and name != arn_name:
                raise InvalidArgument(
                    f"StreamARN {arn} and StreamName {name} do not refer to the same stream."
                )
            if arn_region != region or account != self.account_id:
                raise ResourceNotFound(f"Stream {arn_name} under account {account} not found.")
            name = arn_name
        if name is None:
            raise InvalidArgument("Either StreamName or StreamARN must be provided.")
        stream = self.streams.get((region, name))
        if stream is None:
            raise self.not_found(name)
        return stream

    def readable(self, stream: KinesisStream) -> KinesisStream:
        """Data calls need an ACTIVE (or UPDATING) stream; one still being created or
        being deleted is not found, as on AWS."""
        if stream.status not in (ACTIVE, UPDATING):
            raise self.not_found(stream.name)
        return stream

    def active(self, stream: KinesisStream) -> KinesisStream:
        """Control calls (resharding, retention) need an ACTIVE stream."""
        if stream.status != ACTIVE:
            raise ResourceInUse(
                f"Stream {stream.name} under account {self.account_id} not ACTIVE, instead in "
                f"state {stream.status}"
            )
        return stream

    # -- streams ------------------------------------------------------------------------

    def create(
        self,
        region: str,
        name: str,
        shard_count: int,
        mode: str,
        tags: dict[str, str],
        max_record_kib: int,
    ) -> KinesisStream:
        if (region, name) in self.streams:
            raise ResourceInUse(f"Stream {name} under account {self.account_id} already exists.")
        now = self.clock.now()
        stream = KinesisStream(
            region=region,
            name=name,
            arn=self.arn(region, name),
            status=CREATING,
            created=now,
            mode=mode,
            retention_hours=DEFAULT_RETENTION_HOURS,
            shards=[],
            next_shard_index=0,
            tags=dict(tags),
            max_record_kib=max_record_kib,
            pending={"op": "create"},
        )
        with self.engine.transaction():
            for start, end in even_ranges(shard_count):
                self._open_shard(stream, start, end, None, None, now)
            self.streams[(region, name)] = stream
            self.save(stream)
        return stream

    def delete(self, stream: KinesisStream) -> None:
        stream.status = DELETING
        stream.pending = {"op": "delete"}
        with self.engine.transaction():
            self.save(stream)

    def _remove(self, stream: KinesisStream) -> None:
        for shard in stream.shards:
            self.log.drop_shard(shard.shard_pk)
        self.engine.documents.delete(DOCUMENT_KIND, stream.region, stream.name)
        self.streams.pop((stream.region, stream.name), None)
        self._reindex()

    # -- shards -------------------------------------------------------------------------

    def _open_shard(
        self,
        stream: KinesisStream,
        start: int,
        end: int,
        parent: str | None,
        adjacent: str | None,
        now: float,
    ) -> Shard:
        shard = Shard(
            shard_pk=self.engine.catalog.allocate_id("kinesis_shard"),
            index=stream.next_shard_index,
            start_hash=start,
            end_hash=end,
            start_sequence=self.log.peek_sequence(),
            created=now,
            parent=parent,
            adjacent_parent=adjacent,
        )
        self.log.keep_high_water()
        stream.next_shard_index += 1
        stream.shards.append(shard)
        return shard

    def _close_shard(self, shard: Shard, now: float) -> None:
        shard.end_sequence = max(shard.start_sequence, self.log.peek_sequence() - 1)
        shard.closed = now

    def find_shard(self, stream: KinesisStream, shard_id: str) -> Shard:
        shard = stream.shard(shard_id)
        if shard is None:
            raise ResourceNotFound(
                f"Shard {shard_id} in stream {stream.name} under account {self.account_id} "
                "does not exist"
            )
        return shard

    def split(self, stream: KinesisStream, shard: Shard, at: int, now: float) -> list[Shard]:
        self._close_shard(shard, now)
        return [
            self._open_shard(stream, shard.start_hash, at - 1, shard.shard_id, None, now),
            self._open_shard(stream, at, shard.end_hash, shard.shard_id, None, now),
        ]

    def merge(self, stream: KinesisStream, shard: Shard, adjacent: Shard, now: float) -> Shard:
        self._close_shard(shard, now)
        self._close_shard(adjacent, now)
        start = min(shard.start_hash, adjacent.start_hash)
        end = max(shard.end_hash, adjacent.end_hash)
        return self._open_shard(stream, start, end, shard.shard_id, adjacent.shard_id, now)

    def reshard_uniformly(self, stream: KinesisStream, target: int, now: float) -> None:
        """UpdateShardCount's UNIFORM_SCALING as a series of splits and merges (as AWS
        does it), so every shard has at most two parents and lineage stays exact: split
        each open shard at the target boundaries inside it, then merge the pieces of each
        target range."""
        ranges = even_ranges(target)
        boundaries = [start for start, _ in ranges[1:]]
        for shard in sorted(stream.open_shards, key=lambda s: s.start_hash):
            current = shard
            for boundary in boundaries:
                if current.start_hash < boundary <= current.end_hash:
                    current = self.split(stream, current, boundary, now)[1]
        stream.reindex()
        for start, end in ranges:
            pieces = sorted(
                (s for s in stream.shards if s.is_open and start <= s.start_hash <= end),
                key=lambda s: s.start_hash,
            )
            merged = pieces[0]
            for piece in pieces[1:]:
                merged = self.merge(stream, merged, piece, now)
        stream.reindex()

    # -- records ------------------------------------------------------------------------

    def put(
        self, stream: KinesisStream, partition_key: str, data: bytes, explicit_hash: int | None
    ) -> tuple[Shard, int]:
        """Append one record to the shard its hash key routes to: (shard, sequence)."""
        if explicit_hash is None:
            shard = stream.route_key(partition_key)
        else:
            shard = stream.route(explicit_hash)
        return shard, self.log.append(shard.shard_pk, self.clock.now(), partition_key, data)

    # -- background work ----------------------------------------------------------------

    def pending(self) -> Iterator[KinesisStream]:
        return (stream for stream in list(self.streams.values()) if stream.pending is not None)

    def has_pending(self) -> bool:
        return any(stream.pending is not None for stream in self.streams.values())

    def complete_transitions(self) -> None:
        """Finish what CreateStream, DeleteStream and resharding started."""
        now = self.clock.now()
        for stream in self.pending():
            pending = stream.pending or {}
            with self.engine.transaction():
                op = pending.get("op")
                if op == "delete":
                    self._remove(stream)
                    continue
                if op == "reshard":
                    self._apply_reshard(stream, pending, now)
                stream.status = ACTIVE
                stream.pending = None
                self.save(stream)

    def _apply_reshard(self, stream: KinesisStream, pending: dict[str, Any], now: float) -> None:
        kind = pending["kind"]
        if kind == "uniform":
            self.reshard_uniformly(stream, int(pending["target"]), now)
        elif kind == "split":
            shard = stream.shard(pending["shard"])
            if shard is not None and shard.is_open:
                self.split(stream, shard, int(pending["at"]), now)
        elif kind == "merge":
            shard, adjacent = stream.shard(pending["shard"]), stream.shard(pending["adjacent"])
            if shard is not None and adjacent is not None and shard.is_open and adjacent.is_open:
                self.merge(stream, shard, adjacent, now)
        stream.reindex()

    def trim_once(self, now: float) -> bool:
        """One transaction of retention work; whether more may remain (the caller yields
        to requests between calls). Closed shards whose records all aged out leave."""
        for stream in list(self.streams.values()):
            cutoff = now - stream.retention_hours * 3600.0
            for shard in list(stream.shards):
                with self.engine.transaction():
                    trimmed = self.log.trim(shard.shard_pk, cutoff, TRIM_BATCH)
                    if trimmed >= TRIM_BATCH:
                        return True
                    if (
                        not shard.is_open
                        and shard.closed is not None
                        and shard.closed < cutoff
                        and self.log.first_sequence(shard.shard_pk) is None
                    ):
                        stream.shards.remove(shard)
                        self.save(stream)
        return False


__all__ = ["MAX_HASH_KEY", "KinesisService"]
