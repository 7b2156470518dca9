"""The one-shot client of docker-compose.yml: create a stream-enabled table, write, read
the stream records back with boto3, and exit non-zero on any mismatch.

The endpoint comes from the environment, as any AWS application would get it:
`AWS_ENDPOINT_URL=http://emulator:8000` points both the `dynamodb` and the
`dynamodbstreams` clients at the emulator without code changes.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

TABLE = "compose-orders"


def wait_until_ready(ddb: Any, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            ddb.list_tables(Limit=1)
            return
        except (BotoCoreError, ClientError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def read_stream(streams: Any, stream_arn: str) -> list[dict[str, Any]]:
    """Every record of every shard, oldest first (an open shard: until an empty page)."""
    records: list[dict[str, Any]] = []
    description = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]
    for shard in description["Shards"]:
        iterator = streams.get_shard_iterator(
            StreamArn=stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        for _ in range(100):
            page = streams.get_records(ShardIterator=iterator, Limit=100)
            records.extend(page["Records"])
            iterator = page.get("NextShardIterator")
            if not page["Records"] or not iterator:
                break
    return records


def main() -> int:
    endpoint = os.environ.get("AWS_ENDPOINT_URL", "(AWS_ENDPOINT_URL is not set)")
    print(f"compose client: talking to {endpoint}", flush=True)
    ddb = boto3.client("dynamodb")
    streams = boto3.client("dynamodbstreams")
    wait_until_ready(ddb)

    table = ddb.create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )["TableDescription"]
    stream_arn = table["LatestStreamArn"]

    first = {"pk": {"S": "o-1"}, "total": {"N": "10"}}
    second = {"pk": {"S": "o-2"}, "total": {"N": "20"}}
    changed = {"pk": {"S": "o-1"}, "total": {"N": "11"}, "note": {"S": "gift"}}
    ddb.put_item(TableName=TABLE, Item=first)  # INSERT
    ddb.put_item(TableName=TABLE, Item=second)  # INSERT
    ddb.put_item(TableName=TABLE, Item=changed)  # MODIFY
    ddb.put_item(TableName=TABLE, Item=second)  # changes nothing: no record
    ddb.delete_item(TableName=TABLE, Key={"pk": {"S": "o-2"}})  # REMOVE

    expected = [
        ("INSERT", {"pk": {"S": "o-1"}}, None, first),
        ("INSERT", {"pk": {"S": "o-2"}}, None, second),
        ("MODIFY", {"pk": {"S": "o-1"}}, first, changed),
        ("REMOVE", {"pk": {"S": "o-2"}}, second, None),
    ]
    records = read_stream(streams, stream_arn)
    got = [
        (
            r["eventName"],
            r["dynamodb"]["Keys"],
            r["dynamodb"].get("OldImage"),
            r["dynamodb"].get("NewImage"),
        )
        for r in records
    ]
    problems = []
    if got != expected:
        problems.append(f"stream records:\n  expected {expected}\n  got      {got}")
    sequences = [int(r["dynamodb"]["SequenceNumber"]) for r in records]
    if sequences != sorted(set(sequences)):
        problems.append(f"sequence numbers are not increasing: {sequences}")
    stored = ddb.get_item(TableName=TABLE, Key={"pk": {"S": "o-1"}}, ConsistentRead=True)
    if stored.get("Item") != changed:
        problems.append(f"GetItem: expected {changed}, got {stored.get('Item')}")
    if any(r.get("eventSource") != "aws:dynamodb" for r in records):
        problems.append("a record's eventSource is not aws:dynamodb")

    if problems:
        print("compose client: MISMATCH\n" + "\n".join(problems), file=sys.stderr)
        return 1
    print(f"compose client: OK, {len(records)} stream records as expected", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
