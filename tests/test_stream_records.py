"""Stream records through the real server: which writes produce which records (SPEC 3.4),
which images each view type carries (SPEC 3.3), and every field of a record (SPEC 3.1-3.2).
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable
from typing import Any

import orjson
import pytest
from conftest import make_client, raw_call, read_stream

STREAMS_TARGET = "DynamoDBStreams_20120810."
VIEW_TYPES = ("KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES")
EVENT_ID = re.compile(r"[0-9a-f]{32}")

# SPEC 3.3: which images a record carries, per view type and event.
EXPECTED_IMAGES = {
    ("KEYS_ONLY", "INSERT"): set(),
    ("KEYS_ONLY", "MODIFY"): set(),
    ("KEYS_ONLY", "REMOVE"): set(),
    ("NEW_IMAGE", "INSERT"): {"NewImage"},
    ("NEW_IMAGE", "MODIFY"): {"NewImage"},
    ("NEW_IMAGE", "REMOVE"): set(),
    ("OLD_IMAGE", "INSERT"): set(),
    ("OLD_IMAGE", "MODIFY"): {"OldImage"},
    ("OLD_IMAGE", "REMOVE"): {"OldImage"},
    ("NEW_AND_OLD_IMAGES", "INSERT"): {"NewImage"},
    ("NEW_AND_OLD_IMAGES", "MODIFY"): {"NewImage", "OldImage"},
    ("NEW_AND_OLD_IMAGES", "REMOVE"): {"OldImage"},
}


def stream_arn(ddb: Any, table: str) -> str:
    return str(ddb.describe_table(TableName=table)["Table"]["LatestStreamArn"])


def raw_records(endpoint: str, arn: str) -> list[dict[str, Any]]:
    """The records as the wire carries them (no botocore parsing)."""

    def call(operation: str, body: dict[str, Any]) -> dict[str, Any]:
        status, _, payload = raw_call(endpoint, STREAMS_TARGET + operation, orjson.dumps(body))
        assert status == 200, payload
        return dict(orjson.loads(payload))

    shards = call("DescribeStream", {"StreamArn": arn})["StreamDescription"]["Shards"]
    records: list[dict[str, Any]] = []
    for shard in shards:
        iterator = call(
            "GetShardIterator",
            {"StreamArn": arn, "ShardId": shard["ShardId"], "ShardIteratorType": "TRIM_HORIZON"},
        )["ShardIterator"]
        page = call("GetRecords", {"ShardIterator": iterator})
        records.extend(page["Records"])
    return records


# -- every view type x every event ---------------------------------------------------------


@pytest.mark.parametrize("view_type", VIEW_TYPES)
def test_images_per_view_type_and_event(
    ddb: Any, streams: Any, make_table: Callable[..., str], view_type: str
) -> None:
    table = make_table(range_key="N", stream=view_type)
    key = {"pk": {"S": "item"}, "sk": {"N": "7"}}
    first = {**key, "a": {"S": "one"}, "tags": {"SS": ["x", "y"]}}
    second = {**key, "b": {"M": {"deep": {"L": [{"N": "1"}, {"BOOL": True}]}}}}
    ddb.put_item(TableName=table, Item=first)
    ddb.put_item(TableName=table, Item=second)  # drops `a`: still one MODIFY
    ddb.delete_item(TableName=table, Key=key)

    records = read_stream(streams, stream_arn(ddb, table))
    assert [r["eventName"] for r in records] == ["INSERT", "MODIFY", "REMOVE"]
    images = {
        "INSERT": {"NewImage": first},
        "MODIFY": {"NewImage": second, "OldImage": first},
        "REMOVE": {"OldImage": second},
    }
    for record in records:
        event = record["eventName"]
        stream_record = record["dynamodb"]
        assert stream_record["Keys"] == key
        assert stream_record["StreamViewType"] == view_type
        present = {name for name in ("NewImage", "OldImage") if name in stream_record}
        assert present == EXPECTED_IMAGES[(view_type, event)], (view_type, event)
        for name in present:
            # whole items, keys included, never an empty image
            assert stream_record[name] == images[event][name]
        assert "userIdentity" not in record


@pytest.mark.parametrize("view_type", VIEW_TYPES)
def test_size_bytes_counts_keys_and_the_images_carried(
    ddb: Any, streams: Any, make_table: Callable[..., str], view_type: str
) -> None:
    table = make_table(stream=view_type)
    key = {"pk": {"S": "item"}}  # 2 + 4 = 6 bytes
    first = {**key, "a": {"S": "one"}}  # 6 + 1 + 3 = 10 bytes
    second = {**key, "bb": {"S": "xyzzy"}}  # 6 + 2 + 5 = 13 bytes
    ddb.put_item(TableName=table, Item=first)
    ddb.put_item(TableName=table, Item=second)
    ddb.delete_item(TableName=table, Key=key)
    sizes = {"INSERT": (None, 10), "MODIFY": (10, 13), "REMOVE": (13, None)}
    for record in read_stream(streams, stream_arn(ddb, table)):
        old, new = sizes[record["eventName"]]
        expected = 6
        if view_type in ("NEW_IMAGE", "NEW_AND_OLD_IMAGES") and new:
            expected += new
        if view_type in ("OLD_IMAGE", "NEW_AND_OLD_IMAGES") and old:
            expected += old
        assert record["dynamodb"]["SizeBytes"] == expected, (view_type, record["eventName"])


def test_key_only_item_has_an_image_with_just_the_key(
    ddb: Any, streams: Any, make_table: Callable[..., str]
) -> None:
    table = make_table(stream="NEW_AND_OLD_IMAGES")
    key = {"pk": {"S": "bare"}}
    ddb.put_item(TableName=table, Item=key)
    ddb.delete_item(TableName=table, Key=key)
    insert, remove = read_stream(streams, stream_arn(ddb, table))
    assert insert["dynamodb"]["NewImage"] == key
    assert "OldImage" not in insert["dynamodb"]
    assert remove["dynamodb"]["OldImage"] == key
    assert "NewImage" not in remove["dynamodb"]


def test_record_fields(
    ddb: Any, streams: Any, endpoint: str, make_table: Callable[..., str]
) -> None:
    table = make_table(stream="NEW_AND_OLD_IMAGES")
    before = time.time()
    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}, "v": {"N": "1"}})
    ddb.put_item(TableName=table, Item={"pk": {"S": "b"}, "v": {"N": "2"}})
    after = time.time()
    arn = stream_arn(ddb, table)
    records = read_stream(streams, arn)
    assert len(records) == 2
    ids = set()
    for record in records:
        assert set(record) == {
            "eventID",
            "eventName",
            "eventVersion",
            "eventSource",
            "awsRegion",
            "dynamodb",
        }
        assert EVENT_ID.fullmatch(record["eventID"])
        ids.add(record["eventID"])
        assert record["eventVersion"] == "1.1"
        assert record["eventSource"] == "aws:dynamodb"
        assert record["awsRegion"] == "us-east-1"
        assert set(record["dynamodb"]) == {
            "ApproximateCreationDateTime",
            "Keys",
            "NewImage",
            "SequenceNumber",
            "SizeBytes",
            "StreamViewType",
        }
    assert len(ids) == 2

    # On the wire: timestamps are JSON numbers in whole epoch seconds.
    wire = raw_records(endpoint, arn)
    assert [r["eventID"] for r in wire] == [r["eventID"] for r in records]
    for record in wire:
        created = record["dynamodb"]["ApproximateCreationDateTime"]
        assert type(created) is int
        assert math.floor(before) - 1 <= created <= after  # rounded down to the second
        assert record["dynamodb"]["SizeBytes"] >= 1
        assert type(record["dynamodb"]["SizeBytes"]) is int
    parsed = records[0]["dynamodb"]["ApproximateCreationDateTime"]
    assert int(parsed.timestamp()) == wire[0]["dynamodb"]["ApproximateCreationDateTime"]


def test_aws_region_is_the_tables_region(endpoint: str, table_name: str) -> None:
    ddb_west = make_client(endpoint, "dynamodb", "us-west-2")
    streams_west = make_client(endpoint, "dynamodbstreams", "us-west-2")
    ddb_west.create_table(
        TableName=table_name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"},
    )
    arn = stream_arn(ddb_west, table_name)
    assert arn.startswith("arn:aws:dynamodb:us-west-2:000000000000:table/")
    ddb_west.put_item(TableName=table_name, Item={"pk": {"S": "x"}})
    [record] = read_stream(streams_west, arn)
    assert record["awsRegion"] == "us-west-2"


# -- SizeBytes: the AWS-recorded values of SPEC 3.2 ----------------------------------------


def _create(ddb: Any, name: str, keys: list[tuple[str, str]], view_type: str) -> None:
    ddb.create_table(
        TableName=name,
        KeySchema=[
            {"AttributeName": n, "KeyType": "HASH" if i == 0 else "RANGE"}
            for i, (n, _) in enumerate(keys)
        ],
        AttributeDefinitions=[{"AttributeName": n, "AttributeType": t} for n, t in keys],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": view_type},
    )


def test_size_bytes_forum_keys_only(ddb: Any, streams: Any, table_name: str) -> None:
    _create(ddb, table_name, [("ForumName", "S"), ("Subject", "S")], "KEYS_ONLY")
    ddb.put_item(
        TableName=table_name,
        Item={
            "ForumName": {"S": "DynamoDB"},
            "Subject": {"S": "DynamoDB Thread 3"},
            "Body": {"S": "not counted in KEYS_ONLY"},
        },
    )
    [record] = read_stream(streams, stream_arn(ddb, table_name))
    assert record["dynamodb"]["SizeBytes"] == 41


def test_size_bytes_username_keys_only(ddb: Any, streams: Any, table_name: str) -> None:
    _create(ddb, table_name, [("Username", "S")], "KEYS_ONLY")
    ddb.put_item(TableName=table_name, Item={"Username": {"S": "Fred"}})
    [record] = read_stream(streams, stream_arn(ddb, table_name))
    assert record["dynamodb"]["SizeBytes"] == 12


def test_size_bytes_lambda_doc_samples(ddb: Any, streams: Any, table_name: str) -> None:
    _create(ddb, table_name, [("Id", "N")], "NEW_AND_OLD_IMAGES")
    key = {"Id": {"N": "101"}}
    ddb.put_item(TableName=table_name, Item={**key, "Message": {"S": "New item!"}})
    ddb.put_item(TableName=table_name, Item={**key, "Message": {"S": "This item has changed"}})
    ddb.delete_item(TableName=table_name, Key=key)
    records = read_stream(streams, stream_arn(ddb, table_name))
    assert [(r["eventName"], r["dynamodb"]["SizeBytes"]) for r in records] == [
        ("INSERT", 26),
        ("MODIFY", 59),
        ("REMOVE", 38),
    ]


def test_size_bytes_localstack_samples(ddb: Any, streams: Any, table_name: str) -> None:
    _create(ddb, table_name, [("id", "S")], "NEW_AND_OLD_IMAGES")
    item = {"id": {"S": "my-item-id"}, "attr1": {"S": "value1"}, "attr2": {"S": "value2"}}
    ddb.put_item(TableName=table_name, Item=item)
    ddb.put_item(TableName=table_name, Item={**item, "attr1": {"S": "value3"}})
    records = read_stream(streams, stream_arn(ddb, table_name))
    assert [r["dynamodb"]["SizeBytes"] for r in records] == [46, 80]

    other = table_name[:200] + "-bin"
    _create(ddb, other, [("my_partition_key", "S")], "NEW_IMAGE")
    ddb.put_item(
        TableName=other,
        Item={"my_partition_key": {"S": "hello world"}, "binary_key": {"B": b"\x00\x01\x02abc"}},
    )
    [record] = read_stream(streams, stream_arn(ddb, other))
    assert record["dynamodb"]["SizeBytes"] == 70


# -- no-op suppression (SPEC 3.4) -----------------------------------------------------------


def test_no_record_for_writes_that_change_nothing(
    ddb: Any, streams: Any, make_table: Callable[..., str]
) -> None:
    table = make_table(stream="NEW_AND_OLD_IMAGES")
    item = {
        "pk": {"S": "same"},
        "m": {"M": {"a": {"N": "1"}, "b": {"S": "x"}, "c": {"M": {"y": {"N": "2"}, "z": {}}}}},
        "ss": {"SS": ["a", "b", "c"]},
        "ns": {"NS": ["1", "2.5", "10"]},
        "bs": {"BS": [b"\x01", b"\x02"]},
        "n": {"N": "1"},
        "l": {"L": [{"N": "1"}, {"S": "q"}]},
    }
    item["m"]["M"]["c"]["M"]["z"] = {"NULL": True}
    ddb.put_item(TableName=table, Item=item)
    # identical
    ddb.put_item(TableName=table, Item=item)
    # maps with their entries in another order (top level and nested)
    reordered = {
        "l": item["l"],
        "n": item["n"],
        "ns": item["ns"],
        "ss": item["ss"],
        "bs": item["bs"],
        "m": {
            "M": {
                "c": {"M": {"z": {"NULL": True}, "y": {"N": "2"}}},
                "b": {"S": "x"},
                "a": {"N": "1"},
            }
        },
        "pk": item["pk"],
    }
    ddb.put_item(TableName=table, Item=reordered)
    # set members in another order
    ddb.put_item(
        TableName=table,
        Item={
            **item,
            "ss": {"SS": ["c", "a", "b"]},
            "ns": {"NS": ["10", "1", "2.5"]},
            "bs": {"BS": [b"\x02", b"\x01"]},
        },
    )
    # equal numbers written differently
    ddb.put_item(
        TableName=table,
        Item={**item, "n": {"N": "1.0"}, "ns": {"NS": ["1.00", "2.50", "1E1"]}},
    )
    # deleting an item that does not exist
    ddb.delete_item(TableName=table, Key={"pk": {"S": "never-written"}})

    records = read_stream(streams, stream_arn(ddb, table))
    assert [r["eventName"] for r in records] == ["INSERT"]

    # ... while a real change of a nested value is a MODIFY
    changed = {**item, "l": {"L": [{"S": "q"}, {"N": "1"}]}}  # lists are ordered
    ddb.put_item(TableName=table, Item=changed)
    records = read_stream(streams, stream_arn(ddb, table))
    assert [r["eventName"] for r in records] == ["INSERT", "MODIFY"]
    assert records[1]["dynamodb"]["OldImage"] == item
    assert records[1]["dynamodb"]["NewImage"] == changed


def test_no_record_for_a_failed_condition(
    ddb: Any, streams: Any, make_table: Callable[..., str]
) -> None:
    table = make_table(stream="NEW_AND_OLD_IMAGES")
    item = {"pk": {"S": "k"}, "n": {"N": "1"}}
    ddb.put_item(TableName=table, Item=item)
    with pytest.raises(ddb.exceptions.ConditionalCheckFailedException):
        ddb.put_item(
            TableName=table,
            Item={**item, "n": {"N": "2"}},
            ConditionExpression="attribute_not_exists(pk)",
        )
    with pytest.raises(ddb.exceptions.ConditionalCheckFailedException):
        ddb.delete_item(
            TableName=table,
            Key={"pk": item["pk"]},
            ConditionExpression="n = :two",
            ExpressionAttributeValues={":two": {"N": "2"}},
        )
    records = read_stream(streams, stream_arn(ddb, table))
    assert [r["eventName"] for r in records] == ["INSERT"]


def test_put_over_existing_item_is_one_modify(
    ddb: Any, streams: Any, make_table: Callable[..., str]
) -> None:
    table = make_table(stream="NEW_AND_OLD_IMAGES")
    ddb.put_item(TableName=table, Item={"pk": {"S": "k"}, "a": {"S": "1"}, "b": {"S": "2"}})
    ddb.put_item(TableName=table, Item={"pk": {"S": "k"}})
    records = read_stream(streams, stream_arn(ddb, table))
    assert [r["eventName"] for r in records] == ["INSERT", "MODIFY"]
    assert records[1]["dynamodb"]["NewImage"] == {"pk": {"S": "k"}}


def test_table_without_stream_has_no_stream(ddb: Any, make_table: Callable[..., str]) -> None:
    table = make_table()
    ddb.put_item(TableName=table, Item={"pk": {"S": "k"}})
    description = ddb.describe_table(TableName=table)["Table"]
    assert "LatestStreamArn" not in description
    assert "StreamSpecification" not in description
