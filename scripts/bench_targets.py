#!/usr/bin/env python3
"""Function runners: invocations per second and latency of a warm Python worker and of an
in-process callable, each invoked with a batch of stream records.

What is measured
    Each invocation carries a DynamoDB Streams event of ``--batch`` records (default 100;
    INSERT records shaped as the poller builds them, about 500 bytes of JSON each: ~50 KB).
    The handler walks the records, reads one attribute of each, and answers
    ``{"batchItemFailures": []}``, as a ReportBatchItemFailures handler does.

    (a) python-zip: a ``python3.12`` function whose code is a folder, run by a
        TargetRegistry in worker processes (the emulator's own interpreter). One warm-up
        invocation starts the worker(s) and imports the handler; only warm invocations are
        timed.
    (b) callable: the same handler as an in-process callable (``emulator.serve(functions=
        ...)``), run on the registry's thread pool.

    Each is driven at concurrency ``--concurrency`` (default 1 and 4): that many
    invocations in flight at once on one asyncio event loop, for ``--seconds`` seconds
    (default 3) each. The latency is the time ``target.invoke()`` takes, measured around
    the call; it includes framing, the pipe round trip and JSON on both sides for (a).
    No HTTP and no Lambda API are involved: this is the runner's cost alone.

How to read the numbers
    invokes/s   invocations answered per second: higher is better.
    records/s   invokes/s times the batch size: what a trigger with that BatchSize can
                deliver at most, before the poller's own costs. The issue's targets
                (BatchSize 100): callable >= 50,000 records/s, Python-zip worker >= 20,000.
    p50/p99/max (ms)   latency of one invocation.
    The machine's cores are shared by the benchmark's loop, the worker processes and the
    handler threads; with 2 cores, concurrency 4 shows contention rather than scaling.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson

from emulator.triggers.runners import TargetRegistry
from emulator.triggers.targets import FunctionSpec, Invocation, Outcome, Target

HANDLER_SOURCE = """
def handler(event, context):
    total = 0
    for record in event["Records"]:
        total += len(record["dynamodb"]["NewImage"]["payload"]["S"])
    return {"batchItemFailures": []}
"""


def handler(event: dict[str, Any], context: Any) -> Any:
    total = 0
    for record in event["Records"]:
        total += len(record["dynamodb"]["NewImage"]["payload"]["S"])
    return {"batchItemFailures": []}


def stream_event(batch: int) -> bytes:
    arn = "arn:aws:dynamodb:us-east-1:000000000000:table/bench/stream/2024-01-01T00:00:00.000"
    records = [
        {
            "eventID": uuid.uuid4().hex,
            "eventName": "INSERT",
            "eventVersion": "1.1",
            "eventSource": "aws:dynamodb",
            "awsRegion": "us-east-1",
            "dynamodb": {
                "ApproximateCreationDateTime": 1704067200.0,
                "Keys": {"pk": {"S": f"key-{i}"}},
                "NewImage": {"pk": {"S": f"key-{i}"}, "payload": {"S": "x" * 40}},
                "SequenceNumber": f"{100000000000000000000 + i}",
                "SizeBytes": 70,
                "StreamViewType": "NEW_IMAGE",
            },
            "eventSourceARN": arn,
        }
        for i in range(batch)
    ]
    return orjson.dumps({"Records": records})


def function_spec(name: str, code_dir: str | None) -> FunctionSpec:
    return FunctionSpec(
        name=name,
        arn=f"arn:aws:lambda:us-east-1:000000000000:function:{name}",
        runtime="python3.12",
        handler="app.handler",
        timeout_seconds=30,
        code_dir=code_dir,
        revision="bench",
    )


async def drive(target: Target, payload: bytes, concurrency: int, seconds: float) -> list[float]:
    """Latencies (seconds) of the invocations answered in `seconds` at `concurrency`."""
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    async def one_lane() -> None:
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            result = await target.invoke(Invocation(payload, str(uuid.uuid4())))
            latencies.append(time.perf_counter() - started)
            if result.outcome is not Outcome.SUCCESS:
                raise RuntimeError(f"invocation failed: {result.payload[:300]!r} {result.detail}")

    await asyncio.gather(*(one_lane() for _ in range(concurrency)))
    return latencies


def report(
    label: str, concurrency: int, batch: int, latencies: list[float], seconds: float
) -> None:
    ordered = sorted(latencies)
    rate = len(ordered) / seconds
    p50 = statistics.median(ordered) * 1000
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000
    print(
        f"{label:<11} c={concurrency:<2} invokes/s {rate:>8,.0f}   records/s {rate * batch:>10,.0f}"
        f"   p50 {p50:6.2f} ms   p99 {p99:6.2f} ms   max {ordered[-1] * 1000:7.2f} ms"
        f"   (n={len(ordered)})"
    )


async def bench(args: argparse.Namespace) -> None:
    payload = stream_event(args.batch)
    print(
        f"batch {args.batch} records ({len(payload):,} bytes of JSON), {args.seconds:g} s per run, "
        f"python {sys.version.split()[0]}"
    )
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "app.py").write_text(HANDLER_SOURCE)
        registry = TargetRegistry(python=args.python)
        registry.register_callable("bench-callable", handler)
        try:
            kinds = {
                "python-zip": registry.target_for(function_spec("bench-zip", folder)),
                "callable": registry.target_for(function_spec("bench-callable", None)),
            }
            for label in args.targets:
                target = kinds[label]
                for concurrency in args.concurrency:
                    # Warm up: start `concurrency` workers, import the handler.
                    await asyncio.gather(
                        *(target.invoke(Invocation(payload, "warm-up")) for _ in range(concurrency))
                    )
                    latencies = await drive(target, payload, concurrency, args.seconds)
                    report(label, concurrency, args.batch, latencies, args.seconds)
        finally:
            await registry.close()


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--batch", type=int, default=100, help="records per invocation")
    parser.add_argument("--seconds", type=float, default=3.0, help="duration of each run")
    parser.add_argument(
        "--concurrency", type=int, nargs="+", default=[1, 4], help="invocations in flight"
    )
    parser.add_argument(
        "--targets",
        nargs="+",
        choices=["python-zip", "callable"],
        default=["python-zip", "callable"],
    )
    parser.add_argument("--python", default=None, help="interpreter for the Python worker")
    parser.add_argument("--uvloop", action="store_true", help="run on uvloop (as uvicorn does)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.uvloop:
        import uvloop

        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            runner.run(bench(args))
    else:
        asyncio.run(bench(args))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
