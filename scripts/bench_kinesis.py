#!/usr/bin/env python3
"""The Kinesis destination and the built-in Kinesis endpoint, measured over raw HTTP.

What is measured (issue 15's targets in brackets)
    1. PutItem throughput into a table with a Kinesis destination, against the same load
       into a table without one, at concurrency 8 (``--requests`` each, ``--rounds``
       alternating pairs).  ratio = with / without  [>= 0.85]
    2. GetRecords drain: ``--drain`` records put into a one-shard stream (PutRecords of
       500), then read back with GetRecords Limit 10000 until caught up; records per
       second of wall time, JSON 1.1 (with the client parsing each page with orjson) and
       CBOR 1.1 (cbor2).  [>= 50,000 records/s]
    3. End-to-end latency: one PutItem at a time; right after its answer, GetRecords on
       the destination stream's shard (continuing the previous NextShardIterator) until
       the record is there. Latency = PutItem answered -> record returned by GetRecords.
       [p99 < 5 ms]

The client is bench.py's minimal asyncio HTTP/1.1 client; client and server share the
machine's cores, so absolute numbers depend on the box (2 cores on the reference one).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import (
    DDB,
    HOST,
    RawConn,
    call,
    create_table,
    emulator_server,
    put_item_requests,
    ready,
    run_load,
    unique_table,
)

KINESIS = "Kinesis_20131202"
ACCOUNT = "000000000000"


def kinesis_request(port: int, operation: str, body: bytes, content_type: str) -> bytes:
    head = (
        f"POST / HTTP/1.1\r\nHost: {HOST}:{port}\r\nX-Amz-Target: {KINESIS}.{operation}\r\n"
        f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def kinesis_call(conn: RawConn, operation: str, payload: dict[str, Any]) -> dict[str, Any]:
    raw = kinesis_request(conn.port, operation, orjson.dumps(payload), "application/x-amz-json-1.1")
    status, body = await conn.request(raw)
    if status != 200:
        raise RuntimeError(f"{operation}: HTTP {status}: {body[:300]!r}")
    return orjson.loads(body) if body else {}


async def settle(port: int) -> None:
    conn = RawConn(HOST, port)
    try:
        raw = (
            f"POST /_emulator/kinesis/settle HTTP/1.1\r\nHost: {HOST}:{port}\r\n"
            "Content-Type: application/json\r\nContent-Length: 0\r\n\r\n"
        ).encode()
        status, body = await conn.request(raw)
        if status != 200:
            raise RuntimeError(f"settle: HTTP {status}: {body!r}")
    finally:
        await conn.close()


async def new_stream(port: int, name: str, shards: int = 1) -> str:
    conn = RawConn(HOST, port)
    try:
        await kinesis_call(conn, "CreateStream", {"StreamName": name, "ShardCount": shards})
    finally:
        await conn.close()
    await settle(port)
    return f"arn:aws:kinesis:us-east-1:{ACCOUNT}:stream/{name}"


async def table_with_destination(port: int, prefix: str) -> tuple[str, str]:
    table = unique_table(prefix)
    await create_table(port, table, stream=False)
    arn = await new_stream(port, f"{table}-kds")
    conn = RawConn(HOST, port)
    try:
        await call(
            conn,
            f"{DDB}.EnableKinesisStreamingDestination",
            {"TableName": table, "StreamArn": arn},
        )
    finally:
        await conn.close()
    await settle(port)
    return table, arn


def cpu_per_request(result: Any) -> str:
    if result.server_cpu is None:
        return ""
    return f", server {result.server_cpu * result.seconds / result.requests * 1e6:5.1f} us CPU/req"


async def throughput(port: int, requests: int, rounds: int, server: Any = None) -> None:
    ratios = []
    for round_ in range(rounds):
        plain = unique_table("plain")
        await create_table(port, plain, stream=False)
        with_kds, _arn = await table_with_destination(port, "kds")
        load_plain = put_item_requests(port, plain, f"p{round_}-", requests)
        load_kds = put_item_requests(port, with_kds, f"k{round_}-", requests)
        # Alternate which goes first, so a drift of the machine's load favours neither.
        if round_ % 2:
            with_destination = await run_load(port, load_kds, 8, "with", server)
            without = await run_load(port, load_plain, 8, "without", server)
        else:
            without = await run_load(port, load_plain, 8, "without", server)
            with_destination = await run_load(port, load_kds, 8, "with", server)
        assert without.errors == 0 and with_destination.errors == 0, (
            without.first_error or with_destination.first_error
        )
        ratio = with_destination.rps / without.rps
        ratios.append(ratio)
        print(
            f"  round {round_ + 1}: without {without.rps:6.0f} req/s (p99 "
            f"{without.pct_ms(0.99):.2f} ms{cpu_per_request(without)})  with destination "
            f"{with_destination.rps:6.0f} req/s (p99 {with_destination.pct_ms(0.99):.2f} ms"
            f"{cpu_per_request(with_destination)})  ratio {ratio:.3f}"
        )
    median = statistics.median(ratios)
    print(f"PutItem with / without a Kinesis destination: median ratio {median:.3f}")


async def drain(port: int, records: int) -> None:
    import cbor2

    arn = await new_stream(port, f"drain-{time.time_ns()}")
    conn = RawConn(HOST, port)
    data = base64.b64encode(b'{"payload": "' + b"x" * 80 + b'"}').decode()
    try:
        for start in range(0, records, 500):
            batch = [
                {"Data": data, "PartitionKey": f"k{i}"}
                for i in range(start, min(records, start + 500))
            ]
            await kinesis_call(conn, "PutRecords", {"StreamARN": arn, "Records": batch})
        for wire in ("json", "cbor"):
            answer = await kinesis_call(
                conn,
                "GetShardIterator",
                {
                    "StreamARN": arn,
                    "ShardId": "shardId-000000000000",
                    "ShardIteratorType": "TRIM_HORIZON",
                },
            )
            iterator = answer["ShardIterator"]
            read = 0
            started = time.perf_counter()
            while True:
                request = {"ShardIterator": iterator, "Limit": 10_000}
                if wire == "json":
                    raw = kinesis_request(
                        port, "GetRecords", orjson.dumps(request), "application/x-amz-json-1.1"
                    )
                    status, body = await conn.request(raw)
                    page = orjson.loads(body)
                else:
                    raw = kinesis_request(
                        port, "GetRecords", cbor2.dumps(request), "application/x-amz-cbor-1.1"
                    )
                    status, body = await conn.request(raw)
                    page = cbor2.loads(body, semantic_decoders={1: lambda value, _i: value})
                assert status == 200, body[:300]
                read += len(page["Records"])
                iterator = page["NextShardIterator"]
                if not page["Records"]:
                    break
            seconds = time.perf_counter() - started
            assert read == records, (read, records)
            print(
                f"GetRecords drain ({wire}): {read} records in {seconds:.3f} s = "
                f"{read / seconds:,.0f} records/s"
            )
    finally:
        await conn.close()


async def latency(port: int, writes: int) -> None:
    table, arn = await table_with_destination(port, "latency")
    conn = RawConn(HOST, port)
    try:
        answer = await kinesis_call(
            conn,
            "GetShardIterator",
            {"StreamARN": arn, "ShardId": "shardId-000000000000", "ShardIteratorType": "LATEST"},
        )
        iterator = answer["ShardIterator"]
        samples: list[float] = []
        polls = 0
        for i in range(writes):
            await call(
                conn,
                f"{DDB}.PutItem",
                {"TableName": table, "Item": {"pk": {"S": f"item-{i}"}, "n": {"N": str(i)}}},
            )
            answered = time.perf_counter()
            while True:
                polls += 1
                page = await kinesis_call(conn, "GetRecords", {"ShardIterator": iterator})
                iterator = page["NextShardIterator"]
                if page["Records"]:
                    break
            samples.append((time.perf_counter() - answered) * 1000)
        samples.sort()
        print(
            f"write answered -> record readable in Kinesis, {writes} writes: p50 "
            f"{samples[len(samples) // 2]:.3f} ms, p99 {samples[int(len(samples) * 0.99)]:.3f} ms, "
            f"max {samples[-1]:.3f} ms ({polls / writes:.2f} GetRecords per record)"
        )
    finally:
        await conn.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="an emulator already running at http://127.0.0.1:PORT")
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--drain", type=int, default=100_000)
    parser.add_argument("--writes", type=int, default=2000)
    args = parser.parse_args()
    with emulator_server(args.url) as server:
        await ready(server, need_200=True)
        await throughput(server.port, args.requests, args.rounds, server)
        await drain(server.port, args.drain)
        await latency(server.port, args.writes)


if __name__ == "__main__":
    asyncio.run(main())
