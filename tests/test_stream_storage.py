"""How stream records are stored (emulator/storage/stream_log.py): as their parts, an
INSERT referring to its item for the new image until the item changes, the latest few
MB kept ready in memory. Whatever the path a record is read by, it is the record of its
time: read here through boto3 after the in-memory part has moved on."""

from __future__ import annotations

from typing import Any

from conftest import read_stream, read_table_stream

from emulator.storage.stream_log import RECENT_BYTES

PAYLOAD = "p" * 1000


def _create(ddb: Any, name: str, view_type: str = "NEW_AND_OLD_IMAGES") -> None:
    ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": view_type},
    )


def _fill(ddb: Any, name: str, prefix: str, count: int) -> None:
    """`count` new items of ~1 KB through BatchWriteItem (records appended after the
    item's write) and PutItem (the one-statement insert), alternately."""
    for start in range(0, count, 25):
        keys = [f"{prefix}{i:05d}" for i in range(start, min(start + 25, count))]
        if start % 50:
            for key in keys:
                ddb.put_item(TableName=name, Item={"pk": {"S": key}, "p": {"S": PAYLOAD}})
        else:
            ddb.batch_write_item(
                RequestItems={
                    name: [
                        {"PutRequest": {"Item": {"pk": {"S": key}, "p": {"S": PAYLOAD}}}}
                        for key in keys
                    ]
                }
            )


def test_records_read_past_the_recent_ones_are_those_of_their_time(
    ddb: Any, streams: Any, table_name: str
) -> None:
    _create(ddb, table_name)
    ddb.put_item(TableName=table_name, Item={"pk": {"S": "first"}, "v": {"N": "1"}})
    ddb.batch_write_item(
        RequestItems={table_name: [{"PutRequest": {"Item": {"pk": {"S": "second"}}}}]}
    )
    # More than the in-memory part holds: the records above are read from SQLite.
    count = RECENT_BYTES // 1000 + 500
    _fill(ddb, table_name, "fill", count)
    # The items change after their INSERT records were written, and go.
    ddb.put_item(TableName=table_name, Item={"pk": {"S": "first"}, "v": {"N": "2"}})
    ddb.update_item(
        TableName=table_name,
        Key={"pk": {"S": "second"}},
        UpdateExpression="SET v = :v",
        ExpressionAttributeValues={":v": {"N": "3"}},
    )
    ddb.delete_item(TableName=table_name, Key={"pk": {"S": "first"}})
    ddb.delete_table(TableName=table_name)  # the stream stays readable, the items go

    records = read_table_stream_of_deleted(ddb, streams, table_name)
    assert len(records) == count + 5
    numbers = [int(r["dynamodb"]["SequenceNumber"]) for r in records]
    assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)
    first, second = records[0], records[1]
    assert (first["eventName"], first["dynamodb"]["NewImage"]) == (
        "INSERT",
        {"pk": {"S": "first"}, "v": {"N": "1"}},
    )
    assert (second["eventName"], second["dynamodb"]["NewImage"]) == (
        "INSERT",
        {"pk": {"S": "second"}},
    )
    for i, record in enumerate(records[2 : 2 + count]):
        assert record["eventName"] == "INSERT"
        assert record["dynamodb"]["NewImage"] == {"pk": {"S": f"fill{i:05d}"}, "p": {"S": PAYLOAD}}
        assert record["dynamodb"]["SizeBytes"] == 2 * (2 + 9) + 1 + len(PAYLOAD)
    modify_first, modify_second, remove = records[-3:]
    assert modify_first["dynamodb"]["OldImage"] == {"pk": {"S": "first"}, "v": {"N": "1"}}
    assert modify_first["dynamodb"]["NewImage"] == {"pk": {"S": "first"}, "v": {"N": "2"}}
    assert modify_second["dynamodb"]["OldImage"] == {"pk": {"S": "second"}}
    assert modify_second["dynamodb"]["NewImage"] == {"pk": {"S": "second"}, "v": {"N": "3"}}
    assert remove["eventName"] == "REMOVE"
    assert remove["dynamodb"]["OldImage"] == {"pk": {"S": "first"}, "v": {"N": "2"}}


def read_table_stream_of_deleted(ddb: Any, streams: Any, table: str) -> list[dict[str, Any]]:
    """The records of the (deleted) table's stream."""
    arns = [s["StreamArn"] for s in streams.list_streams(TableName=table)["Streams"]]
    assert len(arns) == 1
    return read_stream(streams, arns[0])


def test_views_without_new_images_do_not_refer_to_the_item(
    ddb: Any, streams: Any, table_name: str
) -> None:
    for view_type in ("KEYS_ONLY", "OLD_IMAGE"):
        name = f"{table_name}-{view_type}"
        _create(ddb, name, view_type)
        ddb.put_item(TableName=name, Item={"pk": {"S": "a"}, "v": {"N": "1"}})
        ddb.batch_write_item(RequestItems={name: [{"PutRequest": {"Item": {"pk": {"S": "b"}}}}]})
        ddb.put_item(TableName=name, Item={"pk": {"S": "a"}, "v": {"N": "2"}})
        records = read_table_stream(ddb, streams, name)
        assert [r["eventName"] for r in records] == ["INSERT", "INSERT", "MODIFY"]
        for record in records[:2]:
            assert "NewImage" not in record["dynamodb"] and "OldImage" not in record["dynamodb"]
        modify = records[2]["dynamodb"]
        assert "NewImage" not in modify
        if view_type == "OLD_IMAGE":
            assert modify["OldImage"] == {"pk": {"S": "a"}, "v": {"N": "1"}}
        else:
            assert "OldImage" not in modify
