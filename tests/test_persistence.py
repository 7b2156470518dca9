"""`--data-dir`: tables, items, streams and stream records survive a restart of the server
process; without it a restart starts empty."""

from __future__ import annotations

import json
import shutil
import sqlite3
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from conftest import RunningServer, make_client, start_server

from emulator.storage.stream_log import WIRE_COLUMN, WIRE_FROM

HASH = [{"AttributeName": "pk", "KeyType": "HASH"}]
PK_S = [{"AttributeName": "pk", "AttributeType": "S"}]


def _stream_records(streams: Any, arn: str) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    description = streams.describe_stream(StreamArn=arn)["StreamDescription"]
    for shard in description["Shards"]:
        iterator = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while iterator:
            page = streams.get_records(ShardIterator=iterator)
            records += page["Records"]
            if not page["Records"]:
                break
            iterator = page.get("NextShardIterator")
    return records


def _snapshot(server: RunningServer) -> dict[str, Any]:
    """Everything a client can observe about the data written by `_populate`."""
    ddb = make_client(server.url)
    west = make_client(server.url, region="us-west-2")
    streams = make_client(server.url, "dynamodbstreams")
    tables = {
        name: ddb.describe_table(TableName=name)["Table"]
        for name in ddb.list_tables()["TableNames"]
    }
    items = {
        "plain": ddb.get_item(TableName="plain", Key={"pk": {"S": "a"}}).get("Item"),
        "plain-b": ddb.get_item(TableName="plain", Key={"pk": {"S": "b"}}).get("Item"),
        "plain-deleted": ddb.get_item(TableName="plain", Key={"pk": {"S": "gone"}}).get("Item"),
        "sorted": [
            ddb.get_item(TableName="sorted", Key={"pk": {"S": "p"}, "sk": {"N": n}}).get("Item")
            for n in ("-1.5", "0", "1e3")
        ],
        "streamed": ddb.get_item(TableName="streamed", Key={"pk": {"S": "s1"}}).get("Item"),
    }
    stream_arn = tables["streamed"]["LatestStreamArn"]
    return {
        "tables": tables,
        "west": west.list_tables()["TableNames"],
        "west-item": west.get_item(TableName="plain", Key={"pk": {"S": "w"}}).get("Item"),
        "items": items,
        "tags": ddb.list_tags_of_resource(ResourceArn=tables["plain"]["TableArn"])["Tags"],
        "streams": streams.list_streams()["Streams"],
        "stream": streams.describe_stream(StreamArn=stream_arn)["StreamDescription"],
        "records": _stream_records(streams, stream_arn),
    }


def _populate(server: RunningServer) -> None:
    ddb = make_client(server.url)
    ddb.create_table(
        TableName="plain",
        KeySchema=HASH,
        AttributeDefinitions=PK_S,
        BillingMode="PAY_PER_REQUEST",
        Tags=[{"Key": "owner", "Value": "tests"}],
    )
    ddb.create_table(
        TableName="sorted",
        KeySchema=[*HASH, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[*PK_S, {"AttributeName": "sk", "AttributeType": "N"}],
        ProvisionedThroughput={"ReadCapacityUnits": 3, "WriteCapacityUnits": 4},
    )
    ddb.create_table(
        TableName="streamed",
        KeySchema=HASH,
        AttributeDefinitions=PK_S,
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    ddb.put_item(
        TableName="plain",
        Item={
            "pk": {"S": "a"},
            "n": {"N": "1.50"},
            "b": {"B": b"\x00\xff"},
            "m": {"M": {"l": {"L": [{"SS": ["x", "y"]}, {"NULL": True}]}}},
        },
    )
    ddb.put_item(TableName="plain", Item={"pk": {"S": "b"}, "bool": {"BOOL": False}})
    ddb.put_item(TableName="plain", Item={"pk": {"S": "gone"}})
    ddb.delete_item(TableName="plain", Key={"pk": {"S": "gone"}})
    for n in ("-1.5", "0", "1e3"):
        ddb.put_item(TableName="sorted", Item={"pk": {"S": "p"}, "sk": {"N": n}, "v": {"S": n}})
    ddb.put_item(TableName="streamed", Item={"pk": {"S": "s1"}, "v": {"N": "1"}})
    ddb.put_item(TableName="streamed", Item={"pk": {"S": "s1"}, "v": {"N": "2"}})
    ddb.put_item(TableName="streamed", Item={"pk": {"S": "s2"}})
    ddb.delete_item(TableName="streamed", Key={"pk": {"S": "s2"}})
    ddb.create_table(
        TableName="dropped",
        KeySchema=HASH,
        AttributeDefinitions=PK_S,
        BillingMode="PAY_PER_REQUEST",
    )
    ddb.put_item(TableName="dropped", Item={"pk": {"S": "a"}})
    ddb.delete_table(TableName="dropped")
    west = make_client(server.url, region="us-west-2")
    west.create_table(
        TableName="plain", KeySchema=HASH, AttributeDefinitions=PK_S, BillingMode="PAY_PER_REQUEST"
    )
    west.put_item(TableName="plain", Item={"pk": {"S": "w"}})


def _populated_data_dir(tmp_path: Path) -> dict[str, Any]:
    """Fill a data directory through a server that is then stopped; its snapshot."""
    first = start_server("--data-dir", str(tmp_path))
    try:
        _populate(first)
        before = _snapshot(first)
    finally:
        first.stop()
    assert first.process.returncode is not None
    return before


def _check_stream_goes_on(server: RunningServer, before: dict[str, Any]) -> None:
    """A write after the restart appends to the same stream, after the old records."""
    make_client(server.url).put_item(TableName="streamed", Item={"pk": {"S": "s3"}})
    streams = make_client(server.url, "dynamodbstreams")
    records = _stream_records(streams, before["tables"]["streamed"]["LatestStreamArn"])
    assert records[:4] == before["records"]
    assert [r["eventName"] for r in records[4:]] == ["INSERT"]
    assert int(records[4]["dynamodb"]["SequenceNumber"]) > int(
        records[3]["dynamodb"]["SequenceNumber"]
    )


def test_data_survives_a_restart(tmp_path: Path) -> None:
    before = _populated_data_dir(tmp_path)

    # Sanity: the snapshot holds what was written (and not the deleted table).
    assert sorted(before["tables"]) == ["plain", "sorted", "streamed"]
    assert before["items"]["plain"]["n"] == {"N": "1.5"}
    assert before["items"]["plain-deleted"] is None
    assert before["tables"]["plain"]["ItemCount"] == 2
    assert before["west"] == ["plain"]
    assert [r["eventName"] for r in before["records"]] == ["INSERT", "MODIFY", "INSERT", "REMOVE"]

    second = start_server("--data-dir", str(tmp_path))
    try:
        after = _snapshot(second)
        assert after == before

        # The reopened database keeps working: writes, new tables, the same stream.
        _check_stream_goes_on(second, before)
        ddb = make_client(second.url)
        ddb.create_table(
            TableName="later",
            KeySchema=HASH,
            AttributeDefinitions=PK_S,
            BillingMode="PAY_PER_REQUEST",
        )
        ids = {t["TableId"] for t in before["tables"].values()}
        assert ddb.describe_table(TableName="later")["Table"]["TableId"] not in ids
    finally:
        second.stop()


def test_in_memory_restart_is_empty() -> None:
    first = start_server()
    try:
        ddb = make_client(first.url)
        ddb.create_table(
            TableName="ephemeral",
            KeySchema=HASH,
            AttributeDefinitions=PK_S,
            BillingMode="PAY_PER_REQUEST",
        )
        ddb.put_item(TableName="ephemeral", Item={"pk": {"S": "x"}})
        assert ddb.list_tables()["TableNames"] == ["ephemeral"]
    finally:
        first.stop()
    second = start_server()
    try:
        assert make_client(second.url).list_tables()["TableNames"] == []
        assert make_client(second.url, "dynamodbstreams").list_streams()["Streams"] == []
    finally:
        second.stop()


def test_records_of_an_earlier_layout_are_migrated(tmp_path: Path) -> None:
    """A data directory whose stream records are in the earlier `records` table (one row
    per (shard_pk, sequence)) opens with every record readable, and numbering goes on."""
    before = _populated_data_dir(tmp_path)
    database = sqlite3.connect(tmp_path / "emulator.sqlite3")
    with database:
        database.execute(
            "CREATE TABLE records (shard_pk INTEGER NOT NULL, sequence INTEGER NOT NULL, "
            "created REAL NOT NULL, record BLOB NOT NULL, PRIMARY KEY (shard_pk, sequence)) "
            "WITHOUT ROWID"
        )
        # The earlier layout held each record's wire JSON.
        database.execute(
            "INSERT INTO records SELECT r.record_key >> 40, r.record_key & 1099511627775, "
            f"r.created, {WIRE_COLUMN} {WIRE_FROM}"
        )
        database.execute("DELETE FROM stream_records")
    database.close()

    second = start_server("--data-dir", str(tmp_path))
    try:
        assert _snapshot(second) == before
        _check_stream_goes_on(second, before)
    finally:
        second.stop()
    database = sqlite3.connect(tmp_path / "emulator.sqlite3")
    tables = {name for (name,) in database.execute("SELECT name FROM sqlite_master")}
    database.close()
    assert "records" not in tables


def test_a_data_directory_of_the_earlier_table_layout_opens(tmp_path: Path) -> None:
    """`tests/data/legacy-v1` was written by the release before typed table state: stream,
    index ids, TTL and tags lived in `_` keys of the stored description. It opens with all
    of them in force, the private keys gone from the stored description, and writes go on
    (index entries, stream records with later sequence numbers, TTL)."""
    shutil.copy(Path(__file__).parent / "data" / "legacy-v1" / "emulator.sqlite3", tmp_path)
    running = start_server("--data-dir", str(tmp_path))
    try:
        ddb = make_client(running.url)
        streams = make_client(running.url, "dynamodbstreams")
        assert ddb.list_tables()["TableNames"] == ["legacy", "plain"]
        table = ddb.describe_table(TableName="legacy")["Table"]
        assert not [key for key in table if key.startswith("_")]
        assert table["ItemCount"] == 3
        assert table["StreamSpecification"] == {
            "StreamEnabled": True,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        }
        ttl = ddb.describe_time_to_live(TableName="legacy")["TimeToLiveDescription"]
        assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires"}
        tags = ddb.list_tags_of_resource(ResourceArn=table["TableArn"])["Tags"]
        assert tags == [{"Key": "team", "Value": "streams"}]
        by_g = ddb.query(
            TableName="legacy",
            IndexName="by-g",
            KeyConditionExpression="g = :g",
            ExpressionAttributeValues={":g": {"S": "x"}},
        )["Items"]
        assert sorted(item["sk"]["N"] for item in by_g) == ["0", "1"]
        assert ddb.get_item(TableName="plain", Key={"pk": {"S": "only"}})["Item"] == {
            "pk": {"S": "only"}
        }

        arn = table["LatestStreamArn"]
        old_records = _stream_records(streams, arn)
        assert [r["eventName"] for r in old_records] == ["INSERT"] * 3 + ["MODIFY"]
        ddb.put_item(
            TableName="legacy",
            Item={
                "pk": {"S": "p"},
                "sk": {"N": "9"},
                "g": {"S": "y"},
                "expires": {"N": str(int(time.time()) - 60)},
            },
        )
        records = _stream_records(streams, arn)
        assert records[:4] == old_records
        assert records[4]["eventName"] == "INSERT"
        sequences = [int(r["dynamodb"]["SequenceNumber"]) for r in records]
        assert sequences == sorted(sequences) and len(set(sequences)) == 5
        by_y = ddb.query(
            TableName="legacy",
            IndexName="by-g",
            KeyConditionExpression="g = :g",
            ExpressionAttributeValues={":g": {"S": "y"}},
        )["Items"]
        assert sorted(item["sk"]["N"] for item in by_y) == ["2", "9"]
        swept = _post(running.url + "/_emulator/ttl/sweep")
        assert swept == {"DeletedItems": {"legacy": 1}}
    finally:
        running.stop()
    database = sqlite3.connect(tmp_path / "emulator.sqlite3")
    (description,) = database.execute(
        "SELECT description FROM tables WHERE name = 'legacy'"
    ).fetchone()
    database.close()
    assert b'"_' not in description


def _post(url: str) -> Any:
    request = urllib.request.Request(
        url, data=b"{}", method="POST", headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def test_records_after_a_restart_follow_a_shard_trimmed_empty(tmp_path: Path) -> None:
    """Issue 12, defect 1: an open shard whose records were all trimmed keeps its trimmed
    position across a restart, so new records get sequence numbers after it: TRIM_HORIZON
    sees them, and a consumer resuming from a checkpoint that was trimmed is told so
    (TrimmedDataAccessException, AWS's "older than the trim point"), never that its
    checkpoint lies outside the shard (the ValidationException of the defect).

    Time moves through the admin clock (a day past retention), so the trim happens when
    the test says, not when a busy machine gets round to it."""
    first = start_server("--data-dir", str(tmp_path), "--shard-rollover-seconds", "0")
    try:
        ddb = make_client(first.url)
        streams = make_client(first.url, "dynamodbstreams")
        arn = ddb.create_table(
            TableName="trimmed",
            KeySchema=HASH,
            AttributeDefinitions=PK_S,
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"},
        )["TableDescription"]["LatestStreamArn"]
        ddb.put_item(TableName="trimmed", Item={"pk": {"S": "before-1"}})
        ddb.put_item(TableName="trimmed", Item={"pk": {"S": "before-2"}})
        *_, record = _stream_records(streams, arn)
        checkpoint = record["dynamodb"]["SequenceNumber"]
        [shard] = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
        shard_id = shard["ShardId"]
        request = urllib.request.Request(
            first.url + "/_emulator/clock",
            data=json.dumps({"advance": 86400 + 60}).encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.status == 200  # the trim is done before the answer
        assert _stream_records(streams, arn) == []
    finally:
        first.stop()

    # The manual clock comes back with the data (defect 3): the new records are not old.
    second = start_server("--data-dir", str(tmp_path), "--shard-rollover-seconds", "0")
    try:
        ddb = make_client(second.url)
        streams = make_client(second.url, "dynamodbstreams")
        ddb.put_item(TableName="trimmed", Item={"pk": {"S": "after"}})
        records = _stream_records(streams, arn)
        assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in records] == ["after"]
        assert int(records[0]["dynamodb"]["SequenceNumber"]) > int(checkpoint)
        with pytest.raises(ClientError) as info:
            streams.get_shard_iterator(
                StreamArn=arn,
                ShardId=shard_id,
                ShardIteratorType="AFTER_SEQUENCE_NUMBER",
                SequenceNumber=checkpoint,
            )
        assert info.value.response["Error"]["Code"] == "TrimmedDataAccessException"
        resumed = streams.get_shard_iterator(
            StreamArn=arn,
            ShardId=shard_id,
            ShardIteratorType="AFTER_SEQUENCE_NUMBER",
            SequenceNumber=records[0]["dynamodb"]["SequenceNumber"],
        )["ShardIterator"]
        ddb.put_item(TableName="trimmed", Item={"pk": {"S": "later"}})
        page = streams.get_records(ShardIterator=resumed)
        assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in page["Records"]] == ["later"]
    finally:
        second.stop()
