"""The emulator's state behind every operation: config, clock, storage, streams."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from dataclasses import dataclass, field
from typing import Any

from emulator.clock import Clock
from emulator.config import Config
from emulator.storage.engine import Engine
from emulator.streams.iterators import IteratorCodec
from emulator.streams.shards import StreamManager

logger = logging.getLogger("emulator")

#: How often background work checks what fell due (rollover, trimming, expiry).
MAINTENANCE_TICK_SECONDS = 1.0
#: Records deleted per transaction when trimming.
TRIM_BATCH = 1000


@dataclass
class Backend:
    config: Config
    clock: Clock
    engine: Engine
    streams: StreamManager
    iterators: IteratorCodec
    #: TransactWriteItems ClientRequestToken -> (time, request digest, response).
    idempotency: dict[str, tuple[float, str, dict[str, Any]]] = field(default_factory=dict)
    _tasks: list[asyncio.Task[Any]] = field(default_factory=list)
    _maintenance_lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    @classmethod
    def create(cls, config: Config, clock: Clock | None = None) -> Backend:
        clock = clock or Clock()
        engine = Engine.open(config.data_dir)
        secret = engine.get_meta("iterator_secret")
        if secret is None:
            secret = os.urandom(32)
            engine.set_meta("iterator_secret", secret)
        streams = StreamManager(
            engine, clock, config.account_id, shards_per_stream=max(1, config.stream_shards)
        )
        streams.load()
        engine.on_metadata_rollback(streams.load)
        return cls(config, clock, engine, streams, IteratorCodec(secret))

    async def start(self) -> None:
        """Start background work (rollover, retention, TTL sweeps) on the event loop."""
        self._tasks.append(asyncio.create_task(self._maintenance_loop()))

    async def _maintenance_loop(self) -> None:
        while True:
            await asyncio.sleep(MAINTENANCE_TICK_SECONDS)
            try:
                await self.run_maintenance()
            except Exception:
                logger.exception("background maintenance failed")

    async def run_maintenance(self) -> None:
        """Do the time-driven work that fell due: shard rollover, record trimming, expiry.

        Work is cut into small transactions with a yield to the event loop between them,
        so a large trim never holds up requests for more than a few milliseconds.
        """
        async with self._maintenance_lock:
            now = self.clock.now()
            config = self.config
            if config.shard_rollover_seconds > 0:
                with self.engine.transaction():
                    self.streams.roll_due_shards(now, config.shard_rollover_seconds)
            cutoff = now - config.stream_retention_seconds
            for shard in self.streams.all_shards():
                while True:
                    oldest = self.engine.oldest_record_time(shard.shard_pk)
                    if oldest is None or oldest >= cutoff:
                        break
                    with self.engine.transaction():
                        self.engine.trim_shard(shard, cutoff, TRIM_BATCH)
                    await asyncio.sleep(0)
            with self.engine.transaction():
                self.streams.expire(now, config.stream_retention_seconds)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        self.engine.close()

    def reset(self) -> None:
        self.idempotency.clear()
        self.engine.reset()
        self.streams.reset()

    def rollover(self, stream_arn: str | None, split: bool) -> tuple[list[str], list[str]]:
        """Close the open shards of one enabled stream (or of all) and open children."""
        if stream_arn is not None:
            row = self.streams.stream_by_arn(stream_arn)
            if row is None:
                raise LookupError(f"Stream {stream_arn} not found")
            if row.description["StreamStatus"] != "ENABLED":
                raise ValueError(f"Stream {stream_arn} is not enabled")
            targets = [row.stream_id]
        else:
            targets = [
                row.stream_id
                for row in self.streams.all_streams()
                if row.description["StreamStatus"] == "ENABLED"
            ]
        closed: list[str] = []
        created: list[str] = []
        with self.engine.transaction():
            for stream_id in targets:
                old, new = self.streams.rollover(stream_id, split)
                closed += old
                created += new
        return closed, created

    def set_clock(self, command: dict[str, Any]) -> None:
        if not isinstance(command, dict):
            raise ValueError("expected a JSON object")
        if "advance" in command:
            self.clock.advance(float(command["advance"]))
        elif "set" in command:
            self.clock.set(float(command["set"]))
        elif command.get("mode") == "real":
            self.clock.use_real_time()
        elif command.get("mode") == "manual":
            self.clock.advance(0)
        else:
            raise ValueError('expected "advance", "set" or "mode"')
