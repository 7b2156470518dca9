"""Ordering and exactly-once delivery (SPEC 3.5): a reader following NextShardIterator, and
per-item order under concurrent writers."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from typing import Any

from conftest import make_client

WRITERS = 8
WRITES_PER_WRITER = 40
KEYS = 6


def latest_arn(ddb: Any, table: str) -> str:
    return str(ddb.describe_table(TableName=table)["Table"]["LatestStreamArn"])


def shard_ids(streams: Any, arn: str) -> list[str]:
    shards = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
    return [shard["ShardId"] for shard in shards]


def test_reader_sees_every_write_once_in_order(
    ddb: Any, streams: Any, make_table: Callable[..., str]
) -> None:
    table = make_table(stream="NEW_IMAGE")
    arn = latest_arn(ddb, table)
    [shard_id] = shard_ids(streams, arn)
    iterator = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard_id, ShardIteratorType="LATEST"
    )["ShardIterator"]
    expected: list[tuple[str, str]] = []
    seen: list[tuple[str, str]] = []
    for i in range(60):
        # several writes between reads, some of them to the same item
        for j in range(i % 3 + 1):
            pk, value = f"k{(i + j) % 5}", f"{i}.{j}"
            ddb.put_item(TableName=table, Item={"pk": {"S": pk}, "v": {"S": value}})
            expected.append((pk, value))
        page = streams.get_records(ShardIterator=iterator, Limit=2 + i % 4)
        seen.extend(
            (r["dynamodb"]["Keys"]["pk"]["S"], r["dynamodb"]["NewImage"]["v"]["S"])
            for r in page["Records"]
        )
        iterator = page["NextShardIterator"]
    while True:
        page = streams.get_records(ShardIterator=iterator)
        if not page["Records"]:
            break
        seen.extend(
            (r["dynamodb"]["Keys"]["pk"]["S"], r["dynamodb"]["NewImage"]["v"]["S"])
            for r in page["Records"]
        )
        iterator = page["NextShardIterator"]
    assert seen == expected


def test_per_item_order_under_concurrent_writers(
    ddb: Any, streams: Any, endpoint: str, make_table: Callable[..., str]
) -> None:
    table = make_table(stream="NEW_AND_OLD_IMAGES")
    arn = latest_arn(ddb, table)
    [shard_id] = shard_ids(streams, arn)
    clients = [make_client(endpoint) for _ in range(WRITERS)]
    reader_client = make_client(endpoint, "dynamodbstreams")
    start = threading.Barrier(WRITERS + 1)
    errors: list[BaseException] = []
    writers_done = threading.Event()
    followed: list[dict[str, Any]] = []

    def write(writer: int) -> None:
        try:
            client = clients[writer]
            start.wait()
            for counter in range(WRITES_PER_WRITER):
                client.put_item(
                    TableName=table,
                    Item={
                        "pk": {"S": f"item{(writer + counter) % KEYS}"},
                        "writer": {"N": str(writer)},
                        "counter": {"N": str(counter)},
                    },
                )
        except BaseException as error:  # surfaced in the main thread
            errors.append(error)

    def follow() -> None:
        """A live reader that follows NextShardIterator while the writers run."""
        try:
            iterator = reader_client.get_shard_iterator(
                StreamArn=arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
            )["ShardIterator"]
            start.wait()
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                finished = writers_done.is_set()
                page = reader_client.get_records(ShardIterator=iterator, Limit=37)
                followed.extend(page["Records"])
                iterator = page["NextShardIterator"]
                if finished and not page["Records"]:
                    return
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(WRITERS)]
    reader = threading.Thread(target=follow)
    for thread in [*threads, reader]:
        thread.start()
    for thread in threads:
        thread.join(60)
    writers_done.set()
    reader.join(60)
    assert not errors, errors

    records: list[dict[str, Any]] = []
    iterator = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    while True:
        page = streams.get_records(ShardIterator=iterator)
        if not page["Records"]:
            break
        records.extend(page["Records"])
        iterator = page["NextShardIterator"]

    # every write produced exactly one record (each put changes its item)
    assert len(records) == WRITERS * WRITES_PER_WRITER
    numbers = [int(r["dynamodb"]["SequenceNumber"]) for r in records]
    assert numbers == sorted(set(numbers))
    # the live reader saw the same records, once each, in the same order
    assert [r["eventID"] for r in followed] == [r["eventID"] for r in records]

    by_item: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        by_item.setdefault(record["dynamodb"]["Keys"]["pk"]["S"], []).append(record["dynamodb"])
    assert len(by_item) == KEYS
    for pk, changes in by_item.items():
        # the chain of images is unbroken: each OldImage is the previous NewImage
        assert "OldImage" not in changes[0]
        for previous, change in itertools.pairwise(changes):
            assert change["OldImage"] == previous["NewImage"], pk
        # each writer's writes to this item appear, all of them, in the order it made them
        for writer in range(WRITERS):
            counters = [
                int(c["NewImage"]["counter"]["N"])
                for c in changes
                if c["NewImage"]["writer"]["N"] == str(writer)
            ]
            expected = [
                counter
                for counter in range(WRITES_PER_WRITER)
                if (writer + counter) % KEYS == int(pk[4:])
            ]
            assert counters == expected, (pk, writer)
        # the last record is the item as stored
        final = ddb.get_item(TableName=table, Key={"pk": {"S": pk}}, ConsistentRead=True)
        assert changes[-1]["NewImage"] == final["Item"]
