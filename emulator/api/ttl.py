"""UpdateTimeToLive, DescribeTimeToLive, and the expiry of items whose time has come.

As on AWS: an item expires when its TTL attribute is a Number of epoch seconds at or
before now; other types, and values more than five years in the past, never expire.
Expired items stay readable until a sweep deletes them; each deletion writes a REMOVE
record marked with the DynamoDB service identity, in the same transaction.
"""

from __future__ import annotations

from typing import Any

import orjson

from emulator.api.backend import Backend
from emulator.api.common import TTL, find_table_for_control, key_schema
from emulator.api.writes import expiry_of, write_item
from emulator.errors import ValidationException
from emulator.model.keys import key_of
from emulator.storage.engine import TableRow
from emulator.streams.records import TTL_IDENTITY

#: ENABLING / DISABLING last this long before the status settles.
STATUS_TRANSITION_SECONDS = 5.0
#: AWS accepts one TTL change per table per hour.
CHANGE_INTERVAL_SECONDS = 3600.0
#: TTL values further in the past than this are never expired (AWS's rule).
MAX_AGE_SECONDS = 5 * 365 * 24 * 3600.0


def ttl_status(row: TableRow, now: float) -> tuple[str, str | None]:
    """(TimeToLiveStatus, AttributeName or None)."""
    setting = row.description.get(TTL)
    if setting is None:
        return "DISABLED", None
    settled = now - setting["ChangedAt"] >= STATUS_TRANSITION_SECONDS
    if setting["Enabled"]:
        return ("ENABLED" if settled else "ENABLING"), setting["AttributeName"]
    return ("DISABLED", None) if settled else ("DISABLING", setting["AttributeName"])


def describe_time_to_live(backend: Backend, region: str, request: dict[str, Any]) -> dict[str, Any]:
    row = find_table_for_control(backend, region, request["TableName"])
    status, attribute = ttl_status(row, backend.clock.now())
    description: dict[str, Any] = {"TimeToLiveStatus": status}
    if attribute is not None:
        description["AttributeName"] = attribute
    return {"TimeToLiveDescription": description}


def update_time_to_live(backend: Backend, region: str, request: dict[str, Any]) -> dict[str, Any]:
    row = find_table_for_control(backend, region, request["TableName"])
    specification = request["TimeToLiveSpecification"]
    enabled = bool(specification["Enabled"])
    attribute = specification["AttributeName"]
    now = backend.clock.now()
    setting = row.description.get(TTL)
    if enabled and setting is not None and setting["Enabled"]:
        raise ValidationException("TimeToLive is already enabled")
    if not enabled:
        if setting is None or not setting["Enabled"]:
            raise ValidationException("TimeToLive is already disabled")
        if attribute != setting["AttributeName"]:
            raise ValidationException(
                "TimeToLive is active on a different AttributeName: current AttributeName is "
                f"{setting['AttributeName']}"
            )
    if setting is not None and now - setting["ChangedAt"] < CHANGE_INTERVAL_SECONDS:
        raise ValidationException(
            "Time to live has been modified multiple times within a fixed interval"
        )
    with backend.engine.transaction():
        row.description[TTL] = {"AttributeName": attribute, "Enabled": enabled, "ChangedAt": now}
        backend.engine.save_table(row)
        if enabled:
            _index_expiry(backend, row, attribute)
        else:
            backend.engine.clear_expiry(row.table_id)
    return {"TimeToLiveSpecification": {"Enabled": enabled, "AttributeName": attribute}}


def _index_expiry(backend: Backend, row: TableRow, attribute: str) -> None:
    """Record every existing item's TTL instant, so sweeps are index range reads."""
    engine = backend.engine
    after: tuple[bytes, bytes] | None = None
    while rows := engine.scan_items(row.table_id, after, 1000):
        engine.set_expiry(
            row.table_id,
            [(expiry_of(orjson.loads(blob), attribute), h, r) for h, r, _size, blob in rows],
        )
        after = (rows[-1][0], rows[-1][1])


def expire_batch(backend: Backend, row: TableRow, now: float, limit: int) -> int:
    """Delete up to `limit` expired items of one table in one transaction; returns how many."""
    if ttl_status(row, now)[0] != "ENABLED":
        return 0
    engine = backend.engine
    schema = key_schema(row)
    with engine.transaction():
        expired = engine.expired_items(row.table_id, now - MAX_AGE_SECONDS, now, limit)
        for hash_key, range_key, size, blob in expired:
            item = orjson.loads(blob)
            write_item(
                backend,
                row,
                row.region,
                key_of(schema, item),
                hash_key,
                range_key,
                item,
                None,
                old_size=size,
                user_identity=TTL_IDENTITY,
            )
    return len(expired)


def ttl_tables(backend: Backend) -> list[TableRow]:
    return [row for row in backend.engine.all_tables() if row.description.get(TTL)]
