"""Operations and fields as AWS answers them (issue 18, item 6), through boto3 against the
real server: exact codes, messages and response members."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import error_of

NO_SCHEMA = "The provided key element does not match the schema"


def cancelled(call: Callable[..., Any], **kwargs: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as info:
        call(**kwargs)
    response: dict[str, Any] = info.value.response
    assert response["Error"]["Code"] == "TransactionCanceledException"
    return response


# -- DeleteTable ----------------------------------------------------------------------------


def test_delete_table_description(ddb: Any, make_table: Callable[..., str]) -> None:
    name = make_table(
        range_key="S",
        stream="KEYS_ONLY",
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
            {"AttributeName": "x", "AttributeType": "S"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "gsi",
                "KeySchema": [{"AttributeName": "x", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    )
    ddb.put_item(TableName=name, Item={"pk": {"S": "a"}, "sk": {"S": "1"}, "x": {"S": "v"}})
    before = ddb.describe_table(TableName=name)["Table"]
    description = ddb.delete_table(TableName=name)["TableDescription"]
    assert set(description) == {
        "TableName",
        "TableStatus",
        "ProvisionedThroughput",
        "TableSizeBytes",
        "ItemCount",
        "TableArn",
        "TableId",
        "BillingModeSummary",
        "StreamSpecification",
        "LatestStreamLabel",
        "LatestStreamArn",
        "DeletionProtectionEnabled",
    }
    assert description["TableStatus"] == "DELETING"
    for member in ("TableName", "TableArn", "TableId", "LatestStreamArn", "ItemCount"):
        assert description[member] == before[member]
    assert description["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"


# -- TTL ------------------------------------------------------------------------------------


def test_ttl_enabled_at_once(ddb: Any, make_table: Callable[..., str]) -> None:
    name = make_table()
    spec = {"Enabled": True, "AttributeName": "expires"}
    assert (
        ddb.update_time_to_live(TableName=name, TimeToLiveSpecification=spec)[
            "TimeToLiveSpecification"
        ]
        == spec
    )
    assert ddb.describe_time_to_live(TableName=name)["TimeToLiveDescription"] == {
        "TimeToLiveStatus": "ENABLED",
        "AttributeName": "expires",
    }


# -- transactions ---------------------------------------------------------------------------


def test_transaction_over_4_mb(ddb: Any, make_table: Callable[..., str]) -> None:
    name = make_table()
    big = "x" * 390_000
    puts = [
        {"Put": {"TableName": name, "Item": {"pk": {"S": f"p{i}"}, "d": {"S": big}}}}
        for i in range(11)
    ]
    assert error_of(ddb.transact_write_items, TransactItems=puts) == {
        "Code": "ValidationException",
        "Message": "Transaction payload size cannot exceed 4 MB",
    }
    assert ddb.scan(TableName=name)["Count"] == 0
    ddb.transact_write_items(TransactItems=puts[:10])  # 3.9 MB is fine
    for i in range(10):
        assert "Item" in ddb.get_item(TableName=name, Key={"pk": {"S": f"p{i}"}})
    # Deleting more than 4 MB of items is a small request: allowed.
    deletes = [{"Delete": {"TableName": name, "Key": {"pk": {"S": f"p{i}"}}}} for i in range(10)]
    ddb.transact_write_items(TransactItems=deletes)
    scan = ddb.scan(TableName=name)
    assert (scan["Count"], "LastEvaluatedKey" in scan) == (0, False)


def test_reasons_after_the_first_invalid_action(ddb: Any, make_table: Callable[..., str]) -> None:
    name = make_table()
    response = cancelled(
        ddb.transact_write_items,
        TransactItems=[
            {
                "ConditionCheck": {
                    "TableName": name,
                    "Key": {"pk": {"S": "missing"}},
                    "ConditionExpression": "attribute_exists(pk)",
                }
            },
            {"Put": {"TableName": name, "Item": {"pk": {"N": "7"}}}},
            {"Put": {"TableName": name, "Item": {"pk": {"N": "8"}}}},
            {"Delete": {"TableName": name, "Key": {"pk": {"N": "9"}}}},
        ],
    )
    assert response["CancellationReasons"] == [
        {"Code": "None"},
        {
            "Code": "ValidationError",
            "Message": "One or more parameter values were invalid: Type mismatch for key pk "
            "expected: S actual: N",
        },
        {"Code": "None"},
        {"Code": "None"},
    ]
    assert response["Error"]["Message"] == (
        "Transaction cancelled, please refer cancellation reasons for specific reasons "
        "[None, ValidationError, None, None]"
    )


@pytest.mark.parametrize("key", [{}, {"pk": {"N": "1"}}, {"pk": {"S": "a"}, "x": {"S": "b"}}])
def test_transact_get_items_bad_key(
    ddb: Any, make_table: Callable[..., str], key: dict[str, Any]
) -> None:
    name = make_table()
    response = cancelled(
        ddb.transact_get_items,
        TransactItems=[
            {"Get": {"TableName": name, "Key": {"pk": {"S": "ok"}}}},
            {"Get": {"TableName": name, "Key": key}},
        ],
    )
    assert response["CancellationReasons"] == [
        {"Code": "None"},
        {"Code": "ValidationError", "Message": NO_SCHEMA},
    ]


def test_transact_get_items_empty_string_key_is_a_validation_exception(
    ddb: Any, make_table: Callable[..., str]
) -> None:
    name = make_table()
    error = error_of(
        ddb.transact_get_items,
        TransactItems=[{"Get": {"TableName": name, "Key": {"pk": {"S": ""}}}}],
    )
    assert error["Code"] == "ValidationException"
