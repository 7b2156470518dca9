"""BatchGetItem and BatchWriteItem through boto3 (client and resource), and the stream
records batch writes produce (issue 6 items 4 and 6; SPEC 3.4, 5.4)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
import pytest
from conftest import REGION, error_of, read_table_stream
from conftest import raw_dynamodb as raw

TARGET = "DynamoDB_20120810."
DUPLICATES = {
    "Code": "ValidationException",
    "Message": "Provided list of item keys contains duplicates",
}


def events(records: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(r["eventName"], r["dynamodb"]["Keys"]["pk"]["S"]) for r in records]


@pytest.fixture
def two_tables(ddb: Any, make_table: Callable[..., str], table_name: str) -> tuple[str, str]:
    first = make_table(name=table_name + "-a")
    second = make_table(name=table_name + "-b", range_key="N")
    for i in range(5):
        ddb.put_item(
            TableName=first, Item={"pk": {"S": f"k{i}"}, "v": {"N": str(i)}, "w": {"S": "x"}}
        )
        ddb.put_item(
            TableName=second, Item={"pk": {"S": "p"}, "sk": {"N": str(i)}, "v": {"N": str(i)}}
        )
    return first, second


# -- BatchGetItem ----------------------------------------------------------------------------


def test_batch_get_several_tables(ddb: Any, two_tables: tuple[str, str]) -> None:
    first, second = two_tables
    result = ddb.batch_get_item(
        RequestItems={
            first: {
                "Keys": [{"pk": {"S": "k1"}}, {"pk": {"S": "k3"}}, {"pk": {"S": "missing"}}],
                "ProjectionExpression": "pk, #v",
                "ExpressionAttributeNames": {"#v": "v"},
            },
            second: {
                "Keys": [{"pk": {"S": "p"}, "sk": {"N": "4"}}],
                "ConsistentRead": True,
            },
        }
    )
    assert result["UnprocessedKeys"] == {}
    assert sorted(result["Responses"][first], key=lambda i: i["pk"]["S"]) == [
        {"pk": {"S": "k1"}, "v": {"N": "1"}},
        {"pk": {"S": "k3"}, "v": {"N": "3"}},
    ]
    assert result["Responses"][second] == [{"pk": {"S": "p"}, "sk": {"N": "4"}, "v": {"N": "4"}}]
    legacy = ddb.batch_get_item(
        RequestItems={first: {"Keys": [{"pk": {"S": "k2"}}], "AttributesToGet": ["w"]}}
    )
    assert legacy["Responses"][first] == [{"w": {"S": "x"}}]


def test_batch_get_unprocessed_keys_always_present(
    endpoint: str, two_tables: tuple[str, str]
) -> None:
    first, _ = two_tables
    status, body = raw(
        endpoint, "BatchGetItem", {"RequestItems": {first: {"Keys": [{"pk": {"S": "none"}}]}}}
    )
    assert status == 200
    assert body == {"Responses": {first: []}, "UnprocessedKeys": {}}


def test_batch_get_limits_and_errors(ddb: Any, two_tables: tuple[str, str]) -> None:
    first, second = two_tables
    keys = [{"pk": {"S": f"k{i}"}} for i in range(100)]
    ok = ddb.batch_get_item(RequestItems={first: {"Keys": keys}})
    assert len(ok["Responses"][first]) == 5
    too_many = error_of(
        ddb.batch_get_item,
        RequestItems={
            first: {"Keys": keys},
            second: {"Keys": [{"pk": {"S": "p"}, "sk": {"N": "1"}}]},
        },
    )
    assert too_many == {
        "Code": "ValidationException",
        "Message": "Too many items requested for the BatchGetItem call",
    }
    duplicates = error_of(
        ddb.batch_get_item,
        RequestItems={first: {"Keys": [{"pk": {"S": "k1"}}, {"pk": {"S": "k1"}}]}},
    )
    assert duplicates == DUPLICATES
    # The same key in two tables is not a duplicate.
    ddb.batch_get_item(
        RequestItems={
            first: {"Keys": [{"pk": {"S": "p"}}]},
            second: {"Keys": [{"pk": {"S": "p"}, "sk": {"N": "1"}}]},
        }
    )
    numbers = error_of(
        ddb.batch_get_item,
        RequestItems={
            second: {
                "Keys": [
                    {"pk": {"S": "p"}, "sk": {"N": "1"}},
                    {"pk": {"S": "p"}, "sk": {"N": "1.0"}},
                ]
            }
        },
    )
    assert numbers == DUPLICATES
    bad_key = error_of(ddb.batch_get_item, RequestItems={first: {"Keys": [{"pk": {"N": "1"}}]}})
    assert bad_key == {
        "Code": "ValidationException",
        "Message": "The provided key element does not match the schema",
    }
    missing = error_of(
        ddb.batch_get_item, RequestItems={"no-such-table": {"Keys": [{"pk": {"S": "a"}}]}}
    )
    assert missing["Code"] == "ResourceNotFoundException"


# -- BatchWriteItem --------------------------------------------------------------------------


def test_batch_write_puts_and_deletes(ddb: Any, two_tables: tuple[str, str]) -> None:
    first, second = two_tables
    result = ddb.batch_write_item(
        RequestItems={
            first: [
                {"PutRequest": {"Item": {"pk": {"S": "new"}, "v": {"N": "9"}}}},
                {"PutRequest": {"Item": {"pk": {"S": "k0"}, "v": {"N": "100"}}}},
                {"DeleteRequest": {"Key": {"pk": {"S": "k1"}}}},
                {"DeleteRequest": {"Key": {"pk": {"S": "never-existed"}}}},
            ],
            second: [{"DeleteRequest": {"Key": {"pk": {"S": "p"}, "sk": {"N": "0"}}}}],
        }
    )
    assert result["UnprocessedItems"] == {}
    assert ddb.get_item(TableName=first, Key={"pk": {"S": "new"}})["Item"]["v"] == {"N": "9"}
    assert ddb.get_item(TableName=first, Key={"pk": {"S": "k0"}})["Item"] == {
        "pk": {"S": "k0"},
        "v": {"N": "100"},
    }
    assert "Item" not in ddb.get_item(TableName=first, Key={"pk": {"S": "k1"}})
    assert ddb.scan(TableName=second, Select="COUNT")["Count"] == 4
    assert ddb.describe_table(TableName=first)["Table"]["ItemCount"] == 5


def test_batch_write_raw_response(endpoint: str, two_tables: tuple[str, str]) -> None:
    first, _ = two_tables
    status, body = raw(
        endpoint,
        "BatchWriteItem",
        {"RequestItems": {first: [{"PutRequest": {"Item": {"pk": {"S": "r"}}}}]}},
    )
    assert (status, body) == (200, {"UnprocessedItems": {}})


def test_batch_write_limits_and_errors(ddb: Any, two_tables: tuple[str, str]) -> None:
    first, second = two_tables
    puts = [{"PutRequest": {"Item": {"pk": {"S": f"n{i}"}}}} for i in range(25)]
    assert ddb.batch_write_item(RequestItems={first: puts})["UnprocessedItems"] == {}
    too_many = error_of(
        ddb.batch_write_item,
        RequestItems={
            first: puts,
            second: [{"DeleteRequest": {"Key": {"pk": {"S": "p"}, "sk": {"N": "1"}}}}],
        },
    )
    assert too_many["Code"] == "ValidationException"
    for requests in [
        [
            {"PutRequest": {"Item": {"pk": {"S": "d"}}}},
            {"PutRequest": {"Item": {"pk": {"S": "d"}, "v": {"N": "1"}}}},
        ],
        [
            {"PutRequest": {"Item": {"pk": {"S": "d"}}}},
            {"DeleteRequest": {"Key": {"pk": {"S": "d"}}}},
        ],
        [
            {"DeleteRequest": {"Key": {"pk": {"S": "d"}}}},
            {"DeleteRequest": {"Key": {"pk": {"S": "d"}}}},
        ],
    ]:
        assert error_of(ddb.batch_write_item, RequestItems={first: requests}) == DUPLICATES
    assert "Item" not in ddb.get_item(TableName=first, Key={"pk": {"S": "d"}})
    # A bad request anywhere writes nothing at all.
    error = error_of(
        ddb.batch_write_item,
        RequestItems={
            first: [{"PutRequest": {"Item": {"pk": {"S": "partial"}}}}],
            second: [{"PutRequest": {"Item": {"pk": {"S": "p"}}}}],
        },
    )
    assert error == {
        "Code": "ValidationException",
        "Message": "One or more parameter values were invalid: Missing the key sk in the item",
    }
    assert "Item" not in ddb.get_item(TableName=first, Key={"pk": {"S": "partial"}})
    bad_delete = error_of(
        ddb.batch_write_item,
        RequestItems={second: [{"DeleteRequest": {"Key": {"pk": {"S": "p"}}}}]},
    )
    assert bad_delete["Message"] == "The provided key element does not match the schema"
    empty = error_of(ddb.batch_write_item, RequestItems={})
    assert empty["Code"] == "ValidationException"


def test_batch_writer_and_resource_batch_get(
    ddb: Any, endpoint: str, make_table: Callable[..., str]
) -> None:
    table_name = make_table(range_key="N")
    resource = boto3.resource(
        "dynamodb",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    table = resource.Table(table_name)
    with table.batch_writer(overwrite_by_pkeys=["pk", "sk"]) as writer:
        for i in range(60):
            writer.put_item(Item={"pk": "w", "sk": i, "text": f"item {i}"})
        writer.put_item(Item={"pk": "w", "sk": 0, "text": "replaced"})
        writer.delete_item(Key={"pk": "w", "sk": 59})
    assert table.scan(Select="COUNT")["Count"] == 59
    got = resource.batch_get_item(
        RequestItems={table_name: {"Keys": [{"pk": "w", "sk": 0}, {"pk": "w", "sk": 58}]}}
    )
    texts = sorted(i["text"] for i in got["Responses"][table_name])
    assert texts == ["item 58", "replaced"]
    assert got["UnprocessedKeys"] == {}


# -- stream records --------------------------------------------------------------------------


def test_batch_write_stream_records(ddb: Any, streams: Any, make_table: Callable[..., str]) -> None:
    table = make_table(stream="NEW_AND_OLD_IMAGES")
    ddb.put_item(TableName=table, Item={"pk": {"S": "same"}, "v": {"N": "1"}})
    ddb.put_item(TableName=table, Item={"pk": {"S": "changed"}, "v": {"N": "1"}})
    ddb.put_item(TableName=table, Item={"pk": {"S": "gone"}, "v": {"N": "1"}})
    before = len(read_table_stream(ddb, streams, table))
    ddb.batch_write_item(
        RequestItems={
            table: [
                {"PutRequest": {"Item": {"pk": {"S": "fresh"}, "v": {"N": "1"}}}},
                {"PutRequest": {"Item": {"pk": {"S": "same"}, "v": {"N": "1.0"}}}},  # no-op
                {"PutRequest": {"Item": {"pk": {"S": "changed"}, "v": {"N": "2"}}}},
                {"DeleteRequest": {"Key": {"pk": {"S": "gone"}}}},
                {"DeleteRequest": {"Key": {"pk": {"S": "absent"}}}},  # no-op
            ]
        }
    )
    records = read_table_stream(ddb, streams, table)[before:]
    assert sorted(events(records)) == [
        ("INSERT", "fresh"),
        ("MODIFY", "changed"),
        ("REMOVE", "gone"),
    ]
    modify = next(r for r in records if r["eventName"] == "MODIFY")["dynamodb"]
    assert modify["OldImage"] == {"pk": {"S": "changed"}, "v": {"N": "1"}}
    assert modify["NewImage"] == {"pk": {"S": "changed"}, "v": {"N": "2"}}
    remove = next(r for r in records if r["eventName"] == "REMOVE")["dynamodb"]
    assert remove["OldImage"] == {"pk": {"S": "gone"}, "v": {"N": "1"}}
    assert "NewImage" not in remove
    # A rejected batch writes no record.
    error_of(
        ddb.batch_write_item,
        RequestItems={
            table: [
                {"PutRequest": {"Item": {"pk": {"S": "x"}}}},
                {"PutRequest": {"Item": {"pk": {"S": "x"}}}},
            ]
        },
    )
    assert len(read_table_stream(ddb, streams, table)) == before + 3
