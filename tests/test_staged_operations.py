"""Issue 12, defect 7: BatchWriteItem, TransactWriteItems and BatchGetItem work in stages
and let other requests run between them. Here every stage is as short as can be (a pause
after every step), with other clients writing meanwhile: results and stream records are
still exactly those of the requests, and a table deleted during a pause is handled."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import make_client, read_table_stream, serve_backend

from emulator.api import common
from emulator.config import Config
from emulator.runtime.backend import Backend


@pytest.fixture
def pausing(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setattr(common, "STAGE_SECONDS", -1.0)  # due at every check
    with serve_backend(Backend.create(Config())) as server:
        yield server


def create(ddb: Any, name: str) -> None:
    ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )


def test_staged_writes_interleave_correctly(pausing: Any) -> None:
    ddb = make_client(pausing.url)
    streams = make_client(pausing.url, "dynamodbstreams")
    create(ddb, "staged")
    errors: list[BaseException] = []

    def other_client() -> None:
        try:
            mine = make_client(pausing.url)
            for n in range(40):
                mine.put_item(TableName="staged", Item={"pk": {"S": f"other-{n}"}})
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    worker = threading.Thread(target=other_client)
    worker.start()
    for round_ in range(4):
        batch = [
            {"PutRequest": {"Item": {"pk": {"S": f"b{round_}-{i}"}, "v": {"N": str(i)}}}}
            for i in range(25)
        ]
        assert ddb.batch_write_item(RequestItems={"staged": batch})["UnprocessedItems"] == {}
        ddb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": "staged", "Item": {"pk": {"S": f"t{round_}-{i}"}}}}
                for i in range(20)
            ]
        )
    worker.join(60)
    assert not errors
    keys = [{"pk": {"S": f"b3-{i}"}} for i in range(25)] + [{"pk": {"S": "t0-0"}}]
    got = ddb.batch_get_item(RequestItems={"staged": {"Keys": keys}})
    assert len(got["Responses"]["staged"]) == 26
    records = read_table_stream(ddb, streams, "staged")
    written = [r["dynamodb"]["Keys"]["pk"]["S"] for r in records]
    assert sorted(written) == sorted(
        [f"other-{n}" for n in range(40)]
        + [f"b{r}-{i}" for r in range(4) for i in range(25)]
        + [f"t{r}-{i}" for r in range(4) for i in range(20)]
    )
    # A transaction's records are contiguous: nothing else committed inside it.
    for round_ in range(4):
        first = written.index(f"t{round_}-0")
        assert written[first : first + 20] == [f"t{round_}-{i}" for i in range(20)]


def test_a_table_deleted_during_a_pause(pausing: Any) -> None:
    """The batch was planned against a table another request then deleted: its writes
    come back as UnprocessedItems, nothing reaches the new table of that name."""
    ddb = make_client(pausing.url)
    create(ddb, "doomed")
    backend = pausing.backend
    original = common.StageClock.pause
    deleted: list[bool] = []

    def pause_and_delete(self: Any) -> Any:
        if not deleted:
            deleted.append(True)
            row = backend.engine.get_table("us-east-1", "doomed")
            with backend.engine.transaction():
                backend.engine.catalog.delete_table(row)
                backend.engine.items.forget_all()
        yield from original(self)

    common.StageClock.pause = pause_and_delete  # type: ignore[method-assign]
    try:
        batch = [{"PutRequest": {"Item": {"pk": {"S": f"k{i}"}}}} for i in range(3)]
        answer = ddb.batch_write_item(RequestItems={"doomed": batch})
    finally:
        common.StageClock.pause = original  # type: ignore[method-assign]
    assert answer["UnprocessedItems"] == {"doomed": batch}
