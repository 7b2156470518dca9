#!/usr/bin/env python3
"""Global-table replication benchmarks (issue 16), against a live server, printing numbers.

backfill     items/s copied into a new replica: N items are written to a regional table,
             then a replica is created and the time to settle is measured.
tail         items/s replicated from a backlog: replication is paused, N items are written
             to a 2-region table, replication resumes and the time to settle is measured.
lag          commit → applied in the other region with --replication-lag-ms 0, one PutItem
             at a time: the server's own measure (p50/p99 over the applied writes, from
             GET /_emulator/replication) and, client-side, PutItem answered → the item
             readable by GetItem in the other region (polled; includes one GetItem).
put-ratio    PutItem throughput (concurrency 8, raw HTTP) on a table with a replica,
             divided by the same on a plain table with a NEW_AND_OLD_IMAGES stream
             (alternating rounds, settled between them; the replicator's work is included).

    .venv/bin/python scripts/bench_replication.py [--items 50000] [--samples 500]
        [--requests 10000] [--rounds 5] [--only lag backfill tail put-ratio]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from bench_triggers import client, settle, start_server  # noqa: E402

R1, R2 = "us-east-1", "eu-west-1"
KEY = [{"AttributeName": "pk", "KeyType": "HASH"}]
DEFINITIONS = [{"AttributeName": "pk", "AttributeType": "S"}]


def regional(url: str, region: str = R1) -> Any:
    made = client(url, "dynamodb")
    if region == R1:
        return made
    import boto3
    from botocore.config import Config as BotoConfig

    return boto3.client(
        "dynamodb",
        endpoint_url=url,
        region_name=region,
        aws_access_key_id="bench",
        aws_secret_access_key="bench",
        config=BotoConfig(retries={"max_attempts": 1}),
    )


def admin(url: str, path: str, body: dict[str, Any] | None = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        url + path,
        data=data,
        method="POST" if data else "GET",
        headers={} if data is None else {"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=600) as response:
        return json.loads(response.read())


def create(ddb: Any, name: str, stream: bool = False) -> None:
    extra: dict[str, Any] = {}
    if stream:
        extra["StreamSpecification"] = {
            "StreamEnabled": True,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        }
    ddb.create_table(
        TableName=name,
        KeySchema=KEY,
        AttributeDefinitions=DEFINITIONS,
        BillingMode="PAY_PER_REQUEST",
        **extra,
    )


def fill(ddb: Any, table: str, count: int, prefix: str = "k") -> None:
    for start in range(0, count, 25):
        ddb.batch_write_item(
            RequestItems={
                table: [
                    {
                        "PutRequest": {
                            "Item": {"pk": {"S": f"{prefix}{i:08d}"}, "v": {"S": "x" * 40}}
                        }
                    }
                    for i in range(start, min(count, start + 25))
                ]
            }
        )


def add_replica(ddb: Any, table: str) -> None:
    ddb.update_table(TableName=table, ReplicaUpdates=[{"Create": {"RegionName": R2}}])


def backfill(url: str, count: int) -> float:
    ddb = regional(url)
    create(ddb, "bench-backfill")
    fill(ddb, "bench-backfill", count)
    started = time.perf_counter()
    add_replica(ddb, "bench-backfill")
    settle(url)
    rate = count / (time.perf_counter() - started)
    assert (
        regional(url, R2).describe_table(TableName="bench-backfill")["Table"]["ItemCount"] == count
    )
    return rate


def tail(url: str, count: int) -> float:
    ddb = regional(url)
    create(ddb, "bench-tail")
    add_replica(ddb, "bench-tail")
    settle(url)
    admin(url, "/_emulator/replication", {"Paused": True})
    fill(ddb, "bench-tail", count)
    started = time.perf_counter()
    admin(url, "/_emulator/replication", {"Paused": False})
    settle(url)
    rate = count / (time.perf_counter() - started)
    assert regional(url, R2).describe_table(TableName="bench-tail")["Table"]["ItemCount"] == count
    return rate


def lag(url: str, samples: int) -> tuple[dict[str, float], float, float]:
    r1, r2 = regional(url), regional(url, R2)
    create(r1, "bench-lag")
    add_replica(r1, "bench-lag")
    settle(url)
    delays = []
    for i in range(samples):
        key = {"pk": {"S": f"l{i}"}}
        r1.put_item(TableName="bench-lag", Item=key)
        answered = time.perf_counter()
        while "Item" not in r2.get_item(TableName="bench-lag", Key=key):
            pass
        delays.append((time.perf_counter() - answered) * 1000)
    server = admin(url, "/_emulator/replication")["AppliedLagMillis"]
    delays.sort()
    return server, statistics.median(delays), delays[int(len(delays) * 0.99) - 1]


def put_ratio(url: str, requests: int, rounds: int) -> tuple[float, float]:
    from bench import put_item_requests, run_load  # type: ignore[import-not-found]

    port = int(url.rsplit(":", 1)[1])
    ddb = regional(url)
    create(ddb, "bench-plain", stream=True)
    create(ddb, "bench-global")
    add_replica(ddb, "bench-global")
    settle(url)
    plain, replicated = [], []
    for round_ in range(rounds):
        for table, rates in (("bench-plain", plain), ("bench-global", replicated)):
            load = put_item_requests(port, table, f"r{round_}-", requests)
            result = asyncio.run(run_load(port, load, 8))
            assert result.errors == 0, result.first_error
            rates.append(result.rps)
            settle(url)
    return statistics.median(plain), statistics.median(replicated)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=50_000)
    parser.add_argument("--samples", type=int, default=500)
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--only",
        nargs="+",
        choices=("lag", "backfill", "tail", "put-ratio"),
        default=["lag", "backfill", "tail", "put-ratio"],
        help="the benchmarks to run (all)",
    )
    args = parser.parse_args()
    process, url = start_server()
    try:
        if "lag" in args.only:
            server, p50, p99 = lag(url, args.samples)
            print(
                f"lag (server) p50 {server.get('P50', float('nan')):.3f} ms  "
                f"p99 {server.get('P99', float('nan')):.3f} ms  (commit → applied)"
            )
            print(f"lag (client) p50 {p50:.3f} ms  p99 {p99:.3f} ms  (answered → readable)")
        if "backfill" in args.only:
            print(f"backfill     {backfill(url, args.items):10.0f} items/s ({args.items} items)")
        if "tail" in args.only:
            print(f"tail         {tail(url, args.items):10.0f} items/s ({args.items} items)")
        if "put-ratio" in args.only:
            plain, replicated = put_ratio(url, args.requests, args.rounds)
            print(
                f"put-ratio    {replicated / plain:.2f}  (2 replicas {replicated:.0f} req/s, "
                f"plain stream table {plain:.0f} req/s; medians of {args.rounds} rounds)"
            )
    finally:
        process.terminate()
        process.wait(10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
