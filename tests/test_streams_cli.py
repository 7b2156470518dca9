"""The four Streams operations through the AWS CLI (`aws dynamodbstreams ...`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

AWS = Path(sys.executable).parent / "aws"


def aws(endpoint: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_PAGER": "",
        "AWS_MAX_ATTEMPTS": "1",
    }
    result = subprocess.run(
        [str(AWS), "--endpoint-url", endpoint, "--output", "json", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    if check:
        assert result.returncode == 0, result.stderr
    return result


def aws_json(endpoint: str, *args: str) -> Any:
    return json.loads(aws(endpoint, *args).stdout)


def test_cli_reads_a_stream(ddb: Any, endpoint: str, make_table: Callable[..., str]) -> None:
    table = make_table(range_key="N", stream="NEW_AND_OLD_IMAGES")
    key = {"pk": {"S": "cli"}, "sk": {"N": "1"}}
    ddb.put_item(TableName=table, Item={**key, "v": {"S": "first"}})
    ddb.put_item(TableName=table, Item={**key, "v": {"S": "second"}})
    ddb.delete_item(TableName=table, Key=key)

    listed = aws_json(endpoint, "dynamodbstreams", "list-streams", "--table-name", table)
    [entry] = listed["Streams"]
    assert "LastEvaluatedStreamArn" not in listed
    arn = entry["StreamArn"]
    assert entry["TableName"] == table
    assert (
        arn
        == f"arn:aws:dynamodb:us-east-1:000000000000:table/{table}/stream/" + (entry["StreamLabel"])
    )

    described = aws_json(endpoint, "dynamodbstreams", "describe-stream", "--stream-arn", arn)
    stream = described["StreamDescription"]
    assert stream["StreamStatus"] == "ENABLED"
    assert stream["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert stream["TableName"] == table
    [shard] = stream["Shards"]
    shard_id = shard["ShardId"]

    iterator = aws_json(
        endpoint,
        "dynamodbstreams",
        "get-shard-iterator",
        "--stream-arn",
        arn,
        "--shard-id",
        shard_id,
        "--shard-iterator-type",
        "TRIM_HORIZON",
    )["ShardIterator"]
    assert iterator.startswith(arn + "|1|")

    page = aws_json(endpoint, "dynamodbstreams", "get-records", "--shard-iterator", iterator)
    records = page["Records"]
    assert [r["eventName"] for r in records] == ["INSERT", "MODIFY", "REMOVE"]
    assert page["NextShardIterator"]
    insert, modify, remove = (r["dynamodb"] for r in records)
    assert insert["NewImage"] == {**key, "v": {"S": "first"}} and "OldImage" not in insert
    assert modify["OldImage"] == insert["NewImage"]
    assert modify["NewImage"] == {**key, "v": {"S": "second"}}
    assert remove["OldImage"] == modify["NewImage"] and "NewImage" not in remove
    for record in records:
        assert record["dynamodb"]["Keys"] == key
        assert record["awsRegion"] == "us-east-1"
        assert record["eventSource"] == "aws:dynamodb"

    after = aws_json(
        endpoint,
        "dynamodbstreams",
        "get-shard-iterator",
        "--stream-arn",
        arn,
        "--shard-id",
        shard_id,
        "--shard-iterator-type",
        "AFTER_SEQUENCE_NUMBER",
        "--sequence-number",
        records[0]["dynamodb"]["SequenceNumber"],
    )["ShardIterator"]
    limited = aws_json(
        endpoint, "dynamodbstreams", "get-records", "--shard-iterator", after, "--limit", "1"
    )
    assert [r["eventName"] for r in limited["Records"]] == ["MODIFY"]

    missing = arn.rsplit("/", 1)[0] + "/2001-01-01T00:00:00.000"
    failed = aws(
        endpoint, "dynamodbstreams", "describe-stream", "--stream-arn", missing, check=False
    )
    assert failed.returncode != 0
    assert "ResourceNotFoundException" in failed.stderr
    assert f"Requested resource not found: Stream: {missing} not found" in failed.stderr
