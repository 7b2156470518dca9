"""The AWS JSON 1.0 wire as a client sees it (SPEC 1): routing, error shapes, headers,
size limit, the region namespace and the Coral validation messages."""

from __future__ import annotations

import json
import re
import socket
import urllib.error
import urllib.request
import zlib
from typing import Any
from urllib.parse import urlparse

import pytest
from botocore.exceptions import ClientError
from conftest import make_client, raw_call

DDB = "DynamoDB_20120810."
STREAMS = "DynamoDBStreams_20120810."
CONTENT_TYPE = "application/x-amz-json-1.0"
UNKNOWN = "com.amazon.coral.service#UnknownOperationException"


def unknown_operation(message: str) -> dict[str, str]:
    """AWS sends no message; the emulator says which operation it did not know."""
    return {"__type": UNKNOWN, "message": message}


NO_TARGET = unknown_operation("The request names no operation (no X-Amz-Target)")
SERIALIZATION = "com.amazon.coral.service#SerializationException"
VALIDATION = "com.amazon.coral.validate#ValidationException"
REQUEST_ID = re.compile(r"[A-Z0-9]{52}")


def _headers(headers: dict[str, str]) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


def check_aws_headers(headers: dict[str, str], body: bytes) -> None:
    """Every AWS response: content type, a DynamoDB-style request id, a correct CRC32."""
    lowered = _headers(headers)
    assert lowered["content-type"] == CONTENT_TYPE
    assert REQUEST_ID.fullmatch(lowered["x-amzn-requestid"])
    assert lowered["x-amz-crc32"] == str(zlib.crc32(body) & 0xFFFFFFFF)
    assert lowered["content-length"] == str(len(body))


def call(endpoint: str, target: str | None, body: Any, **headers: str) -> tuple[int, Any]:
    raw = body if isinstance(body, (bytes, str)) else json.dumps(body)
    status, response_headers, payload = raw_call(endpoint, target, raw, headers or None)
    check_aws_headers(response_headers, payload)
    return status, json.loads(payload) if payload else None


def sigv4(region: str) -> str:
    return (
        f"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/{region}/dynamodb/aws4_request, "
        "SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=abc"
    )


def create_body(name: str) -> dict[str, Any]:
    return {
        "TableName": name,
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "BillingMode": "PAY_PER_REQUEST",
    }


# -- routing ---------------------------------------------------------------------------------


def test_dynamodb_prefix_routes(endpoint: str) -> None:
    status, body = call(endpoint, DDB + "ListTables", {})
    assert status == 200
    assert isinstance(body["TableNames"], list)


def test_streams_prefix_routes(endpoint: str) -> None:
    status, body = call(endpoint, STREAMS + "ListStreams", {})
    assert status == 200
    assert isinstance(body["Streams"], list)


@pytest.mark.parametrize(
    "target",
    [
        DDB + "NoSuchOperation",
        STREAMS + "ListTables",  # a DynamoDB operation under the Streams prefix
        DDB + "ListStreams",  # a Streams operation under the DynamoDB prefix
        "DynamoDB_20111205.ListTables",
        "ListTables",
        "",
        DDB,
        "dynamodb_20120810.ListTables",
    ],
)
def test_unknown_target(endpoint: str, target: str) -> None:
    status, body = call(endpoint, target, {})
    expected = unknown_operation(f"Unknown operation {target}") if target else NO_TARGET
    assert (status, body) == (400, expected)


def test_missing_target(endpoint: str) -> None:
    status, body = call(endpoint, None, {})
    assert (status, body) == (400, NO_TARGET)


def test_unknown_target_wins_over_a_bad_body(endpoint: str) -> None:
    status, body = call(endpoint, DDB + "Nope", b"this is not json")
    assert (status, body) == (400, unknown_operation("Unknown operation DynamoDB_20120810.Nope"))


@pytest.mark.parametrize(
    "operation", ["ImportTable", "DescribeImport", "DescribeContributorInsights"]
)
def test_a_real_operation_that_is_not_implemented(endpoint: str, operation: str) -> None:
    """Issue 12, defect 9: the message tells a typo from an operation not implemented."""
    status, body = call(endpoint, DDB + operation, {})
    assert (status, body) == (
        400,
        unknown_operation(f"The operation {DDB}{operation} is not implemented by this emulator"),
    )


def test_boto3_sees_the_unknown_operation(ddb: Any, endpoint: str) -> None:
    """Another JSON API's client pointed at the emulator: an AWS error, with its name."""
    import boto3

    sqs = boto3.client(
        "sqs",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    with pytest.raises(ClientError) as info:
        sqs.list_queues()
    assert info.value.response["Error"]["Code"] == "UnknownOperationException"
    assert info.value.response["Error"]["Message"] == "Unknown operation AmazonSQS.ListQueues"
    with pytest.raises(ClientError) as info:
        ddb.list_imports()
    assert info.value.response["Error"]["Code"] == "UnknownOperationException"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/2018-10-31/layers"),  # a Lambda path no emulator route serves
        ("GET", "/2099-01-01/things/x"),
        ("POST", "/some/path"),
        ("DELETE", "/no/such"),
        ("PUT", "/2099-12-31/nope/x"),
    ],
)
def test_unknown_paths_get_an_aws_error(endpoint: str, method: str, path: str) -> None:
    request = urllib.request.Request(endpoint + path, data=b"{}", method=method)
    try:
        urllib.request.urlopen(request, timeout=10)
    except urllib.error.HTTPError as error:
        status, headers, payload = error.code, dict(error.headers), error.read()
    assert status == 404
    lowered = {k.lower(): v for k, v in headers.items()}
    assert lowered["x-amzn-errortype"] == "UnknownOperationException"
    assert json.loads(payload) == unknown_operation(f"No operation is served at {method} {path}")
    check_aws_headers(headers, payload)


def test_an_unknown_lambda_route_gets_lambdas_error(endpoint: str) -> None:
    """Under the Lambda API's prefix the Lambda REST API answers: its error shape."""
    request = urllib.request.Request(endpoint + "/2015-03-31/nope/x", data=b"{}", method="PUT")
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(request, timeout=10)
    assert error.value.code == 404
    assert error.value.headers["x-amzn-ErrorType"] == "UnknownOperationException"
    assert json.loads(error.value.read()) == {
        "Type": "User",
        "message": "No Lambda operation is PUT /2015-03-31/nope/x",
    }


def test_boto3_rest_client_on_an_unknown_path(endpoint: str) -> None:
    import boto3

    lambda_client = boto3.client(
        "lambda",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    with pytest.raises(ClientError) as info:
        lambda_client.list_layers()
    assert info.value.response["Error"]["Code"] == "UnknownOperationException"
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_a_json_call_on_another_path_is_routed_by_its_target(endpoint: str) -> None:
    """An endpoint URL with a path (http://host:port/ddb): the target still decides."""
    request = urllib.request.Request(
        endpoint + "/ddb",
        data=b"{}",
        method="POST",
        headers={
            "Content-Type": "application/x-amz-json-1.0",
            "X-Amz-Target": DDB + "ListTables",
        },
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert "TableNames" in json.loads(response.read())


# -- body parsing ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [b"not json", b"{", b'{"TableName": "abc",}', b"\xff\xfe", b"{'a': 1}", b"{}{}"],
    ids=["text", "truncated", "trailing-comma", "bad-utf8", "single-quotes", "two-objects"],
)
def test_body_not_json(endpoint: str, body: bytes) -> None:
    status, answer = call(endpoint, DDB + "ListTables", body)
    assert status == 400
    assert answer["__type"] == SERIALIZATION


@pytest.mark.parametrize("body", [b"[]", b"[1, 2]", b'"text"', b"42", b"true"])
def test_body_not_an_object(endpoint: str, body: bytes) -> None:
    status, answer = call(endpoint, DDB + "DescribeTable", body)
    assert status == 400
    assert answer["__type"] == SERIALIZATION


def test_json_array_to_streams(endpoint: str) -> None:
    status, answer = call(endpoint, STREAMS + "ListStreams", b"[]")
    assert status == 400
    assert answer["__type"] == SERIALIZATION


def test_wrong_member_type_is_serialization_error(endpoint: str) -> None:
    status, answer = call(endpoint, DDB + "ListTables", {"Limit": "ten"})
    assert status == 400
    assert answer["__type"] == SERIALIZATION
    status, answer = call(endpoint, DDB + "DescribeTable", {"TableName": ["abc"]})
    assert status == 400
    assert answer["__type"] == SERIALIZATION


# -- request size ----------------------------------------------------------------------------

#: Issue 12, defect 7: a 413 says what happened, in AWS's error shape.
TOO_LARGE = {
    "__type": "com.amazon.coral.validate#ValidationException",
    "message": "Request size exceeds the maximum allowed size of 16777216 bytes",
}


def test_body_over_16_mb_is_413(endpoint: str) -> None:
    body = b'{"TableName":"' + b"a" * (16 * 1024 * 1024) + b'"}'
    status, headers, payload = raw_call(endpoint, DDB + "DescribeTable", body)
    assert status == 413
    check_aws_headers(headers, payload)
    assert json.loads(payload) == TOO_LARGE


def test_body_over_16_mb_without_content_length_is_413(endpoint: str) -> None:
    """A chunked upload (no Content-Length) is cut off as soon as it passes the limit."""
    parsed = urlparse(endpoint)
    assert parsed.hostname is not None and parsed.port is not None
    chunk = b"a" * (1024 * 1024)
    with socket.create_connection((parsed.hostname, parsed.port), timeout=30) as sock:
        sock.sendall(
            b"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: DynamoDB_20120810.ListTables\r\n"
            b"Content-Type: application/x-amz-json-1.0\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        try:
            for _ in range(17):
                sock.sendall(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
            sock.sendall(b"0\r\n\r\n")
        except OSError:
            pass  # the server may close as soon as it has answered
        response = sock.recv(65536)
        while b"\r\n\r\n" not in response or not response.endswith(b"}"):
            more = sock.recv(65536)
            if not more:
                break
            response += more
    assert response.startswith(b"HTTP/1.1 413 ")
    assert json.loads(response.partition(b"\r\n\r\n")[2]) == TOO_LARGE


def test_body_just_under_16_mb_is_parsed(endpoint: str) -> None:
    head = b'{"TableName":"no-such-table-16mb","x":"'
    body = head + b"p" * (16 * 1024 * 1024 - len(head) - 2) + b'"}'
    assert len(body) == 16 * 1024 * 1024
    status, answer = call(endpoint, DDB + "DescribeTable", body)
    assert status == 400
    assert answer["__type"] == "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException"


# -- response headers ------------------------------------------------------------------------


def test_headers_on_success(endpoint: str) -> None:
    status, headers, payload = raw_call(endpoint, DDB + "ListTables", b"{}")
    assert status == 200
    check_aws_headers(headers, payload)


def test_headers_on_errors(endpoint: str) -> None:
    for target, body in [
        (DDB + "Nope", b"{}"),
        (DDB + "ListTables", b"nope"),
        (DDB + "DescribeTable", b"{}"),
        (DDB + "DescribeTable", b'{"TableName":"no-such-table-here"}'),
        (STREAMS + "GetRecords", b'{"ShardIterator":"garbage"}'),
    ]:
        status, headers, payload = raw_call(endpoint, target, body)
        assert status == 400
        check_aws_headers(headers, payload)
        assert "__type" in json.loads(payload)


def test_request_ids_differ(endpoint: str) -> None:
    ids = {_headers(raw_call(endpoint, DDB + "ListTables", b"{}")[1])["x-amzn-requestid"]}
    ids |= {_headers(raw_call(endpoint, DDB + "ListTables", b"{}")[1])["x-amzn-requestid"]}
    assert len(ids) == 2


def test_crc32_over_a_non_ascii_body(ddb: Any, make_table: Any, endpoint: str) -> None:
    name = make_table()
    ddb.put_item(TableName=name, Item={"pk": {"S": "ü"}, "v": {"S": "日本語 ✓ \U0001f600"}})
    status, headers, payload = raw_call(
        endpoint,
        DDB + "GetItem",
        json.dumps({"TableName": name, "Key": {"pk": {"S": "ü"}}}),
    )
    assert status == 200
    check_aws_headers(headers, payload)
    assert json.loads(payload)["Item"]["v"] == {"S": "日本語 ✓ \U0001f600"}


def test_boto3_validates_crc32(ddb: Any) -> None:
    """boto3's dynamodb client checks x-amz-crc32 (legacy retry mode); calls must succeed."""
    response = ddb.list_tables()
    headers = response["ResponseMetadata"]["HTTPHeaders"]
    assert "x-amz-crc32" in headers
    assert REQUEST_ID.fullmatch(response["ResponseMetadata"]["RequestId"])


def test_get_root_is_200(endpoint: str) -> None:
    with urllib.request.urlopen(endpoint + "/", timeout=5) as response:
        assert response.status == 200


def test_content_type_application_json_is_accepted(endpoint: str) -> None:
    status, headers, payload = raw_call(
        endpoint, DDB + "ListTables", b"{}", {"Content-Type": "application/json"}
    )
    assert status == 200
    check_aws_headers(headers, payload)


# -- region namespace ------------------------------------------------------------------------


def test_region_selects_the_namespace(endpoint: str, table_name: str) -> None:
    west = make_client(endpoint, region="us-west-2")
    east = make_client(endpoint, region="us-east-1")
    description = west.create_table(**create_body(table_name))["TableDescription"]
    assert description["TableArn"].startswith("arn:aws:dynamodb:us-west-2:000000000000:table/")
    assert table_name in _all_tables(west)
    assert table_name not in _all_tables(east)
    with pytest.raises(ClientError) as info:
        east.describe_table(TableName=table_name)
    assert info.value.response["Error"] == {
        "Code": "ResourceNotFoundException",
        "Message": f"Requested resource not found: Table: {table_name} not found",
    }
    # Same name in another region is a different table.
    east.create_table(**create_body(table_name))
    east.put_item(TableName=table_name, Item={"pk": {"S": "east"}})
    assert "Item" not in west.get_item(TableName=table_name, Key={"pk": {"S": "east"}})
    assert east.get_item(TableName=table_name, Key={"pk": {"S": "east"}})["Item"] == {
        "pk": {"S": "east"}
    }


def _all_tables(client: Any) -> list[str]:
    names: list[str] = []
    for page in client.get_paginator("list_tables").paginate():
        names.extend(page["TableNames"])
    return names


def test_no_authorization_uses_the_default_region(endpoint: str, table_name: str) -> None:
    status, body = call(endpoint, DDB + "CreateTable", create_body(table_name))
    assert status == 200
    assert body["TableDescription"]["TableArn"] == (
        f"arn:aws:dynamodb:us-east-1:000000000000:table/{table_name}"
    )
    assert table_name in _all_tables(make_client(endpoint, region="us-east-1"))


def test_raw_sigv4_header_selects_the_region(endpoint: str, table_name: str) -> None:
    status, body = call(
        endpoint, DDB + "CreateTable", create_body(table_name), Authorization=sigv4("eu-west-1")
    )
    assert status == 200
    assert body["TableDescription"]["TableArn"].startswith("arn:aws:dynamodb:eu-west-1:")
    assert table_name in _all_tables(make_client(endpoint, region="eu-west-1"))
    assert table_name not in _all_tables(make_client(endpoint, region="us-east-1"))
    status, body = call(endpoint, DDB + "DescribeTable", {"TableName": table_name})
    assert status == 400


def test_unparseable_authorization_uses_the_default_region(endpoint: str, table_name: str) -> None:
    status, body = call(
        endpoint, DDB + "CreateTable", create_body(table_name), Authorization="Bearer x"
    )
    assert status == 200
    assert body["TableDescription"]["TableArn"].startswith("arn:aws:dynamodb:us-east-1:")


def test_any_credentials_are_accepted(endpoint: str) -> None:
    import boto3

    client = boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name="ap-south-1",
        aws_access_key_id="AKIAANYTHING",
        aws_secret_access_key="whatever",
        aws_session_token="token",
    )
    assert "TableNames" in client.list_tables()


# -- Coral validation ------------------------------------------------------------------------


def test_describe_table_without_table_name(endpoint: str, ddb: Any) -> None:
    status, body = call(endpoint, DDB + "DescribeTable", {})
    assert status == 400
    assert body == {
        "__type": VALIDATION,
        "message": "1 validation error detected: Value null at 'tableName' failed to satisfy "
        "constraint: Member must not be null",
    }


def test_list_tables_limit_zero(endpoint: str) -> None:
    status, body = call(endpoint, DDB + "ListTables", {"Limit": 0})
    assert (status, body) == (
        400,
        {
            "__type": VALIDATION,
            "message": "1 validation error detected: Value '0' at 'limit' failed to satisfy "
            "constraint: Member must have value greater than or equal to 1",
        },
    )


def test_list_tables_limit_over_100(endpoint: str) -> None:
    status, body = call(endpoint, DDB + "ListTables", {"Limit": 101})
    assert (status, body) == (
        400,
        {
            "__type": VALIDATION,
            "message": "1 validation error detected: Value '101' at 'limit' failed to satisfy "
            "constraint: Member must have value less than or equal to 100",
        },
    )


def test_scan_limit_zero(endpoint: str, make_table: Any) -> None:
    name = make_table()
    status, body = call(endpoint, DDB + "Scan", {"TableName": name, "Limit": 0})
    assert (status, body) == (
        400,
        {
            "__type": VALIDATION,
            "message": "1 validation error detected: Value '0' at 'limit' failed to satisfy "
            "constraint: Member must have value greater than or equal to 1",
        },
    )


def test_list_streams_limit_zero(endpoint: str) -> None:
    status, body = call(endpoint, STREAMS + "ListStreams", {"Limit": 0})
    assert (status, body) == (
        400,
        {
            "__type": VALIDATION,
            "message": "1 validation error detected: Value '0' at 'limit' failed to satisfy "
            "constraint: Member must have value greater than or equal to 1",
        },
    )


def test_several_errors_joined(endpoint: str) -> None:
    status, body = call(endpoint, DDB + "ListTables", {"ExclusiveStartTableName": "ab", "Limit": 0})
    assert status == 400
    assert body == {
        "__type": VALIDATION,
        "message": "2 validation errors detected: "
        "Value 'ab' at 'exclusiveStartTableName' failed to satisfy constraint: "
        "Member must have length greater than or equal to 3; "
        "Value '0' at 'limit' failed to satisfy constraint: "
        "Member must have value greater than or equal to 1",
    }


def test_several_errors_on_nested_members(endpoint: str) -> None:
    status, body = call(
        endpoint,
        DDB + "CreateTable",
        {
            "TableName": "abc-nested-errors",
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
            "BillingMode": "PAY_PER_REQUEST",
            "GlobalSecondaryIndexes": [
                {"IndexName": "g1", "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}]}
            ],
        },
    )
    assert status == 400
    assert body == {
        "__type": VALIDATION,
        "message": "2 validation errors detected: "
        "Value 'g1' at 'globalSecondaryIndexes.1.member.indexName' failed to satisfy "
        "constraint: Member must have length greater than or equal to 3; "
        "Value null at 'globalSecondaryIndexes.1.member.projection' failed to satisfy "
        "constraint: Member must not be null",
    }


def test_validation_before_existence(endpoint: str) -> None:
    """Shape checks run before the table is looked up (SPEC 5.9)."""
    status, body = call(
        endpoint,
        DDB + "GetItem",
        {"TableName": "no-such-table-x", "Key": {"pk": {"S": "a"}}, "ReturnConsumedCapacity": "X"},
    )
    assert status == 400
    assert body == {
        "__type": VALIDATION,
        "message": "1 validation error detected: Value 'X' at 'returnConsumedCapacity' failed "
        "to satisfy constraint: Member must satisfy enum value set: [INDEXES, TOTAL, NONE]",
    }


def test_boto3_surfaces_validation_message(ddb: Any) -> None:
    with pytest.raises(ClientError) as info:
        ddb.describe_table(TableName="a!b")
    assert info.value.response["Error"] == {
        "Code": "ValidationException",
        "Message": "1 validation error detected: Value 'a!b' at 'tableName' failed to satisfy "
        "constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+",
    }
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_table_name_longer_than_255(ddb: Any) -> None:
    with pytest.raises(ClientError) as info:
        ddb.describe_table(TableName="a" * 256)
    assert info.value.response["Error"] == {
        "Code": "ValidationException",
        "Message": f"1 validation error detected: Value '{'a' * 256}' at 'tableName' failed to "
        "satisfy constraint: Member must have length less than or equal to 255",
    }
