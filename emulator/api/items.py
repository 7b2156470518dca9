"""PutItem, GetItem, UpdateItem, DeleteItem."""

from __future__ import annotations

from typing import Any

import orjson

from emulator.api.common import (
    INVALID,
    WriteCharge,
    consumed_capacity,
    find_table,
    item_collection_metrics,
    read_units,
    write_units,
)
from emulator.api.expressions import RequestExpressions, prepare_expressions
from emulator.errors import ConditionalCheckFailedException, ValidationException
from emulator.model import legacy
from emulator.model.expressions import apply_projection, apply_update, evaluate_condition
from emulator.model.indexes import check_index_keys
from emulator.model.keys import key_of, storage_key, validate_item_key, validate_key
from emulator.model.values import Item, check_item_size, item_size, validate_item
from emulator.runtime.backend import Backend
from emulator.storage.engine import TableRow

_PUT_RETURN_VALUES = frozenset({"NONE", "ALL_OLD"})
_UPDATE_RETURN_VALUES = frozenset({"NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW"})
_UPDATE_SIZE_MESSAGE = "Item size to update has exceeded the maximum allowed size"


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


def _write_result(
    backend: Backend,
    request: dict[str, Any],
    result: dict[str, Any],
    row: TableRow,
    key: Item,
    hash_key: bytes,
    old: tuple[Item | None, int],
    new: tuple[Item | None, int],
) -> dict[str, Any]:
    """A single-item write's ConsumedCapacity (the table's units on the larger of the
    old and new item, plus each index's) and ItemCollectionMetrics, as asked."""
    if request.get("ReturnConsumedCapacity", "NONE") != "NONE":
        charge = WriteCharge()
        charge.add(row, write_units(max(old[1], new[1])), old[0], new[0])
        result["ConsumedCapacity"] = charge.capacity(request, row.name)
    if request.get("ReturnItemCollectionMetrics") == "SIZE":
        metrics = item_collection_metrics(backend, row, key, hash_key)
        if metrics is not None:
            result["ItemCollectionMetrics"] = metrics
    return result


def _conditional_expressions(request: dict[str, Any], **kwargs: Any) -> RequestExpressions:
    """The ConditionExpression (or legacy Expected) of a write, checked before any read."""
    prepared = prepare_expressions(request, condition="ConditionExpression", **kwargs)
    if request.get("Expected") is not None:
        legacy.validate_expected(request["Expected"], request.get("ConditionalOperator"))
    elif request.get("ConditionalOperator") is not None:
        raise ValidationException(
            "ConditionalOperator can only be used when Expected or KeyConditions or "
            "QueryFilter or ScanFilter are present"
        )
    return prepared


def check_condition(
    request: dict[str, Any], prepared: RequestExpressions, item: Item | None
) -> None:
    """Raise ConditionalCheckFailedException (with the item when asked) if the write's
    condition does not hold for the current item."""
    if prepared.condition is not None:
        holds = evaluate_condition(prepared.condition, item, prepared.ctx)
    elif request.get("Expected") is not None:
        holds = legacy.evaluate_expected(
            request["Expected"], request.get("ConditionalOperator"), item
        )
    else:
        return
    if holds:
        return
    if request.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and item is not None:
        # AWS capitalises `Message` when the body carries the item (SPEC 5.7).
        raise ConditionalCheckFailedException(
            None, Message="The conditional request failed", Item=item
        )
    raise ConditionalCheckFailedException()


def put_item(backend: Backend, region: str, request: dict[str, Any]) -> dict[str, Any]:
    row = find_table(backend, region, request["TableName"])
    state = row.state
    schema = state.key_schema
    item = validate_item(request["Item"])
    validate_item_key(schema, item)
    check_index_keys(state.indexes, item)
    size = check_item_size(item)
    return_values = _check_return_values(request, _PUT_RETURN_VALUES)
    prepared = _conditional_expressions(request)
    has_condition = prepared.condition is not None or request.get("Expected") is not None
    key = key_of(schema, item)
    hash_key, range_key = storage_key(schema, key)
    wants_capacity = request.get("ReturnConsumedCapacity", "NONE") != "NONE"
    wants_metrics = request.get("ReturnItemCollectionMetrics") == "SIZE"
    needs_old = return_values != "NONE" or wants_capacity or has_condition or wants_metrics
    pipeline = backend.pipeline
    if not needs_old:
        pipeline.put(row, key, hash_key, range_key, item, size)
        return {}
    with pipeline.scope(row):
        old_item, old_size = pipeline.load(row, hash_key, range_key)
        check_condition(request, prepared, old_item)
        pipeline.write(row, key, hash_key, range_key, old_item, old_size, item, size)
    result: dict[str, Any] = {}
    if return_values == "ALL_OLD" and old_item is not None:
        result["Attributes"] = old_item
    return _write_result(
        backend, request, result, row, key, hash_key, (old_item, old_size), (item, size)
    )


def get_item(backend: Backend, region: str, request: dict[str, Any]) -> dict[str, Any] | bytes:
    row = find_table(backend, region, request["TableName"])
    schema = row.state.key_schema
    key = validate_key(schema, request["Key"])
    prepared = prepare_expressions(request, projection=True)
    attributes = request.get("AttributesToGet")
    if attributes is not None:
        legacy.validate_attributes_to_get(attributes)
    hash_key, range_key = storage_key(schema, key)
    found = backend.engine.items.get(row.table_id, hash_key, range_key)
    blob = None if found is None else found[0]
    wants_capacity = request.get("ReturnConsumedCapacity", "NONE") != "NONE"
    if prepared.projection is None and attributes is None and not wants_capacity:
        # The common case: splice the stored bytes, no decode / re-encode.
        return b"{}" if blob is None else b'{"Item":' + blob + b"}"
    result: dict[str, Any] = {}
    size = 0
    if blob is not None:
        item: Item = orjson.loads(blob)
        size = item_size(item)
        if prepared.projection is not None:
            item = apply_projection(item, prepared.projection)
        elif attributes is not None:
            item = legacy.project_attributes(item, attributes)
        result["Item"] = item
    units = read_units(size, bool(request.get("ConsistentRead")))
    return _with_capacity(result, request, row.name, units)


def delete_item(backend: Backend, region: str, request: dict[str, Any]) -> dict[str, Any]:
    row = find_table(backend, region, request["TableName"])
    schema = row.state.key_schema
    key = validate_key(schema, request["Key"])
    return_values = _check_return_values(request, _PUT_RETURN_VALUES)
    prepared = _conditional_expressions(request)
    hash_key, range_key = storage_key(schema, key)
    pipeline = backend.pipeline
    with pipeline.scope(row):
        old_item, old_size = pipeline.load(row, hash_key, range_key)
        check_condition(request, prepared, old_item)
        pipeline.write(row, key, hash_key, range_key, old_item, old_size, None)
    result: dict[str, Any] = {}
    if return_values == "ALL_OLD" and old_item is not None:
        result["Attributes"] = old_item
    return _write_result(
        backend, request, result, row, key, hash_key, (old_item, old_size), (None, 0)
    )


def update_item(backend: Backend, region: str, request: dict[str, Any]) -> dict[str, Any]:
    row = find_table(backend, region, request["TableName"])
    state = row.state
    schema = state.key_schema
    key = validate_key(schema, request["Key"])
    return_values = _check_return_values(request, _UPDATE_RETURN_VALUES)
    prepared = _conditional_expressions(request, update=True, key_names=schema.names)
    attribute_updates = request.get("AttributeUpdates")
    if attribute_updates is not None:
        legacy.validate_attribute_updates(attribute_updates, schema.names)
    hash_key, range_key = storage_key(schema, key)
    pipeline = backend.pipeline
    with pipeline.scope(row):
        old_item, old_size = pipeline.load(row, hash_key, range_key)
        check_condition(request, prepared, old_item)
        new_item, attributes = _updated_item(
            prepared, attribute_updates, old_item, key, schema.names, return_values
        )
        size = 0
        if new_item is not None:
            size = check_item_size(new_item, _UPDATE_SIZE_MESSAGE)
            check_index_keys(state.indexes, new_item)
            pipeline.write(row, key, hash_key, range_key, old_item, old_size, new_item, size)
    if return_values == "ALL_OLD":
        attributes = old_item
    elif return_values == "ALL_NEW":
        attributes = new_item
    result: dict[str, Any] = {"Attributes": attributes} if attributes else {}
    return _write_result(
        backend, request, result, row, key, hash_key, (old_item, old_size), (new_item, size)
    )


def _updated_item(
    prepared: RequestExpressions,
    attribute_updates: dict[str, Any] | None,
    old_item: Item | None,
    key: Item,
    key_names: tuple[str, ...],
    return_values: str,
) -> tuple[Item | None, Item | None]:
    """The item after the update (None: nothing to store) and, for UPDATED_OLD /
    UPDATED_NEW, the attributes to return."""
    if prepared.update is not None:
        if old_item is None and prepared.update.removes_only:
            return None, None  # an update that only removes does not create the item
        update = apply_update(prepared.update, old_item or dict(key), prepared.ctx, key_names)
        if return_values == "UPDATED_OLD":
            return update.item, update.updated_old(old_item)
        if return_values == "UPDATED_NEW":
            return update.item, update.updated_new()
        return update.item, None
    if attribute_updates is not None:
        new_item, names = legacy.apply_attribute_updates(
            attribute_updates, old_item, key, key_names
        )
        if return_values == "UPDATED_OLD":
            return new_item, {n: old_item[n] for n in names if old_item and n in old_item}
        if return_values == "UPDATED_NEW":
            return new_item, {n: new_item[n] for n in names if new_item and n in new_item}
        return new_item, None
    return (old_item if old_item is not None else dict(key)), None
