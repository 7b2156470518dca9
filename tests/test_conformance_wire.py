"""Issue 18, the wire: compressed request bodies (item 2), validation before the table
lookup (item 3), SerializationException bodies and Coral's constraint messages (item 4),
and the HTTP surface DynamoDB has besides its operations (item 6: CORS, GET /,
DescribeEndpoints, DescribeLimits) - each asserted on the exact wire answer of the real
server, through raw HTTP and boto3.

Where the expected answer comes from: DynamoDB's answers recorded by test suites run
against it (dynalite's, ScyllaDB Alternator's compressed-request tests), quoted in the
emulator's docstrings.
"""

from __future__ import annotations

import gzip
import http.client
import json
import zlib
from typing import Any
from urllib.parse import urlparse

import boto3
import pytest
from botocore.config import Config as BotoConfig
from botocore.exceptions import ClientError
from conftest import make_client, raw_call, start_server
from test_wire import DDB, REQUEST_ID, SERIALIZATION, STREAMS, VALIDATION, check_aws_headers

PKG = "com.amazonaws.dynamodb.v20120810"
INTERNAL = f"{PKG}#InternalServerError"
EXPOSED = "x-amzn-RequestId,x-amzn-ErrorType,x-amzn-ErrorMessage,Date"
NOT_FOUND = {
    "__type": f"{PKG}#ResourceNotFoundException",
    "message": "Requested resource not found",
}


def post(endpoint: str, target: str, body: bytes, **headers: str) -> tuple[int, Any]:
    """A raw POST whose answer carries AWS's headers; the JSON body decoded."""
    status, response_headers, payload = raw_call(endpoint, target, body, headers or None)
    check_aws_headers(response_headers, payload)
    return status, json.loads(payload) if payload else None


def request(
    endpoint: str, method: str, path: str = "/", headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    """Any method, without urllib's opinions (it refuses OPTIONS bodies, adds headers)."""
    url = urlparse(endpoint)
    connection = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=10)
    try:
        connection.request(method, path, headers=headers or {})
        response = connection.getresponse()
        lowered = {name.lower(): value for name, value in response.getheaders()}
        return response.status, lowered, response.read()
    finally:
        connection.close()


def put_body(table: str, key: str, **extra: Any) -> bytes:
    item = {"pk": {"S": key}, **{name: {"S": value} for name, value in extra.items()}}
    return json.dumps({"TableName": table, "Item": item}).encode()


def get_item(ddb: Any, table: str, key: str) -> dict[str, Any] | None:
    found: dict[str, Any] | None = ddb.get_item(TableName=table, Key={"pk": {"S": key}}).get("Item")
    return found


# -- item 2: compressed request bodies ----------------------------------------------------


def test_gzip_body_is_decompressed(endpoint: str, ddb: Any, make_table: Any) -> None:
    table = make_table()
    body = gzip.compress(put_body(table, "g1", v="zipped"))
    assert post(endpoint, DDB + "PutItem", body, **{"Content-Encoding": "gzip"}) == (200, {})
    assert get_item(ddb, table, "g1") == {"pk": {"S": "g1"}, "v": {"S": "zipped"}}


def test_two_gzip_members_are_one_body(endpoint: str, ddb: Any, make_table: Any) -> None:
    table = make_table()
    raw = put_body(table, "g2", v="halves")
    body = gzip.compress(raw[:10]) + gzip.compress(raw[10:])
    assert post(endpoint, DDB + "PutItem", body, **{"Content-Encoding": "gzip"}) == (200, {})
    assert get_item(ddb, table, "g2") == {"pk": {"S": "g2"}, "v": {"S": "halves"}}


def test_bytes_after_the_gzip_member_are_ignored(endpoint: str, ddb: Any, make_table: Any) -> None:
    """DynamoDB accepts (and ignores) trailing bytes that do not start another member."""
    table = make_table()
    body = gzip.compress(put_body(table, "g3")) + b"junk"
    assert post(endpoint, DDB + "PutItem", body, **{"Content-Encoding": "gzip"}) == (200, {})
    assert get_item(ddb, table, "g3") == {"pk": {"S": "g3"}}


@pytest.mark.parametrize("wbits", [zlib.MAX_WBITS, -zlib.MAX_WBITS], ids=["zlib", "raw"])
def test_deflate_body_is_decompressed(endpoint: str, ddb: Any, make_table: Any, wbits: int) -> None:
    table = make_table()
    packer = zlib.compressobj(wbits=wbits)
    body = packer.compress(put_body(table, "d1")) + packer.flush()
    assert post(endpoint, DDB + "PutItem", body, **{"Content-Encoding": "deflate"}) == (200, {})
    assert get_item(ddb, table, "d1") == {"pk": {"S": "d1"}}


def test_identity_encoding_is_the_body_itself(endpoint: str) -> None:
    status, answer = post(endpoint, DDB + "ListTables", b"{}", **{"Content-Encoding": "identity"})
    assert status == 200 and "TableNames" in answer


@pytest.mark.parametrize(
    ("encoding", "body"),
    [
        ("gzip", b'{"TableName": "not-compressed"}'),
        ("gzip", gzip.compress(b'{"TableName": "cut"}')[:-1]),
        ("gzip", b""),
        ("deflate", b"not deflate at all"),
        ("br", b"{}"),
        ("garbage", b"{}"),
    ],
    ids=["plain-json", "truncated", "empty", "bad-deflate", "brotli", "unknown"],
)
def test_undecodable_body_is_a_500(endpoint: str, encoding: str, body: bytes) -> None:
    """DynamoDB answers a body it cannot inflate (or an encoding it does not know) with
    HTTP 500; nothing is done."""
    status, answer = post(endpoint, DDB + "DescribeTable", body, **{"Content-Encoding": encoding})
    assert (status, answer) == (
        500,
        {
            "__type": INTERNAL,
            "message": f"The request body could not be decoded as Content-Encoding: {encoding}",
        },
    )


def test_broken_gzip_put_writes_nothing(endpoint: str, ddb: Any, make_table: Any) -> None:
    table = make_table()
    status, _ = post(
        endpoint, DDB + "PutItem", put_body(table, "nope"), **{"Content-Encoding": "gzip"}
    )
    assert status == 500
    assert get_item(ddb, table, "nope") is None


def test_size_limit_applies_after_decompression(endpoint: str) -> None:
    """17 MB of JSON that gzips to a few KB is still over 16 MB: the same 413."""
    inflated = b'{"TableName": "abc"' + b" " * (17 * 1024 * 1024) + b"}"
    body = gzip.compress(inflated)
    assert len(body) < 100_000
    status, answer = post(endpoint, DDB + "DescribeTable", body, **{"Content-Encoding": "gzip"})
    assert (status, answer) == (
        413,
        {
            "__type": VALIDATION,
            "message": "Request size exceeds the maximum allowed size of 16777216 bytes",
        },
    )


def test_exactly_16_mb_inflated_is_parsed(endpoint: str) -> None:
    prefix, suffix = b'{"TableName": "no-such-table-gz"', b"}"
    inflated = prefix + b" " * (16 * 1024 * 1024 - len(prefix) - len(suffix)) + suffix
    status, answer = post(
        endpoint, DDB + "DescribeTable", gzip.compress(inflated), **{"Content-Encoding": "gzip"}
    )
    assert status == 400
    assert answer["message"] == "Requested resource not found: Table: no-such-table-gz not found"


def test_boto3_request_compression_reaches_the_table(
    endpoint: str, ddb: Any, make_table: Any
) -> None:
    """boto3 compresses a request body with gzip when the operation's model asks for it
    (the test turns it on for PutItem, as SDK request compression would)."""
    table = make_table()
    client = compressing_client(endpoint)
    sent: list[str] = []
    client.meta.events.register(
        "before-send.dynamodb.PutItem",
        lambda request, **_: sent.append(request.headers.get("Content-Encoding", b"").decode()),
    )
    client.put_item(TableName=table, Item={"pk": {"S": "sdk"}, "n": {"N": "7"}})
    assert sent == ["gzip"]
    assert get_item(ddb, table, "sdk") == {"pk": {"S": "sdk"}, "n": {"N": "7"}}


def compressing_client(endpoint: str) -> Any:
    """A boto3 client that gzips every PutItem body, as SDK request compression does
    (the model's `requestcompression` trait, which DynamoDB's model does not set)."""
    # A session of its own: its model is not the one the other tests' clients share.
    client = boto3.session.Session().client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=BotoConfig(retries={"max_attempts": 1}, request_min_compression_size_bytes=1),
    )
    operation = client.meta.service_model._service_description["operations"]["PutItem"]
    operation["requestcompression"] = {"encodings": ["gzip"]}
    return client


def test_signed_compressed_request(ddb: Any) -> None:
    """With --auth sigv4 the signature covers the body as sent (compressed), as on AWS."""
    running = start_server("--auth", "sigv4")
    try:
        client = compressing_client(running.url)
        client.create_table(
            TableName="signed-gzip",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        client.put_item(TableName="signed-gzip", Item={"pk": {"S": "s"}})
        found = client.get_item(TableName="signed-gzip", Key={"pk": {"S": "s"}})
        assert found["Item"] == {"pk": {"S": "s"}}
    finally:
        running.stop()


# -- item 3: validation before the table lookup ------------------------------------------


@pytest.mark.parametrize(
    ("operation", "body", "message"),
    [
        (
            "GetItem",
            {"TableName": "no-such-table", "Key": {"pk": {"S": "a"}}, "ConsistentRead": 1},
            None,
        ),
        (
            "Query",
            {"TableName": "no-such-table", "Limit": 0, "KeyConditionExpression": "pk = :a"},
            "1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: "
            "Member must have value greater than or equal to 1",
        ),
        (
            "Scan",
            {"TableName": "no-such-table", "Select": "EVERYTHING"},
            "1 validation error detected: Value 'EVERYTHING' at 'select' failed to satisfy "
            "constraint: Member must satisfy enum value set: "
            "[SPECIFIC_ATTRIBUTES, COUNT, ALL_ATTRIBUTES, ALL_PROJECTED_ATTRIBUTES]",
        ),
        (
            "PutItem",
            {"TableName": "no-such-table"},
            "1 validation error detected: Value null at 'item' failed to satisfy constraint: "
            "Member must not be null",
        ),
        (
            "DeleteItem",
            {"TableName": "no-such-table", "Key": {"pk": {"S": "a"}}, "ReturnValues": "ALL_NEW"},
            "One or more parameter values were invalid: Return values set to invalid value",
        ),
        (
            "UpdateItem",
            {"TableName": "no-such-table", "Key": {"pk": {"S": "a"}}, "UpdateExpression": ""},
            "Invalid UpdateExpression: The expression can not be empty;",
        ),
        (
            "BatchWriteItem",
            {"RequestItems": {"no-such-table": [{"PutRequest": {"Item": {"a": {}}}}]}},
            "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes",
        ),
        (
            "GetItem",
            {
                "TableName": "no-such-table",
                "Key": {"pk": {"S": "a"}},
                "ProjectionExpression": "a,,b",
            },
            'Invalid ProjectionExpression: Syntax error; token: ",", near: ",,b"',
        ),
        (
            "BatchGetItem",
            {"RequestItems": {"no-such-table": {"Keys": [{"a": {"N": "x"}}]}}},
            "The parameter cannot be converted to a numeric value: x",
        ),
        (
            "DeleteItem",
            {"TableName": "no-such-table", "Key": {"pk": {"N": "1e999"}}},
            "Number overflow. Attempting to store a number with magnitude larger than "
            "supported range",
        ),
        (
            "Scan",
            {"TableName": "no-such-table", "FilterExpression": "a = "},
            'Invalid FilterExpression: Syntax error; token: "<EOF>", near: "= "',
        ),
    ],
    ids=[
        "get-type",
        "query-limit",
        "scan-select",
        "put-no-item",
        "delete-rv",
        "update-expr",
        "bwi",
        "get-projection",
        "bgi-number",
        "delete-number",
        "scan-filter",
    ],
)
def test_invalid_request_to_a_missing_table_is_a_validation_error(
    endpoint: str, operation: str, body: dict[str, Any], message: str | None
) -> None:
    status, answer = post(endpoint, DDB + operation, json.dumps(body).encode())
    assert status == 400
    if message is None:  # a type error wins over everything
        assert answer == {
            "__type": SERIALIZATION,
            "Message": "NUMBER_VALUE cannot be converted to Boolean",
        }
    else:
        assert answer["message"] == message
        assert answer["__type"].endswith("ValidationException")


def test_valid_request_to_a_missing_table_is_not_found(endpoint: str) -> None:
    body = {"TableName": "no-such-table", "Key": {"pk": {"S": "a"}}}
    assert post(endpoint, DDB + "GetItem", json.dumps(body).encode()) == (400, NOT_FOUND)


def test_bad_table_name_is_reported_with_the_other_errors(endpoint: str) -> None:
    """A data-plane TableName is one more member of the constraint list."""
    body = {"TableName": "a;", "ReturnConsumedCapacity": "hi", "AttributesToGet": []}
    status, answer = post(endpoint, DDB + "GetItem", json.dumps(body).encode())
    assert (status, answer) == (
        400,
        {
            "__type": VALIDATION,
            "message": "5 validation errors detected: "
            "Value 'a;' at 'tableName' failed to satisfy constraint: "
            "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; "
            "Value 'a;' at 'tableName' failed to satisfy constraint: "
            "Member must have length greater than or equal to 3; "
            "Value null at 'key' failed to satisfy constraint: Member must not be null; "
            "Value '[]' at 'attributesToGet' failed to satisfy constraint: "
            "Member must have length greater than or equal to 1; "
            "Value 'hi' at 'returnConsumedCapacity' failed to satisfy constraint: "
            "Member must satisfy enum value set: [INDEXES, TOTAL, NONE]",
        },
    )


# -- item 4: SerializationException and Coral's messages ----------------------------------


@pytest.mark.parametrize(
    ("operation", "body", "message"),
    [
        ("Scan", {"TableName": True}, "TRUE_VALUE cannot be converted to String"),
        ("Scan", {"TableName": False}, "FALSE_VALUE cannot be converted to String"),
        ("Scan", {"TableName": 23}, "NUMBER_VALUE cannot be converted to String"),
        ("Scan", {"TableName": 34.56}, "DECIMAL_VALUE cannot be converted to String"),
        ("Scan", {"TableName": []}, "Unrecognized collection type class java.lang.String"),
        ("Scan", {"TableName": {}}, "Start of structure or map found where not expected"),
        (
            "Scan",
            {"TableName": "abc", "Limit": "23"},
            "STRING_VALUE cannot be converted to Integer",
        ),
        ("Scan", {"TableName": "abc", "Limit": True}, "TRUE_VALUE cannot be converted to Integer"),
        (
            "Scan",
            {"TableName": "abc", "ConsistentRead": "23"},
            "Unexpected token received from parser",
        ),
        (
            "Scan",
            {"TableName": "abc", "ConsistentRead": 23},
            "NUMBER_VALUE cannot be converted to Boolean",
        ),
        ("Scan", {"TableName": "abc", "AttributesToGet": 23}, "Unexpected field type"),
        ("Scan", {"TableName": "abc", "ScanFilter": "23"}, "Unexpected field type"),
        (
            "Scan",
            {"TableName": "abc", "ScanFilter": []},
            f"Unrecognized collection type java.util.Map<java.lang.String, {PKG}.Condition>",
        ),
        ("Scan", {"TableName": "abc", "ScanFilter": {"a": 23}}, "Unexpected value type in payload"),
        ("GetItem", {"TableName": "abc", "Key": {"a": 23}}, "Unexpected value type in payload"),
        (
            "GetItem",
            {"TableName": "abc", "Key": {"a": []}},
            f"Unrecognized collection type class {PKG}.AttributeValue",
        ),
        (
            "BatchWriteItem",
            {"RequestItems": {"abc": [{"PutRequest": 23}]}},
            "Unexpected field type",
        ),
        (
            "BatchWriteItem",
            {"RequestItems": {"abc": [{"PutRequest": []}]}},
            f"Unrecognized collection type class {PKG}.PutRequest",
        ),
        (
            "UpdateTimeToLive",
            {"TableName": "abc", "TimeToLiveSpecification": True},
            "Unexpected field type",
        ),
    ],
)
def test_serialization_exception_wording(
    endpoint: str, operation: str, body: dict[str, Any], message: str
) -> None:
    status, answer = post(endpoint, DDB + operation, json.dumps(body).encode())
    assert (status, answer) == (400, {"__type": SERIALIZATION, "Message": message})


def test_boto3_reads_the_capital_m_message(endpoint: str) -> None:
    """botocore takes `Message` when there is no `message`: the SDK shows AWS's text."""
    client = make_client(endpoint)
    client.meta.events.register(
        "before-parameter-build.dynamodb.Scan",
        lambda params, **_: params.update(TableName="abc", Limit=1),
    )

    def send_a_bad_type(request: Any, **_: Any) -> None:
        request.body = b'{"TableName": true}'
        request.headers["Content-Length"] = str(len(request.body))

    client.meta.events.register("before-send.dynamodb.Scan", send_a_bad_type)
    with pytest.raises(ClientError) as info:
        client.scan(TableName="abc")
    assert info.value.response["Error"] == {
        "Code": "SerializationException",
        "Message": "TRUE_VALUE cannot be converted to String",
    }


def test_body_that_is_not_json_has_no_message(endpoint: str) -> None:
    assert post(endpoint, DDB + "ListTables", b"hi") == (400, {"__type": SERIALIZATION})


@pytest.mark.parametrize(
    ("operation", "body", "message"),
    [
        (
            "DescribeTable",
            {},
            "The parameter 'TableName' is required but was not present in the request",
        ),
        (
            "DeleteTable",
            {},
            "The parameter 'TableName' is required but was not present in the request",
        ),
        (
            "UpdateTable",
            {},
            "The parameter 'TableName' is required but was not present in the request",
        ),
        (
            "CreateTable",
            {},
            "The parameter 'TableName' is required but was not present in the request",
        ),
        (
            "DescribeTimeToLive",
            {"TableName": None},
            "The parameter 'TableName' is required but was not present in the request",
        ),
        (
            "DescribeTable",
            {"TableName": ""},
            "TableName must be at least 3 characters long and at most 255 characters long",
        ),
        (
            "DeleteTable",
            {"TableName": "a;"},
            "TableName must be at least 3 characters long and at most 255 characters long",
        ),
        (
            "UpdateTimeToLive",
            {"TableName": "x" * 256},
            "TableName must be at least 3 characters long and at most 255 characters long",
        ),
        (
            "DescribeTable",
            {"TableName": "abc;"},
            "1 validation error detected: Value 'abc;' at 'tableName' failed to satisfy "
            "constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+",
        ),
        (
            "GetItem",
            {"Key": {}},
            "1 validation error detected: Value null at 'tableName' failed to satisfy "
            "constraint: Member must not be null",
        ),
        (
            "Query",
            {"TableName": ""},
            "2 validation errors detected: Value '' at 'tableName' failed to satisfy constraint: "
            "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; "
            "Value '' at 'tableName' failed to satisfy constraint: "
            "Member must have length greater than or equal to 3",
        ),
        (
            "CreateTable",
            {
                "TableName": "abc",
                "AttributeDefinitions": [{"AttributeName": "a", "AttributeType": "X"}],
                "KeySchema": [{"AttributeName": "a", "KeyType": "HASH"}],
                "BillingMode": "PAY_PER_REQUEST",
            },
            "1 validation error detected: Value 'X' at 'attributeDefinitions.1.member."
            "attributeType' failed to satisfy constraint: Member must satisfy enum value set: "
            "[B, N, S]",
        ),
    ],
)
def test_table_name_and_constraint_messages(
    endpoint: str, operation: str, body: dict[str, Any], message: str
) -> None:
    status, answer = post(endpoint, DDB + operation, json.dumps(body).encode())
    assert (status, answer) == (400, {"__type": VALIDATION, "message": message})


def test_a_table_arn_is_not_held_to_the_name_rules(endpoint: str, make_table: Any) -> None:
    table = make_table()
    arn = f"arn:aws:dynamodb:us-east-1:000000000000:table/{table}"
    status, answer = post(endpoint, DDB + "Scan", json.dumps({"TableName": arn}).encode())
    assert (status, answer["Count"]) == (200, 0)


def test_batch_write_map_key_and_value_constraints(endpoint: str) -> None:
    """Coral reports a map's key and value constraints once, at the map, listing all of
    the shape's constraints (recorded on BatchWriteItem)."""
    body = {"RequestItems": {"a": []}}
    status, answer = post(endpoint, DDB + "BatchWriteItem", json.dumps(body).encode())
    assert (status, answer) == (
        400,
        {
            "__type": VALIDATION,
            "message": "2 validation errors detected: "
            "Value '{a=[]}' at 'requestItems' failed to satisfy constraint: "
            "Map keys must satisfy constraint: [Member must have length less than or equal to "
            "255, Member must have length greater than or equal to 3, Member must satisfy "
            "regular expression pattern: [a-zA-Z0-9_.-]+]; "
            "Value '{a=[]}' at 'requestItems' failed to satisfy constraint: "
            "Map value must satisfy constraint: [Member must have length less than or equal "
            "to 25, Member must have length greater than or equal to 1]",
        },
    )


def test_boto3_sees_the_table_name_messages(ddb: Any) -> None:
    with pytest.raises(ClientError) as info:
        ddb.delete_table(TableName="ab")
    assert info.value.response["Error"] == {
        "Code": "ValidationException",
        "Message": "TableName must be at least 3 characters long and at most 255 characters long",
    }


# -- item 6: the HTTP surface ---------------------------------------------------------------


def test_get_root_is_dynamodbs_health_answer(endpoint: str) -> None:
    status, headers, body = request(endpoint, "GET")
    assert (status, body) == (200, b"healthy: dynamodb.us-east-1.amazonaws.com ")
    assert headers["content-type"] == "text/plain"
    assert headers["content-length"] == str(len(body))
    assert headers["x-amz-crc32"] == str(zlib.crc32(body) & 0xFFFFFFFF)
    assert REQUEST_ID.fullmatch(headers["x-amzn-requestid"])


def test_head_root_has_no_body(endpoint: str) -> None:
    status, headers, body = request(endpoint, "HEAD")
    assert (status, body, headers["content-length"]) == (200, b"", "42")


def test_emulator_health_stays_json(endpoint: str) -> None:
    status, _, body = request(endpoint, "GET", "/_emulator/health")
    assert status == 200 and json.loads(body)["status"] == "ok"


def test_cors_preflight(endpoint: str) -> None:
    status, headers, body = request(
        endpoint,
        "OPTIONS",
        headers={
            "Origin": "http://localhost:3000",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type, x-amz-target, authorization",
        },
    )
    assert (status, body) == (200, b"")
    assert REQUEST_ID.fullmatch(headers.pop("x-amzn-requestid"))
    headers.pop("date", None)
    headers.pop("server", None)
    assert headers == {
        "access-control-allow-origin": "*",
        "access-control-expose-headers": EXPOSED,
        "access-control-allow-headers": "content-type, x-amz-target, authorization",
        "access-control-allow-methods": "POST",
        "access-control-max-age": "172800",
        "content-length": "0",
    }


def test_cors_preflight_without_requested_headers(endpoint: str) -> None:
    status, headers, _ = request(endpoint, "OPTIONS", headers={"Origin": "whatever"})
    assert status == 200
    assert "access-control-allow-headers" not in headers
    assert "access-control-allow-methods" not in headers
    assert headers["access-control-max-age"] == "172800"


def test_options_without_origin_is_dynamodbs_404(endpoint: str) -> None:
    status, headers, body = request(endpoint, "OPTIONS")
    assert (status, body) == (404, b"<UnknownOperationException/>\n")
    assert (headers["content-length"], headers["x-amz-crc32"]) == ("29", "3552371480")
    assert "access-control-allow-origin" not in headers


@pytest.mark.parametrize("target", [DDB + "ListTables", STREAMS + "ListStreams", DDB + "Nope"])
def test_calls_from_a_page_carry_cors_headers(endpoint: str, target: str) -> None:
    status, headers, payload = raw_call(endpoint, target, b"{}", {"Origin": "http://app"})
    lowered = {name.lower(): value for name, value in headers.items()}
    assert status == (400 if target.endswith("Nope") else 200)
    assert lowered["access-control-allow-origin"] == "*"
    assert lowered["access-control-expose-headers"] == EXPOSED
    check_aws_headers(headers, payload)


def test_calls_without_origin_carry_no_cors_headers(endpoint: str) -> None:
    _, headers, _ = raw_call(endpoint, DDB + "ListTables", b"{}")
    assert not any(name.lower().startswith("access-control-") for name in headers)


def test_health_from_a_page_carries_cors_headers(endpoint: str) -> None:
    _, headers, _ = request(endpoint, "GET", headers={"Origin": "http://app"})
    assert headers["access-control-allow-origin"] == "*"


def test_describe_endpoints(ddb: Any, endpoint: str) -> None:
    answer = ddb.describe_endpoints()
    assert answer["Endpoints"] == [
        {"Address": "dynamodb.us-east-1.amazonaws.com", "CachePeriodInMinutes": 1440}
    ]
    west = make_client(endpoint, region="eu-west-1").describe_endpoints()
    assert west["Endpoints"][0]["Address"] == "dynamodb.eu-west-1.amazonaws.com"
    assert post(endpoint, DDB + "DescribeEndpoints", b"{}") == (
        200,
        {
            "Endpoints": [
                {"Address": "dynamodb.us-east-1.amazonaws.com", "CachePeriodInMinutes": 1440}
            ]
        },
    )


def test_describe_limits(ddb: Any, endpoint: str) -> None:
    expected = {
        "AccountMaxReadCapacityUnits": 80000,
        "AccountMaxWriteCapacityUnits": 80000,
        "TableMaxReadCapacityUnits": 40000,
        "TableMaxWriteCapacityUnits": 40000,
    }
    answer = ddb.describe_limits()
    answer.pop("ResponseMetadata")
    assert answer == expected
    assert post(endpoint, DDB + "DescribeLimits", b"") == (200, expected)
    assert post(endpoint, DDB + "DescribeLimits", b"[]") == (
        400,
        {
            "__type": SERIALIZATION,
            "Message": f"Unrecognized collection type class {PKG}.DescribeLimitsInput",
        },
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"S": True}, "TRUE_VALUE cannot be converted to String"),
        ({"S": 5}, "NUMBER_VALUE cannot be converted to String"),
        ({"N": 1.5}, "DECIMAL_VALUE cannot be converted to String"),
        ({"S": ["a"]}, "Unrecognized collection type class java.lang.String"),
        ({"S": {}}, "Start of structure or map found where not expected"),
        ({"B": 5}, "only base-64-encoded strings are convertible to bytes"),
        ({"B": []}, "Unrecognized collection type class java.nio.ByteBuffer"),
        ({"BOOL": "true"}, "Unexpected token received from parser"),
        ({"NULL": 1}, "NUMBER_VALUE cannot be converted to Boolean"),
        ({"M": 5}, "Unexpected field type"),
        (
            {"M": []},
            f"Unrecognized collection type java.util.Map<java.lang.String, {PKG}.AttributeValue>",
        ),
        ({"L": "x"}, "Unexpected field type"),
        ({"L": {}}, "Start of structure or map found where not expected"),
        ({"L": [5]}, "Unexpected value type in payload"),
        ({"M": {"a": []}}, f"Unrecognized collection type class {PKG}.AttributeValue"),
        ({"SS": [False]}, "FALSE_VALUE cannot be converted to String"),
        ({"BS": [1]}, "only base-64-encoded strings are convertible to bytes"),
    ],
)
def test_attribute_value_member_types(
    endpoint: str, make_table: Any, value: dict[str, Any], message: str
) -> None:
    table = make_table()
    body = {"TableName": table, "Item": {"pk": {"S": "k"}, "v": value}}
    status, answer = post(endpoint, DDB + "PutItem", json.dumps(body).encode())
    assert (status, answer) == (400, {"__type": SERIALIZATION, "Message": message})


# -- item 3: the order of checks inside Query and Scan -------------------------------------


@pytest.fixture
def ranged(ddb: Any, make_table: Any) -> str:
    table = make_table(range_key="S")
    for pk, sk in [("a", "1"), ("a", "2"), ("a", "3"), ("b", "1")]:
        ddb.put_item(TableName=table, Item={"pk": {"S": pk}, "sk": {"S": sk}})
    return str(table)


def query_error(ddb: Any, table: str, condition: str, start: dict[str, str]) -> str:
    values = {":p": {"S": "a"}, ":s": {"S": "2"}}
    used = {name: value for name, value in values.items() if name in condition}
    with pytest.raises(ClientError) as info:
        ddb.query(
            TableName=table,
            KeyConditionExpression=condition,
            ExpressionAttributeValues=used,
            ExclusiveStartKey={name: {"S": v} for name, v in start.items()},
        )
    assert info.value.response["Error"]["Code"] == "ValidationException"
    return str(info.value.response["Error"]["Message"])


def test_query_start_key_of_another_partition(ddb: Any, ranged: str) -> None:
    assert query_error(ddb, ranged, "pk = :p", {"pk": "b", "sk": "1"}) == (
        "The provided starting key is outside query boundaries based on provided condition"
    )


def test_query_start_key_outside_the_sort_condition(ddb: Any, ranged: str) -> None:
    assert query_error(ddb, ranged, "pk = :p AND sk > :s", {"pk": "a", "sk": "1"}) == (
        "The provided starting key does not match the range key predicate"
    )
    # the sort condition is checked before the partition
    assert query_error(ddb, ranged, "pk = :p AND sk > :s", {"pk": "b", "sk": "1"}) == (
        "The provided starting key does not match the range key predicate"
    )


def test_query_start_key_of_another_partition_with_a_sort_condition(ddb: Any, ranged: str) -> None:
    assert query_error(ddb, ranged, "pk = :p AND sk <= :s", {"pk": "b", "sk": "1"}) == (
        "The query can return at most one row and cannot be restarted"
    )
    assert query_error(ddb, ranged, "pk = :p AND sk = :s", {"pk": "b", "sk": "2"}) == (
        "The query can return at most one row and cannot be restarted"
    )


def test_query_start_key_on_a_hash_only_table(ddb: Any, make_table: Any) -> None:
    table = make_table()
    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}})
    with pytest.raises(ClientError) as info:
        ddb.query(
            TableName=table,
            KeyConditionExpression="pk = :p",
            ExpressionAttributeValues={":p": {"S": "a"}},
            ExclusiveStartKey={"pk": {"S": "zz"}},
        )
    assert info.value.response["Error"]["Message"] == (
        "The provided starting key is outside query boundaries based on provided condition"
    )
    # a page's own LastEvaluatedKey always continues
    page = ddb.query(
        TableName=table,
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "a"}},
        Limit=1,
    )
    assert page["Items"] == [{"pk": {"S": "a"}}]
    rest = ddb.query(
        TableName=table,
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "a"}},
        ExclusiveStartKey=page["LastEvaluatedKey"],
    )
    assert (rest["Items"], "LastEvaluatedKey" in rest) == ([], False)


def test_query_start_key_inside_the_condition_continues(ddb: Any, ranged: str) -> None:
    page = ddb.query(
        TableName=ranged,
        KeyConditionExpression="pk = :p AND sk >= :s",
        ExpressionAttributeValues={":p": {"S": "a"}, ":s": {"S": "2"}},
        ExclusiveStartKey={"pk": {"S": "a"}, "sk": {"S": "2"}},
    )
    assert [item["sk"]["S"] for item in page["Items"]] == ["3"]


def test_query_start_key_values_checked_before_the_table(ddb: Any) -> None:
    with pytest.raises(ClientError) as info:
        ddb.query(
            TableName="no-such-table",
            KeyConditionExpression="pk = :p",
            ExpressionAttributeValues={":p": {"S": "a"}},
            ExclusiveStartKey={"pk": {"S": "a"}, "sk": {"N": "x"}},
        )
    assert info.value.response["Error"]["Message"] == (
        "The provided starting key is invalid: The parameter cannot be converted to a numeric "
        "value: x"
    )


def test_scan_start_key_outside_the_segment(ddb: Any, ranged: str) -> None:
    whole = ddb.scan(TableName=ranged, Segment=0, TotalSegments=1)["Items"]
    assert len(whole) == 4
    # with 1000 segments, a key maps to exactly one of them
    total = 1000
    pages = [
        (segment, ddb.scan(TableName=ranged, Segment=segment, TotalSegments=total, Limit=1))
        for segment in range(total)
    ]
    owned = [(segment, page["LastEvaluatedKey"]) for segment, page in pages if page["Items"]]
    segment, start = owned[0]
    wrong = (segment + 1) % total
    with pytest.raises(ClientError) as info:
        ddb.scan(TableName=ranged, Segment=wrong, TotalSegments=total, ExclusiveStartKey=start)
    assert info.value.response["Error"]["Message"] == (
        "The provided starting key is invalid: Invalid ExclusiveStartKey. Please use "
        f"ExclusiveStartKey with correct Segment. TotalSegments: {total} Segment: {segment}"
    )
    again = ddb.scan(
        TableName=ranged, Segment=segment, TotalSegments=total, ExclusiveStartKey=start
    )
    assert "Items" in again


def test_scan_segment_checks_come_before_the_table(ddb: Any) -> None:
    with pytest.raises(ClientError) as info:
        ddb.scan(TableName="no-such-table", Segment=3, TotalSegments=2)
    assert info.value.response["Error"]["Message"] == (
        "The Segment parameter is zero-based and must be less than parameter TotalSegments: "
        "Segment: 3 is not less than TotalSegments: 2"
    )


def test_the_admin_api_never_approves_a_page(endpoint: str) -> None:
    """CORS is for the AWS APIs only: a page must not read or drive the admin API."""
    status, headers, _ = request(
        endpoint,
        "OPTIONS",
        "/_emulator/reset",
        headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert status != 200 or "access-control-allow-origin" not in headers
    assert "access-control-allow-origin" not in headers
    status, headers, _ = request(
        endpoint, "GET", "/_emulator/health", headers={"Origin": "http://evil.example"}
    )
    assert status == 200
    assert "access-control-allow-origin" not in headers
