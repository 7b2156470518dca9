"""BatchGetItem and BatchWriteItem."""

from __future__ import annotations

from typing import Any

import orjson

from emulator.api.common import (
    StageClock,
    Staged,
    WriteCharge,
    consumed_capacity,
    find_table,
    item_collection_metrics,
    read_units,
    write_units,
)
from emulator.api.expressions import prepare_expressions
from emulator.errors import ValidationException
from emulator.model import legacy
from emulator.model.expressions import apply_projection
from emulator.model.indexes import check_index_keys
from emulator.model.keys import key_of, storage_key, validate_item_key, validate_key
from emulator.model.values import Item, check_item_size, validate_item
from emulator.runtime.backend import Backend

MAX_BATCH_GET_KEYS = 100
MAX_BATCH_WRITE_REQUESTS = 25
MAX_RESPONSE_BYTES = 16 * 1024 * 1024
_DUPLICATES = "Provided list of item keys contains duplicates"


def batch_get_item(backend: Backend, region: str, request: dict[str, Any]) -> Staged:
    """Staged (see `Staged`): reading a hundred 400 KB items takes a while; between
    stages other writes may land, as they may between the reads of a batch on AWS."""
    stage = StageClock()
    request_items: dict[str, Any] = request["RequestItems"]
    if not request_items:
        raise ValidationException("The requestItems parameter is required for BatchGetItem")
    if sum(len(spec.get("Keys") or []) for spec in request_items.values()) > MAX_BATCH_GET_KEYS:
        raise ValidationException("Too many items requested for the BatchGetItem call")
    plans = []
    for table_name, spec in request_items.items():
        row = find_table(backend, region, table_name)
        schema = row.state.key_schema
        prepared = prepare_expressions(spec, projection=True)
        attributes = spec.get("AttributesToGet")
        if attributes is not None:
            legacy.validate_attributes_to_get(attributes)
        keys = [validate_key(schema, key) for key in spec["Keys"]]
        storage_keys = [storage_key(schema, key) for key in keys]
        if len(set(storage_keys)) != len(storage_keys):
            raise ValidationException(_DUPLICATES)
        plans.append((table_name, row, spec, prepared, keys, storage_keys))

    responses: dict[str, list[Item]] = {}
    unprocessed: dict[str, Any] = {}
    capacities = []
    total = 0
    for table_name, row, spec, prepared, keys, storage_keys in plans:
        found: list[Item] = []
        responses[table_name] = found
        units = 0.0
        for key, (hash_key, range_key) in zip(keys, storage_keys, strict=True):
            if total > MAX_RESPONSE_BYTES:
                pending = unprocessed.setdefault(
                    table_name, {k: v for k, v in spec.items() if k != "Keys"} | {"Keys": []}
                )
                pending["Keys"].append(key)
                continue
            yield from stage.pause()  # a table deleted meanwhile has no items: none found
            stored = backend.engine.items.get(row.table_id, hash_key, range_key)
            if stored is None:
                # Reading a missing item still costs one read, as GetItem's does.
                units += read_units(0, bool(spec.get("ConsistentRead")))
                continue
            blob, size = stored
            total += size
            units += read_units(size, bool(spec.get("ConsistentRead")))
            item: Item = orjson.loads(blob)
            if prepared.projection is not None:
                item = apply_projection(item, prepared.projection)
            elif spec.get("AttributesToGet") is not None:
                item = legacy.project_attributes(item, spec["AttributesToGet"])
            found.append(item)
        capacity = consumed_capacity(request, row.name, units)
        if capacity is not None:
            capacities.append(capacity)
    result: dict[str, Any] = {"Responses": responses, "UnprocessedKeys": unprocessed}
    if request.get("ReturnConsumedCapacity", "NONE") != "NONE":
        result["ConsumedCapacity"] = capacities
    return result


def batch_write_item(backend: Backend, region: str, request: dict[str, Any]) -> Staged:
    """Staged (see `Staged`). The writes of a batch are independent, as on AWS: a large
    batch commits in several transactions, each write atomic with its stream record."""
    stage = StageClock()
    request_items: dict[str, list[dict[str, Any]]] = request["RequestItems"]
    if not request_items:
        raise ValidationException("The requestItems parameter is required for BatchWriteItem")
    count = sum(len(requests) for requests in request_items.values())
    if count > MAX_BATCH_WRITE_REQUESTS:
        raise ValidationException("Too many items requested for the BatchWriteItem call")
    # Validate everything first: a bad request writes nothing.
    planned = []
    for table_name, requests in request_items.items():
        row = find_table(backend, region, table_name)
        schema = row.state.key_schema
        seen: set[tuple[bytes, bytes]] = set()
        for write_request in requests:
            put = write_request.get("PutRequest")
            delete = write_request.get("DeleteRequest")
            if (put is None) == (delete is None):
                raise ValidationException(
                    "A WriteRequest must contain exactly one of PutRequest or DeleteRequest"
                )
            new_item: Item | None
            if put is not None:
                new_item = validate_item(put["Item"])
                validate_item_key(schema, new_item)
                check_index_keys(row.state.indexes, new_item)
                size = check_item_size(new_item)
                key = key_of(schema, new_item)
            else:
                key = validate_key(schema, delete["Key"])  # type: ignore[index]
                new_item, size = None, 0
            storage = storage_key(schema, key)
            if storage in seen:
                raise ValidationException(_DUPLICATES)
            seen.add(storage)
            planned.append((table_name, write_request, row, key, storage, new_item, size))
            yield from stage.pause()

    charges: dict[str, WriteCharge] = {}
    wants_metrics = request.get("ReturnItemCollectionMetrics") == "SIZE"
    collections: dict[str, list[dict[str, Any]]] = {}
    unprocessed: dict[str, list[dict[str, Any]]] = {}
    engine = backend.engine
    done = 0
    while done < len(planned):
        if done:
            yield  # the last transaction ran long enough: let the others run
            stage = StageClock()
        with engine.transaction():
            while done < len(planned):
                table_name, write_request, row, key, storage, new_item, size = planned[done]
                done += 1
                if engine.get_table(row.region, row.name) is not row:
                    # Deleted (or replaced) while this batch let others run.
                    unprocessed.setdefault(table_name, []).append(write_request)
                    continue
                pipeline = backend.pipeline
                old_item, old_size = pipeline.load(row, *storage)
                pipeline.write(
                    row,
                    key,
                    *storage,
                    old_item,
                    old_size,
                    new_item,
                    size if new_item is not None else None,
                )
                charge = charges.setdefault(row.name, WriteCharge())
                charge.add(row, write_units(max(size, old_size)), old_item, new_item)
                if wants_metrics:
                    metrics = item_collection_metrics(backend, row, key, storage[0])
                    if metrics is not None:
                        collections.setdefault(row.name, []).append(metrics)
                if stage.due():
                    break
    result: dict[str, Any] = {"UnprocessedItems": unprocessed}
    if request.get("ReturnConsumedCapacity", "NONE") != "NONE":
        result["ConsumedCapacity"] = [
            charge.capacity(request, name) for name, charge in charges.items()
        ]
    if collections:
        # Per table with a local secondary index, one entry per item written.
        result["ItemCollectionMetrics"] = collections
    return result
