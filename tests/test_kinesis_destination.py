"""A table's Kinesis Data Streams destination (SPEC.md 4.8, SPEC-STREAM-APPS 4, checks
30-34) through the real server: the DynamoDB operations and their states, the record each
write becomes, partition keys and ordering, durability across a restart, rollbacks,
faults, and forwarding to external Kinesis endpoints (kinesalite, kinesis-local, and a
second emulator).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, RunningServer, error_of, free_port, make_client, start_server
from kinesis_support import admin, data_of, read_all, settle

ACCOUNT = "000000000000"
RECORD_KEYS = {
    "awsRegion",
    "eventID",
    "eventName",
    "userIdentity",
    "recordFormat",
    "tableName",
    "dynamodb",
    "eventSource",
}
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
PARTNERS = ROOT / "tests" / "kinesis"


def stream_arn(name: str) -> str:
    return f"arn:aws:kinesis:us-east-1:{ACCOUNT}:stream/{name}"


@pytest.fixture(scope="module")
def kinesis(endpoint: str) -> Any:
    return make_client(endpoint, "kinesis")


@pytest.fixture
def destination(kinesis: Any, ddb: Any, endpoint: str, table_name: str) -> Callable[..., str]:
    """Create a Kinesis stream named after the test and enable it on `table`."""

    def enable(table: str, shards: int = 1, **configuration: Any) -> str:
        name = f"k-{table}"[:128]
        kinesis.create_stream(StreamName=name, ShardCount=shards)
        settle(endpoint)
        kwargs: dict[str, Any] = {"TableName": table, "StreamArn": stream_arn(name)}
        if configuration:
            kwargs["EnableKinesisStreamingConfiguration"] = configuration
        ddb.enable_kinesis_streaming_destination(**kwargs)
        settle(endpoint)
        return name

    return enable


def records_of(kinesis: Any, stream: str) -> list[dict[str, Any]]:
    """The stream's records in per-shard order (shards by id)."""
    return [r for _, rs in sorted(read_all(kinesis, stream).items()) for r in rs]


def strip(answer: dict[str, Any]) -> dict[str, Any]:
    answer.pop("ResponseMetadata", None)
    return answer


# -- check 30, 31: the operations and their states -------------------------------------------


def test_enable_describe_update_disable(
    ddb: Any, kinesis: Any, endpoint: str, make_table: Callable[..., str]
) -> None:
    table = make_table()
    name = f"k-{table}"
    kinesis.create_stream(StreamName=name, ShardCount=1)
    settle(endpoint)
    arn = stream_arn(name)
    assert strip(ddb.enable_kinesis_streaming_destination(TableName=table, StreamArn=arn)) == {
        "TableName": table,
        "StreamArn": arn,
        "DestinationStatus": "ENABLING",
        "EnableKinesisStreamingConfiguration": {},
    }
    settle(endpoint)
    assert strip(ddb.describe_kinesis_streaming_destination(TableName=table)) == {
        "TableName": table,
        "KinesisDataStreamDestinations": [{"StreamArn": arn, "DestinationStatus": "ACTIVE"}],
    }
    assert error_of(ddb.enable_kinesis_streaming_destination, TableName=table, StreamArn=arn) == {
        "Code": "ValidationException",
        "Message": "Table is not in a valid state to enable Kinesis Streaming Destination: "
        "EnableKinesisStreamingDestination must be DISABLED or ENABLE_FAILED to perform ENABLE "
        "operation.",
    }
    micro = {"ApproximateCreationDateTimePrecision": "MICROSECOND"}
    assert strip(
        ddb.update_kinesis_streaming_destination(
            TableName=table, StreamArn=arn, UpdateKinesisStreamingConfiguration=micro
        )
    ) == {
        "TableName": table,
        "StreamArn": arn,
        "DestinationStatus": "UPDATING",
        "UpdateKinesisStreamingConfiguration": micro,
    }
    settle(endpoint)
    assert ddb.describe_kinesis_streaming_destination(TableName=table)[
        "KinesisDataStreamDestinations"
    ] == [
        {
            "StreamArn": arn,
            "DestinationStatus": "ACTIVE",
            "ApproximateCreationDateTimePrecision": "MICROSECOND",
        }
    ]
    table_id = ddb.describe_table(TableName=table)["Table"]["TableId"]
    assert error_of(
        ddb.update_kinesis_streaming_destination,
        TableName=table,
        StreamArn=arn,
        UpdateKinesisStreamingConfiguration=micro,
    ) == {
        "Code": "ValidationException",
        "Message": "Invalid Request: Precision is already set to the desired value of "
        f"MICROSECOND for tableId: {table_id}, kdsArn: {arn}",
    }
    assert error_of(
        ddb.update_kinesis_streaming_destination,
        TableName=table,
        StreamArn=arn,
        UpdateKinesisStreamingConfiguration={"ApproximateCreationDateTimePrecision": "SECOND"},
    ) == {
        "Code": "ValidationException",
        "Message": "1 validation error detected: Value 'SECOND' at "
        "'updateKinesisStreamingConfiguration.approximateCreationDateTimePrecision' failed to "
        "satisfy constraint: Member must satisfy enum value set: [MILLISECOND, MICROSECOND]",
    }
    assert error_of(
        ddb.update_kinesis_streaming_destination,
        TableName=table,
        StreamArn=arn,
        UpdateKinesisStreamingConfiguration={},
    ) == {
        "Code": "ValidationException",
        "Message": "Streaming destination cannot be updated with given parameters: "
        "UpdateKinesisStreamingConfiguration cannot be null or contain only null values",
    }
    other = stream_arn("not-a-destination")
    assert error_of(
        ddb.update_kinesis_streaming_destination,
        TableName=table,
        StreamArn=other,
        UpdateKinesisStreamingConfiguration=micro,
    ) == {
        "Code": "ValidationException",
        "Message": "Table is not in a valid state to enable Kinesis Streaming Destination: No "
        f"streaming destination with streamArn: {other} found for table with tableName: {table}",
    }
    disabled = strip(ddb.disable_kinesis_streaming_destination(TableName=table, StreamArn=arn))
    assert disabled["DestinationStatus"] == "DISABLING"
    settle(endpoint)
    assert ddb.describe_kinesis_streaming_destination(TableName=table)[
        "KinesisDataStreamDestinations"
    ] == [
        {
            "StreamArn": arn,
            "DestinationStatus": "DISABLED",
            "ApproximateCreationDateTimePrecision": "MICROSECOND",
        }
    ]
    # Disabled: writes no longer reach the stream; enabling again is allowed.
    ddb.put_item(TableName=table, Item={"pk": {"S": "after-disable"}})
    assert records_of(kinesis, name) == []
    assert (
        ddb.enable_kinesis_streaming_destination(TableName=table, StreamArn=arn)[
            "DestinationStatus"
        ]
        == "ENABLING"
    )


def test_unknown_table_and_missing_stream(
    ddb: Any, endpoint: str, make_table: Callable[..., str]
) -> None:
    for call in (
        ddb.enable_kinesis_streaming_destination,
        ddb.disable_kinesis_streaming_destination,
    ):
        assert error_of(call, TableName="bad-table", StreamArn=stream_arn("x")) == {
            "Code": "ResourceNotFoundException",
            "Message": "Requested resource not found: Table: bad-table not found",
        }
    assert error_of(ddb.describe_kinesis_streaming_destination, TableName="bad-table") == {
        "Code": "ResourceNotFoundException",
        "Message": "Requested resource not found: Table: bad-table not found",
    }
    table = make_table()
    missing = stream_arn("no-such-stream")
    ddb.enable_kinesis_streaming_destination(TableName=table, StreamArn=missing)
    settle(endpoint)
    [described] = ddb.describe_kinesis_streaming_destination(TableName=table)[
        "KinesisDataStreamDestinations"
    ]
    assert described["DestinationStatus"] == "ENABLE_FAILED"
    assert missing in described["DestinationStatusDescription"]


# -- check 32: the record ---------------------------------------------------------------------


@pytest.mark.parametrize("stream_view", [None, "KEYS_ONLY"])
def test_each_write_becomes_one_record(
    ddb: Any,
    kinesis: Any,
    endpoint: str,
    make_table: Callable[..., str],
    destination: Callable[..., str],
    stream_view: str | None,
) -> None:
    table = make_table(range_key="N", stream=stream_view)
    name = destination(table)
    key = {"pk": {"S": "item"}, "sk": {"N": "1"}}
    ddb.put_item(TableName=table, Item={**key, "v": {"S": "one"}})
    ddb.update_item(
        TableName=table,
        Key=key,
        UpdateExpression="SET v = :v",
        ExpressionAttributeValues={":v": {"S": "two"}},
    )
    ddb.put_item(TableName=table, Item={**key, "v": {"S": "two"}})  # no change: no record
    ddb.delete_item(TableName=table, Key=key)
    records = records_of(kinesis, name)
    data = data_of(records)
    assert [d["eventName"] for d in data] == ["INSERT", "MODIFY", "REMOVE"]
    for record in data:
        assert set(record) == RECORD_KEYS
        assert UUID.fullmatch(record["eventID"])
        assert record["userIdentity"] is None
        assert record["recordFormat"] == "application/json"
        assert record["tableName"] == table
        assert record["awsRegion"] == "us-east-1"
        assert record["eventSource"] == "aws:dynamodb"
        created = record["dynamodb"]["ApproximateCreationDateTime"]
        assert isinstance(created, int) and len(str(created)) == 13
        assert abs(created / 1000 - time.time()) < 60
        assert record["dynamodb"]["Keys"] == key
        assert "SequenceNumber" not in record["dynamodb"]
        assert "StreamViewType" not in record["dynamodb"]
        assert "ApproximateCreationDateTimePrecision" not in record["dynamodb"]
    insert, modify, remove = (d["dynamodb"] for d in data)
    assert insert["NewImage"] == {**key, "v": {"S": "one"}} and "OldImage" not in insert
    assert modify["OldImage"] == {**key, "v": {"S": "one"}}
    assert modify["NewImage"] == {**key, "v": {"S": "two"}}
    assert remove["OldImage"] == {**key, "v": {"S": "two"}} and "NewImage" not in remove
    # SizeBytes (SPEC.md 3.2): names and values of the keys and of the images carried
    # (a one-digit number takes 2 bytes).
    key_size = len("pk") + len("item") + len("sk") + 2
    image_size = key_size + len("v") + 3
    assert [d["dynamodb"]["SizeBytes"] for d in data] == [
        key_size + image_size,
        key_size + 2 * image_size,
        key_size + image_size,
    ]
    assert len({d["eventID"] for d in data}) == 3
    assert {r["PartitionKey"] for r in records} == {records[0]["PartitionKey"]}


def test_microsecond_precision_after_the_update(
    ddb: Any,
    kinesis: Any,
    endpoint: str,
    make_table: Callable[..., str],
    destination: Callable[..., str],
) -> None:
    table = make_table()
    name = destination(table)
    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}})
    ddb.update_kinesis_streaming_destination(
        TableName=table,
        StreamArn=stream_arn(name),
        UpdateKinesisStreamingConfiguration={"ApproximateCreationDateTimePrecision": "MICROSECOND"},
    )
    ddb.put_item(TableName=table, Item={"pk": {"S": "b"}})
    settle(endpoint)
    ddb.put_item(TableName=table, Item={"pk": {"S": "c"}})
    before, *after = (d["dynamodb"] for d in data_of(records_of(kinesis, name)))
    assert len(str(before["ApproximateCreationDateTime"])) == 13
    assert "ApproximateCreationDateTimePrecision" not in before
    assert len(after) == 2
    for record in after:
        assert len(str(record["ApproximateCreationDateTime"])) == 16
        assert record["ApproximateCreationDateTimePrecision"] == "MICROSECOND"


def test_enable_with_microsecond_precision(
    ddb: Any, kinesis: Any, make_table: Callable[..., str], destination: Callable[..., str]
) -> None:
    table = make_table()
    name = destination(table, ApproximateCreationDateTimePrecision="MICROSECOND")
    [shown] = ddb.describe_kinesis_streaming_destination(TableName=table)[
        "KinesisDataStreamDestinations"
    ]
    assert shown["ApproximateCreationDateTimePrecision"] == "MICROSECOND"
    ddb.put_item(TableName=table, Item={"pk": {"S": "x"}})
    [record] = data_of(records_of(kinesis, name))
    assert len(str(record["dynamodb"]["ApproximateCreationDateTime"])) == 16


def test_transactions_batches_and_rollbacks(
    ddb: Any, kinesis: Any, make_table: Callable[..., str], destination: Callable[..., str]
) -> None:
    table = make_table()
    name = destination(table)
    ddb.batch_write_item(
        RequestItems={table: [{"PutRequest": {"Item": {"pk": {"S": f"b{i}"}}}} for i in range(5)]}
    )
    with pytest.raises(ddb.exceptions.TransactionCanceledException):
        ddb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": table, "Item": {"pk": {"S": "t1"}}}},
                {
                    "Put": {
                        "TableName": table,
                        "Item": {"pk": {"S": "b0"}},
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
            ]
        )
    with pytest.raises(ddb.exceptions.ConditionalCheckFailedException):
        ddb.put_item(
            TableName=table,
            Item={"pk": {"S": "b1"}},
            ConditionExpression="attribute_not_exists(pk)",
        )
    ddb.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": table, "Item": {"pk": {"S": "t2"}}}},
            {"Delete": {"TableName": table, "Key": {"pk": {"S": "b4"}}}},
        ]
    )
    data = data_of(records_of(kinesis, name))
    events = sorted((d["eventName"], d["dynamodb"]["Keys"]["pk"]["S"]) for d in data)
    assert events == sorted(
        [("INSERT", f"b{i}") for i in range(5)] + [("INSERT", "t2"), ("REMOVE", "b4")]
    )


# -- check 33: partition keys, spreading, per-item order ----------------------------------------


def test_partition_keys_spread_over_shards_and_keep_item_order(
    ddb: Any, kinesis: Any, make_table: Callable[..., str], destination: Callable[..., str]
) -> None:
    table = make_table(range_key="S")
    name = destination(table, shards=4)
    items = [(f"user-{i % 7}", f"k{i}") for i in range(40)]
    for round_ in range(3):
        for pk, sk in items:
            ddb.put_item(
                TableName=table, Item={"pk": {"S": pk}, "sk": {"S": sk}, "n": {"N": str(round_)}}
            )
    by_shard = read_all(kinesis, name)
    assert sum(1 for records in by_shard.values() if records) > 1
    keys_of_item: dict[tuple[str, str], set[str]] = {}
    shards_of_item: dict[tuple[str, str], set[str]] = {}
    rounds: dict[tuple[str, str], list[int]] = {}
    for shard_id, records in by_shard.items():
        for record in records:
            data = json.loads(record["Data"])
            item = (data["dynamodb"]["Keys"]["pk"]["S"], data["dynamodb"]["Keys"]["sk"]["S"])
            assert re.fullmatch(r"[0-9A-F]{32}", record["PartitionKey"])
            keys_of_item.setdefault(item, set()).add(record["PartitionKey"])
            shards_of_item.setdefault(item, set()).add(shard_id)
            rounds.setdefault(item, []).append(int(data["dynamodb"]["NewImage"]["n"]["N"]))
    assert all(len(keys) == 1 for keys in keys_of_item.values())
    assert len({next(iter(keys)) for keys in keys_of_item.values()}) == len(items)
    assert all(len(shards) == 1 for shards in shards_of_item.values())
    assert rounds == {item: [0, 1, 2] for item in items}


# -- durability -------------------------------------------------------------------------------


def _enable_on(server: RunningServer, table: str, stream: str, shards: int = 1) -> tuple[Any, Any]:
    ddb = make_client(server.url)
    kinesis = make_client(server.url, "kinesis")
    kinesis.create_stream(StreamName=stream, ShardCount=shards)
    ddb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    settle(server.url)
    ddb.enable_kinesis_streaming_destination(TableName=table, StreamArn=stream_arn(stream))
    settle(server.url)
    return ddb, kinesis


def test_records_survive_a_restart_with_a_data_dir(tmp_path: Path) -> None:
    first = start_server("--data-dir", str(tmp_path))
    try:
        ddb, _ = _enable_on(first, "durable", "durable-stream")
        for i in range(20):
            ddb.put_item(TableName="durable", Item={"pk": {"S": f"i{i}"}})
    finally:
        first.stop()
    second = start_server("--data-dir", str(tmp_path))
    try:
        ddb = make_client(second.url)
        kinesis = make_client(second.url, "kinesis")
        ddb.put_item(TableName="durable", Item={"pk": {"S": "after"}})
        names = [
            d["dynamodb"]["Keys"]["pk"]["S"] for d in data_of(records_of(kinesis, "durable-stream"))
        ]
        assert names == [f"i{i}" for i in range(20)] + ["after"]
        numbers = [int(r["SequenceNumber"]) for r in records_of(kinesis, "durable-stream")]
        assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)
        assert (
            ddb.describe_kinesis_streaming_destination(TableName="durable")[
                "KinesisDataStreamDestinations"
            ][0]["DestinationStatus"]
            == "ACTIVE"
        )
    finally:
        second.stop()


def test_ttl_deletes_carry_the_service_identity() -> None:
    server = start_server()
    try:
        admin(server.url, "/_emulator/clock", {"mode": "manual"})
        ddb, kinesis = _enable_on(server, "expiring", "expiring-stream")
        ddb.update_time_to_live(
            TableName="expiring",
            TimeToLiveSpecification={"Enabled": True, "AttributeName": "ttl"},
        )
        admin(server.url, "/_emulator/clock", {"advance": 10})
        now = float(admin(server.url, "/_emulator/clock", method="GET")["now"])
        ddb.put_item(
            TableName="expiring", Item={"pk": {"S": "old"}, "ttl": {"N": str(int(now) - 5)}}
        )
        admin(server.url, "/_emulator/ttl/sweep")
        insert, remove = data_of(records_of(kinesis, "expiring-stream"))
        assert insert["userIdentity"] is None
        assert remove["eventName"] == "REMOVE"
        assert remove["userIdentity"] == {
            "type": "Service",
            "principalId": "dynamodb.amazonaws.com",
        }
    finally:
        server.stop()


# -- faults -------------------------------------------------------------------------------------


def test_duplicate_and_reorder_faults_when_switched_on() -> None:
    server = start_server()
    try:
        ddb, kinesis = _enable_on(server, "faulty", "faulty-stream")
        admin(server.url, "/_emulator/kinesis/faults", {"DuplicateEvery": 3, "ReorderEvery": 4})
        for i in range(12):
            ddb.put_item(TableName="faulty", Item={"pk": {"S": "same"}, "n": {"N": str(i)}})
        settle(server.url)
        admin(server.url, "/_emulator/kinesis/faults", {"DuplicateEvery": 0, "ReorderEvery": 0})
        ddb.put_item(TableName="faulty", Item={"pk": {"S": "same"}, "n": {"N": "12"}})
        settle(server.url)
        data = data_of(records_of(kinesis, "faulty-stream"))
        numbers = [int(d["dynamodb"]["NewImage"]["n"]["N"]) for d in data]
        assert len(numbers) == 13 + 4  # every third of the 12 faulty ones twice
        assert numbers != sorted(numbers)  # reordered
        assert sorted(set(numbers)) == list(range(13))
        assert numbers[-1] == 12  # faults off: in order again
        # Consumers dedupe by eventID and order by ApproximateCreationDateTime (AWS's advice).
        assert len({d["eventID"] for d in data}) == 13
    finally:
        server.stop()


# -- check 34: external endpoints -----------------------------------------------------------------


@pytest.fixture(scope="module")
def node() -> str:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("the Kinesis partner tests need `node` and `npm` on PATH")
    if not (PARTNERS / "node_modules" / "kinesalite" / "package.json").exists():
        installed = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"],
            cwd=PARTNERS,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert installed.returncode == 0, installed.stderr
    return node


def _wait_for_port(port: int, process: subprocess.Popen[bytes], what: str) -> None:
    import socket

    deadline = time.monotonic() + 30
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(f"{what} did not start") from None
            time.sleep(0.05)


@pytest.fixture
def kinesalite(node: str) -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen([node, "kinesalite.cjs", str(port)], cwd=PARTNERS)
    try:
        _wait_for_port(port, process, "kinesalite")
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(10)


@pytest.fixture
def kinesis_local(node: str) -> Iterator[str]:
    port, tls_port = free_port(), free_port()
    process = subprocess.Popen(
        [node, "-r", str(PARTNERS / "loopback.cjs"), "main.js"],
        cwd=PARTNERS / "node_modules" / "kinesis-local",  # it reads server.json from here
        env={
            "PATH": "/usr/bin:/bin",
            "KINESIS_MOCK_PLAIN_PORT": str(port),
            "KINESIS_MOCK_TLS_PORT": str(tls_port),
            "CREATE_STREAM_DURATION": "0ms",
            "LOG_LEVEL": "WARN",
        },
        stdout=subprocess.DEVNULL,
    )
    try:
        _wait_for_port(port, process, "kinesis-local")
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(10)


def _forward_end_to_end(partner_url: str) -> None:
    partner = make_client(partner_url, "kinesis")
    partner.create_stream(StreamName="forwarded", ShardCount=2)
    deadline = time.monotonic() + 20
    while (
        partner.describe_stream(StreamName="forwarded")["StreamDescription"]["StreamStatus"]
        != "ACTIVE"
    ):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    server = start_server("--kinesis-endpoint", partner_url)
    try:
        ddb = make_client(server.url)
        ddb.create_table(
            TableName="source",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        ddb.enable_kinesis_streaming_destination(
            TableName="source", StreamArn=stream_arn("forwarded")
        )
        settle(server.url)
        for round_ in range(3):
            for i in range(10):
                ddb.put_item(
                    TableName="source", Item={"pk": {"S": f"i{i}"}, "n": {"N": str(round_)}}
                )
        ddb.delete_item(TableName="source", Key={"pk": {"S": "i0"}})
        settle(server.url)
        stats = admin(server.url, "/_emulator/kinesis/destinations", method="GET")
        assert stats["OutboxRecords"] == 0
        assert stats["Destinations"][stream_arn("forwarded")]["Records"] == 31
        received = records_of(partner, "forwarded")
        assert len(received) == 31
        per_item: dict[str, list[str]] = {}
        for data in data_of(received):
            assert set(data) == RECORD_KEYS
            image = data["dynamodb"].get("NewImage")
            per_item.setdefault(data["dynamodb"]["Keys"]["pk"]["S"], []).append(
                data["eventName"] + ("" if image is None else image["n"]["N"])
            )
        assert per_item["i0"] == ["INSERT0", "MODIFY1", "MODIFY2", "REMOVE"]
        assert all(per_item[f"i{i}"] == ["INSERT0", "MODIFY1", "MODIFY2"] for i in range(1, 10))
    finally:
        server.stop()


def test_forwarding_to_kinesalite(kinesalite: str) -> None:
    _forward_end_to_end(kinesalite)


def test_forwarding_to_kinesis_local(kinesis_local: str) -> None:
    _forward_end_to_end(kinesis_local)


def test_forwarding_retries_throttles_in_item_order_and_survives_an_outage(
    tmp_path: Path,
) -> None:
    """Towards a second emulator: throttled entries are retried without a later record of
    the same item overtaking them; records queued while the endpoint is down stay queued
    across a restart of the forwarding emulator and are sent once the endpoint and its
    stream exist again."""
    target = start_server()
    source = start_server("--kinesis-endpoint", target.url, "--data-dir", str(tmp_path))
    try:
        remote = make_client(target.url, "kinesis")
        remote.create_stream(StreamName="remote", ShardCount=1)
        settle(target.url)
        ddb = make_client(source.url)
        ddb.create_table(
            TableName="source",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        ddb.enable_kinesis_streaming_destination(TableName="source", StreamArn=stream_arn("remote"))
        settle(source.url)
        admin(target.url, "/_emulator/kinesis/faults", {"ThrottleNextPuts": 3})
        for n in range(4):
            for item in ("a", "b"):
                ddb.put_item(TableName="source", Item={"pk": {"S": item}, "n": {"N": str(n)}})
        settle(source.url)
        stats = admin(source.url, "/_emulator/kinesis/destinations", method="GET")
        assert stats["Destinations"][stream_arn("remote")]["ThrottledPutRecordCount"] == 3
        first: dict[str, list[int]] = {}
        for data in data_of(records_of(remote, "remote")):
            item = data["dynamodb"]["Keys"]["pk"]["S"]
            first.setdefault(item, []).append(int(data["dynamodb"]["NewImage"]["n"]["N"]))
        assert first == {"a": [0, 1, 2, 3], "b": [0, 1, 2, 3]}
        target.stop()
        for n in range(4, 6):
            ddb.put_item(TableName="source", Item={"pk": {"S": "a"}, "n": {"N": str(n)}})
        source.stop()
        # The endpoint is back (at a new address, without the stream at first).
        target = start_server()
        source = start_server("--kinesis-endpoint", target.url, "--data-dir", str(tmp_path))
        stats = admin(source.url, "/_emulator/kinesis/destinations", method="GET")
        assert stats["OutboxRecords"] == 2
        remote = make_client(target.url, "kinesis")
        remote.create_stream(StreamName="remote", ShardCount=1)
        settle(target.url)
        settle(source.url)
        later = data_of(records_of(remote, "remote"))
        assert [int(d["dynamodb"]["NewImage"]["n"]["N"]) for d in later] == [4, 5]
    finally:
        source.stop()
        target.stop()


def test_reset_drops_kinesis_streams_records_and_queue() -> None:
    server = start_server("--kinesis-endpoint", "http://127.0.0.1:9")  # nothing listens
    try:
        ddb, kinesis = _enable_on(server, "reset", "reset-stream")
        ddb.put_item(TableName="reset", Item={"pk": {"S": "queued"}})
        assert (
            admin(server.url, "/_emulator/kinesis/destinations", method="GET")["OutboxRecords"] == 1
        )
        admin(server.url, "/_emulator/reset")
        assert kinesis.list_streams()["StreamNames"] == []
        assert (
            admin(server.url, "/_emulator/kinesis/destinations", method="GET")["OutboxRecords"] == 0
        )
        kinesis.create_stream(StreamName="reset-stream", ShardCount=1)
        settle(server.url)
        assert records_of(kinesis, "reset-stream") == []
    finally:
        server.stop()
