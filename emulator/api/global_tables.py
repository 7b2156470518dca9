"""Global tables version 2019.11.21 through UpdateTable `ReplicaUpdates`, and the legacy
2017.11.29 operations answering as AWS does now (SPEC-STREAM-APPS 6.1, 6.3).

The groups themselves, their lifecycle and the replicators live in emulator/replication/;
this module checks a request the way AWS does, in AWS's order, and with its messages.
"""

from __future__ import annotations

import functools
from typing import Any

from emulator.api.common import INVALID, TABLE_ARN, find_table_for_control, table_name_of
from emulator.errors import (
    AwsError,
    ResourceInUseException,
    ResourceNotFoundException,
    ValidationException,
)
from emulator.replication.manager import replica_entries
from emulator.runtime.backend import Backend
from emulator.storage.engine import TableRow

IN_USE = "The resource which you are attempting to change is in use."


class GlobalTableNotFoundException(AwsError):
    code = "GlobalTableNotFoundException"


@functools.cache
def supported_regions() -> tuple[str, ...]:
    """The regions DynamoDB is offered in (botocore's endpoint data)."""
    import botocore.session  # here, not at import: it costs start-up ~0.1 s

    session = botocore.session.get_session()
    regions: set[str] = set()
    for partition in ("aws", "aws-cn", "aws-us-gov"):
        regions.update(session.get_available_regions("dynamodb", partition))
    return tuple(sorted(regions))


def replica_updates(
    backend: Backend, region: str, row: TableRow, request: dict[str, Any], others: list[str]
) -> None:
    """Run UpdateTable's ReplicaUpdates (the caller answers with the description)."""
    if others:
        raise ValidationException(
            INVALID + "Replica modification must be the only operation in the request"
        )
    if request.get("MultiRegionConsistency") == "STRONG":
        raise ValidationException(
            INVALID + "MultiRegionConsistency STRONG (multi-Region strong consistency) is not "
            "supported by this emulator; use EVENTUAL"
        )
    creates: dict[str, dict[str, Any]] = {}
    deletes: list[str] = []
    updates: list[dict[str, Any]] = []
    for update in request["ReplicaUpdates"]:
        if "Create" in update:
            action = update["Create"]
            creates.setdefault(action["RegionName"], action)
        if "Delete" in update:
            deletes.append(update["Delete"]["RegionName"])
        if "Update" in update:
            updates.append(update["Update"])
    kinds = sum(1 for found in (creates, deletes, updates) if found)
    if kinds > 1:
        raise ValidationException(
            "Update table operation with more than one type of replica actions not allowed."
        )
    if len(creates) > 1 or len(set(deletes)) > 1:
        raise ValidationException(
            "Update table operation with more than one create or delete replica actions not allowed"
        )
    named = list(creates) + deletes + [action["RegionName"] for action in updates]
    if region in named:
        if updates:
            raise ValidationException(
                "Cannot add, delete, or update the local region through ReplicaUpdates. Use "
                "CreateTable, DeleteTable, or UpdateTable as required."
            )
        raise ValidationException(
            "Cannot add or delete the local region through ReplicaUpdates. Use CreateTable, "
            "DeleteTable, or UpdateTable as required."
        )
    regions = supported_regions()
    for name in named:
        if name not in regions:
            raise ValidationException(
                f"Region {name} is not supported. The latest version of global tables are "
                f"only supported in the following regions: [{', '.join(regions)}]."
            )
    for action in updates:
        if all(value is None for key, value in action.items() if key != "RegionName"):
            raise ValidationException(
                "There are no actions specified in the Replica Update Action of the request."
            )
    replication = backend.replication
    members = {doc["RegionName"] for doc in replica_entries(row)}
    # A member, even one still being deleted, or a table of that name: checked before the
    # group's state (AWS answers this while a replica of that region is DELETING).
    for name in creates:
        if name in members or backend.engine.get_table(name, row.name) is not None:
            raise ValidationException(
                "Failed to create a the new replica of table with name: "
                f"'{row.name}' because one or more replicas already existed as tables."
            )
    if replication.in_transition(row):
        raise ResourceInUseException(IN_USE)
    strangers = [
        name for name in deletes + [a["RegionName"] for a in updates] if name not in members
    ]
    if strangers:
        raise ValidationException(
            "Update global table operation failed because one or more replicas were not part "
            "of the global table. Please retry the request without these replicas: "
            f"[{', '.join(strangers)}]."
        )
    if backend.config.strict_global_tables:
        _check_strict(backend, row, bool(creates), deletes)
    with backend.engine.transaction():
        for name, action in creates.items():
            if row.state.stream is None:
                from emulator.api.tables import enable_stream

                enable_stream(backend, row, region, "NEW_AND_OLD_IMAGES")
            replication.create_replica(row, name, action)
        for name in deletes[:1]:
            replication.delete_replica(row, name)
        for action in updates:
            replication.update_replica(row, action["RegionName"], action)


#: How long a region that sourced a new replica cannot be deleted (AWS: 24 hours).
SOURCE_HOLD_SECONDS = 24 * 3600.0


def _check_strict(backend: Backend, row: TableRow, creating: bool, deletes: list[str]) -> None:
    """What AWS also refuses, behind `--strict-global-tables` (SPEC-STREAM-APPS 6.3).

    A new replica needs write capacity that follows the load: on AWS, on-demand or
    provisioned with write auto scaling (Application Auto Scaling). The emulator has no
    auto scaling, so a PROVISIONED table never qualifies (and its indexes, provisioned
    like the table, are never reached). A region that sourced a new replica in the last
    24 hours of the emulator's clock cannot be deleted."""
    if creating and row.description["BillingModeSummary"]["BillingMode"] == "PROVISIONED":
        raise ValidationException(
            "Table write capacity should either be Pay-Per-Request or AutoScaled."
        )
    now = backend.clock.now()
    for name in deletes:
        sourced_at = backend.replication.sourced_at(row, name)
        if sourced_at is not None and now - sourced_at < SOURCE_HOLD_SECONDS:
            raise ValidationException(
                "Replica cannot be deleted because it has acted as a source region for new "
                "replica(s) being added to the table in the last 24 hours."
            )


def create_replica_table(
    backend: Backend, region: str, name: str, request: dict[str, Any]
) -> dict[str, Any]:
    """CreateTable with `GlobalTableSourceArn`: this region joins the source table's group
    (the source's schema, indexes and settings; the source sources the backfill). Meant
    by AWS for a table of another account; this emulator serves one account, so the
    source is a table of it in another region (Emulator rule; messages unverified)."""
    arn = request["GlobalTableSourceArn"]
    match = TABLE_ARN.fullmatch(arn)
    if match is None:
        raise ValidationException(f"Invalid TableArn: Invalid ResourceArn provided as input {arn}")
    source_region, account, source_name = match.groups()
    source = backend.engine.get_table(source_region, source_name)
    if account != backend.config.account_id or source is None:
        raise ResourceNotFoundException(f"Requested resource not found: Table: {arn} not found")
    if source_name != name:
        raise ValidationException(
            INVALID + "The table name must be the same as the name of the source table: "
            f"{source_name}"
        )
    if source_region == region:
        raise ValidationException(
            "Cannot add or delete the local region through ReplicaUpdates. Use CreateTable, "
            "DeleteTable, or UpdateTable as required."
        )
    mode = request.get("GlobalTableSettingsReplicationMode")
    if mode is not None and mode != "ENABLED_WITH_OVERRIDES":
        raise ValidationException(
            INVALID + "GlobalTableSettingsReplicationMode must be ENABLED_WITH_OVERRIDES for a "
            "same-account global table"
        )
    replication = backend.replication
    if replication.in_transition(source):
        raise ResourceInUseException(IN_USE)
    members = {doc["RegionName"] for doc in replica_entries(source)}
    if region in members or backend.engine.get_table(region, name) is not None:
        raise ResourceInUseException(f"Table already exists: {name}")
    if backend.config.strict_global_tables:
        _check_strict(backend, source, True, [])
    from emulator.api.tables import describe, enable_stream

    with backend.engine.transaction():
        if source.state.stream is None:
            enable_stream(backend, source, source_region, "NEW_AND_OLD_IMAGES")
        replication.create_replica(source, region, {})
    replica = backend.engine.get_table(region, name)
    assert replica is not None
    return describe(backend, replica)


# -- the legacy 2017.11.29 operations ------------------------------------------------------


def _not_found(name: str) -> GlobalTableNotFoundException:
    return GlobalTableNotFoundException(f"Global table with name '{name}' does not exist.")


def create_global_table(backend: Backend, region: str, request: dict[str, Any]) -> dict[str, Any]:
    raise ValidationException(
        INVALID + "DynamoDB global tables version 2017.11.29 is not supported. We recommend "
        "using DynamoDB global tables version 2019.11.21, instead of version 2017.11.29 "
        "(Legacy)."
    )


def describe_global_table(backend: Backend, region: str, request: dict[str, Any]) -> dict[str, Any]:
    raise _not_found(request["GlobalTableName"])


def update_global_table(backend: Backend, region: str, request: dict[str, Any]) -> dict[str, Any]:
    raise _not_found(request["GlobalTableName"])


def describe_global_table_settings(
    backend: Backend, region: str, request: dict[str, Any]
) -> dict[str, Any]:
    raise _not_found(request["GlobalTableName"])


def update_global_table_settings(
    backend: Backend, region: str, request: dict[str, Any]
) -> dict[str, Any]:
    raise _not_found(request["GlobalTableName"])


def list_global_tables(backend: Backend, region: str, request: dict[str, Any]) -> dict[str, Any]:
    return {"GlobalTables": []}


def describe_table_replica_auto_scaling(
    backend: Backend, region: str, request: dict[str, Any]
) -> dict[str, Any]:
    """Auto scaling is not modelled: a regional table is not found (as on AWS); a member
    describes its replicas without auto scaling settings."""
    name = table_name_of(request["TableName"], region, backend)
    row = backend.engine.get_table(region, name)
    if row is None or not replica_entries(row):
        raise ResourceNotFoundException(f"Global table with name: '{name}' does not exist.")
    row = find_table_for_control(backend, region, name)
    replicas = [{"RegionName": row.region, "ReplicaStatus": "ACTIVE"}] + [
        {"RegionName": doc["RegionName"], "ReplicaStatus": doc["ReplicaStatus"]}
        for doc in replica_entries(row)
    ]
    return {
        "TableAutoScalingDescription": {
            "TableName": row.name,
            "TableStatus": row.description["TableStatus"],
            "Replicas": replicas,
        }
    }
