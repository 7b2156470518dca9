"""The composition root: the emulator's state behind every operation (config, clock,
storage, streams, the write pipeline and its sinks, the commit signals) and the
background work that runs beside the requests."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

import orjson

from emulator.changes.pipeline import WritePipeline
from emulator.changes.sinks import (
    change_log_enabled,
    change_log_sink_factory,
    index_sink_factory,
    stream_sink_factory,
)
from emulator.clock import Clock
from emulator.config import Config
from emulator.kinesis.destination import (
    Destinations,
    complete_destination_transitions,
    destination_sink_factory,
    has_pending_destinations,
)
from emulator.kinesis.forwarder import Forwarder
from emulator.kinesis.service import KinesisService
from emulator.model.table_state import TableStateCodec
from emulator.replication.external import ExternalReplicators
from emulator.replication.manager import ReplicationManager
from emulator.runtime.table_status import settle_tables
from emulator.storage.engine import Engine
from emulator.streams.iterators import IteratorCodec
from emulator.streams.shards import StreamManager
from emulator.streams.signals import CommitSignals
from emulator.triggers.destinations import FailureDestinations
from emulator.triggers.functions import function_spec
from emulator.triggers.kinesis_source import kinesis_binder
from emulator.triggers.mapping import FUNCTION_KIND, EventSourceMapping
from emulator.triggers.poller import Resolver
from emulator.triggers.runners import TargetRegistry
from emulator.triggers.supervisor import TriggerSupervisor
from emulator.triggers.targets import Target

#: The meta key under which the clock's state is kept.
CLOCK_META = "clock"


@dataclass
class Backend:
    config: Config
    clock: Clock
    engine: Engine
    streams: StreamManager
    iterators: IteratorCodec
    pipeline: WritePipeline
    signals: CommitSignals
    triggers: TriggerSupervisor
    #: The built-in Kinesis Data Streams service and the tables' Kinesis destinations.
    kinesis: KinesisService
    kinesis_destinations: Destinations
    #: Global-table replica groups and their replicators (emulator/replication/).
    replication: ReplicationManager
    #: Replication of tables here to tables at other endpoints.
    external_replication: ExternalReplicators
    _tasks: list[asyncio.Task[Any]] = field(default_factory=list)
    #: Background work never runs twice at once (the tick and an admin clock move).
    maintenance_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    last_ttl_sweep: float = 0.0
    #: What `POST /_emulator/triggers/settle` waits for: each feature with background
    #: delivery (trigger pollers, Kinesis forwarders, replicators) adds a check that is
    #: True once it has nothing pending and nothing in flight.
    settle_checks: list[Callable[[], bool]] = field(default_factory=list)
    #: What runs each Lambda function (worker processes, endpoints, callables).
    targets: TargetRegistry = field(default_factory=TargetRegistry)
    #: State changes that complete on the next scheduler tick (at once under the test
    #: clock): ENABLING → ACTIVE and the like. Each completes what is due when called.
    transitions: list[Callable[[], None]] = field(default_factory=list)
    #: Called after `reset()` dropped the stored data, for features with in-memory state.
    reset_hooks: list[Callable[[], None]] = field(default_factory=list)
    #: Long-running consumers (a Kinesis forwarder, ...) the app's lifespan starts.
    background: list[Callable[[], Coroutine[Any, Any, None]]] = field(default_factory=list)

    @classmethod
    def create(cls, config: Config, clock: Clock | None = None) -> Backend:
        clock = clock or Clock()
        engine = Engine.open(config.data_dir, TableStateCodec())
        saved_clock = engine.get_meta(CLOCK_META)
        if saved_clock is not None:
            clock.restore(orjson.loads(saved_clock))
        secret = engine.get_meta("iterator_secret")
        if secret is None:
            secret = os.urandom(32)
            engine.set_meta("iterator_secret", secret)
        streams = StreamManager(
            engine, clock, config.account_id, shards_per_stream=max(1, config.stream_shards)
        )
        streams.load()
        engine.on_metadata_rollback(streams.load)
        signals = CommitSignals()
        iterators = IteratorCodec(secret)
        kinesis = KinesisService(engine, clock, config.account_id, iterators)
        kinesis_destinations = Destinations(kinesis, engine, signals, config.kinesis_endpoint)
        pipeline = WritePipeline(
            engine,
            clock,
            [
                index_sink_factory(engine),
                stream_sink_factory(engine, streams, signals),
                destination_sink_factory(kinesis_destinations),
                change_log_sink_factory(engine, config.change_log),
            ],
        )
        _drop_uncovered_change_logs(engine, config.change_log)
        targets = TargetRegistry.from_config(config)
        destinations = FailureDestinations(config.destination_endpoint, config.region)
        triggers = TriggerSupervisor(
            engine,
            streams,
            clock,
            signals,
            _target_resolver(engine, targets, config.account_id),
            destinations,
            config.stream_retention_seconds,
        )
        replication = ReplicationManager(
            engine,
            pipeline,
            streams,
            signals,
            clock,
            config.account_id,
            config.replication_lag_ms,
        )
        backend = cls(
            config,
            clock,
            engine,
            streams,
            iterators,
            pipeline,
            signals,
            triggers,
            kinesis,
            kinesis_destinations,
            replication,
            ExternalReplicators(replication),
            targets=targets,
        )
        triggers.kinesis_binding = kinesis_binder(
            kinesis, functools.partial(_invoke_identity, engine, config.account_id)
        )
        # Kinesis streams settle before the destinations that may point at them.
        backend.transitions += [
            kinesis.complete_transitions,
            lambda: complete_destination_transitions(kinesis_destinations),
            functools.partial(settle_tables, backend),
        ]
        forwarder = Forwarder(kinesis_destinations)
        backend.background.append(forwarder.run)

        def kinesis_settled() -> bool:
            """Kinesis: a stream or destination state change, or destination records
            still to forward"""
            return (
                not kinesis.has_pending()
                and not has_pending_destinations(engine)
                and forwarder.idle()
            )

        backend.settle_checks.append(kinesis_settled)
        backend.settle_checks.append(replication.settled)
        backend.reset_hooks.append(kinesis.reset)
        return backend

    def complete_transitions(self) -> None:
        for complete in self.transitions:
            complete()

    def start_background(self, work: Coroutine[Any, Any, None]) -> None:
        """Run `work` as a task on the event loop until `stop()`."""
        self._tasks.append(asyncio.create_task(work))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        await self.targets.close()
        self.engine.close()

    def reset(self) -> None:
        """Drop every table, stream, mapping and consumer position, and return the clock
        to real time (test isolation: nothing a test did survives it)."""
        self.triggers.reset()
        self.targets.discard_all()
        self.engine.reset()
        with self.engine.transaction():
            self.replication.store.clear()
        self.replication.reset()
        self.clock.reset()
        self._save_clock()
        self.streams.reset()
        for hook in self.reset_hooks:
            hook()
        self.signals.notify_all()

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
        self._save_clock()
        self.signals.notify_all()  # whatever waits for the clock looks again

    def _save_clock(self) -> None:
        """Keep the clock's state with the data (a manual clock survives a restart)."""
        with self.engine.transaction():
            self.engine.set_meta(CLOCK_META, orjson.dumps(self.clock.state()))


def _drop_uncovered_change_logs(engine: Engine, every_table: bool) -> None:
    """A table whose changes were not logged for a while (`--change-log` was off) must not
    keep an older history: its entries would skip the gap. Done once, at start."""
    with engine.transaction():
        for row in engine.catalog.all_tables():
            if not change_log_enabled(row, every_table):
                engine.change_log.drop_table(row.table_id)


def _target_resolver(engine: Engine, targets: TargetRegistry, account_id: str) -> Resolver:
    """What the poller invokes for a mapping: its function's target, or None when the
    function does not exist (every invoke a service error, SPEC-STREAM-APPS 2.2)."""

    def resolve(mapping: EventSourceMapping) -> Target | None:
        spec = function_spec(
            engine.documents,
            mapping.region,
            mapping.function_arn,
            overridden=targets.overridden_names(),
            account_id=account_id,
        )
        return None if spec is None else targets.target_for(spec)

    return resolve


def _invoke_identity(engine: Engine, account_id: str, mapping: EventSourceMapping) -> str:
    """`invokeIdentityArn` of a Kinesis record: the function's execution role."""
    document = engine.documents.get(FUNCTION_KIND, mapping.region, mapping.function_name)
    role = (document or {}).get("Configuration", {}).get("Role")
    return str(role) if role else f"arn:aws:iam::{account_id}:role/lambda-role"
