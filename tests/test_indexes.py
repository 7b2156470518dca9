"""Secondary indexes through boto3: GSIs and LSIs on CreateTable, GSIs added (backfilled)
and removed by UpdateTable, projections, sparse indexes, index-key checks on writes
(SPEC 5.9), Query and Scan on indexes, and DescribeTable's index figures (issue 6 item 3)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
import pytest
from boto3.dynamodb.conditions import Key
from conftest import REGION, error_of

INVALID = "One or more parameter values were invalid: "


def validation(message: str) -> dict[str, str]:
    return {"Code": "ValidationException", "Message": message}


def definitions(**types: str) -> list[dict[str, str]]:
    return [{"AttributeName": n, "AttributeType": t} for n, t in types.items()]


def keys(hash_name: str, range_name: str | None = None) -> list[dict[str, str]]:
    schema = [{"AttributeName": hash_name, "KeyType": "HASH"}]
    if range_name:
        schema.append({"AttributeName": range_name, "KeyType": "RANGE"})
    return schema


def gsi(name: str, hash_name: str, range_name: str | None, projection: dict[str, Any]) -> dict:
    return {"IndexName": name, "KeySchema": keys(hash_name, range_name), "Projection": projection}


ALL = {"ProjectionType": "ALL"}
KEYS_ONLY = {"ProjectionType": "KEYS_ONLY"}


def include(*names: str) -> dict[str, Any]:
    return {"ProjectionType": "INCLUDE", "NonKeyAttributes": list(names)}


@pytest.fixture
def indexed(ddb: Any, make_table: Callable[..., str]) -> str:
    """pk S / sk N; GSIs by_status (status S, created N; ALL), by_owner (owner S; KEYS_ONLY),
    by_colour (colour S, created N; INCLUDE size); LSI by_created (pk, created; INCLUDE size).
    """
    table = make_table(
        range_key="N",
        AttributeDefinitions=definitions(
            pk="S", sk="N", status="S", created="N", owner="S", colour="S"
        ),
        GlobalSecondaryIndexes=[
            gsi("by_status", "status", "created", ALL),
            gsi("by_owner", "owner", None, KEYS_ONLY),
            gsi("by_colour", "colour", "created", include("size")),
        ],
        LocalSecondaryIndexes=[gsi("by_created", "pk", "created", include("size"))],
    )
    items = []
    for i in range(12):
        item: dict[str, Any] = {
            "pk": {"S": f"p{i % 3}"},
            "sk": {"N": str(i)},
            "created": {"N": str(100 - i)},
            "size": {"N": str(i * 2)},
            "note": {"S": f"note {i}"},
        }
        if i % 2 == 0:
            item["status"] = {"S": "open"}  # sparse: odd items are not in by_status
        if i < 4:
            item["owner"] = {"S": "ann"}
        item["colour"] = {"S": "red" if i % 3 else "blue"}
        items.append(item)
    for item in items:
        ddb.put_item(TableName=table, Item=item)
    return table


def test_describe_table_shows_indexes(ddb: Any, indexed: str) -> None:
    table = ddb.describe_table(TableName=indexed)["Table"]
    gsis = {g["IndexName"]: g for g in table["GlobalSecondaryIndexes"]}
    assert set(gsis) == {"by_status", "by_owner", "by_colour"}
    for g in gsis.values():
        assert g["IndexStatus"] == "ACTIVE"
        assert g["IndexArn"] == f"{table['TableArn']}/index/{g['IndexName']}"
    assert gsis["by_status"]["ItemCount"] == 6
    assert gsis["by_owner"]["ItemCount"] == 4
    assert gsis["by_colour"]["ItemCount"] == 12
    assert gsis["by_owner"]["Projection"] == KEYS_ONLY
    assert gsis["by_colour"]["Projection"] == include("size")
    # KEYS_ONLY entries hold only keys, so are smaller than the full items of by_status.
    assert 0 < gsis["by_owner"]["IndexSizeBytes"] < gsis["by_status"]["IndexSizeBytes"]
    assert gsis["by_status"]["IndexSizeBytes"] < table["TableSizeBytes"]
    lsi = table["LocalSecondaryIndexes"][0]
    assert lsi["IndexName"] == "by_created" and lsi["ItemCount"] == 12
    assert lsi["IndexSizeBytes"] > 0
    assert table["ItemCount"] == 12


def test_query_gsi_all_projection_and_sparse(ddb: Any, indexed: str) -> None:
    result = ddb.query(
        TableName=indexed,
        IndexName="by_status",
        KeyConditionExpression="#s = :o AND created > :c",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":o": {"S": "open"}, ":c": {"N": "92"}},
    )
    # created = 100 - i for even i: 100, 98, 96, 94 (> 92), in created order.
    assert [i["created"]["N"] for i in result["Items"]] == ["94", "96", "98", "100"]
    assert set(result["Items"][0]) == {"pk", "sk", "created", "size", "note", "status", "colour"}
    scan = ddb.scan(TableName=indexed, IndexName="by_status")
    assert scan["Count"] == 6
    assert all(int(i["sk"]["N"]) % 2 == 0 for i in scan["Items"])


def test_query_gsi_keys_only_and_include(ddb: Any, indexed: str) -> None:
    owner = ddb.query(
        TableName=indexed,
        IndexName="by_owner",
        KeyConditionExpression="#o = :a",
        ExpressionAttributeNames={"#o": "owner"},
        ExpressionAttributeValues={":a": {"S": "ann"}},
    )
    assert owner["Count"] == 4
    for item in owner["Items"]:
        assert set(item) == {"owner", "pk", "sk"}
    colour = ddb.query(
        TableName=indexed,
        IndexName="by_colour",
        KeyConditionExpression="colour = :b",
        ExpressionAttributeValues={":b": {"S": "blue"}},
        ScanIndexForward=False,
    )
    # blue: i in 0, 3, 6, 9 -> created 100, 97, 94, 91 (descending order of created)
    assert [i["created"]["N"] for i in colour["Items"]] == ["100", "97", "94", "91"]
    for item in colour["Items"]:
        assert set(item) == {"colour", "created", "pk", "sk", "size"}
    projected = ddb.query(
        TableName=indexed,
        IndexName="by_colour",
        KeyConditionExpression="colour = :b",
        ProjectionExpression="sk, note",
        ExpressionAttributeValues={":b": {"S": "blue"}},
    )
    # A GSI can only return what it projects: `note` is not there.
    assert all(set(i) == {"sk"} for i in projected["Items"])


def test_gsi_select_rules(ddb: Any, indexed: str) -> None:
    base = {
        "TableName": indexed,
        "IndexName": "by_owner",
        "KeyConditionExpression": "#o = :a",
        "ExpressionAttributeNames": {"#o": "owner"},
        "ExpressionAttributeValues": {":a": {"S": "ann"}},
    }
    error = error_of(ddb.query, **base, Select="ALL_ATTRIBUTES")
    assert error["Code"] == "ValidationException"
    assert "ALL_ATTRIBUTES" in error["Message"]
    projected = ddb.query(**base, Select="ALL_PROJECTED_ATTRIBUTES")
    assert all(set(i) == {"owner", "pk", "sk"} for i in projected["Items"])
    count = ddb.query(**base, Select="COUNT")
    assert count["Count"] == 4 and "Items" not in count
    everything = ddb.query(
        TableName=indexed,
        IndexName="by_status",
        KeyConditionExpression="#s = :o",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":o": {"S": "open"}},
        Select="ALL_ATTRIBUTES",
    )
    assert everything["Count"] == 6


def test_consistent_read_on_gsi_is_rejected(ddb: Any, indexed: str) -> None:
    error = error_of(
        ddb.query,
        TableName=indexed,
        IndexName="by_status",
        KeyConditionExpression="#s = :o",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":o": {"S": "open"}},
        ConsistentRead=True,
    )
    assert error == validation("Consistent reads are not supported on global secondary indexes")
    scan = error_of(ddb.scan, TableName=indexed, IndexName="by_status", ConsistentRead=True)
    assert scan == validation("Consistent reads are not supported on global secondary indexes")
    # An LSI allows them.
    lsi = ddb.query(
        TableName=indexed,
        IndexName="by_created",
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "p0"}},
        ConsistentRead=True,
    )
    assert lsi["Count"] == 4


def test_query_lsi_fetches_unprojected_attributes(ddb: Any, indexed: str) -> None:
    result = ddb.query(
        TableName=indexed,
        IndexName="by_created",
        KeyConditionExpression="pk = :p AND created BETWEEN :a AND :b",
        ExpressionAttributeValues={":p": {"S": "p1"}, ":a": {"N": "90"}, ":b": {"N": "99"}},
    )
    # p1 holds i = 1, 4, 7, 10 -> created 99, 96, 93, 90, in created order.
    assert [i["created"]["N"] for i in result["Items"]] == ["90", "93", "96", "99"]
    assert all(set(i) == {"pk", "sk", "created", "size"} for i in result["Items"])
    full = ddb.query(
        TableName=indexed,
        IndexName="by_created",
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "p1"}},
        Select="ALL_ATTRIBUTES",
    )
    assert all("note" in i for i in full["Items"])
    note = ddb.query(
        TableName=indexed,
        IndexName="by_created",
        KeyConditionExpression="pk = :p",
        ProjectionExpression="note",
        ExpressionAttributeValues={":p": {"S": "p1"}},
        Limit=1,
    )
    assert note["Items"] == [{"note": {"S": "note 10"}}]


def test_index_pagination_keys_hold_table_and_index_keys(ddb: Any, indexed: str) -> None:
    # Several items share one index key value: pagination must still see each once.
    for i in range(20, 26):
        ddb.put_item(
            TableName=indexed,
            Item={
                "pk": {"S": f"dup{i}"},
                "sk": {"N": "1"},
                "colour": {"S": "green"},
                "created": {"N": "5"},
            },
        )
    seen = []
    kwargs: dict[str, Any] = {
        "TableName": indexed,
        "IndexName": "by_colour",
        "KeyConditionExpression": "colour = :g",
        "ExpressionAttributeValues": {":g": {"S": "green"}},
        "Limit": 4,
    }
    while True:
        page = ddb.query(**kwargs)
        seen.extend(item["pk"]["S"] for item in page["Items"])
        if "LastEvaluatedKey" not in page:
            break
        assert set(page["LastEvaluatedKey"]) == {"pk", "sk", "colour", "created"}
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    assert sorted(seen) == [f"dup{i}" for i in range(20, 26)]
    assert len(seen) == 6
    lsi = ddb.query(
        TableName=indexed,
        IndexName="by_created",
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "p2"}},
        Limit=1,
    )
    assert set(lsi["LastEvaluatedKey"]) == {"pk", "sk", "created"}
    scan = ddb.scan(TableName=indexed, IndexName="by_owner", Limit=2)
    assert set(scan["LastEvaluatedKey"]) == {"pk", "sk", "owner"}
    bad = error_of(
        ddb.query,
        **{**kwargs, "ExclusiveStartKey": {"pk": {"S": "dup20"}, "sk": {"N": "1"}}},
    )
    assert bad["Code"] == "ValidationException"


def test_paginators_on_indexes(ddb: Any, indexed: str) -> None:
    pages = list(
        ddb.get_paginator("query").paginate(
            TableName=indexed,
            IndexName="by_colour",
            KeyConditionExpression="colour = :r",
            ExpressionAttributeValues={":r": {"S": "red"}},
            PaginationConfig={"PageSize": 3},
        )
    )
    assert sum(len(p["Items"]) for p in pages) == 8
    scanned = (
        ddb.get_paginator("scan")
        .paginate(TableName=indexed, IndexName="by_status", PaginationConfig={"PageSize": 4})
        .build_full_result()
    )
    assert len(scanned["Items"]) == 6


def test_index_entries_follow_updates_and_deletes(ddb: Any, indexed: str) -> None:
    def open_sks() -> list[str]:
        result = ddb.query(
            TableName=indexed,
            IndexName="by_status",
            KeyConditionExpression="#s = :o",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":o": {"S": "open"}},
        )
        return sorted(i["sk"]["N"] for i in result["Items"])

    assert open_sks() == sorted(["0", "2", "4", "6", "8", "10"])
    ddb.update_item(
        TableName=indexed,
        Key={"pk": {"S": "p1"}, "sk": {"N": "1"}},
        UpdateExpression="SET #s = :o",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":o": {"S": "open"}},
    )
    ddb.update_item(
        TableName=indexed,
        Key={"pk": {"S": "p0"}, "sk": {"N": "0"}},
        UpdateExpression="REMOVE #s",
        ExpressionAttributeNames={"#s": "status"},
    )
    ddb.delete_item(TableName=indexed, Key={"pk": {"S": "p2"}, "sk": {"N": "2"}})
    ddb.update_item(
        TableName=indexed,
        Key={"pk": {"S": "p1"}, "sk": {"N": "4"}},
        UpdateExpression="SET #s = :c",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":c": {"S": "closed"}},
    )
    assert open_sks() == sorted(["1", "6", "8", "10"])
    described = ddb.describe_table(TableName=indexed)["Table"]
    by_status = next(
        g for g in described["GlobalSecondaryIndexes"] if g["IndexName"] == "by_status"
    )
    assert by_status["ItemCount"] == 5


@pytest.mark.parametrize(
    ("attribute", "value", "message"),
    [
        (
            "status",
            {"N": "1"},
            INVALID + "Type mismatch for Index Key status Expected: S Actual: N "
            "IndexName: by_status",
        ),
        (
            "created",
            {"S": "x"},
            INVALID + "Type mismatch for Index Key created Expected: N Actual: S "
            "IndexName: by_created",
        ),
        (
            "status",
            {"S": ""},
            "One or more parameter values are not valid. A value specified for a secondary "
            "index key is not supported. The AttributeValue for a key attribute cannot contain "
            "an empty string value. IndexName: by_status, IndexKey: status",
        ),
    ],
)
def test_index_key_checks_on_writes(
    ddb: Any, indexed: str, attribute: str, value: dict[str, Any], message: str
) -> None:
    key = {"pk": {"S": "new"}, "sk": {"N": "1"}}
    assert error_of(ddb.put_item, TableName=indexed, Item={**key, attribute: value}) == validation(
        message
    )
    assert error_of(
        ddb.update_item,
        TableName=indexed,
        Key=key,
        UpdateExpression="SET #a = :v",
        ExpressionAttributeNames={"#a": attribute},
        ExpressionAttributeValues={":v": value},
    ) == validation(message)
    batch = error_of(
        ddb.batch_write_item,
        RequestItems={indexed: [{"PutRequest": {"Item": {**key, attribute: value}}}]},
    )
    assert batch == validation(message)
    assert "Item" not in ddb.get_item(TableName=indexed, Key=key)
    # Non-key attributes of any type are fine; so is a missing index key (sparse).
    ddb.put_item(TableName=indexed, Item={**key, "size": {"S": "big"}})


def test_gsi_added_by_update_table_is_backfilled(ddb: Any, make_table: Callable[..., str]) -> None:
    table = make_table(range_key="S")
    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}, "sk": {"S": "1"}, "g": {"S": "x"}})
    ddb.put_item(TableName=table, Item={"pk": {"S": "b"}, "sk": {"S": "2"}, "g": {"S": "x"}})
    ddb.put_item(TableName=table, Item={"pk": {"S": "c"}, "sk": {"S": "3"}})
    # An existing value of the wrong type is not indexed (no error for the table).
    ddb.put_item(TableName=table, Item={"pk": {"S": "d"}, "sk": {"S": "4"}, "g": {"N": "7"}})
    ddb.put_item(TableName=table, Item={"pk": {"S": "e0"}, "sk": {"S": "4"}, "g": {"S": ""}})
    described = ddb.update_table(
        TableName=table,
        AttributeDefinitions=definitions(g="S"),
        GlobalSecondaryIndexUpdates=[{"Create": gsi("by_g", "g", None, KEYS_ONLY)}],
    )["TableDescription"]
    assert [g["IndexName"] for g in described["GlobalSecondaryIndexes"]] == ["by_g"]
    result = ddb.query(
        TableName=table,
        IndexName="by_g",
        KeyConditionExpression="g = :x",
        ExpressionAttributeValues={":x": {"S": "x"}},
    )
    assert sorted(i["pk"]["S"] for i in result["Items"]) == ["a", "b"]
    assert ddb.scan(TableName=table, IndexName="by_g")["Count"] == 2
    index = ddb.describe_table(TableName=table)["Table"]["GlobalSecondaryIndexes"][0]
    assert index["IndexStatus"] == "ACTIVE" and index["ItemCount"] == 2
    # New writes are maintained and checked.
    ddb.put_item(TableName=table, Item={"pk": {"S": "e"}, "sk": {"S": "5"}, "g": {"S": "x"}})
    assert error_of(
        ddb.put_item, TableName=table, Item={"pk": {"S": "f"}, "sk": {"S": "6"}, "g": {"N": "1"}}
    ) == validation(INVALID + "Type mismatch for Index Key g Expected: S Actual: N IndexName: by_g")
    again = ddb.query(
        TableName=table,
        IndexName="by_g",
        KeyConditionExpression="g = :x",
        ExpressionAttributeValues={":x": {"S": "x"}},
    )
    assert again["Count"] == 3


def test_gsi_removed_by_update_table(ddb: Any, indexed: str) -> None:
    ddb.update_table(
        TableName=indexed,
        GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "by_status"}}],
    )
    described = ddb.describe_table(TableName=indexed)["Table"]
    assert {g["IndexName"] for g in described["GlobalSecondaryIndexes"]} == {
        "by_owner",
        "by_colour",
    }
    error = error_of(
        ddb.query,
        TableName=indexed,
        IndexName="by_status",
        KeyConditionExpression="#s = :o",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":o": {"S": "open"}},
    )
    assert error == validation("The table does not have the specified index: by_status")
    # The attribute is no longer an index key: any type may be written.
    ddb.put_item(TableName=indexed, Item={"pk": {"S": "z"}, "sk": {"N": "0"}, "status": {"N": "1"}})


def test_hash_only_gsi_query_on_number_key(ddb: Any, make_table: Callable[..., str]) -> None:
    table = make_table(
        AttributeDefinitions=definitions(pk="S", rank="N"),
        GlobalSecondaryIndexes=[gsi("by_rank", "rank", None, ALL)],
    )
    for i, rank in enumerate(["-1.5", "2", "2.0", "300"]):
        ddb.put_item(TableName=table, Item={"pk": {"S": f"k{i}"}, "rank": {"N": rank}})
    two = ddb.query(
        TableName=table,
        IndexName="by_rank",
        KeyConditionExpression="#r = :two",
        ExpressionAttributeNames={"#r": "rank"},
        ExpressionAttributeValues={":two": {"N": "2"}},
    )
    assert sorted(i["pk"]["S"] for i in two["Items"]) == ["k1", "k2"]


def test_resource_api_query_on_index(ddb: Any, endpoint: str, indexed: str) -> None:
    resource = boto3.resource(
        "dynamodb",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    table = resource.Table(indexed)
    result = table.query(
        IndexName="by_colour",
        KeyConditionExpression=Key("colour").eq("red") & Key("created").lt(95),
    )
    assert [int(i["created"]) for i in result["Items"]] == [89, 90, 92, 93]
    assert [i["IndexName"] for i in table.global_secondary_indexes] == [
        "by_status",
        "by_owner",
        "by_colour",
    ]
