"""Table status timing (issue 18 item 8): with the opt-in ``--table-delay-ms``, CreateTable,
UpdateTable and DeleteTable leave the table CREATING / UPDATING / DELETING for the delay on
the emulator's clock (a manual clock holds a phase until it is advanced), a GSI created by
UpdateTable goes CREATING -> backfilling -> ACTIVE, and boto3's waiters work against it.
Through boto3 against real servers started with the flag; the default (no flag) stays
immediate.

AWS's texts: "Attempt to change a resource which is still in use: Table is being
created|updated|deleted: NAME", "Cannot read from backfilling global secondary index:
NAME", "Cannot describe time to live while table is in CREATING state: Current table
state is CREATING", "Subscriber limit exceeded: Only 1 online index can be created or
deleted simultaneously per table" (ack-api-quirks DynamoDB findings DDB-TABLE-148/442,
and widely reported answers).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, RunningServer, error_of, make_client, start_server

DELAY_MS = 1000
DELAY = DELAY_MS / 1000
IN_USE = "Attempt to change a resource which is still in use: "


def admin(url: str, path: str, body: dict[str, Any]) -> Any:
    request = urllib.request.Request(
        url + path,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


@pytest.fixture(scope="module")
def delayed() -> Iterator[RunningServer]:
    """A server with a 1 s delay whose clock the tests move by hand."""
    running = start_server("--table-delay-ms", str(DELAY_MS))
    try:
        admin(running.url, "/_emulator/clock", {"mode": "manual"})
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def client(delayed: RunningServer) -> Any:
    return make_client(delayed.url)


def advance(server: RunningServer, seconds: float) -> None:
    admin(server.url, "/_emulator/clock", {"advance": seconds})


def not_found(name: str) -> dict[str, str]:
    return {
        "Code": "ResourceNotFoundException",
        "Message": f"Requested resource not found: Table: {name} not found",
    }


def in_use(message: str) -> dict[str, str]:
    return {"Code": "ResourceInUseException", "Message": IN_USE + message}


def create(client: Any, name: str, **extra: Any) -> dict[str, Any]:
    response = client.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            *extra.pop("defs", []),
        ],
        BillingMode="PAY_PER_REQUEST",
        **extra,
    )
    return dict(response["TableDescription"])


def status(client: Any, name: str) -> str:
    return str(client.describe_table(TableName=name)["Table"]["TableStatus"])


GSI = {
    "IndexName": "by_a",
    "KeySchema": [{"AttributeName": "a", "KeyType": "HASH"}],
    "Projection": {"ProjectionType": "ALL"},
}


def test_create_table_is_creating_until_the_clock_passes_the_delay(
    delayed: RunningServer, client: Any, table_name: str
) -> None:
    created = create(
        client,
        table_name,
        defs=[{"AttributeName": "a", "AttributeType": "S"}],
        GlobalSecondaryIndexes=[GSI],
    )
    assert created["TableStatus"] == "CREATING"
    assert [g["IndexStatus"] for g in created["GlobalSecondaryIndexes"]] == ["CREATING"]
    described = client.describe_table(TableName=table_name)["Table"]
    assert described["TableStatus"] == "CREATING"
    assert described["GlobalSecondaryIndexes"][0]["IndexStatus"] == "CREATING"
    assert table_name in client.list_tables()["TableNames"]
    # Data-plane calls do not find a table being created, as on AWS.
    key = {"pk": {"S": "k"}}
    assert error_of(client.put_item, TableName=table_name, Item=key) == not_found(table_name)
    assert error_of(client.get_item, TableName=table_name, Key=key) == not_found(table_name)
    assert error_of(client.scan, TableName=table_name) == not_found(table_name)
    # Control-plane changes are refused while it is being created.
    assert error_of(client.delete_table, TableName=table_name) == in_use(
        f"Table is being created: {table_name}"
    )
    assert error_of(
        client.update_table, TableName=table_name, DeletionProtectionEnabled=True
    ) == in_use(f"Table is being created: {table_name}")
    assert error_of(client.describe_time_to_live, TableName=table_name) == {
        "Code": "ValidationException",
        "Message": "Cannot describe time to live while table is in CREATING state: Current "
        "table state is CREATING",
    }
    advance(delayed, DELAY - 0.001)
    assert status(client, table_name) == "CREATING"  # a manual clock holds the phase
    advance(delayed, 0.001)
    described = client.describe_table(TableName=table_name)["Table"]
    assert described["TableStatus"] == "ACTIVE"
    assert described["GlobalSecondaryIndexes"][0]["IndexStatus"] == "ACTIVE"
    client.put_item(TableName=table_name, Item={**key, "a": {"S": "x"}})
    assert client.get_item(TableName=table_name, Key=key)["Item"] == {**key, "a": {"S": "x"}}


def test_update_table_is_updating_and_writes_still_work(
    delayed: RunningServer, client: Any, table_name: str
) -> None:
    create(client, table_name)
    advance(delayed, DELAY)
    response = client.update_table(TableName=table_name, DeletionProtectionEnabled=True)
    assert response["TableDescription"]["TableStatus"] == "UPDATING"
    assert status(client, table_name) == "UPDATING"
    item = {"pk": {"S": "during"}, "n": {"N": "1"}}
    client.put_item(TableName=table_name, Item=item)
    assert client.get_item(TableName=table_name, Key={"pk": {"S": "during"}})["Item"] == item
    assert client.scan(TableName=table_name)["Count"] == 1
    assert error_of(
        client.update_table, TableName=table_name, DeletionProtectionEnabled=False
    ) == in_use(f"Table is being updated: {table_name}")
    assert error_of(client.delete_table, TableName=table_name) == in_use(
        f"Table is being updated: {table_name}"
    )
    advance(delayed, DELAY)
    table = client.describe_table(TableName=table_name)["Table"]
    assert (table["TableStatus"], table["DeletionProtectionEnabled"]) == ("ACTIVE", True)
    client.update_table(TableName=table_name, DeletionProtectionEnabled=False)
    advance(delayed, DELAY)


def test_a_new_gsi_is_creating_then_backfilling_then_active(
    delayed: RunningServer, client: Any, table_name: str
) -> None:
    create(client, table_name)
    advance(delayed, DELAY)
    client.put_item(TableName=table_name, Item={"pk": {"S": "before"}, "a": {"S": "x"}})
    response = client.update_table(
        TableName=table_name,
        AttributeDefinitions=[{"AttributeName": "a", "AttributeType": "S"}],
        GlobalSecondaryIndexUpdates=[{"Create": GSI}],
    )
    table = response["TableDescription"]
    index = table["GlobalSecondaryIndexes"][0]
    assert (table["TableStatus"], index["IndexStatus"], index["Backfilling"]) == (
        "UPDATING",
        "CREATING",
        False,
    )
    client.put_item(TableName=table_name, Item={"pk": {"S": "during"}, "a": {"S": "x"}})

    def query() -> Any:
        return client.query(
            TableName=table_name,
            IndexName="by_a",
            KeyConditionExpression="a = :a",
            ExpressionAttributeValues={":a": {"S": "x"}},
        )

    backfilling = {
        "Code": "ValidationException",
        "Message": "Cannot read from backfilling global secondary index: by_a",
    }
    assert error_of(query) == backfilling
    advance(delayed, DELAY)
    table = client.describe_table(TableName=table_name)["Table"]
    index = table["GlobalSecondaryIndexes"][0]
    assert (table["TableStatus"], index["IndexStatus"], index["Backfilling"]) == (
        "ACTIVE",
        "CREATING",
        True,
    )
    assert error_of(query) == backfilling
    assert error_of(
        client.update_table,
        TableName=table_name,
        AttributeDefinitions=[{"AttributeName": "b", "AttributeType": "S"}],
        GlobalSecondaryIndexUpdates=[
            {
                "Create": {
                    **GSI,
                    "IndexName": "by_b",
                    "KeySchema": [{"AttributeName": "b", "KeyType": "HASH"}],
                }
            }
        ],
    ) == {
        "Code": "LimitExceededException",
        "Message": "Subscriber limit exceeded: Only 1 online index can be created or deleted "
        "simultaneously per table",
    }
    assert error_of(client.delete_table, TableName=table_name) == in_use(
        "Cannot delete table while indexes are being created, updated, or deleted."
    )
    advance(delayed, DELAY)
    index = client.describe_table(TableName=table_name)["Table"]["GlobalSecondaryIndexes"][0]
    assert index["IndexStatus"] == "ACTIVE" and "Backfilling" not in index
    assert index["ItemCount"] == 2
    assert sorted(i["pk"]["S"] for i in query()["Items"]) == ["before", "during"]


def test_a_deleted_gsi_is_deleting_until_the_table_is_active(
    delayed: RunningServer, client: Any, table_name: str
) -> None:
    create(
        client,
        table_name,
        defs=[{"AttributeName": "a", "AttributeType": "S"}],
        GlobalSecondaryIndexes=[GSI],
    )
    advance(delayed, DELAY)
    response = client.update_table(
        TableName=table_name, GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "by_a"}}]
    )
    table = response["TableDescription"]
    assert table["TableStatus"] == "UPDATING"
    assert [(g["IndexName"], g["IndexStatus"]) for g in table["GlobalSecondaryIndexes"]] == [
        ("by_a", "DELETING")
    ]
    assert error_of(client.scan, TableName=table_name, IndexName="by_a") == {
        "Code": "ValidationException",
        "Message": "The table does not have the specified index: by_a",
    }
    advance(delayed, DELAY)
    table = client.describe_table(TableName=table_name)["Table"]
    assert table["TableStatus"] == "ACTIVE" and "GlobalSecondaryIndexes" not in table


def test_delete_table_is_deleting_then_gone(
    delayed: RunningServer, client: Any, table_name: str
) -> None:
    create(client, table_name)
    advance(delayed, DELAY)
    client.put_item(TableName=table_name, Item={"pk": {"S": "k"}})
    response = client.delete_table(TableName=table_name)
    assert response["TableDescription"]["TableStatus"] == "DELETING"
    assert status(client, table_name) == "DELETING"
    assert table_name in client.list_tables()["TableNames"]
    assert error_of(client.get_item, TableName=table_name, Key={"pk": {"S": "k"}}) == (
        not_found(table_name)
    )
    assert error_of(client.delete_table, TableName=table_name) == in_use(
        f"Table is being deleted: {table_name}"
    )
    assert error_of(create, client=client, name=table_name) == {
        "Code": "ResourceInUseException",
        "Message": f"Table already exists: {table_name}",
    }
    advance(delayed, DELAY)
    assert error_of(client.describe_table, TableName=table_name) == not_found(table_name)
    assert table_name not in client.list_tables()["TableNames"]
    # The name is free again, and the new table starts empty.
    assert create(client, table_name)["TableStatus"] == "CREATING"
    advance(delayed, DELAY)
    assert client.scan(TableName=table_name)["Count"] == 0


def test_a_phase_survives_a_restart(tmp_path: Path) -> None:
    data = str(tmp_path / "data")
    first = start_server("--table-delay-ms", "5000", "--data-dir", data)
    try:
        admin(first.url, "/_emulator/clock", {"mode": "manual"})
        create(make_client(first.url), "kept-creating")
    finally:
        first.stop()
    second = start_server("--table-delay-ms", "5000", "--data-dir", data)
    try:
        client = make_client(second.url)
        assert status(client, "kept-creating") == "CREATING"
        advance(second, 5)
        assert status(client, "kept-creating") == "ACTIVE"
    finally:
        second.stop()


def test_boto3_waiters_in_real_time() -> None:
    """`table_exists` waits out CREATING, `table_not_exists` waits out DELETING (the
    environment variable sets the delay, like every flag)."""
    running = start_server(env={"EMULATOR_TABLE_DELAY_MS": "300"})
    try:
        client = make_client(running.url)
        started = time.monotonic()
        assert create(client, "waited")["TableStatus"] == "CREATING"
        client.get_waiter("table_exists").wait(
            TableName="waited", WaiterConfig={"Delay": 0.05, "MaxAttempts": 200}
        )
        assert time.monotonic() - started >= 0.3
        assert status(client, "waited") == "ACTIVE"
        client.put_item(TableName="waited", Item={"pk": {"S": "k"}})
        started = time.monotonic()
        assert client.delete_table(TableName="waited")["TableDescription"]["TableStatus"] == (
            "DELETING"
        )
        client.get_waiter("table_not_exists").wait(
            TableName="waited", WaiterConfig={"Delay": 0.05, "MaxAttempts": 200}
        )
        assert time.monotonic() - started >= 0.3
        assert error_of(client.describe_table, TableName="waited") == not_found("waited")
    finally:
        running.stop()


def test_the_default_stays_immediate(ddb: Any, table_name: str) -> None:
    assert create(ddb, table_name)["TableStatus"] == "ACTIVE"
    ddb.put_item(TableName=table_name, Item={"pk": {"S": "k"}})
    assert ddb.delete_table(TableName=table_name)["TableDescription"]["TableStatus"] == ("DELETING")
    assert error_of(ddb.describe_table, TableName=table_name) == not_found(table_name)


def test_a_negative_delay_is_refused() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "emulator", "--table-delay-ms", "-1"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=dict(os.environ),
        timeout=30,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (
        "ddb-emulator: error: --table-delay-ms must be at least 0 and at most 86400000, not -1"
    )
