"""The one write path every item change goes through: the item, and its stream record,
in the caller's transaction."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from typing import Any

import orjson

from emulator.api.backend import Backend
from emulator.api.common import STREAM_ID, TTL, table_indexes
from emulator.errors import ValidationException
from emulator.model.indexes import IndexSchema
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


def load_sized_item(
    backend: Backend, row: TableRow, hash_key: bytes, range_key: bytes
) -> tuple[Item | None, int]:
    """The stored item and its stored size (0 when absent): sizes are never recomputed."""
    found = backend.engine.get_item_and_size(row.table_id, hash_key, range_key)
    if found is None:
        return None, 0
    return orjson.loads(found[0]), found[1]


def check_item_size(
    item: Item, message: str = "Item size has exceeded the maximum allowed size"
) -> int:
    size = item_size(item)
    if size > MAX_ITEM_BYTES:
        raise ValidationException(message)
    return size


def expiry_of(item: Item, attribute: str) -> float | None:
    """The item's TTL instant: its TTL attribute when that is a Number, else none."""
    value = item.get(attribute)
    if value is None:
        return None
    number = value.get("N")
    return None if number is None else float(number)


def write_scope(backend: Backend, row: TableRow) -> AbstractContextManager[None]:
    """The transaction around a single-item write: an explicit one when the write spans
    several statements (index entries, a stream record); otherwise the item's one write
    statement is its own transaction, and the read before it cannot interleave with
    another request (every request runs on the one event loop thread)."""
    return backend.engine.transaction() if tracks_changes(row) else nullcontext()


def tracks_changes(row: TableRow) -> bool:
    """Whether a write must know the old item (for stream records or index entries)."""
    return STREAM_ID in row.description or bool(table_indexes(row))


def check_index_keys(row: TableRow, item: Item) -> None:
    """Reject an item whose secondary-index key attributes have the wrong type."""
    for index in table_indexes(row):
        index.check_item(item)


def table_key_bytes(hash_key: bytes, range_key: bytes) -> bytes:
    """The table key of an index entry: unambiguous (length-prefixed) and unique."""
    return len(hash_key).to_bytes(2, "big") + hash_key + range_key


def update_index_entries(
    backend: Backend,
    indexes: tuple[IndexSchema, ...],
    hash_key: bytes,
    range_key: bytes,
    old_item: Item | None,
    new_item: Item | None,
) -> None:
    engine = backend.engine
    table_key = table_key_bytes(hash_key, range_key)
    for index in indexes:
        if old_item is not None:
            old_key = index.entry_key(old_item)
            if old_key is not None:
                engine.index_delete(index.index_id, old_key[0], old_key[1], table_key)
        if new_item is not None:
            new_key = index.entry_key(new_item)
            if new_key is not None:
                projected = index.project(new_item)
                engine.index_put(
                    index.index_id,
                    new_key[0],
                    new_key[1],
                    table_key,
                    item_size(projected),
                    orjson.dumps(projected),
                )


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
    old_size: int | None = None,
    user_identity: dict[str, Any] | None = None,
) -> None:
    """Store `new_item` (None deletes) and append the stream record the change produces.

    Must run inside `engine.transaction()`, so the item and its record commit together.
    """
    engine = backend.engine
    blob = None
    if new_item is None:
        if old_item is None:
            return
        engine.delete_item(row.table_id, hash_key, range_key)
    else:
        if size is None:
            size = item_size(new_item)
        blob = orjson.dumps(new_item)
        engine.put_item(row.table_id, hash_key, range_key, size, blob, _expiry(row, new_item))
    _propagate(
        backend,
        row,
        region,
        key,
        hash_key,
        range_key,
        old_item,
        new_item,
        size,
        old_size,
        blob,
        user_identity,
    )


def store_item(
    backend: Backend, row: TableRow, hash_key: bytes, range_key: bytes, item: Item, size: int
) -> None:
    """PutItem's whole write on a table without stream or indexes, when nobody needs the
    old item: one statement, atomic on its own (SQLite's implicit transaction)."""
    backend.engine.put_item(
        row.table_id, hash_key, range_key, size, orjson.dumps(item), _expiry(row, item)
    )


def put_tracked_item(
    backend: Backend,
    row: TableRow,
    region: str,
    key: Item,
    hash_key: bytes,
    range_key: bytes,
    item: Item,
    size: int,
) -> None:
    """PutItem on a table with a stream or indexes, when nothing but the change itself
    needs the old item: the insert is tried first, so a new item costs one statement
    (with its INSERT record on a stream table without indexes), and only an item that
    exists is read (for its MODIFY record and index entries)."""
    engine = backend.engine
    blob = orjson.dumps(item)
    expires = _expiry(row, item)
    may_be_new = True
    stream_id = row.description.get(STREAM_ID)
    if stream_id is not None and not table_indexes(row):
        record = backend.streams.insert_record(stream_id, region, hash_key, key, size, blob)
        if record is not None:
            if engine.insert_item_with_record(
                row.table_id, hash_key, range_key, size, blob, expires, *record
            ):
                return
            may_be_new = False  # the insert found the item
    with engine.transaction():
        if may_be_new and engine.insert_item(
            row.table_id, hash_key, range_key, size, blob, expires
        ):
            _propagate(
                backend, row, region, key, hash_key, range_key, None, item, size, 0, blob, None
            )
            return
        replace_item(backend, row, region, key, hash_key, range_key, item, size)


def replace_item(
    backend: Backend,
    row: TableRow,
    region: str,
    key: Item,
    hash_key: bytes,
    range_key: bytes,
    new_item: Item | None,
    size: int | None,
) -> int:
    """Read the current item, then write `new_item` (None deletes) with its index entries
    and stream record; returns the old item's size (capacity is charged on it)."""
    old_item, old_size = load_sized_item(backend, row, hash_key, range_key)
    write_item(
        backend,
        row,
        region,
        key,
        hash_key,
        range_key,
        old_item,
        new_item,
        size=size,
        old_size=old_size,
    )
    return old_size


def _expiry(row: TableRow, item: Item) -> float | None:
    ttl = row.description.get(TTL)
    return expiry_of(item, ttl["AttributeName"]) if ttl and ttl["Enabled"] else None


def _propagate(
    backend: Backend,
    row: TableRow,
    region: str,
    key: Item,
    hash_key: bytes,
    range_key: bytes,
    old_item: Item | None,
    new_item: Item | None,
    size: int | None,
    old_size: int | None,
    blob: bytes | None,
    user_identity: dict[str, Any] | None,
) -> None:
    """What follows a stored change: index entries and the stream record."""
    indexes = table_indexes(row)
    if indexes:
        update_index_entries(backend, indexes, hash_key, range_key, old_item, new_item)
    stream_id = row.description.get(STREAM_ID)
    if stream_id is not None:
        backend.streams.record_change(
            stream_id,
            region,
            hash_key,
            key,
            old_item,
            new_item,
            user_identity,
            size,
            old_size,
            blob,
        )
