"""Issue 12, defect 2: input that used to end in HTTP 500.

- Expressions nested deeper than Python's recursion allows, yet under the 4 KB quota
  (hundreds of parentheses, a thousand NOTs, `size(size(...))`): AWS's own answer, a
  ValidationException (redundant parentheses, or too many operators), and an expression
  nested as deep as AWS allows still works.
- JSON `null` in optional members (every expression member, `Limit`, ListTables'
  `Limit`): treated as absent, as AWS and botocore read it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from conftest import raw_call

DDB = "DynamoDB_20120810."
KEY = {"pk": {"S": "a"}, "sk": {"S": "b"}}
VALUES = {":v": {"S": "x"}}
TOO_MANY = "The expression contains too many operators; operator count: {}, limit: 300"


def call(endpoint: str, operation: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    status, _, payload = raw_call(endpoint, DDB + operation, json.dumps(body))
    return status, json.loads(payload)


@pytest.fixture
def table(make_table: Callable[..., str], endpoint: str) -> str:
    name = make_table(range_key="S")
    assert (
        call(endpoint, "PutItem", {"TableName": name, "Item": {**KEY, "a": {"S": "x"}}})[0] == 200
    )
    return name


DEEP = [
    ("(" * 300 + "a = :v" + ")" * 300, "The expression has redundant parentheses;"),
    ("(" * 2000 + "a = :v" + ")" * 2000, "The expression has redundant parentheses;"),
    ("NOT " * 1000 + "a = :v", TOO_MANY.format(1001)),
    # Parsed to the end; size() of size() is refused (item 5 of issue 18).
    (
        "size(" * 600 + "a" + ")" * 600 + " = :v",
        "Incorrect operand type for operator or function; operator or function: size, "
        "operand type: N",
    ),
    ("NOT (" * 300 + "a = :v" + ")" * 300, TOO_MANY.format(301)),
    ("(a = :v AND " * 250 + "a = :v" + ")" * 250, TOO_MANY.format(501)),
]


@pytest.mark.parametrize(("expression", "detail"), DEEP, ids=lambda v: str(v)[:12])
@pytest.mark.parametrize(
    ("operation", "member", "kind"),
    [
        ("PutItem", "ConditionExpression", "ConditionExpression"),
        ("Scan", "FilterExpression", "FilterExpression"),
        ("Query", "KeyConditionExpression", "KeyConditionExpression"),
    ],
)
def test_deep_expressions_get_aws_validation_errors(
    endpoint: str, table: str, expression: str, detail: str, operation: str, member: str, kind: str
) -> None:
    body: dict[str, Any] = {
        "TableName": table,
        member: expression,
        "ExpressionAttributeValues": VALUES,
    }
    if operation == "PutItem":
        body["Item"] = KEY
    status, answer = call(endpoint, operation, body)
    assert (status, answer) == (
        400,
        {
            "__type": "com.amazon.coral.validate#ValidationException",
            "message": f"Invalid {kind}: {detail}",
        },
    )


def test_deep_update_expression(endpoint: str, table: str) -> None:
    """400 nested calls parse to the end: the first static problem wins, as on AWS."""
    status, answer = call(
        endpoint,
        "UpdateItem",
        {
            "TableName": table,
            "Key": KEY,
            "UpdateExpression": "SET b = " + "size(" * 400 + "a" + ")" * 400,
        },
    )
    assert (status, answer) == (
        400,
        {
            "__type": "com.amazon.coral.validate#ValidationException",
            "message": "Invalid UpdateExpression: The function is not allowed to be used this "
            "way in an expression; function: size",
        },
    )


def test_as_deep_as_aws_allows_still_works(endpoint: str, table: str) -> None:
    """300 operators (the quota) nested 299 parentheses deep: a valid condition."""
    deep = "NOT (" * 299 + "a = :v" + ")" * 299  # 299 NOTs + "=": 300 operators
    put = {
        "TableName": table,
        "Item": {**KEY, "a": {"S": "x"}},
        "ExpressionAttributeValues": VALUES,
    }
    status, answer = call(endpoint, "PutItem", {**put, "ConditionExpression": deep})
    assert (status, answer["__type"].rpartition("#")[2]) == (400, "ConditionalCheckFailedException")
    odd = "NOT (" * 298 + "a = :v" + ")" * 298
    assert call(endpoint, "PutItem", {**put, "ConditionExpression": odd}) == (200, {})
    status, answer = call(
        endpoint,
        "Scan",
        {"TableName": table, "FilterExpression": odd, "ExpressionAttributeValues": VALUES},
    )
    assert (status, answer["Count"]) == (200, 1)
    appended = "SET b = " + "list_append(" * 200 + ":l" + ", :l)" * 200
    status, answer = call(
        endpoint,
        "UpdateItem",
        {
            "TableName": table,
            "Key": KEY,
            "UpdateExpression": appended,
            "ExpressionAttributeValues": {":l": {"L": [{"N": "1"}]}},
            "ReturnValues": "UPDATED_NEW",
        },
    )
    assert status == 200
    assert len(answer["Attributes"]["b"]["L"]) == 201


NULLABLE = [
    ("PutItem", {"Item": KEY}, "ConditionExpression"),
    ("DeleteItem", {"Key": {"pk": {"S": "gone"}, "sk": {"S": "b"}}}, "ConditionExpression"),
    ("UpdateItem", {"Key": KEY}, "ConditionExpression"),
    ("UpdateItem", {"Key": KEY, "ReturnValues": "ALL_NEW"}, "UpdateExpression"),
    ("GetItem", {"Key": KEY}, "ProjectionExpression"),
    (
        "Query",
        {"KeyConditionExpression": "pk = :a", "ExpressionAttributeValues": {":a": KEY["pk"]}},
        "ProjectionExpression",
    ),
    (
        "Query",
        {"KeyConditionExpression": "pk = :a", "ExpressionAttributeValues": {":a": KEY["pk"]}},
        "FilterExpression",
    ),
    (
        "Query",
        {"KeyConditionExpression": "pk = :a", "ExpressionAttributeValues": {":a": KEY["pk"]}},
        "Limit",
    ),
    ("Query", {}, "KeyConditionExpression"),
    ("Scan", {}, "FilterExpression"),
    ("Scan", {}, "ProjectionExpression"),
    ("Scan", {}, "Limit"),
    ("Scan", {}, "ExclusiveStartKey"),
    ("UpdateItem", {"Key": KEY, "UpdateExpression": "SET c = :v"}, "ExpressionAttributeValues"),
    ("GetItem", {"Key": KEY, "ProjectionExpression": "#a"}, "ExpressionAttributeNames"),
]


@pytest.mark.parametrize(("operation", "base", "member"), NULLABLE, ids=lambda v: str(v)[:20])
def test_null_members_read_as_absent(
    endpoint: str, table: str, operation: str, base: dict[str, Any], member: str
) -> None:
    body = {"TableName": table, **base}
    absent = call(endpoint, operation, body)
    null = call(endpoint, operation, {**body, member: None})
    assert null == absent
    assert null[0] < 500


def test_list_tables_limit_null(endpoint: str) -> None:
    status, answer = call(endpoint, "ListTables", {"Limit": None})
    assert status == 200 and isinstance(answer["TableNames"], list)


def test_null_members_nested_in_transactions(endpoint: str, table: str) -> None:
    status, answer = call(
        endpoint,
        "TransactWriteItems",
        {
            "TransactItems": [
                {
                    "Put": {"TableName": table, "Item": KEY, "ConditionExpression": None},
                    "Update": None,
                },
                {
                    "Update": {
                        "TableName": table,
                        "Key": {**KEY, "sk": {"S": "c"}},
                        "UpdateExpression": "SET a = :v",
                        "ConditionExpression": None,
                        "ExpressionAttributeNames": None,
                        "ExpressionAttributeValues": VALUES,
                    }
                },
            ],
            "ClientRequestToken": None,
        },
    )
    assert (status, answer) == (200, {})
    status, answer = call(
        endpoint,
        "TransactGetItems",
        {
            "TransactItems": [
                {"Get": {"TableName": table, "Key": KEY, "ProjectionExpression": None}}
            ]
        },
    )
    assert status == 200 and answer["Responses"] == [{"Item": KEY}]
    status, answer = call(
        endpoint,
        "BatchGetItem",
        {"RequestItems": {table: {"Keys": [KEY], "ProjectionExpression": None}}},
    )
    assert status == 200 and answer["Responses"][table] == [KEY]
