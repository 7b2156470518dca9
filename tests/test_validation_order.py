"""Issue 18 item 3: AWS validates a request before it looks its table up, so an invalid
request to a missing table answers the ValidationException, not ResourceNotFound - here
for what test_conformance_wire.py does not cover: Query's key conditions (expression
placeholders, legacy KeyConditions), TransactWriteItems / TransactGetItems actions,
UpdateTable, TagResource, and CreateTable's empty index lists (validation before the name
is found taken). Each case is asserted on
the exact wire answer of the real server (raw HTTP), and each has its valid twin that
reaches the lookup (so the check cannot pass by refusing everything).

Where the expected answer comes from: dynalite's suite, run against AWS, records the
Query and UpdateTable answers for a table that does not exist; for the transactions no
suite we know of records the order, and the issue's rule (validate first) applies.
"""

from __future__ import annotations

from typing import Any

import pytest
from conftest import raw_dynamodb

PKG = "com.amazonaws.dynamodb.v20120810"
VALIDATION = "com.amazon.coral.validate#ValidationException"
MISSING = "no-such-table-order2"
#: The account the test server runs as (the emulator's default).
ACCOUNT = "000000000000"
NOT_FOUND = {
    "__type": f"{PKG}#ResourceNotFoundException",
    "message": "Requested resource not found",
}
TABLE_NOT_FOUND = {
    "__type": f"{PKG}#ResourceNotFoundException",
    "message": f"Requested resource not found: Table: {MISSING} not found",
}
AT_LEAST_ONE = (
    "At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, "
    "GlobalSecondaryIndexUpdates or SSESpecification or ReplicaUpdates is required"
)
INVALID = "One or more parameter values were invalid: "
VALUE = {":v": {"S": "a"}}


def refused(endpoint: str, operation: str, body: dict[str, Any]) -> str:
    """The message of the ValidationException the call must answer (HTTP 400)."""
    status, answer = raw_dynamodb(endpoint, operation, body)
    assert status == 400, answer
    assert answer["__type"] == VALIDATION, answer
    assert set(answer) == {"__type", "message"}
    return str(answer["message"])


# -- Query ------------------------------------------------------------------------------


def query(**members: Any) -> dict[str, Any]:
    return {"TableName": MISSING, **members}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            query(KeyConditionExpression="pk = :v"),
            "Invalid KeyConditionExpression: An expression attribute value used in expression "
            "is not defined; attribute value: :v",
        ),
        (
            query(KeyConditionExpression="#p = :v", ExpressionAttributeValues=VALUE),
            "Invalid KeyConditionExpression: An expression attribute name used in the document "
            "path is not defined; attribute name: #p",
        ),
        (
            query(
                KeyConditionExpression="pk = :v",
                ExpressionAttributeValues={**VALUE, ":w": {"S": "b"}},
            ),
            "Value provided in ExpressionAttributeValues unused in expressions: keys: {:w}",
        ),
        (
            query(
                KeyConditionExpression="pk = :v",
                ExpressionAttributeValues=VALUE,
                ExpressionAttributeNames={"#x": "x", "#y": "y"},
            ),
            "Value provided in ExpressionAttributeNames unused in expressions: keys: {#x, #y}",
        ),
        (
            query(KeyConditionExpression="pk = :v AND pk = :v", ExpressionAttributeValues=VALUE),
            "KeyConditionExpressions must only contain one condition per key",
        ),
        (
            query(KeyConditionExpression="pk.a = :v", ExpressionAttributeValues=VALUE),
            "Invalid KeyConditionExpression: KeyConditionExpressions cannot have conditions on "
            "nested attributes",
        ),
        (
            query(),
            "Either the KeyConditions or KeyConditionExpression parameter must be specified "
            "in the request.",
        ),
        (
            query(
                KeyConditionExpression="pk = :v",
                ProjectionExpression="#a",
                ExpressionAttributeValues=VALUE,
            ),
            "Invalid ProjectionExpression: An expression attribute name used in the document "
            "path is not defined; attribute name: #a",
        ),
    ],
    ids=[
        "undefined-value",
        "undefined-name",
        "unused-value",
        "unused-names",
        "two-conditions-one-key",
        "nested",
        "no-key-condition",
        "projection-name",
    ],
)
def test_query_to_a_missing_table_validates_its_key_condition_first(
    endpoint: str, body: dict[str, Any], message: str
) -> None:
    assert refused(endpoint, "Query", body) == message


def test_valid_query_to_a_missing_table_is_not_found(endpoint: str) -> None:
    for body in (
        query(KeyConditionExpression="pk = :v", ExpressionAttributeValues=VALUE),
        query(
            KeyConditionExpression="#p = :v AND begins_with(sk, :w)",
            ExpressionAttributeNames={"#p": "pk"},
            ExpressionAttributeValues={**VALUE, ":w": {"S": "b"}},
        ),
        query(
            KeyConditions={"pk": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "a"}]}}
        ),
    ):
        assert raw_dynamodb(endpoint, "Query", body) == (400, NOT_FOUND)


def test_query_to_an_existing_table_keeps_its_order(endpoint: str, make_table: Any) -> None:
    """On an existing table the key schema is checked first: a key condition on another
    attribute names the missing key element even though its value is undefined."""
    table = make_table()
    body = {
        "TableName": table,
        "KeyConditionExpression": "x = :v",
        "ExpressionAttributeValues": VALUE,
    }
    assert refused(endpoint, "Query", body) == "Query condition missed key schema element: pk"


# -- TransactWriteItems / TransactGetItems ----------------------------------------------


def put(table: str = MISSING, **members: Any) -> dict[str, Any]:
    return {"Put": {"TableName": table, "Item": {"pk": {"S": "a"}}, **members}}


def update(table: str = MISSING, **members: Any) -> dict[str, Any]:
    return {"Update": {"TableName": table, "Key": {"pk": {"S": "a"}}, **members}}


@pytest.mark.parametrize(
    ("items", "message"),
    [
        (
            [put(ConditionExpression="a = :z")],
            "Invalid ConditionExpression: An expression attribute value used in expression is "
            "not defined; attribute value: :z",
        ),
        (
            [update(UpdateExpression="SET a = :z")],
            "Invalid UpdateExpression: An expression attribute value used in expression is not "
            "defined; attribute value: :z",
        ),
        (
            [update(UpdateExpression="SET a = ")],
            'Invalid UpdateExpression: Syntax error; token: "<EOF>", near: "= "',
        ),
        (
            [
                update(
                    UpdateExpression="SET a = :v",
                    ExpressionAttributeValues={**VALUE, ":q": {"S": "q"}},
                )
            ],
            "Value provided in ExpressionAttributeValues unused in expressions: keys: {:q}",
        ),
        (
            [
                {
                    "ConditionCheck": {
                        "TableName": MISSING,
                        "Key": {"pk": {"S": "a"}},
                        "ConditionExpression": "attribute_exists(#n)",
                    }
                }
            ],
            "Invalid ConditionExpression: An expression attribute name used in the document "
            "path is not defined; attribute name: #n",
        ),
        (
            [put(), {"Put": {"TableName": MISSING, "Item": {"pk": {"S": "b"}, "x": {}}}}],
            "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes",
        ),
        (
            [{"Delete": {"TableName": MISSING, "Key": {"pk": {"N": "x"}}}}],
            "The parameter cannot be converted to a numeric value: x",
        ),
        (
            [
                put(),
                {
                    "Put": {
                        "TableName": MISSING,
                        "Item": {"pk": {"S": "b"}, "big": {"S": "x" * 409_600}},
                    }
                },
            ],
            "Item size has exceeded the maximum allowed size",
        ),
    ],
    ids=[
        "condition-value",
        "update-value",
        "update-syntax",
        "unused-value",
        "check-name",
        "empty-value-second-action",
        "bad-number-key",
        "item-too-large",
    ],
)
def test_transact_write_to_a_missing_table_validates_every_action_first(
    endpoint: str, items: list[dict[str, Any]], message: str
) -> None:
    assert refused(endpoint, "TransactWriteItems", {"TransactItems": items}) == message


def test_transact_write_checks_later_actions_before_an_earlier_missing_table(
    endpoint: str, make_table: Any
) -> None:
    """The first action's table is missing, the second's exists: the second action's
    expression error still wins."""
    table = make_table()
    items = [put(), update(table, UpdateExpression="SET a = :z")]
    assert refused(endpoint, "TransactWriteItems", {"TransactItems": items}) == (
        "Invalid UpdateExpression: An expression attribute value used in expression is not "
        "defined; attribute value: :z"
    )
    valid = [put(), update(table, UpdateExpression="SET a = :v", ExpressionAttributeValues=VALUE)]
    assert raw_dynamodb(endpoint, "TransactWriteItems", {"TransactItems": valid}) == (
        400,
        NOT_FOUND,
    )


def test_valid_transact_write_to_a_missing_table_is_not_found(endpoint: str) -> None:
    items = [
        put(ConditionExpression="attribute_not_exists(pk)"),
        update(UpdateExpression="SET a = :v", ExpressionAttributeValues=VALUE),
    ]
    assert raw_dynamodb(endpoint, "TransactWriteItems", {"TransactItems": items}) == (
        400,
        NOT_FOUND,
    )


def get(table: str = MISSING, key: Any = None, **members: Any) -> dict[str, Any]:
    return {"Get": {"TableName": table, "Key": key or {"pk": {"S": "a"}}, **members}}


@pytest.mark.parametrize(
    ("items", "message"),
    [
        (
            [get(ProjectionExpression="#a")],
            "Invalid ProjectionExpression: An expression attribute name used in the document "
            "path is not defined; attribute name: #a",
        ),
        (
            [get(ProjectionExpression="a,,b")],
            'Invalid ProjectionExpression: Syntax error; token: ",", near: ",,b"',
        ),
        (
            [get(ProjectionExpression="a", ExpressionAttributeNames={"#u": "u"})],
            "Value provided in ExpressionAttributeNames unused in expressions: keys: {#u}",
        ),
        (
            [get(), get(key={"pk": {"N": "x"}})],
            "The parameter cannot be converted to a numeric value: x",
        ),
    ],
    ids=["projection-name", "projection-syntax", "unused-name", "second-key-number"],
)
def test_transact_get_to_a_missing_table_validates_every_get_first(
    endpoint: str, items: list[dict[str, Any]], message: str
) -> None:
    assert refused(endpoint, "TransactGetItems", {"TransactItems": items}) == message


def test_valid_transact_get_to_a_missing_table_is_not_found(endpoint: str) -> None:
    items = [get(ProjectionExpression="#a", ExpressionAttributeNames={"#a": "a"})]
    assert raw_dynamodb(endpoint, "TransactGetItems", {"TransactItems": items}) == (
        400,
        NOT_FOUND,
    )


# -- UpdateTable ------------------------------------------------------------------------


def throughput(units: int = 1) -> dict[str, int]:
    return {"ReadCapacityUnits": units, "WriteCapacityUnits": units}


@pytest.mark.parametrize(
    ("members", "message"),
    [
        ({}, AT_LEAST_ONE),
        ({"GlobalSecondaryIndexUpdates": []}, AT_LEAST_ONE),
        ({"AttributeDefinitions": [{"AttributeName": "a", "AttributeType": "S"}]}, AT_LEAST_ONE),
        (
            {"GlobalSecondaryIndexUpdates": [{}]},
            INVALID + "One of GlobalSecondaryIndexUpdate.Update, "
            "GlobalSecondaryIndexUpdate.Create, GlobalSecondaryIndexUpdate.Delete must not be "
            "null",
        ),
        (
            {
                "GlobalSecondaryIndexUpdates": [
                    {"Delete": {"IndexName": "abc"}},
                    {"Delete": {"IndexName": "abc"}},
                ]
            },
            INVALID + "Only one global secondary index update per index is allowed "
            "simultaneously. Index: abc",
        ),
        (
            {"BillingMode": "PAY_PER_REQUEST", "ProvisionedThroughput": throughput()},
            INVALID + "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when "
            "BillingMode is PAY_PER_REQUEST",
        ),
        (
            {"StreamSpecification": {"StreamEnabled": True}},
            INVALID + "If stream is being enabled then UpdateViewType is required",
        ),
        (
            {"StreamSpecification": {"StreamEnabled": False, "StreamViewType": "KEYS_ONLY"}},
            INVALID + "If stream is being disabled, then UpdateViewType must not be specified",
        ),
    ],
    ids=[
        "no-change",
        "empty-index-updates",
        "only-definitions",
        "empty-index-update",
        "same-index-twice",
        "on-demand-with-throughput",
        "stream-without-view-type",
        "disable-with-view-type",
    ],
)
def test_update_table_of_a_missing_table_validates_first(
    endpoint: str, members: dict[str, Any], message: str
) -> None:
    assert refused(endpoint, "UpdateTable", {"TableName": MISSING, **members}) == message


@pytest.mark.parametrize(
    "members",
    [
        {"ProvisionedThroughput": throughput(2)},
        {"BillingMode": "PAY_PER_REQUEST"},
        {"StreamSpecification": {"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"}},
        {"GlobalSecondaryIndexUpdates": [{"Delete": {"IndexName": "abc"}}]},
        {
            "GlobalSecondaryIndexUpdates": [
                {"Update": {"IndexName": "abc", "ProvisionedThroughput": throughput()}}
            ]
        },
    ],
    ids=["throughput", "on-demand", "stream", "delete-index", "update-index"],
)
def test_valid_update_table_of_a_missing_table_is_not_found(
    endpoint: str, members: dict[str, Any]
) -> None:
    body = {"TableName": MISSING, **members}
    assert raw_dynamodb(endpoint, "UpdateTable", body) == (400, TABLE_NOT_FOUND)


def test_update_table_of_an_existing_table_refuses_the_same(endpoint: str, make_table: Any) -> None:
    """The table-free checks hold for an existing table too (AWS: the same answers)."""
    table = make_table()
    for members, message in (
        ({"GlobalSecondaryIndexUpdates": []}, AT_LEAST_ONE),
        (
            {"GlobalSecondaryIndexUpdates": [{}]},
            INVALID + "One of GlobalSecondaryIndexUpdate.Update, "
            "GlobalSecondaryIndexUpdate.Create, GlobalSecondaryIndexUpdate.Delete must not be "
            "null",
        ),
    ):
        assert refused(endpoint, "UpdateTable", {"TableName": table, **members}) == message


# -- the other control-plane operations -------------------------------------------------


@pytest.mark.parametrize(
    ("operation", "body", "message"),
    [
        (
            "UpdateTimeToLive",
            {
                "TableName": MISSING,
                "TimeToLiveSpecification": {"AttributeName": "", "Enabled": True},
            },
            "1 validation error detected: Value '' at 'timeToLiveSpecification.attributeName' "
            "failed to satisfy constraint: Member must have length greater than or equal to 1",
        ),
        (
            "UpdateContinuousBackups",
            {"TableName": MISSING, "PointInTimeRecoverySpecification": {}},
            "1 validation error detected: Value null at "
            "'pointInTimeRecoverySpecification.pointInTimeRecoveryEnabled' failed to satisfy "
            "constraint: Member must not be null",
        ),
    ],
    ids=["ttl-empty-name", "pitr-no-flag"],
)
def test_control_plane_of_a_missing_table_validates_first(
    endpoint: str, operation: str, body: dict[str, Any], message: str
) -> None:
    assert refused(endpoint, operation, body) == message


def test_valid_control_plane_calls_of_a_missing_table_are_not_found(endpoint: str) -> None:
    ttl = {"TableName": MISSING, "TimeToLiveSpecification": {"AttributeName": "t", "Enabled": True}}
    assert raw_dynamodb(endpoint, "UpdateTimeToLive", ttl) == (400, TABLE_NOT_FOUND)
    for operation in ("DescribeTable", "DeleteTable", "DescribeTimeToLive"):
        assert raw_dynamodb(endpoint, operation, {"TableName": MISSING}) == (400, TABLE_NOT_FOUND)


def test_tag_resource_of_a_missing_table_checks_its_tags_first(endpoint: str) -> None:
    arn = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/{MISSING}"
    duplicate = [{"Key": "k", "Value": "1"}, {"Key": "k", "Value": "2"}]
    body = {"ResourceArn": arn, "Tags": duplicate}
    assert refused(endpoint, "TagResource", body) == (
        INVALID + "Duplicate tag keys found in the request"
    )
    many = [{"Key": f"k{n}", "Value": "v"} for n in range(51)]
    assert refused(endpoint, "TagResource", {"ResourceArn": arn, "Tags": many}) == (
        "The number of tags exceeds the limit of 50 tags per resource"
    )
    valid = {"ResourceArn": arn, "Tags": [{"Key": "k", "Value": "v"}]}
    assert raw_dynamodb(endpoint, "TagResource", valid) == (
        400,
        {
            "__type": f"{PKG}#ResourceNotFoundException",
            "message": f"Requested resource not found: ResourcArn: {arn} not found",
        },
    )


def eq(*values: Any) -> dict[str, Any]:
    return {"ComparisonOperator": "EQ", "AttributeValueList": list(values)}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            query(KeyConditions={"pk": eq({"S": "a"}, {"S": "b"})}),
            INVALID + "Invalid number of argument(s) for the EQ ComparisonOperator",
        ),
        (
            query(KeyConditions={"pk": eq({"N": "x"})}),
            "The parameter cannot be converted to a numeric value: x",
        ),
        (
            query(KeyConditions={"a": eq({"S": "a"}), "b": eq({"S": "b"}), "c": eq({"S": "c"})}),
            "Conditions can be of length 1 or 2 only",
        ),
    ],
    ids=["arity", "number", "three-conditions"],
)
def test_legacy_query_to_a_missing_table_validates_its_key_conditions_first(
    endpoint: str, body: dict[str, Any], message: str
) -> None:
    assert refused(endpoint, "Query", body) == message


def test_legacy_query_of_a_missing_index_may_name_more_conditions(endpoint: str) -> None:
    """An index's key may have up to 8 attributes: the number is checked against it."""
    conditions = {"a": eq({"S": "a"}), "b": eq({"S": "b"}), "c": eq({"S": "c"})}
    body = query(IndexName="by-abc", KeyConditions=conditions)
    assert raw_dynamodb(endpoint, "Query", body) == (400, NOT_FOUND)


@pytest.mark.parametrize(
    ("members", "message"),
    [
        ({"GlobalSecondaryIndexes": []}, INVALID + "List of GlobalSecondaryIndexes is empty"),
        ({"LocalSecondaryIndexes": []}, INVALID + "List of LocalSecondaryIndexes is empty"),
    ],
    ids=["gsi", "lsi"],
)
def test_create_table_refuses_an_empty_index_list_before_the_name_is_taken(
    endpoint: str, make_table: Any, members: dict[str, Any], message: str
) -> None:
    """Also for a hash-only table (the LSI list's emptiness is checked before its need
    of a range key) and for a name already taken (validation before ResourceInUse)."""
    table = make_table()
    for name in (table, table + "-new"):
        body = {
            "TableName": name,
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
            "BillingMode": "PAY_PER_REQUEST",
            **members,
        }
        assert refused(endpoint, "CreateTable", body) == message
