"""Time-driven work: shard rollover, stream record trimming, change-log retention,
expiry of old shards, streams and idempotency tokens, TTL sweeps, the state changes
features leave for the next tick (Kinesis streams and destinations), and Kinesis
retention. It runs on a background tick and whenever the admin API moves the clock, cut
into small transactions with a yield to the event loop between them, so a large trim or
sweep never holds requests up for more than a few milliseconds."""

from __future__ import annotations

import asyncio
import logging

import orjson

from emulator.changes.change import TTL, micros
from emulator.model.keys import key_of
from emulator.runtime.backend import Backend
from emulator.storage.engine import TableRow
from emulator.streams.records import TTL_IDENTITY

logger = logging.getLogger("emulator")

#: How often background work checks what fell due (at most; see tick_seconds).
TICK_SECONDS = 1.0
MIN_TICK_SECONDS = 0.05
#: Records deleted per transaction when trimming: about 0.2 ms each (1000 took about
#: 0.8 ms plus pauses, measured with scripts/bench_streams.py --trim).
TRIM_BATCH = 250
#: Expired items deleted per transaction by a TTL sweep: about 1 ms of CPU with stream
#: records (scripts/bench_ttl.py; 200 took about 5 ms, which requests wait behind).
TTL_BATCH = 50
#: TTL values further in the past than this are never expired (AWS's rule).
MAX_TTL_AGE_SECONDS = 5 * 365 * 24 * 3600.0


async def yield_to_requests() -> None:
    """Let the requests that arrived during a batch be answered before the next batch.

    One pass of the event loop reads them and starts their tasks; only the next pass runs
    those tasks, so a single `sleep(0)` would let a whole further batch go first.
    """
    await asyncio.sleep(0)
    await asyncio.sleep(0)


async def run_due_work(backend: Backend, *, sweep_ttl: bool = False) -> dict[str, int]:
    """Do what fell due; sweep TTL when asked or when a sweep interval has passed.

    Returns the TTL deletions per table (empty when no sweep ran).
    """
    async with backend.maintenance_lock:
        now = backend.clock.now()
        config = backend.config
        engine = backend.engine
        if config.shard_rollover_seconds > 0:
            with engine.transaction():
                backend.streams.roll_due_shards(now, config.shard_rollover_seconds)
        cutoff = now - config.stream_retention_seconds
        for shard in backend.streams.all_shards():
            while True:
                oldest = engine.stream_log.oldest_time(shard.shard_pk)
                if oldest is None or oldest >= cutoff:
                    break
                with engine.transaction():
                    last = engine.stream_log.trim_shard(shard, cutoff, TRIM_BATCH)
                    if last is not None:
                        engine.catalog.set_trimmed(shard, last)
                await yield_to_requests()
        await trim_change_logs(backend, now)
        with engine.transaction():
            backend.streams.expire(now, config.stream_retention_seconds)
            engine.tokens.prune(now)
        backend.complete_transitions()
        while backend.kinesis.trim_once(now):
            await yield_to_requests()
        deleted: dict[str, int] = {}
        if sweep_ttl or now - backend.last_ttl_sweep >= config.ttl_sweep_seconds:
            backend.last_ttl_sweep = now
            sweeps = backend.replication.sweeps_ttl
            for row in [r for r in engine.catalog.all_tables() if r.state.ttl and sweeps(r)]:
                count = 0
                while True:
                    if backend.engine.get_table(row.region, row.name) is not row:
                        break  # the table was deleted while the sweep yielded
                    batch = expire_batch(backend, row, now, TTL_BATCH)
                    count += batch
                    if batch < TTL_BATCH:
                        break
                    await yield_to_requests()
                deleted[row.name] = deleted.get(row.name, 0) + count
        return deleted


def change_log_retention_seconds(backend: Backend, row: TableRow) -> float:
    """How long the table's change log keeps a change: its PITR RecoveryPeriodInDays, or
    `--change-log-retention-days`."""
    pitr = row.state.pitr
    days = pitr.recovery_days if pitr is not None else backend.config.change_log_retention_days
    return days * 86400.0


async def trim_change_logs(backend: Backend, now: float) -> None:
    """Drop change-log entries older than each table's retention, in small batches."""
    engine = backend.engine
    log = engine.change_log
    for row in engine.catalog.all_tables():
        cutoff_us = micros(now - change_log_retention_seconds(backend, row))
        while True:
            oldest = log.oldest_time(row.table_id)
            if oldest is None or oldest >= cutoff_us:
                break
            if engine.get_table(row.region, row.name) is not row:
                break  # deleted (or replaced) while the trim yielded
            with engine.transaction():
                log.trim(row.table_id, cutoff_us, TRIM_BATCH)
            await yield_to_requests()


def expire_batch(backend: Backend, row: TableRow, now: float, limit: int) -> int:
    """Delete up to `limit` expired items of one table in one transaction; returns how many.

    As on AWS: an item expires when its TTL attribute is a Number of epoch seconds at or
    before now; values more than five years in the past never expire. Each deletion is a
    change of origin TTL, marked with the DynamoDB service identity in its stream record.
    """
    ttl = row.state.ttl
    if ttl is None or not ttl.expiring(now):
        return 0
    engine = backend.engine
    pipeline = backend.pipeline
    schema = row.state.key_schema
    with engine.transaction():
        expired = engine.items.expired(row.table_id, now - MAX_TTL_AGE_SECONDS, now, limit)
        for hash_key, range_key, size, blob in expired:
            item = orjson.loads(blob)
            pipeline.write(
                row,
                key_of(schema, item),
                hash_key,
                range_key,
                item,
                size,
                None,
                origin=TTL,
                user_identity=TTL_IDENTITY,
            )
    return len(expired)


def tick_seconds(backend: Backend) -> float:
    """The background tick: 1 s, or a quarter of the shortest configured interval, so a
    test run with `--stream-retention-seconds 1` sees the work done within ~0.25 s."""
    config = backend.config
    intervals = [
        value
        for value in (
            config.shard_rollover_seconds,
            config.stream_retention_seconds,
            config.ttl_sweep_seconds,
        )
        if value > 0
    ]
    return max(MIN_TICK_SECONDS, min([TICK_SECONDS, *(value / 4 for value in intervals)]))


async def tick_forever(backend: Backend) -> None:
    interval = tick_seconds(backend)
    while True:
        await asyncio.sleep(interval)
        try:
            await run_due_work(backend)
        except Exception:
            logger.exception("background maintenance failed")
