"""ReturnConsumedCapacity NONE / TOTAL / INDEXES on every data operation, with AWS's unit
rules (reads per 4 KB, half for eventually consistent; writes per 1 KB; transactions
double), and ItemCount / TableSizeBytes kept current (issue 6 item 7; SPEC 5.3)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest


def sized(pk: str, size: int) -> dict[str, Any]:
    """An item of exactly `size` bytes by DynamoDB's formula: 'pk'+pk, 'd'+payload."""
    payload = size - (2 + len(pk)) - 1
    assert payload >= 0
    return {"pk": {"S": pk}, "d": {"S": "x" * payload}}


@pytest.fixture
def table(ddb: Any, make_table: Callable[..., str]) -> str:
    name = make_table()
    ddb.put_item(TableName=name, Item=sized("small", 100))
    ddb.put_item(TableName=name, Item=sized("four", 4096))
    ddb.put_item(TableName=name, Item=sized("over", 4097))
    ddb.put_item(TableName=name, Item=sized("big", 9000))
    return name


def total(response: dict[str, Any]) -> float:
    return float(response["ConsumedCapacity"]["CapacityUnits"])


@pytest.mark.parametrize(
    ("pk", "consistent", "expected"),
    [
        ("small", False, 0.5),
        ("small", True, 1.0),
        ("four", True, 1.0),
        ("over", True, 2.0),
        ("over", False, 1.0),
        ("big", True, 3.0),
        ("missing", True, 1.0),
        ("missing", False, 0.5),
    ],
)
def test_get_item_read_units(
    ddb: Any, table: str, pk: str, consistent: bool, expected: float
) -> None:
    response = ddb.get_item(
        TableName=table,
        Key={"pk": {"S": pk}},
        ConsistentRead=consistent,
        ReturnConsumedCapacity="TOTAL",
    )
    assert response["ConsumedCapacity"] == {"TableName": table, "CapacityUnits": expected}


def test_none_and_default_return_no_capacity(ddb: Any, table: str) -> None:
    for extra in [{}, {"ReturnConsumedCapacity": "NONE"}]:
        assert "ConsumedCapacity" not in ddb.get_item(
            TableName=table, Key={"pk": {"S": "small"}}, **extra
        )
        assert "ConsumedCapacity" not in ddb.put_item(
            TableName=table, Item={"pk": {"S": "n"}}, **extra
        )
        assert "ConsumedCapacity" not in ddb.scan(TableName=table, **extra)


def test_indexes_mode_itemises_the_table(ddb: Any, table: str) -> None:
    response = ddb.get_item(
        TableName=table,
        Key={"pk": {"S": "big"}},
        ConsistentRead=True,
        ReturnConsumedCapacity="INDEXES",
    )
    assert response["ConsumedCapacity"] == {
        "TableName": table,
        "CapacityUnits": 3.0,
        "Table": {"CapacityUnits": 3.0},
    }


@pytest.mark.parametrize(
    ("size", "expected"), [(10, 1.0), (1024, 1.0), (1025, 2.0), (3000, 3.0), (10240, 10.0)]
)
def test_put_item_write_units(
    ddb: Any, make_table: Callable[..., str], size: int, expected: float
) -> None:
    name = make_table()
    response = ddb.put_item(TableName=name, Item=sized("k", size), ReturnConsumedCapacity="TOTAL")
    assert total(response) == expected


def test_writes_charge_the_larger_of_old_and_new(ddb: Any, make_table: Callable[..., str]) -> None:
    name = make_table()
    ddb.put_item(TableName=name, Item=sized("k", 3000))
    smaller = ddb.put_item(TableName=name, Item=sized("k", 100), ReturnConsumedCapacity="TOTAL")
    assert total(smaller) == 3.0
    grown = ddb.update_item(
        TableName=name,
        Key={"pk": {"S": "k"}},
        UpdateExpression="SET e = :e",
        ExpressionAttributeValues={":e": {"S": "y" * 2000}},
        ReturnConsumedCapacity="TOTAL",
    )
    assert total(grown) == 3.0  # 100 + 1 + 2000 bytes
    deleted = ddb.delete_item(
        TableName=name, Key={"pk": {"S": "k"}}, ReturnConsumedCapacity="INDEXES"
    )
    assert deleted["ConsumedCapacity"] == {
        "TableName": name,
        "CapacityUnits": 3.0,
        "Table": {"CapacityUnits": 3.0},
    }
    absent = ddb.delete_item(TableName=name, Key={"pk": {"S": "k"}}, ReturnConsumedCapacity="TOTAL")
    assert total(absent) == 1.0


def test_query_and_scan_charge_the_total_size_read(
    ddb: Any, make_table: Callable[..., str]
) -> None:
    name = make_table(range_key="N")
    for i in range(10):
        item = sized("p", 1000 - 2 - 2)  # plus sk (2 + 2 bytes) = 1000 bytes
        item["sk"] = {"N": str(i)}
        ddb.put_item(TableName=name, Item=item)
    query = {
        "TableName": name,
        "KeyConditionExpression": "pk = :p",
        "ExpressionAttributeValues": {":p": {"S": "p"}},
        "ReturnConsumedCapacity": "TOTAL",
    }
    # 10 x 1000 bytes = 10,000 bytes: 3 units of 4 KB, not 10 (sizes add up first).
    assert total(ddb.query(**query, ConsistentRead=True)) == 3.0
    assert total(ddb.query(**query)) == 1.5
    # The filter does not reduce what is read.
    filtered = ddb.query(
        **{**query, "ExpressionAttributeValues": {":p": {"S": "p"}, ":z": {"S": "z"}}},
        FilterExpression="d = :z",
        ConsistentRead=True,
    )
    assert filtered["Count"] == 0 and total(filtered) == 3.0
    assert total(ddb.query(**query, Limit=4, ConsistentRead=True)) == 1.0
    empty = ddb.query(**{**query, "ExpressionAttributeValues": {":p": {"S": "nobody"}}})
    assert total(empty) == 0.5
    scan = ddb.scan(TableName=name, ReturnConsumedCapacity="INDEXES", ConsistentRead=True)
    assert scan["ConsumedCapacity"] == {
        "TableName": name,
        "CapacityUnits": 3.0,
        "Table": {"CapacityUnits": 3.0},
    }
    assert total(ddb.scan(TableName=name, ReturnConsumedCapacity="TOTAL", Select="COUNT")) == 1.5


def test_index_reads_are_charged_to_the_index(ddb: Any, make_table: Callable[..., str]) -> None:
    name = make_table(
        range_key="S",
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
            {"AttributeName": "g", "AttributeType": "S"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by_g",
                "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            }
        ],
        LocalSecondaryIndexes=[
            {
                "IndexName": "by_g_local",
                "KeySchema": [
                    {"AttributeName": "pk", "KeyType": "HASH"},
                    {"AttributeName": "g", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    )
    ddb.put_item(TableName=name, Item={"pk": {"S": "p"}, "sk": {"S": "1"}, "g": {"S": "x"}})
    response = ddb.query(
        TableName=name,
        IndexName="by_g",
        KeyConditionExpression="g = :x",
        ExpressionAttributeValues={":x": {"S": "x"}},
        ReturnConsumedCapacity="INDEXES",
    )
    assert response["ConsumedCapacity"] == {
        "TableName": name,
        "CapacityUnits": 0.5,
        "Table": {"CapacityUnits": 0.0},
        "GlobalSecondaryIndexes": {"by_g": {"CapacityUnits": 0.5}},
    }
    local = ddb.scan(
        TableName=name,
        IndexName="by_g_local",
        ConsistentRead=True,
        ReturnConsumedCapacity="INDEXES",
    )
    assert local["ConsumedCapacity"]["LocalSecondaryIndexes"] == {
        "by_g_local": {"CapacityUnits": 1.0}
    }
    assert local["ConsumedCapacity"]["CapacityUnits"] == 1.0


def test_batch_operations_charge_per_item(ddb: Any, table: str) -> None:
    got = ddb.batch_get_item(
        RequestItems={
            table: {
                "Keys": [{"pk": {"S": k}} for k in ["small", "four", "over", "missing"]],
                "ConsistentRead": True,
            }
        },
        ReturnConsumedCapacity="TOTAL",
    )
    # Each item is rounded up on its own: 1 + 1 + 2 (+ 1 for the missing one).
    assert got["ConsumedCapacity"] == [{"TableName": table, "CapacityUnits": 5.0}]
    eventually = ddb.batch_get_item(
        RequestItems={table: {"Keys": [{"pk": {"S": "small"}}, {"pk": {"S": "big"}}]}},
        ReturnConsumedCapacity="TOTAL",
    )
    assert eventually["ConsumedCapacity"] == [{"TableName": table, "CapacityUnits": 2.0}]
    written = ddb.batch_write_item(
        RequestItems={
            table: [
                {"PutRequest": {"Item": sized("w1", 500)}},
                {"PutRequest": {"Item": sized("w2", 1500)}},
                {"DeleteRequest": {"Key": {"pk": {"S": "big"}}}},
            ]
        },
        ReturnConsumedCapacity="TOTAL",
    )
    assert written["ConsumedCapacity"] == [{"TableName": table, "CapacityUnits": 1.0 + 2.0 + 9.0}]
    assert written["UnprocessedItems"] == {}


def test_transactions_cost_double(ddb: Any, table: str) -> None:
    response = ddb.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": table, "Item": sized("t1", 1500)}},
            {"Delete": {"TableName": table, "Key": {"pk": {"S": "small"}}}},
        ],
        ReturnConsumedCapacity="TOTAL",
    )
    # Put 2 WCU + Delete 1 WCU, doubled.
    assert response["ConsumedCapacity"] == [{"TableName": table, "CapacityUnits": 2 * (2 + 1)}]
    checked = ddb.transact_write_items(
        TransactItems=[
            {
                "ConditionCheck": {
                    "TableName": table,
                    "Key": {"pk": {"S": "four"}},
                    "ConditionExpression": "attribute_exists(pk)",
                }
            }
        ],
        ReturnConsumedCapacity="TOTAL",
    )
    units = checked["ConsumedCapacity"][0]["CapacityUnits"]
    assert units >= 2 and units % 2 == 0  # transactional: a doubled whole number
    got = ddb.transact_get_items(
        TransactItems=[
            {"Get": {"TableName": table, "Key": {"pk": {"S": "four"}}}},
            {"Get": {"TableName": table, "Key": {"pk": {"S": "over"}}}},
        ],
        ReturnConsumedCapacity="TOTAL",
    )
    assert got["ConsumedCapacity"] == [{"TableName": table, "CapacityUnits": 2 * (1 + 2)}]


def test_item_count_and_table_size_stay_current(ddb: Any, make_table: Callable[..., str]) -> None:
    name = make_table()

    def usage() -> tuple[int, int]:
        described = ddb.describe_table(TableName=name)["Table"]
        return described["ItemCount"], described["TableSizeBytes"]

    assert usage() == (0, 0)
    ddb.put_item(TableName=name, Item=sized("a", 100))
    ddb.batch_write_item(
        RequestItems={name: [{"PutRequest": {"Item": sized(f"b{i}", 200)}} for i in range(3)]}
    )
    assert usage() == (4, 100 + 3 * 200)
    ddb.transact_write_items(
        TransactItems=[
            {"Delete": {"TableName": name, "Key": {"pk": {"S": "b0"}}}},
            {"Put": {"TableName": name, "Item": sized("a", 50)}},
        ]
    )
    assert usage() == (3, 50 + 2 * 200)
    ddb.update_item(
        TableName=name,
        Key={"pk": {"S": "a"}},
        UpdateExpression="SET e = :e",
        ExpressionAttributeValues={":e": {"S": "12345"}},
    )
    assert usage() == (3, 50 + 6 + 2 * 200)
    ddb.delete_item(TableName=name, Key={"pk": {"S": "a"}})
    assert usage() == (2, 400)
