"""What an event source mapping sends: the Lambda event built from stored stream records,
and the failure document an OnFailure destination receives.

A stored record is the GetRecords wire form (SPEC.md 3.1); Lambda's record differs in
three ways (SPEC-STREAM-APPS 3.3): `eventSourceARN` (the stream ARN) follows `dynamodb`,
`ApproximateCreationDateTime` is a number of whole seconds written as a float, and a TTL
delete's `userIdentity` has lower-case keys.
"""

from __future__ import annotations

import base64
import datetime
import uuid
from typing import Any

import orjson

from emulator.streams.records import TTL_IDENTITY, encode_sequence_number

RETRY_ATTEMPTS_EXHAUSTED = "RetryAttemptsExhausted"
RECORD_AGE_EXCEEDED = "RecordAgeExceeded"


_CREATED_KEY = b'"ApproximateCreationDateTime":'
_TTL_IDENTITY_SUFFIX = b',"userIdentity":' + orjson.dumps(TTL_IDENTITY) + b"}"
_LAMBDA_TTL_IDENTITY = b',"userIdentity":{"type":"Service","principalId":"dynamodb.amazonaws.com"}}'


class LogEvent:
    """One record as delivered: its sequence number, creation time and Lambda form
    (`data`); the dict is decoded only when something needs it (filters, keys for
    ParallelizationFactor, failure payloads)."""

    __slots__ = ("_record", "created", "data", "sequence")

    def __init__(self, sequence: int, created: float, data: bytes) -> None:
        self.sequence = sequence
        self.created = created
        self.data = data
        self._record: dict[str, Any] | None = None

    @property
    def record(self) -> dict[str, Any]:
        record = self._record
        if record is None:
            record = self._record = orjson.loads(self.data)
        return record

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def filter_record(self) -> dict[str, Any]:
        """What FilterCriteria patterns match: the whole record, metadata included."""
        return self.record


class StreamEvent(LogEvent):
    """A DynamoDB stream record; its Lambda form is spliced from the stored bytes (no
    decoding on the way to the function)."""

    __slots__ = ()

    def __init__(self, sequence: int, created: float, data: bytes, stream_arn: str) -> None:
        super().__init__(sequence, created, _lambda_form(data, stream_arn))

    @property
    def keys(self) -> Any:
        return self.record["dynamodb"].get("Keys")

    @property
    def sequence_number(self) -> str:
        return encode_sequence_number(self.sequence)

    @property
    def approximate_creation(self) -> float:
        return float(int(self.created))

    def arrival_text(self) -> str:
        return iso_seconds(self.created)


class KinesisEvent(LogEvent):
    """One Kinesis record as Lambda delivers it (SPEC-STREAM-APPS 3.12); `data` is the
    record in its final form (built by the Kinesis log source)."""

    __slots__ = ()

    @property
    def keys(self) -> Any:
        return self.record["kinesis"]["partitionKey"]

    @property
    def sequence_number(self) -> str:
        return str(self.record["kinesis"]["sequenceNumber"])

    @property
    def approximate_creation(self) -> float:
        return self.created

    @property
    def filter_record(self) -> dict[str, Any]:
        """Filters match the record with its `data` decoded when that is JSON."""
        record = self.record
        try:
            decoded = orjson.loads(base64.b64decode(record["kinesis"]["data"]))
        except (ValueError, orjson.JSONDecodeError):
            return record
        view = dict(record)
        view["kinesis"] = dict(record["kinesis"], data=decoded)
        view["data"] = decoded
        return view

    def arrival_text(self) -> str:
        return iso_seconds(self.created)[:-1] + ".000Z"


def kinesis_record(
    *,
    sequence_number: str,
    shard_id: str,
    partition_key: str,
    data: bytes,
    arrival: float,
    region: str,
    stream_arn: str,
    identity_arn: str,
) -> bytes:
    """A Kinesis record in Lambda's event form, keys in AWS's order."""
    return orjson.dumps(
        {
            "kinesis": {
                "kinesisSchemaVersion": "1.0",
                "partitionKey": partition_key,
                "sequenceNumber": sequence_number,
                "data": base64.b64encode(data).decode(),
                "approximateArrivalTimestamp": round(arrival, 3),
            },
            "eventSource": "aws:kinesis",
            "eventVersion": "1.0",
            "eventID": f"{shard_id}:{sequence_number}",
            "eventName": "aws:kinesis:record",
            "invokeIdentityArn": identity_arn,
            "awsRegion": region,
            "eventSourceARN": stream_arn,
        }
    )


def _lambda_form(data: bytes, stream_arn: str) -> bytes:
    """GetRecords form → Lambda form: a float creation time, the stream ARN after
    `dynamodb`, a TTL delete's identity in lower case after it."""
    at = data.find(_CREATED_KEY)
    if at >= 0:
        end = data.find(b",", at)
        data = data[:end] + b".0" + data[end:]
    arn = b',"eventSourceARN":' + orjson.dumps(stream_arn)
    if data.endswith(_TTL_IDENTITY_SUFFIX):
        return data[: -len(_TTL_IDENTITY_SUFFIX)] + arn + _LAMBDA_TTL_IDENTITY
    if b'"userIdentity"' in data[-200:]:
        record = orjson.loads(data)
        identity = record.pop("userIdentity")
        record["eventSourceARN"] = stream_arn
        record["userIdentity"] = {
            "type": identity.get("Type"),
            "principalId": identity.get("PrincipalId"),
        }
        return orjson.dumps(record)
    return data[:-1] + arn + b"}"


def lambda_payload(events: list[StreamEvent], extra: dict[str, Any] | None = None) -> bytes:
    """The invocation payload `{"Records": [...], **extra}` as bytes."""
    payload = b'{"Records":[' + b",".join(event.data for event in events) + b"]"
    if extra:
        payload += b"," + orjson.dumps(extra)[1:-1]
    return payload + b"}"


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
    events: list[Any],
    now: float,
    first_sequence: int | None = None,
    last_sequence: int | None = None,
    kinesis: bool = False,
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
        first_arrival = events[0].arrival_text()
        last_arrival = events[-1].arrival_text()
    else:  # records trimmed before they were read: only their range is known
        first_text = encode_sequence_number(first_sequence or 0)
        last_text = encode_sequence_number(last_sequence or 0)
        first_arrival = last_arrival = iso_seconds(now)
    document["KinesisBatchInfo" if kinesis else "DDBStreamBatchInfo"] = {
        "shardId": shard_id,
        "startSequenceNumber": first_text,
        "endSequenceNumber": last_text,
        "approximateArrivalOfFirstRecord": first_arrival,
        "approximateArrivalOfLastRecord": last_arrival,
        "batchSize": len(events),
        "streamArn": stream_arn,
    }
    return document
