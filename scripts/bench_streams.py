#!/usr/bin/env python3
"""DynamoDB Streams read side of the emulator: drain throughput and change latency.

What is measured
    (a) drain throughput.  A table with a NEW_AND_OLD_IMAGES stream gets ``--items`` new items
        (default 10,000; PutItem at concurrency 8 over raw HTTP, not timed).  Then, on one
        keep-alive connection: DescribeStream, GetShardIterator TRIM_HORIZON on every shard, and
        GetRecords (Limit ``--limit``, default 1000) following NextShardIterator, shard after
        shard in turn, until that many records were read.  Every response is parsed with orjson
        and its ``Records`` counted.  Only this GetRecords phase is timed.
    (b) change latency.  On a fresh stream table a reader takes a LATEST iterator on every open
        shard and polls GetRecords on them in a tight loop (no sleep) on its own connection.  A
        writer, on another connection, does ``--writes`` PutItems (default 2,000) one at a time
        with a ``--pause-ms`` pause between them.  For each key the latency is the time from the
        writer receiving the PutItem response to the reader receiving the record with that key.

    Both run as tasks of one asyncio event loop in one process, with the minimal HTTP/1.1 client
    of bench.py, on 127.0.0.1; client and server share the machine's cores (2 on the reference
    machine).  The reader's tight loop keeps one core busy on both sides while (b) runs.

    (d) boto3 drain.  (a) again on a fresh table, read through a boto3 ``dynamodbstreams``
        client (``get_records`` with Limit ``--limit``, in a worker thread) instead of the raw
        client: what an application sees, botocore's response parsing included.  ``--boto3``
        runs it after (a); ``--boto3-only`` runs only it (and writes its items).

    (c) ``--trim``: change latency while the emulator trims.  The emulator's clock is switched
        to manual (``POST /_emulator/clock {"mode": "manual"}``) and ``--trim-records`` items
        (default 100,000) are written to a stream table (concurrency 8, not timed), so that
        many stream records share one creation time.  Then (b) runs twice on fresh tables:
        once idle, and once with ``POST /_emulator/clock {"advance": 86401}`` sent on its own
        connection when the writer is ``--writes``/5 writes in (after the reader has caught
        up, so it holds no iterator at data about to be trimmed).  That call moves time past
        the 24-hour retention and answers once every record older than that is trimmed; the
        trimming runs in the background meanwhile, so the writes and reads of (b) interleave
        with it.  The latencies of writes acknowledged between sending that call and its
        answer are the "during trimming" figures; the script checks that the records are gone
        afterwards.  The emulator is started with ``--iterator-ttl-seconds 1000000000
        --shard-rollover-seconds 0`` (the jump of one day would otherwise expire the reader's
        iterators and roll every shard six times); ``--emulator-args`` can override them.
        The issue's target: p99 during trimming no more than 2 ms above idle p99.

How to read the numbers
    records/s       stream records delivered per second while draining: higher is better.
    calls           GetRecords calls made; records/call shows how full the pages were.
    latency p50/p99/max (ms)  how long after a write is acknowledged a poller sees it.  About
                    one GetRecords round trip is the floor; more means the record is made
                    visible late (e.g. batched or published after the response).  A negative
                    minimum means the record was readable before the PutItem response arrived.
    missing         writes whose record the reader never saw within the grace period: should
                    be 0.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from bench import (
    HOST,
    STREAMS,
    ApiError,
    RawConn,
    build_request,
    call,
    client_note,
    create_table,
    delete_table,
    emulator_server,
    put_item_requests,
    ready,
    run_load,
    unique_table,
)

THROTTLED = (b"LimitExceededException", b"ThrottlingException")


# --------------------------------------------------------------------------- stream helpers


async def describe_shards(conn: RawConn, arn: str) -> list[dict[str, Any]]:
    """All shards of the stream, following LastEvaluatedShardId (bounded)."""
    shards: list[dict[str, Any]] = []
    payload: dict[str, Any] = {"StreamArn": arn}
    for _ in range(1000):
        desc = (await call(conn, f"{STREAMS}.DescribeStream", payload))["StreamDescription"]
        shards.extend(desc.get("Shards", []))
        last = desc.get("LastEvaluatedShardId")
        if not last:
            return shards
        payload = {"StreamArn": arn, "ExclusiveStartShardId": last}
    raise RuntimeError("DescribeStream kept paginating")


def is_open(shard: dict[str, Any]) -> bool:
    return "EndingSequenceNumber" not in shard.get("SequenceNumberRange", {})


async def shard_iterator(conn: RawConn, arn: str, shard_id: str, kind: str) -> str:
    payload = {"StreamArn": arn, "ShardId": shard_id, "ShardIteratorType": kind}
    out = await call(conn, f"{STREAMS}.GetShardIterator", payload)
    return str(out["ShardIterator"])


@dataclass
class ShardReader:
    """Iterators over a stream's shards on one connection; picks up child shards as they come."""

    conn: RawConn
    arn: str
    limit: int
    iterators: dict[str, str | None] = field(default_factory=dict)
    calls: int = 0
    empty_calls: int = 0
    throttled: int = 0
    bytes_read: int = 0

    async def start(self, kind: str, open_only: bool) -> None:
        for shard in await describe_shards(self.conn, self.arn):
            if open_only and not is_open(shard):
                self.iterators[shard["ShardId"]] = None
                continue
            sid = shard["ShardId"]
            self.iterators[sid] = await shard_iterator(self.conn, self.arn, sid, kind)

    async def discover(self) -> None:
        """Add shards created since start (e.g. children of a closed shard), from their start."""
        for shard in await describe_shards(self.conn, self.arn):
            sid = shard["ShardId"]
            if sid not in self.iterators:
                self.iterators[sid] = await shard_iterator(self.conn, self.arn, sid, "TRIM_HORIZON")

    def live(self) -> list[str]:
        return [sid for sid, it in self.iterators.items() if it is not None]

    async def get(self, sid: str) -> list[dict[str, Any]]:
        """One GetRecords on shard sid; advance its iterator; return the records."""
        it = self.iterators[sid]
        assert it is not None
        body = orjson.dumps({"ShardIterator": it, "Limit": self.limit})
        status, raw = await self.conn.request(
            build_request(self.conn.port, f"{STREAMS}.GetRecords", body)
        )
        self.calls += 1
        self.bytes_read += len(raw)
        if status != 200:
            if any(t in raw for t in THROTTLED):
                self.throttled += 1
                await asyncio.sleep(0.005)
                return []
            raise ApiError("GetRecords", status, raw)
        out = orjson.loads(raw)
        records: list[dict[str, Any]] = out.get("Records", [])
        if not records:
            self.empty_calls += 1
        nxt = out.get("NextShardIterator")
        self.iterators[sid] = nxt
        if nxt is None:
            await self.discover()
        return records


def record_key(record: dict[str, Any]) -> str:
    return str(record["dynamodb"]["Keys"]["pk"]["S"])


def pct(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, int(q * len(values)))]


# --------------------------------------------------------------------------- (a) drain


async def drain(port: int, args: argparse.Namespace) -> None:
    table = unique_table("bench_drain")
    desc = await create_table(port, table, stream=True)
    arn = desc["LatestStreamArn"]
    try:
        reqs = put_item_requests(port, table, "d", args.items)
        load = await run_load(port, reqs, 8)
        if load.errors:
            raise SystemExit(f"PutItem errors while loading: {load.errors}; {load.first_error}")
        print(f"(a) drain: wrote {args.items} items at concurrency 8 ({load.rps:.0f} req/s)")

        conn = RawConn(HOST, port)
        await conn.connect()
        try:
            reader = ShardReader(conn, arn, args.limit)
            await reader.start("TRIM_HORIZON", open_only=False)
            seen = 0
            keys: set[str] = set()
            deadline = time.monotonic() + args.timeout
            t0 = time.perf_counter()
            while seen < args.items and time.monotonic() < deadline:
                live = reader.live()
                if not live:
                    break
                got = 0
                for sid in live:
                    records = await reader.get(sid)
                    got += len(records)
                    keys.update(record_key(r) for r in records)
                    seen += len(records)
                    if seen >= args.items:
                        break
                if not got:
                    await asyncio.sleep(0.001)  # nothing anywhere yet: do not spin at 100%
            seconds = time.perf_counter() - t0
            shards = len(reader.iterators)
        finally:
            await conn.close()
        print(
            f"    read {seen} records ({len(keys)} distinct keys) from {shards} shard(s) in "
            f"{seconds * 1000:.0f} ms: {seen / seconds:,.0f} records/s, "
            f"{reader.bytes_read / seconds / 1e6:.1f} MB/s"
        )
        print(
            f"    {reader.calls} GetRecords calls (Limit {args.limit}), "
            f"{seen / max(reader.calls, 1):.0f} records/call, {reader.empty_calls} empty, "
            f"{reader.throttled} throttled"
        )
        if seen < args.items:
            print(f"    WARNING: only {seen} of {args.items} records read within {args.timeout}s")
    finally:
        if args.url:
            await delete_table(port, table)


# --------------------------------------------------------------------------- (d) boto3 drain


def boto3_drain_records(url: str, arn: str, limit: int, wanted: int) -> tuple[int, int, float]:
    """Read `wanted` records of the stream through boto3 (TRIM_HORIZON, shard after
    shard); (records, calls, seconds of the GetRecords phase)."""
    import boto3  # the test extra's; only this phase needs it

    client = boto3.client(
        "dynamodbstreams",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="bench",
        aws_secret_access_key="bench",
    )
    shards = client.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
    iterators = [
        client.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        for shard in shards
    ]
    seen = calls = 0
    started = time.perf_counter()
    for iterator in iterators:
        while iterator and seen < wanted:
            page = client.get_records(ShardIterator=iterator, Limit=limit)
            calls += 1
            seen += len(page["Records"])
            if not page["Records"]:
                break
            iterator = page.get("NextShardIterator")
    return seen, calls, time.perf_counter() - started


async def boto3_drain(port: int, args: argparse.Namespace) -> None:
    table = unique_table("bench_boto3")
    desc = await create_table(port, table, stream=True)
    try:
        reqs = put_item_requests(port, table, "b", args.items)
        load = await run_load(port, reqs, 8)
        if load.errors:
            raise SystemExit(f"PutItem errors while loading: {load.errors}; {load.first_error}")
        url = f"http://{HOST}:{port}"
        seen, calls, seconds = await asyncio.to_thread(
            boto3_drain_records, url, desc["LatestStreamArn"], args.limit, args.items
        )
        print(
            f"(d) boto3 drain: read {seen} records in {calls} get_records calls in "
            f"{seconds * 1000:.0f} ms: {seen / seconds:,.0f} records/s"
        )
    finally:
        if args.url:
            await delete_table(port, table)


# --------------------------------------------------------------------------- (b) latency


Trigger = Callable[[], Awaitable[tuple[float, float]]]


@dataclass
class LatencyRun:
    """(ack time, latency ms) per write seen, and the trigger's (start, end) if one ran."""

    samples: list[tuple[float, float]]
    window: tuple[float, float] | None = None

    def during(self) -> list[float]:
        if self.window is None:
            return []
        start, end = self.window
        return sorted(ms for acked, ms in self.samples if start <= acked <= end)

    def all(self) -> list[float]:
        return sorted(ms for _, ms in self.samples)


async def latency(
    port: int, args: argparse.Namespace, trigger: Trigger | None = None, label: str = "(b)"
) -> LatencyRun:
    table = unique_table("bench_latency")
    desc = await create_table(port, table, stream=True)
    arn = desc["LatestStreamArn"]
    reqs = put_item_requests(port, table, "l", args.writes)
    keys = [f"l{i:07d}" for i in range(args.writes)]
    acked: dict[str, float] = {}
    seen: dict[str, float] = {}
    writer_done = asyncio.Event()
    clock = time.perf_counter
    trigger_task: asyncio.Task[tuple[float, float]] | None = None

    rconn = RawConn(HOST, port)
    wconn = RawConn(HOST, port)
    await rconn.connect()
    await wconn.connect()
    try:
        reader = ShardReader(rconn, arn, args.limit)
        await reader.start("LATEST", open_only=True)
        open_shards = len(reader.live())

        async def read() -> None:
            grace_end = float("inf")
            while clock() < grace_end and len(seen) < args.writes:
                live = reader.live()
                if not live:
                    await reader.discover()
                    live = reader.live()
                    if not live:
                        await asyncio.sleep(0.001)
                for sid in live:
                    records = await reader.get(sid)
                    now = clock()
                    for rec in records:
                        seen.setdefault(record_key(rec), now)
                if writer_done.is_set() and grace_end == float("inf"):
                    grace_end = clock() + args.grace

        async def write() -> None:
            nonlocal trigger_task
            pause = args.pause_ms / 1000
            try:
                for index, (key, raw) in enumerate(zip(keys, reqs, strict=True)):
                    if trigger is not None and index == args.writes // 5:
                        # Let the reader catch up first: its iterators then point past
                        # every record the trigger may trim.
                        while any(k not in seen for k in keys[:index]):
                            await asyncio.sleep(0.001)
                        trigger_task = asyncio.ensure_future(trigger())
                    status, body = await wconn.request(raw)
                    acked[key] = clock()
                    if status != 200:
                        raise ApiError("PutItem", status, body)
                    await asyncio.sleep(pause)
            finally:
                writer_done.set()

        t0 = clock()
        async with asyncio.TaskGroup() as tg:
            tg.create_task(read())
            tg.create_task(write())
        wall = clock() - t0
        window = None if trigger_task is None else await trigger_task
    finally:
        await rconn.close()
        await wconn.close()
        if args.url:
            await delete_table(port, table)

    run = LatencyRun(
        [(acked[k], (seen[k] - acked[k]) * 1000) for k in keys if k in seen and k in acked],
        window,
    )
    lat = run.all()
    missing = sum(1 for k in keys if k not in seen)
    print(
        f"{label} change latency: {args.writes} PutItems one at a time, {args.pause_ms} ms apart; "
        f"reader polling {open_shards} open shard(s) with LATEST iterators"
    )
    if lat:
        print(
            f"    PutItem response -> record at reader: p50 {pct(lat, 0.5):.2f} ms, "
            f"p99 {pct(lat, 0.99):.2f} ms, max {lat[-1]:.2f} ms "
            f"(min {lat[0]:.2f}, mean {statistics.fmean(lat):.2f})"
        )
    print(
        f"    {reader.calls} GetRecords calls in {wall:.1f} s ({reader.calls / wall:,.0f}/s), "
        f"{reader.empty_calls} empty, {reader.throttled} throttled; "
        f"{len(reader.iterators)} shard(s) seen in all; missing {missing}"
    )
    if missing:
        print(f"    WARNING: {missing} writes never seen by the reader within {args.grace}s")
    return run


# --------------------------------------------------------------------------- (c) trim


def admin_request(port: int, path: str, body: dict[str, Any] | None = None) -> bytes:
    """HTTP/1.1 request bytes for an /_emulator/ admin call (GET without a body)."""
    data = b"" if body is None else orjson.dumps(body)
    method = "GET" if body is None else "POST"
    head = (
        f"{method} {path} HTTP/1.1\r\n"
        f"Host: {HOST}:{port}\r\n"
        f"Content-Type: application/json\r\n"
        f"Content-Length: {len(data)}\r\n"
        f"\r\n"
    )
    return head.encode() + data


async def admin(port: int, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    conn = RawConn(HOST, port)
    try:
        status, raw = await conn.request(admin_request(port, path, body))
    finally:
        await conn.close()
    if status != 200:
        raise ApiError(path, status, raw)
    return dict(orjson.loads(raw))


async def count_records(port: int, arn: str) -> int:
    """Every record still in the stream (TRIM_HORIZON on each shard, to its current end)."""
    conn = RawConn(HOST, port)
    await conn.connect()
    try:
        total = 0
        for shard in await describe_shards(conn, arn):
            it: str | None = await shard_iterator(conn, arn, shard["ShardId"], "TRIM_HORIZON")
            while it is not None:
                out = await call(conn, f"{STREAMS}.GetRecords", {"ShardIterator": it})
                total += len(out["Records"])
                it = out.get("NextShardIterator") if out["Records"] else None
        return total
    finally:
        await conn.close()


def summary(values: list[float]) -> str:
    if not values:
        return "no samples"
    return (
        f"p50 {pct(values, 0.5):.2f} ms, p99 {pct(values, 0.99):.2f} ms, "
        f"max {values[-1]:.2f} ms ({len(values)} writes)"
    )


async def trim(port: int, args: argparse.Namespace) -> None:
    clock = await admin(port, "/_emulator/clock", {"mode": "manual"})
    table = unique_table("bench_trim")
    desc = await create_table(port, table, stream=True)
    arn = desc["LatestStreamArn"]
    reqs = put_item_requests(port, table, "t", args.trim_records)
    load = await run_load(port, reqs, 8)
    if load.errors:
        raise SystemExit(f"PutItem errors while loading: {load.errors}; {load.first_error}")
    print(
        f"(c) trim: clock manual at {clock['now']:.3f}; wrote {args.trim_records} items to "
        f"{table} at concurrency 8 ({load.rps:.0f} req/s)"
    )
    before = await count_records(port, arn)
    print(f"    {before} stream records to trim\n")

    idle = await latency(port, args, label="(c1) idle:")

    async def advance() -> tuple[float, float]:
        start = time.perf_counter()
        await admin(port, "/_emulator/clock", {"advance": 86401})
        return start, time.perf_counter()

    print()
    busy = await latency(port, args, trigger=advance, label="(c2) while trimming:")
    assert busy.window is not None
    left = await count_records(port, arn)
    during = busy.during()
    idle_lat = idle.all()
    print(
        f"\n    trimming {before} records took {(busy.window[1] - busy.window[0]) * 1000:.0f} ms "
        f"(the advance call, sent {args.writes // 5} writes in); {left} records left"
    )
    print(f"    idle:              {summary(idle_lat)}")
    print(f"    during trimming:   {summary(during)}")
    print(f"    whole busy run:    {summary(busy.all())}")
    if idle_lat and during:
        p50 = pct(during, 0.5) - pct(idle_lat, 0.5)
        p99 = pct(during, 0.99) - pct(idle_lat, 0.99)
        verdict = "OK" if p99 <= 2.0 else "OVER the 2 ms target"
        print(f"    difference:        p50 {p50:+.2f} ms, p99 {p99:+.2f} ms ({verdict})")
        # The trimming window holds far fewer writes than the idle run, and a p99 over few
        # samples is nearly their maximum: compare with idle windows of the same size too.
        size = len(during)
        in_order = [ms for _, ms in idle.samples]
        windows = [
            pct(sorted(in_order[i : i + size]), 0.99)
            for i in range(0, len(in_order) - size + 1, size)
        ]
        if windows:
            typical = statistics.median(windows)
            print(
                f"    idle p99 over {len(windows)} windows of {size} writes: median "
                f"{typical:.2f} ms, worst {max(windows):.2f} ms; during trimming minus that "
                f"median: {pct(during, 0.99) - typical:+.2f} ms"
            )
    if len(during) < 100:
        print("    NOTE: fewer than 100 writes fell in the trimming window; p99 is rough")
    if left:
        print(f"    WARNING: {left} records were not trimmed")
    if args.url:
        await delete_table(port, table)


# --------------------------------------------------------------------------- main


async def bench(args: argparse.Namespace) -> int:
    extra = args.emulator_args
    if args.trim:
        extra = f"--iterator-ttl-seconds 1000000000 --shard-rollover-seconds 0 {extra}"
    with emulator_server(args.url, extra) as emu:
        await ready(emu, need_200=True)
        print(client_note())
        how = " (given --url)" if args.url else " (started here)"
        print(f"emulator on port {emu.port}{how}\n")
        if args.trim:
            await trim(emu.port, args)
            return 0
        if args.boto3_only:
            await boto3_drain(emu.port, args)
            return 0
        if not args.skip_drain:
            await drain(emu.port, args)
        if args.boto3:
            await boto3_drain(emu.port, args)
        if not args.skip_latency:
            await latency(emu.port, args)
    return 0


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description="DynamoDB Streams drain throughput and change latency of the emulator.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__,
    )
    p.add_argument(
        "--url",
        help="an emulator already running on 127.0.0.1, e.g. http://127.0.0.1:8000 "
        "(default: start `python -m emulator --port <free>` and stop it at the end)",
    )
    p.add_argument(
        "--items", type=int, default=10000, help="(a) items written, then drained (default 10000)"
    )
    p.add_argument("--limit", type=int, default=1000, help="GetRecords Limit (default 1000)")
    p.add_argument(
        "--timeout",
        type=float,
        default=60.0,
        help="(a) give up draining after this many seconds (default 60)",
    )
    p.add_argument(
        "--writes", type=int, default=2000, help="(b) PutItems, one at a time (default 2000)"
    )
    p.add_argument(
        "--pause-ms", type=float, default=2.0, help="(b) pause between writes (default 2)"
    )
    p.add_argument(
        "--grace",
        type=float,
        default=5.0,
        help="(b) seconds the reader waits after the last write (default 5)",
    )
    p.add_argument("--skip-drain", action="store_true", help="do not run (a)")
    p.add_argument(
        "--trim",
        action="store_true",
        help="run (c) only: change latency idle and while the emulator trims "
        "--trim-records records (moves the emulator's clock: not for a shared server)",
    )
    p.add_argument(
        "--trim-records",
        type=int,
        default=100000,
        help="(c) records written, then trimmed (default 100000)",
    )
    p.add_argument("--skip-latency", action="store_true", help="do not run (b)")
    p.add_argument("--boto3", action="store_true", help="also run (d), the boto3 drain")
    p.add_argument("--boto3-only", action="store_true", help="run (d) only")
    p.add_argument(
        "--emulator-args",
        default="",
        help="extra arguments for the emulator this script starts, e.g. '--stream-shards 4'",
    )
    args = p.parse_args(argv)
    if min(args.items, args.limit, args.writes) < 1:
        p.error("--items, --limit and --writes must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    return asyncio.run(bench(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
