"""The DynamoDB Streams API: ListStreams, DescribeStream, GetShardIterator, GetRecords."""

from __future__ import annotations

import math
import re
from typing import Any

from emulator.api.common import constraint_message
from emulator.errors import (
    ExpiredIteratorException,
    ResourceNotFoundException,
    TrimmedDataAccessException,
    ValidationException,
)
from emulator.runtime.backend import Backend
from emulator.storage.engine import ShardRow, StreamRow
from emulator.streams.iterators import InvalidIterator
from emulator.streams.records import decode_sequence_number, encode_sequence_number

MAX_RECORDS_BYTES = 1024 * 1024
_TRIMMED = "The data you are trying to access has been trimmed."
_STREAM_ARN = re.compile(
    r"arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:\d{12}:table/[a-zA-Z0-9_.-]{3,255}/stream/"
    r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}"
)
_DIGITS = re.compile(r"[0-9]{21,40}")


def _check_stream_arn(arn: str, member: str) -> None:
    if not _STREAM_ARN.fullmatch(arn):
        raise ValidationException(
            constraint_message([(arn, member, "Member must be a valid DynamoDB stream ARN")])
        )


def _find_stream(backend: Backend, arn: str) -> StreamRow:
    _check_stream_arn(arn, "streamArn")
    row = backend.streams.stream_by_arn(arn)
    if row is None:
        raise ResourceNotFoundException(f"Requested resource not found: Stream: {arn} not found")
    return row


def _shard_description(backend: Backend, shard: ShardRow) -> dict[str, Any]:
    sequence_range = {"StartingSequenceNumber": encode_sequence_number(shard.starting_sequence)}
    if shard.ending_sequence is not None:
        sequence_range["EndingSequenceNumber"] = encode_sequence_number(shard.ending_sequence)
    description: dict[str, Any] = {"ShardId": shard.shard_id}
    if shard.parent_shard_id is not None:
        description["ParentShardId"] = shard.parent_shard_id
    description["SequenceNumberRange"] = sequence_range
    return description


def list_streams(backend: Backend, region: str, request: dict[str, Any]) -> dict[str, Any]:
    table_name = request.get("TableName")
    start = request.get("ExclusiveStartStreamArn")
    if start is not None:
        _check_stream_arn(start, "exclusiveStartStreamArn")
    streams = sorted(
        (
            row
            for row in backend.streams.all_streams()
            if row.region == region
            and (table_name is None or row.table_name == table_name)
            and (start is None or row.arn > start)
        ),
        key=lambda row: row.arn,
    )
    limit = request.get("Limit", 100)
    page = streams[:limit]
    result: dict[str, Any] = {
        "Streams": [
            {
                "StreamArn": row.arn,
                "TableName": row.table_name,
                "StreamLabel": row.description["StreamLabel"],
            }
            for row in page
        ]
    }
    if len(streams) > limit:
        result["LastEvaluatedStreamArn"] = page[-1].arn
    return result


def describe_stream(backend: Backend, region: str, request: dict[str, Any]) -> dict[str, Any]:
    stream = _find_stream(backend, request["StreamArn"])
    shards = backend.streams.shards(stream.stream_id)
    shard_filter = request.get("ShardFilter")
    if shard_filter is not None:
        # Both members are optional in the model; a filter without them has no meaning
        # AWS documents, so it is refused rather than read as "root shards".
        parent = shard_filter.get("ShardId")
        if shard_filter.get("Type") is None or parent is None:
            raise ValidationException("ShardFilter requires both Type and ShardId")
        shards = [shard for shard in shards if shard.parent_shard_id == parent]
    start = request.get("ExclusiveStartShardId")
    if start is not None:
        ids = [shard.shard_id for shard in shards]
        shards = shards[ids.index(start) + 1 :] if start in ids else []
    limit = request.get("Limit", 100)
    page = shards[:limit]
    description = stream.description
    result: dict[str, Any] = {
        "StreamArn": stream.arn,
        "StreamLabel": description["StreamLabel"],
        "StreamStatus": description["StreamStatus"],
        "StreamViewType": description["StreamViewType"],
        "CreationRequestDateTime": description["CreationRequestDateTime"],
        "TableName": description["TableName"],
        "KeySchema": description["KeySchema"],
        "Shards": [_shard_description(backend, shard) for shard in page],
    }
    if len(shards) > limit:
        result["LastEvaluatedShardId"] = page[-1].shard_id
    return {"StreamDescription": result}


def _find_shard(backend: Backend, stream: StreamRow, shard_id: str) -> ShardRow:
    for shard in backend.streams.shards(stream.stream_id):
        if shard.shard_id == shard_id:
            return shard
    raise ResourceNotFoundException(
        f"Requested resource not found: Shard: {shard_id} in Stream: {stream.arn} not found"
    )


def _position_at_timestamp(backend: Backend, shard: ShardRow, timestamp: float) -> int:
    """The first record whose ApproximateCreationDateTime is at or after `timestamp`.

    A record carries its time in whole seconds only, so the comparison is made at that
    granularity: records of the timestamp's own second are included, never skipped (a
    consumer starting at T must not miss a write made at T). Past the last record the
    iterator is positioned like LATEST.
    """
    log = backend.engine.stream_log
    sequence = log.first_sequence_at(shard.shard_pk, math.floor(timestamp))
    if sequence is not None:
        return sequence
    if shard.ending_sequence is None:
        return log.peek_sequence()
    return shard.ending_sequence + 1


def get_shard_iterator(backend: Backend, region: str, request: dict[str, Any]) -> dict[str, Any]:
    stream = _find_stream(backend, request["StreamArn"])
    iterator_type = request["ShardIteratorType"]
    sequence_text = request.get("SequenceNumber")
    needs_sequence = iterator_type in ("AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER")
    if needs_sequence and sequence_text is None:
        raise ValidationException(
            f"Must specify a SequenceNumber when using ShardIteratorType {iterator_type}"
        )
    if not needs_sequence and sequence_text is not None:
        raise ValidationException(
            f"Must not specify a SequenceNumber when using ShardIteratorType {iterator_type}"
        )
    timestamp = request.get("Timestamp")
    if iterator_type == "AT_TIMESTAMP" and timestamp is None:
        raise ValidationException(
            "Must specify a Timestamp when using ShardIteratorType AT_TIMESTAMP"
        )
    if iterator_type != "AT_TIMESTAMP" and timestamp is not None:
        raise ValidationException(
            f"Must not specify a Timestamp when using ShardIteratorType {iterator_type}"
        )
    if timestamp is not None and timestamp > backend.clock.now():
        raise ValidationException(
            f"The timestamp {timestamp} is in the future; AT_TIMESTAMP needs a past timestamp"
        )
    if sequence_text is not None and not _DIGITS.fullmatch(sequence_text):
        raise ValidationException(
            constraint_message(
                [
                    (
                        sequence_text,
                        "sequenceNumber",
                        "Member must satisfy regular expression pattern: [0-9]+",
                    )
                ]
            )
        )
    shard = _find_shard(backend, stream, request["ShardId"])
    log = backend.engine.stream_log
    trimmed = shard.trimmed_sequence
    if iterator_type == "TRIM_HORIZON":
        position = shard.starting_sequence if trimmed is None else trimmed + 1
    elif iterator_type == "LATEST":
        if shard.ending_sequence is None:
            position = log.peek_sequence()
        else:
            position = shard.ending_sequence + 1
    elif timestamp is not None:
        position = _position_at_timestamp(backend, shard, timestamp)
    else:
        assert sequence_text is not None
        sequence = decode_sequence_number(sequence_text)
        end = shard.ending_sequence
        if (
            sequence < shard.starting_sequence
            or (end is not None and sequence > end)
            or (end is None and sequence >= log.peek_sequence())
        ):
            raise ValidationException(
                f"Invalid SequenceNumber {sequence_text} for shard {shard.shard_id}: it is not "
                "in the shard's sequence number range"
            )
        if trimmed is not None and sequence <= trimmed:
            raise TrimmedDataAccessException(_TRIMMED)
        position = sequence if iterator_type == "AT_SEQUENCE_NUMBER" else sequence + 1
    token = backend.iterators.encode(stream.arn, shard.shard_pk, position, backend.clock.now())
    return {"ShardIterator": token}


def get_records(backend: Backend, region: str, request: dict[str, Any]) -> bytes:
    try:
        iterator = backend.iterators.decode(request["ShardIterator"])
    except InvalidIterator:
        raise ValidationException("Invalid ShardIterator") from None
    now = backend.clock.now()
    if now - iterator.issued > backend.config.iterator_ttl_seconds:
        raise ExpiredIteratorException("The provided iterator exceeds the maximum age allowed")
    shard = backend.streams.shard(iterator.shard_pk)
    stream = backend.streams.stream_by_arn(iterator.stream_arn)
    if shard is None or stream is None or shard.stream_id != stream.stream_id:
        raise ResourceNotFoundException(
            f"Requested resource not found: Stream: {iterator.stream_arn} not found"
        )
    if shard.trimmed_sequence is not None and iterator.position <= shard.trimmed_sequence:
        raise TrimmedDataAccessException(_TRIMMED)
    log = backend.engine.stream_log
    limit = request.get("Limit", 1000)
    rows = log.read(shard.shard_pk, iterator.position, limit)
    records: list[bytes] = []
    total = 0
    next_position = iterator.position
    for sequence, record in rows:
        total += len(record)
        if records and total > MAX_RECORDS_BYTES:
            break
        records.append(record)
        next_position = sequence + 1
    body = b'{"Records":[' + b",".join(records) + b"]"
    if shard.ending_sequence is None or log.has_records_from(shard.shard_pk, next_position):
        token = backend.iterators.encode(stream.arn, shard.shard_pk, next_position, now)
        body += b',"NextShardIterator":"' + token.encode() + b'"'
    return body + b"}"
