"""PutItem, GetItem, UpdateItem, DeleteItem."""

from __future__ import annotations

from typing import Any

import orjson

from emulator.api.backend import Backend
from emulator.api.common import (
    INVALID,
    consumed_capacity,
    find_table,
    key_schema,
    read_units,
    write_units,
)
from emulator.api.writes import (
    check_index_keys,
    check_item_size,
    load_item,
    load_sized_item,
    storage_key,
    tracks_changes,
    write_item,
)
from emulator.errors import ValidationException
from emulator.model.keys import key_of, validate_item_key, validate_key
from emulator.model.values import Item, item_size, validate_item

_PUT_RETURN_VALUES = frozenset({"NONE", "ALL_OLD"})


def _check_return_values(request: dict[str, Any], allowed: frozenset[str]) -> str:
    return_values = request.get("ReturnValues", "NONE")
    if return_values not in allowed:
        raise ValidationException(INVALID + "Return values set to invalid value")
    return str(return_values)


def _with_capacity(
    result: dict[str, Any], request: dict[str, Any], table_name: str, units: float
) -> dict[str, Any]:
    capacity = consumed_capacity(request, table_name, units)
    if capacity is not None:
        result["ConsumedCapacity"] = capacity
    return result


def put_item(backend: Backend, region: str, request: dict[str, Any]) -> dict[str, Any]:
    row = find_table(backend, region, request["TableName"])
    schema = key_schema(row)
    item = validate_item(request["Item"])
    validate_item_key(schema, item)
    check_index_keys(row, item)
    size = check_item_size(item)
    return_values = _check_return_values(request, _PUT_RETURN_VALUES)
    key = key_of(schema, item)
    hash_key, range_key = storage_key(schema, key)
    wants_capacity = request.get("ReturnConsumedCapacity", "NONE") != "NONE"
    needs_old = return_values != "NONE" or wants_capacity or tracks_changes(row)
    with backend.engine.transaction():
        old_item, old_size = (
            load_sized_item(backend, row, hash_key, range_key) if needs_old else (None, 0)
        )
        write_item(
            backend,
            row,
            region,
            key,
            hash_key,
            range_key,
            old_item,
            item,
            size=size,
            old_size=old_size,
        )
    result: dict[str, Any] = {}
    if return_values == "ALL_OLD" and old_item is not None:
        result["Attributes"] = old_item
    if wants_capacity:
        units = write_units(max(size, old_size))
        return _with_capacity(result, request, row.name, units)
    return result


def get_item(backend: Backend, region: str, request: dict[str, Any]) -> dict[str, Any] | bytes:
    row = find_table(backend, region, request["TableName"])
    schema = key_schema(row)
    key = validate_key(schema, request["Key"])
    hash_key, range_key = storage_key(schema, key)
    blob = backend.engine.get_item(row.table_id, hash_key, range_key)
    attributes = request.get("AttributesToGet")
    wants_capacity = request.get("ReturnConsumedCapacity", "NONE") != "NONE"
    if not attributes and not wants_capacity:
        # The common case: splice the stored bytes, no decode / re-encode.
        return b"{}" if blob is None else b'{"Item":' + blob + b"}"
    result: dict[str, Any] = {}
    size = 0
    if blob is not None:
        item: Item = orjson.loads(blob)
        size = item_size(item)
        if attributes:
            item = {name: item[name] for name in attributes if name in item}
        if item:
            result["Item"] = item
    units = read_units(size, bool(request.get("ConsistentRead")))
    return _with_capacity(result, request, row.name, units)


def delete_item(backend: Backend, region: str, request: dict[str, Any]) -> dict[str, Any]:
    row = find_table(backend, region, request["TableName"])
    schema = key_schema(row)
    key = validate_key(schema, request["Key"])
    return_values = _check_return_values(request, _PUT_RETURN_VALUES)
    hash_key, range_key = storage_key(schema, key)
    with backend.engine.transaction():
        old_item = load_item(backend, row, hash_key, range_key)
        write_item(backend, row, region, key, hash_key, range_key, old_item, None)
    result: dict[str, Any] = {}
    if return_values == "ALL_OLD" and old_item is not None:
        result["Attributes"] = old_item
    units = write_units(item_size(old_item) if old_item else 0)
    return _with_capacity(result, request, row.name, units)
