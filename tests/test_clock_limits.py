"""Issue 12, defect 3: the admin clock.

- A move past 9999-12-31T23:59:59Z (`{"advance": 1e308}`, `{"set": <year 10000>}`) is
  refused with 400 and changes nothing; stream operations go on working.
- `POST /_emulator/reset` returns the clock to real time (the fixtures promise isolation).
- With `--data-dir` a manual clock survives a restart, and so does real time's lead.
"""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import RunningServer, make_client, read_table_stream, start_server

YEAR_10000 = 253402300800  # 10000-01-01T00:00:00Z


def admin(url: str, path: str, body: Any = None) -> tuple[int, Any]:
    request = urllib.request.Request(
        url + path, data=None if body is None else json.dumps(body).encode(), method="POST"
    )
    if body is None:
        request.method = "GET"
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def clock(url: str) -> dict[str, Any]:
    status, answer = admin(url, "/_emulator/clock")
    assert status == 200
    return dict(answer)


@pytest.fixture
def private() -> Iterator[RunningServer]:
    running = start_server()
    try:
        yield running
    finally:
        running.stop()


def make_stream_table(url: str, name: str) -> Any:
    ddb = make_client(url)
    ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"},
    )
    return ddb


def test_the_clock_does_not_go_past_year_9999(private: RunningServer) -> None:
    url = private.url
    before = clock(url)
    for bad in (
        {"advance": 1e308},
        {"advance": YEAR_10000},
        {"set": YEAR_10000},
        {"set": 1e300},
    ):
        status, answer = admin(url, "/_emulator/clock", bad)
        assert status == 400, (bad, answer)
        assert answer == {"error": "the clock cannot go past 9999-12-31T23:59:59Z"}
    after = clock(url)
    assert after["mode"] == before["mode"] == "real"

    # The last representable second is fine, and streams keep working there.
    status, answer = admin(url, "/_emulator/clock", {"set": YEAR_10000 - 3600})
    assert (status, answer) == (200, {"now": YEAR_10000 - 3600, "mode": "manual"})
    ddb = make_stream_table(url, "late")
    ddb.put_item(TableName="late", Item={"pk": {"S": "a"}})
    streams = make_client(url, "dynamodbstreams")
    [record] = read_table_stream(ddb, streams, "late")
    assert record["dynamodb"]["ApproximateCreationDateTime"].year == 9999
    status, _ = admin(url, "/_emulator/clock", {"advance": 3600})
    assert status == 400  # 10000-01-01T00:00:00Z is one second too far
    assert admin(url, "/_emulator/clock", {"advance": 3599})[0] == 200
    ddb.put_item(TableName="late", Item={"pk": {"S": "b"}})
    assert len(read_table_stream(ddb, streams, "late")) == 2
    assert streams.list_streams()["Streams"]


def test_reset_returns_the_clock_to_real_time(private: RunningServer) -> None:
    url = private.url
    ten_days = 10 * 86400
    assert admin(url, "/_emulator/clock", {"advance": ten_days})[0] == 200
    assert admin(url, "/_emulator/reset", {}) == (200, {"reset": True})
    after = clock(url)
    assert after["mode"] == "real"
    assert after["now"] < time.time() + ten_days / 2  # the lead is gone too

    # Also a clock that went back to real time keeping a lead.
    admin(url, "/_emulator/clock", {"advance": ten_days})
    admin(url, "/_emulator/clock", {"mode": "real"})
    assert clock(url)["now"] > time.time() + ten_days / 2
    admin(url, "/_emulator/reset", {})
    assert clock(url)["now"] < time.time() + ten_days / 2


def test_the_clock_survives_a_restart_with_a_data_dir(tmp_path: Path) -> None:
    first = start_server("--data-dir", str(tmp_path))
    try:
        status, manual = admin(first.url, "/_emulator/clock", {"advance": 3600})
        assert status == 200
    finally:
        first.stop()
    second = start_server("--data-dir", str(tmp_path))
    try:
        assert clock(second.url) == manual
        lead = 86400
        admin(second.url, "/_emulator/clock", {"advance": lead})
        status, real = admin(second.url, "/_emulator/clock", {"mode": "real"})
        assert status == 200 and real["mode"] == "real"
    finally:
        second.stop()
    third = start_server("--data-dir", str(tmp_path))
    try:
        resumed = clock(third.url)
        assert resumed["mode"] == "real"
        assert resumed["now"] >= real["now"]  # real time kept its lead: never backwards
    finally:
        third.stop()
