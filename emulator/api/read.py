"""Query and Scan, on tables and on secondary indexes.

Both read pages straight from the storage engine's key order: a Query is an index range
scan of one partition (sort-key bounds come from the key condition), a Scan walks the
whole table. Limit counts items read (before the filter), and a page also stops at 1 MB
of items read, as on AWS.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import Any

import orjson

from emulator.api.common import consumed_capacity, find_table, read_units
from emulator.api.expressions import RequestExpressions, prepare_expressions
from emulator.errors import ValidationException
from emulator.model import legacy
from emulator.model.expressions import FILTER, apply_projection, evaluate_condition
from emulator.model.expressions.context import walk_nodes
from emulator.model.expressions.key_condition import ResolvedKeyCondition
from emulator.model.expressions.nodes import Path
from emulator.model.indexes import IndexSchema
from emulator.model.keys import (
    KeySchema,
    composite_sort_bounds,
    encode_key_av,
    prefix_upper_bound,
    storage_key,
)
from emulator.model.values import Item, validate_value
from emulator.runtime.backend import Backend
from emulator.storage.engine import TableRow
from emulator.storage.indexes import table_key_bytes
from emulator.storage.items import Cursor, KeyRange

MAX_PAGE_BYTES = 1024 * 1024
_CHUNK = 256
_INVALID_START = "The provided starting key is invalid: "


@dataclass(slots=True)
class ReadPlan:
    """What one Query or Scan page reads and returns.

    Items travel as the JSON bytes the engine stores: without a filter or a projection
    they are never parsed, and the response is spliced from them (the read hot path).
    """

    row: TableRow
    schema: KeySchema
    index: IndexSchema | None
    prepared: RequestExpressions
    request: dict[str, Any]
    select: str
    limit: int | None
    consistent: bool
    #: The returned items, as JSON bytes.
    items: list[bytes] = field(default_factory=list)
    count: int = 0
    scanned: int = 0
    scanned_bytes: int = 0
    #: The last item read: LastEvaluatedKey is its key.
    last: bytes | None = None
    filtering: bool = False
    projecting: bool = False

    def __post_init__(self) -> None:
        request = self.request
        self.filtering = self.prepared.filter is not None or bool(
            request.get("QueryFilter") or request.get("ScanFilter")
        )
        self.projecting = (
            self.prepared.projection is not None or request.get("AttributesToGet") is not None
        )

    def accept(self, blob: bytes, size: int) -> None:
        """Count one item read; keep it if the filter passes."""
        self.scanned += 1
        self.scanned_bytes += size
        self.last = blob
        item: Item | None = None
        if self.filtering:
            item = orjson.loads(blob)
            if not self._passes(item):
                return
        self.count += 1
        if self.select == "COUNT":
            return
        if self.projecting:
            self.items.append(orjson.dumps(self._project(item or orjson.loads(blob))))
        else:
            self.items.append(blob)

    @property
    def plain(self) -> bool:
        """Neither filtered nor projected nor counted: items are returned as stored."""
        return not (self.filtering or self.projecting) and self.select != "COUNT"

    def take(self, rows: list[tuple[Any, ...]]) -> int:
        """`accept` for (hash_key, range_key, size, item) rows of a plain table read
        without Limit; stops once 1 MB was read. Returns how many rows were taken."""
        items = self.items
        total = self.scanned_bytes
        taken = 0
        for _hash, _range, size, blob in rows:
            items.append(blob)
            total += size
            taken += 1
            if total >= MAX_PAGE_BYTES:
                break
        if taken:
            self.last = rows[taken - 1][3]
        self.scanned += taken
        self.count += taken
        self.scanned_bytes = total
        return taken

    def full(self) -> bool:
        return (self.limit is not None and self.scanned >= self.limit) or (
            self.scanned_bytes >= MAX_PAGE_BYTES
        )

    def _key_of(self, item: Item) -> Item:
        names = list(self.schema.names)
        if self.index is not None:
            names.extend(n for n in self.index.key.names if n not in names)
        return {name: item[name] for name in names if name in item}

    def _passes(self, item: Item) -> bool:
        prepared = self.prepared
        if prepared.filter is not None:
            return evaluate_condition(prepared.filter, item, prepared.ctx)
        conditions = self.request.get("QueryFilter") or self.request.get("ScanFilter")
        if conditions:
            return legacy.evaluate_filter(conditions, self.request.get("ConditionalOperator"), item)
        return True

    def _project(self, item: Item) -> Item:
        if self.prepared.projection is not None:
            return apply_projection(item, self.prepared.projection)
        attributes = self.request.get("AttributesToGet")
        if attributes is not None:
            return legacy.project_attributes(item, attributes)
        return item

    def response(self) -> bytes:
        result: dict[str, Any] = {"Count": self.count, "ScannedCount": self.scanned}
        if self.full() and self.last is not None:
            result["LastEvaluatedKey"] = self._key_of(orjson.loads(self.last))
        units = read_units(self.scanned_bytes, self.consistent)
        capacity = consumed_capacity(self.request, self.row.name, units, self.index)
        if capacity is not None:
            result["ConsumedCapacity"] = capacity
        tail = orjson.dumps(result)
        if self.select == "COUNT":
            return tail
        return b'{"Items":[' + b",".join(self.items) + b"]," + tail[1:]


def _resolve_index(row: TableRow, request: dict[str, Any]) -> IndexSchema | None:
    name = request.get("IndexName")
    if name is None:
        return None
    index = row.state.find_index(name)
    if index is None:
        raise ValidationException(f"The table does not have the specified index: {name}")
    transition = row.state.transition
    if transition is not None and transition.creates(name):
        # A GSI that UpdateTable is still creating (``--table-delay-ms``).
        raise ValidationException(f"Cannot read from backfilling global secondary index: {name}")
    if index.is_global and request.get("ConsistentRead"):
        raise ValidationException("Consistent reads are not supported on global secondary indexes")
    return index


def _select(request: dict[str, Any], index: IndexSchema | None, operation: str) -> str:
    select = request.get("Select")
    specific = request.get("ProjectionExpression") is not None or bool(
        request.get("AttributesToGet")
    )
    if select is None:
        if specific:
            return "SPECIFIC_ATTRIBUTES"
        return "ALL_PROJECTED_ATTRIBUTES" if index is not None else "ALL_ATTRIBUTES"
    if select == "SPECIFIC_ATTRIBUTES" and not specific:
        raise ValidationException(
            "One or more parameter values were invalid: Select type SPECIFIC_ATTRIBUTES "
            "requires ProjectionExpression or AttributesToGet"
        )
    if select != "SPECIFIC_ATTRIBUTES" and specific:
        if request.get("ProjectionExpression") is not None:
            raise ValidationException(
                f"Cannot specify the ProjectionExpression when choosing to get {select}"
            )
        raise ValidationException(
            f"Cannot specify the AttributesToGet when choosing to get {select}"
        )
    if select == "ALL_PROJECTED_ATTRIBUTES" and index is None:
        raise ValidationException(
            "ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName"
            if operation == "Query"
            else "ALL_PROJECTED_ATTRIBUTES can be used only when Scanning using an IndexName"
        )
    if (
        select == "ALL_ATTRIBUTES"
        and index is not None
        and index.is_global
        and index.projection_type != "ALL"
    ):
        raise ValidationException(
            "One or more parameter values were invalid: Select type ALL_ATTRIBUTES is not "
            f"supported for global secondary index {index.name} because its projection "
            "type is not ALL"
        )
    return str(select)


def _plan(
    backend: Backend, region: str, request: dict[str, Any], operation: str
) -> tuple[ReadPlan, RequestExpressions]:
    row = find_table(backend, region, request["TableName"])
    schema = row.state.key_schema
    index = _resolve_index(row, request)
    filter_member = "FilterExpression"
    prepared = prepare_expressions(
        request,
        projection=True,
        filter_member=filter_member,
        key_condition=operation == "Query",
    )
    legacy_filter = "QueryFilter" if operation == "Query" else "ScanFilter"
    if request.get(legacy_filter) is not None:
        legacy.validate_filter(request[legacy_filter], request.get("ConditionalOperator"))
    if request.get("AttributesToGet") is not None:
        legacy.validate_attributes_to_get(request["AttributesToGet"])
    select = _select(request, index, operation)
    if operation == "Query":
        _check_filter_keys(prepared, request, index.key if index is not None else schema)
    plan = ReadPlan(
        row=row,
        schema=schema,
        index=index,
        prepared=prepared,
        request=request,
        select=select,
        limit=request.get("Limit"),
        consistent=bool(request.get("ConsistentRead")),
    )
    return plan, prepared


def _check_filter_keys(
    prepared: RequestExpressions, request: dict[str, Any], schema: KeySchema
) -> None:
    """A Query filter may not use the key attributes of the table or index it reads."""
    keys = schema.names
    if prepared.filter is not None:
        for node in walk_nodes(prepared.filter):
            if isinstance(node, Path):
                head = prepared.ctx.resolve_path(node, FILTER)[0]
                if head in keys:
                    raise ValidationException(
                        "Filter Expression can only contain non-primary key attributes: "
                        f"Primary key attribute: {head}"
                    )
    for name in request.get("QueryFilter") or ():
        if name in keys:
            raise ValidationException(
                "QueryFilter can only contain non-primary key attributes: "
                f"Primary key attribute: {name}"
            )


def _fetch_full_items(backend: Backend, plan: ReadPlan) -> bool:
    """An LSI query for attributes the index does not project reads them from the table."""
    index = plan.index
    if index is None or index.is_global or index.projection_type == "ALL":
        return False
    if plan.select == "ALL_ATTRIBUTES":
        return True
    if plan.prepared.projection is not None:
        return any(not index.projects(str(path[0])) for path in plan.prepared.projection)
    attributes = plan.request.get("AttributesToGet") or []
    return any(not index.projects(name) for name in attributes)


def _start_key(plan: ReadPlan) -> Item | None:
    start = plan.request.get("ExclusiveStartKey")
    if start is None:
        return None
    try:
        start = {name: validate_value(value) for name, value in start.items()}
    except ValidationException as error:
        raise ValidationException(_INVALID_START + str(error.message)) from None
    names = set(plan.schema.names)
    if plan.index is not None:
        names.update(plan.index.key.names)
    if set(start) != names:
        raise ValidationException(
            _INVALID_START + "The provided key element does not match the schema"
        )
    for name, value in start.items():
        expected = (
            plan.schema.type_of(name) if name in plan.schema.names else plan.index.key.type_of(name)  # type: ignore[union-attr]
        )
        if next(iter(value)) != expected:
            raise ValidationException(
                _INVALID_START + "The provided key element does not match the schema"
            )
    return start


def _sort_bounds(
    condition: ResolvedKeyCondition,
) -> tuple[bytes | None, bool, bytes | None, bool]:
    """(lower, lower_inclusive, upper, upper_inclusive) in encoded sort-key bytes."""
    op = condition.sort_op
    if op is None:
        return None, True, None, True
    values = [encode_key_av(v) for v in condition.sort_values]
    if op == "=":
        return values[0], True, values[0], True
    if op == "<":
        return None, True, values[0], False
    if op == "<=":
        return None, True, values[0], True
    if op == ">":
        return values[0], False, None, True
    if op == ">=":
        return values[0], True, None, True
    if op == "BETWEEN":
        return values[0], True, values[1], True
    # begins_with: every key starting with the prefix, as one byte range
    return values[0], True, prefix_upper_bound(values[0]), False


def _key_condition(
    prepared: RequestExpressions, request: dict[str, Any], schema: KeySchema
) -> ResolvedKeyCondition:
    """The Query's key condition (expression or legacy KeyConditions) bound to `schema`."""
    key_types = {name: str(schema.type_of(name)) for name in schema.names}
    if prepared.key_condition is not None:
        if schema.multi:
            condition = prepared.key_condition.resolve_multi(
                prepared.ctx, schema.hash_attributes, schema.range_attributes
            )
        else:
            condition = prepared.key_condition.resolve(
                prepared.ctx, schema.hash_name, schema.range_name, key_types
            )
        prepared.ctx.check_unused()
        return condition
    key_conditions = request.get("KeyConditions")
    if key_conditions is None:
        raise ValidationException(
            "Either the KeyConditions or KeyConditionExpression parameter must be specified "
            "in the request."
        )
    if schema.multi:
        partition, prefix, last = legacy.validate_multi_key_conditions(
            key_conditions, schema.hash_attributes, schema.range_attributes
        )
        sort_key = schema.range_attributes[len(prefix)][0] if last else None
        return ResolvedKeyCondition(
            partition_key=schema.hash_name,
            partition_value=partition[0],
            sort_key=sort_key,
            sort_op=last[0] if last else None,
            sort_values=tuple(last[1]) if last else (),
            partition_values=tuple(partition),
            sort_prefix=tuple(prefix),
        )
    hash_value, sort = legacy.validate_key_conditions(
        key_conditions, schema.hash_name, schema.range_name, key_types
    )
    return ResolvedKeyCondition(
        partition_key=schema.hash_name,
        partition_value=hash_value,
        sort_key=schema.range_name if sort else None,
        sort_op=sort[0] if sort else None,
        sort_values=tuple(sort[1]) if sort else (),
    )


def _query_bounds(schema: KeySchema, condition: ResolvedKeyCondition, forward: bool) -> KeyRange:
    """The partition and sort-key byte range a Query reads (one range, for a
    multi-attribute key too: see `encode_components`)."""
    if not schema.multi:
        hash_key = encode_key_av(condition.partition_value)
        bounds = _sort_bounds(condition)
    else:
        hash_key = schema.encode_hash(condition.partition_values)
        if schema.more_range:
            values = condition.sort_values
            bounds = composite_sort_bounds(condition.sort_prefix, condition.sort_op, values)
        else:
            bounds = _sort_bounds(condition)
    lower, lower_inclusive, upper, upper_inclusive = bounds
    return KeyRange(hash_key, lower, upper, lower_inclusive, upper_inclusive, forward)


def query(backend: Backend, region: str, request: dict[str, Any]) -> bytes:
    plan, prepared = _plan(backend, region, request, "Query")
    schema = plan.index.key if plan.index is not None else plan.schema
    condition = _key_condition(prepared, request, schema)
    start = _start_key(plan)
    bounds = _query_bounds(schema, condition, request.get("ScanIndexForward", True))
    hash_key = bounds.hash_key
    index = plan.index
    after: tuple[bytes, ...] | None = None
    if index is None:
        cursor = backend.engine.items.cursor(plan.row.table_id, bounds)
        if start is not None:
            after = storage_key(plan.schema, start)
    else:
        cursor = backend.engine.indexes.cursor(index.index_id, bounds)
        if start is not None:
            if index.key.multi:
                range_bytes = index.key.encode_range(
                    [start[name] for name, _ in index.key.range_attributes]
                )
            else:
                range_value = start.get(index.key.range_name) if index.key.range_name else None
                range_bytes = encode_key_av(range_value) if range_value is not None else b""
            after = (hash_key, range_bytes, table_key_bytes(*storage_key(plan.schema, start)))
    cursor.after = after
    _read_pages(backend, plan, cursor, None)
    return plan.response()


def _read_pages(
    backend: Backend, plan: ReadPlan, cursor: Cursor, segment: tuple[int, int] | None
) -> None:
    """The one read loop of Query and Scan, over a table or an index: chunks from the
    cursor into the plan until the page is full (Limit, 1 MB) or the range ends.
    `segment` is a parallel Scan's (Segment, TotalSegments)."""
    fetch_full = _fetch_full_items(backend, plan)
    # The hot path: a plain Query of a table; stored bytes go out as they are.
    hot = plan.plain and plan.limit is None and plan.index is None and segment is None
    while not plan.full():
        if plan.limit is None or segment is not None:
            chunk = _CHUNK
        else:
            chunk = min(_CHUNK, plan.limit - plan.scanned)
        rows = cursor.fetch(chunk)
        if hot:
            if plan.take(rows) < len(rows):
                break  # only 1 MB can end a chunk
        else:
            for row in rows:
                if segment is not None and _segment_of(row[0], segment[1]) != segment[0]:
                    continue
                blob, size = row[-1], row[-2]
                if fetch_full:
                    blob, size = _table_item(backend, plan, blob, size)
                plan.accept(blob, size)
                if plan.full():
                    break
        if len(rows) < chunk:
            break


def _table_item(backend: Backend, plan: ReadPlan, entry: bytes, size: int) -> tuple[bytes, int]:
    """The table's item behind an LSI entry (the entry itself if it is gone)."""
    hash_key, range_key = storage_key(plan.schema, orjson.loads(entry))
    found = backend.engine.items.get(plan.row.table_id, hash_key, range_key)
    if found is None:
        return entry, size
    return found[0], found[1]


def _segment_of(hash_key: bytes, total_segments: int) -> int:
    return zlib.crc32(hash_key) % total_segments


def scan(backend: Backend, region: str, request: dict[str, Any]) -> bytes:
    segment = request.get("Segment")
    total = request.get("TotalSegments")
    if segment is not None and total is None:
        raise ValidationException(
            "The TotalSegments parameter is required but was not present in the request when "
            "Segment parameter is present"
        )
    if total is not None and segment is None:
        raise ValidationException(
            "The Segment parameter is required but was not present in the request when "
            "parameter TotalSegments is present"
        )
    if segment is not None and total is not None and segment >= total:
        raise ValidationException(
            "The Segment parameter is zero-based and must be less than parameter "
            f"TotalSegments: Segment: {segment} is not less than TotalSegments: {total}"
        )
    plan, _ = _plan(backend, region, request, "Scan")
    start = _start_key(plan)
    index = plan.index
    after: tuple[bytes, ...] | None = None
    if index is None:
        cursor = backend.engine.items.cursor(plan.row.table_id)
        if start is not None:
            after = storage_key(plan.schema, start)
    else:
        cursor = backend.engine.indexes.cursor(index.index_id)
        if start is not None:
            index_key = index.entry_key(start)
            if index_key is None:
                raise ValidationException(
                    _INVALID_START + "The provided key element does not match the schema"
                )
            after = (*index_key, table_key_bytes(*storage_key(plan.schema, start)))
    cursor.after = after
    segments = None if segment is None or total is None else (int(segment), int(total))
    _read_pages(backend, plan, cursor, segments)
    return plan.response()
