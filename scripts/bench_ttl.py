#!/usr/bin/env python3
"""A large TTL sweep next to live traffic: does deleting 100,000 expired items stall reads?

What is measured
    On an emulator started here (``python -m emulator --port <free>``; its clock is put in
    manual mode, so nothing expires until asked), a table (pk HASH S) with a
    NEW_AND_OLD_IMAGES stream gets TTL enabled on ``ttl`` and the clock is moved past
    ENABLING.  ``--items`` items (default 100,000) whose ``ttl`` lies in the past are written
    with BatchWriteItem (25 per call, concurrency 8; not timed).

    Then, at the same time:
      * ``--readers`` workers (default 4), each on its own keep-alive connection, send
        GetItem calls for random keys of those items, back to back, as long as the sweep runs
        (a hit or a miss, depending on whether the item was swept yet);
      * one more connection sends ``POST /_emulator/ttl/sweep``, which deletes every expired
        item (in transactions of scheduler.TTL_BATCH deletions with a yield to the event
        loop between them) and answers with the number deleted per table.
    Before the sweep the same readers run for ``--baseline`` seconds (default 2) alone, so
    the latency the sweep adds can be told from the latency of the machine.

    Afterwards the script checks that the table is empty (Scan, Select COUNT) and that the
    stream holds one REMOVE record per item, each with
    ``userIdentity: {"Type": "Service", "PrincipalId": "dynamodb.amazonaws.com"}`` (read
    with GetRecords, Limit 1000, from TRIM_HORIZON on every shard).

    Client (one asyncio process, the minimal HTTP/1.1 client of bench.py) and server share
    the machine's cores, like the other benchmarks here.

How to read the numbers
    GetItem p50 / p99 / max (ms)  latency of the reads sent while the sweep ran; the target is
                 p99 < 20 ms: a sweep must never hold requests for long.
    sweep s, items/s   wall time of the sweep call, and deletions (each with its stream
                 record) per second.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shlex
import statistics
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import orjson
from bench import (
    DDB,
    HOST,
    STREAMS,
    ApiError,
    RawConn,
    Server,
    build_request,
    call,
    client_note,
    create_table,
    emulator_server,
    free_port,
    python_exe,
    ready,
    run_load,
    spawned,
    unique_table,
)

#: Runs the emulator with another scheduler.TTL_BATCH (for --ttl-batch).
PATCHED_EMULATOR = (
    "import sys; import emulator.runtime.scheduler as m; m.TTL_BATCH = int(sys.argv[1]); "
    "from emulator.cli import main; main(sys.argv[2:])"
)
TTL_IDENTITY = {"Type": "Service", "PrincipalId": "dynamodb.amazonaws.com"}
THROTTLED = (b"LimitExceededException", b"ThrottlingException")


def admin_request(port: int, path: str, body: dict[str, Any]) -> bytes:
    payload = orjson.dumps(body)
    head = (
        f"POST {path} HTTP/1.1\r\n"
        f"Host: {HOST}:{port}\r\n"
        f"Content-Type: application/json\r\n"
        f"Content-Length: {len(payload)}\r\n"
        f"\r\n"
    )
    return head.encode() + payload


async def admin(port: int, path: str, body: dict[str, Any]) -> Any:
    """One admin call on its own connection (a long-idle keep-alive one may be closed)."""
    conn = RawConn(HOST, port)
    try:
        status, raw = await conn.request(admin_request(port, path, body))
    finally:
        await conn.close()
    if status != 200:
        raise ApiError(path, status, raw)
    return orjson.loads(raw)


def pct(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, int(q * len(values)))]


def key_of(i: int) -> str:
    return f"x{i:07d}"


def batch_requests(port: int, table: str, items: int, now: int) -> list[bytes]:
    """BatchWriteItem calls of 25 expired items each (instants spread over the past day)."""
    requests = []
    for start in range(0, items, 25):
        puts = [
            {
                "PutRequest": {
                    "Item": {
                        "pk": {"S": key_of(i)},
                        "ttl": {"N": str(now - 1 - i % 86400)},
                        "payload": {"S": "some payload text"},
                        "n": {"N": str(i)},
                    }
                }
            }
            for i in range(start, min(items, start + 25))
        ]
        requests.append(
            build_request(port, f"{DDB}.BatchWriteItem", {"RequestItems": {table: puts}})
        )
    return requests


async def read_while(
    port: int, table: str, items: int, readers: int, done: asyncio.Event
) -> tuple[list[float], int, int]:
    """GetItem on random keys from `readers` connections until `done`; (latencies ms, hits,
    errors)."""
    latencies: list[float] = []
    hits = errors = 0
    clock = time.perf_counter
    target = f"{DDB}.GetItem"

    async def reader(seed: int) -> None:
        nonlocal hits, errors
        rng = random.Random(seed)
        conn = RawConn(HOST, port)
        await conn.connect()
        try:
            while not done.is_set():
                body = {"TableName": table, "Key": {"pk": {"S": key_of(rng.randrange(items))}}}
                raw = build_request(port, target, body)
                t0 = clock()
                status, answer = await conn.request(raw)
                latencies.append((clock() - t0) * 1000)
                if status != 200:
                    errors += 1
                elif answer != b"{}":
                    hits += 1
        finally:
            await conn.close()

    await asyncio.gather(*(reader(seed) for seed in range(readers)))
    return sorted(latencies), hits, errors


def describe(latencies: list[float]) -> str:
    if not latencies:
        return "no calls"
    return (
        f"{len(latencies):,} GetItem calls: p50 {pct(latencies, 0.5):.2f} ms, "
        f"p99 {pct(latencies, 0.99):.2f} ms, max {latencies[-1]:.2f} ms "
        f"(mean {statistics.fmean(latencies):.2f})"
    )


async def count_stream(conn: RawConn, arn: str) -> tuple[int, int, int]:
    """(records, REMOVE records, REMOVE records with the TTL identity) of the whole stream."""
    records = removes = marked = 0
    desc = (await call(conn, f"{STREAMS}.DescribeStream", {"StreamArn": arn}))["StreamDescription"]
    for shard in desc["Shards"]:
        payload = {
            "StreamArn": arn,
            "ShardId": shard["ShardId"],
            "ShardIteratorType": "TRIM_HORIZON",
        }
        iterator = (await call(conn, f"{STREAMS}.GetShardIterator", payload))["ShardIterator"]
        while iterator:
            body = orjson.dumps({"ShardIterator": iterator, "Limit": 1000})
            status, raw = await conn.request(
                build_request(conn.port, f"{STREAMS}.GetRecords", body)
            )
            if status != 200:
                if any(t in raw for t in THROTTLED):
                    await asyncio.sleep(0.01)
                    continue
                raise ApiError("GetRecords", status, raw)
            page = orjson.loads(raw)
            if not page["Records"]:
                break
            for record in page["Records"]:
                records += 1
                if record["eventName"] == "REMOVE":
                    removes += 1
                    marked += record.get("userIdentity") == TTL_IDENTITY
            iterator = page.get("NextShardIterator")
    return records, removes, marked


@contextmanager
def server_for(args: argparse.Namespace) -> Iterator[Server]:
    if args.ttl_batch is None:
        with emulator_server(None, args.emulator_args) as emu:
            yield emu
        return
    port = free_port()
    argv = [python_exe(), "-c", PATCHED_EMULATOR, str(args.ttl_batch), "--port", str(port)]
    with spawned([*argv, *shlex.split(args.emulator_args)]) as (proc, log):
        yield Server("emulator", port, proc, log)


async def bench(args: argparse.Namespace) -> int:
    with server_for(args) as emu:
        await ready(emu, need_200=True)
        port = emu.port
        print(client_note())
        batch = "" if args.ttl_batch is None else f", TTL_BATCH patched to {args.ttl_batch}"
        print(f"emulator on port {port} (started here), manual clock{batch}\n")
        conn = RawConn(HOST, port)
        await conn.connect()
        try:
            now = int((await admin(port, "/_emulator/clock", {"set": int(time.time()) + 1}))["now"])
            table = unique_table("bench_ttl")
            desc = await create_table(port, table, stream=True)
            arn = desc["LatestStreamArn"]
            await call(
                conn,
                f"{DDB}.UpdateTimeToLive",
                {
                    "TableName": table,
                    "TimeToLiveSpecification": {"Enabled": True, "AttributeName": "ttl"},
                },
            )
            now = int((await admin(port, "/_emulator/clock", {"advance": 6}))["now"])

            loaded = await run_load(
                port, batch_requests(port, table, args.items, now), 8, server=emu
            )
            if loaded.errors:
                raise SystemExit(f"BatchWriteItem failed: {loaded.first_error}")
            print(
                f"wrote {args.items:,} expired items with {loaded.requests:,} BatchWriteItem "
                f"calls (concurrency 8) in {loaded.seconds:.1f} s"
            )

            done = asyncio.Event()
            baseline_task = asyncio.create_task(
                read_while(port, table, args.items, args.readers, done)
            )
            await asyncio.sleep(args.baseline)
            done.set()
            baseline, _, baseline_errors = await baseline_task

            done = asyncio.Event()
            reads = asyncio.create_task(read_while(port, table, args.items, args.readers, done))
            await asyncio.sleep(0.05)  # the readers are connected and running
            cpu0 = emu.cpu_seconds()
            t0 = time.perf_counter()
            answer = await admin(port, "/_emulator/ttl/sweep", {})
            sweep_seconds = time.perf_counter() - t0
            cpu1 = emu.cpu_seconds()
            done.set()
            during, hits, errors = await reads
            deleted = answer["DeletedItems"].get(table, 0)

            print(
                f"baseline, no sweep ({args.readers} readers, {args.baseline:.0f} s): "
                f"{describe(baseline)}; errors {baseline_errors}"
            )
            print(
                f"during the sweep ({args.readers} readers): {describe(during)}; "
                f"{hits:,} hits, errors {errors}"
            )
            server_cpu = (
                f", server cpu {(cpu1 - cpu0) / sweep_seconds:.2f}"
                if cpu0 is not None and cpu1 is not None
                else ""
            )
            print(
                f"sweep: {deleted:,} items deleted in {sweep_seconds:.2f} s "
                f"({deleted / sweep_seconds:,.0f} items/s){server_cpu}"
            )

            await conn.close()  # idle for long: start afresh
            count = await call(conn, f"{DDB}.Scan", {"TableName": table, "Select": "COUNT"})
            left = count["Count"]
            while "LastEvaluatedKey" in count:
                count = await call(
                    conn,
                    f"{DDB}.Scan",
                    {
                        "TableName": table,
                        "Select": "COUNT",
                        "ExclusiveStartKey": count["LastEvaluatedKey"],
                    },
                )
                left += count["Count"]
            records, removes, marked = await count_stream(conn, arn)
            print(
                f"after: {left} items left in the table; stream: {records:,} records, "
                f"{removes:,} REMOVE, {marked:,} of them with the TTL userIdentity"
            )
            p99 = pct(during, 0.99) if during else float("inf")
            checks = {
                "deleted every item": deleted == args.items,
                "table empty": left == 0,
                "one TTL REMOVE record per item": removes == marked == args.items,
                "no GetItem errors": errors == 0 and baseline_errors == 0,
                "GetItem p99 < 20 ms during the sweep": p99 < 20.0,
            }
            for name, ok in checks.items():
                print(f"    {'ok  ' if ok else 'FAIL'} {name}")
            return 0 if all(checks.values()) else 1
        finally:
            await conn.close()


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description="GetItem latency while a TTL sweep deletes many expired items.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__,
    )
    p.add_argument("--items", type=int, default=100_000, help="expired items (default 100000)")
    p.add_argument("--readers", type=int, default=4, help="GetItem connections (default 4)")
    p.add_argument(
        "--baseline", type=float, default=2.0, help="seconds of reads before the sweep (default 2)"
    )
    p.add_argument(
        "--ttl-batch",
        type=int,
        help="run the emulator with scheduler.TTL_BATCH set to this (default: as shipped)",
    )
    p.add_argument(
        "--emulator-args",
        default="",
        help="extra arguments for the emulator this script starts, e.g. '--data-dir /tmp/x'",
    )
    args = p.parse_args(argv)
    if args.items < 1 or args.readers < 1:
        p.error("--items and --readers must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    return asyncio.run(bench(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
