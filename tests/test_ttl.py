"""Time to Live through boto3: UpdateTimeToLive / DescribeTimeToLive, expiry by sweeps,
REMOVE records marked with the DynamoDB service identity, and the admin sweep.

Every test that moves time runs on a private emulator (the session server's clock must
never move); time only goes forward, so tests work relative to the clock's current value.
"""

from __future__ import annotations

import math
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import botocore.exceptions
import orjson
import pytest
from conftest import RunningServer, make_client, raw_call, start_server

TTL_IDENTITY = {"Type": "Service", "PrincipalId": "dynamodb.amazonaws.com"}
FIVE_YEARS = 5 * 365 * 24 * 3600
VIEW_TYPES = ("KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES")


# -- helpers ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server() -> Iterator[RunningServer]:
    """A private emulator for this module: its clock is moved by the tests."""
    running = start_server()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def ddb(server: RunningServer) -> Any:
    return make_client(server.url)


@pytest.fixture(scope="module")
def streams(server: RunningServer) -> Any:
    return make_client(server.url, "dynamodbstreams")


def admin(url: str, path: str, command: dict[str, Any] | None = None) -> Any:
    data = None if command is None else orjson.dumps(command)
    request = urllib.request.Request(
        url + path,
        data=data,
        method="GET" if command is None else "POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return orjson.loads(response.read())


def clock(server: RunningServer, command: dict[str, Any]) -> float:
    return float(admin(server.url, "/_emulator/clock", command)["now"])


def whole_second(server: RunningServer) -> int:
    """Put the clock in manual mode on the next whole second; return it."""
    now = float(admin(server.url, "/_emulator/clock")["now"])
    return int(clock(server, {"set": math.floor(now) + 1}))


def sweep(server: RunningServer) -> dict[str, int]:
    answer = admin(server.url, "/_emulator/ttl/sweep", {})
    assert set(answer) == {"DeletedItems"}
    deleted: dict[str, int] = answer["DeletedItems"]
    return deleted


def create(
    ddb: Any, name: str, *, stream: str | None = None, gsi: bool = False, range_key: bool = False
) -> None:
    schema = [{"AttributeName": "pk", "KeyType": "HASH"}]
    definitions = [{"AttributeName": "pk", "AttributeType": "S"}]
    if range_key:
        schema.append({"AttributeName": "sk", "KeyType": "RANGE"})
        definitions.append({"AttributeName": "sk", "AttributeType": "N"})
    kwargs: dict[str, Any] = {
        "TableName": name,
        "KeySchema": schema,
        "AttributeDefinitions": definitions,
        "BillingMode": "PAY_PER_REQUEST",
    }
    if stream is not None:
        kwargs["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": stream}
    if gsi:
        definitions.append({"AttributeName": "g", "AttributeType": "S"})
        kwargs["GlobalSecondaryIndexes"] = [
            {
                "IndexName": "by-g",
                "KeySchema": [
                    {"AttributeName": "g", "KeyType": "HASH"},
                    {"AttributeName": "pk", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ]
    ddb.create_table(**kwargs)


def set_ttl(ddb: Any, name: str, enabled: bool, attribute: str = "ttl") -> dict[str, Any]:
    spec: dict[str, Any] = ddb.update_time_to_live(
        TableName=name, TimeToLiveSpecification={"Enabled": enabled, "AttributeName": attribute}
    )["TimeToLiveSpecification"]
    return spec


def enabled_table(server: RunningServer, ddb: Any, name: str, **kwargs: Any) -> None:
    """A table with TTL on `ttl`, already ENABLED (the clock moves 5 s)."""
    create(ddb, name, **kwargs)
    set_ttl(ddb, name, True)
    clock(server, {"advance": 5})
    assert status(ddb, name) == ("ENABLED", "ttl")


def status(ddb: Any, name: str) -> tuple[str, str | None]:
    description = ddb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
    return description["TimeToLiveStatus"], description.get("AttributeName")


def put(ddb: Any, name: str, pk: str, **attributes: dict[str, Any]) -> None:
    ddb.put_item(TableName=name, Item={"pk": {"S": pk}, **attributes})


def n(value: float | str) -> dict[str, str]:
    return {"N": str(value)}


def exists(ddb: Any, name: str, pk: str) -> bool:
    return "Item" in ddb.get_item(TableName=name, Key={"pk": {"S": pk}}, ConsistentRead=True)


def scanned(ddb: Any, name: str) -> list[str]:
    items = ddb.scan(TableName=name, ConsistentRead=True)["Items"]
    return sorted(item["pk"]["S"] for item in items)


def validation_error(info: pytest.ExceptionInfo[botocore.exceptions.ClientError]) -> str:
    error = info.value.response["Error"]
    assert error["Code"] == "ValidationException"
    return str(error["Message"])


def stream_records(ddb: Any, streams: Any, name: str) -> list[dict[str, Any]]:
    """Every record of the table's stream, all shards, oldest first (through boto3)."""
    arn = ddb.describe_table(TableName=name)["Table"]["LatestStreamArn"]
    records: list[dict[str, Any]] = []
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while iterator:
            page = streams.get_records(ShardIterator=iterator)
            records += page["Records"]
            if not page["Records"]:
                break
            iterator = page.get("NextShardIterator")
    return sorted(records, key=lambda r: int(r["dynamodb"]["SequenceNumber"]))


def raw_stream_records(server: RunningServer, ddb: Any, streams: Any, name: str) -> list[Any]:
    """The same records as raw JSON (no SDK in between: boto3 drops unknown keys)."""
    arn = ddb.describe_table(TableName=name)["Table"]["LatestStreamArn"]
    records: list[Any] = []
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        status_code, _headers, body = raw_call(
            server.url,
            "DynamoDBStreams_20120810.GetRecords",
            orjson.dumps({"ShardIterator": iterator}),
        )
        assert status_code == 200, body
        records += orjson.loads(body)["Records"]
    return records


# -- expiry ----------------------------------------------------------------------------------


def test_expiry_at_and_after_the_instant_not_before(
    server: RunningServer, ddb: Any, table_name: str
) -> None:
    enabled_table(server, ddb, table_name, range_key=True)
    now = whole_second(server)
    offsets = {"past": -1000, "minus1": -1, "at": 0, "plus1": 1, "later": 10}
    for label, offset in offsets.items():
        ddb.put_item(
            TableName=table_name,
            Item={"pk": {"S": label}, "sk": n(offset), "ttl": n(now + offset), "v": {"S": "x"}},
        )
    # expired but not yet swept: readable everywhere, no filtering is done for the user
    assert scanned(ddb, table_name) == sorted(offsets)
    got = ddb.get_item(TableName=table_name, Key={"pk": {"S": "past"}, "sk": n(-1000)})
    assert got["Item"]["ttl"] == n(now - 1000)
    queried = ddb.query(
        TableName=table_name,
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "at"}},
    )
    assert queried["Count"] == 1

    assert sweep(server)[table_name] == 3
    assert scanned(ddb, table_name) == ["later", "plus1"]
    assert sweep(server)[table_name] == 0

    clock(server, {"advance": 0.5})  # half a second short of plus1's instant
    assert scanned(ddb, table_name) == ["later", "plus1"]
    clock(server, {"advance": 0.5})  # a clock move sweeps by itself
    assert scanned(ddb, table_name) == ["later"]
    clock(server, {"advance": 8.5})
    assert scanned(ddb, table_name) == ["later"]
    clock(server, {"set": now + 10})
    assert scanned(ddb, table_name) == []


def test_fractional_and_exponent_numbers(server: RunningServer, ddb: Any, table_name: str) -> None:
    enabled_table(server, ddb, table_name)
    now = whole_second(server)
    digits = str(now)
    put(ddb, table_name, "fraction", ttl=n(f"{now}.25"))
    put(ddb, table_name, "exponent", ttl={"N": f"{digits[0]}.{digits[1:]}E{len(digits) - 1}"})
    put(ddb, table_name, "future-fraction", ttl=n(f"{now + 1}.5"))
    assert sweep(server)[table_name] == 1
    assert scanned(ddb, table_name) == ["fraction", "future-fraction"]
    clock(server, {"advance": 1})
    assert scanned(ddb, table_name) == ["future-fraction"]
    clock(server, {"advance": 1})
    assert scanned(ddb, table_name) == []


def test_non_number_and_ancient_values_never_expire(
    server: RunningServer, ddb: Any, table_name: str
) -> None:
    enabled_table(server, ddb, table_name)
    now = whole_second(server)
    past = str(now - 100)
    put(ddb, table_name, "string", ttl={"S": past})
    put(ddb, table_name, "number-set", ttl={"NS": [past]})
    put(ddb, table_name, "bool", ttl={"BOOL": True})
    put(ddb, table_name, "list", ttl={"L": [{"N": past}]})
    put(ddb, table_name, "map", ttl={"M": {"ttl": {"N": past}}})
    put(ddb, table_name, "null", ttl={"NULL": True})
    put(ddb, table_name, "missing", other=n(past))
    put(ddb, table_name, "other-name", TTL=n(past), Ttl=n(past))
    put(ddb, table_name, "ancient", ttl=n(now - FIVE_YEARS - 3600))
    put(ddb, table_name, "zero", ttl=n(0))
    put(ddb, table_name, "negative", ttl=n(-5))
    put(ddb, table_name, "milliseconds-future", ttl=n(now * 1000))
    put(ddb, table_name, "four-years", ttl=n(now - 4 * 365 * 24 * 3600))
    put(ddb, table_name, "expired", ttl=n(past))
    keep = sorted(
        [
            "string",
            "number-set",
            "bool",
            "list",
            "map",
            "null",
            "missing",
            "other-name",
            "ancient",
            "zero",
            "negative",
            "milliseconds-future",
        ]
    )
    assert sweep(server)[table_name] == 2
    assert scanned(ddb, table_name) == keep
    clock(server, {"advance": 3600})
    assert scanned(ddb, table_name) == keep


def test_updates_before_the_sweep_decide(server: RunningServer, ddb: Any, table_name: str) -> None:
    enabled_table(server, ddb, table_name)
    now = whole_second(server)
    for pk in ("later", "removed", "to-string", "kept-expired", "put-again", "deleted"):
        put(ddb, table_name, pk, ttl=n(now - 10))
    key = {"pk": {"S": "later"}}
    ddb.update_item(
        TableName=table_name,
        Key=key,
        UpdateExpression="SET #t = :t",
        ExpressionAttributeNames={"#t": "ttl"},
        ExpressionAttributeValues={":t": n(now + 100)},
    )
    ddb.update_item(
        TableName=table_name,
        Key={"pk": {"S": "removed"}},
        UpdateExpression="REMOVE #t",
        ExpressionAttributeNames={"#t": "ttl"},
    )
    ddb.update_item(
        TableName=table_name,
        Key={"pk": {"S": "to-string"}},
        UpdateExpression="SET #t = :t",
        ExpressionAttributeNames={"#t": "ttl"},
        ExpressionAttributeValues={":t": {"S": "soon"}},
    )
    ddb.update_item(  # an unrelated change keeps the expiry
        TableName=table_name,
        Key={"pk": {"S": "kept-expired"}},
        UpdateExpression="SET v = :v",
        ExpressionAttributeValues={":v": n(1)},
    )
    put(ddb, table_name, "put-again", ttl=n(now + 200))
    ddb.delete_item(TableName=table_name, Key={"pk": {"S": "deleted"}})
    assert sweep(server)[table_name] == 1
    assert scanned(ddb, table_name) == ["later", "put-again", "removed", "to-string"]
    clock(server, {"advance": 100})
    assert scanned(ddb, table_name) == ["put-again", "removed", "to-string"]
    clock(server, {"advance": 100})
    assert scanned(ddb, table_name) == ["removed", "to-string"]


def test_a_number_key_attribute_can_be_the_ttl_attribute(
    server: RunningServer, ddb: Any, streams: Any, table_name: str
) -> None:
    create(ddb, table_name, range_key=True, stream="KEYS_ONLY")
    set_ttl(ddb, table_name, True, "sk")
    clock(server, {"advance": 5})
    now = whole_second(server)
    for offset in (-5, 0, 5):
        ddb.put_item(TableName=table_name, Item={"pk": {"S": "p"}, "sk": n(now + offset)})
    assert sweep(server)[table_name] == 2
    items = ddb.scan(TableName=table_name)["Items"]
    assert items == [{"pk": {"S": "p"}, "sk": n(now + 5)}]
    removes = [r for r in stream_records(ddb, streams, table_name) if r["eventName"] == "REMOVE"]
    assert [r["dynamodb"]["Keys"]["sk"] for r in removes] == [n(now - 5), n(now)]


def test_transactional_and_batch_writes_are_indexed(
    server: RunningServer, ddb: Any, table_name: str
) -> None:
    enabled_table(server, ddb, table_name)
    now = whole_second(server)
    ddb.batch_write_item(
        RequestItems={
            table_name: [
                {"PutRequest": {"Item": {"pk": {"S": f"b{i}"}, "ttl": n(now - i)}}}
                for i in range(3)
            ]
        }
    )
    ddb.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": table_name, "Item": {"pk": {"S": "t1"}, "ttl": n(now - 1)}}},
            {
                "Update": {
                    "TableName": table_name,
                    "Key": {"pk": {"S": "t2"}},
                    "UpdateExpression": "SET #t = :t",
                    "ExpressionAttributeNames": {"#t": "ttl"},
                    "ExpressionAttributeValues": {":t": n(now + 1)},
                }
            },
        ]
    )
    assert sweep(server)[table_name] == 4
    assert scanned(ddb, table_name) == ["t2"]
    clock(server, {"advance": 1})
    assert scanned(ddb, table_name) == []


def test_large_sweep_runs_in_batches(server: RunningServer, ddb: Any, table_name: str) -> None:
    enabled_table(server, ddb, table_name, stream="KEYS_ONLY")
    now = whole_second(server)
    total = 450  # several transactions of the sweep
    for start in range(0, total, 25):
        ddb.batch_write_item(
            RequestItems={
                table_name: [
                    {"PutRequest": {"Item": {"pk": {"S": f"k{i:04d}"}, "ttl": n(now - 1 - i)}}}
                    for i in range(start, min(total, start + 25))
                ]
            }
        )
    put(ddb, table_name, "survivor", ttl=n(now + 1))
    assert sweep(server)[table_name] == total
    assert scanned(ddb, table_name) == ["survivor"]
    streams = make_client(server.url, "dynamodbstreams")
    removes = [r for r in stream_records(ddb, streams, table_name) if r["eventName"] == "REMOVE"]
    assert len(removes) == total
    assert all(r["userIdentity"] == TTL_IDENTITY for r in removes)
    # the oldest instant goes first
    assert removes[0]["dynamodb"]["Keys"]["pk"]["S"] == f"k{total - 1:04d}"


# -- stream records --------------------------------------------------------------------------


@pytest.mark.parametrize("view_type", VIEW_TYPES)
def test_remove_record_marks_ttl_deletes(
    server: RunningServer, ddb: Any, streams: Any, table_name: str, view_type: str
) -> None:
    enabled_table(server, ddb, table_name, stream=view_type)
    now = whole_second(server)
    expired = {"pk": {"S": "expired"}, "ttl": n(now - 60), "v": {"S": "gone"}}
    ddb.put_item(TableName=table_name, Item=expired)
    ddb.put_item(TableName=table_name, Item={"pk": {"S": "mine"}, "ttl": n(now + 60)})
    ddb.delete_item(TableName=table_name, Key={"pk": {"S": "mine"}})
    clock(server, {"advance": 3})  # the clock move sweeps
    assert not exists(ddb, table_name, "expired")

    records = stream_records(ddb, streams, table_name)
    assert [(r["eventName"], r["dynamodb"]["Keys"]["pk"]["S"]) for r in records] == [
        ("INSERT", "expired"),
        ("INSERT", "mine"),
        ("REMOVE", "mine"),
        ("REMOVE", "expired"),
    ]
    user_delete, ttl_delete = records[2], records[3]
    assert "userIdentity" not in user_delete
    assert "userIdentity" not in records[0] and "userIdentity" not in records[1]
    assert ttl_delete["userIdentity"] == TTL_IDENTITY
    stream_record = ttl_delete["dynamodb"]
    assert stream_record["Keys"] == {"pk": {"S": "expired"}}
    assert stream_record["StreamViewType"] == view_type
    assert "NewImage" not in stream_record
    if view_type in ("OLD_IMAGE", "NEW_AND_OLD_IMAGES"):
        assert stream_record["OldImage"] == expired
        assert stream_record["SizeBytes"] > 9 + 9 + 5  # keys + old image
    else:
        assert "OldImage" not in stream_record
        assert stream_record["SizeBytes"] == 9
    assert stream_record["ApproximateCreationDateTime"].timestamp() == now + 3

    raw = raw_stream_records(server, ddb, streams, table_name)
    by_event = {(r["eventName"], r["dynamodb"]["Keys"]["pk"]["S"]): r for r in raw}
    raw_ttl = by_event[("REMOVE", "expired")]
    assert raw_ttl["userIdentity"] == {"Type": "Service", "PrincipalId": "dynamodb.amazonaws.com"}
    assert list(raw_ttl["userIdentity"]) == ["Type", "PrincipalId"]
    assert raw_ttl["eventSource"] == "aws:dynamodb"
    assert "userIdentity" not in by_event[("REMOVE", "mine")]
    assert "userIdentity" not in by_event[("INSERT", "expired")]


def test_gsi_entries_go_with_the_item(
    server: RunningServer, ddb: Any, streams: Any, table_name: str
) -> None:
    enabled_table(server, ddb, table_name, gsi=True, stream="NEW_AND_OLD_IMAGES")
    now = whole_second(server)
    put(ddb, table_name, "a", g={"S": "group"}, ttl=n(now - 1))
    put(ddb, table_name, "b", g={"S": "group"}, ttl=n(now + 50))
    put(ddb, table_name, "c", g={"S": "group"})

    def in_index() -> list[str]:
        page = ddb.query(
            TableName=table_name,
            IndexName="by-g",
            KeyConditionExpression="g = :g",
            ExpressionAttributeValues={":g": {"S": "group"}},
        )
        return [item["pk"]["S"] for item in page["Items"]]

    assert in_index() == ["a", "b", "c"]
    assert sweep(server)[table_name] == 1
    assert in_index() == ["b", "c"]
    index_scan = ddb.scan(TableName=table_name, IndexName="by-g")["Items"]
    assert sorted(item["pk"]["S"] for item in index_scan) == ["b", "c"]
    clock(server, {"advance": 50})
    assert in_index() == ["c"]
    removes = [r for r in stream_records(ddb, streams, table_name) if r["eventName"] == "REMOVE"]
    assert [r["userIdentity"] for r in removes] == [TTL_IDENTITY, TTL_IDENTITY]


# -- lifecycle -------------------------------------------------------------------------------


def test_enable_disable_lifecycle_and_errors(
    server: RunningServer, ddb: Any, table_name: str
) -> None:
    create(ddb, table_name)
    assert ddb.describe_time_to_live(TableName=table_name)["TimeToLiveDescription"] == {
        "TimeToLiveStatus": "DISABLED"
    }
    with pytest.raises(botocore.exceptions.ClientError) as info:
        set_ttl(ddb, table_name, False)
    assert validation_error(info) == "TimeToLive is already disabled"

    whole_second(server)
    assert set_ttl(ddb, table_name, True) == {"Enabled": True, "AttributeName": "ttl"}
    assert status(ddb, table_name) == ("ENABLED", "ttl")  # at once, as AWS reports it
    clock(server, {"advance": 4.5})
    assert status(ddb, table_name) == ("ENABLED", "ttl")
    clock(server, {"advance": 0.5})
    assert status(ddb, table_name) == ("ENABLED", "ttl")

    with pytest.raises(botocore.exceptions.ClientError) as info:
        set_ttl(ddb, table_name, True)
    assert validation_error(info) == "TimeToLive is already enabled"
    with pytest.raises(botocore.exceptions.ClientError) as info:
        set_ttl(ddb, table_name, True, "other")
    assert validation_error(info) == "TimeToLive is already enabled"
    with pytest.raises(botocore.exceptions.ClientError) as info:
        set_ttl(ddb, table_name, False, "other")
    assert validation_error(info) == (
        "TimeToLive is active on a different AttributeName: current AttributeName is ttl"
    )
    with pytest.raises(botocore.exceptions.ClientError) as info:
        set_ttl(ddb, table_name, False)  # a second change within the hour
    assert validation_error(info) == (
        "Time to live has been modified multiple times within a fixed interval"
    )
    assert status(ddb, table_name) == ("ENABLED", "ttl")

    clock(server, {"advance": 3600 - 5})  # an hour after the change
    assert set_ttl(ddb, table_name, False) == {"Enabled": False, "AttributeName": "ttl"}
    assert status(ddb, table_name)[0] == "DISABLING"
    clock(server, {"advance": 5})
    assert status(ddb, table_name) == ("DISABLED", None)
    with pytest.raises(botocore.exceptions.ClientError) as info:
        set_ttl(ddb, table_name, False)
    assert validation_error(info) == "TimeToLive is already disabled"
    with pytest.raises(botocore.exceptions.ClientError) as info:
        set_ttl(ddb, table_name, True, "expires_at")
    assert validation_error(info) == (
        "Time to live has been modified multiple times within a fixed interval"
    )
    clock(server, {"advance": 3600})
    assert set_ttl(ddb, table_name, True, "expires_at") == {
        "Enabled": True,
        "AttributeName": "expires_at",
    }
    assert status(ddb, table_name) == ("ENABLED", "expires_at")
    clock(server, {"advance": 5})
    assert status(ddb, table_name) == ("ENABLED", "expires_at")


def test_missing_table(ddb: Any) -> None:
    for call in (
        lambda: ddb.describe_time_to_live(TableName="no-such-table"),
        lambda: set_ttl(ddb, "no-such-table", True),
    ):
        with pytest.raises(ddb.exceptions.ResourceNotFoundException) as info:
            call()
        assert info.value.response["Error"]["Message"] == (
            "Requested resource not found: Table: no-such-table not found"
        )


def test_existing_items_expire_once_enabled(
    server: RunningServer, ddb: Any, streams: Any, table_name: str
) -> None:
    create(ddb, table_name, stream="NEW_IMAGE")
    now = whole_second(server)
    put(ddb, table_name, "old", ttl=n(now - 100))
    put(ddb, table_name, "soon", ttl=n(now + 10))
    put(ddb, table_name, "string", ttl={"S": str(now - 100)})
    assert table_name not in sweep(server)  # no TTL: the sweep does not look at the table
    set_ttl(ddb, table_name, True)
    assert sweep(server)[table_name] == 0  # just enabled: nothing expires yet
    assert scanned(ddb, table_name) == ["old", "soon", "string"]
    clock(server, {"advance": 5})
    assert scanned(ddb, table_name) == ["soon", "string"]
    clock(server, {"advance": 5})
    assert scanned(ddb, table_name) == ["string"]
    removes = [r for r in stream_records(ddb, streams, table_name) if r["eventName"] == "REMOVE"]
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in removes] == ["old", "soon"]
    assert all(r["userIdentity"] == TTL_IDENTITY for r in removes)


def test_disabling_stops_expiry(server: RunningServer, ddb: Any, table_name: str) -> None:
    enabled_table(server, ddb, table_name)
    now = whole_second(server)
    put(ddb, table_name, "pending", ttl=n(now + 3700))
    clock(server, {"advance": 3600})
    set_ttl(ddb, table_name, False)
    now = whole_second(server)
    put(ddb, table_name, "while-disabling", ttl=n(now - 10))
    assert sweep(server)[table_name] == 0  # DISABLING: nothing expires any more
    clock(server, {"advance": 5})
    assert status(ddb, table_name) == ("DISABLED", None)
    put(ddb, table_name, "while-disabled", ttl=n(now - 10))
    clock(server, {"advance": 200})  # past "pending"'s instant
    assert scanned(ddb, table_name) == ["pending", "while-disabled", "while-disabling"]

    # enabled again (with the hour passed), the items written meanwhile expire too
    clock(server, {"advance": 3600})
    set_ttl(ddb, table_name, True)
    clock(server, {"advance": 5})
    assert scanned(ddb, table_name) == []


def test_admin_sweep_answer(server: RunningServer, ddb: Any, table_name: str) -> None:
    first, second = f"{table_name}-a", f"{table_name}-b"
    enabled_table(server, ddb, first)
    enabled_table(server, ddb, second)
    create(ddb, f"{table_name}-plain")
    now = whole_second(server)
    for i in range(3):
        put(ddb, first, f"x{i}", ttl=n(now - 1))
    put(ddb, second, "y", ttl=n(now + 1))
    request = urllib.request.Request(
        server.url + "/_emulator/ttl/sweep",
        data=b"",
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("application/json")
        answer = orjson.loads(response.read())
    assert list(answer) == ["DeletedItems"]
    assert answer["DeletedItems"][first] == 3
    assert answer["DeletedItems"][second] == 0
    assert f"{table_name}-plain" not in answer["DeletedItems"]
    assert all(isinstance(count, int) for count in answer["DeletedItems"].values())
    assert sweep(server)[first] == 0


# -- real clock, persistence -----------------------------------------------------------------


def test_background_sweep_with_the_real_clock(table_name: str) -> None:
    running = start_server("--ttl-sweep-seconds", "1")
    try:
        ddb = make_client(running.url)
        create(ddb, table_name, stream="KEYS_ONLY")
        set_ttl(ddb, table_name, True)
        clock(running, {"advance": 6})  # past ENABLING...
        assert clock(running, {"mode": "real"}) > time.time() + 5  # ...then real time again
        assert status(ddb, table_name) == ("ENABLED", "ttl")
        now = admin(running.url, "/_emulator/clock")["now"]
        put(ddb, table_name, "expired", ttl=n(int(now) - 10))
        put(ddb, table_name, "kept", ttl=n(int(now) + 3600))
        deadline = time.monotonic() + 5
        while exists(ddb, table_name, "expired"):
            assert time.monotonic() < deadline, "the background sweep never ran"
            time.sleep(0.05)
        assert exists(ddb, table_name, "kept")
        streams = make_client(running.url, "dynamodbstreams")
        removes = [
            r for r in stream_records(ddb, streams, table_name) if r["eventName"] == "REMOVE"
        ]
        assert [r["userIdentity"] for r in removes] == [TTL_IDENTITY]
    finally:
        running.stop()


def test_settings_and_pending_expiries_survive_a_restart(tmp_path: Path, table_name: str) -> None:
    data_dir = str(tmp_path / "data")
    running = start_server("--data-dir", data_dir)
    try:
        ddb = make_client(running.url)
        create(ddb, table_name, stream="OLD_IMAGE", gsi=True)
        set_ttl(ddb, table_name, True)
        now = int(clock(running, {"advance": 10}))
        put(ddb, table_name, "pending", g={"S": "g"}, ttl=n(now + 100))
        put(ddb, table_name, "forever", g={"S": "g"})
    finally:
        running.stop()

    running = start_server("--data-dir", data_dir)
    try:
        ddb = make_client(running.url)
        clock(running, {"set": max(now, time.time()) + 1})
        assert status(ddb, table_name) == ("ENABLED", "ttl")
        assert scanned(ddb, table_name) == ["forever", "pending"]
        with pytest.raises(botocore.exceptions.ClientError) as info:
            set_ttl(ddb, table_name, False)  # the change time is kept too
        assert "multiple times" in validation_error(info)
        clock(running, {"set": now + 100})
        assert scanned(ddb, table_name) == ["forever"]
        index = ddb.scan(TableName=table_name, IndexName="by-g")["Items"]
        assert [item["pk"]["S"] for item in index] == ["forever"]
        streams = make_client(running.url, "dynamodbstreams")
        removes = [
            r for r in stream_records(ddb, streams, table_name) if r["eventName"] == "REMOVE"
        ]
        assert len(removes) == 1 and removes[0]["userIdentity"] == TTL_IDENTITY
        assert removes[0]["dynamodb"]["OldImage"]["pk"] == {"S": "pending"}
    finally:
        running.stop()
