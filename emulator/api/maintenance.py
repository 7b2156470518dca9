"""Time-driven work: shard rollover, stream record trimming, expiry of old shards and
streams, and TTL sweeps. It runs on a background tick and whenever the admin API moves
the clock, cut into small transactions with a yield to the event loop between them, so
a large trim or sweep never holds requests up for more than a few milliseconds."""

from __future__ import annotations

import asyncio
import logging

from emulator.api.backend import Backend

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
                oldest = engine.oldest_record_time(shard.shard_pk)
                if oldest is None or oldest >= cutoff:
                    break
                with engine.transaction():
                    engine.trim_shard(shard, cutoff, TRIM_BATCH)
                await yield_to_requests()
        with engine.transaction():
            backend.streams.expire(now, config.stream_retention_seconds)
        deleted: dict[str, int] = {}
        # Imported at the first sweep rather than at start-up (start-up time).
        from emulator.api import ttl

        if sweep_ttl or now - backend.last_ttl_sweep >= config.ttl_sweep_seconds:
            backend.last_ttl_sweep = now
            for row in ttl.ttl_tables(backend):
                count = 0
                while True:
                    if backend.engine.get_table(row.region, row.name) is not row:
                        break  # the table was deleted while the sweep yielded
                    batch = ttl.expire_batch(backend, row, now, TTL_BATCH)
                    count += batch
                    if batch < TTL_BATCH:
                        break
                    await yield_to_requests()
                deleted[row.name] = deleted.get(row.name, 0) + count
        return deleted


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
