"""The poller of one event source mapping: Lambda's ESM semantics for a DynamoDB stream
(SPEC-STREAM-APPS 3).

One `MappingRun` per enabled mapping starts a `ShardWorker` per ready shard (parents are
finished before their children: `CheckpointedReader.ready_shards`). A shard worker reads
the stored log ahead of its checkpoint, drops filtered records (consumed, never delivered),
and hands the rest to `ParallelizationFactor` lanes by a hash of the item's keys (per-key
order is kept). Each lane has at most one batch in flight and applies the batching
window, tumbling windows, record age, retries, bisection and partial batch responses.
The shard checkpoint is the highest sequence number below which every record is done
(delivered, filtered or sent to the failure destination); it is stored in SQLite, so a
restart resumes there. All time decisions read the one clock; nothing here blocks the
event loop (targets are awaited).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
import zlib
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson

from emulator.clock import Clock
from emulator.storage.engine import Engine, ShardRow
from emulator.streams.reader import CheckpointedReader, LogSource
from emulator.streams.shards import StreamManager
from emulator.streams.signals import CommitSignals
from emulator.triggers.events import (
    RECORD_AGE_EXCEEDED,
    RETRY_ATTEMPTS_EXHAUSTED,
    StreamEvent,
    failure_document,
    iso_seconds,
    lambda_payload,
)
from emulator.triggers.mapping import EventSourceMapping, checkpoint_consumer
from emulator.triggers.targets import Invocation, InvokeResult, Outcome, Target

logger = logging.getLogger("emulator")

#: Records read from the log per read.
READ_CHUNK = 1000
#: Lambda's synchronous payload limit, which also bounds a batch.
MAX_PAYLOAD_BYTES = 6 * 1024 * 1024
#: Tumbling-window state above this ends the window early.
MAX_WINDOW_STATE_BYTES = 1024 * 1024
#: Back-off between attempts that did not reach the function (real seconds).
MIN_BACKOFF_SECONDS = 0.02
MAX_BACKOFF_SECONDS = 1.0
#: A shard is read at most this often (real seconds) while records keep coming: under
#: load a batch gathers what a few milliseconds bring, instead of one record per
#: invocation; an isolated write is still read at once.
MIN_READ_INTERVAL_SECONDS = 0.002
#: Retries of a function error beyond which an unbounded retry policy slows down.
QUICK_RETRIES = 3
#: How much of what a function wrote an invocation log entry keeps (its end), like the
#: 4 KB `LogType=Tail` returns.
LOGGED_OUTPUT_CHARS = 4096


def record_topic(uuid: str) -> tuple[str, str]:
    """Wakes a mapping's run (a shard finished, a lane freed room)."""
    return ("esm", uuid)


def lane_of(keys: Any, lanes: int) -> int:
    if lanes == 1:
        return 0
    return zlib.crc32(orjson.dumps(keys, option=orjson.OPT_SORT_KEYS)) % lanes


class Resolver(Protocol):
    def __call__(self, mapping: EventSourceMapping) -> Target | None: ...


@dataclass
class InvocationEntry:
    """One line of a mapping's invocation log (served by the admin API)."""

    time: float
    shard_id: str
    first_sequence: str | None
    last_sequence: str | None
    records: int
    attempt: int
    outcome: str
    function_error: str | None = None
    response: str = ""
    duration_ms: float = 0.0
    detail: str = ""
    #: The end of what the function wrote during the invocation (stdout, stderr, logging).
    logs: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "Time": self.time,
            "ShardId": self.shard_id,
            "FirstSequenceNumber": self.first_sequence,
            "LastSequenceNumber": self.last_sequence,
            "Records": self.records,
            "Attempt": self.attempt,
            "Outcome": self.outcome,
            "FunctionError": self.function_error,
            "Response": self.response,
            "DurationMs": round(self.duration_ms, 3),
            "Detail": self.detail,
            "Logs": self.logs,
        }


@dataclass
class SourceBinding:
    """The log a mapping reads and how its records become events."""

    source: LogSource
    stream_arn: str
    stream_id: int
    #: (sequence, created, stored bytes) → the event (`StreamEvent`, `KinesisEvent`).
    make_event: Callable[[int, float, bytes], Any]
    #: Whether failure documents carry KinesisBatchInfo (else DDBStreamBatchInfo).
    kinesis: bool = False


@dataclass
class RunContext:
    """What every worker of one mapping shares."""

    mapping: EventSourceMapping
    binding: SourceBinding
    engine: Engine
    streams: StreamManager
    clock: Clock
    signals: CommitSignals
    retention_seconds: float
    resolve: Resolver
    matches: Callable[[dict[str, Any]], bool]
    #: Whether the mapping has FilterCriteria (else no record is decoded to match).
    filtering: bool
    #: (mapping, document, delivered records) for a discarded batch.
    on_failure: Callable[[EventSourceMapping, dict[str, Any], list[dict[str, Any]]], None]
    #: Called with the new LastProcessingResult when it changes.
    on_result: Callable[[str], None]
    #: Whether the mapping may still invoke (not deleted or disabled since it started):
    #: asked before every invocation, so none follows a Delete or Disable answer.
    may_invoke: Callable[[], bool] = lambda: True
    log: deque[InvocationEntry] = field(default_factory=lambda: deque(maxlen=1000))
    invocations: int = 0

    def wait_topics(self, worker: Any) -> list[Any]:
        return [self.binding.source.topic, ("feeder", id(worker)), ("clock",)]


class Lane:
    """One ParallelizationFactor lane of a shard: at most one batch in flight."""

    def __init__(self, worker: ShardWorker) -> None:
        self.worker = worker
        self.queue: deque[StreamEvent] = deque()
        #: When the lane's oldest queued record was read (starts the batching window).
        self.first_read_at: float | None = None
        self.in_flight = False
        #: The open tumbling window: (start, state) or None.
        self.window: tuple[int, Any] | None = None
        #: The window's state outgrew its limit: end the window now.
        self.terminate_early = False

    def busy(self) -> bool:
        return self.active() or self.window is not None

    def clock_bound(self, now: float) -> bool:
        """Whether this lane only waits for clock time: an open tumbling window that has
        not ended, or records held by the batching window."""
        if self.in_flight:
            return False
        mapping = self.worker.context.mapping
        tumbling = mapping.tumbling_window_seconds
        if not self.queue:
            return self.window is not None and now < self.window[0] + tumbling
        if self.window is not None and (
            _window_start(self.queue[0].approximate_creation, tumbling) != self.window[0]
            or now >= self.window[0] + tumbling
        ):
            return False
        batching = mapping.maximum_batching_window_seconds
        return (
            batching > 0
            and len(self.queue) < mapping.batch_size
            and (self.first_read_at or now) + batching > now
        )

    def active(self) -> bool:
        """A batch in flight or records queued (an open tumbling window aside)."""
        return self.in_flight or bool(self.queue)


class ShardWorker:
    def __init__(self, context: RunContext, reader: CheckpointedReader, shard: ShardRow) -> None:
        self.context = context
        self.reader = reader
        self.shard = shard
        mapping = context.mapping
        self.lanes = [Lane(self) for _ in range(max(1, mapping.parallelization_factor))]
        #: Read-ahead position: the last sequence number taken from the log.
        self.read_after = reader.next_sequence(shard) - 1
        self._order: deque[int] = deque()
        self._done: set[int] = set()
        self._wake = asyncio.Event()
        self.finished = False
        self.stopping = False

    # -- progress ------------------------------------------------------------------------

    def in_flight(self) -> bool:
        return any(lane.busy() for lane in self.lanes) or bool(self._order)

    def waiting_for_clock(self) -> bool:
        """Whether everything this worker holds only waits for clock time (never on a
        closed shard: its end closes any open window without the clock moving)."""
        self._refresh_shard()
        if self.shard.ending_sequence is not None:
            return False
        now = self.context.clock.now()
        if self.context.binding.source.has_records_from(self.shard.shard_pk, self.read_after + 1):
            return False
        waiting = False
        for lane in self.lanes:
            if lane.clock_bound(now):
                waiting = True
            elif lane.busy():
                return False
        return waiting

    def _mark_done(self, events: list[StreamEvent]) -> None:
        for event in events:
            self._done.add(event.sequence)
        self._advance()

    def _advance(self) -> None:
        """Commit the highest sequence number below which every record is done."""
        last = None
        order, done = self._order, self._done
        while order and order[0] in done:
            last = order.popleft()
            done.discard(last)
        if last is not None:
            self.reader.commit(self.shard, last)

    # -- the feeder ----------------------------------------------------------------------

    async def run(self) -> None:
        lane_tasks = [asyncio.create_task(self._run_lane(lane)) for lane in self.lanes]
        try:
            await self._feed()
        finally:
            self.stopping = True
            for lane in self.lanes:
                self._wake_lane(lane)
            for task in lane_tasks:
                task.cancel()
            for task in lane_tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    async def _feed(self) -> None:
        context = self.context
        mapping = context.mapping
        lane_count = len(self.lanes)
        room = max(mapping.batch_size * 2, READ_CHUNK)
        make_event = context.binding.make_event
        last_read = 0.0
        while True:
            queued = sum(len(lane.queue) for lane in self.lanes)
            if queued < room * lane_count:
                last_read = time.monotonic()
                read = self.reader.read(self.shard, READ_CHUNK, after=self.read_after)
                if read.lost is not None:
                    self._report_lost(read.lost)
                    self.read_after = max(self.read_after, read.lost[1])
                    if not self._order:
                        self.reader.commit(self.shard, read.lost[1])
                if read.records:
                    now = context.clock.now()
                    for record in read.records:
                        event = make_event(record.sequence, record.created, record.data)
                        self.read_after = record.sequence
                        self._order.append(record.sequence)
                        if context.filtering and not context.matches(event.filter_record):
                            self._done.add(record.sequence)  # consumed, never delivered
                            self._advance()
                            continue
                        lane = (
                            self.lanes[lane_of(event.keys, lane_count)]
                            if lane_count > 1
                            else self.lanes[0]
                        )
                        if not lane.queue:
                            lane.first_read_at = now
                        lane.queue.append(event)
                    for lane in self.lanes:
                        if lane.queue:
                            self._wake_lane(lane)
                    continue
            if self._shard_done():
                await self._close_windows()
                self.reader.finish(self.shard)
                self.finished = True
                context.signals.notify(record_topic(mapping.uuid))
                return
            await context.signals.wait(context.wait_topics(self), 1.0)
            since = time.monotonic() - last_read
            if since < MIN_READ_INTERVAL_SECONDS:
                await asyncio.sleep(MIN_READ_INTERVAL_SECONDS - since)
            self._refresh_shard()

    def _refresh_shard(self) -> None:
        pk = self.shard.shard_pk
        for current in self.context.binding.source.shards():
            if current.shard_pk == pk:
                self.shard = current
                return

    def _shard_done(self) -> bool:
        self._refresh_shard()
        shard = self.shard
        if shard.ending_sequence is None or self._order:
            return False
        if any(lane.active() for lane in self.lanes):
            return False
        return not self.context.binding.source.has_records_from(shard.shard_pk, self.read_after + 1)

    async def _close_windows(self) -> None:
        """Shard end closes every open tumbling window (a final invocation each)."""
        for lane in self.lanes:
            if lane.window is not None:
                await self._final_window_invoke(lane, terminated_early=False)

    def _report_lost(self, lost: tuple[int, int]) -> None:
        """Records trimmed by retention before they were read (Emulator rule: reported as
        RecordAgeExceeded, with their sequence range)."""
        self._send_failure(
            RECORD_AGE_EXCEEDED, [], 0, first_sequence=lost[0], last_sequence=lost[1]
        )

    def _send_failure(
        self,
        condition: str,
        events: list[StreamEvent],
        attempts: int,
        function_error: str | None = None,
        status_code: int | None = None,
        first_sequence: int | None = None,
        last_sequence: int | None = None,
    ) -> None:
        """Hand a discarded (sub-)batch's failure document to the destinations."""
        context = self.context
        document = failure_document(
            condition=condition,
            function_arn=context.mapping.function_arn,
            invoke_count=attempts,
            function_error=function_error,
            status_code=status_code,
            shard_id=self.shard.shard_id,
            stream_arn=context.binding.stream_arn,
            events=events,
            now=context.clock.now(),
            first_sequence=first_sequence,
            last_sequence=last_sequence,
            kinesis=context.binding.kinesis,
        )
        context.on_failure(context.mapping, document, [event.record for event in events])

    # -- lanes ---------------------------------------------------------------------------

    def _wake_lane(self, lane: Lane) -> None:
        self.context.signals.notify(("lane", id(lane)))

    async def _lane_wait(self, lane: Lane, timeout: float | None) -> None:
        await self.context.signals.wait([("lane", id(lane)), ("clock",)], timeout)

    async def _run_lane(self, lane: Lane) -> None:
        context = self.context
        mapping = context.mapping
        clock = context.clock
        while not self.stopping:
            window_seconds = mapping.tumbling_window_seconds
            if lane.window is not None and lane.terminate_early:
                await self._final_window_invoke(lane, terminated_early=True)
                continue
            if lane.window is not None:
                start = lane.window[0]
                next_window = (
                    _window_start(lane.queue[0].approximate_creation, window_seconds)
                    if lane.queue
                    else None
                )
                if clock.now() >= start + window_seconds or (
                    next_window is not None and next_window != start
                ):
                    await self._final_window_invoke(lane, terminated_early=False)
                    continue
            if not lane.queue:
                timeout = 1.0
                if lane.window is not None and clock.mode == "real":
                    timeout = max(0.001, lane.window[0] + window_seconds - clock.now())
                await self._lane_wait(lane, timeout)
                continue
            window = mapping.maximum_batching_window_seconds
            if window > 0 and len(lane.queue) < mapping.batch_size:
                deadline = (lane.first_read_at or clock.now()) + window
                remaining = deadline - clock.now()
                if remaining > 0:
                    await self._lane_wait(lane, remaining if clock.mode == "real" else 1.0)
                    continue
            batch = self._take_batch(lane)
            lane.in_flight = True
            try:
                await self._deliver(lane, batch)
            finally:
                lane.in_flight = False
            if self.stopping:
                return  # stopped mid-batch: it is delivered again from the checkpoint
            self._mark_done(batch)
            lane.first_read_at = clock.now() if lane.queue else None
            context.signals.notify(("feeder", id(self)))  # room in the lane, a done batch

    def _take_batch(self, lane: Lane) -> list[StreamEvent]:
        mapping = self.context.mapping
        batch: list[StreamEvent] = []
        size = 0
        window_seconds = mapping.tumbling_window_seconds
        window = None
        if window_seconds:
            window = _window_start(lane.queue[0].approximate_creation, window_seconds)
        while lane.queue and len(batch) < mapping.batch_size:
            event = lane.queue[0]
            if batch and size + event.size > MAX_PAYLOAD_BYTES:
                break
            if window is not None and (
                _window_start(event.approximate_creation, window_seconds) != window
            ):
                break
            batch.append(lane.queue.popleft())
            size += event.size
        return batch

    # -- delivering one batch ------------------------------------------------------------

    async def _deliver(self, lane: Lane, batch: list[StreamEvent]) -> None:
        """Deliver `batch` until it succeeds or is discarded to the failure destination."""
        context = self.context
        mapping = context.mapping
        retries = mapping.maximum_retry_attempts
        work: deque[tuple[list[StreamEvent], int]] = deque([(batch, 0)])
        backoff = MIN_BACKOFF_SECONDS
        while work and not self.stopping:
            events, attempts = work[0]
            events = self._drop_expired(events, attempts)
            if not events:
                work.popleft()
                continue
            result, window_state = await self._invoke(lane, events, attempts)
            if result.outcome in (Outcome.SERVICE_ERROR, Outcome.THROTTLED):
                work[0] = (events, attempts)
                await asyncio.sleep(backoff)
                backoff = min(MAX_BACKOFF_SECONDS, backoff * 2)
                continue
            backoff = MIN_BACKOFF_SECONDS
            attempts += 1
            failed_from: int | None = None  # index of the first record to retry
            function_error: str | None = None
            if result.outcome is Outcome.FUNCTION_ERROR:
                failed_from = 0
                function_error = result.function_error or "Unhandled"
                if mapping.bisect_batch_on_function_error and len(events) > 1:
                    half = (len(events) + 1) // 2
                    work.popleft()
                    work.appendleft((events[half:], 0))
                    work.appendleft((events[:half], 0))
                    context.on_result("PROBLEM: Function call failed")
                    continue
            else:
                if mapping.tumbling_window_seconds and window_state is _NO_STATE:
                    failed_from = 0
                elif mapping.report_batch_item_failures:
                    failed_from = _first_failed(result.payload, events)
            if failed_from is None:
                work.popleft()
                context.on_result("OK")
                if mapping.tumbling_window_seconds:
                    self._keep_window_state(lane, events, window_state)
                continue
            context.on_result("PROBLEM: Function call failed")
            if failed_from > 0:
                self._mark_done(events[:failed_from])
                events = events[failed_from:]
            if retries != -1 and attempts > retries:
                self._discard(events, attempts, function_error, result)
                work.popleft()
                continue
            work[0] = (events, attempts)
            if retries == -1 and attempts > QUICK_RETRIES:
                await self._lane_wait(lane, min(MAX_BACKOFF_SECONDS, 0.05 * attempts))

    def _drop_expired(self, events: list[StreamEvent], attempts: int) -> list[StreamEvent]:
        """Records older than MaximumRecordAgeInSeconds (or the stream's retention) are
        not invoked: they go to the destination as RecordAgeExceeded."""
        context = self.context
        limit = context.mapping.maximum_record_age_seconds
        if limit == -1 or limit > context.retention_seconds:
            limit = int(context.retention_seconds)
        now = context.clock.now()
        expired = [event for event in events if now - event.created > limit]
        if not expired:
            return events
        self._send_failure(RECORD_AGE_EXCEEDED, expired, attempts)
        self._mark_done(expired)
        return [event for event in events if now - event.created <= limit]

    def _discard(
        self,
        events: list[StreamEvent],
        attempts: int,
        function_error: str | None,
        result: InvokeResult,
    ) -> None:
        self._send_failure(
            RETRY_ATTEMPTS_EXHAUSTED, events, attempts, function_error, result.status_code or 200
        )

    async def _invoke(
        self, lane: Lane, events: list[StreamEvent], attempts: int, final: bool = False
    ) -> tuple[InvokeResult, Any]:
        """One invocation; with a tumbling window also the state the function returned
        (`_NO_STATE` when its response carries none)."""
        context = self.context
        mapping = context.mapping
        extra = (
            self._window_fields(lane, events, final) if mapping.tumbling_window_seconds else None
        )
        result = await self._call(lambda_payload(events, extra), events, attempts + 1)
        if result is None:
            return InvokeResult(Outcome.SERVICE_ERROR, b"", detail="mapping stopped"), _NO_STATE
        state: Any = _NO_STATE
        if mapping.tumbling_window_seconds and result.outcome is Outcome.SUCCESS:
            try:
                response = orjson.loads(result.payload)
            except orjson.JSONDecodeError:
                response = None
            if isinstance(response, dict) and "state" in response:
                state = response["state"]
        return result, state

    async def _call(
        self, payload: bytes, events: list[StreamEvent], attempt: int, detail: str = ""
    ) -> InvokeResult | None:
        """Invoke the mapping's function once and log it; None (and the worker stops) when
        the mapping was deleted or disabled since it started."""
        context = self.context
        if not context.may_invoke():
            self.stopping = True
            return None
        target = context.resolve(context.mapping)
        context.invocations += 1
        if target is None:
            result = InvokeResult(
                Outcome.SERVICE_ERROR, b"", status_code=404, detail="Function not found"
            )
            context.on_result("PROBLEM: Function not found")
        else:
            result = await target.invoke(Invocation(payload, _request_id(), None, False))
        context.log.append(
            InvocationEntry(
                time=context.clock.now(),
                shard_id=self.shard.shard_id,
                first_sequence=events[0].sequence_number if events else None,
                last_sequence=events[-1].sequence_number if events else None,
                records=len(events),
                attempt=attempt,
                outcome=result.outcome.value,
                function_error=result.function_error,
                response=result.payload[:4096].decode("utf-8", "replace"),
                duration_ms=result.duration_ms,
                detail=detail or result.detail,
                logs=result.logs[-LOGGED_OUTPUT_CHARS:],
            )
        )
        return result

    # -- tumbling windows ----------------------------------------------------------------

    def _window_fields(
        self, lane: Lane, events: list[StreamEvent], final: bool, terminated_early: bool = False
    ) -> dict[str, Any]:
        seconds = self.context.mapping.tumbling_window_seconds
        if events:
            start = _window_start(events[0].approximate_creation, seconds)
            state = lane.window[1] if lane.window is not None and lane.window[0] == start else {}
        else:
            assert lane.window is not None
            start, state = lane.window
        return {
            "window": {"start": iso_seconds(start), "end": iso_seconds(start + seconds)},
            "state": state,
            "shardId": self.shard.shard_id,
            "eventSourceARN": self.context.binding.stream_arn,
            "isFinalInvokeForWindow": final,
            "isWindowTerminatedEarly": terminated_early,
        }

    def _keep_window_state(self, lane: Lane, events: list[StreamEvent], state: Any) -> None:
        seconds = self.context.mapping.tumbling_window_seconds
        start = _window_start(events[0].approximate_creation, seconds)
        lane.window = (start, state)
        lane.terminate_early = len(orjson.dumps(state)) > MAX_WINDOW_STATE_BYTES

    async def _final_window_invoke(self, lane: Lane, terminated_early: bool) -> None:
        """The window's last invocation (`Records: []`, `isFinalInvokeForWindow`), retried
        until it succeeds: the shard waits for it."""
        backoff = MIN_BACKOFF_SECONDS
        attempts = 0
        while lane.window is not None and not self.stopping:
            attempts += 1
            payload = lambda_payload([], self._window_fields(lane, [], True, terminated_early))
            result = await self._call(payload, [], attempts, "final invocation of the window")
            if result is None:
                return
            if result.outcome is Outcome.SUCCESS:
                lane.window = None
                lane.terminate_early = False
                return
            await asyncio.sleep(backoff)
            backoff = min(MAX_BACKOFF_SECONDS, backoff * 2)


_NO_STATE = object()


def _window_start(created: float, seconds: int) -> int:
    return int(created) // seconds * seconds


def _request_id() -> str:
    return str(uuid.uuid4())


def _first_failed(payload: bytes, events: list[StreamEvent]) -> int | None:
    """ReportBatchItemFailures: the index of the lowest reported record (retry from it),
    None for success, 0 for a response that makes the whole batch a failure
    (SPEC-STREAM-APPS 3.7)."""
    try:
        response = orjson.loads(payload) if payload.strip() else None
    except orjson.JSONDecodeError:
        return 0
    if response is None or response == [] or response == {}:
        return None
    if not isinstance(response, dict):
        return 0
    failures = response.get("batchItemFailures")
    if failures is None or failures == []:
        return None
    if not isinstance(failures, list):
        return 0
    positions = {event.sequence_number: index for index, event in enumerate(events)}
    lowest: int | None = None
    for failure in failures:
        if not isinstance(failure, dict):
            return 0
        identifier = failure.get("itemIdentifier")
        if not isinstance(identifier, str) or identifier not in positions:
            return 0
        index = positions[identifier]
        lowest = index if lowest is None else min(lowest, index)
    return lowest


class MappingRun:
    """Runs one enabled mapping: a worker per ready shard, parents before children."""

    def __init__(self, context: RunContext) -> None:
        self.context = context
        self.reader = CheckpointedReader(
            context.engine,
            context.streams,
            checkpoint_consumer(context.mapping.uuid),
            context.binding.stream_id,
            context.binding.source,
        )
        self.workers: dict[int, ShardWorker] = {}
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self.stopped = False

    async def run(self) -> None:
        context = self.context
        try:
            while not self.stopped:
                for pk in [pk for pk, task in self._tasks.items() if task.done()]:
                    task = self._tasks.pop(pk)
                    self.workers.pop(pk, None)
                    if not task.cancelled() and task.exception() is not None:
                        # A defect here must not end delivery: the shard restarts from
                        # its checkpoint on the next round.
                        logger.error(
                            "trigger %s: shard worker failed",
                            context.mapping.uuid,
                            exc_info=task.exception(),
                        )
                for shard in self.reader.ready_shards():
                    if shard.shard_pk not in self._tasks:
                        worker = ShardWorker(context, self.reader, shard)
                        self.workers[shard.shard_pk] = worker
                        self._tasks[shard.shard_pk] = asyncio.create_task(worker.run())
                # Woken when a shard finishes (its children may be ready now); new shards
                # without parents are found on the round after at most a second.
                await context.signals.wait([record_topic(context.mapping.uuid)], 1.0)
        finally:
            for task in self._tasks.values():
                task.cancel()
            for task in self._tasks.values():
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            self._tasks.clear()

    def idle(self) -> bool:
        """No record pending and nothing in flight."""
        if any(worker.in_flight() for worker in self.workers.values()):
            return False
        return self.reader.caught_up()

    def waiting_for_clock(self) -> bool:
        """Whether every shard with work in hand only waits for clock time."""
        source = self.context.binding.source
        busy = [
            worker
            for worker in self.workers.values()
            if worker.in_flight()
            or source.has_records_from(worker.shard.shard_pk, worker.read_after + 1)
        ]
        return bool(busy) and all(worker.waiting_for_clock() for worker in busy)

    def backlog(self) -> int:
        return sum(self.reader.backlog(shard) for shard in self.context.binding.source.shards())
