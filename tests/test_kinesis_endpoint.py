"""The built-in Kinesis Data Streams endpoint (SPEC-STREAM-APPS 5, check 35) through the real
server: boto3's `kinesis` client (JSON 1.1), raw CBOR 1.1 requests, raw JSON for what no
SDK sends, and the AWS CLI.

Most tests run on a private server under the test clock (iterator expiry, retention and
state changes are exact there); the CREATING → ACTIVE test holds its own backend.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import os
import subprocess
from collections.abc import Iterator
from typing import Any

import cbor2
import pytest
from conftest import RunningServer, error_of, make_client, serve_backend, start_server
from kinesis_support import (
    CBOR_11,
    JSON_11,
    Tag1,
    admin,
    cbor_call,
    data_of,
    json_call,
    raw,
    read_all,
    settle,
)
from test_awscli import aws_executable

from emulator.config import Config
from emulator.runtime.backend import Backend

ACCOUNT = "000000000000"
ONE_SHARD_END = "340282366920938463463374607431768211455"


@pytest.fixture(scope="module")
def server() -> Iterator[RunningServer]:
    running = start_server()
    try:
        admin(running.url, "/_emulator/clock", {"mode": "manual"})
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def kinesis(server: RunningServer) -> Any:
    return make_client(server.url, "kinesis")


_names = iter(range(1, 10**6))


@pytest.fixture
def stream(kinesis: Any, server: RunningServer) -> str:
    name = f"s{next(_names)}"
    kinesis.create_stream(StreamName=name, ShardCount=1)
    settle(server.url)
    return name


def advance(server: RunningServer, seconds: float) -> None:
    admin(server.url, "/_emulator/clock", {"advance": seconds})


def iterator(kinesis: Any, stream: str, shard: str = "shardId-000000000000", **kw: Any) -> str:
    kw.setdefault("ShardIteratorType", "TRIM_HORIZON")
    return str(kinesis.get_shard_iterator(StreamName=stream, ShardId=shard, **kw)["ShardIterator"])


# -- lifecycle ------------------------------------------------------------------------------


def test_create_stream_is_creating_then_active_on_the_next_tick() -> None:
    backend = Backend.create(Config())
    with serve_backend(backend) as running:
        # Hold the background tick, so the answer before it is observable.
        running.call(lambda: backend._tasks[0].cancel())
        kinesis = make_client(running.url, "kinesis")
        assert (
            kinesis.create_stream(StreamName="fresh", ShardCount=2)["ResponseMetadata"][
                "HTTPStatusCode"
            ]
            == 200
        )
        summary = kinesis.describe_stream_summary(StreamName="fresh")["StreamDescriptionSummary"]
        assert summary["StreamStatus"] == "CREATING"
        assert error_of(kinesis.put_record, StreamName="fresh", Data=b"x", PartitionKey="k") == {
            "Code": "ResourceNotFoundException",
            "Message": f"Stream fresh under account {ACCOUNT} not found.",
        }
        running.run(_tick(backend))
        summary = kinesis.describe_stream_summary(StreamName="fresh")["StreamDescriptionSummary"]
        assert summary["StreamStatus"] == "ACTIVE"
        assert summary["OpenShardCount"] == 2


async def _tick(backend: Backend) -> None:
    from emulator.runtime.scheduler import run_due_work

    await run_due_work(backend)


def test_describe_list_and_defaults(kinesis: Any, server: RunningServer) -> None:
    kinesis.create_stream(StreamName="ondemand")
    settle(server.url)
    description = kinesis.describe_stream(StreamName="ondemand")["StreamDescription"]
    assert description["StreamModeDetails"] == {"StreamMode": "ON_DEMAND"}
    assert [s["ShardId"] for s in description["Shards"]] == [f"shardId-{i:012d}" for i in range(4)]
    ranges = [s["HashKeyRange"] for s in description["Shards"]]
    assert ranges[0]["StartingHashKey"] == "0"
    assert ranges[-1]["EndingHashKey"] == ONE_SHARD_END
    for left, right in itertools.pairwise(ranges):
        assert int(left["EndingHashKey"]) + 1 == int(right["StartingHashKey"])
    assert description["StreamARN"] == f"arn:aws:kinesis:us-east-1:{ACCOUNT}:stream/ondemand"
    assert description["RetentionPeriodHours"] == 24
    assert description["HasMoreShards"] is False
    assert description["EncryptionType"] == "NONE"
    listed = kinesis.list_streams()
    assert "ondemand" in listed["StreamNames"]
    summary = next(s for s in listed["StreamSummaries"] if s["StreamName"] == "ondemand")
    assert summary["StreamStatus"] == "ACTIVE"
    assert error_of(kinesis.create_stream, StreamName="ondemand", ShardCount=1) == {
        "Code": "ResourceInUseException",
        "Message": f"Stream ondemand under account {ACCOUNT} already exists.",
    }
    kinesis.delete_stream(StreamARN=description["StreamARN"])
    settle(server.url)
    assert error_of(kinesis.describe_stream, StreamName="ondemand") == {
        "Code": "ResourceNotFoundException",
        "Message": f"Stream ondemand under account {ACCOUNT} not found.",
    }


def test_list_streams_pages(kinesis: Any, server: RunningServer) -> None:
    for i in range(3):
        kinesis.create_stream(StreamName=f"page-{i}", ShardCount=1)
    first = kinesis.list_streams(Limit=1, ExclusiveStartStreamName="page-")
    assert first["StreamNames"] == ["page-0"] and first["HasMoreStreams"] is True
    second = kinesis.list_streams(NextToken=first["NextToken"], Limit=1)
    assert second["StreamNames"] == ["page-1"]


# -- records and routing --------------------------------------------------------------------


def test_put_and_get_by_name_and_by_arn(kinesis: Any, stream: str) -> None:
    arn = f"arn:aws:kinesis:us-east-1:{ACCOUNT}:stream/{stream}"
    one = kinesis.put_record(StreamName=stream, Data=b"\x00first", PartitionKey="a")
    two = kinesis.put_record(StreamARN=arn, Data=b"second", PartitionKey="b")
    both = kinesis.put_record(StreamName=stream, StreamARN=arn, Data=b"third", PartitionKey="c")
    numbers = [int(r["SequenceNumber"]) for r in (one, two, both)]
    assert numbers == sorted(numbers) and len(set(numbers)) == 3
    assert all(len(r["SequenceNumber"]) >= 21 for r in (one, two, both))
    page = kinesis.get_records(ShardIterator=iterator(kinesis, stream))
    assert [r["Data"] for r in page["Records"]] == [b"\x00first", b"second", b"third"]
    assert [r["PartitionKey"] for r in page["Records"]] == ["a", "b", "c"]
    assert page["MillisBehindLatest"] == 0
    assert "ChildShards" not in page
    by_arn = kinesis.get_shard_iterator(
        StreamARN=arn, ShardId="shardId-000000000000", ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    assert len(kinesis.get_records(ShardIterator=by_arn, StreamARN=arn)["Records"]) == 3
    assert (
        error_of(
            kinesis.put_record, StreamName="other", StreamARN=arn, Data=b"x", PartitionKey="k"
        )["Code"]
        == "InvalidArgumentException"
    )


def test_routing_by_md5_of_the_partition_key(kinesis: Any, server: RunningServer) -> None:
    kinesis.create_stream(StreamName="routed", ShardCount=4)
    settle(server.url)
    shards = kinesis.list_shards(StreamName="routed")["Shards"]
    ranges = {
        s["ShardId"]: (
            int(s["HashKeyRange"]["StartingHashKey"]),
            int(s["HashKeyRange"]["EndingHashKey"]),
        )
        for s in shards
    }
    answer = kinesis.put_records(
        StreamName="routed",
        Records=[{"Data": b"%d" % i, "PartitionKey": f"key-{i}"} for i in range(40)],
    )
    assert answer["FailedRecordCount"] == 0
    for i, result in enumerate(answer["Records"]):
        hashed = int.from_bytes(hashlib.md5(f"key-{i}".encode()).digest(), "big")
        low, high = ranges[result["ShardId"]]
        assert low <= hashed <= high
    assert len({r["ShardId"] for r in answer["Records"]}) == 4
    explicit = kinesis.put_record(
        StreamName="routed", Data=b"x", PartitionKey="any", ExplicitHashKey=ONE_SHARD_END
    )
    assert explicit["ShardId"] == "shardId-000000000003"
    assert error_of(
        kinesis.put_record,
        StreamName="routed",
        Data=b"x",
        PartitionKey="any",
        ExplicitHashKey=str(2**128),
    ) == {
        "Code": "InvalidArgumentException",
        "Message": "Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. "
        f"Specified value was {2**128}",
    }


def test_get_records_caps_at_10000(kinesis: Any, stream: str) -> None:
    for batch in range(21):
        kinesis.put_records(
            StreamName=stream,
            Records=[{"Data": b"r", "PartitionKey": f"{batch}-{i}"} for i in range(500)],
        )
    page = kinesis.get_records(ShardIterator=iterator(kinesis, stream))
    assert len(page["Records"]) == 10_000
    rest = kinesis.get_records(ShardIterator=page["NextShardIterator"], Limit=10_000)
    assert len(rest["Records"]) == 500 and rest["MillisBehindLatest"] == 0
    small = kinesis.get_records(ShardIterator=iterator(kinesis, stream), Limit=7)
    assert len(small["Records"]) == 7
    assert (
        error_of(kinesis.get_records, ShardIterator=iterator(kinesis, stream), Limit=10_001)["Code"]
        == "InvalidArgumentException"
    )


def test_iterator_types(kinesis: Any, server: RunningServer, stream: str) -> None:
    first = kinesis.put_record(StreamName=stream, Data=b"1", PartitionKey="k")["SequenceNumber"]
    advance(server, 10)
    moment = float(admin(server.url, "/_emulator/clock", method="GET")["now"])
    second = kinesis.put_record(StreamName=stream, Data=b"2", PartitionKey="k")["SequenceNumber"]
    latest = iterator(kinesis, stream, ShardIteratorType="LATEST")
    kinesis.put_record(StreamName=stream, Data=b"3", PartitionKey="k")

    def read(it: str) -> list[bytes]:
        return [r["Data"] for r in kinesis.get_records(ShardIterator=it)["Records"]]

    assert read(iterator(kinesis, stream)) == [b"1", b"2", b"3"]
    assert read(latest) == [b"3"]
    assert read(
        iterator(
            kinesis, stream, ShardIteratorType="AT_SEQUENCE_NUMBER", StartingSequenceNumber=second
        )
    ) == [b"2", b"3"]
    assert read(
        iterator(
            kinesis, stream, ShardIteratorType="AFTER_SEQUENCE_NUMBER", StartingSequenceNumber=first
        )
    ) == [b"2", b"3"]
    assert read(iterator(kinesis, stream, ShardIteratorType="AT_TIMESTAMP", Timestamp=moment)) == [
        b"2",
        b"3",
    ]
    assert error_of(
        kinesis.get_shard_iterator,
        StreamName=stream,
        ShardId="shardId-000000000000",
        ShardIteratorType="AT_SEQUENCE_NUMBER",
    ) == {
        "Code": "InvalidArgumentException",
        "Message": "Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and "
        "StartingSequenceNumber or (2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. "
        "Request specified AT_SEQUENCE_NUMBER and no StartingSequenceNumber.",
    }
    assert error_of(
        kinesis.get_shard_iterator,
        StreamName=stream,
        ShardId="shardId-000000000000",
        ShardIteratorType="AT_TIMESTAMP",
    ) == {
        "Code": "InvalidArgumentException",
        "Message": "Must specify timestampInMillis parameter for iterator of type AT_TIMESTAMP. "
        "Current request has no timestamp parameter.",
    }
    assert error_of(
        kinesis.get_shard_iterator,
        StreamName=stream,
        ShardId="shardId-000000000009",
        ShardIteratorType="LATEST",
    ) == {
        "Code": "ResourceNotFoundException",
        "Message": f"Shard shardId-000000000009 in stream {stream} under account {ACCOUNT} "
        "does not exist",
    }


def test_iterators_expire_after_five_minutes(
    kinesis: Any, server: RunningServer, stream: str
) -> None:
    kinesis.put_record(StreamName=stream, Data=b"x", PartitionKey="k")
    fresh = iterator(kinesis, stream)
    advance(server, 299)
    assert len(kinesis.get_records(ShardIterator=fresh)["Records"]) == 1
    old = iterator(kinesis, stream)
    advance(server, 300.5)
    error = error_of(kinesis.get_records, ShardIterator=old)
    assert error["Code"] == "ExpiredIteratorException"
    assert error["Message"].startswith("Iterator expired. The iterator was created at time ")
    assert error["Message"].endswith(
        "which is further in the future than the tolerated delay of 300000 milliseconds."
    )
    assert error_of(kinesis.get_records, ShardIterator="garbage") == {
        "Code": "InvalidArgumentException",
        "Message": "Invalid ShardIterator.",
    }


def test_retention_trims_and_can_be_changed(
    kinesis: Any, server: RunningServer, stream: str
) -> None:
    kinesis.put_record(StreamName=stream, Data=b"old", PartitionKey="k")
    kinesis.increase_stream_retention_period(StreamName=stream, RetentionPeriodHours=48)
    advance(server, 25 * 3600)
    kinesis.put_record(StreamName=stream, Data=b"new", PartitionKey="k")
    page = kinesis.get_records(ShardIterator=iterator(kinesis, stream))
    assert [r["Data"] for r in page["Records"]] == [b"old", b"new"]
    kinesis.decrease_stream_retention_period(StreamName=stream, RetentionPeriodHours=24)
    advance(server, 1)  # the clock route runs what fell due: retention trims "old"
    page = kinesis.get_records(ShardIterator=iterator(kinesis, stream))
    assert [r["Data"] for r in page["Records"]] == [b"new"]
    assert error_of(
        kinesis.increase_stream_retention_period, StreamName=stream, RetentionPeriodHours=12
    ) == {
        "Code": "InvalidArgumentException",
        "Message": "Minimum allowed retention period is 24 hours. Requested retention period "
        "(12 hours) is too short.",
    }
    assert (
        kinesis.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"][
            "RetentionPeriodHours"
        ]
        == 24
    )


def test_tags(kinesis: Any, stream: str) -> None:
    kinesis.add_tags_to_stream(StreamName=stream, Tags={"b": "2", "a": "1", "c": ""})
    tags = kinesis.list_tags_for_stream(StreamName=stream, Limit=2)
    assert tags["Tags"] == [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]
    assert tags["HasMoreTags"] is True
    kinesis.remove_tags_from_stream(StreamName=stream, TagKeys=["a"])
    rest = kinesis.list_tags_for_stream(StreamName=stream)
    assert rest["Tags"] == [{"Key": "b", "Value": "2"}, {"Key": "c", "Value": ""}]
    assert rest["HasMoreTags"] is False


# -- resharding, lineage, ChildShards -------------------------------------------------------


def test_split_closes_the_parent_and_get_records_returns_child_shards(
    kinesis: Any, server: RunningServer, stream: str
) -> None:
    kinesis.put_record(StreamName=stream, Data=b"before", PartitionKey="k")
    middle = str(2**127)
    kinesis.split_shard(
        StreamName=stream, ShardToSplit="shardId-000000000000", NewStartingHashKey=middle
    )
    settle(server.url)
    kinesis.put_record(StreamName=stream, Data=b"after", PartitionKey="k")
    shards = {s["ShardId"]: s for s in kinesis.list_shards(StreamName=stream)["Shards"]}
    parent = shards["shardId-000000000000"]
    assert "EndingSequenceNumber" in parent["SequenceNumberRange"]
    assert shards["shardId-000000000001"]["ParentShardId"] == "shardId-000000000000"
    assert shards["shardId-000000000002"]["HashKeyRange"]["StartingHashKey"] == middle
    page = kinesis.get_records(ShardIterator=iterator(kinesis, stream))
    assert [r["Data"] for r in page["Records"]] == [b"before"]
    assert "NextShardIterator" not in page
    assert page["ChildShards"] == [
        {
            "ShardId": "shardId-000000000001",
            "ParentShards": ["shardId-000000000000"],
            "HashKeyRange": {"StartingHashKey": "0", "EndingHashKey": str(2**127 - 1)},
        },
        {
            "ShardId": "shardId-000000000002",
            "ParentShards": ["shardId-000000000000"],
            "HashKeyRange": {"StartingHashKey": middle, "EndingHashKey": ONE_SHARD_END},
        },
    ]
    # A closed shard still gives a valid iterator (LATEST: at its end).
    end = kinesis.get_records(ShardIterator=iterator(kinesis, stream, ShardIteratorType="LATEST"))
    assert end["Records"] == [] and "NextShardIterator" not in end
    kinesis.merge_shards(
        StreamName=stream,
        ShardToMerge="shardId-000000000001",
        AdjacentShardToMerge="shardId-000000000002",
    )
    settle(server.url)
    merged = kinesis.list_shards(StreamName=stream, ShardFilter={"Type": "AT_LATEST"})["Shards"]
    assert [(s["ShardId"], s["ParentShardId"], s["AdjacentParentShardId"]) for s in merged] == [
        ("shardId-000000000003", "shardId-000000000001", "shardId-000000000002")
    ]
    assert (
        error_of(
            kinesis.merge_shards,
            StreamName=stream,
            ShardToMerge="shardId-000000000000",
            AdjacentShardToMerge="shardId-000000000003",
        )["Code"]
        == "ResourceNotFoundException"
    )


@pytest.mark.parametrize(("start", "target"), [(1, 2), (2, 3), (4, 2), (3, 5), (5, 3)])
def test_update_shard_count_keeps_per_key_order(
    kinesis: Any, server: RunningServer, start: int, target: int
) -> None:
    name = f"scaled-{start}-{target}"
    kinesis.create_stream(StreamName=name, ShardCount=start)
    settle(server.url)
    keys = [f"item-{i}" for i in range(30)]
    for round_ in range(2):
        kinesis.put_records(
            StreamName=name,
            Records=[{"Data": f"{k}:{round_}".encode(), "PartitionKey": k} for k in keys],
        )
    answer = kinesis.update_shard_count(
        StreamName=name, TargetShardCount=target, ScalingType="UNIFORM_SCALING"
    )
    assert (answer["CurrentShardCount"], answer["TargetShardCount"]) == (start, target)
    assert kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"][
        "StreamStatus"
    ] in ("UPDATING", "ACTIVE")
    settle(server.url)
    summary = kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
    assert summary["OpenShardCount"] == target and summary["StreamStatus"] == "ACTIVE"
    open_ranges = [
        s["HashKeyRange"]
        for s in kinesis.list_shards(StreamName=name, ShardFilter={"Type": "AT_LATEST"})["Shards"]
    ]
    width = 2**128 // target
    assert all(
        abs(int(r["EndingHashKey"]) - int(r["StartingHashKey"]) + 1 - width) <= 1
        for r in open_ranges
    )
    for round_ in range(2, 4):
        kinesis.put_records(
            StreamName=name,
            Records=[{"Data": f"{k}:{round_}".encode(), "PartitionKey": k} for k in keys],
        )
    seen: dict[str, list[int]] = {}
    for records in read_all(kinesis, name).values():
        for record in records:
            key, round_text = record["Data"].decode().split(":")
            seen.setdefault(key, []).append(int(round_text))
    shards = kinesis.list_shards(StreamName=name)["Shards"]
    assert all(s.get("AdjacentParentShardId") is None or s.get("ParentShardId") for s in shards)
    # read_all reads parents first, so per key the rounds come in order, each once.
    assert seen == {k: [0, 1, 2, 3] for k in keys}


def test_update_shard_count_limits(kinesis: Any, stream: str) -> None:
    assert error_of(
        kinesis.update_shard_count,
        StreamName=stream,
        TargetShardCount=3,
        ScalingType="UNIFORM_SCALING",
    ) == {
        "Code": "InvalidArgumentException",
        "Message": "UpdateShardCount cannot scale up over double your current open shard "
        "count. Current open shard count: 1 Target shard count: 3",
    }


def test_list_shards_filters_and_tokens(kinesis: Any, server: RunningServer, stream: str) -> None:
    kinesis.split_shard(
        StreamName=stream, ShardToSplit="shardId-000000000000", NewStartingHashKey="1000"
    )
    settle(server.url)
    ids = lambda answer: [s["ShardId"] for s in answer["Shards"]]  # noqa: E731
    assert ids(kinesis.list_shards(StreamName=stream)) == [
        "shardId-000000000000",
        "shardId-000000000001",
        "shardId-000000000002",
    ]
    assert ids(kinesis.list_shards(StreamName=stream, ShardFilter={"Type": "AT_TRIM_HORIZON"})) == [
        "shardId-000000000000"
    ]
    assert ids(
        kinesis.list_shards(
            StreamName=stream,
            ShardFilter={"Type": "AFTER_SHARD_ID", "ShardId": "shardId-000000000000"},
        )
    ) == ["shardId-000000000001", "shardId-000000000002"]
    page = kinesis.list_shards(StreamName=stream, MaxResults=2)
    assert ids(page) == ["shardId-000000000000", "shardId-000000000001"]
    assert ids(kinesis.list_shards(NextToken=page["NextToken"])) == ["shardId-000000000002"]
    status, body = json_call(server.url, "ListShards", {})
    assert (status, body) == (
        400,
        {
            "__type": "InvalidArgumentException",
            "message": "Either NextToken or StreamName should be provided.",
        },
    )
    status, body = json_call(
        server.url, "ListShards", {"StreamName": stream, "NextToken": page["NextToken"]}
    )
    assert (status, body["message"]) == (
        400,
        "NextToken and StreamName cannot be provided together.",
    )


# -- the wire -------------------------------------------------------------------------------


def test_cbor_requests_get_cbor_answers(server: RunningServer, stream: str) -> None:
    status, put = cbor_call(
        server.url, "PutRecord", {"StreamName": stream, "Data": b"\x01\x02bin", "PartitionKey": "p"}
    )
    assert status == 200 and put["ShardId"] == "shardId-000000000000"
    status, summary = cbor_call(server.url, "DescribeStreamSummary", {"StreamName": stream})
    created = summary["StreamDescriptionSummary"]["StreamCreationTimestamp"]
    assert isinstance(created, Tag1) and type(created.value) is int and created.value > 10**12
    now_ms = int(float(admin(server.url, "/_emulator/clock", method="GET")["now"]) * 1000)
    status, answer = cbor_call(
        server.url,
        "GetShardIterator",
        {
            "StreamName": stream,
            "ShardId": "shardId-000000000000",
            "ShardIteratorType": "AT_TIMESTAMP",
            # AWS's CBOR timestamps: tag 1 around integer epoch milliseconds.
            "Timestamp": cbor2.CBORTag(1, now_ms - 60_000),
        },
    )
    assert status == 200
    status, page = cbor_call(server.url, "GetRecords", {"ShardIterator": answer["ShardIterator"]})
    assert status == 200
    record = page["Records"][0]
    assert record["Data"] == b"\x01\x02bin" and type(record["Data"]) is bytes
    arrival = record["ApproximateArrivalTimestamp"]
    assert isinstance(arrival, Tag1) and type(arrival.value) is int
    assert abs(arrival.value - now_ms) < 5000
    assert record["SequenceNumber"] == put["SequenceNumber"]
    status, error = cbor_call(server.url, "DescribeStream", {"StreamName": "wrong-stream-name"})
    assert (status, error) == (
        400,
        {
            "__type": "ResourceNotFoundException",
            "message": f"Stream wrong-stream-name under account {ACCOUNT} not found.",
        },
    )


def test_json_answers_timestamps_as_epoch_seconds(server: RunningServer, stream: str) -> None:
    data = base64.b64encode(b"hello").decode()
    status, _ = json_call(
        server.url, "PutRecord", {"StreamName": stream, "Data": data, "PartitionKey": "k"}
    )
    assert status == 200
    _, answer = json_call(
        server.url,
        "GetShardIterator",
        {
            "StreamName": stream,
            "ShardId": "shardId-000000000000",
            "ShardIteratorType": "TRIM_HORIZON",
        },
    )
    _, page = json_call(server.url, "GetRecords", {"ShardIterator": answer["ShardIterator"]})
    record = page["Records"][0]
    assert record["Data"] == data
    assert isinstance(record["ApproximateArrivalTimestamp"], float | int)
    assert round(record["ApproximateArrivalTimestamp"], 3) == record["ApproximateArrivalTimestamp"]


@pytest.mark.parametrize("content_type", [JSON_11, CBOR_11])
def test_bad_requests_are_aws_errors(server: RunningServer, content_type: str) -> None:
    status, headers, payload = raw(server.url, "PutRecord", b"\xff\x00not a body", content_type)
    decoded = cbor2.loads(payload) if content_type == CBOR_11 else json.loads(payload)
    assert status == 400 and decoded["__type"] == "SerializationException"
    assert headers["content-type"] == content_type
    status, _, payload = raw(
        server.url,
        "NoSuchOperation",
        b"{}" if content_type == JSON_11 else cbor2.dumps({}),
        content_type,
    )
    decoded = cbor2.loads(payload) if content_type == CBOR_11 else json.loads(payload)
    assert (status, decoded["__type"]) == (400, "UnknownOperationException")
    body = {"StreamName": "x!", "ShardCount": 0}
    encoded = cbor2.dumps(body) if content_type == CBOR_11 else json.dumps(body).encode()
    status, _, payload = raw(server.url, "CreateStream", encoded, content_type)
    decoded = cbor2.loads(payload) if content_type == CBOR_11 else json.loads(payload)
    assert status == 400 and decoded["__type"] == "ValidationException"
    assert decoded["message"].startswith("2 validation errors detected: ")


def test_aws_cli_get_records(
    server: RunningServer, kinesis: Any, stream: str, tmp_path: Any
) -> None:
    kinesis.put_record(StreamName=stream, Data=b'{"hello": "cli"}', PartitionKey="k")
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "cli",
        "AWS_SECRET_ACCESS_KEY": "cli",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": str(tmp_path / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials"),
        "AWS_PAGER": "",
    }
    cli = [aws_executable(), "--endpoint-url", server.url, "--output", "json", "kinesis"]
    shard_iterator = subprocess.run(
        [
            *cli,
            "get-shard-iterator",
            "--stream-name",
            stream,
            "--shard-id",
            "shardId-000000000000",
            "--shard-iterator-type",
            "TRIM_HORIZON",
            "--query",
            "ShardIterator",
            "--output",
            "text",
        ],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=60,
    ).stdout.strip()
    result = subprocess.run(
        [*cli, "get-records", "--shard-iterator", shard_iterator],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=60,
    )
    page = json.loads(result.stdout)
    assert base64.b64decode(page["Records"][0]["Data"]) == b'{"hello": "cli"}'
    assert page["MillisBehindLatest"] == 0
    assert data_of([{"Data": base64.b64decode(page["Records"][0]["Data"])}]) == [{"hello": "cli"}]


def test_polling_consumer_over_cbor_follows_child_shards(
    kinesis: Any, server: RunningServer, stream: str
) -> None:
    """What KCL's POLLING mode does, on the wire the Java SDK uses by default (CBOR):
    ListShards, GetShardIterator from a checkpoint (AFTER_SEQUENCE_NUMBER), GetRecords to
    the end of a closed shard, then its ChildShards from TRIM_HORIZON."""
    for i in range(4):
        kinesis.put_record(StreamName=stream, Data=b"p%d" % i, PartitionKey=f"k{i}")
    kinesis.update_shard_count(StreamName=stream, TargetShardCount=2, ScalingType="UNIFORM_SCALING")
    settle(server.url)
    for i in range(4):
        kinesis.put_record(StreamName=stream, Data=b"c%d" % i, PartitionKey=f"k{i}")
    arn = f"arn:aws:kinesis:us-east-1:{ACCOUNT}:stream/{stream}"
    status, listed = cbor_call(
        server.url, "ListShards", {"StreamARN": arn, "ShardFilter": {"Type": "AT_TRIM_HORIZON"}}
    )
    assert status == 200 and [s["ShardId"] for s in listed["Shards"]] == ["shardId-000000000000"]

    def page(shard_id: str, **position: Any) -> dict[str, Any]:
        _, answer = cbor_call(
            server.url,
            "GetShardIterator",
            {"StreamARN": arn, "ShardId": shard_id, **position},
        )
        status, records = cbor_call(
            server.url,
            "GetRecords",
            {"StreamARN": arn, "ShardIterator": answer["ShardIterator"], "Limit": 2},
        )
        assert status == 200
        return dict(records)

    first = page("shardId-000000000000", ShardIteratorType="TRIM_HORIZON")
    assert [r["Data"] for r in first["Records"]] == [b"p0", b"p1"]
    assert first["MillisBehindLatest"] >= 0 and "ChildShards" not in first
    checkpoint = first["Records"][-1]["SequenceNumber"]
    # A restarted worker resumes after its checkpoint.
    rest = page(
        "shardId-000000000000",
        ShardIteratorType="AFTER_SEQUENCE_NUMBER",
        StartingSequenceNumber=checkpoint,
    )
    # The page that reaches the end of the closed shard has no next iterator, and its
    # children instead.
    assert [r["Data"] for r in rest["Records"]] == [b"p2", b"p3"]
    assert "NextShardIterator" not in rest
    children = [child["ShardId"] for child in rest["ChildShards"]]
    assert children == ["shardId-000000000001", "shardId-000000000002"]
    after = [
        record["Data"]
        for child in children
        for record in page(child, ShardIteratorType="TRIM_HORIZON")["Records"]
    ]
    assert sorted(after) == [b"c0", b"c1", b"c2", b"c3"]


def test_consumer_registry_and_subscribe_to_shard_answer(
    kinesis: Any, server: RunningServer, stream: str
) -> None:
    arn = f"arn:aws:kinesis:us-east-1:{ACCOUNT}:stream/{stream}"
    consumer = kinesis.register_stream_consumer(StreamARN=arn, ConsumerName="app")["Consumer"]
    assert consumer["ConsumerARN"].startswith(f"{arn}/consumer/app:")
    assert consumer["ConsumerStatus"] == "ACTIVE"
    listed = kinesis.list_stream_consumers(StreamARN=arn)["Consumers"]
    assert [c["ConsumerName"] for c in listed] == ["app"]
    status, answer = json_call(
        server.url,
        "SubscribeToShard",
        {
            "ConsumerARN": consumer["ConsumerARN"],
            "ShardId": "shardId-000000000000",
            "StartingPosition": {"Type": "LATEST"},
        },
    )
    assert status == 400 and answer["__type"] == "InvalidArgumentException"
    assert "polling" in answer["message"]
    assert error_of(kinesis.delete_stream, StreamName=stream)["Code"] == "ResourceInUseException"
    kinesis.deregister_stream_consumer(ConsumerARN=consumer["ConsumerARN"])
    assert kinesis.list_stream_consumers(StreamARN=arn)["Consumers"] == []
