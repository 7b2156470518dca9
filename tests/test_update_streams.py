"""Stream records for UpdateItem outcomes (SPEC 3.4): INSERT when an update creates the
item, MODIFY only when something changed, nothing for no-ops and failed conditions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError
from conftest import read_table_stream

KEY = {"pk": {"S": "k"}}
ITEM = {
    **KEY,
    "n": {"N": "1"},
    "s": {"S": "x"},
    "ss": {"SS": ["a", "b"]},
    "m": {"M": {"a": {"N": "1"}, "l": {"L": [{"S": "e"}]}}},
}


def events(ddb: Any, streams: Any, table: str) -> list[str]:
    return [r["eventName"] for r in read_table_stream(ddb, streams, table)]


@pytest.fixture
def table(make_table: Callable[..., str]) -> str:
    return make_table(stream="NEW_AND_OLD_IMAGES")


@pytest.fixture
def existing(ddb: Any, streams: Any, table: str) -> str:
    """The table holding ITEM, whose INSERT is the only record so far."""
    ddb.put_item(TableName=table, Item=ITEM)
    assert events(ddb, streams, table) == ["INSERT"]
    return table


def update(ddb: Any, table: str, expression: str | None, **values: Any) -> None:
    kwargs: dict[str, Any] = {"TableName": table, "Key": KEY}
    if expression is not None:
        kwargs["UpdateExpression"] = expression
    if values:
        kwargs["ExpressionAttributeValues"] = {f":{k}": v for k, v in values.items()}
    ddb.update_item(**kwargs)


def test_update_creating_the_item_is_an_insert(ddb: Any, streams: Any, table: str) -> None:
    update(ddb, table, "SET a = :v", v={"N": "1"})
    [record] = read_table_stream(ddb, streams, table)
    assert record["eventName"] == "INSERT"
    assert record["dynamodb"]["Keys"] == KEY
    assert record["dynamodb"]["NewImage"] == {**KEY, "a": {"N": "1"}}
    assert "OldImage" not in record["dynamodb"]


def test_add_creating_the_item_is_an_insert(ddb: Any, streams: Any, table: str) -> None:
    update(ddb, table, "ADD c :v", v={"N": "0"})
    [record] = read_table_stream(ddb, streams, table)
    assert record["eventName"] == "INSERT"
    assert record["dynamodb"]["NewImage"] == {**KEY, "c": {"N": "0"}}


def test_update_without_expression_on_a_missing_item(ddb: Any, streams: Any, table: str) -> None:
    update(ddb, table, None)
    [record] = read_table_stream(ddb, streams, table)
    assert record["eventName"] == "INSERT"
    assert record["dynamodb"]["NewImage"] == KEY
    update(ddb, table, None)  # the item exists now: nothing changes
    assert events(ddb, streams, table) == ["INSERT"]


def test_remove_only_on_a_missing_item_writes_nothing(ddb: Any, streams: Any, table: str) -> None:
    update(ddb, table, "REMOVE a, b.c")
    ddb.update_item(TableName=table, Key=KEY, AttributeUpdates={"a": {"Action": "DELETE"}})
    assert events(ddb, streams, table) == []
    assert "Item" not in ddb.get_item(TableName=table, Key=KEY)


def test_a_change_is_one_modify_with_both_images(ddb: Any, streams: Any, existing: str) -> None:
    update(ddb, existing, "SET m.a = m.a + :one REMOVE s", one={"N": "1"})
    records = read_table_stream(ddb, streams, existing)
    assert [r["eventName"] for r in records] == ["INSERT", "MODIFY"]
    new_image = {**ITEM, "m": {"M": {"a": {"N": "2"}, "l": ITEM["m"]["M"]["l"]}}}
    del new_image["s"]
    assert records[1]["dynamodb"]["OldImage"] == ITEM
    assert records[1]["dynamodb"]["NewImage"] == new_image


@pytest.mark.parametrize(
    ("expression", "values"),
    [
        ("SET n = :v", {"v": {"N": "1"}}),
        ("SET n = :v", {"v": {"N": "1.000"}}),
        ("SET s = :v, m.a = :one", {"v": {"S": "x"}, "one": {"N": "1"}}),
        ("SET m.l = :v", {"v": {"L": [{"S": "e"}]}}),
        ("SET m = :v", {"v": {"M": {"l": {"L": [{"S": "e"}]}, "a": {"N": "1"}}}}),
        ("SET ss = :v", {"v": {"SS": ["b", "a"]}}),
        ("SET n = n + :zero", {"zero": {"N": "0"}}),
        ("SET n = if_not_exists(n, :v)", {"v": {"N": "7"}}),
        ("SET m.l = list_append(m.l, :empty)", {"empty": {"L": []}}),
        ("SET m.l[0] = :v REMOVE m.l[1]", {"v": {"S": "e"}}),
        ("ADD n :zero", {"zero": {"N": "0"}}),
        ("ADD ss :v", {"v": {"SS": ["a"]}}),
        ("DELETE ss :v", {"v": {"SS": ["zz"]}}),
        ("DELETE absent :v", {"v": {"SS": ["a"]}}),
        ("REMOVE absent", None),
        ("REMOVE m.absent, m.l[3]", None),
        (None, None),
    ],
)
def test_updates_that_change_nothing_write_no_record(
    ddb: Any, streams: Any, existing: str, expression: str | None, values: Any
) -> None:
    update(ddb, existing, expression, **(values or {}))
    stored = ddb.get_item(TableName=existing, Key=KEY)["Item"]
    assert {**stored, "ss": {"SS": sorted(stored["ss"]["SS"])}} == ITEM
    assert events(ddb, streams, existing) == ["INSERT"]


def test_legacy_attribute_updates_that_change_nothing(
    ddb: Any, streams: Any, existing: str
) -> None:
    ddb.update_item(
        TableName=existing,
        Key=KEY,
        AttributeUpdates={
            "n": {"Action": "PUT", "Value": {"N": "1"}},
            "absent": {"Action": "DELETE"},
            "ss": {"Action": "ADD", "Value": {"SS": ["b"]}},
        },
    )
    assert events(ddb, streams, existing) == ["INSERT"]
    ddb.update_item(
        TableName=existing,
        Key=KEY,
        AttributeUpdates={"n": {"Action": "ADD", "Value": {"N": "1"}}},
    )
    assert events(ddb, streams, existing) == ["INSERT", "MODIFY"]


def test_removing_every_attribute_is_a_modify_to_the_key(
    ddb: Any, streams: Any, existing: str
) -> None:
    update(ddb, existing, "REMOVE n, s, ss, m")
    records = read_table_stream(ddb, streams, existing)
    assert [r["eventName"] for r in records] == ["INSERT", "MODIFY"]
    assert records[1]["dynamodb"]["NewImage"] == KEY


def test_deleting_the_last_set_element_is_a_modify(ddb: Any, streams: Any, existing: str) -> None:
    update(ddb, existing, "DELETE ss :v", v={"SS": ["a", "b"]})
    records = read_table_stream(ddb, streams, existing)
    assert [r["eventName"] for r in records] == ["INSERT", "MODIFY"]
    assert "ss" not in records[1]["dynamodb"]["NewImage"]


def test_failed_conditions_write_no_record(ddb: Any, streams: Any, existing: str) -> None:
    failing = {"ConditionExpression": "attribute_not_exists(pk)"}
    with pytest.raises(ddb.exceptions.ConditionalCheckFailedException):
        ddb.update_item(
            TableName=existing,
            Key=KEY,
            UpdateExpression="SET n = :v",
            ExpressionAttributeValues={":v": {"N": "2"}},
            **failing,
        )
    with pytest.raises(ddb.exceptions.ConditionalCheckFailedException):
        ddb.put_item(TableName=existing, Item={**KEY, "other": {"N": "1"}}, **failing)
    with pytest.raises(ddb.exceptions.ConditionalCheckFailedException):
        ddb.delete_item(TableName=existing, Key=KEY, **failing)
    with pytest.raises(ddb.exceptions.ConditionalCheckFailedException):
        ddb.update_item(
            TableName=existing,
            Key={"pk": {"S": "missing"}},
            UpdateExpression="SET n = :v",
            ExpressionAttributeValues={":v": {"N": "2"}},
            ConditionExpression="attribute_exists(pk)",
        )
    with pytest.raises(ddb.exceptions.ConditionalCheckFailedException):
        ddb.update_item(
            TableName=existing,
            Key=KEY,
            AttributeUpdates={"n": {"Action": "ADD", "Value": {"N": "1"}}},
            Expected={"n": {"Value": {"N": "9"}}},
        )
    assert events(ddb, streams, existing) == ["INSERT"]


def test_conditional_put_that_fails_writes_no_record(ddb: Any, streams: Any, table: str) -> None:
    with pytest.raises(ddb.exceptions.ConditionalCheckFailedException):
        ddb.put_item(TableName=table, Item=ITEM, ConditionExpression="attribute_exists(pk)")
    assert events(ddb, streams, table) == []
    ddb.put_item(TableName=table, Item=ITEM, ConditionExpression="attribute_not_exists(pk)")
    assert events(ddb, streams, table) == ["INSERT"]


def test_failed_updates_write_no_record(ddb: Any, streams: Any, existing: str) -> None:
    for expression, values in (
        ("SET n = s + :v", {":v": {"N": "1"}}),
        ("SET n = absent", None),
        ("ADD s :v", {":v": {"N": "1"}}),
        ("SET nope.x = :v", {":v": {"N": "1"}}),
    ):
        kwargs: dict[str, Any] = {"ExpressionAttributeValues": values} if values else {}
        with pytest.raises(ClientError):
            ddb.update_item(TableName=existing, Key=KEY, UpdateExpression=expression, **kwargs)
    assert events(ddb, streams, existing) == ["INSERT"]


@pytest.mark.parametrize(
    ("view_type", "insert_images", "modify_images"),
    [
        ("KEYS_ONLY", set(), set()),
        ("NEW_IMAGE", {"NewImage"}, {"NewImage"}),
        ("OLD_IMAGE", set(), {"OldImage"}),
        ("NEW_AND_OLD_IMAGES", {"NewImage"}, {"NewImage", "OldImage"}),
    ],
)
def test_update_records_per_view_type(
    ddb: Any,
    streams: Any,
    make_table: Callable[..., str],
    view_type: str,
    insert_images: set[str],
    modify_images: set[str],
) -> None:
    table = make_table(stream=view_type)
    update(ddb, table, "SET a = :v", v={"N": "1"})
    update(ddb, table, "SET a = a + :v", v={"N": "1"})
    update(ddb, table, "SET a = :v", v={"N": "2"})  # no change
    records = read_table_stream(ddb, streams, table)
    assert [r["eventName"] for r in records] == ["INSERT", "MODIFY"]
    for record, images in zip(records, (insert_images, modify_images), strict=True):
        assert {k for k in record["dynamodb"] if k.endswith("Image")} == images
        assert record["dynamodb"]["StreamViewType"] == view_type
    if "OldImage" in modify_images:
        assert records[1]["dynamodb"]["OldImage"] == {**KEY, "a": {"N": "1"}}
    if "NewImage" in modify_images:
        assert records[1]["dynamodb"]["NewImage"] == {**KEY, "a": {"N": "2"}}
