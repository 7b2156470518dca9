"""The table API through boto3: CreateTable / DescribeTable / UpdateTable / DeleteTable /
ListTables and tags, with AWS's descriptions and exact error messages (SPEC 4.1-4.3, 5.9)."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError
from conftest import make_client, raw_call

INVALID = "One or more parameter values were invalid: "
HASH = [{"AttributeName": "pk", "KeyType": "HASH"}]
HASH_RANGE = [*HASH, {"AttributeName": "sk", "KeyType": "RANGE"}]
PK_S = [{"AttributeName": "pk", "AttributeType": "S"}]
SK_N = {"AttributeName": "sk", "AttributeType": "N"}
ON_DEMAND = {"BillingMode": "PAY_PER_REQUEST"}
LABEL = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}")


def error_of(call: Callable[..., Any], **kwargs: Any) -> dict[str, str]:
    with pytest.raises(ClientError) as info:
        call(**kwargs)
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    error: dict[str, str] = info.value.response["Error"]
    return error


def validation(message: str) -> dict[str, str]:
    return {"Code": "ValidationException", "Message": message}


def not_found(name: str) -> dict[str, str]:
    return {
        "Code": "ResourceNotFoundException",
        "Message": f"Requested resource not found: Table: {name} not found",
    }


def table_arn(name: str, region: str = "us-east-1") -> str:
    return f"arn:aws:dynamodb:{region}:000000000000:table/{name}"


def delete_table(ddb: Any, name: str) -> dict[str, Any]:
    """DeleteTable, then create a throwaway table right away.

    The emulator reuses the table id of a deleted newest table and keeps a key-schema
    cache by table id (see test_recreate_after_delete_is_empty). The throwaway table
    takes the reused id, so that one bug fails one test instead of whichever test
    happens to create the next table on the shared server.
    """
    description: dict[str, Any] = ddb.delete_table(TableName=name)["TableDescription"]
    ddb.create_table(
        TableName=name + "-spacer", KeySchema=HASH, AttributeDefinitions=PK_S, **ON_DEMAND
    )
    return description


# -- CreateTable: the description ------------------------------------------------------------


def test_create_table_description(ddb: Any, table_name: str) -> None:
    before = time.time()
    description = ddb.create_table(
        TableName=table_name,
        KeySchema=HASH_RANGE,
        AttributeDefinitions=[*PK_S, SK_N],
        ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 7},
    )["TableDescription"]
    after = time.time()
    assert description["TableName"] == table_name
    assert description["TableArn"] == table_arn(table_name)
    assert str(uuid.UUID(description["TableId"])) == description["TableId"]
    assert description["TableStatus"] == "ACTIVE"
    assert description["KeySchema"] == HASH_RANGE
    assert description["AttributeDefinitions"] == [*PK_S, SK_N]
    assert description["ItemCount"] == 0
    assert description["TableSizeBytes"] == 0
    assert description["ProvisionedThroughput"] == {
        "NumberOfDecreasesToday": 0,
        "ReadCapacityUnits": 5,
        "WriteCapacityUnits": 7,
    }
    # AWS may omit the summary for tables that were always provisioned.
    summary = description.get("BillingModeSummary", {"BillingMode": "PROVISIONED"})
    assert summary["BillingMode"] == "PROVISIONED"
    created = description["CreationDateTime"].timestamp()
    assert before - 1 <= created <= after + 1
    assert description["DeletionProtectionEnabled"] is False
    assert "StreamSpecification" not in description
    assert "LatestStreamArn" not in description
    assert "LocalSecondaryIndexes" not in description
    assert "GlobalSecondaryIndexes" not in description

    described = ddb.describe_table(TableName=table_name)["Table"]
    assert described == description


def test_creation_date_time_is_a_json_number(endpoint: str, table_name: str) -> None:
    body = {"TableName": table_name, "KeySchema": HASH, "AttributeDefinitions": PK_S, **ON_DEMAND}
    status, _, payload = raw_call(endpoint, "DynamoDB_20120810.CreateTable", json.dumps(body))
    assert status == 200
    description = json.loads(payload)["TableDescription"]
    assert isinstance(description["CreationDateTime"], (int, float))
    summary = description["BillingModeSummary"]
    assert summary["BillingMode"] == "PAY_PER_REQUEST"
    assert isinstance(summary["LastUpdateToPayPerRequestDateTime"], (int, float))
    assert description["ProvisionedThroughput"] == {
        "NumberOfDecreasesToday": 0,
        "ReadCapacityUnits": 0,
        "WriteCapacityUnits": 0,
    }


def test_create_table_ids_are_unique(ddb: Any, make_table: Callable[..., str]) -> None:
    first = make_table()
    second = make_table(name=first + "-b")
    ids = {ddb.describe_table(TableName=n)["Table"]["TableId"] for n in (first, second)}
    assert len(ids) == 2


def test_create_table_with_indexes(ddb: Any, table_name: str) -> None:
    definitions = [
        *PK_S,
        SK_N,
        {"AttributeName": "lsk", "AttributeType": "S"},
        {"AttributeName": "gpk", "AttributeType": "B"},
    ]
    lsi = {
        "IndexName": "by-lsk",
        "KeySchema": [
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "lsk", "KeyType": "RANGE"},
        ],
        "Projection": {"ProjectionType": "KEYS_ONLY"},
    }
    gsi = {
        "IndexName": "by-gpk",
        "KeySchema": [{"AttributeName": "gpk", "KeyType": "HASH"}],
        "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["a", "b"]},
    }
    description = ddb.create_table(
        TableName=table_name,
        KeySchema=HASH_RANGE,
        AttributeDefinitions=definitions,
        LocalSecondaryIndexes=[lsi],
        GlobalSecondaryIndexes=[gsi],
        **ON_DEMAND,
    )["TableDescription"]
    arn = table_arn(table_name)
    [lsi_description] = description["LocalSecondaryIndexes"]
    assert lsi_description["IndexName"] == "by-lsk"
    assert lsi_description["KeySchema"] == lsi["KeySchema"]
    assert lsi_description["Projection"] == {"ProjectionType": "KEYS_ONLY"}
    assert lsi_description["IndexArn"] == f"{arn}/index/by-lsk"
    assert lsi_description["IndexSizeBytes"] == 0
    assert lsi_description["ItemCount"] == 0
    [gsi_description] = description["GlobalSecondaryIndexes"]
    assert gsi_description["IndexName"] == "by-gpk"
    assert gsi_description["KeySchema"] == gsi["KeySchema"]
    assert gsi_description["Projection"] == gsi["Projection"]
    assert gsi_description["IndexStatus"] == "ACTIVE"
    assert gsi_description["IndexArn"] == f"{arn}/index/by-gpk"
    assert gsi_description["ProvisionedThroughput"]["ReadCapacityUnits"] == 0
    assert gsi_description["ProvisionedThroughput"]["WriteCapacityUnits"] == 0
    assert ddb.describe_table(TableName=table_name)["Table"] == description


def test_provisioned_gsi_throughput_echoed(ddb: Any, table_name: str) -> None:
    description = ddb.create_table(
        TableName=table_name,
        KeySchema=HASH,
        AttributeDefinitions=[*PK_S, {"AttributeName": "g", "AttributeType": "N"}],
        ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1},
        GlobalSecondaryIndexes=[
            {
                "IndexName": "gsi",
                "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
                "ProvisionedThroughput": {"ReadCapacityUnits": 3, "WriteCapacityUnits": 4},
            }
        ],
    )["TableDescription"]
    throughput = description["GlobalSecondaryIndexes"][0]["ProvisionedThroughput"]
    assert throughput["ReadCapacityUnits"] == 3
    assert throughput["WriteCapacityUnits"] == 4


def test_create_table_with_stream(ddb: Any, table_name: str) -> None:
    description = ddb.create_table(
        TableName=table_name,
        KeySchema=HASH,
        AttributeDefinitions=PK_S,
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        **ON_DEMAND,
    )["TableDescription"]
    assert description["StreamSpecification"] == {
        "StreamEnabled": True,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    label = description["LatestStreamLabel"]
    assert LABEL.fullmatch(label)
    assert description["LatestStreamArn"] == f"{table_arn(table_name)}/stream/{label}"
    assert ddb.describe_table(TableName=table_name)["Table"] == description


def test_create_table_stream_disabled_without_view_type(ddb: Any, table_name: str) -> None:
    description = ddb.create_table(
        TableName=table_name,
        KeySchema=HASH,
        AttributeDefinitions=PK_S,
        StreamSpecification={"StreamEnabled": False},
        **ON_DEMAND,
    )["TableDescription"]
    assert "StreamSpecification" not in description
    assert "LatestStreamArn" not in description
    assert "StreamSpecification" not in ddb.describe_table(TableName=table_name)["Table"]


def test_create_table_by_raw_arn_is_accepted_or_rejected_cleanly(ddb: Any, table_name: str) -> None:
    ddb.create_table(TableName=table_name, KeySchema=HASH, AttributeDefinitions=PK_S, **ON_DEMAND)
    by_arn = ddb.describe_table(TableName=table_arn(table_name))["Table"]
    assert by_arn["TableName"] == table_name


def test_create_existing_table(ddb: Any, make_table: Callable[..., str]) -> None:
    name = make_table()
    assert error_of(
        ddb.create_table,
        TableName=name,
        KeySchema=HASH,
        AttributeDefinitions=PK_S,
        **ON_DEMAND,
    ) == {"Code": "ResourceInUseException", "Message": f"Table already exists: {name}"}


def test_create_table_tags(ddb: Any, table_name: str) -> None:
    tags = [{"Key": "team", "Value": "storage"}, {"Key": "env", "Value": ""}]
    ddb.create_table(
        TableName=table_name, KeySchema=HASH, AttributeDefinitions=PK_S, Tags=tags, **ON_DEMAND
    )
    listed = ddb.list_tags_of_resource(ResourceArn=table_arn(table_name))["Tags"]
    assert sorted(listed, key=lambda t: t["Key"]) == sorted(tags, key=lambda t: t["Key"])
    assert "Tags" not in ddb.describe_table(TableName=table_name)["Table"]


# -- CreateTable: validation -----------------------------------------------------------------


def _create(ddb: Any, **kwargs: Any) -> dict[str, str]:
    request = {
        "TableName": "valid-table-name",
        "KeySchema": HASH,
        "AttributeDefinitions": PK_S,
        **ON_DEMAND,
    }
    request.update(kwargs)
    return error_of(ddb.create_table, **{k: v for k, v in request.items() if v is not None})


@pytest.mark.parametrize(
    ("name", "message"),
    [
        (
            "ab",
            "1 validation error detected: Value 'ab' at 'tableName' failed to satisfy "
            "constraint: Member must have length greater than or equal to 3",
        ),
        (
            "a" * 256,
            f"1 validation error detected: Value '{'a' * 256}' at 'tableName' failed to "
            "satisfy constraint: Member must have length less than or equal to 255",
        ),
        (
            "bad name!",
            "1 validation error detected: Value 'bad name!' at 'tableName' failed to satisfy "
            "constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+",
        ),
    ],
    ids=["short", "long", "pattern"],
)
def test_table_name_rules(ddb: Any, name: str, message: str) -> None:
    assert _create(ddb, TableName=name) == validation(message)


def test_table_name_accepts_all_allowed_characters(ddb: Any, table_name: str) -> None:
    name = table_name[:200] + "_.-AZaz09"
    ddb.create_table(TableName=name, KeySchema=HASH, AttributeDefinitions=PK_S, **ON_DEMAND)
    assert ddb.describe_table(TableName=name)["Table"]["TableName"] == name


def test_table_name_of_255_characters(ddb: Any, table_name: str) -> None:
    name = (table_name + "x" * 255)[:255]
    ddb.create_table(TableName=name, KeySchema=HASH, AttributeDefinitions=PK_S, **ON_DEMAND)
    assert ddb.describe_table(TableName=name)["Table"]["TableName"] == name


def test_key_attribute_not_defined(ddb: Any) -> None:
    assert _create(ddb, AttributeDefinitions=[{"AttributeName": "x", "AttributeType": "S"}]) == (
        validation(
            INVALID + "Some index key attributes are not defined in AttributeDefinitions. "
            "Keys: [pk], AttributeDefinitions: [x]"
        )
    )


def test_unused_attribute_definition(ddb: Any) -> None:
    assert _create(ddb, AttributeDefinitions=[*PK_S, SK_N]) == validation(
        INVALID + "Number of attributes in KeySchema does not exactly match number of "
        "attributes defined in AttributeDefinitions"
    )


def test_unused_attribute_definition_with_indexes(ddb: Any) -> None:
    assert _create(
        ddb,
        AttributeDefinitions=[
            *PK_S,
            {"AttributeName": "g", "AttributeType": "S"},
            {"AttributeName": "unused", "AttributeType": "S"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "gsi",
                "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    ) == validation(
        INVALID + "Some AttributeDefinitions are not used. AttributeDefinitions: "
        "[pk, g, unused], keys used: [g, pk]"
    )


def test_first_key_must_be_hash(ddb: Any) -> None:
    assert _create(
        ddb,
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "RANGE"},
            {"AttributeName": "sk", "KeyType": "HASH"},
        ],
        AttributeDefinitions=[*PK_S, SK_N],
    ) == validation("Invalid KeySchema: The first KeySchemaElement is not a HASH key type")


def test_second_key_must_be_range(ddb: Any) -> None:
    assert _create(
        ddb,
        KeySchema=[*HASH, {"AttributeName": "sk", "KeyType": "HASH"}],
        AttributeDefinitions=[*PK_S, SK_N],
    ) == validation("Invalid KeySchema: The second KeySchemaElement is not a RANGE key type")


def test_hash_and_range_same_name(ddb: Any) -> None:
    assert _create(
        ddb, KeySchema=[*HASH, {"AttributeName": "pk", "KeyType": "RANGE"}]
    ) == validation(
        "Both the Hash Key and the Range Key element in the KeySchema have the same name"
    )


def test_duplicate_attribute_definition(ddb: Any) -> None:
    assert _create(ddb, AttributeDefinitions=PK_S * 2) == validation(
        INVALID + "Cannot have two attributes with the same name"
    )


def test_bad_attribute_type(ddb: Any) -> None:
    assert _create(ddb, AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "X"}]) == (
        validation(
            "1 validation error detected: Value 'X' at 'attributeDefinitions.1.member."
            "attributeType' failed to satisfy constraint: Member must satisfy enum value set: "
            "[S, N, B]"
        )
    )


def test_missing_key_schema(endpoint: str) -> None:
    status, _, payload = raw_call(
        endpoint, "DynamoDB_20120810.CreateTable", json.dumps({"TableName": "abc"})
    )
    assert status == 400
    assert json.loads(payload) == {
        "__type": "com.amazon.coral.validate#ValidationException",
        "message": "2 validation errors detected: "
        "Value null at 'attributeDefinitions' failed to satisfy constraint: "
        "Member must not be null; "
        "Value null at 'keySchema' failed to satisfy constraint: Member must not be null",
    }


def test_pay_per_request_with_throughput(ddb: Any) -> None:
    assert _create(
        ddb, ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1}
    ) == validation(
        INVALID + "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when "
        "BillingMode is PAY_PER_REQUEST"
    )


@pytest.mark.parametrize("billing_mode", ["PROVISIONED", None])
def test_provisioned_without_throughput(ddb: Any, billing_mode: str | None) -> None:
    assert _create(ddb, BillingMode=billing_mode) == validation(
        INVALID + "ReadCapacityUnits and WriteCapacityUnits must both be specified when "
        "BillingMode is PROVISIONED"
    )


def test_throughput_zero(endpoint: str) -> None:
    """botocore checks the minimum client-side, so this goes over raw HTTP."""
    body = {
        "TableName": "valid-table-name",
        "KeySchema": HASH,
        "AttributeDefinitions": PK_S,
        "ProvisionedThroughput": {"ReadCapacityUnits": 0, "WriteCapacityUnits": 1},
    }
    status, _, payload = raw_call(endpoint, "DynamoDB_20120810.CreateTable", json.dumps(body))
    assert status == 400
    assert json.loads(payload) == {
        "__type": "com.amazon.coral.validate#ValidationException",
        "message": "1 validation error detected: Value '0' at "
        "'provisionedThroughput.readCapacityUnits' failed to satisfy constraint: "
        "Member must have value greater than or equal to 1",
    }


def test_bad_billing_mode(ddb: Any) -> None:
    assert _create(ddb, BillingMode="FREE") == validation(
        "1 validation error detected: Value 'FREE' at 'billingMode' failed to satisfy "
        "constraint: Member must satisfy enum value set: [PROVISIONED, PAY_PER_REQUEST]"
    )


LSI_KEY = [
    {"AttributeName": "pk", "KeyType": "HASH"},
    {"AttributeName": "l", "KeyType": "RANGE"},
]
L_DEF = {"AttributeName": "l", "AttributeType": "S"}


def _lsi(name: str = "lsi", key: list[dict[str, str]] | None = None, **extra: Any) -> Any:
    return {
        "IndexName": name,
        "KeySchema": key or LSI_KEY,
        "Projection": {"ProjectionType": "ALL"},
        **extra,
    }


def test_lsi_on_hash_only_table(ddb: Any) -> None:
    assert _create(
        ddb, AttributeDefinitions=[*PK_S, L_DEF], LocalSecondaryIndexes=[_lsi()]
    ) == validation(
        INVALID + "Table KeySchema does not have a range key, which is required when "
        "specifying a LocalSecondaryIndex"
    )


def test_lsi_with_another_hash_key(ddb: Any) -> None:
    key = [{"AttributeName": "l", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}]
    assert _create(
        ddb,
        KeySchema=HASH_RANGE,
        AttributeDefinitions=[*PK_S, SK_N, L_DEF],
        LocalSecondaryIndexes=[_lsi(key=key)],
    ) == validation(
        INVALID + "Index KeySchema does not have the same leading hash key as table KeySchema "
        "for index: lsi. index hash key: l, table hash key: pk"
    )


def test_lsi_without_range_key(ddb: Any) -> None:
    assert _create(
        ddb,
        KeySchema=HASH_RANGE,
        AttributeDefinitions=[*PK_S, SK_N],
        LocalSecondaryIndexes=[_lsi(key=HASH)],
    ) == validation(INVALID + "Index KeySchema does not have a range key for index: lsi")


def test_too_many_lsis(ddb: Any) -> None:
    assert _create(
        ddb,
        KeySchema=HASH_RANGE,
        AttributeDefinitions=[*PK_S, SK_N, L_DEF],
        LocalSecondaryIndexes=[_lsi(f"lsi{i}") for i in range(6)],
    ) == validation(INVALID + "Number of LocalSecondaryIndexes exceeds per-table limit of 5")


def test_duplicate_index_names(ddb: Any) -> None:
    assert _create(
        ddb,
        KeySchema=HASH_RANGE,
        AttributeDefinitions=[*PK_S, SK_N, L_DEF],
        LocalSecondaryIndexes=[_lsi("same"), _lsi("same")],
    ) == validation(INVALID + "Duplicate index name: same")


def test_index_key_not_defined(ddb: Any) -> None:
    assert _create(
        ddb,
        GlobalSecondaryIndexes=[
            {
                "IndexName": "gsi",
                "KeySchema": [{"AttributeName": "nope", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    ) == validation(
        INVALID + "Some index key attributes are not defined in AttributeDefinitions. "
        "Keys: [nope], AttributeDefinitions: [pk]"
    )


def _gsi(**extra: Any) -> dict[str, Any]:
    return {
        "IndexName": "gsi",
        "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
        "Projection": {"ProjectionType": "ALL"},
        **extra,
    }


G_DEF = {"AttributeName": "g", "AttributeType": "S"}


def test_gsi_throughput_with_pay_per_request(ddb: Any) -> None:
    throughput = {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1}
    assert _create(
        ddb,
        AttributeDefinitions=[*PK_S, G_DEF],
        GlobalSecondaryIndexes=[_gsi(ProvisionedThroughput=throughput)],
    ) == validation(
        INVALID + "ProvisionedThroughput should not be specified for index: gsi when "
        "BillingMode is PAY_PER_REQUEST"
    )


def test_gsi_without_throughput_when_provisioned(ddb: Any) -> None:
    assert _create(
        ddb,
        BillingMode="PROVISIONED",
        ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1},
        AttributeDefinitions=[*PK_S, G_DEF],
        GlobalSecondaryIndexes=[_gsi()],
    ) == validation(INVALID + "ProvisionedThroughput must be specified for index: gsi")


def test_gsi_include_without_non_key_attributes(ddb: Any) -> None:
    assert _create(
        ddb,
        AttributeDefinitions=[*PK_S, G_DEF],
        GlobalSecondaryIndexes=[_gsi(Projection={"ProjectionType": "INCLUDE"})],
    ) == validation(INVALID + "ProjectionType is INCLUDE, but NonKeyAttributes is not specified")


def test_gsi_all_with_non_key_attributes(ddb: Any) -> None:
    assert _create(
        ddb,
        AttributeDefinitions=[*PK_S, G_DEF],
        GlobalSecondaryIndexes=[
            _gsi(Projection={"ProjectionType": "ALL", "NonKeyAttributes": ["a"]})
        ],
    ) == validation(INVALID + "ProjectionType is ALL, but NonKeyAttributes is specified")


def test_too_many_gsis(ddb: Any) -> None:
    gsis = [{**_gsi(), "IndexName": f"gsi{i:02d}"} for i in range(21)]
    assert _create(
        ddb, AttributeDefinitions=[*PK_S, G_DEF], GlobalSecondaryIndexes=gsis
    ) == validation(INVALID + "GlobalSecondaryIndex count exceeds the per-table limit of 20")


def test_stream_enabled_without_view_type(ddb: Any) -> None:
    assert _create(ddb, StreamSpecification={"StreamEnabled": True}) == validation(
        INVALID + "Table is being created with a stream enabled, UpdateViewType is required"
    )


def test_stream_disabled_with_view_type(ddb: Any) -> None:
    assert _create(
        ddb, StreamSpecification={"StreamEnabled": False, "StreamViewType": "KEYS_ONLY"}
    ) == validation(
        INVALID + "Table is being created with a stream disabled, UpdateViewType should not be "
        "specified"
    )


def test_stream_bad_view_type(ddb: Any) -> None:
    assert _create(
        ddb, StreamSpecification={"StreamEnabled": True, "StreamViewType": "Fisk"}
    ) == validation(
        "1 validation error detected: Value 'Fisk' at 'streamSpecification.streamViewType' "
        "failed to satisfy constraint: Member must satisfy enum value set: "
        "[NEW_IMAGE, OLD_IMAGE, NEW_AND_OLD_IMAGES, KEYS_ONLY]"
    )


def test_failed_create_leaves_no_table(ddb: Any, table_name: str) -> None:
    _create(ddb, TableName=table_name, StreamSpecification={"StreamEnabled": True})
    assert error_of(ddb.describe_table, TableName=table_name) == not_found(table_name)


# -- DescribeTable / DeleteTable -------------------------------------------------------------


def test_describe_missing_table(ddb: Any, table_name: str) -> None:
    assert error_of(ddb.describe_table, TableName=table_name) == not_found(table_name)


def test_delete_missing_table(ddb: Any, table_name: str) -> None:
    assert error_of(ddb.delete_table, TableName=table_name) == not_found(table_name)


def test_delete_table(ddb: Any, make_table: Callable[..., str]) -> None:
    name = make_table(range_key="N")
    ddb.put_item(TableName=name, Item={"pk": {"S": "a"}, "sk": {"N": "1"}})
    before = ddb.describe_table(TableName=name)["Table"]
    description = delete_table(ddb, name)
    assert description["TableStatus"] == "DELETING"
    assert description["TableName"] == name
    assert description["TableArn"] == before["TableArn"]
    assert description["TableId"] == before["TableId"]
    assert "KeySchema" not in description  # AWS's DeleteTable answer has no key schema
    assert error_of(ddb.describe_table, TableName=name) == not_found(name)
    assert error_of(ddb.delete_table, TableName=name) == not_found(name)
    assert name not in all_tables(ddb)
    assert error_of(ddb.get_item, TableName=name, Key={"pk": {"S": "a"}, "sk": {"N": "1"}}) == {
        "Code": "ResourceNotFoundException",
        "Message": "Requested resource not found",
    }


def test_recreate_after_delete_is_empty(ddb: Any, make_table: Callable[..., str]) -> None:
    """A table re-created under the same name with another key schema is a new table:
    its items and its key schema are its own."""
    name = make_table()
    ddb.put_item(TableName=name, Item={"pk": {"S": "a"}})
    old_id = ddb.describe_table(TableName=name)["Table"]["TableId"]
    ddb.delete_table(TableName=name)
    make_table(name=name, range_key="S")
    table = ddb.describe_table(TableName=name)["Table"]
    assert table["TableId"] != old_id
    assert table["KeySchema"] == HASH_RANGE
    assert table["ItemCount"] == 0
    assert "Item" not in ddb.get_item(TableName=name, Key={"pk": {"S": "a"}, "sk": {"S": "a"}})


def test_delete_table_with_stream(ddb: Any, streams: Any, make_table: Callable[..., str]) -> None:
    name = make_table(stream="KEYS_ONLY")
    arn = ddb.describe_table(TableName=name)["Table"]["LatestStreamArn"]
    description = delete_table(ddb, name)
    assert description["TableStatus"] == "DELETING"
    assert description["LatestStreamArn"] == arn
    stream = streams.describe_stream(StreamArn=arn)["StreamDescription"]
    assert stream["StreamStatus"] == "DISABLED"


def test_item_count_and_size(ddb: Any, make_table: Callable[..., str]) -> None:
    name = make_table()
    ddb.put_item(TableName=name, Item={"pk": {"S": "ab"}, "n": {"N": "12"}})
    ddb.put_item(TableName=name, Item={"pk": {"S": "c"}})
    table = ddb.describe_table(TableName=name)["Table"]
    assert table["ItemCount"] == 2
    # pk(2) + "ab"(2) + n(1) + 12(2 digits -> 2 bytes) ; pk(2) + "c"(1)
    assert table["TableSizeBytes"] == (2 + 2 + 1 + 2) + (2 + 1)


def test_describe_by_arn_of_another_region(ddb: Any, make_table: Callable[..., str]) -> None:
    name = make_table()
    assert error_of(ddb.describe_table, TableName=table_arn(name, "eu-west-1")) == not_found(name)


# -- ListTables ------------------------------------------------------------------------------


def all_tables(client: Any) -> list[str]:
    names: list[str] = []
    for page in client.get_paginator("list_tables").paginate():
        names.extend(page["TableNames"])
    return names


@pytest.fixture
def region_client(endpoint: str, request: pytest.FixtureRequest) -> Any:
    """A client for a region no other test uses, so listings are predictable."""
    region = {
        "test_list_tables_pagination": "eu-north-1",
        "test_list_tables_paginator": "sa-east-1",
    }
    return make_client(endpoint, region=region[request.node.name])


def _create_names(client: Any, names: list[str]) -> None:
    for name in names:
        client.create_table(TableName=name, KeySchema=HASH, AttributeDefinitions=PK_S, **ON_DEMAND)


def test_list_tables_pagination(region_client: Any) -> None:
    names = ["tbl-c", "tbl-a", "tbl-e", "tbl-b", "tbl-d"]
    _create_names(region_client, names)
    assert region_client.list_tables()["TableNames"] == sorted(names)
    page = region_client.list_tables(Limit=2)
    assert page["TableNames"] == ["tbl-a", "tbl-b"]
    assert page["LastEvaluatedTableName"] == "tbl-b"
    page = region_client.list_tables(Limit=2, ExclusiveStartTableName="tbl-b")
    assert page["TableNames"] == ["tbl-c", "tbl-d"]
    assert page["LastEvaluatedTableName"] == "tbl-d"
    page = region_client.list_tables(Limit=2, ExclusiveStartTableName="tbl-d")
    assert page == {"TableNames": ["tbl-e"], "ResponseMetadata": page["ResponseMetadata"]}
    page = region_client.list_tables(Limit=5)
    assert page["TableNames"] == sorted(names)
    assert "LastEvaluatedTableName" not in page
    # The start name need not exist.
    page = region_client.list_tables(ExclusiveStartTableName="tbl-bb")
    assert page["TableNames"] == ["tbl-c", "tbl-d", "tbl-e"]
    page = region_client.list_tables(ExclusiveStartTableName="zzz")
    assert page["TableNames"] == []
    assert "LastEvaluatedTableName" not in page


def test_list_tables_paginator(region_client: Any) -> None:
    names = [f"pg-{i:03d}" for i in range(7)]
    _create_names(region_client, names)
    pages = list(
        region_client.get_paginator("list_tables").paginate(PaginationConfig={"PageSize": 3})
    )
    assert [page["TableNames"] for page in pages] == [names[0:3], names[3:6], names[6:7]]
    assert all_tables(region_client) == names


def test_list_tables_order_is_binary(endpoint: str) -> None:
    client = make_client(endpoint, region="me-south-1")
    names = ["B-up", "a-low", "_under", "9-digit", ".dot"]
    _create_names(client, names)
    assert client.list_tables()["TableNames"] == sorted(names)


# -- UpdateTable -----------------------------------------------------------------------------


def test_update_table_requires_a_change(ddb: Any, make_table: Callable[..., str]) -> None:
    name = make_table()
    assert error_of(ddb.update_table, TableName=name) == validation(
        "At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, "
        "GlobalSecondaryIndexUpdates or SSESpecification or ReplicaUpdates is required"
    )


def test_update_missing_table(ddb: Any, table_name: str) -> None:
    assert error_of(
        ddb.update_table, TableName=table_name, BillingMode="PAY_PER_REQUEST"
    ) == not_found(table_name)


def test_update_throughput(ddb: Any, table_name: str) -> None:
    ddb.create_table(
        TableName=table_name,
        KeySchema=HASH,
        AttributeDefinitions=PK_S,
        ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
    )
    description = ddb.update_table(
        TableName=table_name,
        ProvisionedThroughput={"ReadCapacityUnits": 10, "WriteCapacityUnits": 2},
    )["TableDescription"]
    assert description["TableStatus"] == "UPDATING"
    throughput = description["ProvisionedThroughput"]
    assert throughput["ReadCapacityUnits"] == 10
    assert throughput["WriteCapacityUnits"] == 2
    assert "LastIncreaseDateTime" in throughput
    table = ddb.describe_table(TableName=table_name)["Table"]
    assert table["TableStatus"] == "ACTIVE"
    assert table["ProvisionedThroughput"]["ReadCapacityUnits"] == 10
    assert table["ProvisionedThroughput"]["WriteCapacityUnits"] == 2


def test_update_throughput_unchanged(ddb: Any, table_name: str) -> None:
    ddb.create_table(
        TableName=table_name,
        KeySchema=HASH,
        AttributeDefinitions=PK_S,
        ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 3},
    )
    assert error_of(
        ddb.update_table,
        TableName=table_name,
        ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 3},
    ) == validation(
        "The provisioned throughput for the table will not change. The requested value equals "
        "the current value. Current ReadCapacityUnits provisioned for the table: 5. Requested "
        "ReadCapacityUnits: 5. Current WriteCapacityUnits provisioned for the table: 3. "
        "Requested WriteCapacityUnits: 3. Refer to the Amazon DynamoDB Developer Guide for "
        "current limits and how to request higher limits."
    )


def test_switch_billing_mode(ddb: Any, table_name: str) -> None:
    ddb.create_table(
        TableName=table_name,
        KeySchema=HASH,
        AttributeDefinitions=PK_S,
        ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
    )
    description = ddb.update_table(TableName=table_name, BillingMode="PAY_PER_REQUEST")[
        "TableDescription"
    ]
    assert description["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert "LastUpdateToPayPerRequestDateTime" in description["BillingModeSummary"]
    assert description["ProvisionedThroughput"]["ReadCapacityUnits"] == 0
    assert description["ProvisionedThroughput"]["WriteCapacityUnits"] == 0
    # Back to provisioned: throughput is required.
    assert error_of(
        ddb.update_table, TableName=table_name, BillingMode="PROVISIONED"
    ) == validation(
        INVALID + "ReadCapacityUnits and WriteCapacityUnits must both be specified when "
        "BillingMode is PROVISIONED"
    )
    description = ddb.update_table(
        TableName=table_name,
        BillingMode="PROVISIONED",
        ProvisionedThroughput={"ReadCapacityUnits": 2, "WriteCapacityUnits": 3},
    )["TableDescription"]
    assert description["BillingModeSummary"]["BillingMode"] == "PROVISIONED"
    assert description["ProvisionedThroughput"]["ReadCapacityUnits"] == 2
    assert description["ProvisionedThroughput"]["WriteCapacityUnits"] == 3
    table = ddb.describe_table(TableName=table_name)["Table"]
    assert table["BillingModeSummary"]["BillingMode"] == "PROVISIONED"
    assert table["ProvisionedThroughput"]["ReadCapacityUnits"] == 2


def test_throughput_on_pay_per_request_table(ddb: Any, make_table: Callable[..., str]) -> None:
    name = make_table()
    assert error_of(
        ddb.update_table,
        TableName=name,
        ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1},
    ) == validation(
        INVALID + "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when "
        "BillingMode is PAY_PER_REQUEST"
    )


def test_deletion_protection(ddb: Any, make_table: Callable[..., str]) -> None:
    name = make_table(DeletionProtectionEnabled=True)
    assert ddb.describe_table(TableName=name)["Table"]["DeletionProtectionEnabled"] is True
    assert error_of(ddb.delete_table, TableName=name) == validation(
        "Resource cannot be deleted as it is currently protected against deletion. "
        "Disable deletion protection first."
    )
    assert ddb.describe_table(TableName=name)["Table"]["TableStatus"] == "ACTIVE"
    description = ddb.update_table(TableName=name, DeletionProtectionEnabled=False)[
        "TableDescription"
    ]
    assert description["DeletionProtectionEnabled"] is False
    assert delete_table(ddb, name)["TableStatus"] == "DELETING"


def test_enable_deletion_protection_by_update(ddb: Any, make_table: Callable[..., str]) -> None:
    name = make_table()
    ddb.update_table(TableName=name, DeletionProtectionEnabled=True)
    assert error_of(ddb.delete_table, TableName=name)["Code"] == "ValidationException"
    ddb.update_table(TableName=name, DeletionProtectionEnabled=False)
    delete_table(ddb, name)


def test_update_table_adds_gsi(ddb: Any, make_table: Callable[..., str]) -> None:
    name = make_table()
    description = ddb.update_table(
        TableName=name,
        AttributeDefinitions=[{"AttributeName": "g", "AttributeType": "N"}],
        GlobalSecondaryIndexUpdates=[
            {
                "Create": {
                    "IndexName": "new-gsi",
                    "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "KEYS_ONLY"},
                }
            }
        ],
    )["TableDescription"]
    [gsi] = description["GlobalSecondaryIndexes"]
    assert gsi["IndexName"] == "new-gsi"
    assert gsi["IndexArn"] == f"{description['TableArn']}/index/new-gsi"
    assert {"AttributeName": "g", "AttributeType": "N"} in description["AttributeDefinitions"]
    description = ddb.update_table(
        TableName=name, GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "new-gsi"}}]
    )["TableDescription"]
    assert "GlobalSecondaryIndexes" not in description


# -- UpdateTable: streams (SPEC 4.1, 4.2) ----------------------------------------------------


def test_stream_enable_disable_reenable(
    ddb: Any, streams: Any, make_table: Callable[..., str]
) -> None:
    name = make_table()
    assert "LatestStreamArn" not in ddb.describe_table(TableName=name)["Table"]

    enabled = ddb.update_table(
        TableName=name, StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}
    )["TableDescription"]
    assert enabled["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}
    first_arn, first_label = enabled["LatestStreamArn"], enabled["LatestStreamLabel"]
    assert first_arn == f"{table_arn(name)}/stream/{first_label}"
    table = ddb.describe_table(TableName=name)["Table"]
    assert table["LatestStreamArn"] == first_arn
    assert table["StreamSpecification"]["StreamViewType"] == "NEW_IMAGE"

    disabled = ddb.update_table(TableName=name, StreamSpecification={"StreamEnabled": False})[
        "TableDescription"
    ]
    assert "StreamSpecification" not in disabled
    assert disabled["LatestStreamArn"] == first_arn
    assert disabled["LatestStreamLabel"] == first_label
    table = ddb.describe_table(TableName=name)["Table"]
    assert "StreamSpecification" not in table
    assert table["LatestStreamArn"] == first_arn
    old = streams.describe_stream(StreamArn=first_arn)["StreamDescription"]
    assert old["StreamStatus"] == "DISABLED"

    reenabled = ddb.update_table(
        TableName=name, StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"}
    )["TableDescription"]
    second_arn = reenabled["LatestStreamArn"]
    assert second_arn != first_arn
    assert reenabled["LatestStreamLabel"] != first_label
    assert reenabled["StreamSpecification"] == {
        "StreamEnabled": True,
        "StreamViewType": "KEYS_ONLY",
    }
    listed = {s["StreamArn"] for s in streams.list_streams(TableName=name)["Streams"]}
    assert listed == {first_arn, second_arn}
    assert streams.describe_stream(StreamArn=first_arn)["StreamDescription"]["StreamStatus"] == (
        "DISABLED"
    )
    assert streams.describe_stream(StreamArn=second_arn)["StreamDescription"]["StreamStatus"] in (
        "ENABLING",
        "ENABLED",
    )


def test_stream_enable_without_view_type(ddb: Any, make_table: Callable[..., str]) -> None:
    name = make_table()
    assert error_of(
        ddb.update_table, TableName=name, StreamSpecification={"StreamEnabled": True}
    ) == validation(INVALID + "If stream is being enabled then UpdateViewType is required")


def test_stream_disable_with_view_type(ddb: Any, make_table: Callable[..., str]) -> None:
    name = make_table(stream="KEYS_ONLY")
    assert error_of(
        ddb.update_table,
        TableName=name,
        StreamSpecification={"StreamEnabled": False, "StreamViewType": "KEYS_ONLY"},
    ) == validation(
        INVALID + "If stream is being disabled, then UpdateViewType must not be specified"
    )


@pytest.mark.parametrize("view_type", ["KEYS_ONLY", "NEW_IMAGE"])
def test_stream_enable_when_enabled(
    ddb: Any, make_table: Callable[..., str], view_type: str
) -> None:
    name = make_table(stream="KEYS_ONLY")
    arn = ddb.describe_table(TableName=name)["Table"]["LatestStreamArn"]
    assert error_of(
        ddb.update_table,
        TableName=name,
        StreamSpecification={"StreamEnabled": True, "StreamViewType": view_type},
    ) == validation(f"Table already has an enabled stream: TableName: {name}")
    assert ddb.describe_table(TableName=name)["Table"]["LatestStreamArn"] == arn


def test_stream_disable_when_none(ddb: Any, make_table: Callable[..., str]) -> None:
    name = make_table()
    assert error_of(
        ddb.update_table, TableName=name, StreamSpecification={"StreamEnabled": False}
    ) == validation(f"Table has no stream to disable: TableName: {name}")


def test_stream_disable_twice(ddb: Any, make_table: Callable[..., str]) -> None:
    name = make_table(stream="KEYS_ONLY")
    ddb.update_table(TableName=name, StreamSpecification={"StreamEnabled": False})
    assert error_of(
        ddb.update_table, TableName=name, StreamSpecification={"StreamEnabled": False}
    ) == validation(f"Table has no stream to disable: TableName: {name}")


def test_stream_change_with_throughput(ddb: Any, table_name: str) -> None:
    ddb.create_table(
        TableName=table_name,
        KeySchema=HASH,
        AttributeDefinitions=PK_S,
        ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1},
    )
    assert error_of(
        ddb.update_table,
        TableName=table_name,
        ProvisionedThroughput={"ReadCapacityUnits": 2, "WriteCapacityUnits": 2},
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"},
    ) == validation(INVALID + "You cannot modify stream status while updating table IOPS")


def test_stream_change_with_index_change(ddb: Any, make_table: Callable[..., str]) -> None:
    name = make_table()
    assert error_of(
        ddb.update_table,
        TableName=name,
        AttributeDefinitions=[G_DEF],
        GlobalSecondaryIndexUpdates=[{"Create": _gsi()}],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"},
    ) == validation(INVALID + "You cannot create or delete index while changing stream status")


def test_tagging_keeps_stream_arn(ddb: Any, make_table: Callable[..., str]) -> None:
    name = make_table(stream="NEW_IMAGE")
    arn = ddb.describe_table(TableName=name)["Table"]["LatestStreamArn"]
    ddb.tag_resource(ResourceArn=table_arn(name), Tags=[{"Key": "k", "Value": "v"}])
    assert ddb.describe_table(TableName=name)["Table"]["LatestStreamArn"] == arn


# -- Tags ------------------------------------------------------------------------------------


def test_tag_untag_list(ddb: Any, make_table: Callable[..., str]) -> None:
    name = make_table()
    arn = table_arn(name)
    assert ddb.list_tags_of_resource(ResourceArn=arn)["Tags"] == []
    ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}])
    ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": "a", "Value": "changed"}])
    tags = ddb.list_tags_of_resource(ResourceArn=arn)["Tags"]
    assert sorted(tags, key=lambda t: t["Key"]) == [
        {"Key": "a", "Value": "changed"},
        {"Key": "b", "Value": "2"},
    ]
    ddb.untag_resource(ResourceArn=arn, TagKeys=["a", "not-there"])
    assert ddb.list_tags_of_resource(ResourceArn=arn)["Tags"] == [{"Key": "b", "Value": "2"}]


def test_list_tags_paginates(ddb: Any, make_table: Callable[..., str]) -> None:
    name = make_table()
    arn = table_arn(name)
    tags = [{"Key": f"k{i:02d}", "Value": str(i)} for i in range(25)]
    ddb.tag_resource(ResourceArn=arn, Tags=tags)
    collected: list[dict[str, str]] = []
    token: str | None = None
    while True:
        kwargs = {"ResourceArn": arn, **({"NextToken": token} if token else {})}
        page = ddb.list_tags_of_resource(**kwargs)
        collected.extend(page["Tags"])
        token = page.get("NextToken")
        if not token:
            break
    assert sorted(collected, key=lambda t: t["Key"]) == tags


@pytest.mark.parametrize("operation", ["tag", "untag", "list"])
def test_tags_on_missing_table(ddb: Any, table_name: str, operation: str) -> None:
    arn = table_arn(table_name)
    calls = {
        "tag": lambda: ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": "k", "Value": "v"}]),
        "untag": lambda: ddb.untag_resource(ResourceArn=arn, TagKeys=["k"]),
        "list": lambda: ddb.list_tags_of_resource(ResourceArn=arn),
    }
    assert error_of(calls[operation]) == {
        "Code": "ResourceNotFoundException",
        "Message": f"Requested resource not found: ResourcArn: {arn} not found",
    }


def test_tags_with_bad_arn(ddb: Any) -> None:
    """What is not an ARN cannot be authorised (details: test_conformance_ops.py)."""
    error = error_of(ddb.list_tags_of_resource, ResourceArn="not-an-arn")
    assert error["Code"] == "AccessDeniedException"


def test_tags_limit(ddb: Any, make_table: Callable[..., str]) -> None:
    name = make_table()
    arn = table_arn(name)
    ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(50)])
    assert error_of(
        ddb.tag_resource, ResourceArn=arn, Tags=[{"Key": "one-more", "Value": "v"}]
    ) == validation("The number of tags exceeds the limit of 50 tags per resource")
    assert len(all_tags(ddb, arn)) == 50


def all_tags(ddb: Any, arn: str) -> list[dict[str, str]]:
    collected: list[dict[str, str]] = []
    token: str | None = None
    while True:
        page = ddb.list_tags_of_resource(ResourceArn=arn, **({"NextToken": token} if token else {}))
        collected.extend(page["Tags"])
        token = page.get("NextToken")
        if not token:
            return collected


# -- waiters ---------------------------------------------------------------------------------


def test_table_exists_waiter(ddb: Any, make_table: Callable[..., str]) -> None:
    name = make_table()
    ddb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 2})


def test_table_not_exists_waiter(ddb: Any, make_table: Callable[..., str]) -> None:
    name = make_table()
    delete_table(ddb, name)
    ddb.get_waiter("table_not_exists").wait(
        TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 2}
    )


# -- UpdateTable applies every change it accepts (issue 13 item 5) ---------------------------


def test_update_table_replica_updates_must_come_alone(
    ddb: Any, make_table: Callable[..., str]
) -> None:
    """Global tables are tests/test_global_tables.py; here only that ReplicaUpdates beside
    another change is refused before anything happens."""
    name = make_table()
    assert error_of(
        ddb.update_table,
        TableName=name,
        ReplicaUpdates=[{"Create": {"RegionName": "eu-west-1"}}],
        DeletionProtectionEnabled=True,
    ) == validation(
        "One or more parameter values were invalid: Replica modification must be the only "
        "operation in the request"
    )
    assert "Replicas" not in ddb.describe_table(TableName=name)["Table"]


def test_update_table_stores_and_describes_sse(ddb: Any, make_table: Callable[..., str]) -> None:
    name = make_table()
    assert "SSEDescription" not in ddb.describe_table(TableName=name)["Table"]
    answer = ddb.update_table(TableName=name, SSESpecification={"Enabled": True})
    sse = answer["TableDescription"]["SSEDescription"]
    assert sse["Status"] == "ENABLED" and sse["SSEType"] == "KMS"
    assert re.fullmatch(
        r"arn:aws:kms:us-east-1:000000000000:key/[0-9a-f-]{36}", sse["KMSMasterKeyArn"]
    )
    assert ddb.describe_table(TableName=name)["Table"]["SSEDescription"] == sse

    ddb.update_table(
        TableName=name,
        SSESpecification={"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": "alias/mine"},
    )
    described = ddb.describe_table(TableName=name)["Table"]["SSEDescription"]
    assert described["KMSMasterKeyArn"] == "arn:aws:kms:us-east-1:000000000000:alias/mine"

    ddb.update_table(TableName=name, SSESpecification={"Enabled": False})
    assert "SSEDescription" not in ddb.describe_table(TableName=name)["Table"]


def test_update_table_stores_throughput_settings(ddb: Any, make_table: Callable[..., str]) -> None:
    name = make_table()
    ddb.update_table(
        TableName=name,
        OnDemandThroughput={"MaxReadRequestUnits": 100, "MaxWriteRequestUnits": 50},
    )
    table = ddb.describe_table(TableName=name)["Table"]
    assert table["OnDemandThroughput"] == {"MaxReadRequestUnits": 100, "MaxWriteRequestUnits": 50}
    ddb.update_table(
        TableName=name, WarmThroughput={"ReadUnitsPerSecond": 15000, "WriteUnitsPerSecond": 5000}
    )
    table = ddb.describe_table(TableName=name)["Table"]
    assert table["WarmThroughput"] == {
        "ReadUnitsPerSecond": 15000,
        "WriteUnitsPerSecond": 5000,
        "Status": "ACTIVE",
    }
    assert table["OnDemandThroughput"]["MaxReadRequestUnits"] == 100


def test_update_table_applies_a_gsi_throughput_update(
    ddb: Any, make_table: Callable[..., str]
) -> None:
    throughput = {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}
    name = make_table(
        BillingMode="PROVISIONED",
        ProvisionedThroughput=throughput,
        AttributeDefinitions=[*PK_S, {"AttributeName": "g", "AttributeType": "S"}],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by-g",
                "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
                "ProvisionedThroughput": throughput,
            }
        ],
    )
    ddb.update_table(
        TableName=name,
        GlobalSecondaryIndexUpdates=[
            {
                "Update": {
                    "IndexName": "by-g",
                    "ProvisionedThroughput": {"ReadCapacityUnits": 9, "WriteCapacityUnits": 7},
                }
            }
        ],
    )
    (index,) = ddb.describe_table(TableName=name)["Table"]["GlobalSecondaryIndexes"]
    assert index["ProvisionedThroughput"]["ReadCapacityUnits"] == 9
    assert index["ProvisionedThroughput"]["WriteCapacityUnits"] == 7
    assert "LastIncreaseDateTime" in index["ProvisionedThroughput"]
