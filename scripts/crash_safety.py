"""Crash safety with --data-dir: SIGKILL the emulator during sustained mixed writes, again
and again, then check that nothing acknowledged was lost and nothing was recorded twice.

Each round starts `python -m emulator --data-dir DIR` (shard rollover every second,
TTL sweeps five times a second), lets writer threads hammer it over raw HTTP with
PutItem, UpdateItem, DeleteItem, BatchWriteItem, TransactWriteItems (with a
ClientRequestToken), expiring TTL items and admin shard rollovers, and kills the
process with SIGKILL at a random moment. After each restart the writers settle what
their requests in flight at the kill did: a single write or a batch's writes by reading
the items; a transaction by reading its items (all or none must be there) and then
replaying it with its token, which must not apply it twice. At the end every change the
emulator acknowledged (or was found to have made) must be in the table's stream exactly
once, in order, and the table must hold exactly the last of them:

- every write carries a unique id (`w`), so a stream record names the write it records;
- per item, the records (all shards, in sequence-number order) must be exactly the
  INSERT / MODIFY / REMOVE sequence the writes imply, with the right old images;
- TTL items (written already expired) must each have one INSERT and, after a final
  sweep, one TTL REMOVE (userIdentity dynamodb.amazonaws.com).

    .venv/bin/python scripts/crash_safety.py --kills 100          # the long version
    .venv/bin/python scripts/crash_safety.py --minutes 10         # as many kills as fit
    .venv/bin/python scripts/crash_safety.py --kills 5 --json     # CI (tests/test_crash_safety.py)

Exit status 0 only when nothing was lost, duplicated, reordered or half-applied.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TABLE = "crash"
DDB = "DynamoDB_20120810."
STREAMS = "DynamoDBStreams_20120810."
WRITERS = 4
KEYS_PER_WRITER = 12
TTL_IDENTITY = {"Type": "Service", "PrincipalId": "dynamodb.amazonaws.com"}
#: How long after UpdateTimeToLive the emulator starts deleting expired items (a margin
#: over its 5 s, `TTL_TRANSITION_SECONDS`).
TTL_EXPIRY_DELAY = 5.5


class ServerGone(Exception):
    """The emulator stopped answering (it was killed)."""


class Client:
    """Raw HTTP to the emulator: no retries, so every answer is one attempt's."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.connection: http.client.HTTPConnection | None = None

    def call(self, operation: str, body: dict[str, Any], prefix: str = DDB) -> tuple[int, Any]:
        data = json.dumps(body).encode()
        headers = {"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": prefix + operation}
        try:
            if self.connection is None:
                self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            self.connection.request("POST", "/", data, headers)
            response = self.connection.getresponse()
            payload = response.read()
        except (OSError, http.client.HTTPException) as error:
            self.close()
            raise ServerGone() from error
        return response.status, json.loads(payload) if payload else None

    def ok(self, operation: str, body: dict[str, Any], prefix: str = DDB) -> Any:
        status, answer = self.call(operation, body, prefix)
        if status != 200:
            raise AssertionError(f"{operation}: {status} {answer}")
        return answer

    def admin(self, path: str, body: dict[str, Any] | None = None) -> Any:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            connection.request(
                "POST" if body is not None else "GET",
                path,
                json.dumps(body).encode() if body is not None else None,
                {"Content-Type": "application/json"},
            )
            response = connection.getresponse()
            return json.loads(response.read())
        except (OSError, http.client.HTTPException) as error:
            raise ServerGone() from error
        finally:
            connection.close()

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


# -- what the writers know -------------------------------------------------------------


@dataclass
class KeyState:
    """One item as its writer knows it: present or not, and the id of its last write."""

    present: bool = False
    w: str | None = None
    #: The stream records its applied changes must have produced, in order:
    #: (event name, new image's w, old image's w).
    expected: list[tuple[str, str | None, str | None]] = field(default_factory=list)

    def apply_write(self, w: str) -> None:
        self.expected.append(("MODIFY" if self.present else "INSERT", w, self.w))
        self.present, self.w = True, w

    def apply_delete(self) -> None:
        if self.present:
            self.expected.append(("REMOVE", None, self.w))
        self.present, self.w = False, None


@dataclass
class Pending:
    """A request in flight when the emulator died: what it would have done."""

    kind: str  # "single" | "batch" | "transaction" | "ttl"
    changes: list[tuple[str, str | None]]  # (key, new w or None for a delete)
    request: dict[str, Any] | None = None  # a transaction, replayed with its token


@dataclass
class Tally:
    acknowledged: int = 0
    settled_applied: int = 0
    settled_not_applied: int = 0
    replays: int = 0
    half_applied: int = 0
    operations: dict[str, int] = field(default_factory=lambda: defaultdict(int))


class Writer:
    def __init__(self, number: int, rng: random.Random, tally: Tally) -> None:
        self.number = number
        self.rng = rng
        self.tally = tally
        self.keys = {f"w{number}-k{i}": KeyState() for i in range(KEYS_PER_WRITER)}
        self.ttl_keys: dict[str, tuple[str, bool]] = {}  # key -> (w, acknowledged)
        self.counter = 0
        self.pending: Pending | None = None
        self.lock = threading.Lock()

    def next_w(self) -> str:
        self.counter += 1
        return f"{self.number}.{self.counter}"

    # -- one operation ---------------------------------------------------------------

    def step(self, client: Client) -> None:
        choice = self.rng.random()
        if choice < 0.25:
            self.put(client)
        elif choice < 0.45:
            self.update(client)
        elif choice < 0.55:
            self.delete(client)
        elif choice < 0.72:
            self.batch(client)
        elif choice < 0.9:
            self.transaction(client)
        elif choice < 0.97:
            self.ttl_put(client)
        else:
            client.admin("/_emulator/streams/rollover", {})
            self.tally.operations["rollover"] += 1

    def _send(self, client: Client, pending: Pending, operation: str, body: dict[str, Any]) -> Any:
        self.pending = pending
        answer = client.ok(operation, body)  # raises ServerGone: stays pending
        self.pending = None
        self.tally.acknowledged += 1
        self.tally.operations[operation] += 1
        return answer

    def put(self, client: Client) -> None:
        key = self.rng.choice(list(self.keys))
        w = self.next_w()
        item = {"pk": {"S": key}, "w": {"S": w}, "pad": {"S": "x" * self.rng.randrange(200)}}
        self._send(
            client, Pending("single", [(key, w)]), "PutItem", {"TableName": TABLE, "Item": item}
        )
        self.keys[key].apply_write(w)

    def update(self, client: Client) -> None:
        key = self.rng.choice(list(self.keys))
        w = self.next_w()
        body = {
            "TableName": TABLE,
            "Key": {"pk": {"S": key}},
            "UpdateExpression": "SET w = :w ADD n :one",
            "ExpressionAttributeValues": {":w": {"S": w}, ":one": {"N": "1"}},
        }
        self._send(client, Pending("single", [(key, w)]), "UpdateItem", body)
        self.keys[key].apply_write(w)

    def delete(self, client: Client) -> None:
        key = self.rng.choice(list(self.keys))
        body = {"TableName": TABLE, "Key": {"pk": {"S": key}}}
        self._send(client, Pending("single", [(key, None)]), "DeleteItem", body)
        self.keys[key].apply_delete()

    def _distinct_keys(self, most: int) -> list[str]:
        return self.rng.sample(list(self.keys), self.rng.randint(2, most))

    def batch(self, client: Client) -> None:
        changes: list[tuple[str, str | None]] = []
        requests = []
        for key in self._distinct_keys(10):
            if self.rng.random() < 0.25:
                changes.append((key, None))
                requests.append({"DeleteRequest": {"Key": {"pk": {"S": key}}}})
            else:
                w = self.next_w()
                changes.append((key, w))
                requests.append({"PutRequest": {"Item": {"pk": {"S": key}, "w": {"S": w}}}})
        answer = self._send(
            client, Pending("batch", changes), "BatchWriteItem", {"RequestItems": {TABLE: requests}}
        )
        if answer["UnprocessedItems"]:
            raise AssertionError(f"unprocessed items: {answer}")
        for key, w in changes:
            self.keys[key].apply_write(w) if w is not None else self.keys[key].apply_delete()

    def transaction(self, client: Client) -> None:
        changes: list[tuple[str, str | None]] = []
        items = []
        for key in self._distinct_keys(6):
            roll = self.rng.random()
            if roll < 0.2:
                changes.append((key, None))
                items.append({"Delete": {"TableName": TABLE, "Key": {"pk": {"S": key}}}})
            elif roll < 0.6:
                w = self.next_w()
                changes.append((key, w))
                items.append(
                    {"Put": {"TableName": TABLE, "Item": {"pk": {"S": key}, "w": {"S": w}}}}
                )
            else:
                w = self.next_w()
                changes.append((key, w))
                items.append(
                    {
                        "Update": {
                            "TableName": TABLE,
                            "Key": {"pk": {"S": key}},
                            "UpdateExpression": "SET w = :w",
                            "ExpressionAttributeValues": {":w": {"S": w}},
                        }
                    }
                )
        request = {"TransactItems": items, "ClientRequestToken": "tx-" + self.next_w()}
        self._send(client, Pending("transaction", changes, request), "TransactWriteItems", request)
        for key, w in changes:
            self.keys[key].apply_write(w) if w is not None else self.keys[key].apply_delete()

    def ttl_put(self, client: Client) -> None:
        w = self.next_w()
        key = f"ttl-{w}"
        item = {"pk": {"S": key}, "w": {"S": w}, "ttl": {"N": str(int(time.time()) - 10)}}
        self.ttl_keys[key] = (w, False)
        self._send(
            client, Pending("ttl", [(key, w)]), "PutItem", {"TableName": TABLE, "Item": item}
        )
        self.ttl_keys[key] = (w, True)

    # -- after a restart -----------------------------------------------------------------

    def settle(self, client: Client) -> None:
        """Decide what the request in flight at the kill did."""
        pending, self.pending = self.pending, None
        if pending is None or pending.kind == "ttl":
            return  # a TTL put left pending is checked against the stream (0 or 1)
        found = {}
        for key, _ in pending.changes:
            item = client.ok(
                "GetItem", {"TableName": TABLE, "Key": {"pk": {"S": key}}, "ConsistentRead": True}
            ).get("Item")
            found[key] = None if item is None else item["w"]["S"]
        applied = []
        for key, w in pending.changes:
            state = self.keys[key]
            if w is not None:
                applied.append(found[key] == w)
            else:
                applied.append((found[key] is None and state.present) or not state.present)
        if pending.kind == "transaction":
            assert pending.request is not None
            # Changes that leave a key as it was cannot tell; the others must agree.
            telling = [
                a
                for (key, w), a in zip(pending.changes, applied, strict=True)
                if w is not None or self.keys[key].present
            ]
            if telling and any(telling) and not all(telling):
                self.tally.half_applied += 1
            client.ok("TransactWriteItems", pending.request)  # the replay, with its token
            self.tally.replays += 1
            after = {}
            for key, _ in pending.changes:
                item = client.ok(
                    "GetItem",
                    {"TableName": TABLE, "Key": {"pk": {"S": key}}, "ConsistentRead": True},
                ).get("Item")
                after[key] = None if item is None else item["w"]["S"]
            for key, w in pending.changes:
                if after[key] != w:
                    raise AssertionError(f"replayed transaction not applied to {key}: {after[key]}")
                self.keys[key].apply_write(w) if w is not None else self.keys[key].apply_delete()
            self.tally.settled_applied += 1
            return
        for (key, w), was_applied in zip(pending.changes, applied, strict=True):
            if was_applied:
                self.keys[key].apply_write(w) if w is not None else self.keys[key].apply_delete()
                self.tally.settled_applied += 1
            else:
                self.tally.settled_not_applied += 1

    def run(self, client: Client, stop: threading.Event) -> None:
        try:
            while not stop.is_set():
                self.step(client)
        except ServerGone:
            pass
        finally:
            client.close()


# -- the emulator process ----------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "emulator",
            "--port",
            str(port),
            "--data-dir",
            str(data_dir),
            "--log-level",
            "error",
            "--shard-rollover-seconds",
            "1",
            "--ttl-sweep-seconds",
            "0.2",
        ],
        cwd=ROOT,
        env={**os.environ},
    )
    deadline = time.monotonic() + 30
    probe = Client(port)
    while True:
        try:
            probe.ok("ListTables", {})
            probe.close()
            return process
        except ServerGone:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError("the emulator did not start") from None
            time.sleep(0.02)


# -- the check ---------------------------------------------------------------------------


def read_stream(client: Client) -> list[dict[str, Any]]:
    arn = client.ok("DescribeTable", {"TableName": TABLE})["Table"]["LatestStreamArn"]
    shards = []
    start_shard = None
    while True:
        body: dict[str, Any] = {"StreamArn": arn}
        if start_shard:
            body["ExclusiveStartShardId"] = start_shard
        description = client.ok("DescribeStream", body, STREAMS)["StreamDescription"]
        shards += description["Shards"]
        start_shard = description.get("LastEvaluatedShardId")
        if not start_shard:
            break
    records = []
    for shard in shards:
        iterator = client.ok(
            "GetShardIterator",
            {"StreamArn": arn, "ShardId": shard["ShardId"], "ShardIteratorType": "TRIM_HORIZON"},
            STREAMS,
        )["ShardIterator"]
        while iterator:
            page = client.ok("GetRecords", {"ShardIterator": iterator}, STREAMS)
            records += page["Records"]
            if not page["Records"]:
                break
            iterator = page.get("NextShardIterator")
    return records


def image_w(record: dict[str, Any], image: str) -> str | None:
    found = record["dynamodb"].get(image)
    return None if found is None else found["w"]["S"]


def check(client: Client, writers: list[Writer]) -> dict[str, int]:
    client.admin("/_emulator/ttl/sweep", {})
    records = read_stream(client)
    by_key: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in records:
        by_key[record["dynamodb"]["Keys"]["pk"]["S"]].append(record)
    for found in by_key.values():
        found.sort(key=lambda r: int(r["dynamodb"]["SequenceNumber"]))
    result = {
        "records": len(records),
        "lost": 0,
        "duplicated": 0,
        "out_of_order": 0,
        "unexpected": 0,
        "wrong_items": 0,
    }
    for writer in writers:
        for key, state in writer.keys.items():
            actual = [
                (r["eventName"], image_w(r, "NewImage"), image_w(r, "OldImage"))
                for r in by_key.pop(key, [])
            ]
            expected = state.expected
            compare(expected, actual, result)
            item = client.ok(
                "GetItem", {"TableName": TABLE, "Key": {"pk": {"S": key}}, "ConsistentRead": True}
            ).get("Item")
            if (None if item is None else item["w"]["S"]) != state.w:
                result["wrong_items"] += 1
        for key, (w, acknowledged) in writer.ttl_keys.items():
            found = by_key.pop(key, [])
            inserts = [
                r for r in found if r["eventName"] == "INSERT" and image_w(r, "NewImage") == w
            ]
            removes = [
                r
                for r in found
                if r["eventName"] == "REMOVE" and r.get("userIdentity") == TTL_IDENTITY
            ]
            if len(inserts) + len(removes) != len(found):
                result["unexpected"] += len(found) - len(inserts) - len(removes)
            if acknowledged and not inserts:
                result["lost"] += 1
                if os.environ.get("CRASH_DEBUG"):
                    print("lost ttl insert", key, found)
            result["duplicated"] += max(0, len(inserts) - 1) + max(0, len(removes) - 1)
            if inserts and not removes:
                result["lost"] += 1  # swept at the end: every TTL item is gone
                if os.environ.get("CRASH_DEBUG"):
                    print("lost ttl remove", key, found)
            if removes and not inserts:
                result["unexpected"] += 1
            if (
                inserts
                and removes
                and int(inserts[0]["dynamodb"]["SequenceNumber"])
                > int(removes[0]["dynamodb"]["SequenceNumber"])
            ):
                result["out_of_order"] += 1
    result["unexpected"] += sum(len(found) for found in by_key.values())
    return result


def compare(
    expected: list[tuple[str, str | None, str | None]],
    actual: list[tuple[str, str | None, str | None]],
    result: dict[str, int],
) -> None:
    if actual == expected:
        return
    remaining = list(actual)
    for change in expected:
        if change in remaining:
            remaining.remove(change)
        else:
            result["lost"] += 1
            if os.environ.get("CRASH_DEBUG"):
                print("lost", change, "expected", expected[-6:], "actual", actual[-6:])
    for change in remaining:
        if change in expected:
            result["duplicated"] += 1
        else:
            result["unexpected"] += 1
    if sorted(actual) == sorted(expected) and actual != expected:
        result["out_of_order"] += 1


# -- the run -----------------------------------------------------------------------------


def run(
    kills: int, minutes: float | None, seed: int, data_dir: Path, quick: bool
) -> dict[str, Any]:
    rng = random.Random(seed)
    tally = Tally()
    writers = [Writer(n, random.Random(rng.random()), tally) for n in range(WRITERS)]
    port = free_port()
    started = time.monotonic()
    done = 0
    first = True
    ttl_enabled_at = time.monotonic()
    while True:
        if minutes is not None:
            if time.monotonic() - started > minutes * 60:
                break
        elif done >= kills:
            break
        process = start(data_dir, port)
        try:
            client = Client(port)
            if first:
                client.ok(
                    "CreateTable",
                    {
                        "TableName": TABLE,
                        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                        "BillingMode": "PAY_PER_REQUEST",
                        "StreamSpecification": {
                            "StreamEnabled": True,
                            "StreamViewType": "NEW_AND_OLD_IMAGES",
                        },
                    },
                )
                client.ok(
                    "UpdateTimeToLive",
                    {
                        "TableName": TABLE,
                        "TimeToLiveSpecification": {"Enabled": True, "AttributeName": "ttl"},
                    },
                )
                # AWS reports ENABLED at once but deletes expired items only after a
                # while (the emulator: 5 s); the final sweep waits for that.
                ttl_enabled_at = time.monotonic()
                first = False
            for writer in writers:
                writer.settle(client)
            client.close()
            stop = threading.Event()
            threads = [
                threading.Thread(target=w.run, args=(Client(port), stop), daemon=True)
                for w in writers
            ]
            for thread in threads:
                thread.start()
            time.sleep(rng.uniform(0.3, 1.2) if quick else rng.uniform(0.5, 4.0))
            process.send_signal(signal.SIGKILL)
            process.wait()
            stop.set()
            for thread in threads:
                thread.join(60)
        except BaseException:
            process.kill()  # never leave an emulator behind
            process.wait()
            raise
        done += 1
    process = start(data_dir, port)
    client = Client(port)
    try:
        for writer in writers:
            writer.settle(client)
        time.sleep(max(0.0, ttl_enabled_at + TTL_EXPIRY_DELAY - time.monotonic()))
        result = check(client, writers)
    finally:
        client.close()
        process.terminate()
        process.wait(30)
    return {
        "kills": done,
        "seconds": round(time.monotonic() - started, 1),
        "acknowledged_requests": tally.acknowledged,
        "in_flight_applied": tally.settled_applied,
        "in_flight_not_applied": tally.settled_not_applied,
        "transactions_replayed": tally.replays,
        "half_applied_transactions": tally.half_applied,
        "operations": dict(tally.operations),
        **result,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=100)
    parser.add_argument("--minutes", type=float, default=None, help="kill for this long instead")
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--quick", action="store_true", help="short rounds (CI)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--data-dir", type=Path, default=None, help="kept afterwards if given")
    args = parser.parse_args()
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="crash-safety-"))
    try:
        report = run(args.kills, args.minutes, args.seed, data_dir, args.quick)
    finally:
        if args.data_dir is None:
            shutil.rmtree(data_dir, ignore_errors=True)
    if args.json:
        print(json.dumps(report))
    else:
        for name, value in report.items():
            print(f"{name:28} {value}")
    bad = sum(
        report[name] for name in ("lost", "duplicated", "out_of_order", "unexpected", "wrong_items")
    )
    raise SystemExit(1 if bad or report["half_applied_transactions"] else 0)


if __name__ == "__main__":
    main()
