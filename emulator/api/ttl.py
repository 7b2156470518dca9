"""UpdateTimeToLive and DescribeTimeToLive (the sweep that deletes expired items is
background work: runtime/scheduler.py).

As on AWS: an item expires when its TTL attribute is a Number of epoch seconds at or
before now; other types, and values more than five years in the past, never expire.
Expired items stay readable until a sweep deletes them.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import orjson

from emulator.api.common import find_table_for_control
from emulator.changes.pipeline import expiry_of
from emulator.errors import ResourceNotFoundException, ValidationException
from emulator.model.table_state import TtlState
from emulator.runtime.backend import Backend
from emulator.storage.engine import TableRow

#: AWS accepts one TTL change per table per hour.
CHANGE_INTERVAL_SECONDS = 3600.0


def describe_time_to_live(backend: Backend, region: str, request: dict[str, Any]) -> dict[str, Any]:
    row = find_table_for_control(backend, region, request["TableName"])
    status = row.description["TableStatus"]
    if row.state.transition is not None and status in ("CREATING", "DELETING"):
        # As AWS answers while a table is being created or deleted (``--table-delay-ms``).
        raise ValidationException(
            f"Cannot describe time to live while table is in {status} state: Current table "
            f"state is {status}"
        )
    ttl = row.state.ttl
    status, attribute = ("DISABLED", None) if ttl is None else ttl.status(backend.clock.now())
    description: dict[str, Any] = {"TimeToLiveStatus": status}
    if attribute is not None:
        description["AttributeName"] = attribute
    return {"TimeToLiveDescription": description}


def update_time_to_live(backend: Backend, region: str, request: dict[str, Any]) -> dict[str, Any]:
    row = find_table_for_control(backend, region, request["TableName"])
    if row.description["TableStatus"] in ("CREATING", "DELETING"):
        # A replica being created or deleted answers only DescribeTable.
        raise ResourceNotFoundException(
            f"Requested resource not found: Table: {row.name} not found"
        )
    specification = request["TimeToLiveSpecification"]
    enabled = bool(specification["Enabled"])
    attribute = specification["AttributeName"]
    now = backend.clock.now()
    setting = row.state.ttl
    if enabled and setting is not None and setting.enabled:
        raise ValidationException("TimeToLive is already enabled")
    if not enabled:
        if setting is None or not setting.enabled:
            raise ValidationException("TimeToLive is already disabled")
        if attribute != setting.attribute:
            raise ValidationException(
                "TimeToLive is active on a different AttributeName: current AttributeName is "
                f"{setting.attribute}"
            )
    if setting is not None and now - setting.changed_at < CHANGE_INTERVAL_SECONDS:
        raise ValidationException(
            "Time to live has been modified multiple times within a fixed interval"
        )
    engine = backend.engine
    with engine.transaction():
        # TTL is a group-wide setting of a global table: every replica gets it.
        for member in backend.replication.members(row):
            member.state = dataclasses.replace(member.state, ttl=TtlState(attribute, enabled, now))
            engine.catalog.save_table(member)
            if enabled:
                _index_expiry(backend, member, attribute)
            else:
                engine.items.clear_expiry(member.table_id)
    return {"TimeToLiveSpecification": {"Enabled": enabled, "AttributeName": attribute}}


def _index_expiry(backend: Backend, row: TableRow, attribute: str) -> None:
    """Record every existing item's TTL instant, so sweeps are index range reads."""
    items = backend.engine.items
    cursor = items.cursor(row.table_id)
    while rows := cursor.fetch(1000):
        items.set_expiry(
            row.table_id,
            [(expiry_of(orjson.loads(blob), attribute), h, r) for h, r, _size, blob in rows],
        )
