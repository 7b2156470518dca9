"""Stream records: which event a write produces, and the record in its final wire form.

A record is encoded once, at write time; GetRecords then splices stored bytes together.
"""

from __future__ import annotations

import os

import orjson

from emulator.model.values import Item, item_size, items_equal

EVENT_VERSION = "1.1"
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


def build_record(
    *,
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

    Assembled from byte pieces: the new image is usually already encoded (it is the
    stored item), so it is spliced in rather than encoded a second time.
    """
    size = item_size(keys)
    parts = [
        b'{"eventID":"',
        os.urandom(16).hex().encode(),
        b'","eventName":"',
        event.encode(),
        b'","eventVersion":"'
        + EVENT_VERSION.encode()
        + b'","eventSource":"'
        + EVENT_SOURCE.encode()
        + b'","awsRegion":',
        orjson.dumps(region),
        b',"dynamodb":{"ApproximateCreationDateTime":',
        str(int(created)).encode(),
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
    parts.append(b',"SequenceNumber":"')
    parts.append(encode_sequence_number(sequence).encode())
    parts.append(b'","SizeBytes":')
    parts.append(str(size).encode())
    parts.append(b',"StreamViewType":"')
    parts.append(view_type.encode())
    parts.append(b'"}')
    if user_identity is not None:
        parts.append(b',"userIdentity":')
        parts.append(orjson.dumps(user_identity))
    parts.append(b"}")
    return b"".join(parts)
