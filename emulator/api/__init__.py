"""The operations, one plain function each, grouped by module; the wire layer routes here.

An operation's module is imported the first time the operation is called: start-up
(process start to first answered request) pays only for what that request needs.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from emulator.runtime.backend import Backend

if TYPE_CHECKING:
    from emulator.api.common import Staged

#: An operation answers a dict (the JSON output), the output's bytes, or - for the few
#: that work in stages - a generator (see `api.common.Staged`).
Operation = Callable[[Backend, str, dict[str, Any]], "dict[str, Any] | bytes | Staged"]

#: service -> operation name -> "module.function" inside emulator.api.
OPERATIONS: dict[str, dict[str, str]] = {
    "dynamodb": {
        "CreateTable": "tables.create_table",
        "DescribeTable": "tables.describe_table",
        "UpdateTable": "tables.update_table",
        "DeleteTable": "tables.delete_table",
        "ListTables": "tables.list_tables",
        "TagResource": "tables.tag_resource",
        "UntagResource": "tables.untag_resource",
        "ListTagsOfResource": "tables.list_tags_of_resource",
        "UpdateTimeToLive": "ttl.update_time_to_live",
        "DescribeTimeToLive": "ttl.describe_time_to_live",
        "PutItem": "items.put_item",
        "GetItem": "items.get_item",
        "DeleteItem": "items.delete_item",
        "UpdateItem": "items.update_item",
        "Query": "read.query",
        "Scan": "read.scan",
        "BatchGetItem": "batch.batch_get_item",
        "BatchWriteItem": "batch.batch_write_item",
        "TransactWriteItems": "transact.transact_write_items",
        "TransactGetItems": "transact.transact_get_items",
        "ExecuteStatement": "partiql.execute_statement",
        "BatchExecuteStatement": "partiql.batch_execute_statement",
        "ExecuteTransaction": "partiql.execute_transaction",
        "EnableKinesisStreamingDestination": (
            "kinesis_destinations.enable_kinesis_streaming_destination"
        ),
        "DisableKinesisStreamingDestination": (
            "kinesis_destinations.disable_kinesis_streaming_destination"
        ),
        "UpdateKinesisStreamingDestination": (
            "kinesis_destinations.update_kinesis_streaming_destination"
        ),
        "DescribeKinesisStreamingDestination": (
            "kinesis_destinations.describe_kinesis_streaming_destination"
        ),
        "DescribeContinuousBackups": "backups.describe_continuous_backups",
        "UpdateContinuousBackups": "backups.update_continuous_backups",
        "RestoreTableToPointInTime": "backups.restore_table_to_point_in_time",
        "CreateBackup": "backups.create_backup",
        "DescribeBackup": "backups.describe_backup",
        "ListBackups": "backups.list_backups",
        "DeleteBackup": "backups.delete_backup",
        "RestoreTableFromBackup": "backups.restore_table_from_backup",
        "ExportTableToPointInTime": "backups.export_table_to_point_in_time",
        "DescribeExport": "backups.describe_export",
        "ListExports": "backups.list_exports",
        "CreateGlobalTable": "global_tables.create_global_table",
        "DescribeGlobalTable": "global_tables.describe_global_table",
        "UpdateGlobalTable": "global_tables.update_global_table",
        "DescribeGlobalTableSettings": "global_tables.describe_global_table_settings",
        "UpdateGlobalTableSettings": "global_tables.update_global_table_settings",
        "ListGlobalTables": "global_tables.list_global_tables",
        "DescribeTableReplicaAutoScaling": "global_tables.describe_table_replica_auto_scaling",
    },
    "dynamodbstreams": {
        "ListStreams": "streams.list_streams",
        "DescribeStream": "streams.describe_stream",
        "GetShardIterator": "streams.get_shard_iterator",
        "GetRecords": "streams.get_records",
    },
}

_loaded: dict[tuple[str, str], Operation] = {}


def operation(service: str, name: str) -> Operation | None:
    """The function serving `service`'s operation `name`, or None if there is none."""
    found = _loaded.get((service, name))
    if found is not None:
        return found
    target = OPERATIONS.get(service, {}).get(name)
    if target is None:
        return None
    module_name, function_name = target.split(".")
    module = importlib.import_module(f"emulator.api.{module_name}")
    found = getattr(module, function_name)
    _loaded[(service, name)] = found
    return found


__all__ = ["OPERATIONS", "Backend", "Operation", "operation"]
