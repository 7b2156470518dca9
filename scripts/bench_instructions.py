#!/usr/bin/env python3
"""Server CPU instructions per request, counted by valgrind: a noise-free companion to the
throughput ratios of bench.py (stream / plain PutItem) and bench_update.py (UpdateItem /
PutItem).

What is measured
    For each load, the emulator is started under ``valgrind --tool=cachegrind`` (no cache
    simulation: it only counts the instructions the server process executes) and receives
    a warm-up, then ``--requests`` requests at concurrency 8 over raw HTTP (bench.py's
    client); it is then stopped and valgrind's total is read.  The same is done with
    ``--base`` requests instead; the difference divided by the difference in requests is
    the server's instructions per request, free of start-up and shutdown.  Loads:

    put          PutItem of new items (bench.py's items) on a table without a stream
    stream-put   the same on a table with a NEW_AND_OLD_IMAGES stream
    log-put      the same on a table with point-in-time recovery (its change log on)
    overwrite    PutItem over existing items with other values (the table is first
                 filled with ``PREFILL`` items by BatchWriteItem, the same in both runs)
    log-overwrite  the same on a table with point-in-time recovery: each put a MODIFY
    update       ``SET a = a + :one`` on one item (bench_update.py's request)
    stream-update  the same on a table with a NEW_AND_OLD_IMAGES stream
    kinesis-put  PutItem of new items on a table with a Kinesis Data Streams destination
    replica-put  PutItem of new items on a global table with a replica in a second region
                 (the replicator's work in the other region included: settled before the
                 server is stopped)
    ceiling      the same PutItem requests sent to bench.py's bare Starlette app (answers
                 ``{}``): the instructions the framework alone costs per request

How to read the numbers
    instructions/request, and the ratios put / stream-put and put / update: what the
    throughput ratios would be if every instruction cost the same time.  They do not
    (SQLite's instructions tend to be cheaper than the interpreter's), so they are a
    guide for changes, not the issue's figure; but they do not move with the machine's
    load, so a change's effect shows in one run.  valgrind slows the server about 50x: a
    run takes a minute or two.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Sequence

import orjson
from bench import (
    CEILING_SRC,
    DDB,
    HOST,
    REPO,
    RawConn,
    build_request,
    call,
    create_table,
    free_port,
    put_item_bodies,
    put_item_requests,
    python_exe,
    run_load,
    wait_ready,
)

LOADS = (
    "put",
    "stream-put",
    "log-put",
    "overwrite",
    "log-overwrite",
    "update",
    "stream-update",
    "kinesis-put",
    "replica-put",
    "ceiling",
)
WARMUP = 300
#: Items an overwrite load's table holds before its runs (at least WARMUP + --requests).
PREFILL = 10_000
COUNTER_KEY = {"pk": {"S": "counter"}}


def requests_for(load: str, port: int, table: str, n: int) -> list[bytes]:
    if load in ("update", "stream-update"):
        body = orjson.dumps(
            {
                "TableName": table,
                "Key": COUNTER_KEY,
                "UpdateExpression": "SET a = a + :one",
                "ExpressionAttributeValues": {":one": {"N": "1"}},
            }
        )
        return [build_request(port, f"{DDB}.UpdateItem", body)] * n
    if load in ("overwrite", "log-overwrite"):
        if n > PREFILL:
            raise SystemExit(f"{load}: at most {PREFILL - WARMUP} requests")
        return put_item_requests(port, table, "k", n, version=1)
    return put_item_requests(port, table, "k", n)


async def prefill(port: int, table: str) -> None:
    """PREFILL items (put_item_requests' first version) by BatchWriteItem."""
    items = [orjson.loads(body)["Item"] for body in put_item_bodies(table, "k", PREFILL)]
    bodies = [
        build_request(
            port,
            f"{DDB}.BatchWriteItem",
            {"RequestItems": {table: [{"PutRequest": {"Item": i}} for i in items[at : at + 25]]}},
        )
        for at in range(0, PREFILL, 25)
    ]
    result = await run_load(port, bodies, 8)
    if result.errors:
        raise SystemExit(f"prefill: {result.errors} errors; first: {result.first_error}")


async def drive(load: str, port: int, proc: subprocess.Popen[bytes], n: int) -> None:
    if load == "ceiling":
        await wait_ready(port, proc, need_200=False, timeout=300)
        await run_load(port, put_item_requests(port, "ceiling", "k", WARMUP + n), 8)
        return
    await wait_ready(port, proc, need_200=True, timeout=300)
    table = "bench_instructions"
    await create_table(port, table, stream=load in ("stream-put", "stream-update"))
    conn = RawConn(HOST, port)
    await conn.connect()
    if load == "replica-put":
        await call(
            conn,
            f"{DDB}.UpdateTable",
            {"TableName": table, "ReplicaUpdates": [{"Create": {"RegionName": "eu-west-1"}}]},
        )
        await settle_all(conn, port)
    if load == "kinesis-put":
        await enable_kinesis_destination(conn, port, table)
    seed = {"TableName": table, "Item": {**COUNTER_KEY, "a": {"N": "0"}}}
    await call(conn, f"{DDB}.PutItem", seed)
    if load in ("log-put", "log-overwrite"):
        await call(
            conn,
            f"{DDB}.UpdateContinuousBackups",
            {
                "TableName": table,
                "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
            },
        )
    await conn.close()
    if load in ("overwrite", "log-overwrite"):
        await prefill(port, table)
    result = await run_load(port, requests_for(load, port, table, WARMUP + n), 8)
    if result.errors:
        raise SystemExit(f"{load}: {result.errors} errors; first: {result.first_error}")
    if load == "replica-put":
        conn = RawConn(HOST, port)
        await conn.connect()
        await settle_all(conn, port)
        await conn.close()


async def settle_all(conn: RawConn, port: int) -> None:
    """Wait until every background worker (the replicators among them) is idle."""
    body = b'{"timeout": 600}'
    head = (
        f"POST /_emulator/triggers/settle HTTP/1.1\r\nHost: {HOST}:{port}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    status, answer = await conn.request(head.encode() + body)
    if status != 200 or orjson.loads(answer) != {"settled": True}:
        raise SystemExit(f"settle: {status} {answer!r}")


async def enable_kinesis_destination(conn: RawConn, port: int, table: str) -> None:
    """A one-shard built-in Kinesis stream as the table's destination, both ACTIVE."""
    body = orjson.dumps({"StreamName": "bench-kds", "ShardCount": 1})
    head = (
        f"POST / HTTP/1.1\r\nHost: {HOST}:{port}\r\nX-Amz-Target: Kinesis_20131202.CreateStream"
        f"\r\nContent-Type: application/x-amz-json-1.1\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    status, answer = await conn.request(head.encode() + body)
    if status != 200:
        raise SystemExit(f"CreateStream: {status} {answer!r}")
    settle = f"POST /_emulator/kinesis/settle HTTP/1.1\r\nHost: {HOST}:{port}\r\n"
    settle += "Content-Length: 0\r\n\r\n"
    await conn.request(settle.encode())
    arn = "arn:aws:kinesis:us-east-1:000000000000:stream/bench-kds"
    await call(
        conn, f"{DDB}.EnableKinesisStreamingDestination", {"TableName": table, "StreamArn": arn}
    )
    await conn.request(settle.encode())


def count_instructions(load: str, n: int) -> int:
    """Instructions the server executed for start-up, `n` requests (after a warm-up), stop."""
    port = free_port()
    if load == "ceiling":
        server = ["-c", CEILING_SRC, str(port)]
    else:
        server = ["-m", "emulator", "--port", str(port), "--log-level", "warning"]
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(
            [
                "valgrind",
                "--tool=cachegrind",
                "--cache-sim=no",
                "--cachegrind-out-file=/dev/null",
                python_exe(),
                *server,
            ],
            cwd=REPO,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            asyncio.run(drive(load, port, proc, n))
        finally:
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=120)
        log.seek(0)
        text = log.read().decode(errors="replace")
    found = re.search(r"I\s+refs:\s+([\d,]+)", text)
    if found is None:
        raise SystemExit(f"no instruction count in valgrind's output:\n{text[-2000:]}")
    return int(found.group(1).replace(",", ""))


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--requests", type=int, default=2500, help="requests of the long run (2500)")
    p.add_argument("--base", type=int, default=500, help="requests of the short run (500)")
    p.add_argument("--loads", nargs="+", choices=LOADS, default=list(LOADS), help="loads to count")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if shutil.which("valgrind") is None:
        print("valgrind is not installed (apt-get install valgrind)", file=sys.stderr)
        return 2
    per_request: dict[str, float] = {}
    for load in args.loads:
        long_run = count_instructions(load, args.requests)
        short_run = count_instructions(load, args.base)
        per_request[load] = (long_run - short_run) / (args.requests - args.base)
        print(f"{load:13s} {per_request[load]:>10,.0f} instructions/request")
    ceiling = per_request.get("ceiling")
    if ceiling is not None:
        for other in LOADS[:-1]:
            if other in per_request:
                print(f"ceiling / {other}: {ceiling / per_request[other]:.3f}")
    put = per_request.get("put")
    if put is not None:
        for other in ("stream-put", "log-put", "update", "kinesis-put", "replica-put"):
            if other in per_request:
                print(f"put / {other}: {put / per_request[other]:.3f}")
    if "overwrite" in per_request and "log-overwrite" in per_request:
        ratio = per_request["overwrite"] / per_request["log-overwrite"]
        print(f"overwrite / log-overwrite: {ratio:.3f}")
    if "stream-put" in per_request and "replica-put" in per_request:
        ratio = per_request["stream-put"] / per_request["replica-put"]
        print(f"stream-put / replica-put: {ratio:.3f}")
    stream_put = per_request.get("stream-put")
    if stream_put is not None and "stream-update" in per_request:
        print(f"stream-put / stream-update: {stream_put / per_request['stream-update']:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
