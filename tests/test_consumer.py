"""The reference consumer (emulator/consumer.py) against the emulator's stream lifecycle:
lineage order across rollovers and splits, checkpoints, and recovery from expired
iterators and trimmed data; with the manual clock and with the real one."""

from __future__ import annotations

import math
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from conftest import RunningServer
from test_streams_time import DAY, HOUR, Emu, key_of, sequence, start_many, wait_for

from emulator.consumer import StreamReader

Event = tuple[str, int | None]


@dataclass
class Writer:
    """Writes to one table and remembers, in order, the records the stream must carry."""

    emu: Emu
    table: str
    log: list[tuple[str, Event]] = field(default_factory=list)
    _versions: dict[str, int] = field(default_factory=dict)
    _rng: random.Random = field(default_factory=lambda: random.Random(7))

    def put(self, key: str) -> None:
        version = self._versions.get(key, -1) + 1
        event = "MODIFY" if key in self._versions else "INSERT"
        self.emu.put(self.table, key, version)
        self._versions[key] = version
        self.log.append((key, (event, version)))

    def delete(self, key: str) -> None:
        self.emu.ddb.delete_item(TableName=self.table, Key={"pk": {"S": key}})
        if key in self._versions:
            del self._versions[key]
            self.log.append((key, ("REMOVE", None)))

    def burst(self, count: int, keys: int = 25) -> None:
        """`count` random writes over `keys` items (mostly puts, some deletes)."""
        for _ in range(count):
            key = f"item-{self._rng.randrange(keys):03d}"
            if self._rng.random() < 0.15:
                self.delete(key)
            else:
                self.put(key)

    def mark(self) -> int:
        return len(self.log)

    def expected(self, since: int = 0) -> dict[str, list[Event]]:
        """Per item, the records written since `mark()` returned `since`, in order."""
        per_item: dict[str, list[Event]] = {}
        for key, event in self.log[since:]:
            per_item.setdefault(key, []).append(event)
        return per_item


def event_of(record: dict[str, Any]) -> Event:
    image = record["dynamodb"].get("NewImage")
    return record["eventName"], None if image is None else int(image["v"]["N"])


def assert_exactly_once_in_order(
    records: list[dict[str, Any]], writer: Writer, since: int = 0
) -> None:
    """Every record written since the mark `since`, each once, and per item in order."""
    ids = [r["eventID"] for r in records]
    assert len(ids) == len(set(ids)), "a record was delivered twice"
    numbers = [sequence(r) for r in records]
    assert len(numbers) == len(set(numbers)), "a sequence number was delivered twice"
    seen: dict[str, list[Event]] = {}
    for record in records:
        seen.setdefault(key_of(record), []).append(event_of(record))
    assert seen == writer.expected(since)
    assert len(records) == len(writer.log) - since


@pytest.fixture(scope="module")
def servers() -> Iterator[dict[str, RunningServer]]:
    default, three, real = start_many(
        (),
        ("--stream-shards", "3"),
        ("--iterator-ttl-seconds", "0.5", "--shard-rollover-seconds", "0.4"),
    )
    try:
        yield {"default": default, "three": three, "real": real}
    finally:
        for running in (default, three, real):
            running.stop()


def _manual(server: RunningServer) -> Emu:
    emu = Emu.at(server.url)
    emu.reset()
    emu.set(math.floor(emu.now()) + 1)
    return emu


@pytest.fixture
def emu(servers: dict[str, RunningServer]) -> Emu:
    return _manual(servers["default"])


@pytest.mark.parametrize("server_name", ["default", "three"])
def test_lineage_after_rollovers_and_splits_exactly_once(
    servers: dict[str, RunningServer], server_name: str
) -> None:
    emu = _manual(servers[server_name])
    arn = emu.create_table("lineage")
    writer = Writer(emu, "lineage")
    # A small Limit: parents take several polls to drain, while their children fill up.
    reader = StreamReader(emu.streams, arn, limit=7)
    collected: list[dict[str, Any]] = []

    steps = [
        lambda: emu.advance(4 * HOUR),  # timed rollover
        lambda: emu.rollover(arn),  # admin rollover, one child each
        lambda: emu.rollover(arn, split=True),
        lambda: emu.advance(4 * HOUR),  # timed rollover of every split child
        lambda: emu.rollover(arn, split=True),
    ]
    for number, step in enumerate(steps):
        writer.burst(60)
        if number % 2:
            collected += reader.poll()  # part-way through, between changes of shards
        step()
    writer.burst(60)
    collected += reader.drain()

    assert_exactly_once_in_order(collected, writer)
    assert reader.trimmed == 0  # (timed rollovers age held iterators: expiries are fine)
    shards = emu.shards(arn)
    assert len(shards) == len(reader.shards)
    closed = {s["ShardId"] for s in shards if "EndingSequenceNumber" in s["SequenceNumberRange"]}
    assert {p.shard_id for p in reader.shards.values() if p.finished} == closed
    # Nothing more to read, and more writes are picked up by the same reader.
    assert reader.drain() == []
    writer.burst(20)
    collected += reader.drain()
    assert_exactly_once_in_order(collected, writer)


def test_reader_recovers_from_expired_iterator(emu: Emu) -> None:
    arn = emu.create_table("expired")
    writer = Writer(emu, "expired")
    writer.burst(40, keys=8)
    reader = StreamReader(emu.streams, arn, limit=5)
    collected = reader.poll()
    assert len(collected) == 5

    emu.advance(901)  # the reader's held iterator is now too old
    writer.burst(10, keys=8)
    collected += reader.drain()
    assert reader.expired == 1 and reader.trimmed == 0
    assert_exactly_once_in_order(collected, writer)  # resumed AFTER its checkpoint


def test_reader_recovers_from_trimmed_get_records(emu: Emu) -> None:
    """The held iterator is fresh (taken a minute before) but its position was trimmed."""
    t0 = emu.now()
    arn = emu.create_table("trimmedread")
    writer = Writer(emu, "trimmedread")
    writer.burst(30, keys=6)  # at t0: will be trimmed
    emu.advance(2 * HOUR)
    mark = writer.mark()
    writer.burst(20, keys=6)  # at t0 + 2 h: survives

    emu.set(t0 + DAY - 60)
    reader = StreamReader(emu.streams, arn, limit=4)
    assert len(reader.poll()) == 4
    emu.set(t0 + DAY + 60)
    rest = reader.drain()
    assert reader.trimmed == 1 and reader.expired == 0
    # Restarted at TRIM_HORIZON: exactly the untrimmed records, once each, in order.
    assert_exactly_once_in_order(rest, writer, since=mark)


def test_reader_recovers_when_its_checkpoint_was_trimmed(emu: Emu) -> None:
    """Fallen a day behind: the iterator expired, and AFTER_SEQUENCE_NUMBER of the
    checkpoint is refused as trimmed; the reader restarts the shard at TRIM_HORIZON."""
    t0 = emu.now()
    arn = emu.create_table("lagging")
    writer = Writer(emu, "lagging")
    writer.burst(20, keys=5)
    reader = StreamReader(emu.streams, arn, limit=3)
    assert len(reader.poll()) == 3
    emu.set(t0 + 3 * HOUR)
    mark = writer.mark()
    writer.burst(15, keys=5)  # still in the root shard (rollover at t0 + 4 h)
    emu.set(t0 + DAY + 1)

    rest = reader.drain()
    assert reader.expired == 1 and reader.trimmed == 1
    assert_exactly_once_in_order(rest, writer, since=mark)


def test_reader_survives_a_parent_shard_that_disappeared(emu: Emu) -> None:
    """A reader that knew a shard, then fell so far behind that the shard (closed, all
    records trimmed) left DescribeStream, goes on with the shard's descendants."""
    t0 = emu.now()
    arn = emu.create_table("orphans")
    writer = Writer(emu, "orphans")
    writer.burst(10, keys=5)
    reader = StreamReader(emu.streams, arn, limit=3)
    reader.poll()
    emu.set(t0 + 20 * HOUR)
    mark = writer.mark()
    writer.burst(20, keys=5)  # in the shard opened at t0 + 20 h (after 5 rollovers)
    emu.set(t0 + 4 * HOUR + DAY + 1)  # the root closed at t0 + 4 h: gone now
    [root] = [p for p in reader.shards.values() if p.parent_shard_id is None]
    assert root.shard_id not in [s["ShardId"] for s in emu.shards(arn)]

    rest = reader.drain()
    assert reader.trimmed == 1
    assert_exactly_once_in_order(rest, writer, since=mark)


def test_reader_starting_at_latest(emu: Emu) -> None:
    """Only changes after the start: shards already closed then (history) are skipped,
    the open ones start at LATEST, their children at TRIM_HORIZON."""
    arn = emu.create_table("latest")
    writer = Writer(emu, "latest")
    writer.burst(10)
    emu.advance(4 * HOUR)  # a rollover: a closed parent with history, an open child
    writer.burst(10)
    reader = StreamReader(emu.streams, arn, start="LATEST")
    assert reader.poll() == []
    mark = writer.mark()
    writer.burst(10)
    emu.rollover(arn, split=True)
    writer.burst(10)
    assert_exactly_once_in_order(reader.drain(), writer, since=mark)
    assert reader.trimmed == 0 and reader.expired == 0


# ------------------------------------------------------------------- with the real clock


def test_real_clock_consumer_through_rollovers_and_expiry(
    servers: dict[str, RunningServer],
) -> None:
    """Shards roll every 0.4 s and iterators live 0.5 s: a reader that keeps pausing
    still reads every record exactly once and in order."""
    emu = Emu.at(servers["real"].url)
    assert emu.clock()["mode"] == "real"
    arn = emu.create_table("realreader")
    writer = Writer(emu, "realreader")
    reader = StreamReader(emu.streams, arn, limit=10)
    collected: list[dict[str, Any]] = []
    started = time.monotonic()
    while time.monotonic() - started < 1.5:
        writer.burst(15)
        collected += reader.poll()
    wait_for(lambda: len(emu.shards(arn)) >= 3, what="rollovers")
    time.sleep(0.6)  # every held iterator expires
    collected += reader.drain()
    assert reader.expired >= 1
    assert len(emu.shards(arn)) >= 3
    assert_exactly_once_in_order(collected, writer)
