"""What the durable change log answers: a table as it was at an instant (restores and
full exports), an item's history and a table's changes between two instants (audit, in
the stream-record format), and the AWS export files (full and incremental).

A table at instant T is its current items with every item changed after T put back as
it was: the old image of its first change after T (see storage/change_log.py).
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson

from emulator.changes.change import micros
from emulator.model.ion_text import ion_decimal, ion_line, ion_struct
from emulator.model.keys import key_of, storage_key, validate_key
from emulator.model.values import Item, item_size, items_equal
from emulator.runtime.backend import Backend
from emulator.storage.change_log import EVENT_NAMES, INSERT, MODIFY, REMOVE, Entry
from emulator.storage.engine import TableRow
from emulator.streams.records import encode_sequence_number

#: Who wrote the items of a restored table.
RESTORE = "restore"
#: Items per export data file (AWS writes one or more files per partition).
ITEMS_PER_DATA_FILE = 100_000


def to_micros(seconds: float) -> int:
    return micros(seconds)


def items_at(
    backend: Backend, row: TableRow, instant: float
) -> Iterator[tuple[bytes, bytes, bytes]]:
    """(hash_key, range_key, item JSON) of every item of the table at `instant` (every
    change committed at or before it included)."""
    engine = backend.engine
    restored: dict[tuple[bytes, bytes], bytes | None] = {
        (hash_key, range_key): image
        for hash_key, range_key, image in engine.change_log.states_before(
            row.table_id, to_micros(instant)
        )
    }
    cursor = engine.items.cursor(row.table_id)
    while rows := cursor.fetch(1000):
        for hash_key, range_key, _size, blob in rows:
            if (hash_key, range_key) not in restored:
                yield hash_key, range_key, blob
    for (hash_key, range_key), image in restored.items():
        if image is not None:
            yield hash_key, range_key, image


def fill_table(backend: Backend, row: TableRow, items: Iterator[tuple[bytes, bytes, bytes]]) -> int:
    """Write restored items into the new (empty) table `row` inside the caller's
    transaction, through the write pipeline when the table has sinks (its indexes, its
    change log); returns how many."""
    pipeline = backend.pipeline
    count = 0
    if not pipeline.tracks_changes(row):
        store = backend.engine.items
        for hash_key, range_key, blob in items:
            store.put(row.table_id, hash_key, range_key, item_size(orjson.loads(blob)), blob)
            count += 1
        return count
    schema = row.state.key_schema
    for hash_key, range_key, blob in items:
        item = orjson.loads(blob)
        pipeline.write(
            row, key_of(schema, item), hash_key, range_key, None, 0, item, origin=RESTORE
        )
        count += 1
    return count


# -- audit views ---------------------------------------------------------------------------


def is_change(entry: Entry) -> bool:
    """False for a MODIFY whose images are equal (a re-put with its attributes in another
    order, which the one-statement PutItem path logs; AWS records nothing for it)."""
    if entry[4] != MODIFY or entry[8] is None or entry[9] is None:
        return True
    return entry[8] != entry[9] and not items_equal(orjson.loads(entry[8]), orjson.loads(entry[9]))


def entry_key(row: TableRow, entry: Entry) -> Item:
    """The changed item's key, read from an image (the log stores none of its own)."""
    image = entry[8] if entry[8] is not None else entry[9]
    return key_of(row.state.key_schema, orjson.loads(image))  # type: ignore[arg-type]


def stream_record(row: TableRow, entry: Entry, source_arn: str) -> dict[str, Any]:
    """One change as a GetRecords record (NEW_AND_OLD_IMAGES) plus `eventSourceARN`: the
    stream-format view of the log (SPEC-STREAM-APPS 7.4 (a)); the log's entry id stands
    in for the sequence number."""
    entry_id, time_us, _h, _r, event, _origin, identity, _k, new_image, old_image = entry
    key = entry_key(row, entry)
    dynamodb: dict[str, Any] = {"ApproximateCreationDateTime": time_us // 1_000_000, "Keys": key}
    size = item_size(key)
    if new_image is not None and event != REMOVE:
        image = orjson.loads(new_image)
        dynamodb["NewImage"] = image
        size += item_size(image)
    if old_image is not None and event != INSERT:
        image = orjson.loads(old_image)
        dynamodb["OldImage"] = image
        size += item_size(image)
    dynamodb["SequenceNumber"] = encode_sequence_number(entry_id)
    dynamodb["SizeBytes"] = size
    dynamodb["StreamViewType"] = "NEW_AND_OLD_IMAGES"
    record: dict[str, Any] = {
        "eventID": f"{entry_id:032x}",
        "eventName": EVENT_NAMES[event],
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": row.region,
        "dynamodb": dynamodb,
    }
    if identity is not None:
        record["userIdentity"] = orjson.loads(identity)
    record["eventSourceARN"] = source_arn
    return record


def source_arn_of(row: TableRow) -> str:
    """The table's latest stream ARN, or the table's ARN when it never had a stream."""
    return str(row.description.get("LatestStreamArn") or row.description["TableArn"])


def item_history(
    backend: Backend, row: TableRow, key: Any, since: float, until: float
) -> list[dict[str, Any]]:
    """One item's changes in [since, until], oldest first, as stream records."""
    schema = row.state.key_schema
    hash_key, range_key = storage_key(schema, validate_key(schema, key))
    arn = source_arn_of(row)
    return [
        stream_record(row, entry, arn)
        for entry in backend.engine.change_log.item_history(
            row.table_id, hash_key, range_key, to_micros(since), to_micros(until)
        )
        if is_change(entry)
    ]


def table_changes(
    backend: Backend, row: TableRow, since: float, until: float
) -> Iterator[dict[str, Any]]:
    """The table's changes in [since, until], in commit order, as stream records."""
    arn = source_arn_of(row)
    for entry in backend.engine.change_log.between(
        row.table_id, to_micros(since), to_micros(until)
    ):
        if is_change(entry):
            yield stream_record(row, entry, arn)


# -- export files ----------------------------------------------------------------------------


@dataclass(slots=True)
class ExportResult:
    item_count: int
    billed_bytes: int
    #: (S3 key, item count, md5 bytes, gzip body) of each data file.
    data_files: list[tuple[str, int, bytes, bytes]]


#: Export formats: their data files' extension.
DATA_FILE_EXTENSIONS = {"DYNAMODB_JSON": ".json.gz", "ION": ".ion.gz"}


def full_export_lines(
    backend: Backend, row: TableRow, instant: float, export_format: str = "DYNAMODB_JSON"
) -> Iterator[bytes]:
    """Lines of the table at `instant`: DYNAMODB_JSON `{"Item":{...}}`, or ION
    `$ion_1_0 {Item:{...}}`."""
    if export_format == "ION":
        for _h, _r, blob in items_at(backend, row, instant):
            yield ion_line({"Item": ion_struct(orjson.loads(blob))})
        return
    for _h, _r, blob in items_at(backend, row, instant):
        yield b'{"Item":' + blob + b"}\n"


def incremental_export_lines(
    backend: Backend,
    row: TableRow,
    since: float,
    until: float,
    view_type: str,
    export_format: str = "DYNAMODB_JSON",
) -> Iterator[bytes]:
    """Incremental export lines for changes in [since, until), compacted per item: the
    state before its first change and after its last; an item that did not exist on
    either side (inserted then deleted) gives no line."""
    before: dict[tuple[bytes, bytes], bytes | None] = {}
    last: dict[tuple[bytes, bytes], Entry] = {}
    for entry in backend.engine.change_log.between(
        row.table_id, to_micros(since), to_micros(until), include_until=False
    ):
        if not is_change(entry):
            continue
        item = (entry[2], entry[3])
        if item not in before:
            before[item] = None if entry[4] == INSERT else entry[9]
        last[item] = entry
    for item, entry in last.items():
        old_image = before[item]
        new_image = None if entry[4] == REMOVE else entry[8]
        if old_image is None and new_image is None:
            continue
        with_old = old_image is not None and view_type == "NEW_AND_OLD_IMAGES"
        if export_format == "ION":
            # The DYNAMODB_JSON line's fields, each value in the Ion mapping (the
            # timestamp, a Number there, is a decimal).
            fields = {
                "Metadata": "{WriteTimestampMicros:" + ion_decimal(str(entry[1])) + "}",
                "Keys": ion_struct(entry_key(row, entry)),
            }
            if new_image is not None:
                fields["NewImage"] = ion_struct(orjson.loads(new_image))
            if with_old:
                fields["OldImage"] = ion_struct(orjson.loads(old_image))  # type: ignore[arg-type]
            yield ion_line(fields)
            continue
        line = b'{"Metadata":{"WriteTimestampMicros":{"N":"%d"}},"Keys":%s' % (
            entry[1],
            orjson.dumps(entry_key(row, entry)),
        )
        if new_image is not None:
            line += b',"NewImage":' + new_image
        if with_old:
            line += b',"OldImage":' + old_image  # type: ignore[operator]
        yield line + b"}\n"


def data_files(s3_prefix: str, lines: Iterator[bytes], export_format: str) -> ExportResult:
    """The export's gzip data files, in memory (written elsewhere, off the event loop),
    with their S3 keys under `s3_prefix` (`<prefix>/AWSDynamoDB/<ExportId>/`)."""
    extension = DATA_FILE_EXTENSIONS[export_format]
    result = ExportResult(0, 0, [])
    batch: list[bytes] = []

    def flush() -> None:
        name = base64.b32encode(os.urandom(15)).decode().lower() + extension
        body = gzip.compress(b"".join(batch), mtime=0)
        result.data_files.append(
            (f"{s3_prefix}data/{name}", len(batch), hashlib.md5(body).digest(), body)
        )
        result.billed_bytes += sum(len(line) for line in batch)
        batch.clear()

    for line in lines:
        batch.append(line)
        result.item_count += 1
        if len(batch) >= ITEMS_PER_DATA_FILE:
            flush()
    if batch or not result.data_files:
        flush()  # an empty table still gets one (empty) data file
    return result


def export_objects(
    s3_prefix: str, summary: dict[str, Any], result: ExportResult
) -> list[tuple[str, bytes]]:
    """Every object of an export, (S3 key, body), in the order AWS writes them: `_started`
    (empty), the data files, manifest-files.json (one line per data file), then
    manifest-summary.json; each manifest with its .checksum (the manifest's MD5, hex)."""
    files = b"".join(
        orjson.dumps(
            {
                "itemCount": count,
                "md5Checksum": base64.b64encode(md5).decode(),
                "etag": md5.hex(),
                "dataFileS3Key": key,
            }
        )
        + b"\n"
        for key, count, md5, _body in result.data_files
    )
    summary_body = orjson.dumps(summary)
    return [
        (f"{s3_prefix}_started", b""),
        *((key, body) for key, _count, _md5, body in result.data_files),
        (f"{s3_prefix}manifest-files.json", files),
        (f"{s3_prefix}manifest-files.checksum", hashlib.md5(files).hexdigest().encode()),
        (f"{s3_prefix}manifest-summary.json", summary_body),
        (f"{s3_prefix}manifest-summary.checksum", hashlib.md5(summary_body).hexdigest().encode()),
    ]
