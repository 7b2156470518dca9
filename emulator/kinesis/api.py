"""The Kinesis Data Streams operations of the built-in endpoint, one function each.

Requests arrive decoded (JSON 1.1 or CBOR 1.1, see kinesis/wire.py) and shape-checked
against botocore's Kinesis model; blobs are `bytes` from CBOR or base64 text from JSON,
timestamps epoch seconds. Answers are plain dicts holding `bytes` for blobs and
`Instant` for timestamps, which the wire layer renders for the request's format.
"""

from __future__ import annotations

import base64
import binascii
import math
from collections.abc import Callable
from typing import Any

import orjson

from emulator.kinesis.errors import (
    ExpiredIterator,
    ExpiredNextToken,
    InvalidArgument,
    KinesisValidation,
    LimitExceeded,
    ResourceInUse,
    ResourceNotFound,
)
from emulator.kinesis.model import (
    ACTIVE,
    DEFAULT_MAX_RECORD_KIB,
    ITERATOR_LIFETIME_SECONDS,
    MAX_HASH_KEY,
    MAX_RETENTION_HOURS,
    ON_DEMAND_SHARDS,
    UPDATING,
    Instant,
    KinesisStream,
    Shard,
    amz_time,
    decode_sequence,
    encode_sequence,
)
from emulator.kinesis.service import KinesisService
from emulator.runtime.backend import Backend
from emulator.streams.iterators import InvalidIterator

MAX_GET_RECORDS = 10_000
MAX_GET_RECORDS_BYTES = 10 * 1024 * 1024
MAX_PUT_RECORDS_BYTES = 10 * 1024 * 1024
MAX_TAGS = 50
MAX_SHARDS_PER_STREAM = 10_000
LIST_SHARDS_CAP = 1000
NEXT_TOKEN_LIFETIME_SECONDS = 300.0
MIN_RETENTION_HOURS = 24

Request = dict[str, Any]


def _service(backend: Backend) -> KinesisService:
    service: KinesisService = backend.kinesis
    if service.clock.mode == "manual":
        # Under the test clock a state change is complete by the next call (SPEC 2.5).
        backend.complete_transitions()
    return service


def _stream(backend: Backend, region: str, request: Request) -> KinesisStream:
    return _service(backend).lookup(region, request.get("StreamName"), request.get("StreamARN"))


def _blob(value: Any) -> bytes:
    """A `Data` member: bytes from CBOR, base64 text from JSON (checked by validation)."""
    if type(value) is bytes:
        return value
    return binascii.a2b_base64(value)


def _mode_details(stream: KinesisStream) -> dict[str, Any]:
    return {"StreamMode": stream.mode}


def _token(payload: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(payload)).decode()


def _read_token(token: str, now: float) -> dict[str, Any]:
    try:
        payload = orjson.loads(base64.urlsafe_b64decode(token.encode()))
        if not isinstance(payload, dict):
            raise ValueError(token)
        issued = float(payload["issued"])
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise InvalidArgument(f"Invalid NextToken: {token}") from None
    if now - issued > NEXT_TOKEN_LIFETIME_SECONDS:
        raise ExpiredNextToken(f"The NextToken {token} has expired.")
    return payload


# -- streams --------------------------------------------------------------------------


def create_stream(backend: Backend, region: str, request: Request) -> dict[str, Any]:
    service = _service(backend)
    count = request.get("ShardCount")
    mode = (request.get("StreamModeDetails") or {}).get("StreamMode")
    if count is None:
        mode = mode or "ON_DEMAND"
        count = ON_DEMAND_SHARDS
    else:
        mode = mode or "PROVISIONED"
    if count > MAX_SHARDS_PER_STREAM:
        raise LimitExceeded(
            f"This request would exceed the shard limit for the account {service.account_id} "
            f"in {region}. Current shard count for the account: 0. Limit: "
            f"{MAX_SHARDS_PER_STREAM}. Number of additional shards that would have resulted "
            f"from this request: {count}."
        )
    service.create(
        region,
        request["StreamName"],
        count,
        mode,
        request.get("Tags") or {},
        request.get("MaxRecordSizeInKiB") or DEFAULT_MAX_RECORD_KIB,
    )
    return {}


def delete_stream(backend: Backend, region: str, request: Request) -> dict[str, Any]:
    service = _service(backend)
    stream = _stream(backend, region, request)
    if stream.consumers and not request.get("EnforceConsumerDeletion"):
        raise ResourceInUse(
            f"Stream {stream.name} under account {service.account_id} has registered "
            "consumers. Set EnforceConsumerDeletion to true to delete the stream along with "
            "its consumers."
        )
    service.delete(stream)
    return {}


def describe_stream(backend: Backend, region: str, request: Request) -> dict[str, Any]:
    stream = _stream(backend, region, request)
    limit = min(request.get("Limit") or 100, 100)
    shards = sorted(stream.shards, key=lambda s: s.index)
    start = request.get("ExclusiveStartShardId")
    if start is not None:
        shards = [s for s in shards if s.shard_id > start]
    page = shards[:limit]
    return {
        "StreamDescription": {
            "StreamName": stream.name,
            "StreamARN": stream.arn,
            "StreamStatus": stream.status,
            "StreamModeDetails": _mode_details(stream),
            "Shards": [s.describe() for s in page],
            "HasMoreShards": len(shards) > limit,
            "RetentionPeriodHours": stream.retention_hours,
            "StreamCreationTimestamp": Instant(stream.created),
            "EnhancedMonitoring": [{"ShardLevelMetrics": []}],
            "EncryptionType": stream.encryption,
        }
    }


def describe_stream_summary(backend: Backend, region: str, request: Request) -> dict[str, Any]:
    stream = _stream(backend, region, request)
    return {
        "StreamDescriptionSummary": {
            "StreamName": stream.name,
            "StreamARN": stream.arn,
            "StreamStatus": stream.status,
            "StreamModeDetails": _mode_details(stream),
            "RetentionPeriodHours": stream.retention_hours,
            "StreamCreationTimestamp": Instant(stream.created),
            "EnhancedMonitoring": [{"ShardLevelMetrics": []}],
            "EncryptionType": stream.encryption,
            "OpenShardCount": len(stream.open_shards),
            "ConsumerCount": len(stream.consumers),
            "MaxRecordSizeInKiB": stream.max_record_kib,
        }
    }


def list_streams(backend: Backend, region: str, request: Request) -> dict[str, Any]:
    service = _service(backend)
    now = service.clock.now()
    limit = request.get("Limit") or 100
    after = request.get("ExclusiveStartStreamName")
    token = request.get("NextToken")
    if token is not None:
        after = _read_token(token, now).get("after")
    streams = sorted(
        (s for (r, _), s in service.streams.items() if r == region), key=lambda s: s.name
    )
    if after is not None:
        streams = [s for s in streams if s.name > after]
    page = streams[:limit]
    more = len(streams) > limit
    answer: dict[str, Any] = {
        "StreamNames": [s.name for s in page],
        "HasMoreStreams": more,
        "StreamSummaries": [
            {
                "StreamName": s.name,
                "StreamARN": s.arn,
                "StreamStatus": s.status,
                "StreamModeDetails": _mode_details(s),
                "StreamCreationTimestamp": Instant(s.created),
            }
            for s in page
        ],
    }
    if more:
        answer["NextToken"] = _token({"after": page[-1].name, "issued": now})
    return answer


# -- shards ---------------------------------------------------------------------------


def _shard_filter(
    service: KinesisService, stream: KinesisStream, shards: list[Shard], spec: dict[str, Any]
) -> list[Shard]:
    kind = spec["Type"]
    if kind == "AFTER_SHARD_ID":
        after = spec.get("ShardId")
        if after is None:
            raise InvalidArgument("Must specify ShardId for filter type AFTER_SHARD_ID.")
        return [s for s in shards if s.shard_id > after]
    if kind in ("AT_TIMESTAMP", "FROM_TIMESTAMP"):
        moment = spec.get("Timestamp")
        if moment is None:
            raise InvalidArgument(f"Must specify Timestamp for filter type {kind}.")
        at = float(moment)
        if kind == "AT_TIMESTAMP":
            return [s for s in shards if s.created <= at and (s.closed is None or s.closed > at)]
        return [s for s in shards if s.closed is None or s.closed > at]
    if kind == "AT_LATEST":
        return [s for s in shards if s.is_open]
    if kind == "AT_TRIM_HORIZON":
        listed = {s.shard_id for s in shards}
        return [
            s
            for s in shards
            if (s.parent is None or s.parent not in listed)
            and (s.adjacent_parent is None or s.adjacent_parent not in listed)
        ]
    return shards  # FROM_TRIM_HORIZON: every shard still kept


def list_shards(backend: Backend, region: str, request: Request) -> dict[str, Any]:
    service = _service(backend)
    now = service.clock.now()
    token = request.get("NextToken")
    names_stream = request.get("StreamName") is not None or request.get("StreamARN") is not None
    if token is not None and names_stream:
        raise InvalidArgument("NextToken and StreamName cannot be provided together.")
    if token is None and not names_stream:
        raise InvalidArgument("Either NextToken or StreamName should be provided.")
    after = request.get("ExclusiveStartShardId")
    spec = request.get("ShardFilter")
    if token is not None:
        state = _read_token(token, now)
        stream = service.lookup(region, None, state["arn"])
        after = state["after"]
        spec = state.get("filter")
    else:
        stream = _stream(backend, region, request)
    if stream.status not in (ACTIVE, UPDATING):
        raise ResourceInUse(
            f"Stream {stream.name} under account {service.account_id} is not ready, "
            f"current status is {stream.status}."
        )
    shards = sorted(stream.shards, key=lambda s: s.index)
    if spec is not None:
        shards = _shard_filter(service, stream, shards, spec)
    if after is not None:
        shards = [s for s in shards if s.shard_id > after]
    limit = min(request.get("MaxResults") or LIST_SHARDS_CAP, LIST_SHARDS_CAP)
    page = shards[:limit]
    answer: dict[str, Any] = {"Shards": [s.describe() for s in page]}
    if len(shards) > limit:
        state = {"arn": stream.arn, "after": page[-1].shard_id, "issued": now}
        if spec is not None:
            state["filter"] = spec
        answer["NextToken"] = _token(state)
    return answer


def _count_check(service: KinesisService, stream: KinesisStream, target: int) -> None:
    current = len(stream.open_shards)
    if target > current * 2:
        raise InvalidArgument(
            f"UpdateShardCount cannot scale up over double your current open shard count. "
            f"Current open shard count: {current} Target shard count: {target}"
        )
    if target * 2 < current:
        raise InvalidArgument(
            f"UpdateShardCount cannot scale down below half your current open shard count. "
            f"Current open shard count: {current} Target shard count: {target}"
        )
    if target > MAX_SHARDS_PER_STREAM:
        raise LimitExceeded(
            f"Target shard count {target} exceeds the shard limit {MAX_SHARDS_PER_STREAM} "
            f"for the account {service.account_id}."
        )


def update_shard_count(backend: Backend, region: str, request: Request) -> dict[str, Any]:
    service = _service(backend)
    stream = service.active(_stream(backend, region, request))
    if stream.mode == "ON_DEMAND":
        raise KinesisValidation(
            f"UpdateShardCount is not supported for stream {stream.name} under account "
            f"{service.account_id} with ON_DEMAND capacity mode."
        )
    target = request["TargetShardCount"]
    current = len(stream.open_shards)
    _count_check(service, stream, target)
    _start_reshard(service, stream, {"kind": "uniform", "target": target})
    return {
        "StreamName": stream.name,
        "CurrentShardCount": current,
        "TargetShardCount": target,
        "StreamARN": stream.arn,
    }


def _start_reshard(service: KinesisService, stream: KinesisStream, plan: dict[str, Any]) -> None:
    stream.status = UPDATING
    stream.pending = {"op": "reshard", **plan}
    with service.engine.transaction():
        service.save(stream)


def _hash_key(text: str, member: str) -> int:
    value = int(text)
    if value > MAX_HASH_KEY:
        raise InvalidArgument(
            f"Invalid {member}. {member} must be in the range: [0, 2^128-1]. Specified value "
            f"was {text}"
        )
    return value


def split_shard(backend: Backend, region: str, request: Request) -> dict[str, Any]:
    service = _service(backend)
    stream = service.active(_stream(backend, region, request))
    shard = service.find_shard(stream, request["ShardToSplit"])
    at = _hash_key(request["NewStartingHashKey"], "NewStartingHashKey")
    if not shard.is_open:
        raise ResourceNotFound(
            f"Shard {shard.shard_id} in stream {stream.name} under account "
            f"{service.account_id} has already been merged or split, and thus is not "
            "eligible for merging or splitting."
        )
    if not shard.start_hash + 1 <= at <= shard.end_hash:
        raise InvalidArgument(
            f"NewStartingHashKey {at} used in SplitShard() on shard {shard.shard_id} in stream "
            f"{stream.name} under account {service.account_id} is not both greater than one "
            f"plus the shard's StartingHashKey {shard.start_hash} and less than the shard's "
            f"EndingHashKey {shard.end_hash}."
        )
    _count_check(service, stream, len(stream.open_shards) + 1)
    _start_reshard(service, stream, {"kind": "split", "shard": shard.shard_id, "at": str(at)})
    return {}


def merge_shards(backend: Backend, region: str, request: Request) -> dict[str, Any]:
    service = _service(backend)
    stream = service.active(_stream(backend, region, request))
    shard = service.find_shard(stream, request["ShardToMerge"])
    adjacent = service.find_shard(stream, request["AdjacentShardToMerge"])
    for one in (shard, adjacent):
        if not one.is_open:
            raise ResourceNotFound(
                f"Shard {one.shard_id} in stream {stream.name} under account "
                f"{service.account_id} has already been merged or split, and thus is not "
                "eligible for merging or splitting."
            )
    if shard.end_hash + 1 != adjacent.start_hash and adjacent.end_hash + 1 != shard.start_hash:
        raise InvalidArgument(
            f"Shards {shard.shard_id} and {adjacent.shard_id} in stream {stream.name} under "
            f"account {service.account_id} are not an adjacent pair of shards eligible for "
            "merging"
        )
    _start_reshard(
        service,
        stream,
        {"kind": "merge", "shard": shard.shard_id, "adjacent": adjacent.shard_id},
    )
    return {}


# -- retention and tags ---------------------------------------------------------------


def _retention_bounds(hours: int) -> None:
    if hours < MIN_RETENTION_HOURS:
        raise InvalidArgument(
            f"Minimum allowed retention period is {MIN_RETENTION_HOURS} hours. Requested "
            f"retention period ({hours} hours) is too short."
        )
    if hours > MAX_RETENTION_HOURS:
        raise InvalidArgument(
            f"Maximum allowed retention period is {MAX_RETENTION_HOURS} hours. Requested "
            f"retention period ({hours} hours) is too long."
        )


def increase_stream_retention_period(
    backend: Backend, region: str, request: Request
) -> dict[str, Any]:
    service = _service(backend)
    stream = service.active(_stream(backend, region, request))
    hours = request["RetentionPeriodHours"]
    _retention_bounds(hours)
    if hours < stream.retention_hours:
        raise InvalidArgument(
            f"Requested retention period ({hours} hours) for stream {stream.name} can not be "
            f"shorter than existing retention period ({stream.retention_hours} hours). Use "
            "DecreaseRetentionPeriod API."
        )
    stream.retention_hours = hours
    with service.engine.transaction():
        service.save(stream)
    return {}


def decrease_stream_retention_period(
    backend: Backend, region: str, request: Request
) -> dict[str, Any]:
    service = _service(backend)
    stream = service.active(_stream(backend, region, request))
    hours = request["RetentionPeriodHours"]
    _retention_bounds(hours)
    if hours > stream.retention_hours:
        raise InvalidArgument(
            f"Requested retention period ({hours} hours) for stream {stream.name} can not be "
            f"longer than existing retention period ({stream.retention_hours} hours). Use "
            "IncreaseRetentionPeriod API."
        )
    stream.retention_hours = hours
    with service.engine.transaction():
        service.save(stream)
    return {}


def add_tags_to_stream(backend: Backend, region: str, request: Request) -> dict[str, Any]:
    service = _service(backend)
    stream = _stream(backend, region, request)
    tags = {**stream.tags, **request["Tags"]}
    if len(tags) > MAX_TAGS:
        raise InvalidArgument(
            f"Failed to add tags to stream {stream.name} under account {service.account_id} "
            f"because a given stream cannot have more than {MAX_TAGS} tags."
        )
    stream.tags = tags
    with service.engine.transaction():
        service.save(stream)
    return {}


def remove_tags_from_stream(backend: Backend, region: str, request: Request) -> dict[str, Any]:
    service = _service(backend)
    stream = _stream(backend, region, request)
    for key in request["TagKeys"]:
        stream.tags.pop(key, None)
    with service.engine.transaction():
        service.save(stream)
    return {}


def list_tags_for_stream(backend: Backend, region: str, request: Request) -> dict[str, Any]:
    stream = _stream(backend, region, request)
    keys = sorted(stream.tags)
    start = request.get("ExclusiveStartTagKey")
    if start is not None:
        keys = [key for key in keys if key > start]
    limit = request.get("Limit") or 10
    return {
        "Tags": [{"Key": key, "Value": stream.tags[key]} for key in keys[:limit]],
        "HasMoreTags": len(keys) > limit,
    }


# -- records --------------------------------------------------------------------------


class ProvisionedThroughputExceeded(InvalidArgument):
    code = "ProvisionedThroughputExceededException"


_THROTTLE_MESSAGE = "Rate exceeded for shard in stream {stream} under account {account}."


def _partition_key(entry: Request, path: str) -> str:
    key = entry.get("PartitionKey")
    if key is None:
        raise KinesisValidation(
            f"1 validation error detected: Value null at '{path}' failed to satisfy "
            "constraint: Member must not be null"
        )
    return str(key)


def _check_size(stream: KinesisStream, data: bytes, path: str) -> None:
    limit = stream.max_record_kib * 1024
    if len(data) > limit:
        raise KinesisValidation(
            f"1 validation error detected: Value at '{path}' failed to satisfy constraint: "
            f"Member must have length less than or equal to {limit}"
        )


def put_record(backend: Backend, region: str, request: Request) -> dict[str, Any]:
    service = _service(backend)
    stream = service.readable(_stream(backend, region, request))
    key = _partition_key(request, "partitionKey")
    data = _blob(request["Data"])
    _check_size(stream, data, "data")
    explicit = request.get("ExplicitHashKey")
    explicit_hash = None if explicit is None else _hash_key(explicit, "ExplicitHashKey")
    if service.throttle_next_puts > 0:
        service.throttle_next_puts -= 1
        raise ProvisionedThroughputExceeded(
            _THROTTLE_MESSAGE.format(stream=stream.name, account=service.account_id)
        )
    shard, sequence = service.put(stream, key, data, explicit_hash)
    backend.signals.notify(("kinesis", stream.arn))
    return {"ShardId": shard.shard_id, "SequenceNumber": encode_sequence(sequence)}


def put_records(backend: Backend, region: str, request: Request) -> dict[str, Any]:
    service = _service(backend)
    stream = service.readable(_stream(backend, region, request))
    entries = request["Records"]
    prepared: list[tuple[str, bytes, int | None]] = []
    total = 0
    for number, entry in enumerate(entries, 1):
        key = _partition_key(entry, f"records.{number}.member.partitionKey")
        data = _blob(entry["Data"])
        _check_size(stream, data, f"records.{number}.member.data")
        total += len(data) + len(key.encode())
        explicit = entry.get("ExplicitHashKey")
        prepared.append(
            (key, data, None if explicit is None else _hash_key(explicit, "ExplicitHashKey"))
        )
    if total > MAX_PUT_RECORDS_BYTES:
        raise InvalidArgument("Records size exceeds 10 MB limit")
    results: list[dict[str, Any]] = []
    failed = 0
    with service.engine.transaction():
        for key, data, explicit_hash in prepared:
            if service.throttle_next_puts > 0:
                service.throttle_next_puts -= 1
                failed += 1
                results.append(
                    {
                        "ErrorCode": "ProvisionedThroughputExceededException",
                        "ErrorMessage": _THROTTLE_MESSAGE.format(
                            stream=stream.name, account=service.account_id
                        ),
                    }
                )
                continue
            shard, sequence = service.put(stream, key, data, explicit_hash)
            results.append({"SequenceNumber": encode_sequence(sequence), "ShardId": shard.shard_id})
    backend.signals.notify(("kinesis", stream.arn))
    return {"FailedRecordCount": failed, "Records": results}


def _sequence_in(service: KinesisService, stream: KinesisStream, shard: Shard, text: str) -> int:
    sequence = decode_sequence(text)
    if (
        sequence is None
        or sequence < shard.start_sequence
        or (shard.end_sequence is not None and sequence > shard.end_sequence)
    ):
        raise InvalidArgument(
            f"Invalid StartingSequenceNumber. It encodes a position outside {shard.shard_id} "
            f"in stream {stream.name} under account {service.account_id}."
        )
    return sequence


def get_shard_iterator(backend: Backend, region: str, request: Request) -> dict[str, Any]:
    service = _service(backend)
    stream = service.readable(_stream(backend, region, request))
    shard = service.find_shard(stream, request["ShardId"])
    kind = request["ShardIteratorType"]
    number = request.get("StartingSequenceNumber")
    by_number = kind in ("AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER")
    if by_number != (number is not None) and kind != "AT_TIMESTAMP":
        also = "also a" if number is not None else "no"
        raise InvalidArgument(
            "Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and "
            "StartingSequenceNumber or (2) TRIM_HORIZON or LATEST and no "
            f"StartingSequenceNumber. Request specified {kind} and {also} StartingSequenceNumber."
        )
    log = service.log
    now = service.clock.now()
    if kind == "TRIM_HORIZON":
        position = shard.start_sequence
    elif kind == "LATEST":
        position = log.peek_sequence()
        if shard.end_sequence is not None:
            position = shard.end_sequence + 1
    elif kind == "AT_TIMESTAMP":
        moment = request.get("Timestamp")
        if moment is None:
            raise InvalidArgument(
                "Must specify timestampInMillis parameter for iterator of type AT_TIMESTAMP. "
                "Current request has no timestamp parameter."
            )
        # Timestamps travel with millisecond precision at most.
        at = math.floor(float(moment) * 1000) / 1000
        if at > math.floor(now * 1000) / 1000:
            raise InvalidArgument(
                f"The timestampInMillis parameter cannot be greater than the "
                f"currentTimestampInMillis. timestampInMillis: {math.floor(at * 1000)}, "
                f"currentTimestampInMillis: {math.floor(now * 1000)}"
            )
        found = log.first_sequence_at(shard.shard_pk, at)
        if found is not None:
            position = found
        elif shard.end_sequence is not None:
            position = shard.end_sequence + 1
        else:
            position = log.peek_sequence()
    else:
        sequence = _sequence_in(service, stream, shard, str(number))
        position = sequence if kind == "AT_SEQUENCE_NUMBER" else sequence + 1
    return {"ShardIterator": service.iterators.encode(stream.arn, shard.shard_pk, position, now)}


def get_records(backend: Backend, region: str, request: Request) -> dict[str, Any]:
    service = _service(backend)
    limit = request.get("Limit") or MAX_GET_RECORDS
    if limit > MAX_GET_RECORDS:
        raise InvalidArgument(
            f"1 validation error detected: Value '{limit}' at 'limit' failed to satisfy "
            f"constraint: Member must have value less than or equal to {MAX_GET_RECORDS}"
        )
    token = request["ShardIterator"]
    try:
        position = service.iterators.decode(token)
    except InvalidIterator:
        raise InvalidArgument("Invalid ShardIterator.") from None
    now = service.clock.now()
    if now - position.issued > ITERATOR_LIFETIME_SECONDS:
        raise ExpiredIterator(
            f"Iterator expired. The iterator was created at time {amz_time(position.issued)} "
            f"while right now it is {amz_time(now)} which is further in the future than the "
            f"tolerated delay of {int(ITERATOR_LIFETIME_SECONDS * 1000)} milliseconds."
        )
    found = service.by_shard_pk.get(position.shard_pk)
    stream = service.by_arn.get(position.stream_arn)
    if stream is None or found is None or found[0] is not stream:
        parts = position.stream_arn.rsplit("/", 1)
        raise ResourceNotFound(
            f"Shard in stream {parts[-1]} under account {service.account_id} does not exist"
        )
    shard = found[1]
    rows = service.log.read(shard.shard_pk, position.position, limit + 1)
    more = len(rows) > limit
    if more:
        rows = rows[:limit]
    records: list[dict[str, Any]] = []
    size = 0
    for sequence, arrival, partition_key, data in rows:
        size += len(data) + len(partition_key)
        if records and size > MAX_GET_RECORDS_BYTES:
            more = True
            break
        records.append(
            {
                "SequenceNumber": encode_sequence(sequence),
                "ApproximateArrivalTimestamp": Instant(arrival),
                "Data": data,
                "PartitionKey": partition_key,
            }
        )
    next_position = rows[len(records) - 1][0] + 1 if records else position.position
    answer: dict[str, Any] = {"Records": records}
    if not more and shard.end_sequence is not None:
        # A closed shard read to its end: no next iterator, its children instead.
        answer["MillisBehindLatest"] = 0
        answer["ChildShards"] = [
            {
                "ShardId": child.shard_id,
                "ParentShards": [p for p in (child.parent, child.adjacent_parent) if p],
                "HashKeyRange": {
                    "StartingHashKey": str(child.start_hash),
                    "EndingHashKey": str(child.end_hash),
                },
            }
            for child in stream.children_of(shard.shard_id)
        ]
        return answer
    answer["NextShardIterator"] = service.iterators.encode(
        stream.arn, shard.shard_pk, next_position, now
    )
    if more:
        behind_since = rows[len(records) - 1][1] if records else rows[0][1]
        answer["MillisBehindLatest"] = max(0, int((now - behind_since) * 1000))
    else:
        answer["MillisBehindLatest"] = 0
    return answer


# -- consumers (the registry of enhanced fan-out; SubscribeToShard is not offered) ---------


def _consumer_arn(stream: KinesisStream, name: str, created: float) -> str:
    return f"{stream.arn}/consumer/{name}:{int(created)}"


def _find_consumer(
    service: KinesisService, region: str, request: Request
) -> tuple[KinesisStream, dict[str, Any]]:
    arn = request.get("ConsumerARN")
    if arn is not None:
        stream_arn = arn.split("/consumer/", 1)[0]
        stream = service.lookup(region, None, stream_arn)
        for consumer in stream.consumers:
            if consumer["arn"] == arn:
                return stream, consumer
        raise ResourceNotFound(f"Consumer {arn} under account {service.account_id} not found.")
    stream_arn = request.get("StreamARN")
    name = request.get("ConsumerName")
    if stream_arn is None or name is None:
        raise InvalidArgument("Either ConsumerARN or both ConsumerName and StreamARN are required.")
    stream = service.lookup(region, None, stream_arn)
    for consumer in stream.consumers:
        if consumer["name"] == name:
            return stream, consumer
    raise ResourceNotFound(f"Consumer {name} under account {service.account_id} not found.")


def _consumer(consumer: dict[str, Any], stream: KinesisStream | None = None) -> dict[str, Any]:
    shown: dict[str, Any] = {
        "ConsumerName": consumer["name"],
        "ConsumerARN": consumer["arn"],
        "ConsumerStatus": "ACTIVE",
        "ConsumerCreationTimestamp": Instant(consumer["created"]),
    }
    if stream is not None:
        shown["StreamARN"] = stream.arn
    return shown


def register_stream_consumer(backend: Backend, region: str, request: Request) -> dict[str, Any]:
    service = _service(backend)
    stream = service.lookup(region, None, request["StreamARN"])
    name = request["ConsumerName"]
    if any(c["name"] == name for c in stream.consumers):
        raise ResourceInUse(
            f"Consumer {name} under account {service.account_id} already exists for stream "
            f"{stream.name}."
        )
    if len(stream.consumers) >= 20:
        raise LimitExceeded(f"Stream {stream.name} already has 20 registered consumers.")
    now = service.clock.now()
    consumer = {"name": name, "arn": _consumer_arn(stream, name, now), "created": now}
    stream.consumers.append(consumer)
    with service.engine.transaction():
        service.save(stream)
    return {"Consumer": _consumer(consumer)}


def describe_stream_consumer(backend: Backend, region: str, request: Request) -> dict[str, Any]:
    stream, consumer = _find_consumer(_service(backend), region, request)
    return {"ConsumerDescription": _consumer(consumer, stream)}


def list_stream_consumers(backend: Backend, region: str, request: Request) -> dict[str, Any]:
    service = _service(backend)
    stream = service.lookup(region, None, request["StreamARN"])
    return {"Consumers": [_consumer(c) for c in stream.consumers]}


def deregister_stream_consumer(backend: Backend, region: str, request: Request) -> dict[str, Any]:
    service = _service(backend)
    stream, consumer = _find_consumer(service, region, request)
    stream.consumers.remove(consumer)
    with service.engine.transaction():
        service.save(stream)
    return {}


def subscribe_to_shard(backend: Backend, region: str, request: Request) -> dict[str, Any]:
    """Enhanced fan-out pushes an HTTP/2 event stream, which this endpoint does not speak
    (SPEC-STREAM-APPS 5.5: a clear error rather than a fake stream)."""
    service = _service(backend)
    stream, _consumer = _find_consumer(service, region, {"ConsumerARN": request["ConsumerARN"]})
    service.find_shard(stream, request["ShardId"])
    raise InvalidArgument(
        "SubscribeToShard (enhanced fan-out over HTTP/2) is not offered by this emulator: "
        "read the shard with GetShardIterator and GetRecords (KCL: polling mode, "
        "RetrievalMode.POLLING)."
    )


OPERATIONS: dict[str, Callable[[Backend, str, Request], dict[str, Any]]] = {
    "CreateStream": create_stream,
    "DeleteStream": delete_stream,
    "DescribeStream": describe_stream,
    "DescribeStreamSummary": describe_stream_summary,
    "ListStreams": list_streams,
    "ListShards": list_shards,
    "UpdateShardCount": update_shard_count,
    "SplitShard": split_shard,
    "MergeShards": merge_shards,
    "IncreaseStreamRetentionPeriod": increase_stream_retention_period,
    "DecreaseStreamRetentionPeriod": decrease_stream_retention_period,
    "AddTagsToStream": add_tags_to_stream,
    "RemoveTagsFromStream": remove_tags_from_stream,
    "ListTagsForStream": list_tags_for_stream,
    "PutRecord": put_record,
    "PutRecords": put_records,
    "GetShardIterator": get_shard_iterator,
    "GetRecords": get_records,
    "RegisterStreamConsumer": register_stream_consumer,
    "DescribeStreamConsumer": describe_stream_consumer,
    "ListStreamConsumers": list_stream_consumers,
    "DeregisterStreamConsumer": deregister_stream_consumer,
    "SubscribeToShard": subscribe_to_shard,
}
