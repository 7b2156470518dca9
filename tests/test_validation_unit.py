"""Unit tests for the model-driven request validator (emulator/validation.py).

They pin AWS's Coral wording (SPEC 5.9), member paths, JSON-type handling and the
streams limits botocore's model does not carry (SPEC 2.2, 2.5).
"""

from __future__ import annotations

import contextlib
from typing import Any

import pytest

from emulator.errors import SerializationException, UnknownOperationException, ValidationException
from emulator.validation import operation_names, render_value, validate_request

PREFIX_1 = "1 validation error detected: "
STREAM_ARN = "arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/2024-01-01T00:00:00.000"


def _validation_message(service: str, operation: str, body: Any) -> str:
    with pytest.raises(ValidationException) as info:
        validate_request(service, operation, body)
    assert info.value.message is not None
    return info.value.message


def _serialization_message(service: str, operation: str, body: Any) -> str:
    with pytest.raises(SerializationException) as info:
        validate_request(service, operation, body)
    assert info.value.message is not None
    return info.value.message


def test_missing_required_member() -> None:
    message = _validation_message("dynamodb", "GetItem", {"Key": {}})
    assert message == (
        "1 validation error detected: Value null at 'tableName' failed to satisfy constraint: "
        "Member must not be null"
    )


def test_explicit_null_counts_as_missing() -> None:
    message = _validation_message("dynamodb", "GetItem", {"TableName": None, "Key": {}})
    assert "Value null at 'tableName'" in message
    message = _validation_message("dynamodb", "DescribeTable", {"TableName": None})
    assert message == "The parameter 'TableName' is required but was not present in the request"


def test_bad_table_name_reports_pattern_then_length() -> None:
    message = _validation_message("dynamodb", "Scan", {"TableName": "a!"})
    assert message == (
        "2 validation errors detected: "
        "Value 'a!' at 'tableName' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; "
        "Value 'a!' at 'tableName' failed to satisfy constraint: "
        "Member must have length greater than or equal to 3"
    )


def test_streams_table_name_uses_model_pattern() -> None:
    message = _validation_message("dynamodbstreams", "ListStreams", {"TableName": "a!"})
    assert message.startswith("2 validation errors detected: ")


def test_string_too_long() -> None:
    message = _validation_message("dynamodb", "Scan", {"TableName": "x" * 256})
    assert message == (
        PREFIX_1 + f"Value '{'x' * 256}' at 'tableName' failed to satisfy constraint: "
        "Member must have length less than or equal to 255"
    )


def test_scan_limit_zero() -> None:
    message = _validation_message("dynamodb", "Scan", {"TableName": "tb1", "Limit": 0})
    assert message == (
        PREFIX_1 + "Value '0' at 'limit' failed to satisfy constraint: "
        "Member must have value greater than or equal to 1"
    )


def test_bad_return_values_enum() -> None:
    body = {"TableName": "tbl", "Item": {"pk": {"S": "a"}}, "ReturnValues": "EVERYTHING"}
    message = _validation_message("dynamodb", "PutItem", body)
    assert message == (
        PREFIX_1 + "Value 'EVERYTHING' at 'returnValues' failed to satisfy constraint: "
        "Member must satisfy enum value set: [ALL_NEW, UPDATED_OLD, ALL_OLD, NONE, UPDATED_NEW]"
    )


def test_nested_list_path_for_key_schema() -> None:
    body = {
        "TableName": "tbl",
        "KeySchema": [
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "SIDEWAYS"},
        ],
    }
    message = _validation_message("dynamodb", "CreateTable", body)
    assert message == (
        PREFIX_1 + "Value 'SIDEWAYS' at 'keySchema.2.member.keyType' failed to satisfy "
        "constraint: Member must satisfy enum value set: [HASH, RANGE]"
    )


def test_several_errors_in_model_order_and_nested_structure_path() -> None:
    body = {
        "ProvisionedThroughput": {"ReadCapacityUnits": 0},
        "KeySchema": [{"AttributeName": "pk", "KeyType": "NOPE"}],
        "TableName": "tbl",
    }
    message = _validation_message("dynamodb", "CreateTable", body)
    assert message.startswith("3 validation errors detected: ")
    errors = message.removeprefix("3 validation errors detected: ").split("; ")
    assert [e.split(" at ")[1].split("'")[1] for e in errors] == [
        "keySchema.1.member.keyType",
        "provisionedThroughput.readCapacityUnits",
        "provisionedThroughput.writeCapacityUnits",
    ]


def test_list_length_counts_elements() -> None:
    message = _validation_message("dynamodb", "CreateTable", {"TableName": "tbl", "KeySchema": []})
    assert message == (
        PREFIX_1 + "Value '[]' at 'keySchema' failed to satisfy constraint: "
        "Member must have length greater than or equal to 1"
    )


def test_map_length_and_map_value_path() -> None:
    message = _validation_message("dynamodb", "BatchWriteItem", {"RequestItems": {}})
    assert "Value '{}' at 'requestItems'" in message
    assert "Member must have length greater than or equal to 1" in message
    body = {"TableName": "tbl", "Item": {"pk": {"S": "a"}, "gone": None}}
    message = _validation_message("dynamodb", "PutItem", body)
    assert message == (
        PREFIX_1 + "Value null at 'item.gone.member' failed to satisfy constraint: "
        "Member must not be null"
    )


def test_transact_items_path() -> None:
    body = {"TransactItems": [{"Put": {"Item": {"pk": {"S": "a"}}}}]}
    message = _validation_message("dynamodb", "TransactWriteItems", body)
    assert "Value null at 'transactItems.1.member.put.tableName'" in message


def test_streams_get_records_limit_max() -> None:
    message = _validation_message(
        "dynamodbstreams", "GetRecords", {"ShardIterator": "it", "Limit": 1001}
    )
    assert message == (
        PREFIX_1 + "Value '1001' at 'limit' failed to satisfy constraint: "
        "Member must have value less than or equal to 1000"
    )


def test_streams_list_streams_limit_max() -> None:
    message = _validation_message("dynamodbstreams", "ListStreams", {"Limit": 101})
    assert message == (
        PREFIX_1 + "Value '101' at 'limit' failed to satisfy constraint: "
        "Member must have value less than or equal to 100"
    )
    validate_request("dynamodbstreams", "ListStreams", {"Limit": 100})


def test_streams_iterator_type_enum() -> None:
    body = {
        "StreamArn": STREAM_ARN,
        "ShardId": "shardId-00000001414562045508-2bac9cd2",
        "ShardIteratorType": "OLDEST",
    }
    message = _validation_message("dynamodbstreams", "GetShardIterator", body)
    assert "Value 'OLDEST' at 'shardIteratorType'" in message
    assert "[TRIM_HORIZON, LATEST, AT_SEQUENCE_NUMBER, AFTER_SEQUENCE_NUMBER" in message


# DynamoDB's deserialiser wording, as recorded against DynamoDB (dynalite's suite).
TO_INT = "cannot be converted to Integer"
STRUCT_OR_MAP = "Start of structure or map found where not expected"
FIELD = "Unexpected field type"
UNEXPECTED = "Unexpected value type in payload"
PKG = "com.amazonaws.dynamodb.v20120810"


@pytest.mark.parametrize(
    ("operation", "body", "expected"),
    [
        ("Scan", {"TableName": "tbl", "Limit": "5"}, f"STRING_VALUE {TO_INT}"),
        ("Scan", {"TableName": "tbl", "Limit": 1.5}, f"DECIMAL_VALUE {TO_INT}"),
        ("Scan", {"TableName": "tbl", "Limit": True}, f"TRUE_VALUE {TO_INT}"),
        ("Scan", {"TableName": "tbl", "Limit": False}, f"FALSE_VALUE {TO_INT}"),
        ("Scan", {"TableName": "tbl", "Limit": 2**40}, f"NUMBER_VALUE {TO_INT}"),
        (
            "Scan",
            {"TableName": "tbl", "Limit": []},
            "Unrecognized collection type class java.lang.Integer",
        ),
        (
            "Scan",
            {"TableName": "tbl", "ConsistentRead": "true"},
            "Unexpected token received from parser",
        ),
        (
            "Scan",
            {"TableName": "tbl", "ConsistentRead": 1},
            "NUMBER_VALUE cannot be converted to Boolean",
        ),
        ("Scan", {"TableName": 5}, "NUMBER_VALUE cannot be converted to String"),
        ("Scan", {"TableName": 34.5}, "DECIMAL_VALUE cannot be converted to String"),
        ("Scan", {"TableName": True}, "TRUE_VALUE cannot be converted to String"),
        ("Scan", {"TableName": ["tbl"]}, "Unrecognized collection type class java.lang.String"),
        ("Scan", {"TableName": {"n": "tbl"}}, STRUCT_OR_MAP),
        ("Scan", {"TableName": "tbl", "AttributesToGet": "a"}, FIELD),
        ("Scan", {"TableName": "tbl", "AttributesToGet": {}}, STRUCT_OR_MAP),
        ("CreateTable", {"TableName": "tbl", "KeySchema": "pk"}, FIELD),
        ("CreateTable", {"TableName": "tbl", "KeySchema": {"a": 1}}, STRUCT_OR_MAP),
        ("CreateTable", {"TableName": "tbl", "KeySchema": [5]}, UNEXPECTED),
        ("CreateTable", {"TableName": "tbl", "ProvisionedThroughput": 1}, FIELD),
        (
            "CreateTable",
            {"TableName": "tbl", "ProvisionedThroughput": [1]},
            f"Unrecognized collection type class {PKG}.ProvisionedThroughput",
        ),
        ("PutItem", {"TableName": "tbl", "Item": {"pk": "a"}}, UNEXPECTED),
        ("PutItem", {"TableName": "tbl", "Item": 5}, FIELD),
        (
            "PutItem",
            {"TableName": "tbl", "Item": [{"S": "a"}]},
            f"Unrecognized collection type java.util.Map<java.lang.String, {PKG}.AttributeValue>",
        ),
        (
            "BatchWriteItem",
            {"RequestItems": {"tbl": "x"}},
            "class sun.reflect.generics.reflectiveObjects.ParameterizedTypeImpl cannot be cast to "
            "class java.lang.Class (sun.reflect.generics.reflectiveObjects.ParameterizedTypeImpl "
            "and java.lang.Class are in module java.base of loader 'bootstrap')",
        ),
        (
            "BatchWriteItem",
            {"RequestItems": {"tbl": [[]]}},
            f"Unrecognized collection type class {PKG}.WriteRequest",
        ),
        ("Scan", ["tbl"], f"Unrecognized collection type class {PKG}.ScanInput"),
    ],
)
def test_wrong_json_types_are_serialization_errors(
    operation: str, body: Any, expected: str
) -> None:
    assert _serialization_message("dynamodb", operation, body) == expected


def test_serialization_error_wins_over_validation_errors() -> None:
    body = {"Limit": 0, "ConsistentRead": "yes"}  # missing TableName, bad Limit, bad type
    _serialization_message("dynamodb", "Scan", body)


def test_valid_requests_pass() -> None:
    validate_request(
        "dynamodb",
        "PutItem",
        {
            "TableName": "my-table",
            "Item": {"pk": {"S": "a"}, "n": {"N": "1"}, "l": {"L": [{"M": {"x": {"NULL": True}}}]}},
            "ConditionExpression": "attribute_not_exists(pk)",
            "ExpressionAttributeNames": {"#n": "n"},
            "ExpressionAttributeValues": {":v": {"S": "x"}},
            "ReturnValues": "ALL_OLD",
            "SomethingAwsAddsLater": {"ignored": True},
        },
    )
    validate_request("dynamodb", "ListTables", {})
    validate_request("dynamodb", "DescribeTable", {"TableName": "arn:aws:dynamodb:x:1:table/t"})
    validate_request(
        "dynamodbstreams",
        "DescribeStream",
        {"StreamArn": "arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/x", "Limit": 100},
    )
    validate_request("dynamodbstreams", "GetRecords", {"ShardIterator": "it", "Limit": 1000})


def test_attribute_values_are_not_walked() -> None:
    # The domain layer owns AttributeValue checks; the shape layer only wants an object.
    body = {"TableName": "tbl", "Item": {"pk": {"S": 5, "BOGUS": []}}}
    validate_request("dynamodb", "PutItem", body)


def test_timestamps_accept_numbers() -> None:
    body = {
        "StreamArn": "arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/x",
        "ShardId": "shardId-00000001414562045508-2bac9cd2",
        "ShardIteratorType": "AT_TIMESTAMP",
        "Timestamp": 1700000000.5,
    }
    validate_request("dynamodbstreams", "GetShardIterator", body)
    body["Timestamp"] = "yesterday"
    _serialization_message("dynamodbstreams", "GetShardIterator", body)


def test_unknown_operation() -> None:
    with pytest.raises(UnknownOperationException):
        validate_request("dynamodb", "DropDatabase", {})


def test_operation_names() -> None:
    assert operation_names("dynamodbstreams") == frozenset(
        {"ListStreams", "DescribeStream", "GetShardIterator", "GetRecords"}
    )
    names = operation_names("dynamodb")
    assert {"PutItem", "CreateTable", "TransactWriteItems", "UpdateTimeToLive"} <= names
    assert "GetRecords" not in names


def test_render_value() -> None:
    assert render_value(None) == "null"
    assert render_value("abc") == "'abc'"
    assert render_value(5) == "'5'"
    assert render_value(True) == "'true'"
    assert render_value(["a", "b"]) == "'[a, b]'"
    assert render_value({"k": "v"}) == "'{k=v}'"


def test_every_operation_compiles() -> None:
    for service in ("dynamodb", "dynamodbstreams"):
        for operation in operation_names(service):
            with contextlib.suppress(ValidationException):
                validate_request(service, operation, {})
