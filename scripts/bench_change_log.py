#!/usr/bin/env python3
"""What the durable change log costs and how fast it answers.

What is measured
    1. PutItem throughput with the change log on vs off. On an emulator started here
       (``python -m emulator --port <free>``, in memory), two tables (pk HASH S): one with
       point-in-time recovery (its changes are logged), one without. ``--requests`` PutItem
       calls (default 20,000) of new keys, then as many again overwriting those keys with
       other values (each a MODIFY, whose entry keeps the old image), at concurrency 8,
       alternating the tables in alternating order for ``--rounds`` rounds (default 6); the
       ratio is the median of the rounds' ratios. Target: ratio >= 0.85.
    2. Restore speed: a PITR table is filled with ``--items`` items (default 100,000;
       BatchWriteItem, not timed), 1,000 of them then changed; RestoreTableToPointInTime to
       the instant between is timed, end to end (request to response: the new table is
       complete then). Target: >= 50,000 items/s.
    3. History query: a database with ``--changes`` change-log entries (default 1,000,000:
       ``--changes / 10`` items changed 10 times each) is built in a ``--data-dir`` with the
       emulator's own storage classes (not timed), an emulator is started on it, and
       ``GET /_emulator/history?TableName=..&Key=..`` for 500 random items is timed (each
       answers that item's 10 records). Target: p50 < 10 ms.

    The client (one asyncio process, bench.py's minimal HTTP/1.1 client) and the server share
    the machine's cores. python scripts/bench_change_log.py [--requests N] [--items N]
    [--changes N] [--rounds N] [--only puts|restore|history]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import orjson
from bench import (
    DDB,
    HOST,
    RawConn,
    build_request,
    call,
    client_note,
    create_table,
    emulator_server,
    put_item_requests,
    ready,
    run_load,
    unique_table,
)

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


async def enable_pitr(port: int, table: str) -> None:
    conn = RawConn(HOST, port)
    try:
        await call(
            conn,
            f"{DDB}.UpdateContinuousBackups",
            {
                "TableName": table,
                "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
            },
        )
    finally:
        await conn.close()


async def admin_clock(port: int, body: dict[str, Any]) -> float:
    reader, writer = await asyncio.open_connection(HOST, port)
    payload = orjson.dumps(body)
    writer.write(
        b"POST /_emulator/clock HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(payload), payload)
    )
    answer = await reader.read()
    writer.close()
    return float(orjson.loads(answer.split(b"\r\n\r\n", 1)[1])["now"])


async def bench_puts(args: argparse.Namespace) -> None:
    print(client_note())
    with emulator_server(None) as server:
        await ready(server, need_200=True)
        port = server.port
        logged, plain = unique_table("logged"), unique_table("plain")
        await create_table(port, logged, stream=False)
        await create_table(port, plain, stream=False)
        await enable_pitr(port, logged)
        rates: dict[tuple[str, str], list[float]] = {}
        ratios: dict[str, list[float]] = {"insert": [], "overwrite": []}
        cpu_ratios: dict[str, list[float]] = {"insert": [], "overwrite": []}
        for round_number in range(args.rounds):
            for phase in ("insert", "overwrite"):
                # Pairs run back to back, in alternating order, so that the machine's
                # other load hits both sides of a ratio alike.
                order = (("on", logged), ("off", plain))
                if round_number % 2:
                    order = order[::-1]
                pair: dict[str, float] = {}
                cpu: dict[str, float] = {}
                for name, table in order:
                    prefix = f"r{round_number}-"
                    # The overwrite puts other values: each is a MODIFY.
                    version = 1 if phase == "overwrite" else 0
                    requests = put_item_requests(port, table, prefix, args.requests, version)
                    result = await run_load(port, requests, 8, name, server)
                    if result.errors:
                        raise SystemExit(f"errors: {result.first_error}")
                    pair[name] = result.rps
                    rates.setdefault((phase, name), []).append(result.rps)
                    if result.server_cpu is not None:
                        # Server CPU seconds per request: what the machine's other
                        # load moves least.
                        cpu[name] = result.server_cpu * result.seconds / result.requests
                ratios[phase].append(pair["on"] / pair["off"])
                if len(cpu) == 2:
                    cpu_ratios[phase].append(cpu["off"] / cpu["on"])
        print(
            f"PutItem, concurrency 8, {args.requests} per run, {args.rounds} rounds "
            "(median; ratio = median of the per-round ratios):"
        )
        for phase in ("insert", "overwrite"):
            on = statistics.median(rates[(phase, "on")])
            off = statistics.median(rates[(phase, "off")])
            print(
                f"  {phase:9}  log on {on:8.0f} req/s   log off {off:8.0f} req/s   "
                f"ratio {statistics.median(ratios[phase]):.2f} (target >= 0.85)"
            )
            if cpu_ratios[phase]:
                each = " ".join(f"{r:.2f}" for r in cpu_ratios[phase])
                wall = " ".join(f"{r:.2f}" for r in ratios[phase])
                print(
                    f"  {'':9}  server CPU per request, off / on: "
                    f"{statistics.median(cpu_ratios[phase]):.2f} (rounds {each}; wall {wall})"
                )


async def batch_load(port: int, table: str, items: int, prefix: str = "k") -> None:
    bodies = []
    for start in range(0, items, 25):
        requests = [
            {"PutRequest": {"Item": {"pk": {"S": f"{prefix}{i:08d}"}, "v": {"N": str(i)}}}}
            for i in range(start, min(items, start + 25))
        ]
        bodies.append(
            build_request(port, f"{DDB}.BatchWriteItem", {"RequestItems": {table: requests}})
        )
    result = await run_load(port, bodies, 8)
    if result.errors:
        raise SystemExit(f"errors: {result.first_error}")


async def bench_restore(args: argparse.Namespace) -> None:
    with emulator_server(None) as server:
        await ready(server, need_200=True)
        port = server.port
        table = unique_table("restore")
        await create_table(port, table, stream=False)
        await enable_pitr(port, table)
        await admin_clock(port, {"advance": 0})
        await batch_load(port, table, args.items)
        instant = await admin_clock(port, {"advance": 1})
        await admin_clock(port, {"advance": 1})
        changed = [
            build_request(
                port,
                f"{DDB}.PutItem",
                {"TableName": table, "Item": {"pk": {"S": f"k{i:08d}"}, "v": {"N": "-1"}}},
            )
            for i in range(0, args.items, max(1, args.items // 1000))
        ]
        await run_load(port, changed, 8)
        conn = RawConn(HOST, port)
        try:
            started = time.perf_counter()
            answer = await call(
                conn,
                f"{DDB}.RestoreTableToPointInTime",
                {
                    "SourceTableName": table,
                    "TargetTableName": table + "-r",
                    "RestoreDateTime": instant,
                },
            )
            seconds = time.perf_counter() - started
        finally:
            await conn.close()
        count = answer["TableDescription"]["ItemCount"]
        if count != args.items:
            raise SystemExit(f"restored {count} items, expected {args.items}")
        print(
            f"RestoreTableToPointInTime: {count} items ({len(changed)} put back from the log) "
            f"in {seconds:.2f} s = {count / seconds:,.0f} items/s (target >= 50,000)"
        )


def image_of(key: dict[str, Any], version: int) -> bytes:
    return orjson.dumps({**key, "v": {"N": str(version)}, "s": {"S": "payload text"}})


def build_history_database(data_dir: str, changes: int) -> int:
    """A table with PITR and `changes` log entries over changes/10 items; returns the
    item count."""
    from emulator.api.backups import update_continuous_backups
    from emulator.api.tables import create_table as api_create_table
    from emulator.config import Config
    from emulator.model.keys import storage_key
    from emulator.runtime.backend import Backend
    from emulator.storage.change_log import INSERT, MODIFY

    backend = Backend.create(Config(data_dir=data_dir))
    region = "us-east-1"
    api_create_table(
        backend,
        region,
        {
            "TableName": "history",
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
            "BillingMode": "PAY_PER_REQUEST",
        },
    )
    update_continuous_backups(
        backend,
        region,
        {
            "TableName": "history",
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
        },
    )
    row = backend.engine.get_table(region, "history")
    assert row is not None
    items = max(1, changes // 10)
    log = backend.engine.change_log
    now = backend.clock.now()
    written = 0
    for version in range(10):
        with backend.engine.transaction():
            for i in range(items):
                key = {"pk": {"S": f"item{i:08d}"}}
                hash_key, range_key = storage_key(row.state.key_schema, key)
                # An entry keeps the item as it was before (none for an INSERT).
                old_image = None if version == 0 else image_of(key, version - 1)
                log.append(
                    row.table_id,
                    round((now + version) * 1e6) + i,
                    hash_key,
                    range_key,
                    INSERT if version == 0 else MODIFY,
                    "user",
                    None,
                    old_image,
                )
                written += 1
    with backend.engine.transaction():
        for i in range(items):
            key = {"pk": {"S": f"item{i:08d}"}}
            hash_key, range_key = storage_key(row.state.key_schema, key)
            image = image_of(key, 9)
            backend.engine.items.put(row.table_id, hash_key, range_key, len(image), image)
    backend.engine.close()
    return items


async def bench_history(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as data_dir:
        started = time.perf_counter()
        items = build_history_database(data_dir, args.changes)
        took = time.perf_counter() - started
        print(f"built {args.changes:,} changes over {items:,} items in {took:.0f} s")
        with emulator_server(None, f"--data-dir {data_dir}") as server:
            await ready(server, need_200=True)
            reader, writer = await asyncio.open_connection(HOST, server.port)
            timings = []
            rng = random.Random(1)
            try:
                for _ in range(500):
                    key = orjson.dumps({"pk": {"S": f"item{rng.randrange(items):08d}"}}).decode()
                    path = f"/_emulator/history?TableName=history&Key={quote(key)}"
                    request = f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
                    t0 = time.perf_counter()
                    writer.write(request)
                    head = await reader.readuntil(b"\r\n\r\n")
                    length = int(
                        next(
                            line.split(b":")[1]
                            for line in head.split(b"\r\n")
                            if line.lower().startswith(b"content-length")
                        )
                    )
                    body = await reader.readexactly(length)
                    timings.append((time.perf_counter() - t0) * 1000)
                    if body.count(b"\n") != 10:
                        raise SystemExit(f"expected 10 records, got {body[:300]!r}")
            finally:
                writer.close()
        timings.sort()
        p50 = statistics.median(timings)
        p99 = timings[int(len(timings) * 0.99)]
        print(
            f"history of one item among {args.changes:,} changes: p50 {p50:.2f} ms, "
            f"p99 {p99:.2f} ms, max {timings[-1]:.2f} ms (target < 10 ms)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--changes", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--only", choices=("puts", "restore", "history"))
    args = parser.parse_args()
    if args.only in (None, "puts"):
        asyncio.run(bench_puts(args))
    if args.only in (None, "restore"):
        asyncio.run(bench_restore(args))
    if args.only in (None, "history"):
        asyncio.run(bench_history(args))


if __name__ == "__main__":
    main()
