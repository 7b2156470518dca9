"""The console's server-sent event streams, fed from the consumer seam.

A page that follows a stream reads the stream's log the way an in-process consumer does
(`DynamoStreamSource`, the log a trigger's poller reads) and sleeps on the same commit
signal, so it costs the writers nothing while it waits. When records come it reads them
in pages, at most every `COALESCE_SECONDS`, and sends the stored wire bytes as they are
(no decoding unless a key filter asks for it): thousands of records a second become ten
events a second. A page that falls more than a page behind skips ahead to the newest
records and is told how many it skipped. Positions live only in the generator: a
console is not a consumer whose checkpoints anything else sees.

Every generator ends when its client disconnects (Starlette cancels it) or when
`close()` is called at shutdown.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import orjson

from emulator.runtime.backend import Backend
from emulator.streams.reader import DynamoStreamSource
from emulator.streams.records import encode_sequence_number

#: The topic `close()` notifies: every console stream wakes up and ends.
CONSOLE_TOPIC = ("console",)
#: The shortest time between two reads of a busy stream.
COALESCE_SECONDS = 0.1
#: Records read per shard per round; further behind than this, the page skips ahead.
PAGE_RECORDS = 1000
#: Records a page opened with Start=RECENT sees from before it opened, per shard.
RECENT_RECORDS = 100
#: How long an idle stream sleeps before it looks at the shards again (a rollover does
#: not signal the stream's topic).
IDLE_SECONDS = 1.0
#: The shortest time between two `counts` events (records kept per shard).
COUNTS_SECONDS = 1.0
#: A table is counted at most every this many times as long as counting it took.
COUNT_COST_FACTOR = 200
#: A comment line this often keeps proxies from closing an idle event stream.
HEARTBEAT_SECONDS = 15.0


def event(name: str, data: bytes | Any) -> bytes:
    """One server-sent event; `data` is JSON (orjson never writes a newline)."""
    payload = data if isinstance(data, bytes) else orjson.dumps(data)
    return b"event: " + name.encode() + b"\ndata: " + payload + b"\n\n"


def shard_summary(backend: Backend, stream_id: int) -> list[dict[str, Any]]:
    """Each shard of a DynamoDB stream: lineage, open or closed, range, records kept."""
    log = backend.engine.stream_log
    shards = []
    for shard in backend.streams.shards(stream_id):
        shards.append(
            {
                "ShardId": shard.shard_id,
                "ParentShardId": shard.parent_shard_id,
                "Open": shard.ending_sequence is None,
                "StartingSequenceNumber": encode_sequence_number(shard.starting_sequence),
                "EndingSequenceNumber": None
                if shard.ending_sequence is None
                else encode_sequence_number(shard.ending_sequence),
                "Created": shard.created,
                "Closed": shard.closed,
                "Records": log.count_from(shard.shard_pk, 0),
                "TrimmedThrough": None
                if shard.trimmed_sequence is None
                else encode_sequence_number(shard.trimmed_sequence),
            }
        )
    return shards


def _key_matches(record: bytes, key: str) -> bool:
    """Whether one of the record's key attributes contains `key` (as text)."""
    keys = orjson.loads(record).get("dynamodb", {}).get("Keys", {})
    return any(key in str(value) for typed in keys.values() for value in typed.values())


class LiveStreams:
    """The open event streams of one backend."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.closing = False
        #: How many event streams are open now (for tests and the status line).
        self.open = 0
        #: table id -> (item count, when it may be counted again).
        self._counts: dict[int, tuple[int, float]] = {}

    def close(self) -> None:
        """End every open event stream (the server is shutting down)."""
        self.closing = True
        self.backend.signals.notify(CONSOLE_TOPIC)

    async def follow_stream(
        self, stream_id: int, start: str, event_name: str | None, key: str | None
    ) -> AsyncIterator[bytes]:
        backend = self.backend
        source = DynamoStreamSource(backend.engine, backend.streams, stream_id)
        log = backend.engine.stream_log
        wanted = None if event_name is None else b'"eventName":"' + event_name.encode() + b'"'
        cursors: dict[int, int] = {}
        known: tuple[Any, ...] | None = None
        #: Records kept per shard: counted in the log up to `counted_tip`, then as they
        #: are read; and as last sent.
        counts: dict[str, int] = {}
        counted: dict[str, int] = {}
        counted_at = 0.0
        counted_tip = 0
        recount = False
        first_round = True
        self.open += 1
        try:
            yield b"retry: 2000\n\n"
            sent = time.monotonic()
            while not self.closing:
                if backend.streams.stream(stream_id) is None:
                    yield event("gone", {})
                    return
                shards = source.shards()
                signature = tuple(
                    (s.shard_id, s.ending_sequence, s.trimmed_sequence) for s in shards
                )
                if signature != known:
                    known = signature
                    counted_tip = source.tip()
                    summary = shard_summary(backend, stream_id)
                    counts = {shard["ShardId"]: shard["Records"] for shard in summary}
                    counted = dict(counts)
                    yield event("shards", summary)
                elif counts != counted and time.monotonic() - counted_at > COUNTS_SECONDS:
                    if recount:
                        # Records the page skipped were not counted as read: count the log.
                        recount, counted_tip = False, source.tip()
                        summary = shard_summary(backend, stream_id)
                        counts = {shard["ShardId"]: shard["Records"] for shard in summary}
                    counted, counted_at = dict(counts), time.monotonic()
                    yield event("counts", counts)
                found: list[tuple[int, bytes]] = []
                read_any = False
                skipped = 0
                tip = source.tip()
                for shard in shards:
                    pk = shard.shard_pk
                    if pk not in cursors:
                        if not first_round or start == "TRIM_HORIZON":
                            cursors[pk] = shard.starting_sequence
                        else:
                            cursors[pk] = tip + 1
                            if start == "RECENT":
                                found += [(q, r) for q, _, r in log.read_last(pk, RECENT_RECORDS)]
                    rows = source.read_timed(pk, cursors[pk], PAGE_RECORDS)
                    if len(rows) == PAGE_RECORDS and source.has_records_from(pk, rows[-1][0] + 1):
                        # Writers outran the page: show the newest records instead.
                        newest = log.read_last(pk, PAGE_RECORDS)
                        skipped += source.count_from(pk, cursors[pk]) - len(newest)
                        recount = True
                        rows = newest
                    if rows:
                        fresh = sum(1 for sequence, _, _ in rows if sequence > counted_tip)
                        counts[shard.shard_id] = counts.get(shard.shard_id, 0) + fresh
                        read_any = True
                        cursors[pk] = rows[-1][0] + 1
                        found += [(q, r) for q, _, r in rows]
                first_round = False
                # Sequence numbers come from one counter: sorted, the shards' records are
                # in commit order.
                records = [record for _, record in sorted(found)]
                if wanted is not None:
                    records = [r for r in records if wanted in r]
                if key is not None:
                    records = [r for r in records if _key_matches(r, key)]
                if skipped:
                    yield event("skipped", {"Records": skipped})
                if records:
                    yield b"event: records\ndata: [" + b",".join(records) + b"]\n\n"
                    sent = time.monotonic()
                if read_any:
                    await asyncio.sleep(COALESCE_SECONDS)
                    continue
                if time.monotonic() - sent > HEARTBEAT_SECONDS:
                    yield b": idle\n\n"
                    sent = time.monotonic()
                await backend.signals.wait([source.topic, CONSOLE_TOPIC], IDLE_SECONDS)
        finally:
            self.open -= 1

    def _item_count(self, table_id: int) -> int:
        """A table's item count, counted again only when it is due: counting reads the
        whole table, so a table that takes t seconds to count is counted at most every
        `COUNT_COST_FACTOR` × t seconds (a big table costs the writers under 1%)."""
        now = time.monotonic()
        known = self._counts.get(table_id)
        if known is not None and now < known[1]:
            return known[0]
        count = self.backend.engine.items.usage(table_id)[0]
        cost = time.monotonic() - now
        self._counts[table_id] = (count, now + cost * COUNT_COST_FACTOR)
        return count

    def status(self) -> dict[str, Any]:
        """What the status event carries."""
        backend = self.backend
        # Real time is shown by the page's own clock, moved by the emulator's lead (a
        # manual clock put back to real time keeps its lead): no event every second.
        clock = backend.clock.state()
        if clock["mode"] != "real":
            clock = {"mode": clock["mode"], "now": backend.clock.now()}
        return {
            "Clock": clock,
            "Tables": {
                f"{row.region}/{row.name}": self._item_count(row.table_id)
                for row in backend.engine.catalog.all_tables()
            },
            "Triggers": backend.triggers.status(),
            "Replication": backend.replication.status(),
        }

    async def follow_status(self) -> AsyncIterator[bytes]:
        last = b""
        self.open += 1
        try:
            yield b"retry: 2000\n\n"
            sent = time.monotonic()
            while not self.closing:
                current = orjson.dumps(self.status())
                if current != last:
                    last = current
                    yield event("status", current)
                    sent = time.monotonic()
                elif time.monotonic() - sent > HEARTBEAT_SECONDS:
                    yield b": idle\n\n"
                    sent = time.monotonic()
                await self.backend.signals.wait([CONSOLE_TOPIC, ("clock",)], IDLE_SECONDS)
        finally:
            self.open -= 1
