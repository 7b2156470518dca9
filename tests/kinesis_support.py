"""Shared helpers of the Kinesis tests: admin calls, raw JSON 1.1 / CBOR 1.1 requests, and
reading a whole Kinesis stream the way a polling consumer (KCL's POLLING mode) does."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import cbor2

TARGET = "Kinesis_20131202."
JSON_11 = "application/x-amz-json-1.1"
CBOR_11 = "application/x-amz-cbor-1.1"


def admin(url: str, path: str, body: Any = None, method: str = "POST") -> Any:
    data = None if body is None and method == "GET" else json.dumps(body or {}).encode()
    request = urllib.request.Request(
        url + path, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def settle(url: str) -> None:
    answer = admin(url, "/_emulator/kinesis/settle")
    assert answer["Settled"] is True, answer


def raw(
    url: str, operation: str, body: bytes, content_type: str
) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url + "/", data=body, method="POST")
    request.add_header("Content-Type", content_type)
    request.add_header("X-Amz-Target", TARGET + operation)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


class Tag1:
    """A CBOR tag 1 value as it was on the wire (to assert integer milliseconds)."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def __repr__(self) -> str:
        return f"Tag1({self.value!r})"


def cbor_call(url: str, operation: str, request: dict[str, Any]) -> tuple[int, Any]:
    status, headers, payload = raw(url, operation, cbor2.dumps(request), CBOR_11)
    assert headers["content-type"] == CBOR_11, headers
    return status, cbor2.loads(payload, semantic_decoders={1: lambda value, _imm: Tag1(value)})


def json_call(url: str, operation: str, request: dict[str, Any]) -> tuple[int, Any]:
    status, headers, payload = raw(url, operation, json.dumps(request).encode(), JSON_11)
    assert headers["content-type"] == JSON_11, headers
    return status, json.loads(payload)


def read_all(kinesis: Any, stream: str, limit: int = 10_000) -> dict[str, list[dict[str, Any]]]:
    """Every record of every shard, by shard id, reading a child only after its parents
    were read to their end: the polling consumer's algorithm (KCL's POLLING mode) —
    ListShards, TRIM_HORIZON iterators, GetRecords until a closed shard answers no
    NextShardIterator (with its ChildShards) or an open one is caught up."""
    shards = {s["ShardId"]: s for s in kinesis.list_shards(StreamName=stream)["Shards"]}
    done: set[str] = set()
    records: dict[str, list[dict[str, Any]]] = {}
    while len(done) < len(shards):
        ready = [
            shard_id
            for shard_id, shard in sorted(shards.items())
            if shard_id not in done
            and all(
                parent in done or parent not in shards
                for parent in (shard.get("ParentShardId"), shard.get("AdjacentParentShardId"))
                if parent
            )
        ]
        assert ready, "shard lineage has a cycle"
        for shard_id in ready:
            iterator = kinesis.get_shard_iterator(
                StreamName=stream, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
            )["ShardIterator"]
            got = records.setdefault(shard_id, [])
            while iterator:
                page = kinesis.get_records(ShardIterator=iterator, Limit=limit)
                got.extend(page["Records"])
                iterator = page.get("NextShardIterator")
                for child in page.get("ChildShards", []):
                    assert child["ShardId"] in shards
                    assert shard_id in child["ParentShards"]
                if iterator and not page["Records"] and page["MillisBehindLatest"] == 0:
                    break  # an open shard, caught up
            done.add(shard_id)
    return records


def data_of(records: list[dict[str, Any]]) -> list[Any]:
    return [json.loads(r["Data"]) for r in records]
