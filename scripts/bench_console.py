#!/usr/bin/env python3
"""PutItem throughput with one open console following the stream, against none (issue 19).

One emulator process, one table with a NEW_AND_OLD_IMAGES stream. Each round measures N
PutItem requests (raw HTTP, concurrency 8, scripts/bench.py's client) twice, in turn:
with no console, and with one console connection streaming the table's records (the
server-sent events `GET /_emulator/console/api/stream/events` that the stream page
opens, read in a separate process that parses every event, as a browser would). The
order alternates between rounds; the ratio is median(with console) / median(without).

    .venv/bin/python scripts/bench_console.py [--requests 10000] [--rounds 5]

Target (issue 19): ratio >= 0.95.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import statistics
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from bench import put_item_requests, run_load  # type: ignore[import-not-found]  # noqa: E402
from bench_triggers import client, start_server  # type: ignore[import-not-found]  # noqa: E402


def follow(url: str, arn: str, ready: Any, stop: Any, counts: Any) -> None:
    """The console's stream connection: read every event until told to stop; report the
    records received and the records the server said it skipped."""
    query = urllib.parse.urlencode({"StreamArn": arn, "Start": "LATEST"})
    received = skipped = 0
    with urllib.request.urlopen(f"{url}/_emulator/console/api/stream/events?{query}") as events:
        ready.set()
        name = ""
        while not stop.is_set():
            line = events.readline()
            if not line:
                break
            if line.startswith(b"event: "):
                name = line[7:].strip().decode()
            elif line.startswith(b"data: "):
                data = json.loads(line[6:])
                if name == "records":
                    received += len(data)
                elif name == "skipped":
                    skipped += data["Records"]
    counts.put((received, skipped))


def cpu_seconds(pid: int) -> float:
    """The server process's user + system CPU time (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(pid: int, port: int, table: str, prefix: str, requests: int) -> tuple[float, float]:
    """(req/s, server CPU µs per request) of one run."""
    load = put_item_requests(port, table, prefix, requests)
    before = cpu_seconds(pid)
    result = asyncio.run(run_load(port, load, 8))
    assert result.errors == 0, result.first_error
    return float(result.rps), (cpu_seconds(pid) - before) / requests * 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=10_000, help="PutItem per run")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPUs; Python {sys.version.split()[0]}")
    process, url = start_server()
    try:
        port = int(url.rsplit(":", 1)[1])
        ddb = client(url, "dynamodb")
        ddb.create_table(
            TableName="bench-console",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )
        arn = ddb.describe_table(TableName="bench-console")["Table"]["LatestStreamArn"]
        pid = process.pid
        measure(pid, port, "bench-console", "warm-", 2000)
        without: list[tuple[float, float]] = []
        with_console: list[tuple[float, float]] = []
        delivered: list[tuple[int, int]] = []
        for round_ in range(args.rounds):
            order = ("none", "console") if round_ % 2 == 0 else ("console", "none")
            for kind in order:
                prefix = f"r{round_}-{kind}-"
                if kind == "none":
                    without.append(measure(pid, port, "bench-console", prefix, args.requests))
                    continue
                ready, stop = multiprocessing.Event(), multiprocessing.Event()
                counts: Any = multiprocessing.Queue()
                reader = multiprocessing.Process(
                    target=follow, args=(url, arn, ready, stop, counts), daemon=True
                )
                reader.start()
                assert ready.wait(10), "the console stream did not open"
                time.sleep(0.2)
                with_console.append(measure(pid, port, "bench-console", prefix, args.requests))
                time.sleep(0.5)  # the last events reach the reader
                stop.set()
                ddb.put_item(TableName="bench-console", Item={"pk": {"S": f"{prefix}end"}})
                delivered.append(counts.get(timeout=10))
                reader.join(10)
        base = statistics.median(r for r, _ in without)
        console = statistics.median(r for r, _ in with_console)
        base_cpu = statistics.median(c for _, c in without)
        console_cpu = statistics.median(c for _, c in with_console)
        print(f"PutItem, concurrency 8, {args.requests} requests per run, {args.rounds} rounds")
        print("  no console:   " + ", ".join(f"{r:,.0f}" for r, _ in without) + " req/s")
        print("  one console:  " + ", ".join(f"{r:,.0f}" for r, _ in with_console) + " req/s")
        print(
            "  console got:  "
            + ", ".join(f"{got:,} records (+{skip:,} skipped)" for got, skip in delivered)
        )
        print(f"median {console:,.0f} / {base:,.0f} req/s: ratio {console / base:.3f}")
        # Wall-clock rates swing with whatever else runs on the machine; the server's CPU
        # per request does not, and bounds the rate a CPU-bound server reaches.
        print(
            f"server CPU per PutItem: {base_cpu:.1f} µs without, {console_cpu:.1f} µs with a "
            f"console: CPU-bound throughput ratio {base_cpu / console_cpu:.3f}"
        )
    finally:
        process.terminate()
        process.wait(10)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
