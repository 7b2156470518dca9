"""Enable / Disable / Update / DescribeKinesisStreamingDestination: a table's Kinesis Data
Streams destination (SPEC.md 4.8, SPEC-STREAM-APPS 4.1).

A destination is a document in the table's state: `{"arn", "status", "precision",
"description"}`. ENABLING, UPDATING and DISABLING complete on the next scheduler tick
(at once under the test clock); the table's sinks follow its state, so records flow from
the write after Enable returns (see kinesis/destination.py).

Emulator rule: one destination per table that is not DISABLED or ENABLE_FAILED (AWS: "you
can only stream data from a DynamoDB table to one Kinesis data stream").
"""

from __future__ import annotations

import dataclasses
from typing import Any

from emulator.api.common import find_table_for_control
from emulator.errors import ValidationException
from emulator.kinesis.destination import (
    DESTINATION_ACTIVE,
    DESTINATION_UPDATING,
    DISABLED,
    DISABLING,
    ENABLE_FAILED,
    ENABLING,
)
from emulator.kinesis.service import stream_name_of_arn
from emulator.runtime.backend import Backend
from emulator.storage.engine import TableRow

_NOT_VALID = "Table is not in a valid state to {action} Kinesis Streaming Destination: "
_DEFAULT_PRECISION = "MILLISECOND"


def _table(backend: Backend, region: str, request: dict[str, Any]) -> TableRow:
    if backend.clock.mode == "manual":
        backend.complete_transitions()  # a state change is complete by the next call
    return find_table_for_control(backend, region, request["TableName"])


def _find(row: TableRow, arn: str) -> dict[str, Any] | None:
    for destination in row.state.kinesis_destinations:
        if destination["arn"] == arn:
            return destination
    return None


def _not_found(row: TableRow, arn: str) -> ValidationException:
    return ValidationException(
        _NOT_VALID.format(action="enable")
        + f"No streaming destination with streamArn: {arn} found for table with tableName: "
        f"{row.name}"
    )


def _save(backend: Backend, row: TableRow, destination: dict[str, Any]) -> None:
    """Put `destination` in place of the one with its ARN (or add it)."""
    current = row.state.kinesis_destinations
    arn = destination["arn"]
    if _find(row, arn) is None:
        kept = (*current, destination)
    else:
        kept = tuple(destination if d["arn"] == arn else d for d in current)
    engine = backend.engine
    with engine.transaction():
        row.state = dataclasses.replace(row.state, kinesis_destinations=kept)
        engine.catalog.save_table(row)


def _check_arn(backend: Backend, region: str, arn: str) -> None:
    parts = stream_name_of_arn(arn)
    if parts is None:
        raise ValidationException(f"Invalid StreamArn provided as input {arn}")
    arn_region, account, _name = parts
    if arn_region != region or account != backend.config.account_id:
        raise ValidationException(
            _NOT_VALID.format(action="enable")
            + f"Kinesis data stream {arn} must be in the same account and region as the table"
        )


def enable_kinesis_streaming_destination(
    backend: Backend, region: str, request: dict[str, Any]
) -> dict[str, Any]:
    row = _table(backend, region, request)
    arn = request["StreamArn"]
    _check_arn(backend, region, arn)
    configuration = request.get("EnableKinesisStreamingConfiguration") or {}
    for existing in row.state.kinesis_destinations:
        if existing["status"] not in (DISABLED, ENABLE_FAILED):
            raise ValidationException(
                _NOT_VALID.format(action="enable")
                + "EnableKinesisStreamingDestination must be DISABLED or ENABLE_FAILED to "
                "perform ENABLE operation."
            )
    destination: dict[str, Any] = {"arn": arn, "status": ENABLING}
    precision = configuration.get("ApproximateCreationDateTimePrecision")
    if precision is not None:
        destination["precision"] = precision
    _save(backend, row, destination)
    return {
        "TableName": row.name,
        "StreamArn": arn,
        "DestinationStatus": ENABLING,
        "EnableKinesisStreamingConfiguration": configuration,
    }


def disable_kinesis_streaming_destination(
    backend: Backend, region: str, request: dict[str, Any]
) -> dict[str, Any]:
    row = _table(backend, region, request)
    arn = request["StreamArn"]
    destination = _find(row, arn)
    if destination is None:
        raise ValidationException(
            _NOT_VALID.format(action="disable")
            + f"No streaming destination with streamArn: {arn} found for table with "
            f"tableName: {row.name}"
        )
    if destination["status"] not in (DESTINATION_ACTIVE, DESTINATION_UPDATING):
        raise ValidationException(
            _NOT_VALID.format(action="disable")
            + "DisableKinesisStreamingDestination must be ACTIVE to perform DISABLE operation."
        )
    _save(backend, row, {**destination, "status": DISABLING})
    return {
        "TableName": row.name,
        "StreamArn": arn,
        "DestinationStatus": DISABLING,
        "EnableKinesisStreamingConfiguration": request.get("EnableKinesisStreamingConfiguration")
        or {},
    }


def update_kinesis_streaming_destination(
    backend: Backend, region: str, request: dict[str, Any]
) -> dict[str, Any]:
    row = _table(backend, region, request)
    arn = request["StreamArn"]
    configuration = request.get("UpdateKinesisStreamingConfiguration") or {}
    precision = configuration.get("ApproximateCreationDateTimePrecision")
    if precision is None:
        raise ValidationException(
            "Streaming destination cannot be updated with given parameters: "
            "UpdateKinesisStreamingConfiguration cannot be null or contain only null values"
        )
    destination = _find(row, arn)
    if destination is None:
        raise _not_found(row, arn)
    if destination["status"] != DESTINATION_ACTIVE:
        raise ValidationException(
            _NOT_VALID.format(action="update")
            + "UpdateKinesisStreamingDestination must be ACTIVE to perform UPDATE operation."
        )
    if destination.get("precision", _DEFAULT_PRECISION) == precision:
        raise ValidationException(
            f"Invalid Request: Precision is already set to the desired value of {precision} "
            f"for tableId: {row.description['TableId']}, kdsArn: {arn}"
        )
    _save(backend, row, {**destination, "status": DESTINATION_UPDATING, "precision": precision})
    return {
        "TableName": row.name,
        "StreamArn": arn,
        "DestinationStatus": DESTINATION_UPDATING,
        "UpdateKinesisStreamingConfiguration": configuration,
    }


def describe_kinesis_streaming_destination(
    backend: Backend, region: str, request: dict[str, Any]
) -> dict[str, Any]:
    row = _table(backend, region, request)
    shown = []
    for destination in row.state.kinesis_destinations:
        entry: dict[str, Any] = {
            "StreamArn": destination["arn"],
            "DestinationStatus": destination["status"],
        }
        if destination.get("description"):
            entry["DestinationStatusDescription"] = destination["description"]
        if destination.get("precision"):
            entry["ApproximateCreationDateTimePrecision"] = destination["precision"]
        shown.append(entry)
    return {"TableName": row.name, "KinesisDataStreamDestinations": shown}
