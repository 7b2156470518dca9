"""Stream records: which event a write produces, and the record in its final wire form.

A record is encoded once, at write time; GetRecords then splices stored bytes together.
"""

from __future__ import annotations

import functools
from random import getrandbits

import orjson

from emulator.model.values import Item, item_size, items_equal

EVENT_VERSION = "1.1"
EVENT_SOURCE = "aws:dynamodb"
TTL_IDENTITY = {"Type": "Service", "PrincipalId": "dynamodb.amazonaws.com"}

_NEW_IMAGE_VIEWS = frozenset({"NEW_IMAGE", "NEW_AND_OLD_IMAGES"})
_OLD_IMAGE_VIEWS = frozenset({"OLD_IMAGE", "NEW_AND_OLD_IMAGES"})


@functools.cache
def _record_template(
    event: str, view_type: str, region: str, new_image: bool, old_image: bool, identity: bool
) -> bytes:
    """The wire form of a record with `%` slots for what varies per record, so a record
    is one formatting operation (this runs on every write to a stream table)."""
    template = (
        b'{"eventID":"%%032x","eventName":"%s","eventVersion":"%s","eventSource":"%s",'
        b'"awsRegion":%s,"dynamodb":{"ApproximateCreationDateTime":%%d,"Keys":%%s'
        % (
            event.encode(),
            EVENT_VERSION.encode(),
            EVENT_SOURCE.encode(),
            orjson.dumps(region).replace(b"%", b"%%"),
        )
    )
    if new_image:
        template += b',"NewImage":%s'
    if old_image:
        template += b',"OldImage":%s'
    template += b',"SequenceNumber":"%%d","SizeBytes":%%d,"StreamViewType":"%s"}' % (
        view_type.encode()
    )
    if identity:
        template += b',"userIdentity":%s'
    return template + b"}"


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
    new_size: int | None = None,
    old_size: int | None = None,
    new_blob: bytes | None = None,
) -> bytes:
    """The GetRecords wire form of one record; images per view type, omitted not empty.

    Runs on every write to a stream-enabled table: callers pass arguments by position.
    The new image is usually already encoded (it is the stored item), so it is spliced
    in rather than encoded a second time.
    """
    size = item_size(keys)
    values: list[object] = [
        getrandbits(128),  # a random eventID, as opaque as AWS's
        int(created),
        orjson.dumps(keys),
    ]
    new_image = old_image = False
    if new_item is not None and view_type in _NEW_IMAGE_VIEWS:
        new_image = True
        values.append(orjson.dumps(new_item) if new_blob is None else new_blob)
        size += item_size(new_item) if new_size is None else new_size
    if old_item is not None and view_type in _OLD_IMAGE_VIEWS:
        old_image = True
        values.append(orjson.dumps(old_item))
        size += item_size(old_item) if old_size is None else old_size
    values.append(SEQUENCE_BASE + sequence)
    values.append(size)
    if user_identity is not None:
        values.append(orjson.dumps(user_identity))
    template = _record_template(
        event, view_type, region, new_image, old_image, user_identity is not None
    )
    return template % tuple(values)


def build_insert_record(
    view_type: str,
    region: str,
    keys: Item,
    sequence: int,
    created: float,
    size: int,
    blob: bytes,
) -> bytes:
    """`build_record` of a new item's INSERT (the record most writes make), in one step;
    `size` and `blob` are the stored item's size and bytes."""
    if view_type not in _NEW_IMAGE_VIEWS:
        return build_record("INSERT", view_type, region, keys, None, None, sequence, created)
    return _record_template("INSERT", view_type, region, True, False, False) % (
        getrandbits(128),  # a random eventID, as opaque as AWS's
        int(created),
        orjson.dumps(keys),
        blob,
        SEQUENCE_BASE + sequence,
        item_size(keys) + size,
    )
