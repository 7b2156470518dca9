"""The legacy parameters through boto3 and the real server: Expected (+ConditionalOperator),
AttributeUpdates, AttributesToGet, and mixing them with expressions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

KEY = {"pk": {"S": "k"}}
ITEM = {
    **KEY,
    "n": {"N": "5"},
    "s": {"S": "hello"},
    "ss": {"SS": ["a", "b"]},
    "l": {"L": [{"S": "x"}]},
}
INVALID = "One or more parameter values were invalid: "


@pytest.fixture
def table(ddb: Any, make_table: Callable[..., str]) -> str:
    name = make_table()
    ddb.put_item(TableName=name, Item=ITEM)
    return name


def get(ddb: Any, table: str) -> dict[str, Any] | None:
    item: dict[str, Any] | None = ddb.get_item(TableName=table, Key=KEY).get("Item")
    return item


def expected_holds(
    ddb: Any, table: str, expected: dict[str, Any], operator: str | None = None
) -> bool:
    kwargs: dict[str, Any] = {"Expected": expected}
    if operator is not None:
        kwargs["ConditionalOperator"] = operator
    try:
        ddb.put_item(TableName=table, Item=ITEM, **kwargs)
    except ddb.exceptions.ConditionalCheckFailedException:
        return False
    return True


def error_of(call: Callable[..., Any], **kwargs: Any) -> str:
    with pytest.raises(ClientError) as info:
        call(**kwargs)
    assert info.value.response["Error"]["Code"] == "ValidationException"
    return str(info.value.response["Error"]["Message"])


# -- Expected -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expected", "holds"),
    [
        ({"n": {"Value": {"N": "5"}}}, True),
        ({"n": {"Value": {"N": "5.0"}, "Exists": True}}, True),
        ({"n": {"Value": {"N": "6"}}}, False),
        ({"n": {"Value": {"S": "5"}}}, False),
        ({"absent": {"Exists": False}}, True),
        ({"n": {"Exists": False}}, False),
        ({"n": {"ComparisonOperator": "EQ", "AttributeValueList": [{"N": "5"}]}}, True),
        ({"n": {"ComparisonOperator": "NE", "AttributeValueList": [{"N": "5"}]}}, False),
        ({"absent": {"ComparisonOperator": "NE", "AttributeValueList": [{"N": "5"}]}}, True),
        ({"n": {"ComparisonOperator": "LT", "AttributeValueList": [{"N": "6"}]}}, True),
        ({"n": {"ComparisonOperator": "LE", "AttributeValueList": [{"N": "5"}]}}, True),
        ({"n": {"ComparisonOperator": "GT", "AttributeValueList": [{"N": "5"}]}}, False),
        ({"n": {"ComparisonOperator": "GE", "AttributeValueList": [{"N": "5"}]}}, True),
        ({"n": {"ComparisonOperator": "GT", "AttributeValueList": [{"S": "1"}]}}, False),
        ({"n": {"ComparisonOperator": "NOT_NULL"}}, True),
        ({"absent": {"ComparisonOperator": "NULL"}}, True),
        ({"n": {"ComparisonOperator": "NULL"}}, False),
        ({"s": {"ComparisonOperator": "CONTAINS", "AttributeValueList": [{"S": "ell"}]}}, True),
        ({"ss": {"ComparisonOperator": "CONTAINS", "AttributeValueList": [{"S": "a"}]}}, True),
        ({"l": {"ComparisonOperator": "CONTAINS", "AttributeValueList": [{"S": "x"}]}}, True),
        (
            {"ss": {"ComparisonOperator": "NOT_CONTAINS", "AttributeValueList": [{"S": "z"}]}},
            True,
        ),
        (
            {"s": {"ComparisonOperator": "BEGINS_WITH", "AttributeValueList": [{"S": "he"}]}},
            True,
        ),
        (
            {"n": {"ComparisonOperator": "IN", "AttributeValueList": [{"N": "1"}, {"N": "5"}]}},
            True,
        ),
        (
            {
                "n": {
                    "ComparisonOperator": "BETWEEN",
                    "AttributeValueList": [{"N": "1"}, {"N": "4"}],
                }
            },
            False,
        ),
        ({"n": {"ComparisonOperator": "EQ", "Value": {"N": "5"}}}, True),
        (
            {"n": {"Value": {"N": "5"}}, "s": {"Value": {"S": "nope"}}},
            False,
        ),
    ],
)
def test_expected(ddb: Any, table: str, expected: dict[str, Any], holds: bool) -> None:
    assert expected_holds(ddb, table, expected) is holds


def test_conditional_operator(ddb: Any, table: str) -> None:
    expected = {"n": {"Value": {"N": "5"}}, "s": {"Value": {"S": "nope"}}}
    assert not expected_holds(ddb, table, expected, "AND")
    assert expected_holds(ddb, table, expected, "OR")
    assert not expected_holds(
        ddb, table, {"n": {"Value": {"N": "4"}}, "s": {"Exists": True, "Value": {"S": "x"}}}, "OR"
    )


def test_expected_on_update_and_delete(ddb: Any, table: str) -> None:
    with pytest.raises(ddb.exceptions.ConditionalCheckFailedException) as info:
        ddb.update_item(
            TableName=table,
            Key=KEY,
            AttributeUpdates={"n": {"Action": "ADD", "Value": {"N": "1"}}},
            Expected={"n": {"Value": {"N": "4"}}},
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    assert info.value.response["Item"] == ITEM
    ddb.update_item(
        TableName=table,
        Key=KEY,
        AttributeUpdates={"n": {"Action": "ADD", "Value": {"N": "1"}}},
        Expected={"n": {"Value": {"N": "5"}}},
    )
    with pytest.raises(ddb.exceptions.ConditionalCheckFailedException):
        ddb.delete_item(TableName=table, Key=KEY, Expected={"n": {"Value": {"N": "5"}}})
    ddb.delete_item(TableName=table, Key=KEY, Expected={"n": {"Value": {"N": "6"}}})
    assert get(ddb, table) is None


def test_expected_on_a_missing_item(ddb: Any, table: str) -> None:
    other = {"pk": {"S": "other"}}
    ddb.put_item(TableName=table, Item=other, Expected={"pk": {"Exists": False}})
    with pytest.raises(ddb.exceptions.ConditionalCheckFailedException):
        ddb.put_item(TableName=table, Item=other, Expected={"pk": {"Exists": False}})


@pytest.mark.parametrize(
    ("expected", "message"),
    [
        (
            {"n": {}},
            f"{INVALID}Value must be provided when Exists is null for Attribute: n",
        ),
        (
            {"n": {"Exists": True}},
            f"{INVALID}Value must be provided when Exists is true for Attribute: n",
        ),
        (
            {"n": {"Exists": False, "Value": {"N": "1"}}},
            f"{INVALID}Value cannot be used when Exists is false for Attribute: n",
        ),
        (
            {"n": {"ComparisonOperator": "EQ"}},
            f"{INVALID}Invalid number of argument(s) for the EQ ComparisonOperator",
        ),
        (
            {"n": {"ComparisonOperator": "NULL", "AttributeValueList": [{"N": "1"}]}},
            f"{INVALID}Invalid number of argument(s) for the NULL ComparisonOperator",
        ),
        (
            {
                "n": {
                    "ComparisonOperator": "BETWEEN",
                    "AttributeValueList": [{"N": "1"}],
                }
            },
            f"{INVALID}Invalid number of argument(s) for the BETWEEN ComparisonOperator",
        ),
        (
            {"n": {"ComparisonOperator": "LT", "AttributeValueList": [{"SS": ["a"]}]}},
            f"{INVALID}ComparisonOperator LT is not valid for SS AttributeValue type",
        ),
        (
            {"n": {"ComparisonOperator": "BEGINS_WITH", "AttributeValueList": [{"N": "1"}]}},
            f"{INVALID}ComparisonOperator BEGINS_WITH is not valid for N AttributeValue type",
        ),
        (
            {"n": {"Value": {"N": "1"}, "AttributeValueList": [{"N": "1"}]}},
            f"{INVALID}Value and AttributeValueList cannot be used together for Attribute: n",
        ),
        (
            {"n": {"AttributeValueList": [{"N": "1"}]}},
            f"{INVALID}AttributeValueList can only be used with a ComparisonOperator for "
            "Attribute: n",
        ),
    ],
)
def test_expected_errors(ddb: Any, table: str, expected: dict[str, Any], message: str) -> None:
    assert error_of(ddb.put_item, TableName=table, Item=ITEM, Expected=expected) == message


def test_conditional_operator_without_expected(ddb: Any, table: str) -> None:
    assert error_of(ddb.put_item, TableName=table, Item=ITEM, ConditionalOperator="AND") == (
        "ConditionalOperator can only be used when Expected or KeyConditions or QueryFilter "
        "or ScanFilter are present"
    )


# -- AttributeUpdates -----------------------------------------------------------------------


def test_attribute_updates_put_add_delete(ddb: Any, table: str) -> None:
    response = ddb.update_item(
        TableName=table,
        Key=KEY,
        AttributeUpdates={
            "s": {"Action": "PUT", "Value": {"S": "bye"}},
            "fresh": {"Value": {"BOOL": True}},  # PUT is the default action
            "n": {"Action": "ADD", "Value": {"N": "-2"}},
            "count": {"Action": "ADD", "Value": {"N": "1"}},
            "ss": {"Action": "DELETE", "Value": {"SS": ["a"]}},
            "l": {"Action": "ADD", "Value": {"L": [{"S": "y"}]}},
            "tags": {"Action": "ADD", "Value": {"SS": ["t"]}},
        },
        ReturnValues="ALL_NEW",
    )
    expected = {
        **KEY,
        "s": {"S": "bye"},
        "fresh": {"BOOL": True},
        "n": {"N": "3"},
        "count": {"N": "1"},
        "ss": {"SS": ["b"]},
        "l": {"L": [{"S": "x"}, {"S": "y"}]},
        "tags": {"SS": ["t"]},
    }
    assert response["Attributes"] == expected
    assert get(ddb, table) == expected


def test_attribute_updates_delete_attribute_and_last_element(ddb: Any, table: str) -> None:
    ddb.update_item(
        TableName=table,
        Key=KEY,
        AttributeUpdates={
            "s": {"Action": "DELETE"},
            "ss": {"Action": "DELETE", "Value": {"SS": ["a", "b"]}},
            "absent": {"Action": "DELETE"},
        },
    )
    assert get(ddb, table) == {**KEY, "n": ITEM["n"], "l": ITEM["l"]}


def test_attribute_updates_return_values(ddb: Any, table: str) -> None:
    updates = {
        "n": {"Action": "ADD", "Value": {"N": "1"}},
        "s": {"Action": "DELETE"},
        "x": {"Action": "PUT", "Value": {"S": "new"}},
    }
    old = ddb.update_item(
        TableName=table, Key=KEY, AttributeUpdates=updates, ReturnValues="UPDATED_OLD"
    )
    assert old["Attributes"] == {"n": {"N": "5"}, "s": {"S": "hello"}}
    ddb.put_item(TableName=table, Item=ITEM)
    new = ddb.update_item(
        TableName=table, Key=KEY, AttributeUpdates=updates, ReturnValues="UPDATED_NEW"
    )
    assert new["Attributes"] == {"n": {"N": "6"}, "x": {"S": "new"}}


def test_attribute_updates_on_a_missing_item(ddb: Any, table: str) -> None:
    other = {"pk": {"S": "other"}}
    ddb.update_item(TableName=table, Key=other, AttributeUpdates={"s": {"Action": "DELETE"}})
    assert "Item" not in ddb.get_item(TableName=table, Key=other)
    ddb.update_item(
        TableName=table, Key=other, AttributeUpdates={"n": {"Action": "ADD", "Value": {"N": "2"}}}
    )
    assert ddb.get_item(TableName=table, Key=other)["Item"] == {**other, "n": {"N": "2"}}


@pytest.mark.parametrize(
    ("updates", "message"),
    [
        (
            {"pk": {"Action": "PUT", "Value": {"S": "x"}}},
            f"{INVALID}Cannot update attribute pk. This attribute is part of the key",
        ),
        (
            {"a": {"Action": "PUT"}},
            f"{INVALID}Only DELETE action is allowed when no attribute value is specified",
        ),
        (
            {"a": {"Action": "ADD"}},
            f"{INVALID}Only DELETE action is allowed when no attribute value is specified",
        ),
    ],
)
def test_attribute_updates_errors(
    ddb: Any, table: str, updates: dict[str, Any], message: str
) -> None:
    assert error_of(ddb.update_item, TableName=table, Key=KEY, AttributeUpdates=updates) == (
        message
    )


def test_attribute_updates_type_mismatch(ddb: Any, table: str) -> None:
    message = error_of(
        ddb.update_item,
        TableName=table,
        Key=KEY,
        AttributeUpdates={"s": {"Action": "ADD", "Value": {"N": "1"}}},
    )
    assert message == f"{INVALID}Type mismatch for attribute to update"
    assert get(ddb, table) == ITEM


# -- AttributesToGet ------------------------------------------------------------------------


def test_attributes_to_get(ddb: Any, table: str) -> None:
    response = ddb.get_item(TableName=table, Key=KEY, AttributesToGet=["n", "absent", "ss"])
    assert response["Item"] == {"n": ITEM["n"], "ss": ITEM["ss"]}
    response = ddb.get_item(TableName=table, Key=KEY, AttributesToGet=["a.b"])
    assert response["Item"] == {}


# -- mixing ---------------------------------------------------------------------------------


def test_mixing_expected_and_condition_expression(ddb: Any, table: str) -> None:
    assert error_of(
        ddb.put_item,
        TableName=table,
        Item=ITEM,
        Expected={"n": {"Exists": False}},
        ConditionExpression="attribute_exists(n)",
    ) == (
        "Can not use both expression and non-expression parameters in the same request: "
        "Non-expression parameters: {Expected} Expression parameters: {ConditionExpression}"
    )


def test_mixing_attribute_updates_and_update_expression(ddb: Any, table: str) -> None:
    assert error_of(
        ddb.update_item,
        TableName=table,
        Key=KEY,
        AttributeUpdates={"a": {"Value": {"N": "1"}}},
        UpdateExpression="SET b = :v",
        ExpressionAttributeValues={":v": {"N": "1"}},
    ) == (
        "Can not use both expression and non-expression parameters in the same request: "
        "Non-expression parameters: {AttributeUpdates} Expression parameters: "
        "{UpdateExpression}"
    )
    message = error_of(
        ddb.update_item,
        TableName=table,
        Key=KEY,
        AttributeUpdates={"a": {"Value": {"N": "1"}}},
        Expected={"a": {"Exists": False}},
        UpdateExpression="SET b = :v",
        ConditionExpression="attribute_exists(b)",
        ExpressionAttributeValues={":v": {"N": "1"}},
    )
    assert message == (
        "Can not use both expression and non-expression parameters in the same request: "
        "Non-expression parameters: {AttributeUpdates, Expected} Expression parameters: "
        "{UpdateExpression, ConditionExpression}"
    )


def test_legacy_with_expression_attribute_values(ddb: Any, table: str) -> None:
    assert (
        error_of(
            ddb.put_item,
            TableName=table,
            Item=ITEM,
            Expected={"n": {"Exists": False}},
            ExpressionAttributeValues={":v": {"N": "1"}},
        )
        == "ExpressionAttributeValues can only be specified when using expressions"
    )


def test_attribute_updates_with_condition_expression(ddb: Any, table: str) -> None:
    assert error_of(
        ddb.update_item,
        TableName=table,
        Key=KEY,
        AttributeUpdates={"a": {"Value": {"N": "1"}}},
        ConditionExpression="attribute_exists(pk)",
    ).startswith("Can not use both expression and non-expression parameters")
