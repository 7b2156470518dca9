"""Runs every event source mapping: reads the mappings the Lambda API stored, completes
their state transitions (Creating → Enabled or Disabled, Enabling, Disabling, Updating,
Deleting → gone), keeps one `MappingRun` per enabled mapping with the configuration it
was started with, and answers "is everything delivered?" for settling.

Transitions complete on the supervisor's next round, which the Lambda API triggers by
notifying `MAPPINGS_TOPIC` after it stores a change (SPEC-STREAM-APPS 2.5, Emulator rule).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from emulator.clock import Clock
from emulator.storage.engine import Engine
from emulator.streams.reader import CheckpointedReader, DynamoStreamSource
from emulator.streams.shards import StreamManager
from emulator.streams.signals import CommitSignals
from emulator.triggers.destinations import FailureDestinations
from emulator.triggers.events import StreamEvent
from emulator.triggers.filters import compile_pattern, matches_any
from emulator.triggers.mapping import (
    CREATING,
    DELETING,
    DISABLED,
    DISABLING,
    ENABLED,
    ENABLING,
    MAPPING_KIND,
    MAPPINGS_TOPIC,
    UPDATING,
    EventSourceMapping,
    checkpoint_consumer,
    desired_enabled,
)
from emulator.triggers.poller import MappingRun, Resolver, RunContext, SourceBinding

logger = logging.getLogger("emulator")

#: How often the supervisor looks again without being told (real seconds).
ROUND_SECONDS = 1.0


@dataclass
class _Running:
    mapping: EventSourceMapping
    run: MappingRun
    task: asyncio.Task[None]


class TriggerSupervisor:
    def __init__(
        self,
        engine: Engine,
        streams: StreamManager,
        clock: Clock,
        signals: CommitSignals,
        resolve: Resolver,
        destinations: FailureDestinations,
        retention_seconds: float,
    ) -> None:
        self.engine = engine
        self.streams = streams
        self.clock = clock
        self.signals = signals
        self.resolve = resolve
        self.destinations = destinations
        self.retention_seconds = retention_seconds
        self.running: dict[str, _Running] = {}
        #: Contexts outlive a run's restart (an update), so the invocation log does too.
        self.contexts: dict[str, RunContext] = {}
        #: How a mapping on a built-in Kinesis stream reads it (set by the composition
        #: root; None: no Kinesis streams here).
        self.kinesis_binding: Callable[[EventSourceMapping], SourceBinding | None] | None = None
        #: Runs cancelled and not yet finished (awaited on shutdown).
        self._stopping: set[asyncio.Task[None]] = set()
        #: Per mapping: (documents version, answer) of the last look at the stored state.
        self._may_invoke_cache: dict[str, tuple[int, bool]] = {}
        self._results: dict[str, tuple[int, str]] = {}

    # -- the loop ------------------------------------------------------------------------

    async def run_forever(self) -> None:
        try:
            while True:
                try:
                    self.reconcile()
                except Exception:
                    logger.exception("trigger supervisor round failed")
                await self.signals.wait([MAPPINGS_TOPIC], ROUND_SECONDS)
        finally:
            await self.stop_all()

    def reset(self) -> None:
        """Forget every run (the storage is being reset under them)."""
        for uuid in list(self.running):
            self._stop_soon(uuid)
        self.contexts.clear()
        self.destinations.kept.clear()

    async def stop_all(self) -> None:
        for uuid in list(self.running):
            await self._stop(uuid)
        for task in list(self._stopping):
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def reconcile(self) -> None:
        """One round: complete transitions, start, restart and stop runs."""
        documents = self.engine.documents
        seen: set[str] = set()
        for region, uuid, document in documents.list(MAPPING_KIND):
            state = document.get("State")
            if state == DELETING:
                self._stop_soon(uuid)
                CheckpointedReader(self.engine, self.streams, checkpoint_consumer(uuid), 0).forget()
                documents.delete(MAPPING_KIND, region, uuid)
                self.destinations.forget(uuid)
                self.contexts.pop(uuid, None)
                continue
            seen.add(uuid)
            if state in (CREATING, ENABLING, DISABLING, UPDATING):
                document["State"] = ENABLED if desired_enabled(document) else DISABLED
                documents.put(MAPPING_KIND, region, uuid, document)
            mapping = EventSourceMapping.from_description(region, document)
            if mapping.state == ENABLED:
                self._ensure_running(mapping)
            else:
                self._stop_soon(uuid)
        for uuid in [uuid for uuid in self.running if uuid not in seen]:
            self._stop_soon(uuid)

    def _ensure_running(self, mapping: EventSourceMapping) -> None:
        running = self.running.get(mapping.uuid)
        if running is not None:
            if _same_settings(running.mapping, mapping) and not running.task.done():
                return
            self._stop_soon(mapping.uuid)
        binding = self.binding(mapping)
        if binding is None:
            self._set_result(mapping.region, mapping.uuid, "PROBLEM: Stream not found")
            return
        context = self.contexts.get(mapping.uuid)
        log = context.log if context is not None else None
        context = RunContext(
            mapping=mapping,
            binding=binding,
            engine=self.engine,
            streams=self.streams,
            clock=self.clock,
            signals=self.signals,
            retention_seconds=self.retention_seconds,
            resolve=self.resolve,
            matches=_matcher(mapping),
            filtering=bool(mapping.filter_patterns),
            on_failure=self.destinations.send,
            on_result=functools.partial(self._set_result, mapping.region, mapping.uuid),
            may_invoke=functools.partial(self._may_invoke, mapping.region, mapping.uuid),
        )
        if log is not None:
            context.log = log
        self.contexts[mapping.uuid] = context
        run = MappingRun(context)
        self.running[mapping.uuid] = _Running(mapping, run, asyncio.create_task(run.run()))

    def binding(self, mapping: EventSourceMapping) -> SourceBinding | None:
        """The log a mapping reads: its DynamoDB stream, or a built-in Kinesis stream."""
        arn = mapping.event_source_arn
        if arn.startswith("arn:aws:kinesis:"):
            return None if self.kinesis_binding is None else self.kinesis_binding(mapping)
        stream = self.streams.stream_by_arn(arn)
        if stream is None:
            return None
        return SourceBinding(
            DynamoStreamSource(self.engine, self.streams, stream.stream_id),
            stream.arn,
            stream.stream_id,
            functools.partial(_stream_event, stream_arn=stream.arn),
        )

    def _may_invoke(self, region: str, uuid: str) -> bool:
        version = self.engine.documents.version
        known = self._may_invoke_cache.get(uuid)
        if known is not None and known[0] == version:
            return known[1]
        document = self.engine.documents.get(MAPPING_KIND, region, uuid)
        allowed = document is not None and document.get("State") not in (
            DELETING,
            DISABLING,
            DISABLED,
        )
        self._may_invoke_cache[uuid] = (version, allowed)
        return allowed

    def _stop_soon(self, uuid: str) -> None:
        running = self.running.pop(uuid, None)
        if running is not None:
            running.run.stopped = True
            running.task.cancel()
            self._stopping.add(running.task)
            running.task.add_done_callback(self._stopping.discard)

    async def _stop(self, uuid: str) -> None:
        running = self.running.pop(uuid, None)
        if running is not None:
            running.run.stopped = True
            running.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await running.task

    def _set_result(self, region: str, uuid: str, result: str) -> None:
        if self._results.get(uuid) == (self.engine.documents.version, result):
            return
        document = self.engine.documents.get(MAPPING_KIND, region, uuid)
        if document is None:
            return
        if document.get("LastProcessingResult") != result:
            document["LastProcessingResult"] = result
            self.engine.documents.put(MAPPING_KIND, region, uuid, document)
        self._results[uuid] = (self.engine.documents.version, result)

    # -- settling and status -------------------------------------------------------------

    def pending(self, detail: bool = True) -> list[dict[str, Any]]:
        """What keeps the triggers from being settled: an empty list when every mapping
        is in a settled state with nothing pending and nothing in flight (`detail`:
        with backlogs, which cost a count)."""
        waiting: list[dict[str, Any]] = []
        for _region, uuid, document in self.engine.documents.list(MAPPING_KIND):
            state = document.get("State")
            entry = {"UUID": uuid, "State": state}
            if state not in (ENABLED, DISABLED):
                waiting.append(entry | {"Reason": f"state {state}"})
                continue
            if state == DISABLED:
                continue
            running = self.running.get(uuid)
            if running is None:
                mapping = EventSourceMapping.from_description(_region, document)
                if self.binding(mapping) is None:
                    continue  # nothing to deliver from a stream that is gone
                waiting.append(entry | {"Reason": "not started"})
                continue
            if not running.run.idle():
                reason = "records pending or in flight"
                if running.run.waiting_for_clock():
                    reason = "waiting for the clock (a batching or tumbling window)"
                entry |= {"Reason": reason}
                if detail:
                    entry |= {
                        "Backlog": running.run.backlog(),
                        "LastProcessingResult": document.get("LastProcessingResult"),
                    }
                waiting.append(entry)
        if not self.destinations.idle():
            waiting.append({"Reason": "failure documents being delivered"})
        return waiting

    def blocked_on_clock(self) -> bool:
        """Whether everything still pending only waits for the (manual) clock to move."""
        if self.clock.mode != "manual":
            return False
        runs = [r.run for r in self.running.values() if not r.run.idle()]
        return bool(runs) and all(run.waiting_for_clock() for run in runs)

    def status(self) -> list[dict[str, Any]]:
        statuses = []
        for region, uuid, document in self.engine.documents.list(MAPPING_KIND):
            running = self.running.get(uuid)
            context = self.contexts.get(uuid)
            statuses.append(
                {
                    "UUID": uuid,
                    "Region": region,
                    "State": document.get("State"),
                    "FunctionArn": document.get("FunctionArn"),
                    "EventSourceArn": document.get("EventSourceArn"),
                    "LastProcessingResult": document.get("LastProcessingResult"),
                    "Backlog": running.run.backlog() if running is not None else None,
                    "InFlight": running is not None and not running.run.idle(),
                    "Invocations": context.invocations if context is not None else 0,
                    "FailureDocuments": len(self.destinations.documents(uuid)),
                }
            )
        return statuses

    def invocations(self, uuid: str) -> list[dict[str, Any]] | None:
        context = self.contexts.get(uuid)
        if context is None:
            return None
        return [entry.to_json() for entry in context.log]


def _stream_event(sequence: int, created: float, data: bytes, stream_arn: str) -> StreamEvent:
    return StreamEvent(sequence, created, data, stream_arn)


def _same_settings(a: EventSourceMapping, b: EventSourceMapping) -> bool:
    return a == b or (
        a.last_modified == b.last_modified
        and a.function_arn == b.function_arn
        and a.event_source_arn == b.event_source_arn
    )


def _matcher(mapping: EventSourceMapping) -> Any:
    if not mapping.filter_patterns:
        return lambda record: True
    patterns = tuple(compile_pattern(text) for text in mapping.filter_patterns)
    return lambda record: matches_any(patterns, record)
