"""Global tables 2019.11.21 (SPEC-STREAM-APPS section 6, checks 36-41): replicas in other
region namespaces of one emulator, through boto3 clients of two regions and the AWS CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import RunningServer, error_of, make_client, read_stream, start_server

R1 = "us-east-1"
R2 = "eu-west-1"
R3 = "ap-southeast-2"
KEY = [{"AttributeName": "pk", "KeyType": "HASH"}]
DEFINITIONS = [{"AttributeName": "pk", "AttributeType": "S"}]


@pytest.fixture(scope="module")
def gt_server() -> Iterator[RunningServer]:
    running = start_server()
    try:
        yield running
    finally:
        running.stop()


def admin(url: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        url + path,
        data=data,
        method="GET" if data is None else "POST",
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def settle(url: str) -> None:
    status, body = admin(url, "/_emulator/triggers/settle", {"timeout": 20})
    assert status == 200, body


@pytest.fixture
def clients(gt_server: RunningServer) -> Callable[..., Any]:
    def client(region: str, service: str = "dynamodb") -> Any:
        return make_client(gt_server.url, service, region)

    return client


def test_create_replica_lifecycle_and_backfill(
    gt_server: RunningServer, clients: Callable[..., Any], table_name: str
) -> None:
    """Check 36: UPDATING then ACTIVE, CREATING then ACTIVE, the group's keys, the stream
    auto-enabled NEW_AND_OLD_IMAGES, and r2 with the same name, key schema, index and data."""
    r1, r2 = clients(R1), clients(R2)
    r1.create_table(
        TableName=table_name,
        KeySchema=KEY,
        AttributeDefinitions=[*DEFINITIONS, {"AttributeName": "g", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by-g",
                "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    )
    for number in range(30):
        r1.put_item(
            TableName=table_name,
            Item={"pk": {"S": f"k{number}"}, "g": {"S": "x"}, "n": {"N": str(number)}},
        )
    assert admin(gt_server.url, "/_emulator/replication", {"Paused": True})[0] == 200
    try:
        described = r1.update_table(
            TableName=table_name, ReplicaUpdates=[{"Create": {"RegionName": R2}}]
        )["TableDescription"]
        assert described["TableStatus"] == "UPDATING"
        assert described["GlobalTableVersion"] == "2019.11.21"
        assert described["GlobalTableSettingsReplicationMode"] == "ENABLED_WITH_OVERRIDES"
        assert described["Replicas"] == [{"RegionName": R2, "ReplicaStatus": "CREATING"}]
        assert described["StreamSpecification"] == {
            "StreamEnabled": True,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        }
        creating = r2.describe_table(TableName=table_name)["Table"]
        assert creating["TableStatus"] == "CREATING"
        assert creating["Replicas"] == [{"RegionName": R1, "ReplicaStatus": "ACTIVE"}]
        assert "LatestStreamArn" not in creating
        assert creating["TableId"] != described["TableId"]
        assert creating["TableArn"] == f"arn:aws:dynamodb:{R2}:000000000000:table/{table_name}"
        # A CREATING replica answers only DescribeTable.
        assert error_of(r2.get_item, TableName=table_name, Key={"pk": {"S": "k1"}}) == {
            "Code": "ResourceNotFoundException",
            "Message": f"Requested resource not found: Table: {table_name} not found",
        }
        assert error_of(
            r2.update_time_to_live,
            TableName=table_name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": "t"},
        ) == {
            "Code": "ResourceNotFoundException",
            "Message": f"Requested resource not found: Table: {table_name} not found",
        }
        assert error_of(
            r2.tag_resource, ResourceArn=creating["TableArn"], Tags=[{"Key": "k", "Value": "v"}]
        ) == {
            "Code": "ResourceNotFoundException",
            "Message": f"Requested resource not found: Table: {table_name} not found",
        }
        assert error_of(r2.delete_table, TableName=table_name) == {
            "Code": "ResourceInUseException",
            "Message": "Attempt to change a resource which is still in use: "
            f"Table: {table_name} is being used.",
        }
        assert error_of(r1.update_table, TableName=table_name, DeletionProtectionEnabled=True) == {
            "Code": "ResourceInUseException",
            "Message": "The resource which you are attempting to change is in use.",
        }
        # A write to the source meanwhile is replicated once the replica is ACTIVE.
        r1.put_item(TableName=table_name, Item={"pk": {"S": "late"}, "g": {"S": "x"}})
    finally:
        admin(gt_server.url, "/_emulator/replication", {"Paused": False})
    settle(gt_server.url)
    source = r1.describe_table(TableName=table_name)["Table"]
    replica = r2.describe_table(TableName=table_name)["Table"]
    assert source["TableStatus"] == "ACTIVE"
    assert source["Replicas"] == [{"RegionName": R2, "ReplicaStatus": "ACTIVE"}]
    assert replica["TableStatus"] == "ACTIVE"
    assert replica["Replicas"] == [{"RegionName": R1, "ReplicaStatus": "ACTIVE"}]
    assert replica["GlobalTableVersion"] == "2019.11.21"
    assert replica["KeySchema"] == source["KeySchema"]
    assert replica["StreamSpecification"] == source["StreamSpecification"]
    assert replica["LatestStreamArn"].startswith(f"arn:aws:dynamodb:{R2}:")
    assert replica["ItemCount"] == 31
    items = r2.query(
        TableName=table_name,
        IndexName="by-g",
        KeyConditionExpression="g = :g",
        ExpressionAttributeValues={":g": {"S": "x"}},
    )["Items"]
    assert len(items) == 31
    assert r2.get_item(TableName=table_name, Key={"pk": {"S": "k7"}})["Item"] == {
        "pk": {"S": "k7"},
        "g": {"S": "x"},
        "n": {"N": "7"},
    }


def test_existing_keys_only_stream_is_kept(
    gt_server: RunningServer, clients: Callable[..., Any], table_name: str
) -> None:
    r1, r2 = clients(R1), clients(R2)
    created = r1.create_table(
        TableName=table_name,
        KeySchema=KEY,
        AttributeDefinitions=DEFINITIONS,
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"},
    )["TableDescription"]
    described = r1.update_table(
        TableName=table_name, ReplicaUpdates=[{"Create": {"RegionName": R2}}]
    )["TableDescription"]
    assert described["StreamSpecification"]["StreamViewType"] == "KEYS_ONLY"
    assert described["LatestStreamArn"] == created["LatestStreamArn"]
    settle(gt_server.url)
    replica = r2.describe_table(TableName=table_name)["Table"]
    assert replica["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"}
    r1.put_item(TableName=table_name, Item={"pk": {"S": "a"}, "v": {"S": "1"}})
    settle(gt_server.url)
    assert r2.get_item(TableName=table_name, Key={"pk": {"S": "a"}})["Item"]["v"] == {"S": "1"}
    (record,) = read_stream(clients(R2, "dynamodbstreams"), replica["LatestStreamArn"])
    assert record["dynamodb"]["Keys"] == {"pk": {"S": "a"}}
    assert "NewImage" not in record["dynamodb"]


def test_validation_while_global(
    gt_server: RunningServer, clients: Callable[..., Any], table_name: str
) -> None:
    """Check 37 and the rest of SPEC-STREAM-APPS 6.3."""
    r1, r2 = clients(R1), clients(R2)
    r1.create_table(
        TableName=table_name,
        KeySchema=KEY,
        AttributeDefinitions=DEFINITIONS,
        BillingMode="PAY_PER_REQUEST",
    )

    def update(client: Any = r1, **kwargs: Any) -> dict[str, str]:
        return error_of(client.update_table, TableName=table_name, **kwargs)

    def invalid(message: str) -> dict[str, str]:
        return {"Code": "ValidationException", "Message": message}

    assert update(
        ReplicaUpdates=[{"Create": {"RegionName": R2}}], DeletionProtectionEnabled=True
    ) == invalid(
        "One or more parameter values were invalid: Replica modification must be the only "
        "operation in the request"
    )
    assert update(
        ReplicaUpdates=[{"Create": {"RegionName": R2}}, {"Create": {"RegionName": R3}}]
    ) == invalid(
        "Update table operation with more than one create or delete replica actions not allowed"
    )
    assert update(
        ReplicaUpdates=[{"Delete": {"RegionName": R2}}, {"Delete": {"RegionName": R3}}]
    ) == invalid(
        "Update table operation with more than one create or delete replica actions not allowed"
    )
    mixed = invalid(
        "Update table operation with more than one type of replica actions not allowed."
    )
    assert (
        update(ReplicaUpdates=[{"Create": {"RegionName": R2}}, {"Delete": {"RegionName": R3}}])
        == mixed
    )
    assert (
        update(
            ReplicaUpdates=[
                {"Create": {"RegionName": R2}},
                {"Update": {"RegionName": R3, "KMSMasterKeyId": "alias/k"}},
            ]
        )
        == mixed
    )
    local = update(ReplicaUpdates=[{"Create": {"RegionName": R1}}])
    assert local["Code"] == "ValidationException" and "local region" in local["Message"]
    local = update(ReplicaUpdates=[{"Update": {"RegionName": R1, "KMSMasterKeyId": "alias/k"}}])
    assert local["Code"] == "ValidationException" and "local region" in local["Message"]
    unknown = update(ReplicaUpdates=[{"Create": {"RegionName": "mars-north-1"}}])
    assert unknown["Message"].startswith(
        "Region mars-north-1 is not supported. The latest version of global tables are only "
        "supported in the following regions: ["
    )
    not_member = invalid(
        "Update global table operation failed because one or more replicas were not part of "
        f"the global table. Please retry the request without these replicas: [{R3}]."
    )
    assert update(ReplicaUpdates=[{"Delete": {"RegionName": R3}}]) == not_member
    assert (
        update(ReplicaUpdates=[{"Update": {"RegionName": R3, "KMSMasterKeyId": "alias/k"}}])
        == not_member
    )
    assert update(ReplicaUpdates=[{"Update": {"RegionName": R2}}]) == invalid(
        "There are no actions specified in the Replica Update Action of the request."
    )
    # Two identical Creates: accepted, one replica.
    r1.update_table(
        TableName=table_name,
        ReplicaUpdates=[{"Create": {"RegionName": R2}}, {"Create": {"RegionName": R2}}],
    )
    settle(gt_server.url)
    assert r1.describe_table(TableName=table_name)["Table"]["Replicas"] == [
        {"RegionName": R2, "ReplicaStatus": "ACTIVE"}
    ]
    already = invalid(
        "Failed to create a the new replica of table with name: "
        f"'{table_name}' because one or more replicas already existed as tables."
    )
    assert update(ReplicaUpdates=[{"Create": {"RegionName": R2}}]) == already
    # From the replica, the source is a member like any other.
    assert update(r2, ReplicaUpdates=[{"Create": {"RegionName": R1}}]) == already
    for client in (r1, r2):
        assert update(client, StreamSpecification={"StreamEnabled": False}) == invalid(
            "One or more parameter values were invalid: Disabling Stream is not allowed for a "
            "Global Table replica."
        )
        assert update(
            client, StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}
        ) == invalid(f"Table already has an enabled stream: TableName: {table_name}")
    assert update(r2, ReplicaUpdates=[{"Delete": {"RegionName": R3}}]) == not_member
    # A same-name table in the target region.
    clients(R3).create_table(
        TableName=table_name,
        KeySchema=KEY,
        AttributeDefinitions=DEFINITIONS,
        BillingMode="PAY_PER_REQUEST",
    )
    assert update(ReplicaUpdates=[{"Create": {"RegionName": R3}}]) == already
    # An Update action changes the replica's settings.
    described = r1.update_table(
        TableName=table_name,
        ReplicaUpdates=[
            {"Update": {"RegionName": R2, "OnDemandThroughputOverride": {"MaxReadRequestUnits": 9}}}
        ],
    )["TableDescription"]
    assert described["Replicas"] == [
        {
            "RegionName": R2,
            "ReplicaStatus": "ACTIVE",
            "OnDemandThroughputOverride": {"MaxReadRequestUnits": 9},
        }
    ]


def test_writes_replicate_with_stream_records_and_ttl(
    gt_server: RunningServer, clients: Callable[..., Any], table_name: str
) -> None:
    """Check 38: a write in r1 is readable in r2 and both streams hold a record for it,
    without aws:rep:* attributes and without userIdentity; a write in r2 reaches r1; a TTL
    delete in r1 replicates to r2 (TTL set once, for the group)."""
    r1, r2 = clients(R1), clients(R2)
    s1, s2 = clients(R1, "dynamodbstreams"), clients(R2, "dynamodbstreams")
    r1.create_table(
        TableName=table_name,
        KeySchema=KEY,
        AttributeDefinitions=DEFINITIONS,
        BillingMode="PAY_PER_REQUEST",
    )
    r1.update_table(TableName=table_name, ReplicaUpdates=[{"Create": {"RegionName": R2}}])
    settle(gt_server.url)
    r1.update_time_to_live(
        TableName=table_name,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires"},
    )
    assert (
        r2.describe_time_to_live(TableName=table_name)["TimeToLiveDescription"]["AttributeName"]
        == "expires"
    )
    r1.put_item(TableName=table_name, Item={"pk": {"S": "a"}, "v": {"N": "1"}})
    r2.update_item(
        TableName=table_name,
        Key={"pk": {"S": "b"}},
        UpdateExpression="SET v = :v",
        ExpressionAttributeValues={":v": {"N": "2"}},
    )
    settle(gt_server.url)
    assert r2.get_item(TableName=table_name, Key={"pk": {"S": "a"}})["Item"] == {
        "pk": {"S": "a"},
        "v": {"N": "1"},
    }
    assert r1.get_item(TableName=table_name, Key={"pk": {"S": "b"}})["Item"] == {
        "pk": {"S": "b"},
        "v": {"N": "2"},
    }
    arn1 = r1.describe_table(TableName=table_name)["Table"]["LatestStreamArn"]
    arn2 = r2.describe_table(TableName=table_name)["Table"]["LatestStreamArn"]
    for streams, arn, region in ((s1, arn1, R1), (s2, arn2, R2)):
        records = read_stream(streams, arn)
        # (the two writes were concurrent: each region has its own first)
        assert sorted((r["eventName"], r["dynamodb"]["Keys"]["pk"]["S"]) for r in records) == [
            ("INSERT", "a"),
            ("INSERT", "b"),
        ]
        for record in records:
            assert record["awsRegion"] == region
            assert "userIdentity" not in record
            assert not [n for n in record["dynamodb"]["NewImage"] if n.startswith("aws:rep:")]
    assert r2.get_item(TableName=table_name, Key={"pk": {"S": "a"}})["Item"].keys() == {"pk", "v"}
    # TTL: an expired item written in r1, deleted by the sweep, deleted in r2 as replicated.
    _, now = admin(gt_server.url, "/_emulator/clock")
    r1.put_item(
        TableName=table_name,
        Item={"pk": {"S": "old"}, "expires": {"N": str(int(now["now"]) - 100)}},
    )
    settle(gt_server.url)
    assert "Item" in r2.get_item(TableName=table_name, Key={"pk": {"S": "old"}})
    admin(gt_server.url, "/_emulator/clock", {"advance": 10})
    try:
        admin(gt_server.url, "/_emulator/ttl/sweep", {})
        settle(gt_server.url)
    finally:
        admin(gt_server.url, "/_emulator/clock", {"mode": "real"})
    assert "Item" not in r1.get_item(TableName=table_name, Key={"pk": {"S": "old"}})
    assert "Item" not in r2.get_item(TableName=table_name, Key={"pk": {"S": "old"}})
    removed1 = [r for r in read_stream(s1, arn1) if r["eventName"] == "REMOVE"]
    removed2 = [r for r in read_stream(s2, arn2) if r["eventName"] == "REMOVE"]
    assert [r["dynamodb"]["Keys"] for r in removed1] == [{"pk": {"S": "old"}}]
    assert removed1[0]["userIdentity"] == {
        "Type": "Service",
        "PrincipalId": "dynamodb.amazonaws.com",
    }
    assert [r["dynamodb"]["Keys"] for r in removed2] == [{"pk": {"S": "old"}}]
    assert "userIdentity" not in removed2[0]


def test_conflicting_writes_converge(
    gt_server: RunningServer, clients: Callable[..., Any], table_name: str
) -> None:
    """Check 39: concurrent writes to one key in r1 and r2 converge in both regions to the
    later write, with no error; a delete is a write too."""
    r1, r2 = clients(R1), clients(R2)
    r1.create_table(
        TableName=table_name,
        KeySchema=KEY,
        AttributeDefinitions=DEFINITIONS,
        BillingMode="PAY_PER_REQUEST",
    )
    r1.update_table(TableName=table_name, ReplicaUpdates=[{"Create": {"RegionName": R2}}])
    settle(gt_server.url)
    r1.put_item(TableName=table_name, Item={"pk": {"S": "z"}, "v": {"S": "original"}})
    settle(gt_server.url)
    admin(gt_server.url, "/_emulator/replication", {"Paused": True})
    try:
        r1.put_item(TableName=table_name, Item={"pk": {"S": "x"}, "v": {"S": "r1-first"}})
        r2.put_item(TableName=table_name, Item={"pk": {"S": "x"}, "v": {"S": "r2-later"}})
        r2.put_item(TableName=table_name, Item={"pk": {"S": "y"}, "v": {"S": "r2-first"}})
        r1.put_item(TableName=table_name, Item={"pk": {"S": "y"}, "v": {"S": "r1-later"}})
        r1.put_item(TableName=table_name, Item={"pk": {"S": "z"}, "v": {"S": "r1-first"}})
        # A delete is a write too: the later one wins over the put.
        r2.delete_item(TableName=table_name, Key={"pk": {"S": "z"}})
    finally:
        admin(gt_server.url, "/_emulator/replication", {"Paused": False})
    settle(gt_server.url)
    for client in (r1, r2):
        items = {
            item["pk"]["S"]: item["v"]["S"] for item in client.scan(TableName=table_name)["Items"]
        }
        assert items == {"x": "r2-later", "y": "r1-later"}


def test_removing_the_replica(
    gt_server: RunningServer, clients: Callable[..., Any], table_name: str
) -> None:
    """Check 40: the group's keys disappear (not `[]`); the stream stays and can then be
    disabled."""
    r1, r2 = clients(R1), clients(R2)
    r1.create_table(
        TableName=table_name,
        KeySchema=KEY,
        AttributeDefinitions=DEFINITIONS,
        BillingMode="PAY_PER_REQUEST",
    )
    r1.update_table(TableName=table_name, ReplicaUpdates=[{"Create": {"RegionName": R2}}])
    settle(gt_server.url)
    arn = r1.describe_table(TableName=table_name)["Table"]["LatestStreamArn"]
    described = r1.update_table(
        TableName=table_name, ReplicaUpdates=[{"Delete": {"RegionName": R2}}]
    )["TableDescription"]
    assert described["TableStatus"] == "UPDATING"
    assert described["Replicas"] == [{"RegionName": R2, "ReplicaStatus": "DELETING"}]
    settle(gt_server.url)
    table = r1.describe_table(TableName=table_name)["Table"]
    for key in ("Replicas", "GlobalTableVersion", "GlobalTableSettingsReplicationMode"):
        assert key not in table
    assert table["TableStatus"] == "ACTIVE"
    assert table["LatestStreamArn"] == arn
    assert table["StreamSpecification"]["StreamEnabled"] is True
    assert error_of(r2.describe_table, TableName=table_name) == {
        "Code": "ResourceNotFoundException",
        "Message": f"Requested resource not found: Table: {table_name} not found",
    }
    r1.put_item(TableName=table_name, Item={"pk": {"S": "after"}})
    settle(gt_server.url)
    r1.update_table(TableName=table_name, StreamSpecification={"StreamEnabled": False})
    table = r1.describe_table(TableName=table_name)["Table"]
    assert "StreamSpecification" not in table
    assert table["LatestStreamArn"] == arn


def test_three_regions_and_removal_from_a_replica(
    gt_server: RunningServer, clients: Callable[..., Any], table_name: str
) -> None:
    """Any member may add or remove replicas; writes anywhere reach every member."""
    r1, r2, r3 = clients(R1), clients(R2), clients(R3)
    r1.create_table(
        TableName=table_name,
        KeySchema=KEY,
        AttributeDefinitions=DEFINITIONS,
        BillingMode="PAY_PER_REQUEST",
    )
    r1.put_item(TableName=table_name, Item={"pk": {"S": "one"}})
    r1.update_table(TableName=table_name, ReplicaUpdates=[{"Create": {"RegionName": R2}}])
    settle(gt_server.url)
    r2.put_item(TableName=table_name, Item={"pk": {"S": "two"}})
    r2.update_table(TableName=table_name, ReplicaUpdates=[{"Create": {"RegionName": R3}}])
    settle(gt_server.url)
    assert [
        r["RegionName"] for r in r1.describe_table(TableName=table_name)["Table"]["Replicas"]
    ] == [R2, R3]
    # The new replica lists its source first, then the other members.
    assert [
        r["RegionName"] for r in r3.describe_table(TableName=table_name)["Table"]["Replicas"]
    ] == [R2, R1]
    r3.put_item(TableName=table_name, Item={"pk": {"S": "three"}})
    settle(gt_server.url)
    for client in (r1, r2, r3):
        keys = sorted(item["pk"]["S"] for item in client.scan(TableName=table_name)["Items"])
        assert keys == ["one", "three", "two"]
    r3.update_table(TableName=table_name, ReplicaUpdates=[{"Delete": {"RegionName": R1}}])
    settle(gt_server.url)
    assert error_of(r1.describe_table, TableName=table_name)["Code"] == "ResourceNotFoundException"
    assert [
        r["RegionName"] for r in r2.describe_table(TableName=table_name)["Table"]["Replicas"]
    ] == [R3]
    r2.put_item(TableName=table_name, Item={"pk": {"S": "four"}})
    settle(gt_server.url)
    assert "Item" in r3.get_item(TableName=table_name, Key={"pk": {"S": "four"}})


def test_legacy_2017_operations(clients: Callable[..., Any], table_name: str) -> None:
    """Check 41."""
    r1 = clients(R1)
    r1.create_table(
        TableName=table_name,
        KeySchema=KEY,
        AttributeDefinitions=DEFINITIONS,
        BillingMode="PAY_PER_REQUEST",
    )
    assert error_of(
        r1.create_global_table,
        GlobalTableName=table_name,
        ReplicationGroup=[{"RegionName": R1}, {"RegionName": R2}],
    ) == {
        "Code": "ValidationException",
        "Message": "One or more parameter values were invalid: DynamoDB global tables version "
        "2017.11.29 is not supported. We recommend using DynamoDB global tables version "
        "2019.11.21, instead of version 2017.11.29 (Legacy).",
    }
    missing = {
        "Code": "GlobalTableNotFoundException",
        "Message": f"Global table with name '{table_name}' does not exist.",
    }
    assert error_of(r1.describe_global_table, GlobalTableName=table_name) == missing
    assert error_of(r1.describe_global_table_settings, GlobalTableName=table_name) == missing
    assert (
        error_of(
            r1.update_global_table,
            GlobalTableName=table_name,
            ReplicaUpdates=[{"Create": {"RegionName": R2}}],
        )
        == missing
    )
    assert (
        error_of(
            r1.update_global_table_settings,
            GlobalTableName=table_name,
            GlobalTableProvisionedWriteCapacityUnits=5,
        )
        == missing
    )
    assert r1.list_global_tables()["GlobalTables"] == []
    assert error_of(r1.describe_table_replica_auto_scaling, TableName=table_name) == {
        "Code": "ResourceNotFoundException",
        "Message": f"Global table with name: '{table_name}' does not exist.",
    }


def aws_cli(url: str, home: Path, region: str, *args: str) -> subprocess.CompletedProcess[str]:
    executable = Path(sys.executable).parent / "aws"
    if not executable.exists():
        pytest.skip("the AWS CLI is not installed")
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "cli-key",
        "AWS_SECRET_ACCESS_KEY": "cli-secret",
        "AWS_DEFAULT_REGION": region,
        "AWS_CONFIG_FILE": str(home / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / "credentials"),
        "AWS_PAGER": "",
    }
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"):
        env.pop(name, None)
    return subprocess.run(
        [str(executable), "--endpoint-url", url, "--output", "json", "dynamodb", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


def test_aws_cli_replica_and_legacy(
    gt_server: RunningServer, table_name: str, tmp_path: Path
) -> None:
    def ok(result: subprocess.CompletedProcess[str]) -> Any:
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout) if result.stdout.strip() else None

    url = gt_server.url
    ok(
        aws_cli(
            url,
            tmp_path,
            R1,
            "create-table",
            "--table-name",
            table_name,
            "--attribute-definitions",
            "AttributeName=pk,AttributeType=S",
            "--key-schema",
            "AttributeName=pk,KeyType=HASH",
            "--billing-mode",
            "PAY_PER_REQUEST",
        )
    )
    described = ok(
        aws_cli(
            url,
            tmp_path,
            R1,
            "update-table",
            "--table-name",
            table_name,
            "--replica-updates",
            json.dumps([{"Create": {"RegionName": R2}}]),
        )
    )["TableDescription"]
    assert described["Replicas"] == [{"RegionName": R2, "ReplicaStatus": "CREATING"}]
    settle(url)
    ok(
        aws_cli(
            url,
            tmp_path,
            R2,
            "put-item",
            "--table-name",
            table_name,
            "--item",
            json.dumps({"pk": {"S": "cli"}}),
        )
    )
    settle(url)
    got = ok(
        aws_cli(
            url,
            tmp_path,
            R1,
            "get-item",
            "--table-name",
            table_name,
            "--key",
            json.dumps({"pk": {"S": "cli"}}),
        )
    )
    assert got["Item"] == {"pk": {"S": "cli"}}
    assert ok(aws_cli(url, tmp_path, R1, "list-global-tables")) == {"GlobalTables": []}
    failed = aws_cli(url, tmp_path, R1, "describe-global-table", "--global-table-name", table_name)
    assert failed.returncode != 0
    assert "GlobalTableNotFoundException" in failed.stderr
    assert f"Global table with name '{table_name}' does not exist." in failed.stderr


def test_lag_and_partial_transactions(tmp_path: Path) -> None:
    """Check 39 (second half): with a lag, a write reaches r2 only once the (test) clock
    passed it; the items of one transaction replicate one by one, so r2 can see part of it."""
    running = start_server("--replication-lag-ms", "1000")
    try:
        url = running.url
        r1, r2 = make_client(url, "dynamodb", R1), make_client(url, "dynamodb", R2)
        r1.create_table(
            TableName="lagged",
            KeySchema=KEY,
            AttributeDefinitions=DEFINITIONS,
            BillingMode="PAY_PER_REQUEST",
        )
        r1.update_table(TableName="lagged", ReplicaUpdates=[{"Create": {"RegionName": R2}}])
        settle(url)
        start = 1_900_000_000.0
        admin(url, "/_emulator/clock", {"set": start})
        r1.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": "lagged", "Item": {"pk": {"S": "a"}}}},
                {"Put": {"TableName": "lagged", "Item": {"pk": {"S": "b"}}}},
            ]
        )
        status, _ = admin(url, "/_emulator/triggers/settle", {"timeout": 5})
        assert status == 409  # only waits for the clock
        assert r2.scan(TableName="lagged")["Count"] == 0
        admin(url, "/_emulator/clock", {"set": start + 1.0})
        status, _ = admin(url, "/_emulator/triggers/settle", {"timeout": 5})
        assert status == 409
        assert [i["pk"]["S"] for i in r2.scan(TableName="lagged")["Items"]] == ["a"]
        admin(url, "/_emulator/clock", {"advance": 0.01})
        settle(url)
        assert sorted(i["pk"]["S"] for i in r2.scan(TableName="lagged")["Items"]) == ["a", "b"]
    finally:
        running.stop()


def test_restart_mid_replication_loses_nothing(tmp_path: Path) -> None:
    """Writes queued for a replica when the emulator stops are delivered after a restart
    with the same --data-dir."""
    data_dir = str(tmp_path / "data")
    running = start_server("--data-dir", data_dir)
    try:
        url = running.url
        r1 = make_client(url, "dynamodb", R1)
        r1.create_table(
            TableName="durable",
            KeySchema=KEY,
            AttributeDefinitions=DEFINITIONS,
            BillingMode="PAY_PER_REQUEST",
        )
        for number in range(50):
            r1.put_item(TableName="durable", Item={"pk": {"S": f"before{number}"}})
        admin(url, "/_emulator/replication", {"Paused": True})
        r1.update_table(TableName="durable", ReplicaUpdates=[{"Create": {"RegionName": R2}}])
        for number in range(50):
            r1.put_item(TableName="durable", Item={"pk": {"S": f"during{number}"}})
        r1.delete_item(TableName="durable", Key={"pk": {"S": "before0"}})
    finally:
        running.stop()
    running = start_server("--data-dir", data_dir)
    try:
        url = running.url
        r1, r2 = make_client(url, "dynamodb", R1), make_client(url, "dynamodb", R2)
        settle(url)
        assert r2.describe_table(TableName="durable")["Table"]["TableStatus"] == "ACTIVE"
        keys1 = sorted(i["pk"]["S"] for i in r1.scan(TableName="durable")["Items"])
        keys2 = sorted(i["pk"]["S"] for i in r2.scan(TableName="durable")["Items"])
        assert len(keys1) == 99
        assert keys2 == keys1
        r2.put_item(TableName="durable", Item={"pk": {"S": "after"}})
        settle(url)
        assert "Item" in r1.get_item(TableName="durable", Key={"pk": {"S": "after"}})
    finally:
        running.stop()


def test_replication_admin_endpoint(gt_server: RunningServer) -> None:
    status, body = admin(gt_server.url, "/_emulator/replication", {"Paused": "yes"})
    assert status == 400
    status, body = admin(gt_server.url, "/_emulator/replication")
    assert status == 200 and body["Paused"] is False
    assert {"TableName", "SourceRegion", "DestinationRegion", "PendingWrites"} <= set(
        body["Links"][0]
    )


def test_create_table_with_a_global_table_source(
    gt_server: RunningServer, clients: Callable[..., Any], table_name: str
) -> None:
    """CreateTable with GlobalTableSourceArn in another region joins the source's group."""
    r1, r2 = clients(R1), clients(R2)
    arn = r1.create_table(
        TableName=table_name,
        KeySchema=KEY,
        AttributeDefinitions=DEFINITIONS,
        BillingMode="PAY_PER_REQUEST",
    )["TableDescription"]["TableArn"]
    r1.put_item(TableName=table_name, Item={"pk": {"S": "before"}})
    assert error_of(r1.create_table, TableName=table_name, GlobalTableSourceArn=arn)[
        "Message"
    ].startswith("Cannot add or delete the local region")
    missing = arn.replace(table_name, table_name + "-nope")
    assert error_of(
        r2.create_table, TableName=table_name + "-nope", GlobalTableSourceArn=missing
    ) == {
        "Code": "ResourceNotFoundException",
        "Message": f"Requested resource not found: Table: {missing} not found",
    }
    created = r2.create_table(TableName=table_name, GlobalTableSourceArn=arn)["TableDescription"]
    assert created["TableStatus"] == "CREATING"
    assert created["KeySchema"] == KEY
    settle(gt_server.url)
    assert r1.describe_table(TableName=table_name)["Table"]["Replicas"] == [
        {"RegionName": R2, "ReplicaStatus": "ACTIVE"}
    ]
    assert "Item" in r2.get_item(TableName=table_name, Key={"pk": {"S": "before"}})


def test_index_changes_are_group_wide(
    gt_server: RunningServer, clients: Callable[..., Any], table_name: str
) -> None:
    r1, r2 = clients(R1), clients(R2)
    r1.create_table(
        TableName=table_name,
        KeySchema=KEY,
        AttributeDefinitions=DEFINITIONS,
        BillingMode="PAY_PER_REQUEST",
    )
    r1.update_table(TableName=table_name, ReplicaUpdates=[{"Create": {"RegionName": R2}}])
    settle(gt_server.url)
    r2.put_item(TableName=table_name, Item={"pk": {"S": "a"}, "g": {"S": "x"}})
    settle(gt_server.url)
    r1.update_table(
        TableName=table_name,
        AttributeDefinitions=[{"AttributeName": "g", "AttributeType": "S"}],
        GlobalSecondaryIndexUpdates=[
            {
                "Create": {
                    "IndexName": "by-g",
                    "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "KEYS_ONLY"},
                }
            }
        ],
    )
    described = r2.describe_table(TableName=table_name)["Table"]
    (index,) = described["GlobalSecondaryIndexes"]
    assert index["IndexArn"] == f"{described['TableArn']}/index/by-g"
    r1.put_item(TableName=table_name, Item={"pk": {"S": "b"}, "g": {"S": "x"}})
    settle(gt_server.url)
    for client in (r1, r2):
        found = client.query(
            TableName=table_name,
            IndexName="by-g",
            KeyConditionExpression="g = :g",
            ExpressionAttributeValues={":g": {"S": "x"}},
        )["Items"]
        assert sorted(item["pk"]["S"] for item in found) == ["a", "b"]
    r2.update_table(
        TableName=table_name, GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "by-g"}}]
    )
    assert "GlobalSecondaryIndexes" not in r1.describe_table(TableName=table_name)["Table"]


def test_replica_actions_while_one_is_in_flight(
    gt_server: RunningServer, clients: Callable[..., Any], table_name: str
) -> None:
    """SPEC-STREAM-APPS 6.3: a replica action while another is in flight is
    ResourceInUseException; a Create of a region whose replica is still DELETING is
    `...already existed as tables.`"""
    r1 = clients(R1)
    r1.create_table(
        TableName=table_name,
        KeySchema=KEY,
        AttributeDefinitions=DEFINITIONS,
        BillingMode="PAY_PER_REQUEST",
    )
    in_use = {
        "Code": "ResourceInUseException",
        "Message": "The resource which you are attempting to change is in use.",
    }
    already = {
        "Code": "ValidationException",
        "Message": "Failed to create a the new replica of table with name: "
        f"'{table_name}' because one or more replicas already existed as tables.",
    }
    assert admin(gt_server.url, "/_emulator/replication", {"Paused": True})[0] == 200
    try:
        r1.update_table(TableName=table_name, ReplicaUpdates=[{"Create": {"RegionName": R2}}])
        create_r3 = [{"Create": {"RegionName": R3}}]
        assert error_of(r1.update_table, TableName=table_name, ReplicaUpdates=create_r3) == in_use
        # From the CREATING replica's side too (it answers only DescribeTable).
        assert error_of(clients(R2).update_table, TableName=table_name, ReplicaUpdates=create_r3)[
            "Code"
        ] in ("ResourceInUseException", "ResourceNotFoundException")
    finally:
        admin(gt_server.url, "/_emulator/replication", {"Paused": False})
    settle(gt_server.url)
    assert admin(gt_server.url, "/_emulator/replication", {"Paused": True})[0] == 200
    try:
        r1.update_table(TableName=table_name, ReplicaUpdates=[{"Delete": {"RegionName": R2}}])
        assert r1.describe_table(TableName=table_name)["Table"]["Replicas"] == [
            {"RegionName": R2, "ReplicaStatus": "DELETING"}
        ]
        assert (
            error_of(
                r1.update_table,
                TableName=table_name,
                ReplicaUpdates=[{"Create": {"RegionName": R2}}],
            )
            == already
        )
        assert error_of(r1.update_table, TableName=table_name, ReplicaUpdates=create_r3) == in_use
    finally:
        admin(gt_server.url, "/_emulator/replication", {"Paused": False})
    settle(gt_server.url)
    assert "Replicas" not in r1.describe_table(TableName=table_name)["Table"]
    # Once the replica is gone, the region can be added again.
    r1.update_table(TableName=table_name, ReplicaUpdates=[{"Create": {"RegionName": R2}}])
    settle(gt_server.url)
    assert r1.describe_table(TableName=table_name)["Table"]["Replicas"] == [
        {"RegionName": R2, "ReplicaStatus": "ACTIVE"}
    ]


def test_group_wide_and_regional_settings(
    gt_server: RunningServer, clients: Callable[..., Any], table_name: str
) -> None:
    """SPEC-STREAM-APPS 6.5: TTL, provisioned throughput, billing mode and SSE set in one
    member reach every member's DescribeTable; tags, PITR and DeletionProtection stay
    regional."""
    r1, r2 = clients(R1), clients(R2)
    r1.create_table(
        TableName=table_name,
        KeySchema=KEY,
        AttributeDefinitions=DEFINITIONS,
        ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
    )
    r1.update_table(TableName=table_name, ReplicaUpdates=[{"Create": {"RegionName": R2}}])
    settle(gt_server.url)

    def both() -> list[dict[str, Any]]:
        return [c.describe_table(TableName=table_name)["Table"] for c in (r1, r2)]

    for table in both():
        assert table["BillingModeSummary"]["BillingMode"] == "PROVISIONED"
        assert table["ProvisionedThroughput"]["WriteCapacityUnits"] == 5
    # Manual provisioned throughput, from either member.
    r2.update_table(
        TableName=table_name,
        ProvisionedThroughput={"ReadCapacityUnits": 7, "WriteCapacityUnits": 9},
    )
    for table in both():
        assert table["ProvisionedThroughput"]["ReadCapacityUnits"] == 7
        assert table["ProvisionedThroughput"]["WriteCapacityUnits"] == 9
    # SSE type: KMS everywhere, each member's key in its own region.
    r1.update_table(TableName=table_name, SSESpecification={"Enabled": True, "SSEType": "KMS"})
    for region, table in zip((R1, R2), both(), strict=True):
        sse = table["SSEDescription"]
        assert sse["Status"] == "ENABLED" and sse["SSEType"] == "KMS"
        assert sse["KMSMasterKeyArn"].startswith(f"arn:aws:kms:{region}:000000000000:key/")
    r2.update_table(TableName=table_name, SSESpecification={"Enabled": False})
    for table in both():
        assert "SSEDescription" not in table
    # Billing mode.
    r1.update_table(TableName=table_name, BillingMode="PAY_PER_REQUEST")
    for table in both():
        assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
        assert table["ProvisionedThroughput"]["WriteCapacityUnits"] == 0
    # TTL, set in the replica.
    r2.update_time_to_live(
        TableName=table_name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "exp"}
    )
    ttl1, ttl2 = (
        c.describe_time_to_live(TableName=table_name)["TimeToLiveDescription"] for c in (r1, r2)
    )
    assert ttl1 == ttl2
    assert ttl1["AttributeName"] == "exp"
    assert ttl1["TimeToLiveStatus"] in ("ENABLING", "ENABLED")
    # Regional: tags, DeletionProtection, point-in-time recovery.
    arn1 = both()[0]["TableArn"]
    r1.tag_resource(ResourceArn=arn1, Tags=[{"Key": "team", "Value": "a"}])
    arn2 = both()[1]["TableArn"]
    assert r2.list_tags_of_resource(ResourceArn=arn2)["Tags"] == []
    r1.update_table(TableName=table_name, DeletionProtectionEnabled=True)
    assert [t["DeletionProtectionEnabled"] for t in both()] == [True, False]
    r1.update_table(TableName=table_name, DeletionProtectionEnabled=False)
    r1.update_continuous_backups(
        TableName=table_name,
        PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
    )
    statuses = [
        c.describe_continuous_backups(TableName=table_name)["ContinuousBackupsDescription"][
            "PointInTimeRecoveryDescription"
        ]["PointInTimeRecoveryStatus"]
        for c in (r1, r2)
    ]
    assert statuses == ["ENABLED", "DISABLED"]


@pytest.fixture(scope="module")
def strict_server() -> Iterator[RunningServer]:
    running = start_server(env={"EMULATOR_STRICT_GLOBAL_TABLES": "1"})
    try:
        yield running
    finally:
        running.stop()


def test_strict_global_tables(strict_server: RunningServer, table_name: str) -> None:
    """SPEC-STREAM-APPS 6.3, behind --strict-global-tables: a PROVISIONED table (no write
    auto scaling in the emulator) gets no replica; a region that sourced a new replica
    cannot be deleted for 24 hours of the emulator's clock."""
    url = strict_server.url
    r1, r2 = make_client(url, "dynamodb", R1), make_client(url, "dynamodb", R2)
    r1.create_table(
        TableName=table_name,
        KeySchema=KEY,
        AttributeDefinitions=DEFINITIONS,
        ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
    )
    create_r2 = [{"Create": {"RegionName": R2}}]
    assert error_of(r1.update_table, TableName=table_name, ReplicaUpdates=create_r2) == {
        "Code": "ValidationException",
        "Message": "Table write capacity should either be Pay-Per-Request or AutoScaled.",
    }
    assert "Replicas" not in r1.describe_table(TableName=table_name)["Table"]
    r1.update_table(TableName=table_name, BillingMode="PAY_PER_REQUEST")
    start = 1_900_000_000.0
    assert admin(url, "/_emulator/clock", {"set": start})[0] == 200
    try:
        r1.update_table(TableName=table_name, ReplicaUpdates=create_r2)
        settle(url)
        assert r2.describe_table(TableName=table_name)["Table"]["TableStatus"] == "ACTIVE"
        # r2 sourced nothing: a third region added from r1, then r2 removed at once.
        r1.update_table(TableName=table_name, ReplicaUpdates=[{"Create": {"RegionName": R3}}])
        settle(url)
        r1.update_table(TableName=table_name, ReplicaUpdates=[{"Delete": {"RegionName": R2}}])
        settle(url)
        held = {
            "Code": "ValidationException",
            "Message": "Replica cannot be deleted because it has acted as a source region for "
            "new replica(s) being added to the table in the last 24 hours.",
        }
        r3 = make_client(url, "dynamodb", R3)
        delete_r1 = [{"Delete": {"RegionName": R1}}]
        assert error_of(r3.update_table, TableName=table_name, ReplicaUpdates=delete_r1) == held
        admin(url, "/_emulator/clock", {"set": start + 24 * 3600 - 1})
        assert error_of(r3.update_table, TableName=table_name, ReplicaUpdates=delete_r1) == held
        admin(url, "/_emulator/clock", {"set": start + 24 * 3600})
        r3.update_table(TableName=table_name, ReplicaUpdates=delete_r1)
        settle(url)
        table = r3.describe_table(TableName=table_name)["Table"]
        assert "Replicas" not in table and table["TableStatus"] == "ACTIVE"
        assert error_of(r1.describe_table, TableName=table_name)["Code"] == (
            "ResourceNotFoundException"
        )
    finally:
        admin(url, "/_emulator/clock", {"mode": "real"})
