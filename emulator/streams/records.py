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
_VIEW_TYPES = ("KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES")
# Constant pieces of the wire form, encoded once: a record is built on every write.
_EVENT_NAMES = {
    name: b'","eventName":"%s","eventVersion":"%s","eventSource":"%s","awsRegion":'
    % (name.encode(), EVENT_VERSION.encode(), EVENT_SOURCE.encode())
    for name in ("INSERT", "MODIFY", "REMOVE")
}
_VIEW_TYPE_ENDINGS = {
    view_type: b',"StreamViewType":"%s"}' % view_type.encode() for view_type in _VIEW_TYPES
}


@functools.cache
def _region_bytes(region: str) -> bytes:
    return orjson.dumps(region)


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

    Assembled from byte pieces: the new image is usually already encoded (it is the
    stored item), so it is spliced in rather than encoded a second time.
    """
    size = item_size(keys)
    parts = [
        b'{"eventID":"%032x' % getrandbits(128),
        _EVENT_NAMES[event],
        _region_bytes(region),
        b',"dynamodb":{"ApproximateCreationDateTime":',
        b"%d" % created,
        b',"Keys":',
        orjson.dumps(keys),
    ]
    if new_item is not None and view_type in _NEW_IMAGE_VIEWS:
        parts.append(b',"NewImage":')
        parts.append(orjson.dumps(new_item) if new_blob is None else new_blob)
        size += item_size(new_item) if new_size is None else new_size
    if old_item is not None and view_type in _OLD_IMAGE_VIEWS:
        parts.append(b',"OldImage":')
        parts.append(orjson.dumps(old_item))
        size += item_size(old_item) if old_size is None else old_size
    parts.append(b',"SequenceNumber":"%d","SizeBytes":%d' % (SEQUENCE_BASE + sequence, size))
    parts.append(_VIEW_TYPE_ENDINGS[view_type])
    if user_identity is not None:
        parts.append(b',"userIdentity":')
        parts.append(orjson.dumps(user_identity))
    parts.append(b"}")
    return b"".join(parts)
