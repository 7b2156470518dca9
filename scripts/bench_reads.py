#!/usr/bin/env python3
"""Read-path figures of the emulator over raw HTTP: Query pages, Scan throughput, memory.

What is measured
    query   A table (pk S, sk N) whose partition "hot" holds ``--partition-items`` items
            (default 10,000, ~200 bytes each). Each request is a Query
            ``pk = :p AND sk BETWEEN :a AND :b`` that selects exactly 100 items at a random
            place in the partition (the 100 items are returned, not counted). Requests are
            built before timing and sent by 1 and by 8 workers, each on its own keep-alive
            connection (the client of scripts/bench.py). Target: >= 1,000 pages/s.
    scan    A table (pk S, NEW_AND_OLD_IMAGES stream) of ``--scan-items`` items (default
            100,000) of ~200 bytes, read by a full Scan page after page (1 MB pages, one
            connection); the figure is items/s.
    rss     VmRSS of the emulator process (from /proc/<pid>/status; the script starts the
            emulator itself, in memory). The scan table is loaded into a second, fresh
            emulator, so its figure is that of the 100,000 items (and their 100,000 stream
            records with both images) alone. Target: < 150 MB.

    The client and the server share the machine. "server cpu" is the emulator's CPU time
    per wall second; requests / server CPU second ("per server core") is what the emulator
    would serve with a core of its own, the steadier figure on a busy machine.

The emulator is started in memory (no --data-dir) unless ``--emulator-args`` says otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import (
    DDB,
    HOST,
    RawConn,
    Server,
    build_request,
    call,
    emulator_server,
    ready,
    run_load,
)

from emulator.model.values import item_size

PAGE = 100
PAYLOAD_BYTES = 160


def rss_mb(server: Server) -> float | None:
    if server.proc is None:
        return None
    for line in Path(f"/proc/{server.proc.pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return None


def make_item(pk: str, sk: int | None, i: int) -> dict[str, Any]:
    """An item of about 200 bytes by DynamoDB's size formula."""
    item: dict[str, Any] = {
        "pk": {"S": pk},
        "payload": {"S": f"{i:010d}" + "p" * (PAYLOAD_BYTES - 10)},
        "n": {"N": str(i)},
        "flag": {"BOOL": i % 2 == 0},
    }
    if sk is not None:
        item["sk"] = {"N": str(sk)}
    return item


async def create(conn: RawConn, name: str, range_key: bool, stream: bool) -> None:
    payload: dict[str, Any] = {
        "TableName": name,
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "BillingMode": "PAY_PER_REQUEST",
    }
    if range_key:
        payload["KeySchema"].append({"AttributeName": "sk", "KeyType": "RANGE"})
        payload["AttributeDefinitions"].append({"AttributeName": "sk", "AttributeType": "N"})
    if stream:
        payload["StreamSpecification"] = {
            "StreamEnabled": True,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        }
    await call(conn, f"{DDB}.CreateTable", payload)


async def load(port: int, table: str, items: list[dict[str, Any]]) -> float:
    """BatchWriteItem every item (25 per request, 8 workers); returns seconds."""
    requests = [
        build_request(
            port,
            f"{DDB}.BatchWriteItem",
            {"RequestItems": {table: [{"PutRequest": {"Item": i}} for i in items[s : s + 25]]}},
        )
        for s in range(0, len(items), 25)
    ]
    started = time.perf_counter()
    result = await run_load(port, requests, 8)
    if result.errors:
        raise SystemExit(f"loading {table} failed: {result.first_error}")
    return time.perf_counter() - started


def query_requests(port: int, table: str, partition_items: int, n: int) -> list[bytes]:
    rng = random.Random(42)
    requests = []
    for _ in range(n):
        start = rng.randrange(0, partition_items - PAGE + 1)
        body = {
            "TableName": table,
            "KeyConditionExpression": "pk = :p AND sk BETWEEN :a AND :b",
            "ExpressionAttributeValues": {
                ":p": {"S": "hot"},
                ":a": {"N": str(start)},
                ":b": {"N": str(start + PAGE - 1)},
            },
        }
        requests.append(build_request(port, f"{DDB}.Query", body))
    return requests


async def check_query(port: int, table: str) -> None:
    conn = RawConn(HOST, port)
    try:
        body = orjson.loads(query_requests(port, table, 10 * PAGE, 1)[0].split(b"\r\n\r\n")[1])
        answer = await call(conn, f"{DDB}.Query", body)
        if answer["Count"] != PAGE or len(answer["Items"]) != PAGE:
            raise SystemExit(f"the Query returned {answer['Count']} items, not {PAGE}")
    finally:
        await conn.close()


async def full_scan(port: int, table: str) -> tuple[int, int, float]:
    """(items, pages, seconds) of one full Scan, page after page on one connection."""
    conn = RawConn(HOST, port)
    items = pages = 0
    request: dict[str, Any] = {"TableName": table}
    started = time.perf_counter()
    try:
        while True:
            page = await call(conn, f"{DDB}.Scan", request)
            items += page["Count"]
            pages += 1
            if "LastEvaluatedKey" not in page:
                break
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    finally:
        await conn.close()
    return items, pages, time.perf_counter() - started


def fmt_mb(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f} MB"


async def bench(args: argparse.Namespace) -> int:
    failures: list[str] = []
    suffix = str(int(time.time() * 1000))
    with emulator_server(args.url, args.emulator_args) as emu:
        await ready(emu, need_200=True)
        print(f"emulator pid {emu.proc.pid if emu.proc else 'n/a'} on port {emu.port}")
        print(f"RSS at start: {fmt_mb(rss_mb(emu))}")
        await bench_query(args, emu, f"bq_{suffix}", failures)
    # A fresh emulator for the big table, so its RSS is the 100,000 items' alone.
    with emulator_server(args.url, args.emulator_args) as emu:
        await ready(emu, need_200=True)
        print(f"\nemulator pid {emu.proc.pid if emu.proc else 'n/a'} on port {emu.port}")
        print(f"RSS at start: {fmt_mb(rss_mb(emu))}")
        await bench_scan(args, emu, f"bs_{suffix}", failures)
    if failures:
        print("\nMISSED: " + "; ".join(failures))
        return 1
    print("\nall targets met")
    return 0


async def bench_query(
    args: argparse.Namespace, emu: Server, table: str, failures: list[str]
) -> None:
    port = emu.port
    conn = RawConn(HOST, port)
    try:
        await create(conn, table, range_key=True, stream=False)
    finally:
        await conn.close()
    items = [make_item("hot", i, i) for i in range(args.partition_items)]
    sizes = [item_size(i) for i in items[:1000]]
    seconds = await load(port, table, items)
    print(
        f"loaded {len(items)} items (avg {sum(sizes) / len(sizes):.0f} bytes) into one "
        f"partition in {seconds:.1f}s; RSS {fmt_mb(rss_mb(emu))}"
    )
    await check_query(port, table)
    print(f"\nQuery of {PAGE} items from a {args.partition_items}-item partition:")
    await run_load(port, query_requests(port, table, args.partition_items, 200), 8)
    for concurrency in (1, 8):
        requests = query_requests(port, table, args.partition_items, args.requests)
        result = await run_load(port, requests, concurrency, "query", emu)
        cpu = result.server_cpu
        # Server CPU seconds per request: what one core could serve if it were not shared
        # (the client runs on the same machine, and so may anything else).
        per_core = f"{result.rps / cpu:,.0f}/s per server core" if cpu else "n/a"
        print(
            f"  concurrency {concurrency}: {result.rps:,.0f} pages/s "
            f"({result.rps * PAGE:,.0f} items/s), p50 {result.pct_ms(0.5):.2f} ms, "
            f"p99 {result.pct_ms(0.99):.2f} ms, server cpu {cpu or 0:.2f} "
            f"(= {per_core}), client cpu {result.client_cpu:.2f}, errors {result.errors}"
        )
        if result.errors:
            failures.append(f"query errors: {result.first_error}")
        elif result.rps < 1000:
            failures.append(f"query at concurrency {concurrency}: {result.rps:.0f}/s < 1000/s")


async def bench_scan(
    args: argparse.Namespace, emu: Server, table: str, failures: list[str]
) -> None:
    port = emu.port
    conn = RawConn(HOST, port)
    try:
        await create(conn, table, range_key=False, stream=True)
    finally:
        await conn.close()
    big = [make_item(f"item-{i:07d}", None, i) for i in range(args.scan_items)]
    sizes = [item_size(i) for i in big[:1000]]
    seconds = await load(port, table, big)
    del big
    rss_loaded = rss_mb(emu)
    print(
        f"loaded {args.scan_items} items (avg {sum(sizes) / len(sizes):.0f} bytes) into a "
        f"table with a NEW_AND_OLD_IMAGES stream in {seconds:.1f}s "
        f"({args.scan_items / seconds:,.0f} items/s); RSS {fmt_mb(rss_loaded)}"
    )
    cpu0 = emu.cpu_seconds()
    count, pages, seconds = await full_scan(port, table)
    cpu1 = emu.cpu_seconds()
    cpu = (cpu1 - cpu0) if cpu0 is not None and cpu1 is not None else None
    print(
        f"Scan: {count} items in {pages} pages in {seconds:.2f}s: {count / seconds:,.0f} items/s"
        + (f" (server cpu {cpu:.2f}s = {count / cpu:,.0f} items/s per core)" if cpu else "")
    )
    if count != args.scan_items:
        failures.append(f"scan returned {count} items, not {args.scan_items}")
    rss_end = rss_mb(emu)
    print(
        f"RSS with {args.scan_items} items and {args.scan_items} stream records: "
        f"{fmt_mb(rss_loaded)} after loading, {fmt_mb(rss_end)} after the scan"
    )
    if rss_end is not None and rss_end >= 150:
        failures.append(f"RSS {rss_end:.1f} MB >= 150 MB")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description="Query / Scan / memory figures of the emulator.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__,
    )
    p.add_argument("--url", help="an emulator already running on 127.0.0.1 (no RSS then)")
    p.add_argument("--requests", type=int, default=3000, help="Query requests per level")
    p.add_argument("--partition-items", type=int, default=10_000)
    p.add_argument("--scan-items", type=int, default=100_000)
    p.add_argument("--emulator-args", default="--log-level warning")
    args = p.parse_args(argv)
    if args.partition_items < PAGE:
        p.error(f"--partition-items must be at least {PAGE}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    return asyncio.run(bench(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
