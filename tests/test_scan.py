"""Scan through boto3 (client, resource and paginator): filters (expression and legacy
ScanFilter), Limit, pagination, Select, the 1 MB page and parallel scans with Segment /
TotalSegments (issue 6 item 2; SPEC 5.4)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import boto3
import pytest
from boto3.dynamodb.conditions import Attr
from conftest import REGION, error_of
from conftest import raw_dynamodb as raw

TARGET = "DynamoDB_20120810."


def put_all(ddb: Any, table: str, items: list[dict[str, Any]]) -> None:
    for start in range(0, len(items), 25):
        ddb.batch_write_item(
            RequestItems={table: [{"PutRequest": {"Item": i}} for i in items[start : start + 25]]}
        )


def scan_all(ddb: Any, **kwargs: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every page of a Scan; returns (items, pages)."""
    items: list[dict[str, Any]] = []
    pages: list[dict[str, Any]] = []
    while True:
        page = ddb.scan(**kwargs)
        pages.append(page)
        items.extend(page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            return items, pages
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def ident(item: dict[str, Any]) -> tuple[str, int]:
    return item["pk"]["S"], int(item["sk"]["N"])


@pytest.fixture
def filled(ddb: Any, make_table: Callable[..., str]) -> str:
    """pk S / sk N: 10 partitions x 6 items; kind is 'even'/'odd' by sk."""
    table = make_table(range_key="N")
    put_all(
        ddb,
        table,
        [
            {
                "pk": {"S": f"part{p}"},
                "sk": {"N": str(s)},
                "kind": {"S": "even" if s % 2 == 0 else "odd"},
                "score": {"N": str(p * 10 + s)},
                "tags": {"SS": [f"t{p}", "all"]},
            }
            for p in range(10)
            for s in range(6)
        ],
    )
    return table


ALL_KEYS = {(f"part{p}", s) for p in range(10) for s in range(6)}


def test_scan_returns_every_item_grouped_by_partition(ddb: Any, filled: str) -> None:
    result = ddb.scan(TableName=filled)
    assert result["Count"] == result["ScannedCount"] == 60
    keys = [ident(item) for item in result["Items"]]
    assert set(keys) == ALL_KEYS and len(keys) == 60
    # Items of one partition come together, in sort-key order.
    for p in range(10):
        positions = [i for i, key in enumerate(keys) if key[0] == f"part{p}"]
        assert positions == list(range(positions[0], positions[0] + 6))
        assert [keys[i][1] for i in positions] == list(range(6))
    assert "LastEvaluatedKey" not in result


def test_filter_expression(ddb: Any, filled: str) -> None:
    result = ddb.scan(
        TableName=filled,
        FilterExpression="kind = :k AND score > :s AND contains(tags, :t) AND sk < :five",
        ExpressionAttributeValues={
            ":k": {"S": "odd"},
            ":s": {"N": "70"},
            ":t": {"S": "t8"},
            ":five": {"N": "5"},
        },
    )
    assert sorted(ident(i) for i in result["Items"]) == [("part8", 1), ("part8", 3)]
    assert result["Count"] == 2 and result["ScannedCount"] == 60


def test_legacy_scan_filter(ddb: Any, filled: str) -> None:
    result = ddb.scan(
        TableName=filled,
        ScanFilter={
            "pk": {"AttributeValueList": [{"S": "part3"}], "ComparisonOperator": "EQ"},
            "sk": {"AttributeValueList": [{"N": "1"}, {"N": "2"}], "ComparisonOperator": "BETWEEN"},
        },
        AttributesToGet=["sk"],
    )
    assert sorted(i["sk"]["N"] for i in result["Items"]) == ["1", "2"]
    assert all(set(i) == {"sk"} for i in result["Items"])
    either = ddb.scan(
        TableName=filled,
        ScanFilter={
            "score": {"AttributeValueList": [{"N": "2"}], "ComparisonOperator": "LT"},
            "tags": {"AttributeValueList": [{"S": "t9"}], "ComparisonOperator": "CONTAINS"},
        },
        ConditionalOperator="OR",
        Select="COUNT",
    )
    assert either["Count"] == 2 + 6
    nulls = ddb.scan(
        TableName=filled,
        ScanFilter={"nothing": {"ComparisonOperator": "NULL"}},
        Select="COUNT",
    )
    assert nulls["Count"] == 60


def test_projection_and_select(ddb: Any, filled: str) -> None:
    projected = ddb.scan(
        TableName=filled,
        ProjectionExpression="#k, score",
        ExpressionAttributeNames={"#k": "kind"},
        Limit=2,
    )
    assert all(set(item) == {"kind", "score"} for item in projected["Items"])
    count = ddb.scan(TableName=filled, Select="COUNT")
    assert "Items" not in count and count["Count"] == 60
    everything = ddb.scan(TableName=filled, Select="ALL_ATTRIBUTES", Limit=1)
    assert set(everything["Items"][0]) == {"pk", "sk", "kind", "score", "tags"}
    for extra, fragment in [
        ({"Select": "ALL_PROJECTED_ATTRIBUTES"}, "ALL_PROJECTED_ATTRIBUTES"),
        ({"Select": "SPECIFIC_ATTRIBUTES"}, "SPECIFIC_ATTRIBUTES"),
        ({"Select": "COUNT", "ProjectionExpression": "score"}, "COUNT"),
        ({"Select": "ALL_ATTRIBUTES", "AttributesToGet": ["score"]}, "ALL_ATTRIBUTES"),
    ]:
        error = error_of(ddb.scan, TableName=filled, **extra)
        assert error["Code"] == "ValidationException", extra
        assert fragment in error["Message"]


@pytest.mark.parametrize("limit", [1, 7, 60, 100])
def test_limit_and_pagination(ddb: Any, filled: str, limit: int) -> None:
    items, pages = scan_all(ddb, TableName=filled, Limit=limit)
    keys = [ident(i) for i in items]
    assert len(keys) == 60 and set(keys) == ALL_KEYS
    assert all(page["ScannedCount"] <= limit for page in pages)
    expected_pages = 60 // limit + 1 if limit <= 60 else 1
    assert len(pages) == expected_pages
    for page in pages[:-1]:
        last = page["Items"][-1]
        assert page["LastEvaluatedKey"] == {"pk": last["pk"], "sk": last["sk"]}


def test_limit_counts_scanned_items_with_filter(ddb: Any, filled: str) -> None:
    page = ddb.scan(
        TableName=filled,
        Limit=10,
        FilterExpression="kind = :k",
        ExpressionAttributeValues={":k": {"S": "even"}},
    )
    assert page["ScannedCount"] == 10
    assert page["Count"] == 5
    assert "LastEvaluatedKey" in page
    items, pages = scan_all(
        ddb,
        TableName=filled,
        Limit=10,
        FilterExpression="kind = :k",
        ExpressionAttributeValues={":k": {"S": "even"}},
    )
    assert len(items) == 30
    assert sum(p["ScannedCount"] for p in pages) == 60


def test_exclusive_start_key_errors(ddb: Any, filled: str) -> None:
    for start in [{"pk": {"S": "part1"}}, {"pk": {"N": "1"}, "sk": {"N": "1"}}]:
        error = error_of(ddb.scan, TableName=filled, ExclusiveStartKey=start)
        assert error["Code"] == "ValidationException"
        assert error["Message"].startswith("The provided starting key is invalid")


def test_paginator_and_resource(ddb: Any, endpoint: str, filled: str) -> None:
    pages = list(
        ddb.get_paginator("scan").paginate(TableName=filled, PaginationConfig={"PageSize": 25})
    )
    assert [len(p["Items"]) for p in pages] == [25, 25, 10]
    resource = boto3.resource(
        "dynamodb",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    table = resource.Table(filled)
    result = table.scan(FilterExpression=Attr("score").between(95, 200) & Attr("kind").eq("odd"))
    assert sorted(item["sk"] for item in result["Items"]) == [Decimal(5)]
    segments = [
        table.scan(Segment=s, TotalSegments=3, ProjectionExpression="pk, sk")["Items"]
        for s in range(3)
    ]
    assert sum(len(s) for s in segments) == 60


def test_one_megabyte_page(ddb: Any, make_table: Callable[..., str]) -> None:
    table = make_table()
    blob = "y" * (100 * 1024)
    for i in range(25):
        ddb.put_item(TableName=table, Item={"pk": {"S": f"k{i:02d}"}, "payload": {"S": blob}})
    first = ddb.scan(
        TableName=table,
        FilterExpression="attribute_not_exists(payload)",
    )
    assert first["Count"] == 0 and first["ScannedCount"] in (10, 11)
    assert "LastEvaluatedKey" in first
    items, pages = scan_all(ddb, TableName=table, ProjectionExpression="pk")
    assert sorted(i["pk"]["S"] for i in items) == [f"k{i:02d}" for i in range(25)]
    assert len(pages) == 3


# -- parallel scan ---------------------------------------------------------------------------


@pytest.mark.parametrize("total", [1, 2, 3, 7, 64])
def test_parallel_scan_covers_every_item_exactly_once(
    ddb: Any, make_table: Callable[..., str], total: int
) -> None:
    table = make_table(range_key="N")
    put_all(
        ddb,
        table,
        [{"pk": {"S": f"h{h}"}, "sk": {"N": str(s)}} for h in range(40) for s in range(3)],
    )
    seen: Counter[tuple[str, int]] = Counter()
    for segment in range(total):
        items, _ = scan_all(ddb, TableName=table, Segment=segment, TotalSegments=total, Limit=7)
        keys = [ident(i) for i in items]
        seen.update(keys)
        # A partition is never split across segments.
        for key in keys:
            assert all((key[0], s) in keys for s in range(3))
    assert set(seen) == {(f"h{h}", s) for h in range(40) for s in range(3)}
    assert set(seen.values()) == {1}


def test_parallel_scan_with_count_and_filter(ddb: Any, filled: str) -> None:
    counts = [
        ddb.scan(
            TableName=filled,
            Segment=s,
            TotalSegments=4,
            Select="COUNT",
            FilterExpression="kind = :k",
            ExpressionAttributeValues={":k": {"S": "odd"}},
        )
        for s in range(4)
    ]
    assert sum(c["Count"] for c in counts) == 30
    assert sum(c["ScannedCount"] for c in counts) == 60


def test_segment_errors(ddb: Any, endpoint: str, filled: str) -> None:
    only_segment = error_of(ddb.scan, TableName=filled, Segment=0)
    assert only_segment["Code"] == "ValidationException"
    assert "TotalSegments" in only_segment["Message"]
    only_total = error_of(ddb.scan, TableName=filled, TotalSegments=2)
    assert only_total["Code"] == "ValidationException"
    assert "Segment" in only_total["Message"]
    too_big = error_of(ddb.scan, TableName=filled, Segment=2, TotalSegments=2)
    assert too_big == {
        "Code": "ValidationException",
        "Message": "The Segment parameter is zero-based and must be less than parameter "
        "TotalSegments: Segment: 2 is not less than TotalSegments: 2",
    }
    status, body = raw(endpoint, "Scan", {"TableName": filled, "Segment": 0, "TotalSegments": 0})
    assert status == 400
    assert body["message"] == (
        "1 validation error detected: Value '0' at 'totalSegments' failed to satisfy "
        "constraint: Member must have value greater than or equal to 1"
    )
    status, body = raw(
        endpoint, "Scan", {"TableName": filled, "Segment": 0, "TotalSegments": 1000001}
    )
    assert status == 400
    assert body["message"] == (
        "1 validation error detected: Value '1000001' at 'totalSegments' failed to satisfy "
        "constraint: Member must have value less than or equal to 1000000"
    )
    status, body = raw(endpoint, "Scan", {"TableName": filled, "Segment": -1, "TotalSegments": 2})
    assert status == 400
    assert body["message"] == (
        "1 validation error detected: Value '-1' at 'segment' failed to satisfy "
        "constraint: Member must have value greater than or equal to 0"
    )
    status, body = raw(endpoint, "Scan", {"TableName": filled, "Limit": 0})
    assert status == 400
    assert "'limit'" in body["message"]


def test_scan_missing_table(ddb: Any) -> None:
    assert error_of(ddb.scan, TableName="no-such-table") == {
        "Code": "ResourceNotFoundException",
        "Message": "Requested resource not found",
    }


def test_scan_empty_table(ddb: Any, make_table: Callable[..., str]) -> None:
    table = make_table()
    result = ddb.scan(TableName=table)
    assert result["Items"] == [] and result["Count"] == 0 and result["ScannedCount"] == 0
    assert "LastEvaluatedKey" not in result
