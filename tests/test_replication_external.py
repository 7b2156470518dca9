"""Replication of a table here to a table at another DynamoDB endpoint: a second emulator
process, configured through `POST /_emulator/replication/external`."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from conftest import free_port, make_client, read_stream, start_server

KEY = [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}]
DEFINITIONS = [
    {"AttributeName": "pk", "AttributeType": "S"},
    {"AttributeName": "sk", "AttributeType": "N"},
]


def call(url: str, path: str, body: Any = None, method: str | None = None) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        url + path,
        data=data,
        method=method or ("GET" if data is None else "POST"),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def create(client: Any, name: str, **extra: Any) -> None:
    client.create_table(
        TableName=name,
        KeySchema=KEY,
        AttributeDefinitions=DEFINITIONS,
        BillingMode="PAY_PER_REQUEST",
        **extra,
    )


def items_of(client: Any, name: str) -> dict[int, Any]:
    found = client.scan(TableName=name, ConsistentRead=True)["Items"]
    return {int(item["sk"]["N"]): item for item in found}


def test_backfill_then_tail_to_a_second_emulator() -> None:
    source_server, target_server = start_server(), start_server()
    try:
        source = make_client(source_server.url, "dynamodb", "us-east-1")
        target = make_client(target_server.url, "dynamodb", "eu-central-1")
        create(source, "orders")
        create(
            target,
            "orders-copy",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
        )
        for number in range(120):
            source.put_item(
                TableName="orders",
                Item={"pk": {"S": "p"}, "sk": {"N": str(number)}, "v": {"S": "old"}},
            )
        status, link = call(
            source_server.url,
            "/_emulator/replication/external",
            {
                "TableName": "orders",
                "Endpoint": target_server.url,
                "TargetTableName": "orders-copy",
                "TargetRegion": "eu-central-1",
            },
        )
        assert status == 200, link
        assert link["State"] == "BACKFILLING"
        for number in range(100, 130):
            source.put_item(
                TableName="orders",
                Item={"pk": {"S": "p"}, "sk": {"N": str(number)}, "v": {"S": "new"}},
            )
        source.delete_item(TableName="orders", Key={"pk": {"S": "p"}, "sk": {"N": "5"}})
        source.update_item(
            TableName="orders",
            Key={"pk": {"S": "p"}, "sk": {"N": "6"}},
            UpdateExpression="SET v = :v",
            ExpressionAttributeValues={":v": {"S": "updated"}},
        )
        assert call(source_server.url, "/_emulator/triggers/settle", {"timeout": 30})[0] == 200
        assert items_of(target, "orders-copy") == items_of(source, "orders")
        assert len(items_of(target, "orders-copy")) == 129
        status, described = call(source_server.url, f"/_emulator/replication/external/{link['Id']}")
        assert status == 200
        assert described["State"] == "TAILING"
        assert described["PendingWrites"] == 0
        assert described["LagMillis"] == 0.0
        # The target's own stream saw the writes as ordinary writes.
        arn = target.describe_table(TableName="orders-copy")["Table"]["LatestStreamArn"]
        records = read_stream(
            make_client(target_server.url, "dynamodbstreams", "eu-central-1"), arn
        )
        assert {r["eventName"] for r in records} == {"INSERT", "MODIFY", "REMOVE"}
        # Removing the link stops replication.
        status, _ = call(
            source_server.url, f"/_emulator/replication/external/{link['Id']}", method="DELETE"
        )
        assert status == 200
        source.put_item(TableName="orders", Item={"pk": {"S": "p"}, "sk": {"N": "999"}})
        assert call(source_server.url, "/_emulator/triggers/settle", {"timeout": 30})[0] == 200
        assert 999 not in items_of(target, "orders-copy")
        assert call(source_server.url, "/_emulator/replication/external")[1] == {"External": []}
    finally:
        source_server.stop()
        target_server.stop()


def test_endpoint_down_and_source_restarted_loses_nothing(tmp_path: Path) -> None:
    """The target is down while writes queue up and the source restarts: once the target
    is back, every write arrives (resumed from the stored position)."""
    target_port = free_port()
    target_dir, source_dir = str(tmp_path / "target"), str(tmp_path / "source")
    target_server = start_server("--data-dir", target_dir, port=target_port)
    target_url = target_server.url
    create(make_client(target_url, "dynamodb", "us-east-1"), "copy")
    target_server.stop()
    source_server = start_server("--data-dir", source_dir)
    try:
        source = make_client(source_server.url, "dynamodb", "us-east-1")
        create(source, "live")
        for number in range(40):
            source.put_item(TableName="live", Item={"pk": {"S": "a"}, "sk": {"N": str(number)}})
        status, link = call(
            source_server.url,
            "/_emulator/replication/external",
            {"TableName": "live", "Endpoint": target_url, "TargetTableName": "copy"},
        )
        assert status == 200
        for number in range(40, 60):
            source.put_item(TableName="live", Item={"pk": {"S": "a"}, "sk": {"N": str(number)}})
        status, _ = call(source_server.url, "/_emulator/triggers/settle", {"timeout": 2})
        assert status == 409
        status, described = call(source_server.url, f"/_emulator/replication/external/{link['Id']}")
        assert "LastError" in described
    finally:
        source_server.stop()
    source_server = start_server("--data-dir", source_dir)
    target_server = start_server("--data-dir", target_dir, port=target_port)
    try:
        source = make_client(source_server.url, "dynamodb", "us-east-1")
        source.delete_item(TableName="live", Key={"pk": {"S": "a"}, "sk": {"N": "0"}})
        status, body = call(source_server.url, "/_emulator/triggers/settle", {"timeout": 30})
        assert status == 200, body
        target = make_client(target_url, "dynamodb", "us-east-1")
        assert sorted(items_of(target, "copy")) == list(range(1, 60))
    finally:
        source_server.stop()
        target_server.stop()


def test_admin_input_errors() -> None:
    running = start_server()
    try:
        url = running.url
        assert call(url, "/_emulator/replication/external", {"TableName": "x"})[0] == 400
        assert (
            call(
                url,
                "/_emulator/replication/external",
                {"TableName": "x", "Endpoint": "ftp://nowhere"},
            )[0]
            == 400
        )
        status, body = call(
            url,
            "/_emulator/replication/external",
            {"TableName": "missing", "Endpoint": "http://127.0.0.1:1"},
        )
        assert (status, body) == (404, {"error": "Table missing not found in us-east-1"})
        assert call(url, "/_emulator/replication/external/nope", method="DELETE")[0] == 404
        assert call(url, "/_emulator/replication/external/nope")[0] == 404
    finally:
        running.stop()
