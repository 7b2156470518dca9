"""The four DynamoDB Streams operations through boto3 and raw HTTP (SPEC 2), and the stream
lifecycle on the table side (SPEC 2.6, 4.1-4.3)."""

from __future__ import annotations

import base64
import calendar
import re
import time
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import botocore.exceptions
import orjson
import pytest
from conftest import RunningServer, make_client, raw_call, start_server

STREAMS_TARGET = "DynamoDBStreams_20120810."
ARN = re.compile(
    r"arn:aws:dynamodb:us-east-1:000000000000:table/(?P<table>[^/]+)/stream/"
    r"(?P<label>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3})"
)
SHARD_ID = re.compile(r"shardId-\d{20}-[0-9a-f]{8}")
SEQUENCE = re.compile(r"[0-9]{21,40}")
UNKNOWN_SHARD = "shardId-00000000000000000001-0badf00d"


def error_code(info: pytest.ExceptionInfo[botocore.exceptions.ClientError]) -> str:
    return str(info.value.response["Error"]["Code"])


def error_message(info: pytest.ExceptionInfo[botocore.exceptions.ClientError]) -> str:
    return str(info.value.response["Error"]["Message"])


def raw(endpoint: str, operation: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    status, _, payload = raw_call(endpoint, STREAMS_TARGET + operation, orjson.dumps(body))
    return status, dict(orjson.loads(payload))


def latest_arn(ddb: Any, table: str) -> str:
    return str(ddb.describe_table(TableName=table)["Table"]["LatestStreamArn"])


def only_shard(streams: Any, arn: str) -> dict[str, Any]:
    [shard] = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
    return dict(shard)


def iterator_for(streams: Any, arn: str, shard_id: str, kind: str, sequence: str = "") -> str:
    kwargs = {"SequenceNumber": sequence} if sequence else {}
    return str(
        streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard_id, ShardIteratorType=kind, **kwargs
        )["ShardIterator"]
    )


def drain(streams: Any, iterator: str | None, limit: int = 1000) -> list[dict[str, Any]]:
    """Follow NextShardIterator until a page is empty or the shard ends."""
    records: list[dict[str, Any]] = []
    while iterator:
        page = streams.get_records(ShardIterator=iterator, Limit=limit)
        records.extend(page["Records"])
        if not page["Records"]:
            break
        iterator = page.get("NextShardIterator")
    return records


def put(ddb: Any, table: str, pk: str, **attributes: str) -> None:
    item = {"pk": {"S": pk}, **{name: {"S": value} for name, value in attributes.items()}}
    ddb.put_item(TableName=table, Item=item)


def pks(records: list[dict[str, Any]]) -> list[str]:
    return [r["dynamodb"]["Keys"]["pk"]["S"] for r in records]


# -- identity ------------------------------------------------------------------------------


def test_stream_identity_and_description(
    ddb: Any, streams: Any, endpoint: str, make_table: Callable[..., str], table_name: str
) -> None:
    before = time.time()
    created = ddb.create_table(
        TableName=table_name,
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "N"},
        ],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )["TableDescription"]
    arn = created["LatestStreamArn"]
    match = ARN.fullmatch(arn)
    assert match, arn
    assert match["table"] == table_name
    assert created["LatestStreamLabel"] == match["label"]
    assert created["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}
    label_time = calendar.timegm(time.strptime(match["label"][:19], "%Y-%m-%dT%H:%M:%S"))
    assert before - 2 <= label_time <= time.time() + 1

    description = ddb.describe_table(TableName=table_name)["Table"]
    assert description["LatestStreamArn"] == arn
    assert description["LatestStreamLabel"] == match["label"]
    assert description["StreamSpecification"]["StreamViewType"] == "NEW_IMAGE"

    # ENABLED at once: nobody has to poll
    stream = streams.describe_stream(StreamArn=arn)["StreamDescription"]
    assert stream["StreamStatus"] == "ENABLED"
    assert stream["StreamArn"] == arn
    assert stream["StreamLabel"] == match["label"]
    assert stream["StreamViewType"] == "NEW_IMAGE"
    assert stream["TableName"] == table_name
    assert stream["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    assert abs(stream["CreationRequestDateTime"].timestamp() - before) < 5
    assert "LastEvaluatedShardId" not in stream
    [shard] = stream["Shards"]
    assert SHARD_ID.fullmatch(shard["ShardId"]) and len(shard["ShardId"]) >= 28
    assert "ParentShardId" not in shard
    assert set(shard["SequenceNumberRange"]) == {"StartingSequenceNumber"}
    assert SEQUENCE.fullmatch(shard["SequenceNumberRange"]["StartingSequenceNumber"])

    # the wire: a timestamp is a JSON number, not a string
    status, body = raw(endpoint, "DescribeStream", {"StreamArn": arn})
    assert status == 200
    assert isinstance(body["StreamDescription"]["CreationRequestDateTime"], int | float)
    assert set(body["StreamDescription"]) == {
        "StreamArn",
        "StreamLabel",
        "StreamStatus",
        "StreamViewType",
        "CreationRequestDateTime",
        "TableName",
        "KeySchema",
        "Shards",
    }


def test_sequence_numbers(ddb: Any, streams: Any, make_table: Callable[..., str]) -> None:
    table = make_table(stream="KEYS_ONLY")
    for i in range(25):
        put(ddb, table, f"k{i % 7}", v=str(i))
    arn = latest_arn(ddb, table)
    shard = only_shard(streams, arn)
    start = int(shard["SequenceNumberRange"]["StartingSequenceNumber"])
    records = drain(streams, iterator_for(streams, arn, shard["ShardId"], "TRIM_HORIZON"))
    assert len(records) == 25
    numbers = [r["dynamodb"]["SequenceNumber"] for r in records]
    assert all(SEQUENCE.fullmatch(n) for n in numbers)
    values = [int(n) for n in numbers]
    assert values == sorted(set(values))
    assert values[0] >= start
    # a later stream never reuses numbers
    other = make_table(stream="KEYS_ONLY", name=table + "-2")
    put(ddb, other, "x")
    other_arn = latest_arn(ddb, other)
    other_shard = only_shard(streams, other_arn)["ShardId"]
    [later] = drain(streams, iterator_for(streams, other_arn, other_shard, "TRIM_HORIZON"))
    assert int(later["dynamodb"]["SequenceNumber"]) > values[-1]


# -- ListStreams ---------------------------------------------------------------------------


def test_list_streams_filter_and_paging(
    ddb: Any, streams: Any, make_table: Callable[..., str], table_name: str
) -> None:
    table = make_table(stream="KEYS_ONLY")
    arns = [latest_arn(ddb, table)]
    for view_type in ("NEW_IMAGE", "OLD_IMAGE"):
        ddb.update_table(TableName=table, StreamSpecification={"StreamEnabled": False})
        ddb.update_table(
            TableName=table,
            StreamSpecification={"StreamEnabled": True, "StreamViewType": view_type},
        )
        arns.append(latest_arn(ddb, table))
    assert len(set(arns)) == 3
    other = make_table(stream="KEYS_ONLY", name=table_name + "-other")

    listed = streams.list_streams(TableName=table)
    assert "LastEvaluatedStreamArn" not in listed
    assert sorted(s["StreamArn"] for s in listed["Streams"]) == sorted(arns)
    for entry in listed["Streams"]:
        assert entry["TableName"] == table
        assert entry["StreamArn"].endswith("/stream/" + entry["StreamLabel"])

    exact = streams.list_streams(TableName=table, Limit=3)
    assert len(exact["Streams"]) == 3
    assert "LastEvaluatedStreamArn" not in exact  # not cut: no cursor

    seen: list[str] = []
    start: dict[str, str] = {}
    for _ in range(10):
        page = streams.list_streams(TableName=table, Limit=1, **start)
        seen.extend(s["StreamArn"] for s in page["Streams"])
        if "LastEvaluatedStreamArn" not in page:
            break
        assert page["LastEvaluatedStreamArn"] == page["Streams"][-1]["StreamArn"]
        start = {"ExclusiveStartStreamArn": page["LastEvaluatedStreamArn"]}
    assert sorted(seen) == sorted(arns)
    assert len(seen) == 3

    # unfiltered paging walks every stream of the region exactly once
    everything: list[str] = []
    start = {}
    while True:
        page = streams.list_streams(Limit=7, **start)
        assert len(page["Streams"]) <= 7
        everything.extend(s["StreamArn"] for s in page["Streams"])
        if "LastEvaluatedStreamArn" not in page:
            break
        start = {"ExclusiveStartStreamArn": page["LastEvaluatedStreamArn"]}
    assert len(everything) == len(set(everything))
    assert set(arns) | {latest_arn(ddb, other)} <= set(everything)
    assert all(":us-east-1:" in arn for arn in everything)


def test_list_streams_empty(endpoint: str, streams: Any) -> None:
    status, body = raw(endpoint, "ListStreams", {"TableName": "no-such-table-anywhere"})
    assert (status, body) == (200, {"Streams": []})
    lonely = make_client(endpoint, "dynamodbstreams", "ap-southeast-4")
    page = lonely.list_streams()
    assert page["Streams"] == []
    assert "LastEvaluatedStreamArn" not in page


def test_list_streams_validation(streams: Any, endpoint: str) -> None:
    with pytest.raises(botocore.exceptions.ClientError) as info:
        streams.list_streams(Limit=101)
    assert error_code(info) == "ValidationException"
    assert "100" in error_message(info)
    with pytest.raises(botocore.exceptions.ClientError) as info:
        streams.list_streams(ExclusiveStartStreamArn="arn:aws:dynamodb:us-east-1:nonsense-stream")
    assert error_code(info) == "ValidationException"
    status, body = raw(endpoint, "ListStreams", {"Limit": 0})
    assert status == 400 and body["__type"].endswith("ValidationException")


# -- DescribeStream ------------------------------------------------------------------------


def test_describe_stream_errors(streams: Any, endpoint: str, table_name: str) -> None:
    unknown = (
        f"arn:aws:dynamodb:us-east-1:000000000000:table/{table_name}/stream/2020-01-01T00:00:00.000"
    )
    with pytest.raises(streams.exceptions.ResourceNotFoundException) as info:
        streams.describe_stream(StreamArn=unknown)
    assert error_message(info) == f"Requested resource not found: Stream: {unknown} not found"
    with pytest.raises(botocore.exceptions.ClientError) as info:
        streams.describe_stream(StreamArn="arn:aws:dynamodb:us-east-1:000000000000:table/x")
    assert error_code(info) == "ValidationException"
    status, body = raw(endpoint, "DescribeStream", {"StreamArn": "garbage"})
    assert status == 400 and body["__type"].endswith("ValidationException")


def test_describe_stream_shard_paging_on_one_shard(
    ddb: Any, streams: Any, make_table: Callable[..., str]
) -> None:
    table = make_table(stream="KEYS_ONLY")
    arn = latest_arn(ddb, table)
    shard_id = only_shard(streams, arn)["ShardId"]
    after_last = streams.describe_stream(StreamArn=arn, ExclusiveStartShardId=shard_id)
    assert after_last["StreamDescription"]["Shards"] == []
    assert "LastEvaluatedShardId" not in after_last["StreamDescription"]
    unknown = streams.describe_stream(StreamArn=arn, ExclusiveStartShardId=UNKNOWN_SHARD)
    assert unknown["StreamDescription"]["Shards"] == []
    children = streams.describe_stream(
        StreamArn=arn, ShardFilter={"Type": "CHILD_SHARDS", "ShardId": shard_id}
    )
    assert children["StreamDescription"]["Shards"] == []
    for bad_filter in (
        {"Type": "PARENT", "ShardId": shard_id},
        {"Type": "CHILD_SHARDS"},
        {"ShardId": shard_id},
        {},
    ):
        with pytest.raises(botocore.exceptions.ClientError) as info:
            streams.describe_stream(StreamArn=arn, ShardFilter=bad_filter)
        assert error_code(info) == "ValidationException", bad_filter
    with pytest.raises(botocore.exceptions.ClientError) as info:
        streams.describe_stream(StreamArn=arn, Limit=101)
    assert error_code(info) == "ValidationException"


@pytest.fixture(scope="module")
def sharded_server() -> Iterator[RunningServer]:
    """A second server whose streams have four open shards each."""
    running = start_server("--stream-shards", "4")
    try:
        yield running
    finally:
        running.stop()


def test_describe_stream_shard_paging(sharded_server: RunningServer, table_name: str) -> None:
    ddb = make_client(sharded_server.url)
    streams = make_client(sharded_server.url, "dynamodbstreams")
    ddb.create_table(
        TableName=table_name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"},
    )
    arn = latest_arn(ddb, table_name)
    full = streams.describe_stream(StreamArn=arn)["StreamDescription"]
    ids = [s["ShardId"] for s in full["Shards"]]
    assert len(ids) == 4 and ids == sorted(ids) and len(set(ids)) == 4
    assert all(SHARD_ID.fullmatch(i) for i in ids)
    assert "LastEvaluatedShardId" not in full

    first = streams.describe_stream(StreamArn=arn, Limit=3)["StreamDescription"]
    assert [s["ShardId"] for s in first["Shards"]] == ids[:3]
    assert first["LastEvaluatedShardId"] == ids[2]
    rest = streams.describe_stream(
        StreamArn=arn, Limit=3, ExclusiveStartShardId=first["LastEvaluatedShardId"]
    )["StreamDescription"]
    assert [s["ShardId"] for s in rest["Shards"]] == ids[3:]
    assert "LastEvaluatedShardId" not in rest

    paged: list[str] = []
    start: dict[str, str] = {}
    for _ in range(10):
        page = streams.describe_stream(StreamArn=arn, Limit=1, **start)["StreamDescription"]
        paged.extend(s["ShardId"] for s in page["Shards"])
        if "LastEvaluatedShardId" not in page:
            break
        assert page["LastEvaluatedShardId"] == page["Shards"][-1]["ShardId"]
        start = {"ExclusiveStartShardId": page["LastEvaluatedShardId"]}
    assert paged == ids

    # every write lands in exactly one shard, per item in order, numbers inside the range
    for round_ in range(3):
        for i in range(12):
            put(ddb, table_name, f"item{i}", round=str(round_))
    seen: dict[str, list[str]] = {}
    shard_of: dict[str, str] = {}
    for shard in full["Shards"]:
        start_number = int(shard["SequenceNumberRange"]["StartingSequenceNumber"])
        records = drain(streams, iterator_for(streams, arn, shard["ShardId"], "TRIM_HORIZON"))
        for record in records:
            pk = record["dynamodb"]["Keys"]["pk"]["S"]
            assert shard_of.setdefault(pk, shard["ShardId"]) == shard["ShardId"]
            assert int(record["dynamodb"]["SequenceNumber"]) >= start_number
            seen.setdefault(pk, []).append(record["eventName"])
    assert seen == {f"item{i}": ["INSERT", "MODIFY", "MODIFY"] for i in range(12)}

    # disabling closes every shard
    ddb.update_table(TableName=table_name, StreamSpecification={"StreamEnabled": False})
    closed = streams.describe_stream(StreamArn=arn)["StreamDescription"]
    assert closed["StreamStatus"] == "DISABLED"
    for shard in closed["Shards"]:
        numbers = shard["SequenceNumberRange"]
        assert int(numbers["EndingSequenceNumber"]) >= int(numbers["StartingSequenceNumber"])


# -- GetShardIterator ----------------------------------------------------------------------


@pytest.fixture
def three_writes(ddb: Any, streams: Any, make_table: Callable[..., str]) -> dict[str, Any]:
    table = make_table(stream="NEW_IMAGE")
    for pk in ("a", "b", "c"):
        put(ddb, table, pk)
    arn = latest_arn(ddb, table)
    shard = only_shard(streams, arn)
    records = drain(streams, iterator_for(streams, arn, shard["ShardId"], "TRIM_HORIZON"))
    assert pks(records) == ["a", "b", "c"]
    return {"table": table, "arn": arn, "shard": shard, "records": records}


def test_iterator_types(ddb: Any, streams: Any, three_writes: dict[str, Any]) -> None:
    arn, table = three_writes["arn"], three_writes["table"]
    shard_id = three_writes["shard"]["ShardId"]
    numbers = [r["dynamodb"]["SequenceNumber"] for r in three_writes["records"]]

    iterator = iterator_for(streams, arn, shard_id, "TRIM_HORIZON")
    assert iterator.startswith(arn + "|1|")
    assert len(iterator) <= 2048
    assert pks(drain(streams, iterator)) == ["a", "b", "c"]

    at = iterator_for(streams, arn, shard_id, "AT_SEQUENCE_NUMBER", numbers[1])
    assert pks(drain(streams, at)) == ["b", "c"]
    after = iterator_for(streams, arn, shard_id, "AFTER_SEQUENCE_NUMBER", numbers[1])
    assert pks(drain(streams, after)) == ["c"]
    after_last = iterator_for(streams, arn, shard_id, "AFTER_SEQUENCE_NUMBER", numbers[2])
    assert drain(streams, after_last) == []

    starting = three_writes["shard"]["SequenceNumberRange"]["StartingSequenceNumber"]
    from_start = iterator_for(streams, arn, shard_id, "AT_SEQUENCE_NUMBER", starting)
    assert pks(drain(streams, from_start)) == ["a", "b", "c"]

    latest = iterator_for(streams, arn, shard_id, "LATEST")
    page = streams.get_records(ShardIterator=latest)
    assert page["Records"] == []
    put(ddb, table, "d")
    # the LATEST iterator taken before the write sees it (emulator is exact, SPEC 2.4)
    assert pks(drain(streams, latest)) == ["d"]
    assert pks(drain(streams, page["NextShardIterator"])) == ["d"]
    assert pks(drain(streams, after_last)) == ["d"]


def test_get_shard_iterator_errors(
    streams: Any, endpoint: str, three_writes: dict[str, Any]
) -> None:
    arn = three_writes["arn"]
    shard_id = three_writes["shard"]["ShardId"]
    number = three_writes["records"][0]["dynamodb"]["SequenceNumber"]

    def fails(code: str, **kwargs: Any) -> None:
        request = {"StreamArn": arn, "ShardId": shard_id, **kwargs}
        with pytest.raises(botocore.exceptions.ClientError) as info:
            streams.get_shard_iterator(**request)
        assert error_code(info) == code, (kwargs, info.value.response)

    fails("ValidationException", ShardIteratorType="AT_SEQUENCE_NUMBER")
    fails("ValidationException", ShardIteratorType="AFTER_SEQUENCE_NUMBER")
    fails("ValidationException", ShardIteratorType="TRIM_HORIZON", SequenceNumber=number)
    fails("ValidationException", ShardIteratorType="LATEST", SequenceNumber=number)
    fails("ValidationException", ShardIteratorType="SOMEWHERE")
    fails(
        "ValidationException",
        ShardIteratorType="AT_SEQUENCE_NUMBER",
        SequenceNumber="12345678901234567890x",
    )
    fails("ResourceNotFoundException", ShardIteratorType="TRIM_HORIZON", ShardId=UNKNOWN_SHARD)
    fails(
        "ValidationException",
        ShardIteratorType="TRIM_HORIZON",
        StreamArn="arn:aws:dynamodb:us-east-1:000000000000:table/not-a-stream-arn",
    )
    fails(
        "ResourceNotFoundException",
        ShardIteratorType="TRIM_HORIZON",
        StreamArn=arn.rsplit("/", 1)[0] + "/2001-01-01T00:00:00.000",
    )
    status, body = raw(
        endpoint,
        "GetShardIterator",
        {
            "StreamArn": arn,
            "ShardId": shard_id,
            "ShardIteratorType": "AT_SEQUENCE_NUMBER",
            "SequenceNumber": "-1",
        },
    )
    assert status == 400 and body["__type"].endswith("ValidationException")


# -- GetRecords ----------------------------------------------------------------------------


def test_get_records_paging_and_iterators(
    ddb: Any, streams: Any, endpoint: str, make_table: Callable[..., str]
) -> None:
    table = make_table(stream="KEYS_ONLY")
    arn = latest_arn(ddb, table)
    shard_id = only_shard(streams, arn)["ShardId"]
    iterator = iterator_for(streams, arn, shard_id, "TRIM_HORIZON")

    # an empty open shard: Records present and empty, a next iterator all the same
    status, _, payload = raw_call(
        endpoint, STREAMS_TARGET + "GetRecords", orjson.dumps({"ShardIterator": iterator})
    )
    body = orjson.loads(payload)
    assert status == 200 and body["Records"] == [] and body["NextShardIterator"]

    for i in range(5):
        put(ddb, table, f"k{i}")
    issued = {iterator}
    sizes = []
    read: list[str] = []
    for _ in range(6):
        page = streams.get_records(ShardIterator=iterator, Limit=2)
        sizes.append(len(page["Records"]))
        read.extend(pks(page["Records"]))
        iterator = page["NextShardIterator"]
        assert iterator not in issued
        issued.add(iterator)
    assert sizes == [2, 2, 1, 0, 0, 0]
    assert read == [f"k{i}" for i in range(5)]

    # the only record, then nothing: never the same record twice
    put(ddb, table, "last")
    page = streams.get_records(ShardIterator=iterator)
    assert pks(page["Records"]) == ["last"]
    again = streams.get_records(ShardIterator=page["NextShardIterator"])
    assert again["Records"] == []
    assert again["NextShardIterator"] not in issued

    with pytest.raises(botocore.exceptions.ClientError) as info:
        streams.get_records(ShardIterator=iterator, Limit=1001)
    assert error_code(info) == "ValidationException"
    assert "1000" in error_message(info)


def _flip(text: str, index: int) -> str:
    replacement = "A" if text[index] != "A" else "B"
    return text[:index] + replacement + text[index + 1 :]


def test_garbled_and_forged_iterators(
    ddb: Any, streams: Any, make_table: Callable[..., str], table_name: str
) -> None:
    table = make_table(stream="KEYS_ONLY")
    put(ddb, table, "secret")
    arn = latest_arn(ddb, table)
    shard_id = only_shard(streams, arn)["ShardId"]
    good = iterator_for(streams, arn, shard_id, "TRIM_HORIZON")
    assert len(streams.get_records(ShardIterator=good)["Records"]) == 1
    prefix, opaque = good.split("|1|")

    other = make_table(stream="KEYS_ONLY", name=table_name + "-other")
    other_arn = latest_arn(ddb, other)
    raw_bytes = bytearray(base64.b64decode(opaque))
    raw_bytes[15] ^= 1  # the position field: a forged, unsigned token
    candidates = [
        prefix + "|1|" + _flip(opaque, 0),
        prefix + "|1|" + _flip(opaque, len(opaque) // 2),
        prefix + "|1|" + base64.b64encode(bytes(raw_bytes)).decode(),
        prefix + "|1|" + opaque[:-4],
        prefix + "|1|" + opaque + "AAAA",
        prefix + "|1|",
        other_arn + "|1|" + opaque,  # a token moved to another stream
        _flip(prefix, len(prefix) - 2) + "|1|" + opaque,
        "not an iterator at all",
        prefix + "|2|" + opaque,
    ]
    for candidate in candidates:
        with pytest.raises(botocore.exceptions.ClientError) as info:
            streams.get_records(ShardIterator=candidate)
        assert error_code(info) == "ValidationException", candidate


def test_get_records_one_megabyte_cap(
    ddb: Any, streams: Any, make_table: Callable[..., str]
) -> None:
    table = make_table(stream="NEW_IMAGE")
    blob = "x" * (350 * 1024)
    for i in range(10):
        ddb.put_item(TableName=table, Item={"pk": {"S": f"big{i}"}, "blob": {"S": blob}})
    arn = latest_arn(ddb, table)
    iterator: str | None = iterator_for(
        streams, arn, only_shard(streams, arn)["ShardId"], "TRIM_HORIZON"
    )
    pages: list[list[str]] = []
    while iterator:
        page = streams.get_records(ShardIterator=iterator, Limit=1000)
        if not page["Records"]:
            break
        assert sum(r["dynamodb"]["SizeBytes"] for r in page["Records"]) <= 1024 * 1024
        pages.append(pks(page["Records"]))
        iterator = page.get("NextShardIterator")
    assert len(pages) >= 4  # at most two 350 KB records fit into one megabyte
    assert [pk for page in pages for pk in page] == [f"big{i}" for i in range(10)]


# -- lifecycle -----------------------------------------------------------------------------


def test_disable_and_reenable(
    ddb: Any, streams: Any, endpoint: str, make_table: Callable[..., str]
) -> None:
    table = make_table(stream="NEW_AND_OLD_IMAGES")
    put(ddb, table, "one")
    put(ddb, table, "two")
    old_arn = latest_arn(ddb, table)
    shard_id = only_shard(streams, old_arn)["ShardId"]
    live = iterator_for(streams, old_arn, shard_id, "LATEST")

    updated = ddb.update_table(TableName=table, StreamSpecification={"StreamEnabled": False})
    assert updated["TableDescription"]["LatestStreamArn"] == old_arn
    description = ddb.describe_table(TableName=table)["Table"]
    assert "StreamSpecification" not in description
    assert description["LatestStreamArn"] == old_arn

    stream = streams.describe_stream(StreamArn=old_arn)["StreamDescription"]
    assert stream["StreamStatus"] == "DISABLED"
    [shard] = stream["Shards"]
    numbers = shard["SequenceNumberRange"]
    assert "EndingSequenceNumber" in numbers
    start, end = int(numbers["StartingSequenceNumber"]), int(numbers["EndingSequenceNumber"])

    # writes after the disable produce nothing in the old stream
    put(ddb, table, "three")
    assert ddb.get_item(TableName=table, Key={"pk": {"S": "three"}})["Item"]

    records = drain(streams, iterator_for(streams, old_arn, shard_id, "TRIM_HORIZON"))
    assert pks(records) == ["one", "two"]
    for record in records:
        assert start <= int(record["dynamodb"]["SequenceNumber"]) <= end

    # a reader at the end of a closed shard gets no next iterator
    for iterator in (
        live,
        iterator_for(streams, old_arn, shard_id, "LATEST"),
        iterator_for(
            streams,
            old_arn,
            shard_id,
            "AFTER_SEQUENCE_NUMBER",
            records[-1]["dynamodb"]["SequenceNumber"],
        ),
    ):
        status, body = raw(endpoint, "GetRecords", {"ShardIterator": iterator})
        assert status == 200
        assert body == {"Records": []}
    # ... and a reader following the closed shard ends after its last record
    iterator: str | None = iterator_for(streams, old_arn, shard_id, "TRIM_HORIZON")
    followed: list[str] = []
    for _ in range(5):
        if not iterator:
            break
        page = streams.get_records(ShardIterator=iterator, Limit=1)
        followed.extend(pks(page["Records"]))
        iterator = page.get("NextShardIterator")
    assert iterator is None
    assert followed == ["one", "two"]

    with pytest.raises(botocore.exceptions.ClientError) as info:
        ddb.update_table(TableName=table, StreamSpecification={"StreamEnabled": False})
    assert error_message(info) == f"Table has no stream to disable: TableName: {table}"

    # enabling again mints a new stream; the old one stays listed and readable
    ddb.update_table(
        TableName=table, StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"}
    )
    new_arn = latest_arn(ddb, table)
    assert new_arn != old_arn
    new_label = ddb.describe_table(TableName=table)["Table"]["LatestStreamLabel"]
    assert new_arn.endswith("/stream/" + new_label)
    assert not old_arn.endswith(new_label)
    listed = {s["StreamArn"] for s in streams.list_streams(TableName=table)["Streams"]}
    assert listed == {old_arn, new_arn}
    new_stream = streams.describe_stream(StreamArn=new_arn)["StreamDescription"]
    assert new_stream["StreamStatus"] == "ENABLED"
    assert new_stream["StreamViewType"] == "KEYS_ONLY"
    put(ddb, table, "four")
    new_records = drain(
        streams, iterator_for(streams, new_arn, new_stream["Shards"][0]["ShardId"], "TRIM_HORIZON")
    )
    assert pks(new_records) == ["four"]
    assert int(new_records[0]["dynamodb"]["SequenceNumber"]) > end
    assert pks(drain(streams, iterator_for(streams, old_arn, shard_id, "TRIM_HORIZON"))) == [
        "one",
        "two",
    ]
    assert streams.describe_stream(StreamArn=old_arn)["StreamDescription"]["StreamStatus"] == (
        "DISABLED"
    )
    with pytest.raises(botocore.exceptions.ClientError) as info:
        ddb.update_table(
            TableName=table,
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
        )
    assert error_message(info) == f"Table already has an enabled stream: TableName: {table}"


def test_delete_table_leaves_stream_disabled_and_readable(
    ddb: Any, streams: Any, make_table: Callable[..., str]
) -> None:
    table = make_table(stream="NEW_IMAGE")
    put(ddb, table, "kept")
    arn = latest_arn(ddb, table)
    ddb.delete_table(TableName=table)
    stream = streams.describe_stream(StreamArn=arn)["StreamDescription"]
    assert stream["StreamStatus"] == "DISABLED"
    [shard] = stream["Shards"]
    assert "EndingSequenceNumber" in shard["SequenceNumberRange"]
    assert [s["StreamArn"] for s in streams.list_streams(TableName=table)["Streams"]] == [arn]
    records = drain(streams, iterator_for(streams, arn, shard["ShardId"], "TRIM_HORIZON"))
    assert pks(records) == ["kept"]
    assert records[0]["dynamodb"]["NewImage"] == {"pk": {"S": "kept"}}


# -- StreamSpecification validation (SPEC 4.1) ---------------------------------------------

INVALID = "One or more parameter values were invalid: "


def test_stream_specification_validation(
    ddb: Any, make_table: Callable[..., str], table_name: str
) -> None:
    def create_fails(spec: dict[str, Any]) -> str:
        with pytest.raises(botocore.exceptions.ClientError) as info:
            make_table(name=table_name + "-bad", StreamSpecification=spec)
        assert error_code(info) == "ValidationException"
        return error_message(info)

    assert create_fails({"StreamEnabled": True}) == (
        INVALID + "Table is being created with a stream enabled, UpdateViewType is required"
    )
    assert create_fails({"StreamEnabled": False, "StreamViewType": "KEYS_ONLY"}) == (
        INVALID + "Table is being created with a stream disabled, UpdateViewType should not be "
        "specified"
    )
    create_fails({"StreamEnabled": True, "StreamViewType": "Fisk"})

    table = make_table(StreamSpecification={"StreamEnabled": False})
    description = ddb.describe_table(TableName=table)["Table"]
    assert "StreamSpecification" not in description
    assert "LatestStreamArn" not in description
    assert streams_of(ddb, table) == []

    def update_fails(spec: dict[str, Any], **extra: Any) -> str:
        with pytest.raises(botocore.exceptions.ClientError) as info:
            ddb.update_table(TableName=table, StreamSpecification=spec, **extra)
        assert error_code(info) == "ValidationException"
        return error_message(info)

    assert update_fails({"StreamEnabled": False}) == (
        f"Table has no stream to disable: TableName: {table}"
    )
    assert update_fails({"StreamEnabled": True}) == (
        INVALID + "If stream is being enabled then UpdateViewType is required"
    )
    update_fails({"StreamEnabled": True, "StreamViewType": "Fisk"})
    ddb.update_table(
        TableName=table, StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"}
    )
    assert update_fails({"StreamEnabled": False, "StreamViewType": "KEYS_ONLY"}) == (
        INVALID + "If stream is being disabled, then UpdateViewType must not be specified"
    )
    assert update_fails(
        {"StreamEnabled": False},
        ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1},
    ) == (INVALID + "You cannot modify stream status while updating table IOPS")
    assert len(streams_of(ddb, table)) == 1


def streams_of(ddb: Any, table: str) -> list[str]:
    streams = make_client(ddb.meta.endpoint_url, "dynamodbstreams")
    return [s["StreamArn"] for s in streams.list_streams(TableName=table)["Streams"]]


# -- time: AT_TIMESTAMP and iterator expiry (a private server with a manual clock) ---------


@pytest.fixture(scope="module")
def clock_server() -> Iterator[RunningServer]:
    running = start_server()
    try:
        yield running
    finally:
        running.stop()


def move_clock(server: RunningServer, command: dict[str, Any]) -> float:
    request = urllib.request.Request(
        server.url + "/_emulator/clock",
        data=orjson.dumps(command),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return float(orjson.loads(response.read())["now"])


def test_at_timestamp_and_iterator_expiry(clock_server: RunningServer, table_name: str) -> None:
    ddb = make_client(clock_server.url)
    streams = make_client(clock_server.url, "dynamodbstreams")
    start = move_clock(clock_server, {"set": int(time.time()) + 2})  # a whole second
    ddb.create_table(
        TableName=table_name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"},
    )
    arn = latest_arn(ddb, table_name)
    shard_id = only_shard(streams, arn)["ShardId"]
    early = iterator_for(streams, arn, shard_id, "TRIM_HORIZON")
    put(ddb, table_name, "early")
    move_clock(clock_server, {"advance": 10})
    put(ddb, table_name, "late")
    put(ddb, table_name, "later")
    move_clock(clock_server, {"advance": 5})

    def at(timestamp: float) -> list[str]:
        iterator = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard_id, ShardIteratorType="AT_TIMESTAMP", Timestamp=timestamp
        )["ShardIterator"]
        return pks(drain(streams, iterator))

    assert at(start - 3600) == ["early", "late", "later"]
    assert at(start + 5) == ["late", "later"]
    assert at(start + 10) == ["late", "later"]
    assert at(start + 10.5) == ["late", "later"]  # same second: never skipped
    assert at(start + 15) == []
    with pytest.raises(botocore.exceptions.ClientError) as info:
        at(start + 3600)  # the future
    assert error_code(info) == "ValidationException"
    for kwargs in (
        {"ShardIteratorType": "AT_TIMESTAMP"},
        {"ShardIteratorType": "TRIM_HORIZON", "Timestamp": start},
        {"ShardIteratorType": "AT_TIMESTAMP", "Timestamp": start, "SequenceNumber": "1" * 21},
    ):
        with pytest.raises(botocore.exceptions.ClientError) as info:
            streams.get_shard_iterator(StreamArn=arn, ShardId=shard_id, **kwargs)
        assert error_code(info) == "ValidationException", kwargs

    # iterators live 15 minutes
    move_clock(clock_server, {"advance": 14 * 60})
    assert pks(drain(streams, early)) == ["early", "late", "later"]
    move_clock(clock_server, {"advance": 61})
    with pytest.raises(streams.exceptions.ExpiredIteratorException):
        streams.get_records(ShardIterator=early)
    fresh = iterator_for(streams, arn, shard_id, "TRIM_HORIZON")
    assert pks(drain(streams, fresh)) == ["early", "late", "later"]
