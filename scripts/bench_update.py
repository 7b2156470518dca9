#!/usr/bin/env python3
"""UpdateItem against PutItem throughput of the emulator, over raw HTTP, in the same run.

What is measured
    One emulator (started here, or ``--url``) and one table (pk HASH S, no stream).
    PutItem: ``--requests`` requests (default 20,000), each with its own key and the item
    ``{pk, v: N, s: S}`` that scripts/bench.py writes.  UpdateItem: the same number of
    ``SET a = a + :one`` requests on *one* item (created first), every request with the
    same body, so the parsed expression is reused from the parse cache.  Both run at
    concurrency ``--concurrency`` (default 8): that many workers, each with its own
    keep-alive HTTP/1.1 connection, one request in flight per connection.  Request bytes
    are built before timing; the client is bench.py's minimal asyncio HTTP client.
    The two loads alternate for ``--rounds`` rounds (default 3) after a warm-up, so that
    background noise hits both alike.

How to read the numbers
    req/s     completed requests per wall-clock second.
    ratio     UpdateItem req/s / PutItem req/s of each round (the two loads of a round run
              back to back), median over the rounds.  Target: >= 0.85 (the issue's
              "UpdateItem no less than 85% of PutItem").  The script exits 1 below
              ``--target`` when ``--check`` is given.
    server CPU per request (only when the script started the emulator): server process
              CPU time / requests; its ratio is steadier than req/s on a shared machine.
    The final GetItem checks that ``a`` equals the number of UpdateItem requests sent
    (no update was lost under concurrency).

    With ``--profile N`` the script instead runs N UpdateItems and N PutItems in-process
    through ``emulator.wire.handle_call`` under cProfile and prints the top functions by
    cumulative time for each, which shows where an UpdateItem spends what a PutItem
    does not.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
from collections.abc import Sequence

import orjson
from bench import (
    DDB,
    HOST,
    RawConn,
    Server,
    build_request,
    call,
    client_note,
    create_table,
    delete_table,
    emulator_server,
    fmt,
    put_item_requests,
    ready,
    run_load,
    unique_table,
)

UPDATE_KEY = {"pk": {"S": "counter"}}


def update_body(table: str) -> bytes:
    return orjson.dumps(
        {
            "TableName": table,
            "Key": UPDATE_KEY,
            "UpdateExpression": "SET a = a + :one",
            "ExpressionAttributeValues": {":one": {"N": "1"}},
        }
    )


def update_requests(port: int, table: str, n: int) -> list[bytes]:
    raw = build_request(port, f"{DDB}.UpdateItem", update_body(table))
    return [raw] * n


async def measure(args: argparse.Namespace, server: Server) -> int:
    port = server.port
    table = unique_table("bench_update")
    await create_table(port, table, stream=False)
    conn = RawConn(HOST, port)
    sent_updates = 0
    try:
        seed = {"TableName": table, "Item": {**UPDATE_KEY, "a": {"N": "0"}}}
        await call(conn, f"{DDB}.PutItem", seed)
        if args.warmup:
            await run_load(port, put_item_requests(port, table, "w", args.warmup), args.concurrency)
            warm = await run_load(port, update_requests(port, table, args.warmup), args.concurrency)
            sent_updates += args.warmup
            if warm.errors:
                print(f"warm-up errors: {warm.errors}; first: {warm.first_error}")
                return 1
        print(client_note())
        rates: dict[str, list[float]] = {"PutItem": [], "UpdateItem": []}
        cpu_us: dict[str, list[float]] = {"PutItem": [], "UpdateItem": []}
        ratios: list[float] = []
        for round_no in range(args.rounds):
            puts = put_item_requests(port, table, f"r{round_no}-", args.requests)
            put = await run_load(port, puts, args.concurrency, "PutItem", server)
            updates = update_requests(port, table, args.requests)
            upd = await run_load(port, updates, args.concurrency, "UpdateItem", server)
            sent_updates += args.requests
            for result in (put, upd):
                print(f"round {round_no + 1}: {fmt(result)}")
                if result.errors:
                    return 1
                rates[result.target].append(result.rps)
                if result.server_cpu is not None:
                    # server CPU seconds per request, in microseconds
                    cpu_us[result.target].append(result.server_cpu / result.rps * 1e6)
            ratios.append(upd.rps / put.rps)
        await conn.close()  # idle through the loads: the server may have closed it
        item = await call(conn, f"{DDB}.GetItem", {"TableName": table, "Key": UPDATE_KEY})
        counter = int(item["Item"]["a"]["N"])
        if counter != sent_updates:
            print(f"LOST UPDATES: a = {counter}, {sent_updates} updates sent")
            return 1
        put_rps = statistics.median(rates["PutItem"])
        update_rps = statistics.median(rates["UpdateItem"])
        ratio = statistics.median(ratios)
        print(
            f"median PutItem {put_rps:.0f} req/s, UpdateItem {update_rps:.0f} req/s "
            f"(concurrency {args.concurrency}); ratio UpdateItem/PutItem (median of the "
            f"per-round ratios {', '.join(f'{r:.2f}' for r in ratios)}) = {ratio:.2f} "
            f"(target >= {args.target:.2f}: {'met' if ratio >= args.target else 'NOT met'}); "
            f"counter a = {counter} as expected"
        )
        if cpu_us["PutItem"] and cpu_us["UpdateItem"]:
            put_cpu = statistics.median(cpu_us["PutItem"])
            update_cpu = statistics.median(cpu_us["UpdateItem"])
            print(
                f"server CPU per request: PutItem {put_cpu:.0f} us, UpdateItem "
                f"{update_cpu:.0f} us; CPU-based ratio {put_cpu / update_cpu:.2f} "
                "(steadier than req/s when other processes share the machine)"
            )
        return 1 if args.check and ratio < args.target else 0
    finally:
        await conn.close()
        await delete_table(port, table)


def profile(n: int, top: int) -> int:
    """In-process cProfile of ``emulator.wire.handle_call``: n UpdateItems, then n PutItems."""
    import cProfile
    import io
    import pstats

    from emulator import wire
    from emulator.api import Backend
    from emulator.config import Config

    backend = Backend.create(Config())
    region = "us-east-1"
    table = "bench_update_profile"
    create = {
        "TableName": table,
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "BillingMode": "PAY_PER_REQUEST",
    }
    status, body = wire.handle_call(backend, f"{DDB}.CreateTable", region, orjson.dumps(create))
    assert status == 200, body
    seed = {"TableName": table, "Item": {**UPDATE_KEY, "a": {"N": "0"}}}
    wire.handle_call(backend, f"{DDB}.PutItem", region, orjson.dumps(seed))
    update = update_body(table)
    puts = [
        orjson.dumps({"TableName": table, "Item": {"pk": {"S": f"p{i:07d}"}, "v": {"N": str(i)}}})
        for i in range(n)
    ]
    for label, target, bodies in (
        ("UpdateItem", f"{DDB}.UpdateItem", [update] * n),
        ("PutItem", f"{DDB}.PutItem", puts),
    ):
        profiler = cProfile.Profile()
        profiler.enable()
        for raw in bodies:
            status, body = wire.handle_call(backend, target, region, raw)
        profiler.disable()
        assert status == 200, body
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        total = sum(row[3] for row in stats.stats.values())  # type: ignore[attr-defined]
        stats.sort_stats("cumulative").print_stats(top)
        print(f"===== {label}: {n} calls, {total / n * 1e6:.1f} us/call in handle_call")
        print(out.getvalue())
    return 0


async def bench(args: argparse.Namespace) -> int:
    with emulator_server(args.url, args.emulator_args) as server:
        await ready(server, need_200=True)
        return await measure(args, server)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--url", help="an emulator already running at http://127.0.0.1:PORT")
    p.add_argument("--emulator-args", default="", help="extra arguments for python -m emulator")
    p.add_argument("--requests", type=int, default=20000, help="requests per load (20000)")
    p.add_argument("--concurrency", type=int, default=8, help="workers / connections (8)")
    p.add_argument("--rounds", type=int, default=3, help="PutItem/UpdateItem rounds (3)")
    p.add_argument("--warmup", type=int, default=2000, help="warm-up requests of each (2000)")
    p.add_argument("--target", type=float, default=0.85, help="ratio target (0.85)")
    p.add_argument("--check", action="store_true", help="exit 1 when the ratio is below target")
    p.add_argument("--profile", type=int, default=0, metavar="N", help="cProfile N calls instead")
    p.add_argument("--top", type=int, default=25, help="functions shown by --profile (25)")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.profile:
        return profile(args.profile, args.top)
    return asyncio.run(bench(args))


if __name__ == "__main__":
    sys.exit(main())
