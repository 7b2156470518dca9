"""Stream records: which event a write produces, and the record as the stream log stores
it.

A record is stored as its parts (`StoredRecord`), not its wire JSON: the fixed text of
the wire form (field names, eventSource, the view type's name) is the same for every
record, and the new image of an INSERT is the item itself, stored once for both while
the item stays unchanged (see `storage.stream_log`). The stream log puts the wire form
together when the record is read, in SQL.
"""

from __future__ import annotations

from random import getrandbits

import orjson

from emulator.model.values import Item, item_size, items_equal
from emulator.storage.stream_log import EVENT_CODES, VIEW_CODES, StoredRecord, wire_form

EVENT_VERSION = "1.1"  # (spelled out in the stream log's SQL)
EVENT_SOURCE = "aws:dynamodb"
TTL_IDENTITY = {"Type": "Service", "PrincipalId": "dynamodb.amazonaws.com"}

_NEW_IMAGE_VIEWS = frozenset({"NEW_IMAGE", "NEW_AND_OLD_IMAGES"})
_OLD_IMAGE_VIEWS = frozenset({"OLD_IMAGE", "NEW_AND_OLD_IMAGES"})


def event_name(old_item: Item | None, new_item: Item | None) -> str | None:
    """INSERT / MODIFY / REMOVE, or None when the write changed nothing (AWS emits nothing)."""
    if old_item is None:
        return None if new_item is None else "INSERT"
    if new_item is None:
        return "REMOVE"
    return None if items_equal(old_item, new_item) else "MODIFY"


def encode_sequence_number(sequence: int) -> str:
    """Decimal text of 21+ digits: botocore rejects shorter sequence numbers."""
    return str(SEQUENCE_BASE + sequence)


def decode_sequence_number(text: str) -> int:
    return int(text) - SEQUENCE_BASE


SEQUENCE_BASE = 10**20


def _event_id() -> bytes:
    """A random eventID, as opaque as AWS's (stored as 16 bytes, read as 32 hex digits)."""
    return getrandbits(128).to_bytes(16, "big")


def build_stored_record(
    event: str,
    view_type: str,
    region: str,
    keys: Item,
    old_item: Item | None,
    new_item: Item | None,
    sequence: int,
    created: float,
    user_identity: dict[str, str] | None = None,
    new_size: int | None = None,
    old_size: int | None = None,
    new_blob: bytes | None = None,
) -> StoredRecord:
    """One record's parts (as the stream log stores them); images per view type,
    omitted not empty.

    Runs on every write to a stream-enabled table: callers pass arguments by position.
    The new image is usually already encoded (it is the stored item), so it is reused
    rather than encoded a second time. (`sequence` and `created` are stored by the
    stream log itself.)
    """
    size = item_size(keys)
    new_image = old_image = None
    if new_item is not None and view_type in _NEW_IMAGE_VIEWS:
        new_image = orjson.dumps(new_item) if new_blob is None else new_blob
        size += item_size(new_item) if new_size is None else new_size
    if old_item is not None and view_type in _OLD_IMAGE_VIEWS:
        old_image = orjson.dumps(old_item)
        size += item_size(old_item) if old_size is None else old_size
    return (
        EVENT_CODES[event] | VIEW_CODES[view_type],
        _event_id(),
        orjson.dumps(region),
        orjson.dumps(keys),
        new_image,
        old_image,
        size,
        None if user_identity is None else orjson.dumps(user_identity),
    )


def build_insert_record(
    view_type: str,
    region: str,
    keys: Item,
    sequence: int,
    created: float,
    size: int,
    blob: bytes,
) -> StoredRecord:
    """`build_record` of a new item's INSERT (the record most writes make), in one step;
    `size` and `blob` are the stored item's size and bytes. Its new image is left out:
    `StreamLog.insert_item_with_record` stores the record with the item, and the item is
    its new image until it changes."""
    if view_type not in _NEW_IMAGE_VIEWS:
        return build_stored_record("INSERT", view_type, region, keys, None, None, sequence, created)
    return (
        EVENT_CODES["INSERT"] | VIEW_CODES[view_type],
        _event_id(),
        orjson.dumps(region),
        orjson.dumps(keys),
        None,
        None,
        item_size(keys) + size,
        None,
    )


def build_record(
    event: str,
    view_type: str,
    region: str,
    keys: Item,
    old_item: Item | None,
    new_item: Item | None,
    sequence: int,
    created: float,
    user_identity: dict[str, str] | None = None,
) -> bytes:
    """The GetRecords wire form of one record (what the stream log gives back for the
    parts `build_stored_record` makes)."""
    parts = build_stored_record(
        event, view_type, region, keys, old_item, new_item, sequence, created, user_identity
    )
    return wire_form(sequence, created, parts, parts[4])
