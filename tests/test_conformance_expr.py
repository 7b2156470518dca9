"""Expression and item details as AWS answers them (issue 18, item 5), through boto3
against the real server: exact error codes and messages, exact results."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import error_of

ANY_TYPE = (
    "{S,SS,N,NS,B,BS,BOOL,NULL,L,M,HD,DOUBLE,FLOAT,HDS,FS,DOUBLESET,DICT,DECIMAL,INT,"
    "DECIMALSET,INTSET}"
)
KEY = {"pk": {"S": "a"}}


def invalid(message: str) -> dict[str, str]:
    return {"Code": "ValidationException", "Message": message}


@pytest.fixture
def table(ddb: Any, make_table: Callable[..., str]) -> str:
    name = make_table()
    ddb.put_item(
        TableName=name,
        Item={**KEY, "b": {"S": "hello"}, "l": {"L": [{"N": "1"}, {"N": "2"}]}},
    )
    return name


# -- names ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "token", "near"),
    [("_a", "_", "_a"), ("x, _a", "_", ", _a"), ("1a", "1", "1a"), ("a._b", "_", "._b")],
)
def test_names_start_with_a_letter(
    ddb: Any, table: str, expression: str, token: str, near: str
) -> None:
    assert error_of(
        ddb.get_item, TableName=table, Key=KEY, ProjectionExpression=expression
    ) == invalid(f'Invalid ProjectionExpression: Syntax error; token: "{token}", near: "{near}"')


def test_underscore_inside_a_name_is_fine(ddb: Any, table: str) -> None:
    ddb.put_item(TableName=table, Item={**KEY, "a_b": {"S": "x"}})
    got = ddb.get_item(TableName=table, Key=KEY, ProjectionExpression="a_b")
    assert got["Item"] == {"a_b": {"S": "x"}}


def test_underscore_name_in_a_condition(ddb: Any, table: str) -> None:
    assert error_of(
        ddb.put_item, TableName=table, Item=KEY, ConditionExpression="attribute_exists(_x)"
    ) == invalid('Invalid ConditionExpression: Syntax error; token: "_", near: "(_x"')


def test_empty_expression_attribute_name(ddb: Any, table: str) -> None:
    assert error_of(
        ddb.get_item,
        TableName=table,
        Key=KEY,
        ProjectionExpression="#n",
        ExpressionAttributeNames={"#n": ""},
    ) == invalid("ExpressionAttributeNames contains invalid value: Empty attribute name for key #n")


# -- functions ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("second", "operand_type"), [("b", ANY_TYPE), ("l[0]", ANY_TYPE), ("size(b)", "N")]
)
def test_attribute_type_needs_a_value(ddb: Any, table: str, second: str, operand_type: str) -> None:
    assert error_of(
        ddb.put_item,
        TableName=table,
        Item=KEY,
        ConditionExpression=f"attribute_type(b, {second})",
    ) == invalid(
        "Invalid ConditionExpression: Incorrect operand type for operator or function; "
        f"operator or function: attribute_type, operand type: {operand_type}"
    )


def test_attribute_type_with_a_value_evaluates(ddb: Any, table: str) -> None:
    scan = ddb.scan(
        TableName=table,
        FilterExpression="attribute_type(b, :s)",
        ExpressionAttributeValues={":s": {"S": "S"}},
    )
    assert scan["Count"] == 1


def test_size_of_size(ddb: Any, table: str) -> None:
    assert error_of(
        ddb.scan,
        TableName=table,
        FilterExpression="size(size(b)) = :v",
        ExpressionAttributeValues={":v": {"N": "1"}},
    ) == invalid(
        "Invalid FilterExpression: Incorrect operand type for operator or function; "
        "operator or function: size, operand type: N"
    )


# -- BETWEEN --------------------------------------------------------------------------------


def test_between_descending_request_values_are_refused(ddb: Any, table: str) -> None:
    assert error_of(
        ddb.scan,
        TableName=table,
        FilterExpression="b BETWEEN :h AND :l",
        ExpressionAttributeValues={":h": {"N": "5"}, ":l": {"N": "1"}},
    ) == invalid(
        "Invalid FilterExpression: The BETWEEN operator requires upper bound to be greater "
        "than or equal to lower bound; lower bound operand: AttributeValue: {N:5}, upper "
        "bound operand: AttributeValue: {N:1}"
    )


def test_between_descending_item_values_are_just_false(ddb: Any, table: str) -> None:
    ddb.put_item(
        TableName=table, Item={**KEY, "v": {"N": "1"}, "l": {"L": [{"N": "0"}, {"N": "2"}]}}
    )
    scan = ddb.scan(TableName=table, FilterExpression="v BETWEEN l[1] AND l[0]")
    assert (scan["Count"], scan["ScannedCount"]) == (0, 1)
    ascending = ddb.scan(TableName=table, FilterExpression="v BETWEEN l[0] AND l[1]")
    assert ascending["Count"] == 1


# -- parenthesised operands -----------------------------------------------------------------


@pytest.mark.parametrize(
    "expression",
    [
        "(size(b)) = :five",
        ":five = (size(b))",
        "((size(b))) = :five",
        "((size(b)) = :five)",
        "(b) = :hello AND (size(b)) BETWEEN (:five) AND :five",
        "NOT ((size(b)) <> :five)",
        "(size(b)) IN (:five, :six)",
    ],
)
def test_parenthesised_operands(ddb: Any, table: str, expression: str) -> None:
    values = {":five": {"N": "5"}, ":six": {"N": "6"}, ":hello": {"S": "hello"}}
    used = {k: v for k, v in values.items() if k in expression}
    scan = ddb.scan(TableName=table, FilterExpression=expression, ExpressionAttributeValues=used)
    assert scan["Count"] == 1


def test_parenthesised_operand_then_index_is_a_syntax_error(ddb: Any, table: str) -> None:
    assert error_of(
        ddb.scan,
        TableName=table,
        FilterExpression="(size(b))[0] > :v",
        ExpressionAttributeValues={":v": {"N": "1"}},
    ) == invalid('Invalid FilterExpression: Syntax error; token: "[", near: ")[0"')


def test_deep_parentheses_still_parse(ddb: Any, table: str) -> None:
    expression = "(" * 600 + "b = :hello" + ")" * 600
    assert error_of(
        ddb.scan,
        TableName=table,
        FilterExpression=expression,
        ExpressionAttributeValues={":hello": {"S": "hello"}},
    ) == invalid("Invalid FilterExpression: The expression has redundant parentheses;")


# -- paths ----------------------------------------------------------------------------------


def test_path_nesting_levels(ddb: Any, table: str) -> None:
    got = ddb.get_item(TableName=table, Key=KEY, ProjectionExpression="a" + ".b" * 31)
    assert got["Item"] == {}
    assert error_of(
        ddb.get_item, TableName=table, Key=KEY, ProjectionExpression="a" + ".b" * 32
    ) == invalid(
        "Invalid ProjectionExpression: The document path has too many nesting levels; "
        "nesting levels: 33"
    )
    assert error_of(
        ddb.scan, TableName=table, FilterExpression="attribute_exists(a" + "[0]" * 33 + ")"
    ) == invalid(
        "Invalid FilterExpression: The document path has too many nesting levels; "
        "nesting levels: 34"
    )


def test_huge_list_indexes(ddb: Any, table: str) -> None:
    got = ddb.get_item(TableName=table, Key=KEY, ProjectionExpression="l[2147483647]")
    assert got["Item"] == {}
    assert error_of(
        ddb.get_item, TableName=table, Key=KEY, ProjectionExpression="l[2147483648]"
    ) == invalid(
        'Invalid ProjectionExpression: Syntax error; token: "2147483648", near: "[2147483648]"'
    )
    assert error_of(
        ddb.update_item,
        TableName=table,
        Key=KEY,
        UpdateExpression="SET l[99999999999999999999] = :x",
        ExpressionAttributeValues={":x": {"S": "x"}},
    ) == invalid(
        "Invalid UpdateExpression: Syntax error; token: "
        '"99999999999999999999", near: "[99999999999999999999]"'
    )


# -- updates --------------------------------------------------------------------------------


@pytest.mark.parametrize("expression", ["SET l[10] = :x, l[11] = :y", "SET l[11] = :y, l[10] = :x"])
def test_appends_past_the_end_in_index_order(ddb: Any, table: str, expression: str) -> None:
    got = ddb.update_item(
        TableName=table,
        Key=KEY,
        UpdateExpression=expression,
        ExpressionAttributeValues={":x": {"S": "x"}, ":y": {"S": "y"}},
        ReturnValues="UPDATED_NEW",
    )
    assert got["Attributes"] == {"l": {"L": [{"S": "x"}, {"S": "y"}]}}
    stored = ddb.get_item(TableName=table, Key=KEY)["Item"]["l"]
    assert stored == {"L": [{"N": "1"}, {"N": "2"}, {"S": "x"}, {"S": "y"}]}


def test_replace_and_append_in_one_update(ddb: Any, table: str) -> None:
    ddb.update_item(
        TableName=table,
        Key=KEY,
        UpdateExpression="SET l[7] = :b, l[0] = :a, l[5] = :c",
        ExpressionAttributeValues={":a": {"S": "a"}, ":b": {"S": "b"}, ":c": {"S": "c"}},
    )
    stored = ddb.get_item(TableName=table, Key=KEY)["Item"]["l"]
    assert stored == {"L": [{"S": "a"}, {"N": "2"}, {"S": "c"}, {"S": "b"}]}


def test_nested_list_append(ddb: Any, table: str) -> None:
    got = ddb.update_item(
        TableName=table,
        Key=KEY,
        UpdateExpression="SET l = list_append(list_append(:front, l), list_append(l, :back))",
        ExpressionAttributeValues={":front": {"L": [{"S": "f"}]}, ":back": {"L": [{"S": "k"}]}},
        ReturnValues="UPDATED_NEW",
    )
    one, two = {"N": "1"}, {"N": "2"}
    assert got["Attributes"] == {"l": {"L": [{"S": "f"}, one, two, one, two, {"S": "k"}]}}
    assert error_of(
        ddb.update_item,
        TableName=table,
        Key=KEY,
        UpdateExpression="SET l = list_append(list_append(l, :s), l)",
        ExpressionAttributeValues={":s": {"S": "s"}},
    ) == invalid(
        "Invalid UpdateExpression: Incorrect operand type for operator or function; "
        "operator or function: list_append, operand type: S"
    )


# -- legacy parameters ----------------------------------------------------------------------


def test_key_conditions_with_filter_and_projection_expressions(ddb: Any, table: str) -> None:
    conditions = {"pk": {"AttributeValueList": [{"S": "a"}], "ComparisonOperator": "EQ"}}
    got = ddb.query(
        TableName=table,
        KeyConditions=conditions,
        FilterExpression="b = :v",
        ProjectionExpression="#l",
        ExpressionAttributeNames={"#l": "l"},
        ExpressionAttributeValues={":v": {"S": "hello"}},
    )
    assert got["Items"] == [{"l": {"L": [{"N": "1"}, {"N": "2"}]}}]
    filtered = ddb.query(
        TableName=table,
        KeyConditions=conditions,
        FilterExpression="b = :v",
        ExpressionAttributeValues={":v": {"S": "other"}},
    )
    assert (filtered["Count"], filtered["ScannedCount"]) == (0, 1)


def test_key_conditions_still_exclude_key_condition_expression(ddb: Any, table: str) -> None:
    assert error_of(
        ddb.query,
        TableName=table,
        KeyConditions={"pk": {"AttributeValueList": [{"S": "a"}], "ComparisonOperator": "EQ"}},
        KeyConditionExpression="pk = :v",
        ExpressionAttributeValues={":v": {"S": "a"}},
    ) == invalid(
        "Can not use both expression and non-expression parameters in the same request: "
        "Non-expression parameters: {KeyConditions} Expression parameters: "
        "{KeyConditionExpression}"
    )
    assert error_of(
        ddb.query,
        TableName=table,
        KeyConditionExpression="pk = :v",
        QueryFilter={"b": {"AttributeValueList": [{"S": "x"}], "ComparisonOperator": "EQ"}},
        ExpressionAttributeValues={":v": {"S": "a"}},
    ) == invalid(
        "Can not use both expression and non-expression parameters in the same request: "
        "Non-expression parameters: {QueryFilter} Expression parameters: "
        "{KeyConditionExpression}"
    )


@pytest.mark.parametrize("member", ["Expected", "ScanFilter"])
def test_legacy_in_with_mixed_types(ddb: Any, table: str, member: str) -> None:
    condition = {"b": {"ComparisonOperator": "IN", "AttributeValueList": [{"S": "x"}, {"N": "3"}]}}
    call, kwargs = (ddb.put_item, {"Item": KEY}) if member == "Expected" else (ddb.scan, {})
    assert error_of(call, TableName=table, **{member: condition}, **kwargs) == invalid(
        "One or more parameter values were invalid: AttributeValues inside "
        "AttributeValueList must be of same type"
    )


def test_legacy_in_with_one_type(ddb: Any, table: str) -> None:
    ddb.put_item(
        TableName=table,
        Item={**KEY, "b": {"S": "new"}},
        Expected={
            "b": {"ComparisonOperator": "IN", "AttributeValueList": [{"S": "x"}, {"S": "hello"}]}
        },
    )
    assert ddb.get_item(TableName=table, Key=KEY)["Item"]["b"] == {"S": "new"}


# -- attribute names and values -------------------------------------------------------------


@pytest.mark.parametrize("writer", ["put", "batch", "transact"])
def test_empty_attribute_name_in_an_item(ddb: Any, table: str, writer: str) -> None:
    item = {**KEY, "": {"S": "x"}}
    calls: dict[str, tuple[Callable[..., Any], dict[str, Any]]] = {
        "put": (ddb.put_item, {"TableName": table, "Item": item}),
        "batch": (
            ddb.batch_write_item,
            {"RequestItems": {table: [{"PutRequest": {"Item": item}}]}},
        ),
        "transact": (
            ddb.transact_write_items,
            {"TransactItems": [{"Put": {"TableName": table, "Item": item}}]},
        ),
    }
    call, kwargs = calls[writer]
    assert error_of(call, **kwargs) == invalid(
        "One or more parameter values were invalid: An attribute name cannot be empty"
    )
    assert "" not in ddb.get_item(TableName=table, Key=KEY)["Item"]


def test_null_false_is_stored_as_null_true(ddb: Any, table: str) -> None:
    """SPEC 5.1: AWS now accepts ``{"NULL": false}`` and stores ``{"NULL": true}`` (NUBO
    capture, 2026-06), so it is not refused here."""
    ddb.put_item(TableName=table, Item={**KEY, "n": {"NULL": False}})
    assert ddb.get_item(TableName=table, Key=KEY)["Item"]["n"] == {"NULL": True}
