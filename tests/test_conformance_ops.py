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


# -- ReturnItemCollectionMetrics and ReturnConsumedCapacity INDEXES on writes --------------


@pytest.fixture
def indexed(ddb: Any, make_table: Callable[..., str]) -> str:
    """A table with an LSI (on `x`) and a GSI (on `g`), both projecting everything but
    the GSI, which projects keys only."""
    return make_table(
        range_key="S",
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
            {"AttributeName": "x", "AttributeType": "S"},
            {"AttributeName": "g", "AttributeType": "S"},
        ],
        LocalSecondaryIndexes=[
            {
                "IndexName": "lsi",
                "KeySchema": [
                    {"AttributeName": "pk", "KeyType": "HASH"},
                    {"AttributeName": "x", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "gsi",
                "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            }
        ],
    )


def item(sk: str, **attributes: str) -> dict[str, Any]:
    return {"pk": {"S": "p"}, "sk": {"S": sk}, **{k: {"S": v} for k, v in attributes.items()}}


COLLECTION = {"ItemCollectionKey": {"pk": {"S": "p"}}, "SizeEstimateRangeGB": [0.0, 1.0]}


def test_item_collection_metrics_on_lsi_tables(ddb: Any, indexed: str) -> None:
    put = ddb.put_item(TableName=indexed, Item=item("1", x="a"), ReturnItemCollectionMetrics="SIZE")
    assert put["ItemCollectionMetrics"] == COLLECTION
    update = ddb.update_item(
        TableName=indexed,
        Key={"pk": {"S": "p"}, "sk": {"S": "1"}},
        UpdateExpression="SET y = :y",
        ExpressionAttributeValues={":y": {"S": "y"}},
        ReturnItemCollectionMetrics="SIZE",
    )
    assert update["ItemCollectionMetrics"] == COLLECTION
    batch = ddb.batch_write_item(
        RequestItems={
            indexed: [
                {"PutRequest": {"Item": item("2")}},
                {"DeleteRequest": {"Key": {"pk": {"S": "p"}, "sk": {"S": "9"}}}},
            ]
        },
        ReturnItemCollectionMetrics="SIZE",
    )
    assert batch["ItemCollectionMetrics"] == {indexed: [COLLECTION, COLLECTION]}
    transact = ddb.transact_write_items(
        TransactItems=[{"Put": {"TableName": indexed, "Item": item("3")}}],
        ReturnItemCollectionMetrics="SIZE",
    )
    assert transact["ItemCollectionMetrics"] == {indexed: [COLLECTION]}
    delete = ddb.delete_item(
        TableName=indexed,
        Key={"pk": {"S": "p"}, "sk": {"S": "1"}},
        ReturnItemCollectionMetrics="SIZE",
    )
    assert delete["ItemCollectionMetrics"] == COLLECTION
    assert "ItemCollectionMetrics" not in ddb.put_item(TableName=indexed, Item=item("4"))


def test_no_item_collection_metrics_without_an_lsi(
    ddb: Any, make_table: Callable[..., str]
) -> None:
    name = make_table()
    put = ddb.put_item(TableName=name, Item={"pk": {"S": "a"}}, ReturnItemCollectionMetrics="SIZE")
    assert "ItemCollectionMetrics" not in put
    batch = ddb.batch_write_item(
        RequestItems={name: [{"PutRequest": {"Item": {"pk": {"S": "b"}}}}]},
        ReturnItemCollectionMetrics="SIZE",
    )
    assert "ItemCollectionMetrics" not in batch


def capacity(response: dict[str, Any]) -> dict[str, Any]:
    consumed: dict[str, Any] = response["ConsumedCapacity"]
    consumed.pop("TableName")
    return consumed


def test_write_capacity_per_index(ddb: Any, indexed: str) -> None:
    # In both indexes: one unit each, on top of the table's.
    put = ddb.put_item(
        TableName=indexed, Item=item("1", x="a", g="b"), ReturnConsumedCapacity="INDEXES"
    )
    assert capacity(put) == {
        "CapacityUnits": 3.0,
        "Table": {"CapacityUnits": 1.0},
        "LocalSecondaryIndexes": {"lsi": {"CapacityUnits": 1.0}},
        "GlobalSecondaryIndexes": {"gsi": {"CapacityUnits": 1.0}},
    }
    # A non-key attribute changes: the LSI (ALL) entry is rewritten, the keys-only GSI
    # entry stays as it is.
    update = ddb.update_item(
        TableName=indexed,
        Key={"pk": {"S": "p"}, "sk": {"S": "1"}},
        UpdateExpression="SET y = :y",
        ExpressionAttributeValues={":y": {"S": "y"}},
        ReturnConsumedCapacity="INDEXES",
    )
    assert capacity(update) == {
        "CapacityUnits": 2.0,
        "Table": {"CapacityUnits": 1.0},
        "LocalSecondaryIndexes": {"lsi": {"CapacityUnits": 1.0}},
    }
    # The GSI key changes: a delete and a put there.
    moved = ddb.update_item(
        TableName=indexed,
        Key={"pk": {"S": "p"}, "sk": {"S": "1"}},
        UpdateExpression="SET g = :g",
        ExpressionAttributeValues={":g": {"S": "c"}},
        ReturnConsumedCapacity="TOTAL",
    )
    assert capacity(moved) == {"CapacityUnits": 4.0}
    # Not in any index: the table alone.
    plain = ddb.put_item(TableName=indexed, Item=item("2"), ReturnConsumedCapacity="INDEXES")
    assert capacity(plain) == {"CapacityUnits": 1.0, "Table": {"CapacityUnits": 1.0}}
    # Transactions cost twice, indexes included.
    transact = ddb.transact_write_items(
        TransactItems=[
            {"Delete": {"TableName": indexed, "Key": {"pk": {"S": "p"}, "sk": {"S": "1"}}}}
        ],
        ReturnConsumedCapacity="INDEXES",
    )
    assert transact["ConsumedCapacity"] == [
        {
            "TableName": indexed,
            "CapacityUnits": 6.0,
            "Table": {"CapacityUnits": 2.0},
            "LocalSecondaryIndexes": {"lsi": {"CapacityUnits": 2.0}},
            "GlobalSecondaryIndexes": {"gsi": {"CapacityUnits": 2.0}},
        }
    ]
    batch = ddb.batch_write_item(
        RequestItems={
            indexed: [
                {"PutRequest": {"Item": item("5", x="a")}},
                {"PutRequest": {"Item": item("6", g="z")}},
            ]
        },
        ReturnConsumedCapacity="INDEXES",
    )
    assert batch["ConsumedCapacity"] == [
        {
            "TableName": indexed,
            "CapacityUnits": 4.0,
            "Table": {"CapacityUnits": 2.0},
            "LocalSecondaryIndexes": {"lsi": {"CapacityUnits": 1.0}},
            "GlobalSecondaryIndexes": {"gsi": {"CapacityUnits": 1.0}},
        }
    ]


# -- UpdateTable ----------------------------------------------------------------------------


def test_update_table_with_nothing_to_change(ddb: Any, make_table: Callable[..., str]) -> None:
    name = make_table()
    message = (
        "At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, "
        "GlobalSecondaryIndexUpdates or SSESpecification or ReplicaUpdates is required"
    )
    assert error_of(ddb.update_table, TableName=name) == {
        "Code": "ValidationException",
        "Message": message,
    }
    definitions = [{"AttributeName": "pk", "AttributeType": "S"}]
    assert error_of(ddb.update_table, TableName=name, AttributeDefinitions=definitions) == {
        "Code": "ValidationException",
        "Message": message,
    }


# -- tags -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "arn",
    [
        "I_do_not_exist",
        "arn:not/a/good/format",
        "arn:aws:s3:::bucket",
        "arn:aws:dynamodb:us-east-1:123456789012:table/theirs",
    ],
)
def test_tags_on_what_cannot_be_authorised(ddb: Any, arn: str) -> None:
    for action, call, kwargs in (
        ("TagResource", ddb.tag_resource, {"Tags": [{"Key": "7", "Value": "8"}]}),
        ("UntagResource", ddb.untag_resource, {"TagKeys": ["7"]}),
        ("ListTagsOfResource", ddb.list_tags_of_resource, {}),
    ):
        assert error_of(call, ResourceArn=arn, **kwargs) == {
            "Code": "AccessDeniedException",
            "Message": "User: arn:aws:iam::000000000000:root is not authorized to perform: "
            f"dynamodb:{action} on resource: {arn}",
        }


def test_tags_on_a_missing_table_of_this_account(ddb: Any) -> None:
    arn = "arn:aws:dynamodb:us-east-1:000000000000:table/nope"
    assert error_of(ddb.list_tags_of_resource, ResourceArn=arn) == {
        "Code": "ResourceNotFoundException",
        "Message": f"Requested resource not found: ResourcArn: {arn} not found",
    }


PATTERN = r"[\p{L}\p{Z}\p{N}_.:/=+\-@]*"


def test_tag_characters(ddb: Any, make_table: Callable[..., str]) -> None:
    name = make_table()
    arn = ddb.describe_table(TableName=name)["Table"]["TableArn"]
    good = [
        {"Key": "a b+-=._:/@", "Value": ""},
        {"Key": "законные буквы", "Value": "ѮѮ 7"},
        {"Key": " ", "Value": "9"},
    ]
    ddb.tag_resource(ResourceArn=arn, Tags=good)
    listed = ddb.list_tags_of_resource(ResourceArn=arn)["Tags"]
    assert sorted(listed, key=lambda t: t["Key"]) == sorted(good, key=lambda t: t["Key"])
    assert error_of(
        ddb.tag_resource, ResourceArn=arn, Tags=[{"Key": "ok", "Value": "#!%%^$$&"}]
    ) == {
        "Code": "ValidationException",
        "Message": "1 validation error detected: Value '#!%%^$$&' at 'tags.1.member.value' "
        f"failed to satisfy constraint: Member must satisfy regular expression pattern: {PATTERN}",
    }
    assert error_of(
        ddb.tag_resource,
        ResourceArn=arn,
        Tags=[{"Key": "fine", "Value": "x"}, {"Key": "!!!\\|", "Value": "<><"}],
    ) == {
        "Code": "ValidationException",
        "Message": "2 validation errors detected: Value '!!!\\|' at 'tags.2.member.key' "
        f"failed to satisfy constraint: Member must satisfy regular expression pattern: "
        f"{PATTERN}; Value '<><' at 'tags.2.member.value' failed to satisfy constraint: "
        f"Member must satisfy regular expression pattern: {PATTERN}",
    }
    assert (
        error_of(
            ddb.create_table,
            TableName=name + "-x",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            Tags=[{"Key": "->>;-)])", "Value": "ok"}],
        )["Code"]
        == "ValidationException"
    )
    assert sorted(
        ddb.list_tags_of_resource(ResourceArn=arn)["Tags"], key=lambda t: t["Key"]
    ) == sorted(good, key=lambda t: t["Key"])


# -- Scan capacity --------------------------------------------------------------------------


def test_scan_capacity_counts_scanned_bytes(ddb: Any, make_table: Callable[..., str]) -> None:
    """Scan is charged on the total size of the items it read (4 KB units, halved when
    eventually consistent), whatever the filter keeps, as AWS documents."""
    name = make_table()
    for i in range(3):
        ddb.put_item(TableName=name, Item={"pk": {"S": f"k{i}"}, "d": {"S": "x" * 3000}})

    def units(**kwargs: Any) -> Any:
        return ddb.scan(TableName=name, ReturnConsumedCapacity="TOTAL", **kwargs)[
            "ConsumedCapacity"
        ]["CapacityUnits"]

    assert units() == 1.5  # ~9 KB: 3 units, halved
    assert units(ConsistentRead=True) == 3.0
    assert units(FilterExpression="attribute_exists(nothing)") == 1.5
    assert units(Limit=1) == 0.5
    assert units(Select="COUNT") == 1.5
    indexes = ddb.scan(TableName=name, ReturnConsumedCapacity="INDEXES")["ConsumedCapacity"]
    assert indexes == {"TableName": name, "CapacityUnits": 1.5, "Table": {"CapacityUnits": 1.5}}
