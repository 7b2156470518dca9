"""The emulator's state behind every operation: config, clock, storage, streams."""

from __future__ import annotations

import asyncio
import contextlib
import os
from dataclasses import dataclass, field
from typing import Any

from emulator.clock import Clock
from emulator.config import Config
from emulator.storage.engine import Engine
from emulator.streams.iterators import IteratorCodec
from emulator.streams.shards import StreamManager


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
