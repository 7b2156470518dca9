"""Query through boto3 (client, resource and paginator): key conditions, filters,
projections, Select, Limit, pagination, direction, the 1 MB page and DynamoDB's sort order
for S, N and B sort keys (issue 6 item 1; SPEC 5.4)."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import boto3
import pytest
from boto3.dynamodb.conditions import Attr, Key
from conftest import REGION, error_of, raw_call
from conftest import raw_dynamodb as raw

TARGET = "DynamoDB_20120810."


def resource_table(endpoint: str, name: str) -> Any:
    resource = boto3.resource(
        "dynamodb",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    return resource.Table(name)


def put_all(ddb: Any, table: str, items: list[dict[str, Any]]) -> None:
    for start in range(0, len(items), 25):
        ddb.batch_write_item(
            RequestItems={table: [{"PutRequest": {"Item": i}} for i in items[start : start + 25]]}
        )


def query_all(ddb: Any, **kwargs: Any) -> tuple[list[dict[str, Any]], int]:
    """Every page of a Query; returns (items, number of pages)."""
    items: list[dict[str, Any]] = []
    pages = 0
    while True:
        page = ddb.query(**kwargs)
        pages += 1
        items.extend(page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            return items, pages
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


@pytest.fixture
def numbered(ddb: Any, make_table: Callable[..., str]) -> str:
    """pk S / sk N; partition 'p' holds sk 0..19 (even ones have colour red), 'q' holds 1."""
    table = make_table(range_key="N")
    items = [
        {
            "pk": {"S": "p"},
            "sk": {"N": str(i)},
            "colour": {"S": "red" if i % 2 == 0 else "blue"},
            "n": {"N": str(i * 10)},
            "extra": {"M": {"a": {"S": f"x{i}"}, "b": {"L": [{"N": str(i)}]}}},
        }
        for i in range(20)
    ]
    items.append({"pk": {"S": "q"}, "sk": {"N": "5"}, "colour": {"S": "red"}})
    put_all(ddb, table, items)
    return table


def sks(items: list[dict[str, Any]]) -> list[int]:
    return [int(item["sk"]["N"]) for item in items]


# -- key conditions --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("condition", "values", "expected"),
    [
        ("pk = :p", {}, list(range(20))),
        ("pk = :p AND sk = :a", {":a": {"N": "7"}}, [7]),
        ("pk = :p AND sk < :a", {":a": {"N": "3"}}, [0, 1, 2]),
        ("pk = :p AND sk <= :a", {":a": {"N": "3"}}, [0, 1, 2, 3]),
        ("pk = :p AND sk > :a", {":a": {"N": "16"}}, [17, 18, 19]),
        ("pk = :p AND sk >= :a", {":a": {"N": "16"}}, [16, 17, 18, 19]),
        ("pk = :p AND sk BETWEEN :a AND :b", {":a": {"N": "4"}, ":b": {"N": "7"}}, [4, 5, 6, 7]),
        ("pk = :p AND sk BETWEEN :a AND :b", {":a": {"N": "4.5"}, ":b": {"N": "4.9"}}, []),
        ("sk > :a AND pk = :p", {":a": {"N": "18"}}, [19]),
        ("(pk = :p) AND (sk < :a)", {":a": {"N": "1"}}, [0]),
        ("pk = :p AND sk = :a", {":a": {"N": "7.0"}}, [7]),
        ("pk = :p AND sk < :a", {":a": {"N": "-1"}}, []),
    ],
)
def test_key_condition_operators(
    ddb: Any, numbered: str, condition: str, values: dict[str, Any], expected: list[int]
) -> None:
    result = ddb.query(
        TableName=numbered,
        KeyConditionExpression=condition,
        ExpressionAttributeValues={":p": {"S": "p"}, **values},
    )
    assert sks(result["Items"]) == expected
    assert result["Count"] == result["ScannedCount"] == len(expected)
    assert "LastEvaluatedKey" not in result


def test_key_condition_with_names_and_other_partition(ddb: Any, numbered: str) -> None:
    result = ddb.query(
        TableName=numbered,
        KeyConditionExpression="#k = :q",
        ExpressionAttributeNames={"#k": "pk"},
        ExpressionAttributeValues={":q": {"S": "q"}},
    )
    assert result["Items"] == [{"pk": {"S": "q"}, "sk": {"N": "5"}, "colour": {"S": "red"}}]
    empty = ddb.query(
        TableName=numbered,
        KeyConditionExpression="pk = :x",
        ExpressionAttributeValues={":x": {"S": "nobody"}},
    )
    assert empty["Items"] == [] and empty["Count"] == 0 and empty["ScannedCount"] == 0


def test_begins_with_on_string_sort_key(ddb: Any, make_table: Callable[..., str]) -> None:
    table = make_table(range_key="S")
    keys = ["a", "ab", "abc", "abd", "ac", "b", "a\uffff", "a\U0001f600"]
    put_all(ddb, table, [{"pk": {"S": "p"}, "sk": {"S": k}} for k in keys])

    def begins(prefix: str) -> list[str]:
        result = ddb.query(
            TableName=table,
            KeyConditionExpression="pk = :p AND begins_with(sk, :s)",
            ExpressionAttributeValues={":p": {"S": "p"}, ":s": {"S": prefix}},
        )
        return [item["sk"]["S"] for item in result["Items"]]

    assert begins("a") == sorted(k for k in keys if k.startswith("a"))
    assert begins("ab") == ["ab", "abc", "abd"]
    assert begins("abc") == ["abc"]
    assert begins("zz") == []
    assert begins("a\uffff") == ["a\uffff"]


def test_begins_with_on_binary_sort_key(ddb: Any, make_table: Callable[..., str]) -> None:
    table = make_table(range_key="B")
    keys = [b"\x00", b"\x01\xff", b"\x01\xff\x00", b"\x01\xff\xff", b"\x02", b"\xff", b"\xff\xff"]
    put_all(ddb, table, [{"pk": {"S": "p"}, "sk": {"B": k}} for k in keys])

    def begins(prefix: bytes) -> list[bytes]:
        result = ddb.query(
            TableName=table,
            KeyConditionExpression="pk = :p AND begins_with(sk, :s)",
            ExpressionAttributeValues={":p": {"S": "p"}, ":s": {"B": prefix}},
        )
        return [bytes(item["sk"]["B"]) for item in result["Items"]]

    assert begins(b"\x01\xff") == [b"\x01\xff", b"\x01\xff\x00", b"\x01\xff\xff"]
    assert begins(b"\xff") == [b"\xff", b"\xff\xff"]
    assert begins(b"\xff\xff") == [b"\xff\xff"]


def test_key_condition_errors(ddb: Any, numbered: str) -> None:
    def query(condition: str, **values: Any) -> dict[str, str]:
        return error_of(
            ddb.query,
            TableName=numbered,
            KeyConditionExpression=condition,
            ExpressionAttributeValues={":p": {"S": "p"}, **values},
        )

    for condition, values in [
        ("sk = :p", {}),  # no partition key
        ("pk < :p", {}),  # partition key not equality
        ("pk = :p AND colour = :c", {":c": {"S": "red"}}),  # non-key attribute
        ("pk = :p OR sk = :a", {":a": {"N": "1"}}),  # OR not allowed
        ("pk = :p AND sk <> :a", {":a": {"N": "1"}}),  # <> not allowed
        ("pk = :p AND begins_with(sk, :a)", {":a": {"N": "1"}}),  # begins_with on N
        ("pk = :p AND sk = :a", {":a": {"S": "1"}}),  # wrong type for the sort key
        ("pk = :p AND sk > :a AND sk < :b", {":a": {"N": "1"}, ":b": {"N": "3"}}),
    ]:
        error = query(condition, **values)
        assert error["Code"] == "ValidationException", (condition, error)
    missing = error_of(ddb.query, TableName=numbered)
    assert missing["Code"] == "ValidationException"
    assert "KeyConditions or KeyConditionExpression" in missing["Message"]


def test_legacy_key_conditions(ddb: Any, numbered: str) -> None:
    def legacy(sort: dict[str, Any] | None) -> list[int]:
        conditions: dict[str, Any] = {
            "pk": {"AttributeValueList": [{"S": "p"}], "ComparisonOperator": "EQ"}
        }
        if sort is not None:
            conditions["sk"] = sort
        return sks(ddb.query(TableName=numbered, KeyConditions=conditions)["Items"])

    assert legacy(None) == list(range(20))
    assert legacy({"AttributeValueList": [{"N": "3"}], "ComparisonOperator": "EQ"}) == [3]
    assert legacy({"AttributeValueList": [{"N": "3"}], "ComparisonOperator": "LT"}) == [0, 1, 2]
    assert legacy({"AttributeValueList": [{"N": "2"}], "ComparisonOperator": "LE"}) == [0, 1, 2]
    assert legacy({"AttributeValueList": [{"N": "18"}], "ComparisonOperator": "GT"}) == [19]
    assert legacy({"AttributeValueList": [{"N": "18"}], "ComparisonOperator": "GE"}) == [18, 19]
    assert legacy(
        {"AttributeValueList": [{"N": "3"}, {"N": "5"}], "ComparisonOperator": "BETWEEN"}
    ) == [3, 4, 5]
    error = error_of(
        ddb.query,
        TableName=numbered,
        KeyConditions={"pk": {"AttributeValueList": [{"S": "p"}], "ComparisonOperator": "NE"}},
    )
    assert error["Code"] == "ValidationException"
    both = error_of(
        ddb.query,
        TableName=numbered,
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "p"}},
        KeyConditions={"pk": {"AttributeValueList": [{"S": "p"}], "ComparisonOperator": "EQ"}},
    )
    assert both["Code"] == "ValidationException"
    assert "Can not use both expression and non-expression parameters" in both["Message"]


def test_legacy_begins_with_key_condition(ddb: Any, make_table: Callable[..., str]) -> None:
    table = make_table(range_key="S")
    put_all(ddb, table, [{"pk": {"S": "p"}, "sk": {"S": k}} for k in ["a1", "a2", "b1"]])
    result = ddb.query(
        TableName=table,
        KeyConditions={
            "pk": {"AttributeValueList": [{"S": "p"}], "ComparisonOperator": "EQ"},
            "sk": {"AttributeValueList": [{"S": "a"}], "ComparisonOperator": "BEGINS_WITH"},
        },
    )
    assert [i["sk"]["S"] for i in result["Items"]] == ["a1", "a2"]


# -- filters and projections -----------------------------------------------------------------


def test_filter_expression_counts(ddb: Any, numbered: str) -> None:
    result = ddb.query(
        TableName=numbered,
        KeyConditionExpression="pk = :p AND sk < :ten",
        FilterExpression="colour = :red AND n >= :n",
        ExpressionAttributeValues={
            ":p": {"S": "p"},
            ":ten": {"N": "10"},
            ":red": {"S": "red"},
            ":n": {"N": "30"},
        },
    )
    assert sks(result["Items"]) == [4, 6, 8]
    assert result["Count"] == 3
    assert result["ScannedCount"] == 10


def test_filter_cannot_use_key_attributes(ddb: Any, numbered: str) -> None:
    error = error_of(
        ddb.query,
        TableName=numbered,
        KeyConditionExpression="pk = :p",
        FilterExpression="sk > :a",
        ExpressionAttributeValues={":p": {"S": "p"}, ":a": {"N": "1"}},
    )
    assert error["Code"] == "ValidationException"
    assert error["Message"] == (
        "Filter Expression can only contain non-primary key attributes: Primary key attribute: sk"
    )


def test_legacy_query_filter(ddb: Any, numbered: str) -> None:
    result = ddb.query(
        TableName=numbered,
        KeyConditions={"pk": {"AttributeValueList": [{"S": "p"}], "ComparisonOperator": "EQ"}},
        QueryFilter={
            "colour": {"AttributeValueList": [{"S": "blue"}], "ComparisonOperator": "EQ"},
            "n": {"AttributeValueList": [{"N": "150"}], "ComparisonOperator": "GT"},
        },
    )
    assert sks(result["Items"]) == [17, 19]
    assert result["ScannedCount"] == 20
    either = ddb.query(
        TableName=numbered,
        KeyConditions={"pk": {"AttributeValueList": [{"S": "p"}], "ComparisonOperator": "EQ"}},
        QueryFilter={
            "n": {"AttributeValueList": [{"N": "10"}], "ComparisonOperator": "LE"},
            "colour": {"AttributeValueList": [{"S": "blue"}], "ComparisonOperator": "EQ"},
        },
        ConditionalOperator="OR",
    )
    assert sks(either["Items"]) == [0, 1, *range(3, 20, 2)]
    on_key = error_of(
        ddb.query,
        TableName=numbered,
        KeyConditions={"pk": {"AttributeValueList": [{"S": "p"}], "ComparisonOperator": "EQ"}},
        QueryFilter={"sk": {"AttributeValueList": [{"N": "1"}], "ComparisonOperator": "GT"}},
    )
    assert on_key == {
        "Code": "ValidationException",
        "Message": "QueryFilter can only contain non-primary key attributes: "
        "Primary key attribute: sk",
    }


def test_projection_expression_and_attributes_to_get(ddb: Any, numbered: str) -> None:
    result = ddb.query(
        TableName=numbered,
        KeyConditionExpression="pk = :p AND sk = :s",
        ProjectionExpression="colour, extra.a, extra.b[0], #n, nothing_here",
        ExpressionAttributeNames={"#n": "n"},
        ExpressionAttributeValues={":p": {"S": "p"}, ":s": {"N": "3"}},
    )
    assert result["Items"] == [
        {
            "colour": {"S": "blue"},
            "n": {"N": "30"},
            "extra": {"M": {"a": {"S": "x3"}, "b": {"L": [{"N": "3"}]}}},
        }
    ]
    legacy = ddb.query(
        TableName=numbered,
        KeyConditions={
            "pk": {"AttributeValueList": [{"S": "p"}], "ComparisonOperator": "EQ"},
            "sk": {"AttributeValueList": [{"N": "3"}], "ComparisonOperator": "EQ"},
        },
        AttributesToGet=["sk", "colour", "nothing"],
    )
    assert legacy["Items"] == [{"sk": {"N": "3"}, "colour": {"S": "blue"}}]


def test_select_values(ddb: Any, numbered: str) -> None:
    base = {
        "TableName": numbered,
        "KeyConditionExpression": "pk = :p AND sk < :s",
        "ExpressionAttributeValues": {":p": {"S": "p"}, ":s": {"N": "4"}},
    }
    every = ddb.query(**base, Select="ALL_ATTRIBUTES")
    assert len(every["Items"]) == 4 and "extra" in every["Items"][0]
    count = ddb.query(**base, Select="COUNT")
    assert "Items" not in count
    assert count["Count"] == 4 and count["ScannedCount"] == 4
    specific = ddb.query(**base, Select="SPECIFIC_ATTRIBUTES", ProjectionExpression="sk")
    assert specific["Items"] == [{"sk": {"N": str(i)}} for i in range(4)]
    specific_legacy = ddb.query(
        TableName=numbered,
        KeyConditions={"pk": {"AttributeValueList": [{"S": "p"}], "ComparisonOperator": "EQ"}},
        Select="SPECIFIC_ATTRIBUTES",
        AttributesToGet=["colour"],
    )
    assert specific_legacy["Items"][0] == {"colour": {"S": "red"}}
    counted_filter = ddb.query(
        **{
            **base,
            "ExpressionAttributeValues": {**base["ExpressionAttributeValues"], ":c": {"S": "red"}},
        },
        Select="COUNT",
        FilterExpression="colour = :c",
    )
    assert counted_filter["Count"] == 2 and counted_filter["ScannedCount"] == 4


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        ({"Select": "ALL_PROJECTED_ATTRIBUTES"}, "ALL_PROJECTED_ATTRIBUTES"),
        ({"Select": "SPECIFIC_ATTRIBUTES"}, "SPECIFIC_ATTRIBUTES"),
        ({"Select": "ALL_ATTRIBUTES", "ProjectionExpression": "sk"}, "ALL_ATTRIBUTES"),
        ({"Select": "COUNT", "ProjectionExpression": "sk"}, "COUNT"),
    ],
)
def test_select_invalid_combinations(
    ddb: Any, numbered: str, extra: dict[str, Any], fragment: str
) -> None:
    error = error_of(
        ddb.query,
        TableName=numbered,
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "p"}},
        **extra,
    )
    assert error["Code"] == "ValidationException"
    assert fragment in error["Message"]


def test_select_count_with_attributes_to_get_is_rejected(ddb: Any, numbered: str) -> None:
    error = error_of(
        ddb.query,
        TableName=numbered,
        KeyConditions={"pk": {"AttributeValueList": [{"S": "p"}], "ComparisonOperator": "EQ"}},
        Select="COUNT",
        AttributesToGet=["sk"],
    )
    assert error == {
        "Code": "ValidationException",
        "Message": "Cannot specify the AttributesToGet when choosing to get COUNT",
    }


# -- Limit, pagination, direction ------------------------------------------------------------


def test_limit_counts_evaluated_items_not_matches(ddb: Any, numbered: str) -> None:
    result = ddb.query(
        TableName=numbered,
        KeyConditionExpression="pk = :p",
        FilterExpression="colour = :c",
        ExpressionAttributeValues={":p": {"S": "p"}, ":c": {"S": "blue"}},
        Limit=5,
    )
    assert sks(result["Items"]) == [1, 3]
    assert result["Count"] == 2 and result["ScannedCount"] == 5
    assert result["LastEvaluatedKey"] == {"pk": {"S": "p"}, "sk": {"N": "4"}}
    # A page whose filter matched nothing still carries the key to go on from.
    none = ddb.query(
        TableName=numbered,
        KeyConditionExpression="pk = :p",
        FilterExpression="colour = :c",
        ExpressionAttributeValues={":p": {"S": "p"}, ":c": {"S": "green"}},
        Limit=3,
    )
    assert none["Items"] == [] and none["Count"] == 0 and none["ScannedCount"] == 3
    assert none["LastEvaluatedKey"] == {"pk": {"S": "p"}, "sk": {"N": "2"}}


def test_limit_equal_to_remaining_items_still_returns_a_key(ddb: Any, numbered: str) -> None:
    result = ddb.query(
        TableName=numbered,
        KeyConditionExpression="pk = :q",
        ExpressionAttributeValues={":q": {"S": "q"}},
        Limit=1,
    )
    assert result["Count"] == 1
    assert result["LastEvaluatedKey"] == {"pk": {"S": "q"}, "sk": {"N": "5"}}
    after = ddb.query(
        TableName=numbered,
        KeyConditionExpression="pk = :q",
        ExpressionAttributeValues={":q": {"S": "q"}},
        Limit=1,
        ExclusiveStartKey=result["LastEvaluatedKey"],
    )
    assert after["Items"] == [] and "LastEvaluatedKey" not in after


@pytest.mark.parametrize("forward", [True, False])
@pytest.mark.parametrize("limit", [1, 3, 7, 20, 25])
def test_pagination_round_trip(ddb: Any, numbered: str, forward: bool, limit: int) -> None:
    items, pages = query_all(
        ddb,
        TableName=numbered,
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "p"}},
        Limit=limit,
        ScanIndexForward=forward,
    )
    expected = list(range(20)) if forward else list(range(19, -1, -1))
    assert sks(items) == expected
    assert pages == 20 // limit + 1 if limit <= 20 else pages == 1


def test_exclusive_start_key_with_bounds_and_descending(ddb: Any, numbered: str) -> None:
    result = ddb.query(
        TableName=numbered,
        KeyConditionExpression="pk = :p AND sk BETWEEN :a AND :b",
        ExpressionAttributeValues={":p": {"S": "p"}, ":a": {"N": "5"}, ":b": {"N": "15"}},
        ScanIndexForward=False,
        ExclusiveStartKey={"pk": {"S": "p"}, "sk": {"N": "9"}},
    )
    assert sks(result["Items"]) == [8, 7, 6, 5]
    # A start key that is not an existing item is fine: it is a position.
    between = ddb.query(
        TableName=numbered,
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "p"}},
        ExclusiveStartKey={"pk": {"S": "p"}, "sk": {"N": "16.5"}},
    )
    assert sks(between["Items"]) == [17, 18, 19]


def test_exclusive_start_key_errors(ddb: Any, numbered: str) -> None:
    for start in [
        {"pk": {"S": "p"}},
        {"pk": {"S": "p"}, "sk": {"S": "1"}},
        {"pk": {"S": "p"}, "sk": {"N": "1"}, "other": {"S": "x"}},
    ]:
        error = error_of(
            ddb.query,
            TableName=numbered,
            KeyConditionExpression="pk = :p",
            ExpressionAttributeValues={":p": {"S": "p"}},
            ExclusiveStartKey=start,
        )
        assert error["Code"] == "ValidationException"
        assert error["Message"].startswith("The provided starting key is invalid")


def test_limit_validation(endpoint: str, numbered: str) -> None:
    status, body = raw(
        endpoint,
        "Query",
        {
            "TableName": numbered,
            "KeyConditionExpression": "pk = :p",
            "ExpressionAttributeValues": {":p": {"S": "p"}},
            "Limit": 0,
        },
    )
    assert status == 400
    assert body["message"] == (
        "1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: "
        "Member must have value greater than or equal to 1"
    )


def test_paginator_and_resource(ddb: Any, endpoint: str, numbered: str) -> None:
    paginator = ddb.get_paginator("query")
    pages = list(
        paginator.paginate(
            TableName=numbered,
            KeyConditionExpression="pk = :p",
            ExpressionAttributeValues={":p": {"S": "p"}},
            PaginationConfig={"PageSize": 6},
        )
    )
    assert [len(page["Items"]) for page in pages] == [6, 6, 6, 2]
    assert sks([item for page in pages for item in page["Items"]]) == list(range(20))
    limited = paginator.paginate(
        TableName=numbered,
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "p"}},
        PaginationConfig={"MaxItems": 7, "PageSize": 3},
    ).build_full_result()
    assert sks(limited["Items"]) == list(range(7))

    table = resource_table(endpoint, numbered)
    result = table.query(
        KeyConditionExpression=Key("pk").eq("p") & Key("sk").between(3, 6),
        FilterExpression=Attr("colour").eq("red"),
        ScanIndexForward=False,
    )
    assert [item["sk"] for item in result["Items"]] == [Decimal(6), Decimal(4)]
    assert result["ScannedCount"] == 4
    begins = table.query(KeyConditionExpression=Key("pk").eq("q") & Key("sk").gte(5))
    assert begins["Items"] == [{"pk": "q", "sk": Decimal(5), "colour": "red"}]


# -- the 1 MB page ---------------------------------------------------------------------------


def test_one_megabyte_page_cap_applies_before_filtering(
    ddb: Any, make_table: Callable[..., str]
) -> None:
    table = make_table(range_key="N")
    blob = "x" * (100 * 1024)
    for i in range(30):
        ddb.put_item(
            TableName=table,
            Item={"pk": {"S": "big"}, "sk": {"N": str(i)}, "payload": {"S": blob}},
        )
    first = ddb.query(
        TableName=table,
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "big"}},
        Select="COUNT",
    )
    # About 1 MB of items is read: 10 items of 100 KB (plus the one that crosses 1 MB).
    assert first["ScannedCount"] in (10, 11)
    assert first["LastEvaluatedKey"] == {
        "pk": {"S": "big"},
        "sk": {"N": str(first["ScannedCount"] - 1)},
    }
    filtered = ddb.query(
        TableName=table,
        KeyConditionExpression="pk = :p",
        FilterExpression="attribute_not_exists(payload)",
        ExpressionAttributeValues={":p": {"S": "big"}},
    )
    assert filtered["Items"] == [] and filtered["Count"] == 0
    assert filtered["ScannedCount"] == first["ScannedCount"]
    assert "LastEvaluatedKey" in filtered
    items, pages = query_all(
        ddb,
        TableName=table,
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "big"}},
        ProjectionExpression="sk",
    )
    assert sks(items) == list(range(30))
    assert pages == 3


# -- errors ----------------------------------------------------------------------------------


def test_query_errors(ddb: Any, numbered: str) -> None:
    missing = error_of(
        ddb.query,
        TableName="no-such-table",
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "p"}},
    )
    assert missing == {
        "Code": "ResourceNotFoundException",
        "Message": "Requested resource not found",
    }
    index = error_of(
        ddb.query,
        TableName=numbered,
        IndexName="nope",
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "p"}},
    )
    assert index == {
        "Code": "ValidationException",
        "Message": "The table does not have the specified index: nope",
    }
    unused = error_of(
        ddb.query,
        TableName=numbered,
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "p"}, ":v": {"S": "x"}},
    )
    assert unused["Message"] == (
        "Value provided in ExpressionAttributeValues unused in expressions: keys: {:v}"
    )


# -- sort order ------------------------------------------------------------------------------

STRING_KEYS = [
    " ",
    "0",
    "9",
    "A",
    "Z",
    "_",
    "a",
    "aa",
    "z",
    "~",
    "\x7f",
    "\u00e9",  # é, 2 UTF-8 bytes
    "\u00ff",
    "\u4e2d",  # 中, 3 bytes
    "\uff5e",  # 3 bytes, above every surrogate in UTF-16 (where it sorts after emoji)
    "\U0001f600",  # 😀, 4 bytes
    "\U0001f600a",
]
NUMBER_KEYS = [
    "-9.9999999999999999999999999999999999999E+125",
    "-1E+10",
    "-1000",
    "-100.5",
    "-100",
    "-2.5",
    "-2",
    "-1.5",
    "-1",
    "-0.5",
    "-0.001",
    "-1E-130",
    "0",
    "1E-130",
    "0.001",
    "0.01",
    "0.5",
    "1",
    "1.5",
    "2",
    "10",
    "12.34",
    "100",
    "1E+3",
    "123456789012345678901234567890",
    "9.9999999999999999999999999999999999999E+125",
]
BINARY_KEYS = [
    b"\x00",
    b"\x00\x00",
    b"\x00\x01",
    b"\x01",
    b"\x7f",
    b"\x7f\xff",
    b"\x80",
    b"\x80\x00",
    b"\xfe",
    b"\xff",
    b"\xff\x00",
    b"\xff\xff",
]


def _sort_values(kind: str) -> list[dict[str, Any]]:
    if kind == "S":
        return [{"S": v} for v in STRING_KEYS]
    if kind == "N":
        return [{"N": v} for v in NUMBER_KEYS]
    return [{"B": v} for v in BINARY_KEYS]


def _canon(kind: str, value: dict[str, Any]) -> Any:
    if kind == "S":
        return value["S"]
    if kind == "N":
        return Decimal(value["N"])
    return bytes(value["B"])


@pytest.mark.parametrize("kind", ["S", "N", "B"])
def test_sort_order_matches_dynamodb(ddb: Any, make_table: Callable[..., str], kind: str) -> None:
    table = make_table(range_key=kind)
    values = _sort_values(kind)
    shuffled = values[1::2] + values[0::2]
    put_all(ddb, table, [{"pk": {"S": "p"}, "sk": v} for v in shuffled])
    expected = [_canon(kind, v) for v in values]
    if kind == "S":
        assert expected == sorted(expected, key=lambda s: s.encode("utf-8"))
    else:
        assert expected == sorted(expected)
    forward = ddb.query(
        TableName=table,
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "p"}},
    )["Items"]
    assert [_canon(kind, item["sk"]) for item in forward] == expected
    backward, _ = query_all(
        ddb,
        TableName=table,
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "p"}},
        ScanIndexForward=False,
        Limit=4,
    )
    assert [_canon(kind, item["sk"]) for item in backward] == expected[::-1]
    # Range conditions cut the same order.
    middle = values[len(values) // 2]
    below = ddb.query(
        TableName=table,
        KeyConditionExpression="pk = :p AND sk < :m",
        ExpressionAttributeValues={":p": {"S": "p"}, ":m": middle},
    )["Items"]
    assert [_canon(kind, i["sk"]) for i in below] == expected[: len(values) // 2]


def test_number_keys_read_back_normalised(ddb: Any, make_table: Callable[..., str]) -> None:
    table = make_table(range_key="N")
    for text in ["1.50", "001", "-0.0100", "1e3", "12E-1"]:
        ddb.put_item(TableName=table, Item={"pk": {"S": "p"}, "sk": {"N": text}})
    items = ddb.query(
        TableName=table,
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "p"}},
    )["Items"]
    assert [i["sk"]["N"] for i in items] == ["-0.01", "1", "1.2", "1.5", "1000"]


def test_number_and_binary_partition_keys(ddb: Any, make_table: Callable[..., str]) -> None:
    table = make_table(range_key="B", hash_type="N")
    ddb.put_item(TableName=table, Item={"pk": {"N": "-1.5"}, "sk": {"B": b"\x00"}})
    ddb.put_item(TableName=table, Item={"pk": {"N": "-1.50"}, "sk": {"B": b"\x01"}})
    result = ddb.query(
        TableName=table,
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"N": "-15E-1"}},
    )
    assert [bytes(i["sk"]["B"]) for i in result["Items"]] == [b"\x00", b"\x01"]
    status, body = raw_call(
        ddb.meta.endpoint_url,
        TARGET + "Query",
        json.dumps(
            {
                "TableName": table,
                "KeyConditionExpression": "pk = :p AND sk > :b",
                "ExpressionAttributeValues": {
                    ":p": {"N": "-1.5"},
                    ":b": {"B": base64.b64encode(b"\x00").decode()},
                },
            }
        ),
    )[0::2]
    assert status == 200
    assert json.loads(body)["Items"][0]["sk"] == {"B": base64.b64encode(b"\x01").decode()}


def test_hash_only_table_query(ddb: Any, make_table: Callable[..., str]) -> None:
    table = make_table()
    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}, "v": {"N": "1"}})
    ddb.put_item(TableName=table, Item={"pk": {"S": "b"}, "v": {"N": "2"}})
    result = ddb.query(
        TableName=table,
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "a"}},
        Limit=1,
    )
    assert result["Items"] == [{"pk": {"S": "a"}, "v": {"N": "1"}}]
    assert result["LastEvaluatedKey"] == {"pk": {"S": "a"}}
    error = error_of(
        ddb.query,
        TableName=table,
        KeyConditionExpression="pk = :p AND sk = :s",
        ExpressionAttributeValues={":p": {"S": "a"}, ":s": {"S": "x"}},
    )
    assert error["Code"] == "ValidationException"
