#!/usr/bin/env python3
"""Stream-trigger benchmarks (issue 14), against live servers, printing numbers.

latency      write answered → handler entered, one PutItem at a time, for a warm
             Python-zip worker (the handler sends its entry time over UDP). p50/p99.
callable     records/s delivered to an in-process callable with BatchSize 100: N items
             are written first, then a TRIM_HORIZON mapping is created and the time to
             settle is measured.
worker       the same to a Python-zip worker.
put-ratio    PutItem throughput (concurrency 8, raw HTTP) on a stream table with one
             active mapping, divided by the same with no mapping.

    .venv/bin/python scripts/bench_triggers.py [--records 50000] [--latency 500]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config as BotoConfig

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

HANDLER = """
import os, socket, time
_sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
_port = int(os.environ.get("REPORT_PORT", "0"))

def handler(event, context):
    if _port:
        _sock.sendto(repr(time.time()).encode(), ("127.0.0.1", _port))
    return None
"""


def client(url: str, service: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="bench",
        aws_secret_access_key="bench",
        config=BotoConfig(retries={"max_attempts": 1}),
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server() -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "emulator", "--port", str(port), "--log-level", "warning"],
        cwd=ROOT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            with urllib.request.urlopen(url + "/", timeout=1):
                return process, url
        except OSError:
            if time.monotonic() > deadline:
                process.kill()
                raise
            time.sleep(0.05)


def settle(url: str, timeout: float = 600) -> None:
    request = urllib.request.Request(
        url + "/_emulator/triggers/settle",
        data=json.dumps({"timeout": timeout}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=timeout + 30) as response:
        answer = json.loads(response.read())
    if answer != {"settled": True}:
        raise RuntimeError(f"did not settle: {answer}")


def stream_table(ddb: Any, name: str) -> str:
    ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    return str(ddb.describe_table(TableName=name)["Table"]["LatestStreamArn"])


def zip_function(lam: Any, name: str, report_port: int = 0) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("bench.py", HANDLER)
    lam.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role="arn:aws:iam::000000000000:role/bench",
        Handler="bench.handler",
        Code={"ZipFile": buffer.getvalue()},
        Timeout=30,
        Environment={"Variables": {"REPORT_PORT": str(report_port)}},
    )


def fill(ddb: Any, table: str, count: int) -> None:
    for start in range(0, count, 25):
        ddb.batch_write_item(
            RequestItems={
                table: [
                    {"PutRequest": {"Item": {"pk": {"S": f"k{i:08d}"}, "v": {"S": "x" * 40}}}}
                    for i in range(start, min(count, start + 25))
                ]
            }
        )


def throughput(url: str, ddb: Any, lam: Any, function: str, count: int, table: str) -> float:
    arn = stream_table(ddb, table)
    fill(ddb, table, count)
    started = time.perf_counter()
    lam.create_event_source_mapping(
        FunctionName=function, EventSourceArn=arn, StartingPosition="TRIM_HORIZON", BatchSize=100
    )
    settle(url)
    return count / (time.perf_counter() - started)


def latency(url: str, ddb: Any, lam: Any, samples: int) -> tuple[float, float]:
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", 0))
    receiver.settimeout(10)
    zip_function(lam, "latency", receiver.getsockname()[1])
    arn = stream_table(ddb, "bench-latency")
    lam.create_event_source_mapping(
        FunctionName="latency", EventSourceArn=arn, StartingPosition="LATEST", BatchSize=1
    )
    settle(url)
    delays = []
    for i in range(samples + 20):
        ddb.put_item(TableName="bench-latency", Item={"pk": {"S": f"l{i}"}})
        answered = time.time()
        entered = float(receiver.recv(64))
        if i >= 20:  # warm-up
            delays.append((entered - answered) * 1000)
    delays.sort()
    return statistics.median(delays), delays[int(len(delays) * 0.99) - 1]


def put_ratio(url: str, ddb: Any, lam: Any, requests: int, rounds: int) -> tuple[float, float]:
    """Median req/s of alternating runs on a stream table without and with a mapping."""
    from bench import put_item_requests, run_load  # type: ignore[import-not-found]

    port = int(url.rsplit(":", 1)[1])
    stream_table(ddb, "bench-plain")
    arn = stream_table(ddb, "bench-mapped")
    zip_function(lam, "noop")
    lam.create_event_source_mapping(
        FunctionName="noop", EventSourceArn=arn, StartingPosition="LATEST", BatchSize=100
    )
    settle(url)
    plain_rates, mapped_rates = [], []
    for round_ in range(rounds):
        for table, rates in (("bench-plain", plain_rates), ("bench-mapped", mapped_rates)):
            load = put_item_requests(port, table, f"r{round_}-", requests)
            result = asyncio.run(run_load(port, load, 8))
            assert result.errors == 0, result.first_error
            rates.append(result.rps)
            settle(url)
    return statistics.median(plain_rates), statistics.median(mapped_rates)


def callable_throughput(count: int) -> float:
    import emulator

    seen = [0]

    def noop(event: dict[str, Any], context: Any) -> None:
        seen[0] += len(event["Records"])

    with emulator.serve(port=0, functions={"noop": noop}) as url:
        ddb, lam = client(url, "dynamodb"), client(url, "lambda")
        rate = throughput(url, ddb, lam, "noop", count, "bench-callable")
    assert seen[0] == count, seen
    return rate


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=50_000)
    parser.add_argument("--latency", type=int, default=500, help="latency samples")
    parser.add_argument("--requests", type=int, default=20_000, help="PutItem requests")
    parser.add_argument("--rounds", type=int, default=3, help="PutItem ratio rounds")
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPUs; Python {sys.version.split()[0]}")
    rate = callable_throughput(args.records)
    print(f"callable, BatchSize 100: {rate:,.0f} records/s ({args.records} records)")
    process, url = start_server()
    try:
        ddb, lam = client(url, "dynamodb"), client(url, "lambda")
        p50, p99 = latency(url, ddb, lam, args.latency)
        print(
            f"latency write answered → handler entered (warm Python worker): "
            f"p50 {p50:.2f} ms, p99 {p99:.2f} ms"
        )
        zip_function(lam, "sink")
        rate = throughput(url, ddb, lam, "sink", args.records, "bench-worker")
        print(f"Python-zip worker, BatchSize 100: {rate:,.0f} records/s")
        plain, mapped = put_ratio(url, ddb, lam, args.requests, args.rounds)
        print(
            f"PutItem c8: no mapping {plain:,.0f} req/s, one mapping {mapped:,.0f} req/s, "
            f"ratio {mapped / plain:.3f}"
        )
    finally:
        process.terminate()
        process.wait(10)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
