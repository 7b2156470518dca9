"""The consumer seam (issue 13 item 4): the checkpointed, lineage-aware reader of the stored
stream log and the "records committed" signal, as an in-process consumer uses them, while
clients write through the real HTTP server. The reader hands out exactly what GetRecords
serves, keeps its positions in SQLite across a restart, and follows shard lineage."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import orjson
from conftest import InProcessServer, make_client, serve_backend

from emulator.config import Config
from emulator.runtime.backend import Backend
from emulator.streams.reader import LATEST, TRIM_HORIZON, CheckpointedReader
from emulator.streams.records import encode_sequence_number
from emulator.streams.signals import stream_topic


def create_streamed_table(ddb: Any, name: str) -> None:
    ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )


def put(ddb: Any, table: str, *keys: str) -> None:
    for key in keys:
        ddb.put_item(TableName=table, Item={"pk": {"S": key}})


def stream_of(server: InProcessServer, ddb: Any, table: str) -> tuple[str, int]:
    arn = ddb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    row = server.call(lambda: server.backend.streams.stream_by_arn(arn))
    return arn, row.stream_id


def reader(server: InProcessServer, consumer: str, stream_id: int) -> CheckpointedReader:
    backend = server.backend
    return server.call(
        lambda: CheckpointedReader(backend.engine, backend.streams, consumer, stream_id)
    )


def keys_of(records: list[Any]) -> list[str]:
    return [orjson.loads(r.data)["dynamodb"]["Keys"]["pk"]["S"] for r in records]


def get_records(streams: Any, arn: str, shard_id: str) -> list[dict[str, Any]]:
    iterator = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    return list(streams.get_records(ShardIterator=iterator)["Records"])


def test_the_reader_hands_out_what_get_records_serves_and_checkpoints_it() -> None:
    with serve_backend(Backend.create(Config())) as server:
        ddb = make_client(server.url)
        streams = make_client(server.url, "dynamodbstreams")
        create_streamed_table(ddb, "seam")
        arn, stream_id = stream_of(server, ddb, "seam")
        put(ddb, "seam", "a", "b", "c")

        first = reader(server, "audit", stream_id)
        assert not first.started
        server.call(lambda: first.anchor(TRIM_HORIZON))
        (shard,) = server.call(first.ready_shards)
        read = server.call(lambda: first.read(shard, 10))
        assert read.lost is None and keys_of(read.records) == ["a", "b", "c"]
        served = get_records(streams, arn, shard.shard_id)
        assert [encode_sequence_number(r.sequence) for r in read.records] == [
            r["dynamodb"]["SequenceNumber"] for r in served
        ]
        assert [orjson.loads(r.data)["eventID"] for r in read.records] == [
            r["eventID"] for r in served
        ]
        assert server.call(lambda: first.backlog(shard)) == 3

        server.call(lambda: first.commit(shard, read.records[1].sequence))
        assert server.call(lambda: first.backlog(shard)) == 1
        assert not server.call(first.caught_up)
        # Another reader of the same consumer starts from the stored position ...
        again = reader(server, "audit", stream_id)
        assert again.started
        assert keys_of(server.call(lambda: again.read(shard, 10)).records) == ["c"]
        # ... and a reader may read ahead of its checkpoint without moving it.
        ahead = server.call(lambda: again.read(shard, 10, after=read.records[2].sequence))
        assert ahead.records == []
        server.call(lambda: again.commit(shard, read.records[2].sequence))
        assert server.call(again.caught_up)
        # A consumer anchored at LATEST sees only what comes after.
        late = reader(server, "late", stream_id)
        server.call(lambda: late.anchor(LATEST))
        put(ddb, "seam", "d")
        assert keys_of(server.call(lambda: late.read(shard, 10)).records) == ["d"]
        assert keys_of(server.call(lambda: again.read(shard, 10)).records) == ["d"]
        server.call(late.forget)
        assert not reader(server, "late", stream_id).started


def test_children_are_ready_only_once_their_parent_is_finished() -> None:
    with serve_backend(Backend.create(Config())) as server:
        ddb = make_client(server.url)
        create_streamed_table(ddb, "lineage")
        arn, stream_id = stream_of(server, ddb, "lineage")
        put(ddb, "lineage", "parent-1", "parent-2")
        consumer = reader(server, "replicator", stream_id)
        server.call(lambda: consumer.anchor(TRIM_HORIZON))
        rolled = server.admin("/_emulator/streams/rollover", {"StreamArn": arn})
        (child_id,) = rolled["NewShardIds"]
        put(ddb, "lineage", "child-1")

        (parent,) = server.call(consumer.ready_shards)
        assert parent.shard_id == rolled["ClosedShardIds"][0]
        records = server.call(lambda: consumer.read(parent, 1)).records
        assert keys_of(records) == ["parent-1"]
        server.call(lambda: consumer.commit(parent, records[0].sequence))
        assert [s.shard_id for s in server.call(consumer.ready_shards)] == [parent.shard_id]

        records = server.call(lambda: consumer.read(parent, 10)).records
        assert keys_of(records) == ["parent-2"]
        server.call(lambda: consumer.commit(parent, records[-1].sequence))
        assert server.call(lambda: consumer.is_finished(parent))
        (child,) = server.call(consumer.ready_shards)
        assert child.shard_id == child_id and child.parent_shard_id == parent.shard_id
        assert keys_of(server.call(lambda: consumer.read(child, 10)).records) == ["child-1"]


def test_a_commit_wakes_a_waiting_consumer() -> None:
    with serve_backend(Backend.create(Config())) as server:
        ddb = make_client(server.url)
        create_streamed_table(ddb, "signals")
        _, stream_id = stream_of(server, ddb, "signals")
        signals = server.backend.signals
        woken: list[str] = []

        async def wait_then_note() -> None:
            await signals.wait([stream_topic(stream_id)], timeout=60)
            woken.append("woken")

        waiting = asyncio.run_coroutine_threadsafe(wait_then_note(), server.loop)
        server.call(lambda: None)  # the waiter is registered before the write
        assert woken == []
        put(ddb, "signals", "wake")
        waiting.result(10)  # a wait that nothing woke would still be sleeping
        assert woken == ["woken"]
        # Its registration is gone (other background consumers may still be waiting).
        assert stream_topic(stream_id) not in server.call(lambda: dict(signals._waiting))


def test_positions_and_lost_records_survive_a_restart(tmp_path: Path) -> None:
    config = Config(data_dir=str(tmp_path), shard_rollover_seconds=0)
    with serve_backend(Backend.create(config)) as server:
        ddb = make_client(server.url)
        create_streamed_table(ddb, "durable")
        _, stream_id = stream_of(server, ddb, "durable")
        put(ddb, "durable", "one", "two")
        consumer = reader(server, "forwarder", stream_id)
        (shard,) = server.call(consumer.ready_shards)
        first = server.call(lambda: consumer.read(shard, 1)).records[0]
        server.call(lambda: consumer.commit(shard, first.sequence))
        # A day later the second record is trimmed before the consumer read it.
        server.admin("/_emulator/clock", {"advance": 90_000})
        put(ddb, "durable", "three")

    with serve_backend(Backend.create(config)) as server:
        consumer = reader(server, "forwarder", stream_id)
        assert consumer.started
        (shard,) = server.call(consumer.ready_shards)
        assert server.call(lambda: consumer.next_sequence(shard)) == first.sequence + 1
        read = server.call(lambda: consumer.read(shard, 10))
        assert keys_of(read.records) == ["three"]
        assert read.lost == (first.sequence + 1, shard.trimmed_sequence)
        assert shard.trimmed_sequence is not None and shard.trimmed_sequence > first.sequence
