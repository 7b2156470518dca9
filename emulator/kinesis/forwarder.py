"""The Kinesis destination forwarder: a consumer of the outbox that sends what tables'
writes committed to their Kinesis stream, outside any write's transaction.

- Woken by the "records committed" signal of the outbox (and every second, so a retry
  after a failure needs no new write).
- PutRecords of up to 500 records and 10 MiB, sending both StreamName and StreamARN
  (kinesalite knows only the name, kinesis-local and AWS take the ARN).
- Per-item order: a batch holds at most one record per partition key, so when an entry
  fails (`ProvisionedThroughputExceededException`, `InternalFailure`) no later record of
  the same item can overtake it; failed entries stay at the head of the outbox and are
  retried with a capped backoff, as are unreachable endpoints.
- An entry leaves the outbox once the endpoint acknowledged it (at-least-once: a crash
  between the answer and the removal resends it). Towards the built-in streams the send
  and the removal are one transaction (exactly once).
- A missing stream is retried like an unreachable endpoint (it may be created later);
  a record the endpoint rejects for good (a validation error) is dropped and counted as
  `FailedToReplicateRecordCount`, as AWS skips records it cannot deliver.
- Opt-in faults (`Faults`): duplicates and reordering, deterministic by count.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from typing import Any

from emulator.kinesis.destination import OUTBOX_TOPIC, Destinations, stream_topic
from emulator.kinesis.model import ACTIVE, UPDATING
from emulator.kinesis.service import stream_name_of_arn

logger = logging.getLogger("emulator.kinesis")

BATCH_RECORDS = 500
BATCH_BYTES = 10 * 1024 * 1024
IDLE_WAKE_SECONDS = 1.0
MAX_BACKOFF_SECONDS = 5.0
RETRYABLE = frozenset({"ProvisionedThroughputExceededException", "InternalFailure"})
#: Whole-request errors retried like an unreachable endpoint: the stream may appear later
#: (a test partner started after the emulator), and nothing committed may be lost.
RETRYABLE_REQUEST = frozenset({"ResourceNotFoundException", "ResourceInUseException"})
#: An injected reordering holds a lone record back this long for a successor to swap with.
REORDER_HOLD_SECONDS = 0.5

#: One record to send: (outbox entry, partition key, data).
Outgoing = tuple[int, str, bytes]


class Forwarder:
    def __init__(self, destinations: Destinations) -> None:
        self.destinations = destinations
        self.log = destinations.service.log
        self.busy = False
        self.failures = 0
        self._sent = 0
        self._held_since: float | None = None
        self._clients: dict[str, Any] = {}

    def idle(self) -> bool:
        """Nothing in flight and nothing queued (the settle check)."""
        return not self.busy and self.log.outbox_size() == 0

    async def run(self) -> None:
        signals = self.destinations.signals
        while True:
            try:
                progressed = await self.forward_once()
            except Exception:
                logger.exception("Kinesis forwarding failed")
                progressed = False
                self.failures += 1
            if not progressed:
                delay = (
                    min(MAX_BACKOFF_SECONDS, 0.05 * 2 ** min(self.failures, 10))
                    if self.failures
                    else REORDER_HOLD_SECONDS / 5
                    if self._held_since is not None
                    else IDLE_WAKE_SECONDS
                )
                await signals.wait([OUTBOX_TOPIC], delay)

    def _batch(self) -> tuple[str, list[Outgoing]]:
        """The next PutRecords: records of the oldest entry's stream, oldest first, at most
        one per partition key (unless reordering is injected on purpose)."""
        head = self.log.outbox_head(BATCH_RECORDS * 4)
        if not head:
            return "", []
        arn = head[0][1]
        keys: set[str] = set()
        batch: list[Outgoing] = []
        size = 0
        one_per_key = self.destinations.faults.reorder_every <= 0
        for entry, entry_arn, key, data, _created in head:
            if entry_arn != arn:
                continue
            if key in keys and one_per_key:
                continue
            size += len(data) + len(key)
            if batch and size > BATCH_BYTES:
                break
            keys.add(key)
            batch.append((entry, key, data))
            if len(batch) >= BATCH_RECORDS:
                break
        return arn, batch

    def _with_faults(self, batch: list[Outgoing]) -> list[Outgoing]:
        """The batch as sent: every `duplicate_every`-th record twice, every
        `reorder_every`-th record swapped with the one after it."""
        faults = self.destinations.faults
        numbered: list[tuple[int, Outgoing]] = []
        for record in batch:
            self._sent += 1
            numbered.append((self._sent, record))
            if faults.duplicate_every > 0 and self._sent % faults.duplicate_every == 0:
                numbered.append((self._sent, record))
        if faults.reorder_every > 0:
            i = 0
            while i < len(numbered) - 1:
                if numbered[i][0] % faults.reorder_every == 0:
                    numbered[i], numbered[i + 1] = numbered[i + 1], numbered[i]
                    i += 2
                else:
                    i += 1
        return [record for _number, record in numbered]

    async def forward_once(self) -> bool:
        """Send one batch; whether anything left the outbox."""
        arn, batch = self._batch()
        if not batch:
            self.failures = 0
            if self.destinations.draining:
                self.destinations.draining = False
                self.destinations.update_mode()
            return False
        reorder = self.destinations.faults.reorder_every
        if reorder > 0 and len(batch) == 1 and (self._sent + 1) % reorder == 0:
            # The record to swap has no successor yet: wait for one (a little while).
            now = time.monotonic()
            if self._held_since is None:
                self._held_since = now
            if now - self._held_since < REORDER_HOLD_SECONDS:
                return False
        self._held_since = None
        self.busy = True
        try:
            records = self._with_faults(batch)
            if self.destinations.external_endpoint is None:
                # The puts and the removal from the outbox commit together: exactly once.
                with self.destinations.engine.transaction():
                    return self._settle(arn, records, self._put_builtin(arn, records))
            outcomes = await asyncio.to_thread(self._put_external, arn, records)
            return self._settle(arn, records, outcomes)
        finally:
            self.busy = False

    def _settle(self, arn: str, records: list[Outgoing], outcomes: list[str | None]) -> bool:
        """Remove acknowledged and permanently rejected entries; count what happened.
        `outcomes[i]` is None (stored), an error code to retry, or "DROP"."""
        stats = self.destinations.stats_for(arn)
        done: dict[int, bool] = {}
        retry = False
        for (entry, _key, _data), outcome in zip(records, outcomes, strict=True):
            if outcome is None:
                stats.records += 1
                done[entry] = True
            elif outcome == "DROP":
                stats.failed_to_replicate += 1
                done.setdefault(entry, True)
            else:
                stats.throttled_puts += 1
                retry = True
                done[entry] = done.get(entry, False)
        # An entry leaves once one copy of it was stored (an injected duplicate that
        # failed while its twin was stored is not resent).
        finished = [entry for entry, ok in done.items() if ok]
        if finished:
            with self.destinations.engine.transaction():
                self.log.dequeue(finished)
        self.failures = self.failures + 1 if retry else 0
        return bool(finished)

    # -- targets --------------------------------------------------------------------------

    def _put_builtin(self, arn: str, records: list[Outgoing]) -> list[str | None]:
        """Into this emulator's own stream (inside the caller's transaction)."""
        service = self.destinations.service
        stream = service.by_arn.get(arn)
        if stream is None or stream.status not in (ACTIVE, UPDATING):
            return ["DROP"] * len(records)
        for _entry, key, data in records:
            service.put(stream, key, data, None)
        self.destinations.engine.after_commit(self.destinations.signals.notify, stream_topic(arn))
        return [None] * len(records)

    def _client(self, region: str) -> Any:
        client = self._clients.get(region)
        if client is None:
            import botocore.session
            from botocore.config import Config as BotoConfig

            session = botocore.session.get_session()
            credentials: dict[str, str] = {}
            if not os.environ.get("AWS_ACCESS_KEY_ID") and session.get_credentials() is None:
                credentials = {"aws_access_key_id": "test", "aws_secret_access_key": "test"}
            client = session.create_client(
                "kinesis",
                region_name=region,
                endpoint_url=self.destinations.external_endpoint,
                config=BotoConfig(retries={"max_attempts": 1}, connect_timeout=2, read_timeout=10),
                **credentials,
            )
            self._clients[region] = client
        return client

    def _put_external(self, arn: str, records: list[Outgoing]) -> list[str | None]:
        """PutRecords to the external endpoint (runs in a worker thread)."""
        from botocore.exceptions import BotoCoreError, ClientError

        parts = stream_name_of_arn(arn)
        if parts is None:
            return ["DROP"] * len(records)
        region, _account, name = parts
        try:
            answer = self._client(region).put_records(
                StreamName=name,
                StreamARN=arn,
                Records=[{"Data": data, "PartitionKey": key} for _entry, key, data in records],
            )
        except ClientError as error:
            code = str(error.response.get("Error", {}).get("Code", ""))
            status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
            retryable = (
                code in RETRYABLE
                or code in RETRYABLE_REQUEST
                or status >= 500
                or status == 429
                or "Throttl" in code
            )
            logger.warning("Kinesis PutRecords to %s failed: %s", arn, code)
            return [code if retryable else "DROP"] * len(records)
        except (BotoCoreError, OSError) as error:
            logger.warning("Kinesis endpoint unreachable for %s: %s", arn, error)
            return ["Unreachable"] * len(records)
        outcomes: list[str | None] = []
        for result in answer.get("Records", []):
            code = result.get("ErrorCode")
            outcomes.append(None if code is None else (code if code in RETRYABLE else "DROP"))
        if len(outcomes) != len(records):
            return ["InternalFailure"] * len(records)
        return outcomes
