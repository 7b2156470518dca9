"""A table's Kinesis Data Streams destination: the record a change becomes (SPEC.md 4.8,
SPEC-STREAM-APPS 4.2), its partition key, and the sink that writes it inside the table
write's transaction.

- Built-in stream (no `--kinesis-endpoint`): the sink appends the record to the Kinesis
  stream's shard itself. The Kinesis log is durable and written in the same transaction,
  so the record exists exactly when the write does: none lost across a restart, none for
  a write that rolled back, readable as soon as the write is answered.
- External endpoint, or when duplicate/reorder faults are switched on: the sink puts the
  record into the outbox (the same transaction), and the forwarder (kinesis/forwarder.py)
  sends what was committed.

Independent of the table's own stream: MODIFY carries both images whatever the stream
view type, and it works with no stream at all (as on AWS).
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass, field
from hashlib import md5
from random import getrandbits
from typing import Any

import orjson

from emulator.changes.change import Change
from emulator.changes.sinks import Sink, SinkFactory
from emulator.kinesis.model import ACTIVE, UPDATING
from emulator.kinesis.service import KinesisService
from emulator.model.values import Item, item_size
from emulator.storage.engine import Engine, TableRow
from emulator.storage.indexes import table_key_bytes
from emulator.streams.signals import CommitSignals

ENABLING = "ENABLING"
DISABLING = "DISABLING"
DISABLED = "DISABLED"
ENABLE_FAILED = "ENABLE_FAILED"
DESTINATION_ACTIVE = "ACTIVE"
DESTINATION_UPDATING = "UPDATING"
#: Destination states in which the table's changes are sent.
FLOWING = frozenset({ENABLING, DESTINATION_ACTIVE, DESTINATION_UPDATING})
TRANSITIONAL = frozenset({ENABLING, DESTINATION_UPDATING, DISABLING})
#: The Kinesis record limit: larger change records are skipped and counted, as on AWS.
MAX_RECORD_BYTES = 1024 * 1024
OUTBOX_TOPIC = ("kinesis-outbox",)
#: The lower-case service identity of a TTL delete (SPEC-STREAM-APPS 4.2, Emulator rule).
TTL_IDENTITY = b'{"type":"Service","principalId":"dynamodb.amazonaws.com"}'


def stream_topic(stream_arn: str) -> tuple[str, str]:
    """The signal a Kinesis stream's readers (trigger pollers) wait on."""
    return ("kinesis", stream_arn)


def partition_key(hash_key: bytes, range_key: bytes) -> str:
    """32 upper-case hex digits, stable per item and distinct across items: the MD5 of the
    item's canonical (encoded) key. AWS's derivation is unknown (SPEC-STREAM-APPS 4.3)."""
    return md5(table_key_bytes(hash_key, range_key)).hexdigest().upper()


def _event_id() -> bytes:
    """A random (version 4, variant 1) UUID, hyphenated, as AWS's eventID."""
    bits = getrandbits(122)
    return b"%08x-%04x-4%03x-%x%03x-%012x" % (
        bits >> 90,
        (bits >> 74) & 0xFFFF,
        (bits >> 62) & 0xFFF,
        8 | ((bits >> 60) & 0x3),
        (bits >> 48) & 0xFFF,
        bits & 0xFFFFFFFFFFFF,
    )


@functools.cache
def _record_template(
    region: str, table: str, event: str, ttl: bool, precision: str | None, new: bool, old: bool
) -> bytes:
    """The record's JSON with `%` slots for what varies per record (eventID, time, keys,
    images, size), so a record is one formatting operation: this runs on every write to
    a table with a destination."""
    template = (
        b'{"awsRegion":%s,"eventID":"%%s","eventName":"%s","userIdentity":%s,'
        b'"recordFormat":"application/json","tableName":%s,'
        b'"dynamodb":{"ApproximateCreationDateTime":%%d'
        % (
            orjson.dumps(region).replace(b"%", b"%%"),
            event.encode(),
            TTL_IDENTITY if ttl else b"null",
            orjson.dumps(table).replace(b"%", b"%%"),
        )
    )
    if precision is not None:
        template += b',"ApproximateCreationDateTimePrecision":"%s"' % precision.encode()
    template += b',"Keys":%s'
    if new:
        template += b',"NewImage":%s'
    if old:
        template += b',"OldImage":%s'
    return template + b',"SizeBytes":%d},"eventSource":"aws:dynamodb"}'


def destination_record(change: Change, event: str, precision: str | None) -> bytes:
    """The `Data` of the Kinesis record of one change, in its final JSON bytes: epoch
    milliseconds, or microseconds once that precision is set; MODIFY with both images."""
    scale = 1_000_000 if precision == "MICROSECOND" else 1000
    key = change.key
    values: list[object] = [_event_id(), int(change.time * scale), orjson.dumps(key)]
    size = item_size(key)
    new_item = change.new_item
    if new_item is not None:
        blob = change.new_blob
        values.append(orjson.dumps(new_item) if blob is None else blob)
        size += change.new_size
    old_item = change.old_item
    if old_item is not None:
        values.append(orjson.dumps(old_item))
        size += change.old_size
    values.append(size)
    table = change.table
    template = _record_template(
        table.region,
        table.name,
        event,
        change.user_identity is not None,
        precision,
        new_item is not None,
        old_item is not None,
    )
    return template % tuple(values)


@dataclass
class DestinationStats:
    """What AWS reports as CloudWatch metrics, per destination stream."""

    records: int = 0
    failed_to_replicate: int = 0
    throttled_puts: int = 0

    def as_dict(self) -> dict[str, int]:
        return {
            "Records": self.records,
            "FailedToReplicateRecordCount": self.failed_to_replicate,
            "ThrottledPutRecordCount": self.throttled_puts,
        }


@dataclass
class Faults:
    """Opt-in fault injection (SPEC-STREAM-APPS 8): every `duplicate_every`-th forwarded
    record is sent twice; every `reorder_every`-th pair of records is swapped."""

    duplicate_every: int = 0
    reorder_every: int = 0

    @property
    def active(self) -> bool:
        return self.duplicate_every > 0 or self.reorder_every > 0


@dataclass
class Destinations:
    """The destinations' shared runtime: where records go, fault settings, statistics."""

    service: KinesisService
    engine: Engine
    signals: CommitSignals
    #: An external Kinesis endpoint every destination forwards to, or None (built-in).
    external_endpoint: str | None = None
    faults: Faults = field(default_factory=Faults)
    stats: dict[str, DestinationStats] = field(default_factory=dict)
    #: Faults were switched off while records were queued: keep queueing until the
    #: forwarder emptied the outbox, so no record overtakes an older one.
    draining: bool = False
    #: Whether records go through the outbox and the forwarder (external endpoint, faults
    #: on, or draining); kept as a plain attribute, read on every write (`update_mode`).
    queued: bool = False

    def __post_init__(self) -> None:
        self.update_mode()

    def update_mode(self) -> None:
        self.queued = self.external_endpoint is not None or self.faults.active or self.draining

    def stats_for(self, arn: str) -> DestinationStats:
        found = self.stats.get(arn)
        if found is None:
            found = self.stats[arn] = DestinationStats()
        return found


class KinesisDestinationSink:
    __slots__ = (
        "_destinations",
        "_insert_template",
        "_scale",
        "_stats",
        "_topic",
        "arn",
        "precision",
    )

    def __init__(
        self, destinations: Destinations, row: TableRow, arn: str, precision: str | None
    ) -> None:
        self._destinations = destinations
        self._stats = destinations.stats_for(arn)
        self._topic = stream_topic(arn)
        self.arn = arn
        self.precision = precision
        #: A new item's INSERT record (the record most writes make), for one formatting.
        self._insert_template = _record_template(
            row.region, row.name, "INSERT", False, precision, True, False
        )
        self._scale = 1_000_000 if precision == "MICROSECOND" else 1000

    def record(self, change: Change) -> None:
        event = change.event
        if event is None:
            return
        data = destination_record(change, event, self.precision)
        stats = self._stats
        if len(data) > MAX_RECORD_BYTES:
            stats.failed_to_replicate += 1
            return
        key = partition_key(change.hash_key, change.range_key)
        destinations = self._destinations
        engine = destinations.engine
        if destinations.queued:
            destinations.service.log.enqueue(self.arn, key, data, change.time)
            engine.after_commit(destinations.signals.notify, OUTBOX_TOPIC)
            return
        stream = destinations.service.by_arn.get(self.arn)
        if stream is None or stream.status not in (ACTIVE, UPDATING):
            stats.failed_to_replicate += 1
            return
        destinations.service.put(stream, key, data, None)
        stats.records += 1
        engine.after_commit(destinations.signals.notify, self._topic)

    def insert_with_item(
        self,
        keys: Item,
        time: float,
        table_id: int,
        hash_key: bytes,
        range_key: bytes,
        size: int,
        blob: bytes,
        expires: float | None,
    ) -> bool | None:
        """A new item and its INSERT record in one statement (see `WritePipeline.put`):
        whether they were stored (False: the item exists), None when this sink cannot do
        it (the record goes through the outbox, or the stream is not writable)."""
        destinations = self._destinations
        if destinations.queued:
            return None
        stream = destinations.service.by_arn.get(self.arn)
        if stream is None or stream.status not in (ACTIVE, UPDATING):
            return None
        data = self._insert_template % (
            _event_id(),
            int(time * self._scale),
            orjson.dumps(keys),
            blob,
            item_size(keys) + size,
        )
        if len(data) > MAX_RECORD_BYTES:
            return None
        key = md5(len(hash_key).to_bytes(2, "big") + hash_key + range_key).hexdigest().upper()
        shard = stream.route_key(key)
        if not destinations.service.log.insert_item_with_record(
            table_id,
            hash_key,
            range_key,
            size,
            blob,
            expires,
            shard.shard_pk,
            time,
            key,
            data,
        ):
            return False
        self._stats.records += 1
        destinations.engine.after_commit(destinations.signals.notify, self._topic)
        return True


def destination_sink_factory(destinations: Destinations) -> SinkFactory:
    def make(row: TableRow) -> Sink | None:
        for destination in row.state.kinesis_destinations:
            if destination["status"] in FLOWING:
                return KinesisDestinationSink(
                    destinations, row, destination["arn"], destination.get("precision")
                )
        return None

    return make


def complete_destination_transitions(destinations: Destinations) -> None:
    """ENABLING → ACTIVE (or ENABLE_FAILED when the built-in stream does not exist),
    UPDATING → ACTIVE, DISABLING → DISABLED."""
    engine = destinations.engine
    for row in engine.catalog.all_tables():
        current = row.state.kinesis_destinations
        if not any(d["status"] in TRANSITIONAL for d in current):
            continue
        settled = tuple(_settle(destinations, dict(d)) for d in current)
        with engine.transaction():
            row.state = dataclasses.replace(row.state, kinesis_destinations=settled)
            engine.catalog.save_table(row)


def _settle(destinations: Destinations, destination: dict[str, Any]) -> dict[str, Any]:
    status = destination["status"]
    if status == ENABLING:
        stream = destinations.service.by_arn.get(destination["arn"])
        if destinations.external_endpoint is None and stream is None:
            destination["status"] = ENABLE_FAILED
            destination["description"] = (
                f"Kinesis data stream {destination['arn']} does not exist or is not accessible."
            )
        else:
            destination["status"] = DESTINATION_ACTIVE
            destination.pop("description", None)
    elif status == DESTINATION_UPDATING:
        destination["status"] = DESTINATION_ACTIVE
    elif status == DISABLING:
        destination["status"] = DISABLED
    return destination


def has_pending_destinations(engine: Engine) -> bool:
    return any(
        d["status"] in TRANSITIONAL
        for row in engine.catalog.all_tables()
        for d in row.state.kinesis_destinations
    )
