"""TransactWriteItems and TransactGetItems through boto3: all or nothing, positional
cancellation reasons (SPEC 5.8), ClientRequestToken idempotency, projections, and the
stream records transactions produce (issue 6 items 5 and 6; SPEC 3.4)."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from conftest import (
    REGION,
    error_of,
    make_client,
    raw_call,
    read_table_stream,
    serve_backend,
    start_server,
)

TARGET = "DynamoDB_20120810."
SAME_ITEM = {
    "Code": "ValidationException",
    "Message": "Transaction request cannot include multiple operations on one item",
}
FAILED = {"Code": "ConditionalCheckFailed", "Message": "The conditional request failed"}


def cancellation(call: Callable[..., Any], **kwargs: Any) -> tuple[str, list[dict[str, Any]]]:
    with pytest.raises(ClientError) as info:
        call(**kwargs)
    response = info.value.response
    assert response["Error"]["Code"] == "TransactionCanceledException"
    return response["Error"]["Message"], response["CancellationReasons"]


def put(table: str, pk: str, **attributes: Any) -> dict[str, Any]:
    return {"Put": {"TableName": table, "Item": {"pk": {"S": pk}, **attributes}}}


def key(pk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}}


@pytest.fixture
def table(ddb: Any, make_table: Callable[..., str]) -> str:
    name = make_table(stream="NEW_AND_OLD_IMAGES")
    ddb.put_item(TableName=name, Item={"pk": {"S": "a"}, "n": {"N": "1"}})
    ddb.put_item(TableName=name, Item={"pk": {"S": "b"}, "n": {"N": "2"}})
    return name


def item(ddb: Any, table: str, pk: str) -> dict[str, Any] | None:
    found: dict[str, Any] | None = ddb.get_item(TableName=table, Key=key(pk)).get("Item")
    return found


# -- TransactWriteItems ----------------------------------------------------------------------


def test_all_actions_commit_together(ddb: Any, streams: Any, table: str) -> None:
    before = len(read_table_stream(ddb, streams, table))
    result = ddb.transact_write_items(
        TransactItems=[
            put(table, "c", n={"N": "3"}),
            {
                "Update": {
                    "TableName": table,
                    "Key": key("a"),
                    "UpdateExpression": "SET n = n + :one",
                    "ConditionExpression": "n = :one",
                    "ExpressionAttributeValues": {":one": {"N": "1"}},
                }
            },
            {"Delete": {"TableName": table, "Key": key("b")}},
            {
                "ConditionCheck": {
                    "TableName": table,
                    "Key": key("zzz"),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
        ]
    )
    assert "ConsumedCapacity" not in result
    assert item(ddb, table, "a") == {"pk": {"S": "a"}, "n": {"N": "2"}}
    assert item(ddb, table, "b") is None
    assert item(ddb, table, "c") == {"pk": {"S": "c"}, "n": {"N": "3"}}
    assert item(ddb, table, "zzz") is None
    records = read_table_stream(ddb, streams, table)[before:]
    assert sorted((r["eventName"], r["dynamodb"]["Keys"]["pk"]["S"]) for r in records) == [
        ("INSERT", "c"),
        ("MODIFY", "a"),
        ("REMOVE", "b"),
    ]


def test_cancelled_transaction_writes_nothing(ddb: Any, streams: Any, table: str) -> None:
    before = read_table_stream(ddb, streams, table)
    message, reasons = cancellation(
        ddb.transact_write_items,
        TransactItems=[
            put(table, "new", n={"N": "1"}),
            {"Delete": {"TableName": table, "Key": key("b")}},
            {
                "Update": {
                    "TableName": table,
                    "Key": key("a"),
                    "UpdateExpression": "SET n = :v",
                    "ConditionExpression": "n = :v",
                    "ExpressionAttributeValues": {":v": {"N": "5"}},
                }
            },
        ],
    )
    assert message == (
        "Transaction cancelled, please refer cancellation reasons for specific reasons "
        "[None, None, ConditionalCheckFailed]"
    )
    assert reasons == [{"Code": "None"}, {"Code": "None"}, FAILED]
    assert item(ddb, table, "new") is None
    assert item(ddb, table, "b") == {"pk": {"S": "b"}, "n": {"N": "2"}}
    assert read_table_stream(ddb, streams, table) == before


def test_cancellation_reasons_positional_with_all_old(ddb: Any, table: str) -> None:
    message, reasons = cancellation(
        ddb.transact_write_items,
        TransactItems=[
            {
                "ConditionCheck": {
                    "TableName": table,
                    "Key": key("a"),
                    "ConditionExpression": "attribute_not_exists(pk)",
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
            },
            put(table, "x"),
            {
                "Delete": {
                    "TableName": table,
                    "Key": key("b"),
                    "ConditionExpression": "n = :nine",
                    "ExpressionAttributeValues": {":nine": {"N": "9"}},
                    "ReturnValuesOnConditionCheckFailure": "NONE",
                }
            },
            {
                "Update": {
                    "TableName": table,
                    "Key": key("missing"),
                    "UpdateExpression": "SET n = :v",
                    "ConditionExpression": "attribute_exists(pk)",
                    "ExpressionAttributeValues": {":v": {"N": "1"}},
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
            },
        ],
    )
    assert message == (
        "Transaction cancelled, please refer cancellation reasons for specific reasons "
        "[ConditionalCheckFailed, None, ConditionalCheckFailed, ConditionalCheckFailed]"
    )
    assert reasons == [
        {**FAILED, "Item": {"pk": {"S": "a"}, "n": {"N": "1"}}},
        {"Code": "None"},
        FAILED,
        FAILED,  # no item: no Item member
    ]


def test_wire_shape_of_cancellation(endpoint: str, table: str) -> None:
    status, _, body = raw_call(
        endpoint,
        TARGET + "TransactWriteItems",
        json.dumps(
            {
                "TransactItems": [
                    {
                        "ConditionCheck": {
                            "TableName": table,
                            "Key": key("a"),
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                    put(table, "y"),
                ]
            }
        ),
    )
    assert status == 400
    payload = json.loads(body)
    assert payload["__type"].endswith("#TransactionCanceledException")
    assert payload["CancellationReasons"] == [FAILED, {"Code": "None"}]
    message = payload.get("Message", payload.get("message"))
    assert message.endswith("[ConditionalCheckFailed, None]")


def test_validation_error_reason_for_wrong_key_type(ddb: Any, table: str) -> None:
    message, reasons = cancellation(
        ddb.transact_write_items,
        TransactItems=[
            put(table, "ok"),
            {"Put": {"TableName": table, "Item": {"pk": {"N": "1"}}}},
        ],
    )
    assert message.endswith("[None, ValidationError]")
    assert reasons == [
        {"Code": "None"},
        {
            "Code": "ValidationError",
            "Message": "One or more parameter values were invalid: Type mismatch for key pk "
            "expected: S actual: N",
        },
    ]
    _, reasons = cancellation(
        ddb.transact_write_items,
        TransactItems=[{"Delete": {"TableName": table, "Key": {"pk": {"N": "1"}}}}],
    )
    assert reasons == [
        {"Code": "ValidationError", "Message": "The provided key element does not match the schema"}
    ]
    assert item(ddb, table, "ok") is None


def test_transact_write_validation(ddb: Any, table: str) -> None:
    assert (
        error_of(
            ddb.transact_write_items,
            TransactItems=[put(table, "a"), {"Delete": {"TableName": table, "Key": key("a")}}],
        )
        == SAME_ITEM
    )
    assert (
        error_of(
            ddb.transact_write_items,
            TransactItems=[
                put(table, "q"),
                {
                    "ConditionCheck": {
                        "TableName": table,
                        "Key": key("q"),
                        "ConditionExpression": "attribute_exists(pk)",
                    }
                },
            ],
        )
        == SAME_ITEM
    )
    too_many = error_of(
        ddb.transact_write_items, TransactItems=[put(table, f"m{i}") for i in range(101)]
    )
    assert too_many["Code"] == "ValidationException"
    assert "100" in too_many["Message"]
    empty_key = error_of(ddb.transact_write_items, TransactItems=[put(table, "")])
    assert empty_key["Code"] == "ValidationException"
    missing = error_of(
        ddb.transact_write_items,
        TransactItems=[{"Put": {"TableName": "no-such-table", "Item": key("a")}}],
    )
    assert missing["Code"] == "ResourceNotFoundException"
    assert item(ddb, table, "m0") is None


def test_hundred_actions_across_tables(
    ddb: Any, make_table: Callable[..., str], table_name: str
) -> None:
    first = make_table(name=table_name + "-1")
    second = make_table(name=table_name + "-2")
    actions = [put(first, f"i{i}") for i in range(50)] + [put(second, f"i{i}") for i in range(50)]
    ddb.transact_write_items(TransactItems=actions)
    assert ddb.scan(TableName=first, Select="COUNT")["Count"] == 50
    assert ddb.scan(TableName=second, Select="COUNT")["Count"] == 50


def test_update_only_removing_on_missing_item_and_no_op_records(
    ddb: Any, streams: Any, table: str
) -> None:
    before = len(read_table_stream(ddb, streams, table))
    ddb.transact_write_items(
        TransactItems=[
            {
                "Update": {
                    "TableName": table,
                    "Key": key("ghost"),
                    "UpdateExpression": "REMOVE n",
                }
            },
            put(table, "a", n={"N": "1"}),  # identical: no record
            {"Delete": {"TableName": table, "Key": key("never")}},  # absent: no record
            {
                "Update": {
                    "TableName": table,
                    "Key": key("b"),
                    "UpdateExpression": "SET n = :two",
                    "ExpressionAttributeValues": {":two": {"N": "2"}},
                }
            },  # same value: no record
            {
                "Update": {
                    "TableName": table,
                    "Key": key("created"),
                    "UpdateExpression": "SET n = :two",
                    "ExpressionAttributeValues": {":two": {"N": "2"}},
                }
            },  # creates the item: INSERT
        ]
    )
    assert item(ddb, table, "ghost") is None
    created = {**key("created"), "n": {"N": "2"}}
    assert item(ddb, table, "created") == created
    records = read_table_stream(ddb, streams, table)[before:]
    assert [(r["eventName"], r["dynamodb"]["Keys"]) for r in records] == [
        ("INSERT", key("created"))
    ]
    assert records[0]["dynamodb"]["NewImage"] == created


def test_resource_client_transactions(endpoint: str, table: str) -> None:
    resource = boto3.resource(
        "dynamodb",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    client = resource.meta.client
    client.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": table, "Item": {"pk": "r1", "tags": {"x", "y"}, "n": 5}}},
            {
                "Update": {
                    "TableName": table,
                    "Key": {"pk": "a"},
                    "UpdateExpression": "ADD n :d",
                    "ExpressionAttributeValues": {":d": 10},
                }
            },
        ]
    )
    got = client.transact_get_items(
        TransactItems=[
            {"Get": {"TableName": table, "Key": {"pk": "r1"}}},
            {"Get": {"TableName": table, "Key": {"pk": "a"}, "ProjectionExpression": "n"}},
        ]
    )
    assert got["Responses"][0]["Item"] == {"pk": "r1", "tags": {"x", "y"}, "n": 5}
    assert got["Responses"][1]["Item"] == {"n": 11}


# -- idempotency -----------------------------------------------------------------------------


@pytest.fixture
def private_server() -> Iterator[str]:
    """A server of its own: these tests move its clock."""
    running = start_server()
    try:
        yield running.url
    finally:
        running.stop()


def advance_clock(url: str, seconds: float) -> None:
    request = urllib.request.Request(
        url + "/_emulator/clock",
        data=json.dumps({"advance": seconds}).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200


def test_client_request_token_idempotency(private_server: str) -> None:
    ddb = make_client(private_server)
    streams = make_client(private_server, "dynamodbstreams")
    ddb.create_table(
        TableName="idem",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    increment = [
        {
            "Update": {
                "TableName": "idem",
                "Key": key("counter"),
                "UpdateExpression": "ADD n :one",
                "ExpressionAttributeValues": {":one": {"N": "1"}},
            }
        }
    ]

    def counter() -> str:
        return str(ddb.get_item(TableName="idem", Key=key("counter"))["Item"]["n"]["N"])

    first = ddb.transact_write_items(TransactItems=increment, ClientRequestToken="token-1")
    second = ddb.transact_write_items(TransactItems=increment, ClientRequestToken="token-1")
    assert first["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert second["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert counter() == "1"
    assert len(read_table_stream(ddb, streams, "idem")) == 1
    mismatch = error_of(
        ddb.transact_write_items,
        TransactItems=[put("idem", "other")],
        ClientRequestToken="token-1",
    )
    assert mismatch["Code"] == "IdempotentParameterMismatchException"
    assert ddb.get_item(TableName="idem", Key=key("other")).get("Item") is None
    # Another token is another request.
    ddb.transact_write_items(TransactItems=increment, ClientRequestToken="token-2")
    assert counter() == "2"
    advance_clock(private_server, 500)
    ddb.transact_write_items(TransactItems=increment, ClientRequestToken="token-1")
    assert counter() == "2"  # still inside the 10 minutes
    advance_clock(private_server, 101)
    ddb.transact_write_items(TransactItems=increment, ClientRequestToken="token-1")
    assert counter() == "3"  # the token expired: the request ran again
    # ...and the token now remembers the new request.
    ddb.transact_write_items(TransactItems=increment, ClientRequestToken="token-1")
    assert counter() == "3"
    advance_clock(private_server, 601)
    ddb.transact_write_items(TransactItems=[put("idem", "other")], ClientRequestToken="token-1")
    assert ddb.get_item(TableName="idem", Key=key("other"))["Item"] == key("other")
    assert len(read_table_stream(ddb, streams, "idem")) == 4


INCREMENT = [
    {
        "Update": {
            "TableName": "idem",
            "Key": {"pk": {"S": "counter"}},
            "UpdateExpression": "ADD n :one",
            "ExpressionAttributeValues": {":one": {"N": "1"}},
        }
    }
]


def _idem_table(ddb: Any) -> None:
    ddb.create_table(
        TableName="idem",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"},
    )


def _counter(ddb: Any) -> str:
    return str(ddb.get_item(TableName="idem", Key=key("counter"))["Item"]["n"]["N"])


def test_idempotency_tokens_survive_a_restart(tmp_path: Path) -> None:
    """Issue 12, defect 5: a TransactWriteItems replayed within 10 minutes, after a
    restart with --data-dir, is not applied a second time."""
    first = start_server("--data-dir", str(tmp_path))
    try:
        ddb = make_client(first.url)
        _idem_table(ddb)
        answer = ddb.transact_write_items(
            TransactItems=INCREMENT, ClientRequestToken="replayed", ReturnConsumedCapacity="TOTAL"
        )
        assert _counter(ddb) == "1"
    finally:
        first.stop()
    second = start_server("--data-dir", str(tmp_path))
    try:
        ddb = make_client(second.url)
        streams = make_client(second.url, "dynamodbstreams")
        replay = ddb.transact_write_items(
            TransactItems=INCREMENT, ClientRequestToken="replayed", ReturnConsumedCapacity="TOTAL"
        )
        assert _counter(ddb) == "1"
        assert replay["ConsumedCapacity"] == answer["ConsumedCapacity"]
        assert len(read_table_stream(ddb, streams, "idem")) == 1
        mismatch = error_of(
            ddb.transact_write_items,
            TransactItems=[put("idem", "other")],
            ClientRequestToken="replayed",
        )
        assert mismatch["Code"] == "IdempotentParameterMismatchException"
    finally:
        second.stop()


def test_tokens_are_per_region(private_server: str) -> None:
    east = make_client(private_server)
    west = make_client(private_server, region="us-west-2")
    for ddb in (east, west):
        _idem_table(ddb)
        ddb.transact_write_items(TransactItems=INCREMENT, ClientRequestToken="shared")
    assert _counter(east) == _counter(west) == "1"


def test_remembered_tokens_are_bounded() -> None:
    """At most `limit` tokens are kept (the oldest go first), and none past 10 minutes."""
    from emulator.config import Config
    from emulator.runtime.backend import Backend
    from emulator.storage.tokens import MAX_TOKENS

    backend = Backend.create(Config())
    assert backend.engine.tokens.limit == MAX_TOKENS
    backend.engine.tokens.limit = 5
    with serve_backend(backend) as server:
        ddb = make_client(server.url)
        _idem_table(ddb)
        for number in range(12):
            ddb.transact_write_items(TransactItems=INCREMENT, ClientRequestToken=f"t{number}")
        assert _counter(ddb) == "12"
        server.admin("/_emulator/clock", {"advance": 1})  # runs the background work now
        assert server.call(backend.engine.tokens.count) == 5
        ddb.transact_write_items(TransactItems=INCREMENT, ClientRequestToken="t11")
        assert _counter(ddb) == "12"  # kept: among the newest five
        ddb.transact_write_items(TransactItems=INCREMENT, ClientRequestToken="t0")
        assert _counter(ddb) == "13"  # forgotten: the oldest went first
        server.admin("/_emulator/clock", {"advance": 600})
        assert server.call(backend.engine.tokens.count) == 0


# -- TransactGetItems ------------------------------------------------------------------------


def test_transact_get_items(
    ddb: Any, table: str, make_table: Callable[..., str], table_name: str
) -> None:
    other = make_table(name=table_name + "-other", range_key="N")
    ddb.put_item(
        TableName=other,
        Item={"pk": {"S": "o"}, "sk": {"N": "1"}, "m": {"M": {"x": {"S": "1"}, "y": {"S": "2"}}}},
    )
    result = ddb.transact_get_items(
        TransactItems=[
            {"Get": {"TableName": table, "Key": key("a")}},
            {"Get": {"TableName": table, "Key": key("missing")}},
            {
                "Get": {
                    "TableName": other,
                    "Key": {"pk": {"S": "o"}, "sk": {"N": "1"}},
                    "ProjectionExpression": "#m.y, sk",
                    "ExpressionAttributeNames": {"#m": "m"},
                }
            },
        ]
    )
    assert result["Responses"] == [
        {"Item": {"pk": {"S": "a"}, "n": {"N": "1"}}},
        {},
        {"Item": {"sk": {"N": "1"}, "m": {"M": {"y": {"S": "2"}}}}},
    ]
    ok = ddb.transact_get_items(
        TransactItems=[{"Get": {"TableName": table, "Key": key(f"k{i}")}} for i in range(100)]
    )
    assert len(ok["Responses"]) == 100
    too_many = error_of(
        ddb.transact_get_items,
        TransactItems=[{"Get": {"TableName": table, "Key": key(f"k{i}")}} for i in range(101)],
    )
    assert too_many["Code"] == "ValidationException"
    twice = error_of(
        ddb.transact_get_items,
        TransactItems=[
            {"Get": {"TableName": table, "Key": key("a")}},
            {"Get": {"TableName": table, "Key": key("a")}},
        ],
    )
    assert twice == SAME_ITEM
    bad_key = error_of(
        ddb.transact_get_items,
        TransactItems=[{"Get": {"TableName": table, "Key": {"pk": {"N": "1"}}}}],
    )
    # As a Update/Delete key in TransactWriteItems: the transaction is cancelled.
    assert bad_key["Code"] == "TransactionCanceledException"
