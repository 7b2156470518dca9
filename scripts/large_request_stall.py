"""How long one large request holds up every other client (issue 12, defect 7).

Starts an emulator (`python -m emulator`, in memory), keeps one client sending small
GetItem requests on its own connection, and sends large requests one after another on
another connection. For each large request it prints its size, how long it took, and
the worst latency a small request saw while it ran: the emulator is one event loop, so
that figure is how long the large request kept the loop to itself.

    .venv/bin/python scripts/large_request_stall.py            # all cases
    .venv/bin/python scripts/large_request_stall.py --quick    # the smaller half

Not a test (ARCHITECTURE: speed is measured, not asserted).
"""

from __future__ import annotations

import argparse
import http.client
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parent.parent
TABLE = "stall"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def call(connection: http.client.HTTPConnection, operation: str, body: Any) -> tuple[int, bytes]:
    data = body if isinstance(body, bytes) else orjson.dumps(body)
    connection.request(
        "POST",
        "/",
        data,
        {
            "Content-Type": "application/x-amz-json-1.0",
            "X-Amz-Target": "DynamoDB_20120810." + operation,
        },
    )
    response = connection.getresponse()
    return response.status, response.read()


def item(number: int, attributes: int, value_bytes: int = 0) -> dict[str, Any]:
    if value_bytes:
        return {"pk": {"S": f"k{number}"}, "v": {"S": "x" * value_bytes}}
    return {"pk": {"S": f"k{number}"}, **{f"a{j}": {"N": str(j)} for j in range(attributes)}}


def cases(quick: bool) -> list[tuple[str, str, Any]]:
    found = [
        (
            "PutItem, one 399 KB string",
            "PutItem",
            {"TableName": TABLE, "Item": item(0, 0, 399_000)},
        ),
        (
            "PutItem, 20,000 small attributes",
            "PutItem",
            {"TableName": TABLE, "Item": item(1, 20_000)},
        ),
        (
            "BatchWriteItem, 25 x 399 KB strings",
            "BatchWriteItem",
            {
                "RequestItems": {
                    TABLE: [{"PutRequest": {"Item": item(i, 0, 399_000)}} for i in range(25)]
                }
            },
        ),
        (
            "PutItem, 16 MB body (refused: item too large)",
            "PutItem",
            {"TableName": TABLE, "Item": item(2, 0, 16 * 1024 * 1024 - 200)},
        ),
    ]
    if not quick:
        found += [
            (
                "BatchWriteItem, 25 x 20,000 small attributes",
                "BatchWriteItem",
                {
                    "RequestItems": {
                        TABLE: [{"PutRequest": {"Item": item(i, 20_000)}} for i in range(25)]
                    }
                },
            ),
            (
                "TransactWriteItems, 100 x 7,500 small attributes",
                "TransactWriteItems",
                {
                    "TransactItems": [
                        {"Put": {"TableName": TABLE, "Item": item(100 + i, 7_500)}}
                        for i in range(100)
                    ]
                },
            ),
            (
                "BatchGetItem, 100 keys of the items above",
                "BatchGetItem",
                {
                    "RequestItems": {
                        TABLE: {"Keys": [{"pk": {"S": f"k{100 + i}"}} for i in range(100)]}
                    }
                },
            ),
        ]
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="only the smaller cases")
    args = parser.parse_args()
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "emulator", "--port", str(port), "--log-level", "warning"],
        cwd=ROOT,
        env={**os.environ},
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                probe = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                call(probe, "ListTables", {})
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        call(
            probe,
            "CreateTable",
            {
                "TableName": TABLE,
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                "BillingMode": "PAY_PER_REQUEST",
                "StreamSpecification": {
                    "StreamEnabled": True,
                    "StreamViewType": "NEW_AND_OLD_IMAGES",
                },
            },
        )
        samples: list[tuple[float, float]] = []
        stop = threading.Event()

        def small_requests() -> None:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            while not stop.is_set():
                started = time.perf_counter()
                call(connection, "GetItem", {"TableName": TABLE, "Key": {"pk": {"S": "none"}}})
                samples.append((started, time.perf_counter() - started))

        worker = threading.Thread(target=small_requests, daemon=True)
        worker.start()
        time.sleep(0.5)
        idle = [latency for _, latency in samples]
        print(f"small GetItem alone: median {sorted(idle)[len(idle) // 2] * 1000:.2f} ms")
        big = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        print(f"{'large request':50} {'MB':>6} {'status':>6} {'took s':>7} {'worst small s':>13}")
        for name, operation, body in cases(args.quick):
            data = orjson.dumps(body)
            started = time.perf_counter()
            status, _ = call(big, operation, data)
            ended = time.perf_counter()
            time.sleep(0.3)  # let the small request in flight at the end finish
            during = [lat for at, lat in samples if started - 0.05 <= at <= ended]
            worst = max(during) if during else float("nan")
            print(
                f"{name:50} {len(data) / 1e6:6.1f} {status:6d} {ended - started:7.3f} {worst:13.3f}"
            )
        stop.set()
        worker.join(10)
    finally:
        process.terminate()
        process.wait(10)


if __name__ == "__main__":
    main()
