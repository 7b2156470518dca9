"""The write pipeline (issue 13): a sink registered with the pipeline sees every item
change of every write path exactly once, inside the write's transaction, and a sink that
raises rolls the whole write back. Driven through the real HTTP server with boto3; the
sink is registered on the server's own pipeline (in this process)."""

from __future__ import annotations

import datetime
import json
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from botocore.exceptions import ClientError
from conftest import make_client, serve_backend

from emulator.changes.change import TTL, USER, Change
from emulator.config import Config
from emulator.runtime.backend import Backend
from emulator.storage.engine import TableRow


@dataclass
class Seen:
    table: str
    key: dict[str, Any]
    event: str | None
    origin: str
    in_transaction: bool
    principal: str | None


class RecordingSink:
    """Notes each change; raises for an item carrying a `boom` attribute."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.seen: list[Seen] = []

    def record(self, change: Change) -> None:
        identity = change.user_identity
        self.seen.append(
            Seen(
                change.table.name,
                change.key,
                change.event,
                change.origin,
                self.backend.engine.in_transaction,
                None if identity is None else identity.get("PrincipalId"),
            )
        )
        if change.new_item is not None and "boom" in change.new_item:
            raise RuntimeError("the sink refuses this change")

    def take(self) -> list[tuple[str, str | None, str, bool]]:
        """(pk value, event, origin, in transaction) of what was seen since last asked."""
        seen = [(s.key["pk"]["S"], s.event, s.origin, s.in_transaction) for s in self.seen]
        self.seen.clear()
        return seen


@dataclass
class Emulator:
    url: str
    backend: Backend
    sink: RecordingSink
    ddb: Any
    streams: Any
    admin: Any


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    backend = Backend.create(Config())
    sink = RecordingSink(backend)
    backend.pipeline.register(lambda row: sink if row.name.startswith("watched") else None)
    with serve_backend(backend) as server:
        yield Emulator(
            server.url,
            backend,
            sink,
            make_client(server.url),
            make_client(server.url, "dynamodbstreams"),
            server.admin,
        )


def create(emulator: Emulator, name: str, **extra: Any) -> None:
    emulator.ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        **extra,
    )


def item(pk: str, **attributes: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, **{name: {"S": value} for name, value in attributes.items()}}


def stream_events(emulator: Emulator, table: str) -> list[tuple[str, str]]:
    """(eventName, pk) of every record on the table's stream, oldest first."""
    arn = emulator.streams.list_streams(TableName=table)["Streams"][0]["StreamArn"]
    description = emulator.streams.describe_stream(StreamArn=arn)["StreamDescription"]
    events = []
    for shard in description["Shards"]:
        iterator = emulator.streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        records = emulator.streams.get_records(ShardIterator=iterator)["Records"]
        events += [(r["eventName"], r["dynamodb"]["Keys"]["pk"]["S"]) for r in records]
    return events


def test_every_write_path_reaches_the_sink_once_inside_its_transaction(
    emulator: Emulator,
) -> None:
    ddb, sink = emulator.ddb, emulator.sink
    create(emulator, "watched")
    create(emulator, "unwatched")

    ddb.put_item(TableName="watched", Item=item("a", v="1"))
    ddb.put_item(TableName="unwatched", Item=item("a", v="1"))
    assert sink.take() == [("a", "INSERT", USER, True)]

    ddb.put_item(TableName="watched", Item=item("a", v="2"))
    ddb.put_item(TableName="watched", Item=item("a", v="2"))  # changes nothing
    assert sink.take() == [("a", "MODIFY", USER, True), ("a", None, USER, True)]

    ddb.update_item(
        TableName="watched",
        Key=item("a"),
        UpdateExpression="SET w = :w",
        ExpressionAttributeValues={":w": {"S": "x"}},
    )
    ddb.update_item(
        TableName="watched",
        Key=item("u"),
        UpdateExpression="SET w = :w",
        ExpressionAttributeValues={":w": {"S": "y"}},
    )
    assert sink.take() == [("a", "MODIFY", USER, True), ("u", "INSERT", USER, True)]

    ddb.delete_item(TableName="watched", Key=item("u"))
    ddb.delete_item(TableName="watched", Key=item("never"))  # nothing to delete
    assert sink.take() == [("u", "REMOVE", USER, True)]

    ddb.batch_write_item(
        RequestItems={
            "watched": [
                {"PutRequest": {"Item": item("b1")}},
                {"PutRequest": {"Item": item("b2")}},
                {"DeleteRequest": {"Key": item("a")}},
            ],
            "unwatched": [{"PutRequest": {"Item": item("b3")}}],
        }
    )
    assert sorted(sink.take()) == [
        ("a", "REMOVE", USER, True),
        ("b1", "INSERT", USER, True),
        ("b2", "INSERT", USER, True),
    ]

    ddb.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": "watched", "Item": item("t1")}},
            {
                "Update": {
                    "TableName": "watched",
                    "Key": item("b1"),
                    "UpdateExpression": "SET v = :v",
                    "ExpressionAttributeValues": {":v": {"S": "t"}},
                }
            },
            {"Delete": {"TableName": "watched", "Key": item("b2")}},
            {
                "ConditionCheck": {
                    "TableName": "watched",
                    "Key": item("t0"),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
            {"Put": {"TableName": "unwatched", "Item": item("t2")}},
        ]
    )
    assert sorted(sink.take()) == [
        ("b1", "MODIFY", USER, True),
        ("b2", "REMOVE", USER, True),
        ("t1", "INSERT", USER, True),
    ]
    # A conditional write whose condition fails changes nothing and reaches no sink.
    with pytest.raises(ClientError) as failed:
        ddb.put_item(
            TableName="watched", Item=item("t1"), ConditionExpression="attribute_not_exists(pk)"
        )
    assert failed.value.response["Error"]["Code"] == "ConditionalCheckFailedException"
    assert sink.take() == []


def test_ttl_deletes_reach_the_sink_with_their_origin(emulator: Emulator) -> None:
    ddb, sink = emulator.ddb, emulator.sink
    create(emulator, "watched-ttl")
    ddb.update_time_to_live(
        TableName="watched-ttl",
        TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires"},
    )
    now = emulator.admin("/_emulator/clock", {"advance": 10})["now"]
    for pk, offset in (("old", 60), ("young", 100_000)):
        ddb.put_item(
            TableName="watched-ttl",
            Item={"pk": {"S": pk}, "expires": {"N": str(int(now + offset))}},
        )
    assert sink.take() == [("old", "INSERT", USER, True), ("young", "INSERT", USER, True)]
    emulator.admin("/_emulator/clock", {"advance": 3600})
    emulator.admin("/_emulator/ttl/sweep", {})
    removed = sink.seen[:]
    assert sink.take() == [("old", "REMOVE", TTL, True)]
    assert removed[0].principal == "dynamodb.amazonaws.com"
    assert "Item" not in ddb.get_item(TableName="watched-ttl", Key=item("old"))
    assert "Item" in ddb.get_item(TableName="watched-ttl", Key=item("young"))


def test_a_sink_that_raises_rolls_the_write_back(emulator: Emulator) -> None:
    ddb, sink = emulator.ddb, emulator.sink
    stream = {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    create(emulator, "watched-strict", StreamSpecification=stream)
    ddb.put_item(TableName="watched-strict", Item=item("kept", v="1"))

    def refused(call: Any, **arguments: Any) -> None:
        with pytest.raises(ClientError) as error:
            call(**arguments)
        assert error.value.response["Error"]["Code"] == "InternalServerError"
        assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500

    refused(ddb.put_item, TableName="watched-strict", Item=item("new", boom="1"))
    refused(ddb.put_item, TableName="watched-strict", Item=item("kept", boom="1"))
    refused(
        ddb.update_item,
        TableName="watched-strict",
        Key=item("kept"),
        UpdateExpression="SET boom = :b",
        ExpressionAttributeValues={":b": {"S": "1"}},
    )
    refused(
        ddb.transact_write_items,
        TransactItems=[
            {"Put": {"TableName": "watched-strict", "Item": item("first")}},
            {"Delete": {"TableName": "watched-strict", "Key": item("kept")}},
            {"Put": {"TableName": "watched-strict", "Item": item("last", boom="1")}},
        ],
    )
    refused(
        ddb.batch_write_item,
        RequestItems={
            "watched-strict": [
                {"PutRequest": {"Item": item("b1")}},
                {"PutRequest": {"Item": item("b2", boom="1")}},
            ]
        },
    )
    sink.take()
    found = ddb.scan(TableName="watched-strict", ConsistentRead=True)["Items"]
    assert found == [item("kept", v="1")]
    # Nothing rolled back reached the stream either; the next write still does.
    ddb.put_item(TableName="watched-strict", Item=item("after"))
    assert stream_events(emulator, "watched-strict") == [("INSERT", "kept"), ("INSERT", "after")]


def test_a_sink_follows_the_table_state_it_was_made_from(emulator: Emulator) -> None:
    """Sinks come from the table's state: a table's new state gets new sinks, and a
    factory registered later applies to tables that already exist."""
    ddb = emulator.ddb
    create(emulator, "late")
    ddb.put_item(TableName="late", Item=item("before"))
    made: list[str] = []
    late_seen: list[str] = []

    class LateSink:
        def record(self, change: Change) -> None:
            late_seen.append(change.key["pk"]["S"])

    def factory(row: TableRow) -> LateSink | None:
        made.append(row.name)
        return LateSink() if row.state.stream is not None else None

    emulator.backend.pipeline.register(factory)
    ddb.put_item(TableName="late", Item=item("no-stream"))
    ddb.update_table(
        TableName="late",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"},
    )
    ddb.put_item(TableName="late", Item=item("streamed"))
    ddb.put_item(TableName="late", Item=item("streamed-too"))
    assert late_seen == ["streamed", "streamed-too"]
    assert made == ["late", "late"]  # once per state, not per write
    emulator.backend.pipeline.unregister(factory)
    ddb.put_item(TableName="late", Item=item("gone"))
    assert late_seen == ["streamed", "streamed-too"]


def test_a_restore_rolled_back_keeps_the_deferred_insert_entries(emulator: Emulator) -> None:
    """A restore writes its source's deferred INSERT entries out (see
    storage/change_log.py) inside its transaction; when the restore rolls back (here a
    sink of the target refuses an item), the entries are deferred again, and the source's
    log still reads them: in its changes, and in a later restore to before them."""
    ddb = emulator.ddb
    create(emulator, "source")
    ddb.update_continuous_backups(
        TableName="source",
        PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
    )
    now = emulator.admin("/_emulator/clock", {"advance": 0})["now"]
    emulator.admin("/_emulator/clock", {"advance": 1})
    ddb.put_item(TableName="source", Item=item("a", v="1"))
    ddb.put_item(TableName="source", Item=item("b", boom="1"))
    emulator.admin("/_emulator/clock", {"advance": 5})
    with pytest.raises(ClientError) as error:
        ddb.restore_table_to_point_in_time(
            SourceTableName="source",
            TargetTableName="watched-restore",
            RestoreDateTime=datetime.datetime.fromtimestamp(now + 2, datetime.UTC),
        )
    assert error.value.response["Error"]["Code"] == "InternalServerError"
    assert "watched-restore" not in ddb.list_tables()["TableNames"]
    query = urllib.parse.urlencode({"TableName": "source", "From": str(now)})
    with urllib.request.urlopen(f"{emulator.url}/_emulator/history?{query}") as response:
        lines = [json.loads(line) for line in response.read().splitlines()]
    assert [(r["eventName"], r["dynamodb"]["Keys"]["pk"]["S"]) for r in lines] == [
        ("INSERT", "a"),
        ("INSERT", "b"),
    ]
    ddb.restore_table_to_point_in_time(
        SourceTableName="source",
        TargetTableName="restored-empty",
        RestoreDateTime=datetime.datetime.fromtimestamp(now, datetime.UTC),
    )
    assert ddb.scan(TableName="restored-empty")["Items"] == []
