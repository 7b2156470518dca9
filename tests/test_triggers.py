"""Stream triggers with Lambda's event-source-mapping semantics (issue 14; the numbers
are SPEC-STREAM-APPS 10's acceptance checks). Mappings are made with boto3's `lambda`
client against a real server; the functions are in-process callables registered on the
server's target registry, so each test sees exactly what Lambda would hand its handler.
Time-based checks use the test clock."""

from __future__ import annotations

import base64
import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from conftest import InProcessServer, make_client, serve_backend

from emulator.config import Config
from emulator.runtime.backend import Backend

REGION = "us-east-1"
ACCOUNT = "000000000000"


@dataclass
class Function:
    """An in-process handler that records each event it gets."""

    behaviour: Callable[[dict[str, Any]], Any] = lambda event: None
    events: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        with self.lock:
            self.events.append(event)
        return self.behaviour(event)

    def batches(self) -> list[list[str]]:
        """The `pk` of each record, per invocation."""
        return [
            [record["dynamodb"]["Keys"]["pk"]["S"] for record in event["Records"]]
            for event in self.events
        ]


@dataclass
class Triggers:
    server: InProcessServer
    ddb: Any
    streams: Any
    lam: Any

    def function(
        self, name: str, behaviour: Callable[[dict[str, Any]], Any] | None = None
    ) -> Function:
        function = Function() if behaviour is None else Function(behaviour)
        self.register(name, function)
        return function

    def register(self, name: str, handler: Callable[[dict[str, Any], Any], Any]) -> None:
        targets = self.server.backend.targets
        self.server.call(lambda: targets.register_callable(name, handler))

    def table(self, name: str, view: str = "NEW_AND_OLD_IMAGES", **extra: Any) -> str:
        self.ddb.create_table(
            TableName=name,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": view},
            **extra,
        )
        return str(self.ddb.describe_table(TableName=name)["Table"]["LatestStreamArn"])

    def put(self, table: str, *keys: str, **attributes: str) -> None:
        for key in keys:
            item = {"pk": {"S": key}} | {k: {"S": v} for k, v in attributes.items()}
            self.ddb.put_item(TableName=table, Item=item)

    def put_together(self, table: str, *keys: str) -> None:
        """One BatchWriteItem: one commit, so a poller reads the records together."""
        self.ddb.batch_write_item(
            RequestItems={table: [{"PutRequest": {"Item": {"pk": {"S": k}}}} for k in keys]}
        )

    def mapping(self, function: str, stream_arn: str, **settings: Any) -> str:
        settings.setdefault("StartingPosition", "TRIM_HORIZON")
        created = self.lam.create_event_source_mapping(
            FunctionName=function, EventSourceArn=stream_arn, **settings
        )
        return str(created["UUID"])

    def settle(self, timeout: float = 10) -> dict[str, Any]:
        request = urllib.request.Request(
            self.server.url + "/_emulator/triggers/settle",
            data=json.dumps({"timeout": timeout}).encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout + 10) as response:
                return dict(json.loads(response.read()))
        except urllib.error.HTTPError as error:
            assert error.code == 409
            return dict(json.loads(error.read()))

    def settled(self) -> None:
        answer = self.settle()
        assert answer == {"settled": True}, answer

    def advance(self, seconds: float) -> None:
        self.server.admin("/_emulator/clock", {"advance": seconds})

    def failures(self, uuid: str) -> list[dict[str, Any]]:
        with urllib.request.urlopen(
            f"{self.server.url}/_emulator/triggers/{uuid}/failures", timeout=10
        ) as response:
            return list(json.loads(response.read())["Failures"])


@pytest.fixture
def triggers() -> Iterator[Triggers]:
    yield from _triggers(Config())


def _triggers(config: Config) -> Iterator[Triggers]:
    with serve_backend(Backend.create(config)) as server:
        yield Triggers(
            server,
            make_client(server.url),
            make_client(server.url, "dynamodbstreams"),
            make_client(server.url, "lambda"),
        )


@pytest.fixture
def two_shards() -> Iterator[Triggers]:
    yield from _triggers(Config(stream_shards=2))


# -- the control plane as the poller completes it ------------------------------------------


def test_a_new_mapping_becomes_enabled(triggers: Triggers) -> None:
    triggers.function("fn")
    arn = triggers.table("esm-enabled")
    uuid = triggers.mapping("fn", arn)
    triggers.settled()
    described = triggers.lam.get_event_source_mapping(UUID=uuid)
    assert described["State"] == "Enabled"
    assert described["StateTransitionReason"] == "User action"
    assert described["LastProcessingResult"] == "No records processed"


def test_disable_then_enable_delivers_what_was_written_meanwhile(triggers: Triggers) -> None:
    """Check 5."""
    function = triggers.function("fn")
    arn = triggers.table("esm-toggle")
    uuid = triggers.mapping("fn", arn, BatchSize=10)
    triggers.put("esm-toggle", "before")
    triggers.settled()
    assert triggers.lam.get_event_source_mapping(UUID=uuid)["LastProcessingResult"] == "OK"
    answer = triggers.lam.update_event_source_mapping(UUID=uuid, Enabled=False)
    assert answer["State"] == "Disabling"
    assert answer["LastProcessingResult"] == "OK"
    triggers.settled()
    assert triggers.lam.get_event_source_mapping(UUID=uuid)["State"] == "Disabled"
    triggers.put("esm-toggle", "while-1", "while-2")
    triggers.settled()
    assert function.batches() == [["before"]]
    assert triggers.lam.update_event_source_mapping(UUID=uuid, Enabled=True)["State"] == "Enabling"
    triggers.settled()
    assert triggers.lam.get_event_source_mapping(UUID=uuid)["State"] == "Enabled"
    assert function.batches() == [["before"], ["while-1", "while-2"]]


def test_no_invocation_after_delete(triggers: Triggers) -> None:
    """Check 6."""
    function = triggers.function("fn")
    arn = triggers.table("esm-delete")
    uuid = triggers.mapping("fn", arn)
    triggers.put("esm-delete", "a")
    triggers.settled()
    assert triggers.lam.delete_event_source_mapping(UUID=uuid)["State"] == "Deleting"
    triggers.put("esm-delete", "b")
    triggers.settled()
    assert function.batches() == [["a"]]
    with pytest.raises(triggers.lam.exceptions.ResourceNotFoundException):
        triggers.lam.get_event_source_mapping(UUID=uuid)


def test_stream_disabled_or_table_recreated_stops_delivery(triggers: Triggers) -> None:
    """Check 8."""
    function = triggers.function("fn")
    arn = triggers.table("esm-lifecycle")
    triggers.mapping("fn", arn)
    triggers.put("esm-lifecycle", "a")
    triggers.settled()
    triggers.ddb.update_table(
        TableName="esm-lifecycle", StreamSpecification={"StreamEnabled": False}
    )
    triggers.put("esm-lifecycle", "after-disable")
    triggers.settled()
    triggers.ddb.delete_table(TableName="esm-lifecycle")
    new_arn = triggers.table("esm-lifecycle")
    assert new_arn != arn
    triggers.put("esm-lifecycle", "recreated")
    triggers.settled()
    assert function.batches() == [["a"]]


# -- delivery ------------------------------------------------------------------------------


def test_the_event_record_shape(triggers: Triggers) -> None:
    """Check 9: key order, versions, the stream ARN, whole seconds, SizeBytes 70."""
    function = triggers.function("fn")
    triggers.ddb.create_table(
        TableName="esm-shape",
        KeySchema=[{"AttributeName": "my_partition_key", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "my_partition_key", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )
    arn = triggers.ddb.describe_table(TableName="esm-shape")["Table"]["LatestStreamArn"]
    triggers.mapping("fn", arn)
    triggers.ddb.put_item(
        TableName="esm-shape",
        Item={"my_partition_key": {"S": "hello world"}, "binary_key": {"B": b"foobar"}},
    )
    triggers.settled()
    ((record,),) = [event["Records"] for event in function.events]
    assert list(record) == [
        "eventID",
        "eventName",
        "eventVersion",
        "eventSource",
        "awsRegion",
        "dynamodb",
        "eventSourceARN",
    ]
    assert record["eventName"] == "INSERT"
    assert record["eventVersion"] == "1.1"
    assert record["eventSource"] == "aws:dynamodb"
    assert record["awsRegion"] == REGION
    assert record["eventSourceARN"] == arn
    dynamodb = record["dynamodb"]
    created = dynamodb["ApproximateCreationDateTime"]
    assert isinstance(created, float) and created == int(created)
    assert dynamodb["SizeBytes"] == 70
    assert dynamodb["NewImage"]["binary_key"] == {"B": base64.b64encode(b"foobar").decode()}
    assert dynamodb["StreamViewType"] == "NEW_IMAGE"
    # The same record, with the same sequence number, is readable through the Streams API.
    shard = triggers.streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]
    iterator = triggers.streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    (served,) = triggers.streams.get_records(ShardIterator=iterator)["Records"]
    assert served["dynamodb"]["SequenceNumber"] == dynamodb["SequenceNumber"]
    assert served["eventID"] == record["eventID"]


def test_a_ttl_delete_carries_the_service_identity(triggers: Triggers) -> None:
    """Check 10."""
    function = triggers.function("fn")
    arn = triggers.table("esm-ttl")
    triggers.ddb.update_time_to_live(
        TableName="esm-ttl", TimeToLiveSpecification={"Enabled": True, "AttributeName": "exp"}
    )
    triggers.advance(10)
    now = triggers.server.admin("/_emulator/clock", {"advance": 0})["now"]
    triggers.ddb.put_item(
        TableName="esm-ttl", Item={"pk": {"S": "old"}, "exp": {"N": str(int(now) + 5)}}
    )
    triggers.mapping("fn", arn)
    triggers.advance(3600)
    triggers.settled()
    removes = [r for e in function.events for r in e["Records"] if r["eventName"] == "REMOVE"]
    assert [r["userIdentity"] for r in removes] == [
        {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
    ]
    assert list(removes[0])[-2:] == ["eventSourceARN", "userIdentity"]


def test_batches_of_batch_size_in_stream_order(triggers: Triggers) -> None:
    """Check 11."""
    function = triggers.function("fn")
    arn = triggers.table("esm-batches")
    triggers.put("esm-batches", *[f"k{i:02d}" for i in range(7)])
    triggers.mapping("fn", arn, BatchSize=3)
    triggers.settled()
    assert function.batches() == [["k00", "k01", "k02"], ["k03", "k04", "k05"], ["k06"]]


def test_the_batching_window_waits_for_clock_time(triggers: Triggers) -> None:
    """Check 12."""
    function = triggers.function("fn")
    arn = triggers.table("esm-window")
    triggers.advance(0)  # the test clock
    triggers.mapping("fn", arn, BatchSize=10, MaximumBatchingWindowInSeconds=30)
    triggers.settled()
    triggers.put("esm-window", "a", "b")
    answer = triggers.settle()
    assert answer["settled"] is False
    assert "waiting for the clock" in answer["pending"][0]["Reason"]
    assert function.events == []
    triggers.advance(29)
    assert triggers.settle()["settled"] is False
    assert function.events == []
    triggers.advance(1)
    triggers.settled()
    assert function.batches() == [["a", "b"]]


def test_one_batch_in_flight_per_shard(triggers: Triggers) -> None:
    """Check 13."""
    active = {"now": 0, "most": 0}
    lock = threading.Lock()

    def slow(event: dict[str, Any]) -> None:
        with lock:
            active["now"] += 1
            active["most"] = max(active["most"], active["now"])
        time.sleep(0.01)
        with lock:
            active["now"] -= 1

    function = triggers.function("fn", slow)
    arn = triggers.table("esm-serial")
    triggers.put("esm-serial", *[f"k{i:02d}" for i in range(12)])
    triggers.mapping("fn", arn, BatchSize=2)
    triggers.settled()
    assert active["most"] == 1
    assert [k for batch in function.batches() for k in batch] == [f"k{i:02d}" for i in range(12)]


def test_parallelization_keeps_per_key_order(triggers: Triggers) -> None:
    """Check 14."""
    active: dict[str, int] = {"now": 0, "most": 0}
    in_flight: set[str] = set()
    overlaps: list[str] = []
    lock = threading.Lock()

    def handler(event: dict[str, Any]) -> None:
        keys = {r["dynamodb"]["Keys"]["pk"]["S"] for r in event["Records"]}
        with lock:
            overlaps.extend(keys & in_flight)
            in_flight.update(keys)
            active["now"] += 1
            active["most"] = max(active["most"], active["now"])
        time.sleep(0.02)
        with lock:
            in_flight.difference_update(keys)
            active["now"] -= 1

    function = triggers.function("fn", handler)
    arn = triggers.table("esm-parallel")
    keys = [f"key-{i}" for i in range(8)]
    for round_ in range(4):
        for key in keys:
            triggers.put("esm-parallel", key, round=str(round_))
    triggers.mapping("fn", arn, BatchSize=2, ParallelizationFactor=4)
    triggers.settled()
    assert overlaps == []
    assert 1 < active["most"] <= 4
    rounds: dict[str, list[str]] = {}
    for event in function.events:
        for record in event["Records"]:
            image = record["dynamodb"]["NewImage"]
            rounds.setdefault(image["pk"]["S"], []).append(image["round"]["S"])
    assert rounds == {key: ["0", "1", "2", "3"] for key in keys}


def test_latest_is_anchored_when_create_returns(triggers: Triggers) -> None:
    """Check 15."""
    latest = triggers.function("latest")
    horizon = triggers.function("horizon")
    arn = triggers.table("esm-latest")
    triggers.put("esm-latest", "before")
    triggers.mapping("latest", arn, StartingPosition="LATEST")
    triggers.mapping("horizon", arn, StartingPosition="TRIM_HORIZON")
    triggers.put("esm-latest", "after")
    triggers.settled()
    assert latest.batches() == [["after"]]
    assert [k for batch in horizon.batches() for k in batch] == ["before", "after"]


def test_parents_before_children_and_children_from_their_horizon(triggers: Triggers) -> None:
    """Check 16."""
    function = triggers.function("fn")
    arn = triggers.table("esm-lineage")
    triggers.mapping("fn", arn, StartingPosition="LATEST", BatchSize=100)
    triggers.put("esm-lineage", "p1", "p2")
    rolled = triggers.server.admin("/_emulator/streams/rollover", {"StreamArn": arn})
    assert rolled["NewShardIds"]
    triggers.put("esm-lineage", "c1")
    triggers.settled()
    assert [k for batch in function.batches() for k in batch] == ["p1", "p2", "c1"]
    assert all(len(batch) for batch in function.batches())


def _failing_on(key: str) -> Callable[[dict[str, Any]], None]:
    def handler(event: dict[str, Any]) -> None:
        for record in event["Records"]:
            if record["dynamodb"]["Keys"]["pk"]["S"] == key:
                raise ValueError(f"poisoned by {key}")

    return handler


def test_a_poison_record_blocks_only_its_shard_until_retention(two_shards: Triggers) -> None:
    """Check 17."""
    triggers = two_shards
    function = triggers.function("fn", _failing_on("poison"))
    arn = triggers.table("esm-poison")
    shards = triggers.streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
    assert len(shards) == 2
    triggers.advance(0)
    uuid = triggers.mapping("fn", arn, BatchSize=1)
    triggers.put("esm-poison", "poison")
    triggers.advance(12 * 3600)
    keys = [f"k{i}" for i in range(12)]
    triggers.put("esm-poison", *keys)
    answer = triggers.settle(timeout=1)
    assert answer["settled"] is False
    delivered = {k for batch in function.batches() for k in batch}
    # Keys on the other shard flowed; the poisoned shard is stuck on its first record.
    assert "poison" in delivered and 1 < len(delivered) < 13
    assert sum(1 for batch in function.batches() if batch == ["poison"]) > 1
    # Past 24 hours of retention the poison record is discarded; its shard resumes.
    triggers.advance(12 * 3600 + 60)
    triggers.settled()
    delivered = {k for batch in function.batches() for k in batch}
    assert delivered == {"poison", *keys}
    (document,) = triggers.failures(uuid)
    assert document["requestContext"]["condition"] == "RecordAgeExceeded"


def test_retries_exhausted_sends_the_failure_document(triggers: Triggers) -> None:
    """Check 18."""
    function = triggers.function("fn", _failing_on("bad"))
    arn = triggers.table("esm-retries")
    triggers.put("esm-retries", "bad", "good")
    uuid = triggers.mapping("fn", arn, BatchSize=1, MaximumRetryAttempts=2)
    triggers.settled()
    assert function.batches() == [["bad"], ["bad"], ["bad"], ["good"]]
    (document,) = triggers.failures(uuid)
    assert document["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert document["requestContext"]["approximateInvokeCount"] == 3
    assert document["requestContext"]["functionArn"] == (
        f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:fn"
    )
    assert document["responseContext"] == {
        "statusCode": 200,
        "executedVersion": "$LATEST",
        "functionError": "Unhandled",
    }
    assert document["version"] == "1.0"
    assert len(document["timestamp"]) == len("2019-11-14T00:13:49.717Z")
    info = document["DDBStreamBatchInfo"]
    bad_sequence = function.events[0]["Records"][0]["dynamodb"]["SequenceNumber"]
    assert info["startSequenceNumber"] == info["endSequenceNumber"] == bad_sequence
    assert info["batchSize"] == 1 and info["streamArn"] == arn
    assert info["shardId"].startswith("shardId-")
    assert info["approximateArrivalOfFirstRecord"].endswith("Z")
    assert len(info["approximateArrivalOfFirstRecord"]) == len("2019-11-14T00:13:19Z")
    described = triggers.lam.get_event_source_mapping(UUID=uuid)
    assert described["LastProcessingResult"] == "OK"


def test_records_past_their_maximum_age_are_not_invoked(triggers: Triggers) -> None:
    """Check 19."""
    function = triggers.function("fn")
    arn = triggers.table("esm-age")
    triggers.put("esm-age", "old")
    triggers.advance(120)
    uuid = triggers.mapping("fn", arn, MaximumRecordAgeInSeconds=60)
    triggers.put("esm-age", "young")
    triggers.settled()
    assert function.batches() == [["young"]]
    (document,) = triggers.failures(uuid)
    assert document["requestContext"]["condition"] == "RecordAgeExceeded"
    assert document["requestContext"]["approximateInvokeCount"] == 1
    assert "responseContext" not in document
    assert document["DDBStreamBatchInfo"]["batchSize"] == 1


def test_bisect_isolates_the_poisoned_record(triggers: Triggers) -> None:
    """Check 21."""
    function = triggers.function("fn", _failing_on("r2"))
    arn = triggers.table("esm-bisect")
    triggers.put("esm-bisect", "r0", "r1", "r2", "r3")
    uuid = triggers.mapping(
        "fn", arn, BatchSize=4, BisectBatchOnFunctionError=True, MaximumRetryAttempts=1
    )
    triggers.settled()
    assert function.batches() == [
        ["r0", "r1", "r2", "r3"],
        ["r0", "r1"],
        ["r2", "r3"],
        ["r2"],
        ["r2"],
        ["r3"],
    ]
    (document,) = triggers.failures(uuid)
    assert document["DDBStreamBatchInfo"]["batchSize"] == 1
    assert document["requestContext"]["approximateInvokeCount"] == 2


def _reporting(*keys: str) -> Callable[[dict[str, Any]], Any]:
    """A handler reporting the records with these keys as failed, once each."""
    reported: set[str] = set()

    def handler(event: dict[str, Any]) -> Any:
        failures = []
        for record in event["Records"]:
            key = record["dynamodb"]["Keys"]["pk"]["S"]
            if key in keys and key not in reported:
                reported.add(key)
                failures.append({"itemIdentifier": record["dynamodb"]["SequenceNumber"]})
        return {"batchItemFailures": failures}

    return handler


def test_partial_batch_response_retries_from_the_lowest_reported(triggers: Triggers) -> None:
    """Checks 22 and 24."""
    function = triggers.function("fn", _reporting("r3", "r2"))
    arn = triggers.table("esm-partial")
    triggers.put("esm-partial", "r0", "r1", "r2", "r3")
    triggers.mapping(
        "fn",
        arn,
        BatchSize=4,
        FunctionResponseTypes=["ReportBatchItemFailures"],
        BisectBatchOnFunctionError=True,
    )
    triggers.settled()
    assert function.batches() == [["r0", "r1", "r2", "r3"], ["r2", "r3"]]


@pytest.mark.parametrize(
    ("response", "invocations", "documents"),
    [
        ([], 1, 0),
        (None, 1, 0),
        ({}, 1, 0),
        ({"batchItemFailures": []}, 1, 0),
        ({"batchItemFailures": None}, 1, 0),
        ({"batchItemFailures": [{"itemIdentifier": 123}]}, 4, 1),
        ({"batchItemFailures": [{"itemIdentifier": ""}]}, 4, 1),
        ({"batchItemFailures": [{"itemIdentifier": None}]}, 4, 1),
        ({"batchItemFailures": [{"foo": 123}]}, 4, 1),
        ({"batchItemFailures": [{"foo": None}]}, 4, 1),
    ],
)
def test_partial_batch_response_outcomes(
    triggers: Triggers, response: Any, invocations: int, documents: int
) -> None:
    """Check 23 (AWS-validated outcomes)."""
    function = triggers.function("fn", lambda event: response)
    arn = triggers.table("esm-outcomes")
    triggers.put("esm-outcomes", "a", "b", "c")
    uuid = triggers.mapping(
        "fn",
        arn,
        BatchSize=3,
        MaximumRetryAttempts=3,
        FunctionResponseTypes=["ReportBatchItemFailures"],
    )
    triggers.settled()
    assert len(function.events) == invocations
    failures = triggers.failures(uuid)
    assert len(failures) == documents
    if documents:
        assert failures[0]["responseContext"]["functionError"] is None
        assert failures[0]["requestContext"]["approximateInvokeCount"] == 4


def test_a_thrown_error_with_partial_responses_on_is_unhandled(triggers: Triggers) -> None:
    function = triggers.function("fn", _failing_on("a"))
    arn = triggers.table("esm-thrown")
    triggers.put("esm-thrown", "a")
    uuid = triggers.mapping(
        "fn", arn, MaximumRetryAttempts=3, FunctionResponseTypes=["ReportBatchItemFailures"]
    )
    triggers.settled()
    assert len(function.events) == 4
    assert triggers.failures(uuid)[0]["responseContext"]["functionError"] == "Unhandled"


def test_without_response_types_a_failure_list_is_a_success(triggers: Triggers) -> None:
    function = triggers.function("fn", _reporting("a"))
    arn = triggers.table("esm-no-types")
    triggers.put("esm-no-types", "a", "b")
    triggers.mapping("fn", arn, BatchSize=2)
    triggers.settled()
    assert function.batches() == [["a", "b"]]


FILTER_CASES = [
    ({"eventName": ["INSERT"]}, ("put", {}), ("put", {}), 1),
    ({"eventName": ["INSERT", "MODIFY"]}, ("put", {}), ("put", {"v": "2"}), 2),
    (
        {"eventName": ["INSERT"], "eventSource": ["aws:dynamodb"]},
        ("put", {}),
        ("put", {"v": "2"}),
        1,
    ),
    (
        {"dynamodb": {"NewImage": {"presentKey": {"S": ["presentValue"]}}}},
        ("put", {"presentKey": "presentValue"}),
        ("put", {"v": "2"}),
        1,
    ),
    (
        {"dynamodb": {"NewImage": {"presentKey": {"S": [{"exists": True}]}}}},
        ("put", {"presentKey": "x"}),
        ("put", {"v": "2"}),
        1,
    ),
    (
        {"dynamodb": {"NewImage": {"presentKey": [{"exists": False}]}}},
        ("put", {}),
        ("put", {"presentKey": "x"}),
        2,
    ),
    (
        {
            "dynamodb": {
                "NewImage": {
                    "numericFilter": {"N": [{"numeric": [">", 100]}, {"anything-but": "101"}]}
                }
            }
        },
        ("put", {"numericFilter": 42}),
        ("put", {"numericFilter": 101}),
        1,
    ),
    (
        {"dynamodb": {"NewImage": {"prefix": {"S": [{"prefix": "us-1"}]}}}},
        ("put", {"prefix": "us-1-abc"}),
        ("put", {"prefix": "other"}),
        1,
    ),
    (
        {"dynamodb": {"ApproximateCreationDateTime": [{"numeric": [">", 0]}]}},
        ("put", {}),
        ("put", {"v": "2"}),
        2,
    ),
]


@pytest.mark.parametrize(("pattern", "first", "second", "invocations"), FILTER_CASES)
def test_the_recorded_dynamodb_filter_cases(
    triggers: Triggers,
    pattern: dict[str, Any],
    first: tuple[str, dict[str, Any]],
    second: tuple[str, dict[str, Any]],
    invocations: int,
) -> None:
    """Check 26: the nine cases recorded against AWS give exactly these counts."""
    function = triggers.function("fn")
    arn = triggers.table("esm-filter")
    triggers.mapping(
        "fn", arn, BatchSize=1, FilterCriteria={"Filters": [{"Pattern": json.dumps(pattern)}]}
    )
    for _, attributes in (first, second):
        item: dict[str, Any] = {"pk": {"S": "id"}}
        for name, value in attributes.items():
            item[name] = {"N": str(value)} if isinstance(value, int) else {"S": value}
        triggers.ddb.put_item(TableName="esm-filter", Item=item)
        triggers.settled()
    assert len(function.events) == invocations


def test_filtered_records_are_consumed_never_delivered(triggers: Triggers) -> None:
    function = triggers.function("fn")
    arn = triggers.table("esm-filtered")
    uuid = triggers.mapping(
        "fn",
        arn,
        BatchSize=10,
        FilterCriteria={
            "Filters": [
                {"Pattern": json.dumps({"dynamodb": {"Keys": {"pk": {"S": [f"m{i}"]}}}})}
                for i in range(5)
            ]
        },
    )
    triggers.put("esm-filtered", "x1", "x2", "x3")
    triggers.settled()
    assert function.events == []  # a batch with no match: no invocation
    triggers.put_together("esm-filtered", "m0", "x4", "m4")
    triggers.settled()
    assert function.batches() == [["m0", "m4"]]
    # The checkpoint passed the filtered records: re-enabling delivers nothing again.
    triggers.lam.update_event_source_mapping(UUID=uuid, Enabled=False)
    triggers.settled()
    triggers.lam.update_event_source_mapping(UUID=uuid, Enabled=True)
    triggers.settled()
    assert function.batches() == [["m0", "m4"]]


def test_tumbling_windows_carry_state_and_end_with_a_final_invocation(
    triggers: Triggers,
) -> None:
    """Check 27."""

    def counting(event: dict[str, Any]) -> Any:
        state = dict(event["state"])
        state["count"] = state.get("count", 0) + len(event["Records"])
        return {"state": state}

    function = triggers.function("fn", counting)
    arn = triggers.table("esm-tumbling")
    now = triggers.server.admin("/_emulator/clock", {"advance": 0})["now"]
    window_start = int(now) // 60 * 60 + 60
    triggers.server.admin("/_emulator/clock", {"set": window_start + 1})
    triggers.mapping("fn", arn, BatchSize=2, TumblingWindowInSeconds=60)
    triggers.put_together("esm-tumbling", "a", "b", "c")
    answer = triggers.settle()
    assert answer["settled"] is False  # the window is open until the clock passes its end
    assert [len(e["Records"]) for e in function.events] == [2, 1]
    first, second = function.events
    assert first["state"] == {} and second["state"] == {"count": 2}
    for event in (first, second):
        assert event["window"]["start"].endswith("Z")
        assert event["shardId"].startswith("shardId-")
        assert event["eventSourceARN"] == arn
        assert event["isFinalInvokeForWindow"] is False
        assert event["isWindowTerminatedEarly"] is False
    triggers.advance(60)
    triggers.settled()
    final = function.events[2]
    assert final["Records"] == [] and final["isFinalInvokeForWindow"] is True
    assert final["state"] == {"count": 3}
    triggers.put("esm-tumbling", "d")
    triggers.advance(60)
    triggers.settled()
    assert function.events[3]["state"] == {}  # a new window starts from a fresh state


def test_a_window_response_without_state_is_a_failure(triggers: Triggers) -> None:
    function = triggers.function("fn", lambda event: {"batchItemFailures": []})
    arn = triggers.table("esm-stateless")
    triggers.advance(0)
    uuid = triggers.mapping("fn", arn, TumblingWindowInSeconds=60, MaximumRetryAttempts=1)
    triggers.put("esm-stateless", "a")
    triggers.settle(timeout=1)
    assert len(function.events) == 2
    assert triggers.failures(uuid)[0]["requestContext"]["condition"] == "RetryAttemptsExhausted"


def test_put_settle_assert_a_thousand_times(triggers: Triggers) -> None:
    """Check 29: no sleep, no flake."""
    function = triggers.function("fn")
    arn = triggers.table("esm-loop")
    triggers.mapping("fn", arn)
    triggers.settled()
    for i in range(1000):
        triggers.put("esm-loop", f"k{i}")
        assert triggers.settle() == {"settled": True}
        assert function.events[-1]["Records"][-1]["dynamodb"]["Keys"]["pk"]["S"] == f"k{i}"
    assert sum(len(event["Records"]) for event in function.events) == 1000


# -- failure destinations on a real SQS / SNS / S3 (moto's server) --------------------------


def test_failure_documents_reach_sqs_sns_and_s3(moto_server: str) -> None:
    """Check 25: SQS gets the document as its body, SNS as `Message`, S3 under
    `aws/lambda/<UUID>/<shardId>/YYYY/MM/DD/YYYY-MM-DDTHH.MM.SS-<uuid>` with the batch."""
    sqs = make_client(moto_server, "sqs")
    sns = make_client(moto_server, "sns")
    s3 = make_client(moto_server, "s3")
    queue_url = sqs.create_queue(QueueName="esm-failures")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    topic_arn = sns.create_topic(Name="esm-failures")["TopicArn"]
    topic_queue_url = sqs.create_queue(QueueName="esm-topic-copy")["QueueUrl"]
    topic_queue_arn = sqs.get_queue_attributes(
        QueueUrl=topic_queue_url, AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=topic_queue_arn)
    s3.create_bucket(Bucket="esm-failures")

    for triggers in _triggers(Config(destination_endpoint=moto_server)):
        triggers.function("fn", _failing_on("bad"))
        uuids = {}
        for kind, destination in (
            ("sqs", queue_arn),
            ("sns", topic_arn),
            ("s3", "arn:aws:s3:::esm-failures"),
        ):
            arn = triggers.table(f"esm-dest-{kind}")
            triggers.put(f"esm-dest-{kind}", "bad")
            uuids[kind] = triggers.mapping(
                "fn",
                arn,
                MaximumRetryAttempts=0,
                DestinationConfig={"OnFailure": {"Destination": destination}},
            )
        triggers.settled()
        kept = {kind: triggers.failures(uuid) for kind, uuid in uuids.items()}

    (sent,) = kept["sqs"]
    (message,) = sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=1)["Messages"]
    assert json.loads(message["Body"]) == sent
    assert sent["requestContext"]["condition"] == "RetryAttemptsExhausted"

    (published,) = kept["sns"]
    (copy,) = sqs.receive_message(QueueUrl=topic_queue_url, WaitTimeSeconds=1)["Messages"]
    assert json.loads(json.loads(copy["Body"])["Message"]) == published

    (stored,) = kept["s3"]
    (entry,) = s3.list_objects_v2(Bucket="esm-failures")["Contents"]
    shard_id = stored["DDBStreamBatchInfo"]["shardId"]
    prefix = f"aws/lambda/{uuids['s3']}/{shard_id}/"
    assert entry["Key"].startswith(prefix)
    day, stamp_and_id = entry["Key"][len(prefix) :].rsplit("/", 1)
    assert len(day) == len("YYYY/MM/DD") and stamp_and_id[:10] == day.replace("/", "-")
    body = json.loads(s3.get_object(Bucket="esm-failures", Key=entry["Key"])["Body"].read())
    payload = body.pop("payload")
    assert body == stored
    assert [r["dynamodb"]["Keys"] for r in payload["Records"]] == [{"pk": {"S": "bad"}}]


# -- throttles and errors that never reached the function -----------------------------------


def test_throttles_and_service_errors_do_not_count_as_retries() -> None:
    """Check 20: an Invoke endpoint answering 429, then 502, then succeeding, with
    MaximumRetryAttempts 0: the batch is delivered, nothing is discarded."""
    import http.server

    answers = [429, 429, 502, 200]
    bodies: list[bytes] = []

    class Endpoint(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            status = answers.pop(0) if answers else 200
            bodies.append(body)
            payload = b"null" if status == 200 else b'{"message":"slow down"}'
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: Any) -> None:
            pass

    endpoint = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Endpoint)
    thread = threading.Thread(target=endpoint.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{endpoint.server_address[1]}"
    try:
        for triggers in _triggers(Config(functions=(("remote", url),))):
            arn = triggers.table("esm-throttled")
            triggers.put("esm-throttled", "a")
            uuid = triggers.mapping("remote", arn, MaximumRetryAttempts=0)
            triggers.settled()
            assert triggers.failures(uuid) == []
            assert triggers.lam.get_event_source_mapping(UUID=uuid)["LastProcessingResult"] == "OK"
    finally:
        endpoint.shutdown()
        endpoint.server_close()
    assert len(bodies) == 4
    assert len({body for body in bodies}) == 1  # the same batch each time
    (record,) = json.loads(bodies[0])["Records"]
    assert record["dynamodb"]["Keys"] == {"pk": {"S": "a"}}


def test_a_deleted_function_is_a_problem_not_a_retry(triggers: Triggers) -> None:
    """Mappings survive DeleteFunction; every invoke is then a service error: retried
    without counting, nothing discarded, `PROBLEM: Function not found` (Emulator rule)."""
    function = triggers.function("gone")
    arn = triggers.table("esm-gone")
    uuid = triggers.mapping("gone", arn, MaximumRetryAttempts=0)
    triggers.settled()
    triggers.server.call(lambda: triggers.server.backend.targets.unregister_callable("gone"))
    triggers.put("esm-gone", "waits")
    answer = triggers.settle(timeout=0.5)
    assert answer["settled"] is False
    described = triggers.lam.get_event_source_mapping(UUID=uuid)
    assert described["State"] == "Enabled"
    assert described["LastProcessingResult"] == "PROBLEM: Function not found"
    assert triggers.failures(uuid) == []
    triggers.server.call(
        lambda: triggers.server.backend.targets.register_callable("gone", function)
    )
    triggers.settled()
    assert function.batches() == [["waits"]]


def test_a_mapping_resumes_from_its_checkpoint_after_a_restart(tmp_path: Any) -> None:
    """With --data-dir the mapping and its positions survive a restart: what was
    delivered is not delivered again, what was written is not lost."""
    config = Config(data_dir=str(tmp_path), shard_rollover_seconds=0)
    first = Function()
    for triggers in _triggers(config):
        triggers.register("fn", first)
        arn = triggers.table("esm-durable")
        uuid = triggers.mapping("fn", arn, BatchSize=10)
        triggers.put_together("esm-durable", "a", "b")
        triggers.settled()
    assert first.batches() == [["a", "b"]]

    second = Function()
    for triggers in _triggers(config):
        triggers.register("fn", second)
        triggers.put("esm-durable", "c")
        triggers.settled()
        assert triggers.lam.get_event_source_mapping(UUID=uuid)["State"] == "Enabled"
    assert second.batches() == [["c"]]


# -- a real handler library: aws-lambda-powertools' BatchProcessor ---------------------------

POWERTOOLS_HANDLER = """
import json, os
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor, EventType, process_partial_response,
)

processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


def record_handler(record):
    key = record.dynamodb.keys["pk"]
    with open(os.environ["SEEN"], "a") as seen:
        seen.write(key + "\\n")
    if key.startswith("bad"):
        raise ValueError("cannot handle " + key)


def handler(event, context):
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
"""


def test_powertools_batch_processor_with_partial_failures(tmp_path: Any) -> None:
    """aws-lambda-powertools' BatchProcessor(EventType.DynamoDBStreams) as a Python-zip
    function in a worker process of a real emulator process: its batchItemFailures
    rewind the shard to the failed record, and the remainder is discarded to the
    failure destination once retries are exhausted."""
    import io
    import zipfile

    from conftest import start_server

    seen = tmp_path / "seen.txt"
    package = io.BytesIO()
    with zipfile.ZipFile(package, "w") as archive:
        archive.writestr("app.py", POWERTOOLS_HANDLER)
    running = start_server()
    try:
        ddb = make_client(running.url)
        lam = make_client(running.url, "lambda")
        lam.create_function(
            FunctionName="powertools",
            Runtime="python3.12",
            Role=f"arn:aws:iam::{ACCOUNT}:role/r",
            Handler="app.handler",
            Code={"ZipFile": package.getvalue()},
            Timeout=30,
            Environment={"Variables": {"SEEN": str(seen)}},
        )
        ddb.create_table(
            TableName="esm-powertools",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )
        arn = ddb.describe_table(TableName="esm-powertools")["Table"]["LatestStreamArn"]
        ddb.batch_write_item(
            RequestItems={
                "esm-powertools": [
                    {"PutRequest": {"Item": {"pk": {"S": key}}}} for key in ("a", "bad-1", "c")
                ]
            }
        )
        uuid = lam.create_event_source_mapping(
            FunctionName="powertools",
            EventSourceArn=arn,
            StartingPosition="TRIM_HORIZON",
            BatchSize=3,
            MaximumRetryAttempts=1,
            FunctionResponseTypes=["ReportBatchItemFailures"],
        )["UUID"]
        request = urllib.request.Request(
            running.url + "/_emulator/triggers/settle",
            data=b'{"timeout": 60}',
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=90) as response:
            assert json.loads(response.read()) == {"settled": True}
        with urllib.request.urlopen(
            f"{running.url}/_emulator/triggers/{uuid}/failures", timeout=10
        ) as response:
            (document,) = json.loads(response.read())["Failures"]
    finally:
        running.stop()
    # First [a, bad-1, c]; the rewind retries [bad-1, c]; then retries are exhausted.
    assert seen.read_text().split() == ["a", "bad-1", "c", "bad-1", "c"]
    assert document["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert document["requestContext"]["approximateInvokeCount"] == 2
    assert document["responseContext"]["functionError"] is None
    assert document["DDBStreamBatchInfo"]["batchSize"] == 2


def test_shard_end_closes_a_tumbling_window(triggers: Triggers) -> None:
    """Check 27: the end of a shard closes its window (a final invocation) before its
    child's records start a window of their own, from a fresh state."""

    def counting(event: dict[str, Any]) -> Any:
        state = dict(event["state"])
        state["count"] = state.get("count", 0) + len(event["Records"])
        return {"state": state}

    function = triggers.function("fn", counting)
    arn = triggers.table("esm-window-end")
    triggers.advance(0)
    triggers.mapping("fn", arn, BatchSize=10, TumblingWindowInSeconds=900)
    triggers.put_together("esm-window-end", "p1", "p2")
    assert triggers.settle()["settled"] is False  # the window is open
    triggers.server.admin("/_emulator/streams/rollover", {"StreamArn": arn})
    triggers.put_together("esm-window-end", "c1")
    assert triggers.settle()["settled"] is False  # the child's window is open now
    summary = [
        (
            [r["dynamodb"]["Keys"]["pk"]["S"] for r in e["Records"]],
            e["isFinalInvokeForWindow"],
            e["state"],
        )
        for e in function.events
    ]
    assert summary == [
        (["p1", "p2"], False, {}),
        ([], True, {"count": 2}),
        (["c1"], False, {}),
    ]
    assert function.events[0]["shardId"] != function.events[2]["shardId"]
