"""The one write path every item change goes through: the item, and its stream record,
in the caller's transaction."""

from __future__ import annotations

from typing import Any

import orjson

from emulator.api.backend import Backend
from emulator.api.common import STREAM_ID
from emulator.errors import ValidationException
from emulator.model.keys import KeySchema, encode_key_av
from emulator.model.values import Item, item_size
from emulator.storage.engine import TableRow

MAX_ITEM_BYTES = 400 * 1024


def storage_key(schema: KeySchema, key: Item) -> tuple[bytes, bytes]:
    """(hash_key, range_key) bytes for the storage engine; range_key is b'' without one."""
    hash_key = encode_key_av(key[schema.hash_name])
    if schema.range_name is None:
        return hash_key, b""
    return hash_key, encode_key_av(key[schema.range_name])


def load_item(backend: Backend, row: TableRow, hash_key: bytes, range_key: bytes) -> Item | None:
    blob = backend.engine.get_item(row.table_id, hash_key, range_key)
    return None if blob is None else orjson.loads(blob)


def check_item_size(
    item: Item, message: str = "Item size has exceeded the maximum allowed size"
) -> int:
    size = item_size(item)
    if size > MAX_ITEM_BYTES:
        raise ValidationException(message)
    return size


def write_item(
    backend: Backend,
    row: TableRow,
    region: str,
    key: Item,
    hash_key: bytes,
    range_key: bytes,
    old_item: Item | None,
    new_item: Item | None,
    *,
    size: int | None = None,
    user_identity: dict[str, Any] | None = None,
) -> None:
    """Store `new_item` (None deletes) and append the stream record the change produces.

    Must run inside `engine.transaction()`, so the item and its record commit together.
    """
    engine = backend.engine
    if new_item is None:
        if old_item is None:
            return
        engine.delete_item(row.table_id, hash_key, range_key)
    else:
        engine.put_item(
            row.table_id,
            hash_key,
            range_key,
            item_size(new_item) if size is None else size,
            orjson.dumps(new_item),
        )
    stream_id = row.description.get(STREAM_ID)
    if stream_id is not None:
        backend.streams.record_change(
            stream_id, region, hash_key, key, old_item, new_item, user_identity
        )
