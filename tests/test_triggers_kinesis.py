"""Triggers whose source is a built-in Kinesis stream (issue 15 item 4; SPEC-STREAM-APPS
3.12): the same poller and knobs as a DynamoDB stream, Lambda's Kinesis record shape,
KinesisBatchInfo in failure documents, AT_TIMESTAMP, and Kinesis lineage (a split's
parent is read to its end before its children)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import make_client
from test_triggers import REGION, Triggers, _triggers

from emulator.config import Config

ACCOUNT = "000000000000"


@pytest.fixture
def triggers() -> Iterator[Triggers]:
    yield from _triggers(Config())


def kinesis_stream(triggers: Triggers, name: str, shards: int = 1) -> tuple[Any, str]:
    kinesis = make_client(triggers.server.url, "kinesis")
    kinesis.create_stream(StreamName=name, ShardCount=shards)
    triggers.settled()  # the stream's CREATING → ACTIVE completes
    arn = kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamARN"]
    return kinesis, arn


def put(kinesis: Any, name: str, *values: dict[str, Any], key: str = "k") -> list[str]:
    return [
        kinesis.put_record(StreamName=name, Data=json.dumps(v).encode(), PartitionKey=key)[
            "SequenceNumber"
        ]
        for v in values
    ]


def payloads(function: Any) -> list[list[Any]]:
    return [
        [json.loads(base64.b64decode(r["kinesis"]["data"])) for r in event["Records"]]
        for event in function.events
    ]


def test_kinesis_records_reach_the_function_in_lambdas_shape(triggers: Triggers) -> None:
    function = triggers.function("fn")
    kinesis, arn = kinesis_stream(triggers, "orders")
    sequences = put(kinesis, "orders", {"n": 1}, {"n": 2})
    triggers.mapping("fn", arn, BatchSize=10)
    triggers.settled()
    assert payloads(function) == [[{"n": 1}, {"n": 2}]]
    record = function.events[0]["Records"][0]
    assert list(record) == [
        "kinesis",
        "eventSource",
        "eventVersion",
        "eventID",
        "eventName",
        "invokeIdentityArn",
        "awsRegion",
        "eventSourceARN",
    ]
    assert list(record["kinesis"]) == [
        "kinesisSchemaVersion",
        "partitionKey",
        "sequenceNumber",
        "data",
        "approximateArrivalTimestamp",
    ]
    assert record["kinesis"]["kinesisSchemaVersion"] == "1.0"
    assert record["kinesis"]["partitionKey"] == "k"
    assert record["kinesis"]["sequenceNumber"] == sequences[0]
    assert isinstance(record["kinesis"]["approximateArrivalTimestamp"], float)
    assert record["eventSource"] == "aws:kinesis"
    assert record["eventVersion"] == "1.0"
    assert record["eventName"] == "aws:kinesis:record"
    assert record["eventID"] == f"shardId-000000000000:{sequences[0]}"
    assert record["awsRegion"] == REGION
    assert record["eventSourceARN"] == arn
    assert record["invokeIdentityArn"].startswith(f"arn:aws:iam::{ACCOUNT}:role/")


def test_kinesis_filters_match_the_decoded_data(triggers: Triggers) -> None:
    function = triggers.function("fn")
    kinesis, arn = kinesis_stream(triggers, "filtered")
    triggers.mapping(
        "fn",
        arn,
        BatchSize=10,
        FilterCriteria={"Filters": [{"Pattern": json.dumps({"data": {"status": ["done"]}})}]},
    )
    triggers.settled()
    put(kinesis, "filtered", {"status": "open"}, {"status": "done", "id": 1})
    triggers.settled()
    assert [p for batch in payloads(function) for p in batch] == [{"status": "done", "id": 1}]


def test_kinesis_retries_exhausted_carry_kinesis_batch_info(triggers: Triggers) -> None:
    def failing(event: dict[str, Any]) -> None:
        raise ValueError("no")

    triggers.function("fn", failing)
    kinesis, arn = kinesis_stream(triggers, "failing")
    (sequence,) = put(kinesis, "failing", {"n": 1})
    uuid = triggers.mapping("fn", arn, MaximumRetryAttempts=1)
    triggers.settled()
    (document,) = triggers.failures(uuid)
    assert "DDBStreamBatchInfo" not in document
    info = document["KinesisBatchInfo"]
    assert info["startSequenceNumber"] == info["endSequenceNumber"] == sequence
    assert info["streamArn"] == arn and info["shardId"] == "shardId-000000000000"
    assert info["batchSize"] == 1
    assert info["approximateArrivalOfFirstRecord"].endswith(".000Z")
    assert document["requestContext"]["approximateInvokeCount"] == 2


def test_at_timestamp_starts_at_the_first_record_at_or_after_it(triggers: Triggers) -> None:
    function = triggers.function("fn")
    kinesis, arn = kinesis_stream(triggers, "timed")
    triggers.advance(0)
    put(kinesis, "timed", {"n": "early"})
    now = triggers.server.admin("/_emulator/clock", {"advance": 10})["now"]
    put(kinesis, "timed", {"n": "late"})
    triggers.mapping("fn", arn, StartingPosition="AT_TIMESTAMP", StartingPositionTimestamp=now - 1)
    triggers.settled()
    assert payloads(function) == [[{"n": "late"}]]


def test_a_split_parent_is_read_before_its_children(triggers: Triggers) -> None:
    function = triggers.function("fn")
    kinesis, arn = kinesis_stream(triggers, "resharded")
    triggers.mapping("fn", arn, BatchSize=100, StartingPosition="LATEST")
    triggers.settled()
    put(kinesis, "resharded", {"n": 1}, {"n": 2}, key="a")
    shard = kinesis.list_shards(StreamName="resharded")["Shards"][0]
    middle = (int(shard["HashKeyRange"]["EndingHashKey"]) + 1) // 2
    kinesis.split_shard(
        StreamName="resharded", ShardToSplit=shard["ShardId"], NewStartingHashKey=str(middle)
    )
    triggers.settled()
    put(kinesis, "resharded", {"n": 3}, key="a")
    triggers.settled()
    assert [p["n"] for batch in payloads(function) for p in batch] == [1, 2, 3]
    shard_ids = [e["Records"][0]["eventID"].split(":")[0] for e in function.events]
    assert shard_ids[0] == shard["ShardId"] and shard_ids[-1] != shard["ShardId"]


def test_a_poison_kinesis_record_with_bisect(triggers: Triggers) -> None:
    """The DynamoDB knobs apply unchanged: bisection isolates the bad record."""

    def handler(event: dict[str, Any]) -> None:
        for record in event["Records"]:
            if json.loads(base64.b64decode(record["kinesis"]["data"]))["n"] == 2:
                raise ValueError("poison")

    function = triggers.function("fn", handler)
    kinesis, arn = kinesis_stream(triggers, "bisected")
    put(kinesis, "bisected", *({"n": n} for n in range(4)))
    uuid = triggers.mapping(
        "fn", arn, BatchSize=4, BisectBatchOnFunctionError=True, MaximumRetryAttempts=0
    )
    triggers.settled()
    assert [[p["n"] for p in batch] for batch in payloads(function)] == [
        [0, 1, 2, 3],
        [0, 1],
        [2, 3],
        [2],
        [3],
    ]
    (document,) = triggers.failures(uuid)
    assert document["KinesisBatchInfo"]["batchSize"] == 1


def test_a_mapping_on_a_missing_kinesis_stream_is_refused(triggers: Triggers) -> None:
    triggers.function("fn")
    arn = f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/nowhere"
    with pytest.raises(triggers.lam.exceptions.InvalidParameterValueException) as error:
        triggers.mapping("fn", arn)
    assert error.value.response["Error"]["Message"] == f"Stream not found: {arn}"
