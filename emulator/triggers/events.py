"""What an event source mapping sends: the Lambda event built from stored stream records,
and the failure document an OnFailure destination receives.

A stored record is the GetRecords wire form (SPEC.md 3.1); Lambda's record differs in
three ways (SPEC-STREAM-APPS 3.3): `eventSourceARN` (the stream ARN) follows `dynamodb`,
`ApproximateCreationDateTime` is a number of whole seconds written as a float, and a TTL
delete's `userIdentity` has lower-case keys.
"""

from __future__ import annotations

import datetime
import uuid
from typing import Any

import orjson

from emulator.streams.records import encode_sequence_number

RETRY_ATTEMPTS_EXHAUSTED = "RetryAttemptsExhausted"
RECORD_AGE_EXCEEDED = "RecordAgeExceeded"


class StreamEvent:
    """One record as delivered: its sequence number, creation time, partition keys and
    the Lambda form (a dict, built once)."""

    __slots__ = ("created", "keys", "record", "sequence", "size")

    def __init__(self, sequence: int, created: float, data: bytes, stream_arn: str) -> None:
        record: dict[str, Any] = orjson.loads(data)
        dynamodb = record["dynamodb"]
        dynamodb["ApproximateCreationDateTime"] = float(
            int(dynamodb["ApproximateCreationDateTime"])
        )
        identity = record.pop("userIdentity", None)
        record["eventSourceARN"] = stream_arn
        if identity is not None:
            record["userIdentity"] = {
                "type": identity.get("Type"),
                "principalId": identity.get("PrincipalId"),
            }
        self.sequence = sequence
        self.created = created
        self.keys: Any = dynamodb.get("Keys")
        self.record = record
        self.size = len(data) + len(stream_arn) + 20

    @property
    def sequence_number(self) -> str:
        return str(self.record["dynamodb"]["SequenceNumber"])

    @property
    def approximate_creation(self) -> float:
        return float(self.record["dynamodb"]["ApproximateCreationDateTime"])


def lambda_event(events: list[StreamEvent]) -> dict[str, Any]:
    return {"Records": [event.record for event in events]}


def iso_milliseconds(epoch: float) -> str:
    moment = datetime.datetime.fromtimestamp(epoch, datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def iso_seconds(epoch: float) -> str:
    return datetime.datetime.fromtimestamp(int(epoch), datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def failure_document(
    *,
    condition: str,
    function_arn: str,
    invoke_count: int,
    function_error: str | None,
    status_code: int | None,
    shard_id: str,
    stream_arn: str,
    events: list[StreamEvent],
    now: float,
    first_sequence: int | None = None,
    last_sequence: int | None = None,
) -> dict[str, Any]:
    """The OnFailure document of SPEC-STREAM-APPS 3.10 for the discarded (sub-)batch.
    `responseContext` only after invocations (RetryAttemptsExhausted)."""
    document: dict[str, Any] = {
        "requestContext": {
            "requestId": str(uuid.uuid4()),
            "functionArn": function_arn,
            "condition": condition,
            "approximateInvokeCount": max(1, invoke_count),
        }
    }
    if condition == RETRY_ATTEMPTS_EXHAUSTED:
        document["responseContext"] = {
            "statusCode": status_code if status_code is not None else 200,
            "executedVersion": "$LATEST",
            "functionError": function_error,
        }
    document["version"] = "1.0"
    document["timestamp"] = iso_milliseconds(now)
    if events:
        first_text = events[0].sequence_number
        last_text = events[-1].sequence_number
        first_arrival = iso_seconds(events[0].approximate_creation)
        last_arrival = iso_seconds(events[-1].approximate_creation)
    else:  # records trimmed before they were read: only their range is known
        first_text = encode_sequence_number(first_sequence or 0)
        last_text = encode_sequence_number(last_sequence or 0)
        first_arrival = last_arrival = iso_seconds(now)
    document["DDBStreamBatchInfo"] = {
        "shardId": shard_id,
        "startSequenceNumber": first_text,
        "endSequenceNumber": last_text,
        "approximateArrivalOfFirstRecord": first_arrival,
        "approximateArrivalOfLastRecord": last_arrival,
        "batchSize": len(events),
        "streamArn": stream_arn,
    }
    return document
