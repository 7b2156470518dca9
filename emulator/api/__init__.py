"""The operations, one plain function each, grouped by module; the wire layer routes here."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from emulator.api import batch, items, read, streams, tables, transact, ttl
from emulator.api.backend import Backend

Operation = Callable[[Backend, str, dict[str, Any]], "dict[str, Any] | bytes"]

OPERATIONS: dict[str, dict[str, Operation]] = {
    "dynamodb": {
        "CreateTable": tables.create_table,
        "DescribeTable": tables.describe_table,
        "UpdateTable": tables.update_table,
        "DeleteTable": tables.delete_table,
        "ListTables": tables.list_tables,
        "TagResource": tables.tag_resource,
        "UntagResource": tables.untag_resource,
        "ListTagsOfResource": tables.list_tags_of_resource,
        "UpdateTimeToLive": ttl.update_time_to_live,
        "DescribeTimeToLive": ttl.describe_time_to_live,
        "PutItem": items.put_item,
        "GetItem": items.get_item,
        "DeleteItem": items.delete_item,
        "UpdateItem": items.update_item,
        "Query": read.query,
        "Scan": read.scan,
        "BatchGetItem": batch.batch_get_item,
        "BatchWriteItem": batch.batch_write_item,
        "TransactWriteItems": transact.transact_write_items,
        "TransactGetItems": transact.transact_get_items,
    },
    "dynamodbstreams": {
        "ListStreams": streams.list_streams,
        "DescribeStream": streams.describe_stream,
        "GetShardIterator": streams.get_shard_iterator,
        "GetRecords": streams.get_records,
    },
}

__all__ = ["OPERATIONS", "Backend", "Operation"]
