"""Streams over time (issue 5; SPEC 2.4-2.8): the controllable clock, iterator expiry,
24-hour retention and trimming, shard rollover and lineage, and stream expiry after
disabling, all through boto3. The manual-clock scenarios run on private servers (the
shared session server's clock is never moved); the real-clock ones use short flags."""

from __future__ import annotations

import itertools
import json
import math
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import botocore.exceptions
import pytest
from conftest import RunningServer, make_client, start_server

DAY = 86400
HOUR = 3600


def error_code(info: pytest.ExceptionInfo[botocore.exceptions.ClientError]) -> str:
    return str(info.value.response["Error"]["Code"])


def wait_for(predicate: Callable[[], Any], timeout: float = 5.0, what: str = "") -> Any:
    """Poll `predicate` until it returns something truthy (bounded)."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        time.sleep(0.02)


@dataclass
class Emu:
    """A private emulator plus clients and admin helpers."""

    url: str
    ddb: Any
    streams: Any

    @classmethod
    def at(cls, url: str) -> Emu:
        return cls(url, make_client(url), make_client(url, "dynamodbstreams"))

    # -- admin --------------------------------------------------------------------------

    def admin(self, path: str, body: Any = None, method: str = "POST") -> tuple[int, Any]:
        data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body))
        request = urllib.request.Request(
            self.url + path,
            data=data.encode() if isinstance(data, str) else data,
            method=method,
        )
        request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")

    def clock(self, body: Any = None) -> dict[str, Any]:
        status, answer = (
            self.admin("/_emulator/clock", method="GET")
            if body is None
            else self.admin("/_emulator/clock", body)
        )
        assert status == 200, answer
        return dict(answer)

    def now(self) -> float:
        return float(self.clock()["now"])

    def advance(self, seconds: float) -> float:
        return float(self.clock({"advance": seconds})["now"])

    def set(self, epoch: float) -> float:
        return float(self.clock({"set": epoch})["now"])

    def rollover(self, arn: str | None = None, split: bool = False) -> dict[str, Any]:
        body: dict[str, Any] = {}
        if arn is not None:
            body["StreamArn"] = arn
        if split:
            body["Split"] = True
        status, answer = self.admin("/_emulator/streams/rollover", body)
        assert status == 200, answer
        return dict(answer)

    def reset(self) -> None:
        assert self.admin("/_emulator/reset", {})[0] == 200

    # -- tables and streams -------------------------------------------------------------

    def create_table(self, name: str, view: str = "NEW_AND_OLD_IMAGES") -> str:
        self.ddb.create_table(
            TableName=name,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": view},
        )
        return self.latest_arn(name)

    def latest_arn(self, name: str) -> str:
        return str(self.ddb.describe_table(TableName=name)["Table"]["LatestStreamArn"])

    def put(self, table: str, key: str, value: int = 0) -> None:
        self.ddb.put_item(TableName=table, Item={"pk": {"S": key}, "v": {"N": str(value)}})

    def shards(self, arn: str, **kwargs: Any) -> list[dict[str, Any]]:
        described = self.streams.describe_stream(StreamArn=arn, **kwargs)
        return list(described["StreamDescription"]["Shards"])

    def describe(self, arn: str) -> dict[str, Any]:
        return dict(self.streams.describe_stream(StreamArn=arn)["StreamDescription"])

    def iterator(
        self, arn: str, shard_id: str, kind: str = "TRIM_HORIZON", sequence: str | None = None
    ) -> str:
        kwargs: dict[str, Any] = {"StreamArn": arn, "ShardId": shard_id, "ShardIteratorType": kind}
        if sequence is not None:
            kwargs["SequenceNumber"] = sequence
        return str(self.streams.get_shard_iterator(**kwargs)["ShardIterator"])

    def read(self, iterator: str | None, max_calls: int = 100) -> tuple[list[dict[str, Any]], bool]:
        """Follow an iterator until a page is empty; returns (records, shard ended)."""
        records: list[dict[str, Any]] = []
        for _ in range(max_calls):
            if iterator is None:
                return records, True
            page = self.streams.get_records(ShardIterator=iterator)
            records += page["Records"]
            iterator = page.get("NextShardIterator")
            if not page["Records"]:
                return records, iterator is None
        raise AssertionError("shard kept returning records")

    def read_shard(self, arn: str, shard_id: str) -> list[dict[str, Any]]:
        return self.read(self.iterator(arn, shard_id))[0]

    def list_arns(self, table: str | None = None) -> list[str]:
        kwargs = {} if table is None else {"TableName": table}
        return [s["StreamArn"] for s in self.streams.list_streams(**kwargs)["Streams"]]


def sequence(record: dict[str, Any]) -> str:
    return str(record["dynamodb"]["SequenceNumber"])


def key_of(record: dict[str, Any]) -> str:
    return str(record["dynamodb"]["Keys"]["pk"]["S"])


def is_closed(shard: dict[str, Any]) -> bool:
    return "EndingSequenceNumber" in shard["SequenceNumberRange"]


def start_many(*arg_lists: tuple[str, ...]) -> list[RunningServer]:
    """Start several private servers at once (each takes about a second to boot)."""
    with ThreadPoolExecutor(len(arg_lists)) as pool:
        return list(pool.map(lambda args: start_server(*args), arg_lists))


@pytest.fixture(scope="module")
def manual_servers() -> Iterator[dict[str, RunningServer]]:
    default, sharded = start_many((), ("--stream-shards", "4"))
    try:
        yield {"default": default, "sharded": sharded}
    finally:
        default.stop()
        sharded.stop()


def _fresh(server: RunningServer) -> Emu:
    emu = Emu.at(server.url)
    emu.reset()
    # Manual mode on a whole second, so ages and cut-offs are exact in the assertions.
    emu.set(math.floor(emu.now()) + 1)
    return emu


@pytest.fixture
def emu(manual_servers: dict[str, RunningServer]) -> Emu:
    """The default-flag server, reset, its clock manual and standing on a whole second."""
    return _fresh(manual_servers["default"])


@pytest.fixture
def sharded(manual_servers: dict[str, RunningServer]) -> Emu:
    """Like `emu`, on a server started with --stream-shards 4."""
    return _fresh(manual_servers["sharded"])


# ------------------------------------------------------------------------------- the clock


def test_clock_get_set_advance_real() -> None:
    running = start_server()
    try:
        emu = Emu.at(running.url)
        before = time.time()
        state = emu.clock()
        assert state["mode"] == "real"
        assert before - 1 < state["now"] < time.time() + 1

        advanced = emu.clock({"advance": 10})
        assert advanced["mode"] == "manual"
        assert before + 10 - 1 < advanced["now"] < time.time() + 11
        time.sleep(0.05)
        assert emu.clock() == advanced  # manual time stands still

        target = math.floor(advanced["now"]) + 1000
        assert emu.clock({"set": target}) == {"now": target, "mode": "manual"}
        assert emu.set(target) == target  # setting the same time is not going backwards

        # Never backwards: 400, and the clock is unchanged.
        for bad in ({"set": target - 1}, {"advance": -1}):
            status, answer = emu.admin("/_emulator/clock", bad)
            assert status == 400, (bad, answer)
            assert "backwards" in answer["error"]
        for garbage in (
            {},
            {"mode": "sideways"},
            [1],
            {"set": "soon"},
            {"advance": True},
            b"{not json",
            b'{"advance": NaN}',
            b'{"advance": Infinity}',
            b'{"set": 1e999}',
        ):
            status, answer = emu.admin("/_emulator/clock", garbage)
            assert status == 400, (garbage, answer)
        assert emu.clock() == {"now": target, "mode": "manual"}

        # Records and stream labels take their time from the clock.
        table = "clocked"
        arn = emu.create_table(table)
        assert arn.endswith(
            "/stream/" + time.strftime("%Y-%m-%dT%H:%M:%S.000", time.gmtime(target))
        )
        emu.put(table, "k")
        [shard] = emu.shards(arn)
        [record] = emu.read_shard(arn, shard["ShardId"])
        assert record["dynamodb"]["ApproximateCreationDateTime"].timestamp() == target

        # Back to real time: it moves again, and keeps the lead manual time had.
        real = emu.clock({"mode": "real"})
        assert real["mode"] == "real"
        assert real["now"] >= target
        time.sleep(0.05)
        later = emu.now()
        assert later > real["now"]
        assert later - time.time() > 1000 - 5  # the ~1010 s lead is kept as an offset
        status, _ = emu.admin("/_emulator/clock", {"set": target})
        assert status == 400  # real time already passed `target`
        frozen = emu.clock({"mode": "manual"})
        assert frozen["mode"] == "manual" and frozen["now"] >= later
    finally:
        running.stop()


# ------------------------------------------------------------------------- iterator expiry


def test_iterator_expires_at_15_minutes_and_not_before(emu: Emu) -> None:
    arn = emu.create_table("expiry")
    emu.put("expiry", "a")
    [shard] = emu.shards(arn)
    first = emu.iterator(arn, shard["ShardId"])

    emu.advance(900 - 0.01)
    page = emu.streams.get_records(ShardIterator=first)
    assert [key_of(r) for r in page["Records"]] == ["a"]
    fresh = page["NextShardIterator"]  # issued now, 899.99 s after `first`

    emu.advance(0.02)  # `first` is now 900.01 s old
    with pytest.raises(botocore.exceptions.ClientError) as info:
        emu.streams.get_records(ShardIterator=first)
    assert error_code(info) == "ExpiredIteratorException"
    assert "maximum age" in info.value.response["Error"]["Message"]

    # The NextShardIterator has its own age: 0.02 s, then 899.99 s, then too old.
    emu.put("expiry", "b")
    page = emu.streams.get_records(ShardIterator=fresh)
    assert [key_of(r) for r in page["Records"]] == ["b"]
    emu.advance(899.97)
    assert emu.streams.get_records(ShardIterator=fresh)["Records"] == [
        page["Records"][0]
    ]  # stateless: the same iterator reads the same position again
    emu.advance(0.02)
    with pytest.raises(botocore.exceptions.ClientError) as info:
        emu.streams.get_records(ShardIterator=fresh)
    assert error_code(info) == "ExpiredIteratorException"

    # A new iterator after the last record read recovers (what consumers do).
    recovered = emu.iterator(
        arn, shard["ShardId"], "AFTER_SEQUENCE_NUMBER", sequence(page["Records"][0])
    )
    assert emu.streams.get_records(ShardIterator=recovered)["Records"] == []


def test_custom_iterator_ttl() -> None:
    running = start_server("--iterator-ttl-seconds", "60")
    try:
        emu = Emu.at(running.url)
        emu.set(math.floor(emu.now()) + 1)
        arn = emu.create_table("ttl")
        [shard] = emu.shards(arn)
        iterator = emu.iterator(arn, shard["ShardId"], "LATEST")
        emu.advance(59.99)
        emu.streams.get_records(ShardIterator=iterator)
        emu.advance(0.02)
        with pytest.raises(botocore.exceptions.ClientError) as info:
            emu.streams.get_records(ShardIterator=iterator)
        assert error_code(info) == "ExpiredIteratorException"
    finally:
        running.stop()


# ------------------------------------------------------------------------------- retention


def test_record_trimmed_after_24_hours_and_not_before(emu: Emu) -> None:
    t0 = emu.now()
    arn = emu.create_table("trim")
    emu.put("trim", "a")  # at t0
    emu.advance(HOUR)
    emu.put("trim", "b")  # at t0 + 1 h
    [root] = emu.shards(arn)
    root_id = root["ShardId"]
    a, b = emu.read_shard(arn, root_id)
    assert (key_of(a), key_of(b)) == ("a", "b")

    emu.set(t0 + DAY)  # exactly 24 h: not yet
    assert [key_of(r) for r in emu.read_shard(arn, root_id)] == ["a", "b"]
    at_a = emu.iterator(arn, root_id, "AT_SEQUENCE_NUMBER", sequence(a))
    assert key_of(emu.streams.get_records(ShardIterator=at_a)["Records"][0]) == "a"

    emu.set(t0 + DAY + 0.5)  # a is older than 24 h: trimmed before the answer
    for kind in ("AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER"):
        with pytest.raises(botocore.exceptions.ClientError) as info:
            emu.iterator(arn, root_id, kind, sequence(a))
        assert error_code(info) == "TrimmedDataAccessException", kind
        assert "trimmed" in info.value.response["Error"]["Message"]
    # TRIM_HORIZON starts at the oldest untrimmed record; b itself is still there.
    assert [key_of(r) for r in emu.read_shard(arn, root_id)] == ["b"]
    at_b = emu.iterator(arn, root_id, "AT_SEQUENCE_NUMBER", sequence(b))
    assert [key_of(r) for r in emu.streams.get_records(ShardIterator=at_b)["Records"]] == ["b"]
    # The root shard closed at t0 + 4 h (rollover) but still holds b, so it is listed.
    shards = emu.shards(arn)
    assert shards[0]["ShardId"] == root_id and is_closed(shards[0])
    assert shards[0]["SequenceNumberRange"]["EndingSequenceNumber"] == sequence(b)

    emu.set(t0 + HOUR + DAY + 0.5)  # b trimmed too
    with pytest.raises(botocore.exceptions.ClientError) as info:
        emu.iterator(arn, root_id, "AT_SEQUENCE_NUMBER", sequence(b))
    assert error_code(info) == "TrimmedDataAccessException"
    records, ended = emu.read(emu.iterator(arn, root_id))
    assert records == [] and ended  # nothing left, and the closed shard ends

    # Closed shards whose records are all trimmed leave DescribeStream (24 h after
    # closing, when every record they could hold is past retention).
    assert root_id in [s["ShardId"] for s in emu.shards(arn)]
    emu.set(t0 + 4 * HOUR + DAY + 0.5)
    shards = emu.shards(arn)
    assert root_id not in [s["ShardId"] for s in shards]
    assert shards and shards[0]["ParentShardId"] == root_id  # the child stays, orphaned
    with pytest.raises(botocore.exceptions.ClientError) as info:
        emu.iterator(arn, root_id)
    assert error_code(info) == "ResourceNotFoundException"


def test_get_records_trimmed_versus_expired(emu: Emu) -> None:
    """An iterator taken shortly before its data is trimmed -> TrimmedDataAccessException;
    one that is also older than 15 minutes -> ExpiredIteratorException (the iterator is
    judged first: an expired iterator is refused whatever it points at)."""
    t0 = emu.now()
    arn = emu.create_table("trimread", view="KEYS_ONLY")
    emu.put("trimread", "a")
    emu.advance(2 * HOUR)
    emu.put("trimread", "b")
    [root] = emu.shards(arn)
    root_id = root["ShardId"]
    a, b = emu.read_shard(arn, root_id)

    emu.set(t0 + DAY - 1000)
    old = emu.iterator(arn, root_id, "AT_SEQUENCE_NUMBER", sequence(a))
    emu.set(t0 + DAY - 60)
    at_a = emu.iterator(arn, root_id, "AT_SEQUENCE_NUMBER", sequence(a))
    horizon = emu.iterator(arn, root_id, "TRIM_HORIZON")
    at_b = emu.iterator(arn, root_id, "AT_SEQUENCE_NUMBER", sequence(b))
    emu.set(t0 + DAY + 60)  # a trimmed; the three fresh iterators are 120 s old

    for iterator in (at_a, horizon):
        with pytest.raises(botocore.exceptions.ClientError) as info:
            emu.streams.get_records(ShardIterator=iterator)
        assert error_code(info) == "TrimmedDataAccessException"
    with pytest.raises(botocore.exceptions.ClientError) as info:
        emu.streams.get_records(ShardIterator=old)
    assert error_code(info) == "ExpiredIteratorException"
    # An iterator past the trimmed part still reads.
    assert [key_of(r) for r in emu.streams.get_records(ShardIterator=at_b)["Records"]] == ["b"]


def test_open_shard_trims_without_rollover() -> None:
    """With rollover off the one open shard is trimmed in place; disabling it afterwards
    gives an EndingSequenceNumber inside the shard's range (its last record ever)."""
    running = start_server("--shard-rollover-seconds", "0")
    try:
        emu = Emu.at(running.url)
        t0 = emu.set(math.floor(emu.now()) + 1)
        arn = emu.create_table("notroll", view="KEYS_ONLY")
        for i in range(3):
            emu.put("notroll", f"k{i}")
        [shard] = emu.shards(arn)
        records = emu.read_shard(arn, shard["ShardId"])
        emu.set(t0 + 10 * DAY)
        [same] = emu.shards(arn)
        assert same == shard and not is_closed(same)  # never rolled
        horizon = emu.iterator(arn, shard["ShardId"])
        assert emu.streams.get_records(ShardIterator=horizon)["Records"] == []
        emu.put("notroll", "later")
        assert [key_of(r) for r in emu.read_shard(arn, shard["ShardId"])] == ["later"]

        emu.set(t0 + 20 * DAY)  # "later" trimmed too; the shard is empty
        emu.ddb.update_table(TableName="notroll", StreamSpecification={"StreamEnabled": False})
        [closed] = emu.shards(arn)
        ending = int(closed["SequenceNumberRange"]["EndingSequenceNumber"])
        assert ending >= int(records[-1]["dynamodb"]["SequenceNumber"])
        with pytest.raises(botocore.exceptions.ClientError) as info:
            emu.iterator(arn, shard["ShardId"], "AT_SEQUENCE_NUMBER", str(ending))
        assert error_code(info) == "TrimmedDataAccessException"
    finally:
        running.stop()


# ------------------------------------------------------------------------ rollover, lineage


def test_timed_rollover_every_4_hours_and_lineage(emu: Emu) -> None:
    arn = emu.create_table("roll", view="KEYS_ONLY")
    emu.put("roll", "first")
    emu.advance(4 * HOUR - 1)
    [root] = emu.shards(arn)
    assert not is_closed(root) and "ParentShardId" not in root

    emu.advance(1)  # exactly 4 hours
    parent, child = emu.shards(arn)
    assert parent["ShardId"] == root["ShardId"] and is_closed(parent)
    [first] = emu.read_shard(arn, root["ShardId"])
    assert parent["SequenceNumberRange"]["EndingSequenceNumber"] == sequence(first)
    assert child["ParentShardId"] == root["ShardId"] and not is_closed(child)
    assert int(child["SequenceNumberRange"]["StartingSequenceNumber"]) > int(sequence(first))

    # A reader at the end of the closed shard gets no NextShardIterator.
    page = emu.streams.get_records(
        ShardIterator=emu.iterator(arn, root["ShardId"], "AFTER_SEQUENCE_NUMBER", sequence(first))
    )
    assert page["Records"] == [] and "NextShardIterator" not in page
    latest = emu.streams.get_records(ShardIterator=emu.iterator(arn, root["ShardId"], "LATEST"))
    assert latest["Records"] == [] and "NextShardIterator" not in latest

    emu.put("roll", "second")  # goes to the open child
    assert [key_of(r) for r in emu.read_shard(arn, child["ShardId"])] == ["second"]

    # Three more intervals in one jump: three more generations, as real time would give.
    emu.advance(3 * 4 * HOUR)
    shards = emu.shards(arn)
    ids = [s["ShardId"] for s in shards]
    assert len(shards) == 5 and ids == sorted(ids)
    assert [s.get("ParentShardId") for s in shards] == [None, *ids[:-1]]
    assert [is_closed(s) for s in shards] == [True, True, True, True, False]
    stamps = [int(i[8:28]) for i in ids]
    assert [b - a for a, b in itertools.pairwise(stamps)] == [4 * HOUR * 1000] * 4
    for older, newer in itertools.pairwise(shards):
        end = int(older["SequenceNumberRange"]["EndingSequenceNumber"])
        start = int(older["SequenceNumberRange"]["StartingSequenceNumber"])
        assert start <= end < int(newer["SequenceNumberRange"]["StartingSequenceNumber"])
        children = emu.shards(
            arn, ShardFilter={"Type": "CHILD_SHARDS", "ShardId": older["ShardId"]}
        )
        assert children == [newer]
    assert emu.shards(arn, ShardFilter={"Type": "CHILD_SHARDS", "ShardId": ids[-1]}) == []


def test_rollover_never_with_zero_and_custom_interval() -> None:
    never, hourly = start_many(
        ("--shard-rollover-seconds", "0"), ("--shard-rollover-seconds", "3600")
    )
    try:
        emu = Emu.at(never.url)
        arn = emu.create_table("never")
        emu.advance(30 * DAY)
        assert len(emu.shards(arn)) == 1
        emu = Emu.at(hourly.url)
        arn = emu.create_table("hourly")
        emu.advance(HOUR - 0.5)
        assert len(emu.shards(arn)) == 1
        emu.advance(2 * HOUR)
        assert len(emu.shards(arn)) == 3
    finally:
        never.stop()
        hourly.stop()


def test_admin_rollover_with_and_without_split(emu: Emu) -> None:
    arn = emu.create_table("admin1", view="KEYS_ONLY")
    other = emu.create_table("admin2", view="KEYS_ONLY")
    [root] = emu.shards(arn)
    emu.put("admin1", "x")

    answer = emu.rollover(arn)
    assert answer["ClosedShardIds"] == [root["ShardId"]]
    [child_id] = answer["NewShardIds"]
    parent, child = emu.shards(arn)
    assert is_closed(parent) and child["ShardId"] == child_id
    assert child["ParentShardId"] == root["ShardId"]
    assert len(emu.shards(other)) == 1  # only the stream named

    split = emu.rollover(arn, split=True)
    assert split["ClosedShardIds"] == [child_id]
    assert len(split["NewShardIds"]) == 2 and split["NewShardIds"] == sorted(split["NewShardIds"])
    kids = emu.shards(arn, ShardFilter={"Type": "CHILD_SHARDS", "ShardId": child_id})
    assert [k["ShardId"] for k in kids] == split["NewShardIds"]
    assert all(k["ParentShardId"] == child_id and not is_closed(k) for k in kids)
    ids = [s["ShardId"] for s in emu.shards(arn)]
    assert ids == sorted(ids) and len(ids) == 4

    # A second split doubles again: two children per open parent.
    again = emu.rollover(arn, split=True)
    assert again["ClosedShardIds"] == split["NewShardIds"] and len(again["NewShardIds"]) == 4

    # Without StreamArn: every enabled stream rolls, disabled ones do not.
    emu.create_table("admin3", view="KEYS_ONLY")
    emu.ddb.update_table(TableName="admin3", StreamSpecification={"StreamEnabled": False})
    disabled = emu.latest_arn("admin3")
    everything = emu.rollover()
    assert len(everything["ClosedShardIds"]) == 4 + 1
    assert len(everything["NewShardIds"]) == 4 + 1
    assert len(emu.shards(disabled)) == 1

    # Errors: unknown stream 404, disabled stream 400, a body that is not an object 400.
    missing = arn.rsplit("/", 1)[0] + "/2000-01-01T00:00:00.000"
    status, body = emu.admin("/_emulator/streams/rollover", {"StreamArn": missing})
    assert status == 404 and "error" in body
    status, body = emu.admin("/_emulator/streams/rollover", {"StreamArn": disabled})
    assert status == 400 and "error" in body
    for garbage in ([arn], b"{oops", "just a string"):
        status, body = emu.admin("/_emulator/streams/rollover", garbage)
        assert status == 400, garbage
    status, body = emu.admin("/_emulator/streams/rollover", b"")
    assert status == 200 and len(body["ClosedShardIds"]) == 5


def test_four_shards_keep_each_item_in_one_shard(sharded: Emu) -> None:
    emu = sharded
    arn = emu.create_table("four", view="NEW_IMAGE")
    assert len(emu.shards(arn)) == 4
    keys = [f"item-{i}" for i in range(40)]
    for version in range(3):
        for key in keys:
            emu.put("four", key, version)

    def shard_of_keys() -> dict[str, set[str]]:
        placement: dict[str, set[str]] = {}
        for shard in emu.shards(arn):
            for record in emu.read_shard(arn, shard["ShardId"]):
                placement.setdefault(key_of(record), set()).add(shard["ShardId"])
        return placement

    placement = shard_of_keys()
    assert set(placement) == set(keys)
    assert all(len(where) == 1 for where in placement.values())
    assert len({next(iter(where)) for where in placement.values()}) > 1  # spread out
    for shard in emu.shards(arn):
        versions: dict[str, list[int]] = {}
        for record in emu.read_shard(arn, shard["ShardId"]):
            versions.setdefault(key_of(record), []).append(
                int(record["dynamodb"]["NewImage"]["v"]["N"])
            )
        assert all(v == [0, 1, 2] for v in versions.values())

    # After a rollover (four children) and a split (eight), an item's records go to a
    # descendant of the shard that held its earlier records: lineage keeps per-item order.
    first = {key: next(iter(where)) for key, where in placement.items()}
    emu.rollover(arn)
    emu.rollover(arn, split=True)
    for key in keys:
        emu.put("four", key, 3)
    shards = {s["ShardId"]: s for s in emu.shards(arn)}
    assert len(shards) == 4 + 4 + 8

    def ancestors(shard_id: str) -> list[str]:
        chain = []
        while shard_id in shards:
            chain.append(shard_id)
            shard_id = shards[shard_id].get("ParentShardId", "")
        return chain

    for shard_id, shard in shards.items():
        if is_closed(shard):
            continue
        for record in emu.read_shard(arn, shard_id):
            assert first[key_of(record)] in ancestors(shard_id), key_of(record)


# ----------------------------------------------------------------- disabling and deleting


def test_disable_reenable_old_stream_readable_for_24_hours(emu: Emu) -> None:
    t0 = emu.now()
    old = emu.create_table("cycle", view="KEYS_ONLY")
    emu.put("cycle", "before")
    emu.ddb.update_table(TableName="cycle", StreamSpecification={"StreamEnabled": False})
    described = emu.describe(old)
    assert described["StreamStatus"] == "DISABLED"
    assert described["Shards"] and all(is_closed(s) for s in described["Shards"])

    emu.advance(60)
    emu.ddb.update_table(
        TableName="cycle",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"},
    )
    new = emu.latest_arn("cycle")
    assert new != old
    assert sorted(emu.list_arns("cycle")) == sorted([old, new])
    emu.put("cycle", "after")
    [new_shard] = emu.shards(new)
    assert [key_of(r) for r in emu.read_shard(new, new_shard["ShardId"])] == ["after"]

    # The old stream stays listed, DISABLED and readable (to its end) until 24 h pass.
    emu.set(t0 + DAY - 1)
    assert sorted(emu.list_arns("cycle")) == sorted([old, new])
    [old_shard] = emu.shards(old)
    records, ended = emu.read(emu.iterator(old, old_shard["ShardId"]))
    assert [key_of(r) for r in records] == ["before"] and ended
    assert emu.describe(old)["StreamStatus"] == "DISABLED"
    assert emu.describe(new)["StreamStatus"] == "ENABLED"

    emu.set(t0 + DAY + 1)
    assert emu.list_arns("cycle") == [new]
    assert emu.list_arns() == [new]
    with pytest.raises(botocore.exceptions.ClientError) as info:
        emu.streams.describe_stream(StreamArn=old)
    assert error_code(info) == "ResourceNotFoundException"
    with pytest.raises(botocore.exceptions.ClientError) as info:
        emu.iterator(old, old_shard["ShardId"])
    assert error_code(info) == "ResourceNotFoundException"
    assert emu.describe(new)["StreamStatus"] == "ENABLED"


def test_stream_of_deleted_table_goes_after_24_hours(emu: Emu) -> None:
    t0 = emu.now()
    arn = emu.create_table("gone", view="KEYS_ONLY")
    emu.put("gone", "k")
    emu.ddb.delete_table(TableName="gone")
    assert emu.list_arns("gone") == [arn]
    described = emu.describe(arn)
    assert described["StreamStatus"] == "DISABLED"
    assert all(is_closed(s) for s in described["Shards"])
    [shard] = described["Shards"]

    # A table of the same name gets its own stream; both are listed.
    emu.advance(10)
    second = emu.create_table("gone", view="KEYS_ONLY")
    assert sorted(emu.list_arns("gone")) == sorted([arn, second])

    emu.set(t0 + DAY - 1)
    assert [key_of(r) for r in emu.read_shard(arn, shard["ShardId"])] == ["k"]
    emu.set(t0 + DAY + 1)
    assert emu.list_arns("gone") == [second]
    with pytest.raises(botocore.exceptions.ClientError) as info:
        emu.streams.describe_stream(StreamArn=arn)
    assert error_code(info) == "ResourceNotFoundException"


# ------------------------------------------------------------------- with the real clock


@pytest.fixture(scope="module")
def real_servers() -> Iterator[dict[str, RunningServer]]:
    ttl, retention, rollover = start_many(
        ("--iterator-ttl-seconds", str(REAL_ITERATOR_TTL)),
        ("--stream-retention-seconds", "0.5", "--shard-rollover-seconds", "0"),
        ("--shard-rollover-seconds", "0.3"),
    )
    try:
        yield {"ttl": ttl, "retention": retention, "rollover": rollover}
    finally:
        for running in (ttl, retention, rollover):
            running.stop()


REAL_ITERATOR_TTL = 1.0


def test_real_clock_iterator_expiry(real_servers: dict[str, RunningServer]) -> None:
    """Iterators expire their TTL after they were issued, on the real clock.

    Robust on a slow or busy machine (issue 12, item 10): nothing here depends on how
    long a call takes. The server issues the iterator after `before`, so it may only
    call it expired in an answer that arrives after `before + TTL`; and a use that got
    no expiry error is checked only when it was quick enough to be sure of.
    """
    emu = Emu.at(real_servers["ttl"].url)
    assert emu.clock()["mode"] == "real"
    arn = emu.create_table("realttl", view="KEYS_ONLY")
    [shard] = emu.shards(arn)
    shard_id = shard["ShardId"]
    before = time.time()
    first = emu.iterator(arn, shard_id, "LATEST")
    emu.put("realttl", "a")
    try:
        page = emu.streams.get_records(ShardIterator=first)
    except botocore.exceptions.ClientError as error:
        assert error_code_of(error) == "ExpiredIteratorException"
        assert time.time() > before + REAL_ITERATOR_TTL  # only a slow call may see it
    else:
        assert [key_of(r) for r in page["Records"]] == ["a"]

    def expired() -> bool:
        try:
            emu.streams.get_records(ShardIterator=first)
        except botocore.exceptions.ClientError as error:
            assert error_code_of(error) == "ExpiredIteratorException"
            answered = time.time()
            assert answered > before + REAL_ITERATOR_TTL, "expired before its TTL"
            return True
        return False

    wait_for(expired, timeout=30 * REAL_ITERATOR_TTL, what="the iterator to expire")

    # Expiry is the iterator's age, not the position's: a new one there reads again.
    [record] = emu.read_shard(arn, shard_id)
    again = time.time()
    fresh = emu.iterator(arn, shard_id, "AT_SEQUENCE_NUMBER", sequence(record))
    try:
        page = emu.streams.get_records(ShardIterator=fresh)
    except botocore.exceptions.ClientError as error:
        assert error_code_of(error) == "ExpiredIteratorException"
        assert time.time() > again + REAL_ITERATOR_TTL
    else:
        assert [key_of(r) for r in page["Records"]] == ["a"]


def error_code_of(error: botocore.exceptions.ClientError) -> str:
    return str(error.response["Error"]["Code"])


def test_real_clock_trimming_and_stream_expiry(real_servers: dict[str, RunningServer]) -> None:
    emu = Emu.at(real_servers["retention"].url)
    arn = emu.create_table("realtrim", view="KEYS_ONLY")
    [shard] = emu.shards(arn)
    shard_id = shard["ShardId"]
    emu.put("realtrim", "a")
    [a] = emu.read_shard(arn, shard_id)
    held = emu.iterator(arn, shard_id, "AT_SEQUENCE_NUMBER", sequence(a))

    def trimmed() -> bool:
        try:
            emu.iterator(arn, shard_id, "AT_SEQUENCE_NUMBER", sequence(a))
        except botocore.exceptions.ClientError as error:
            assert error.response["Error"]["Code"] == "TrimmedDataAccessException"
            return True
        return False

    wait_for(trimmed, what="record a trimmed")
    with pytest.raises(botocore.exceptions.ClientError) as info:
        emu.streams.get_records(ShardIterator=held)
    assert error_code(info) == "TrimmedDataAccessException"
    assert emu.read_shard(arn, shard_id) == []

    emu.ddb.update_table(TableName="realtrim", StreamSpecification={"StreamEnabled": False})
    assert emu.describe(arn)["StreamStatus"] == "DISABLED"
    wait_for(lambda: arn not in emu.list_arns("realtrim"), what="disabled stream gone")
    with pytest.raises(botocore.exceptions.ClientError) as info:
        emu.streams.describe_stream(StreamArn=arn)
    assert error_code(info) == "ResourceNotFoundException"


def test_real_clock_rollover(real_servers: dict[str, RunningServer]) -> None:
    emu = Emu.at(real_servers["rollover"].url)
    arn = emu.create_table("realroll", view="KEYS_ONLY")
    shards = wait_for(lambda: [s for s in [emu.shards(arn)] if len(s) >= 3], what="rollovers")[0]
    ids = [s["ShardId"] for s in shards]
    assert ids == sorted(ids)
    assert [s.get("ParentShardId") for s in shards] == [None, *ids[:-1]]
    assert all(is_closed(s) for s in shards[:-1]) and not is_closed(shards[-1])
