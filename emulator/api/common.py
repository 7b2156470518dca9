"""Helpers every operation group shares: table lookup, names and ARNs, AWS messages."""

from __future__ import annotations

import math
import re
import time
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any

from emulator.errors import ResourceNotFoundException, ValidationException
from emulator.model.indexes import IndexSchema
from emulator.model.values import Item, item_size, items_equal
from emulator.runtime.backend import Backend
from emulator.runtime.table_status import settle_table
from emulator.storage.engine import TableRow
from emulator.validation import render_value, validation_message

INVALID = "One or more parameter values were invalid: "

#: How long an operation works on one request before it lets the others run.
STAGE_SECONDS = 0.005
#: An operation that works in stages (BatchWriteItem, TransactWriteItems, BatchGetItem:
#: up to 16 MB of items, seconds of work): a generator that yields whenever it has
#: worked `STAGE_SECONDS` since it last let others run, and returns its result. The
#: wire layer answers the other requests at each yield, so one large request never
#: holds the event loop for long. It never yields inside a transaction, and checks on
#: resuming whatever the other requests may have changed (a table deleted meanwhile).
Staged = Generator[None, None, "dict[str, Any] | bytes"]


class StageClock:
    """When a staged operation last let other requests run."""

    __slots__ = ("started",)

    def __init__(self) -> None:
        self.started = time.perf_counter()

    def due(self) -> bool:
        return time.perf_counter() - self.started > STAGE_SECONDS

    def pause(self) -> Generator[None, None, None]:
        """`yield from stage.pause()`: a stage ends here if it has run long enough."""
        if time.perf_counter() - self.started > STAGE_SECONDS:
            yield
            self.started = time.perf_counter()


_TABLE_NAME = re.compile(r"[a-zA-Z0-9_.-]+")
TABLE_ARN = re.compile(
    r"arn:aws[a-z-]*:dynamodb:([a-z0-9-]+):(\d{12}):table/([a-zA-Z0-9_.-]{3,255})"
)


def constraint_message(violations: list[tuple[Any, str, str]]) -> str:
    """AWS's Coral form for (value, member path, constraint) violations."""
    return validation_message([(path, render_value(v), c) for v, path, c in violations])


def check_table_name(name: str, path: str = "tableName") -> None:
    violations: list[tuple[Any, str, str]] = []
    if len(name) < 3:
        violations.append((name, path, "Member must have length greater than or equal to 3"))
    if len(name) > 255:
        violations.append((name, path, "Member must have length less than or equal to 255"))
    if not _TABLE_NAME.fullmatch(name):
        violations.append(
            (name, path, "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+")
        )
    if violations:
        raise ValidationException(constraint_message(violations))


def table_name_of(value: str, region: str, backend: Backend) -> str:
    """TableName accepts a name or a table ARN of this account and region."""
    if value.startswith("arn:"):
        match = TABLE_ARN.fullmatch(value)
        if match is None:
            raise ValidationException(
                f"Invalid TableArn: Invalid ResourceArn provided as input {value}"
            )
        arn_region, account, name = match.groups()
        if arn_region != region or account != backend.config.account_id:
            raise ResourceNotFoundException(
                f"Requested resource not found: Table: {name} not found"
            )
        return name
    check_table_name(value)
    return value


def find_table(backend: Backend, region: str, name_or_arn: str) -> TableRow:
    """The table of a data-plane call (AWS's short not-found message)."""
    row = backend.engine.get_table(region, name_or_arn)
    if row is not None and row.state.transition is not None:
        row = settle_table(backend, row)
    if row is not None:
        status = row.description["TableStatus"]
        if status == "CREATING" or status == "DELETING":
            # A table being created or deleted answers only DescribeTable.
            raise ResourceNotFoundException(
                f"Requested resource not found: Table: {row.name} not found"
            )
        return row  # an existing table's name is valid: skip the name checks
    name = table_name_of(name_or_arn, region, backend)
    row = backend.engine.get_table(region, name)
    if row is not None and row.state.transition is not None:
        row = settle_table(backend, row)
    if row is None:
        raise ResourceNotFoundException()
    if row.description["TableStatus"] in ("CREATING", "DELETING"):
        raise ResourceNotFoundException(f"Requested resource not found: Table: {name} not found")
    return row


def find_table_for_control(backend: Backend, region: str, name_or_arn: str) -> TableRow:
    """The table of a control-plane call (the message names the table)."""
    name = table_name_of(name_or_arn, region, backend)
    row = backend.engine.get_table(region, name)
    if row is not None and row.state.transition is not None:
        row = settle_table(backend, row)
    if row is None:
        raise ResourceNotFoundException(f"Requested resource not found: Table: {name} not found")
    return row


def table_arn(backend: Backend, region: str, name: str) -> str:
    return f"arn:aws:dynamodb:{region}:{backend.config.account_id}:table/{name}"


def read_units(size: int, consistent: bool) -> float:
    units = float(max(1, math.ceil(size / 4096)))
    return units if consistent else units / 2


def write_units(size: int) -> float:
    return float(max(1, math.ceil(size / 1024)))


def consumed_capacity(
    request: dict[str, Any],
    table_name: str,
    units: float,
    index: IndexSchema | None = None,
) -> dict[str, Any] | None:
    """ConsumedCapacity for ReturnConsumedCapacity TOTAL / INDEXES, else None.

    A read through a secondary index (`index`) is charged to the index: INDEXES then
    itemises it under GlobalSecondaryIndexes / LocalSecondaryIndexes, the table at 0.
    """
    mode = request.get("ReturnConsumedCapacity", "NONE")
    if mode == "NONE":
        return None
    capacity: dict[str, Any] = {"TableName": table_name, "CapacityUnits": units}
    if mode == "INDEXES":
        if index is None:
            capacity["Table"] = {"CapacityUnits": units}
        else:
            capacity["Table"] = {"CapacityUnits": 0.0}
            member = "GlobalSecondaryIndexes" if index.is_global else "LocalSecondaryIndexes"
            capacity[member] = {index.name: {"CapacityUnits": units}}
    return capacity


# -- writes: capacity per index and item collections -----------------------------------------


def _index_write_units(index: IndexSchema, old_item: Item | None, new_item: Item | None) -> float:
    """What one item's change costs one secondary index, by AWS's rules: writing or
    removing the entry costs its projected size; a changed index key costs both (a
    delete and a put); an entry that stays the same costs nothing."""
    old_key = index.entry_key(old_item) if old_item is not None else None
    new_key = index.entry_key(new_item) if new_item is not None else None
    old = index.project(old_item) if old_item is not None and old_key is not None else None
    new = index.project(new_item) if new_item is not None and new_key is not None else None
    if old is None:
        return write_units(item_size(new)) if new is not None else 0.0
    if new is None:
        return write_units(item_size(old))
    if old_key != new_key:
        return write_units(item_size(old)) + write_units(item_size(new))
    if items_equal(old, new):
        return 0.0
    return write_units(max(item_size(old), item_size(new)))


@dataclass(slots=True)
class WriteCharge:
    """The write units one request consumed on one table: the table's own, and each
    secondary index's (which ReturnConsumedCapacity counts in the total and INDEXES
    itemises)."""

    table: float = 0.0
    #: (is_global, index name) -> units, in the order indexes were charged.
    indexes: dict[tuple[bool, str], float] = field(default_factory=dict)

    def add(
        self,
        row: TableRow,
        units: float,
        old_item: Item | None,
        new_item: Item | None,
        factor: float = 1.0,
    ) -> None:
        """Charge one item's write (`units` on the table); `factor` 2 in transactions."""
        self.table += factor * units
        for index in row.state.indexes:
            index_units = _index_write_units(index, old_item, new_item)
            if index_units:
                slot = (index.is_global, index.name)
                self.indexes[slot] = self.indexes.get(slot, 0.0) + factor * index_units

    def capacity(self, request: dict[str, Any], table_name: str) -> dict[str, Any] | None:
        """The ConsumedCapacity member for this table (None when not asked for)."""
        mode = request.get("ReturnConsumedCapacity", "NONE")
        if mode == "NONE":
            return None
        total = self.table + sum(self.indexes.values())
        capacity: dict[str, Any] = {"TableName": table_name, "CapacityUnits": total}
        if mode == "INDEXES":
            capacity["Table"] = {"CapacityUnits": self.table}
            for (is_global, name), units in self.indexes.items():
                member = "GlobalSecondaryIndexes" if is_global else "LocalSecondaryIndexes"
                capacity.setdefault(member, {})[name] = {"CapacityUnits": units}
        return capacity


#: Bytes in the gigabyte of SizeEstimateRangeGB.
_GB = 1024**3


def item_collection_metrics(
    backend: Backend, row: TableRow, key: Item, hash_key: bytes
) -> dict[str, Any] | None:
    """ReturnItemCollectionMetrics SIZE: the written item's collection (its partition's
    items and their LSI entries), for tables with a local secondary index, else None.

    AWS gives a one-gigabyte range around the estimate ([0.0, 1.0] for any collection
    under a gigabyte, as in AWS's documented examples).
    """
    local = [index for index in row.state.indexes if not index.is_global]
    if not local:
        return None
    engine = backend.engine
    size = engine.items.partition_size(row.table_id, hash_key)
    size += sum(engine.indexes.partition_size(index.index_id, hash_key) for index in local)
    low = float(math.floor(size / _GB))
    hash_name = row.state.key_schema.hash_name
    return {"ItemCollectionKey": {hash_name: key[hash_name]}, "SizeEstimateRangeGB": [low, low + 1]}
