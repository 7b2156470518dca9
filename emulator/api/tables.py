"""CreateTable, DescribeTable, UpdateTable, DeleteTable, ListTables and table tags."""

from __future__ import annotations

import copy
import uuid
from typing import Any

import orjson

from emulator.api.backend import Backend
from emulator.api.common import (
    INDEX_IDS,
    INVALID,
    STREAM_ID,
    constraint_message,
    find_table_for_control,
    table_arn,
    table_indexes,
    table_name_of,
)
from emulator.api.writes import update_index_entries
from emulator.errors import ResourceInUseException, ResourceNotFoundException, ValidationException
from emulator.storage.engine import TableRow

MAX_LSI = 5
MAX_GSI = 20
MAX_TAGS = 50
TAGS = "_tags"


# -- validation -----------------------------------------------------------------------------


def _check_key_schema(key_schema: list[dict[str, str]], path: str) -> None:
    if len(key_schema) > 2:
        raise ValidationException(
            constraint_message(
                [
                    (
                        [
                            f"KeySchemaElement(AttributeName={e.get('AttributeName')}, "
                            f"KeyType={e.get('KeyType')})"
                            for e in key_schema
                        ],
                        path,
                        "Member must have length less than or equal to 2",
                    )
                ]
            )
        )
    if key_schema[0]["KeyType"] != "HASH":
        raise ValidationException(
            "Invalid KeySchema: The first KeySchemaElement is not a HASH key type"
        )
    if len(key_schema) == 2:
        if key_schema[1]["KeyType"] != "RANGE":
            raise ValidationException(
                "Invalid KeySchema: The second KeySchemaElement is not a RANGE key type"
            )
        if key_schema[0]["AttributeName"] == key_schema[1]["AttributeName"]:
            raise ValidationException(
                "Both the Hash Key and the Range Key element in the KeySchema have the same name"
            )


def _check_defined(key_schema: list[dict[str, str]], definitions: dict[str, str]) -> None:
    keys = [element["AttributeName"] for element in key_schema]
    if any(key not in definitions for key in keys):
        raise ValidationException(
            INVALID + "Some index key attributes are not defined in AttributeDefinitions. "
            f"Keys: [{', '.join(keys)}], AttributeDefinitions: [{', '.join(definitions)}]"
        )


def _check_projection(index: dict[str, Any]) -> None:
    projection = index.get("Projection")
    if projection is None:
        raise ValidationException(
            constraint_message([(None, "projection", "Member must not be null")])
        )
    kind = projection.get("ProjectionType")
    non_key = projection.get("NonKeyAttributes")
    if kind == "INCLUDE" and not non_key:
        raise ValidationException(
            INVALID + "ProjectionType is INCLUDE, but NonKeyAttributes is not specified"
        )
    if kind in (None, "ALL", "KEYS_ONLY") and non_key is not None:
        raise ValidationException(
            INVALID + f"ProjectionType is {kind or 'ALL'}, but NonKeyAttributes is specified"
        )


def _check_billing(billing_mode: str, throughput: dict[str, Any] | None) -> None:
    if billing_mode == "PAY_PER_REQUEST" and throughput is not None:
        raise ValidationException(
            INVALID + "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when "
            "BillingMode is PAY_PER_REQUEST"
        )
    if billing_mode == "PROVISIONED" and throughput is None:
        raise ValidationException(
            INVALID + "ReadCapacityUnits and WriteCapacityUnits must both be specified when "
            "BillingMode is PROVISIONED"
        )


def _throughput_description(throughput: dict[str, Any] | None) -> dict[str, Any]:
    throughput = throughput or {}
    return {
        "NumberOfDecreasesToday": 0,
        "ReadCapacityUnits": throughput.get("ReadCapacityUnits", 0),
        "WriteCapacityUnits": throughput.get("WriteCapacityUnits", 0),
    }


def _index_descriptions(
    request: dict[str, Any],
    table_key: list[dict[str, str]],
    definitions: dict[str, str],
    billing_mode: str,
    arn: str,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Validated LocalSecondaryIndexes and GlobalSecondaryIndexes descriptions."""
    local = request.get("LocalSecondaryIndexes")
    global_ = request.get("GlobalSecondaryIndexes")
    names: set[str] = set()
    lsis: list[dict[str, Any]] = []
    gsis: list[dict[str, Any]] = []
    if local is not None:
        if len(table_key) < 2:
            raise ValidationException(
                INVALID + "Table KeySchema does not have a range key, which is required when "
                "specifying a LocalSecondaryIndex"
            )
        if len(local) > MAX_LSI:
            raise ValidationException(
                INVALID + f"Number of LocalSecondaryIndexes exceeds per-table limit of {MAX_LSI}"
            )
        for index in local:
            name = index["IndexName"]
            key = index["KeySchema"]
            _check_key_schema(key, "localSecondaryIndexes.member.keySchema")
            _check_defined(key, definitions)
            if key[0]["AttributeName"] != table_key[0]["AttributeName"]:
                raise ValidationException(
                    INVALID + "Index KeySchema does not have the same leading hash key as table "
                    f"KeySchema for index: {name}. index hash key: {key[0]['AttributeName']}, "
                    f"table hash key: {table_key[0]['AttributeName']}"
                )
            if len(key) < 2:
                raise ValidationException(
                    INVALID + f"Index KeySchema does not have a range key for index: {name}"
                )
            _check_projection(index)
            if name in names:
                raise ValidationException(INVALID + f"Duplicate index name: {name}")
            names.add(name)
            lsis.append(
                {
                    "IndexName": name,
                    "KeySchema": key,
                    "Projection": index["Projection"],
                    "IndexSizeBytes": 0,
                    "ItemCount": 0,
                    "IndexArn": f"{arn}/index/{name}",
                }
            )
    if global_ is not None:
        if len(global_) > MAX_GSI:
            raise ValidationException(
                INVALID + f"GlobalSecondaryIndex count exceeds the per-table limit of {MAX_GSI}"
            )
        for index in global_:
            gsis.append(_gsi_description(index, definitions, billing_mode, arn, names))
    return lsis, gsis


def _gsi_description(
    index: dict[str, Any],
    definitions: dict[str, str],
    billing_mode: str,
    arn: str,
    names: set[str],
) -> dict[str, Any]:
    name = index["IndexName"]
    key = index["KeySchema"]
    _check_key_schema(key, "globalSecondaryIndexes.member.keySchema")
    _check_defined(key, definitions)
    _check_projection(index)
    throughput = index.get("ProvisionedThroughput")
    if billing_mode == "PAY_PER_REQUEST" and throughput is not None:
        raise ValidationException(
            INVALID + f"ProvisionedThroughput should not be specified for index: {name} when "
            "BillingMode is PAY_PER_REQUEST"
        )
    if billing_mode == "PROVISIONED" and throughput is None:
        raise ValidationException(
            INVALID + f"ProvisionedThroughput must be specified for index: {name}"
        )
    if name in names:
        raise ValidationException(INVALID + f"Duplicate index name: {name}")
    names.add(name)
    return {
        "IndexName": name,
        "KeySchema": key,
        "Projection": index["Projection"],
        "IndexStatus": "ACTIVE",
        "ProvisionedThroughput": _throughput_description(throughput),
        "IndexSizeBytes": 0,
        "ItemCount": 0,
        "IndexArn": f"{arn}/index/{name}",
    }


def _check_stream_specification_on_create(spec: dict[str, Any] | None) -> str | None:
    """The view type of the stream to create, or None (SPEC 4.1)."""
    if spec is None:
        return None
    enabled = spec.get("StreamEnabled")
    view_type = spec.get("StreamViewType")
    if enabled and view_type is None:
        raise ValidationException(
            INVALID + "Table is being created with a stream enabled, UpdateViewType is required"
        )
    if not enabled and view_type is not None:
        raise ValidationException(
            INVALID + "Table is being created with a stream disabled, UpdateViewType should not be "
            "specified"
        )
    return view_type if enabled else None


def _check_tags(tags: list[dict[str, str]]) -> None:
    keys = [tag["Key"] for tag in tags]
    if len(set(keys)) != len(keys):
        raise ValidationException(INVALID + "Duplicate tag keys found in the request")
    if len(tags) > MAX_TAGS:
        raise ValidationException("The number of tags exceeds the limit of 50 tags per resource")


# -- descriptions ---------------------------------------------------------------------------


def describe(backend: Backend, row: TableRow, status: str | None = None) -> dict[str, Any]:
    """The wire TableDescription: the stored document without internals, with live counts."""
    description = {key: value for key, value in row.description.items() if not key.startswith("_")}
    item_count, size = backend.engine.table_usage(row.table_id)
    description["ItemCount"] = item_count
    description["TableSizeBytes"] = size
    index_ids: dict[str, int] = row.description.get(INDEX_IDS) or {}
    for member in ("LocalSecondaryIndexes", "GlobalSecondaryIndexes"):
        if member in description:
            indexes = [dict(index) for index in description[member]]
            for index in indexes:
                index_id = index_ids.get(index["IndexName"])
                if index_id is not None:
                    index["ItemCount"], index["IndexSizeBytes"] = backend.engine.index_usage(
                        index_id
                    )
            description[member] = indexes
    if status is not None:
        description["TableStatus"] = status
    return copy.deepcopy(description)


def _enable_stream(backend: Backend, row: TableRow, region: str, view_type: str) -> None:
    description = row.description
    stream = backend.streams.create_stream(region, row.name, description["KeySchema"], view_type)
    description["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": view_type}
    description["LatestStreamLabel"] = stream.description["StreamLabel"]
    description["LatestStreamArn"] = stream.arn
    description[STREAM_ID] = stream.stream_id


def _disable_stream(backend: Backend, row: TableRow) -> None:
    stream_id = row.description.pop(STREAM_ID, None)
    row.description.pop("StreamSpecification", None)
    if stream_id is not None:
        backend.streams.disable_stream(stream_id)


# -- operations -----------------------------------------------------------------------------


def create_table(backend: Backend, region: str, request: dict[str, Any]) -> dict[str, Any]:
    name = table_name_of(request["TableName"], region, backend)
    missing = [
        (None, path, "Member must not be null")
        for member, path in (
            ("AttributeDefinitions", "attributeDefinitions"),
            ("KeySchema", "keySchema"),
        )
        if request.get(member) is None
    ]
    if missing:
        raise ValidationException(constraint_message(missing))
    key_schema: list[dict[str, str]] = request["KeySchema"]
    attribute_definitions: list[dict[str, str]] = request["AttributeDefinitions"]
    _check_key_schema(key_schema, "keySchema")
    definitions: dict[str, str] = {}
    for definition in attribute_definitions:
        if definition["AttributeName"] in definitions:
            raise ValidationException(INVALID + "Cannot have two attributes with the same name")
        definitions[definition["AttributeName"]] = definition["AttributeType"]
    _check_defined(key_schema, definitions)
    billing_mode = request.get("BillingMode", "PROVISIONED")
    throughput = request.get("ProvisionedThroughput")
    _check_billing(billing_mode, throughput)
    arn = table_arn(backend, region, name)
    lsis, gsis = _index_descriptions(request, key_schema, definitions, billing_mode, arn)
    used = {e["AttributeName"] for e in key_schema}
    for index in lsis + gsis:
        used.update(e["AttributeName"] for e in index["KeySchema"])
    if set(definitions) != used:
        if not lsis and not gsis:
            raise ValidationException(
                INVALID + "Number of attributes in KeySchema does not exactly match number of "
                "attributes defined in AttributeDefinitions"
            )
        raise ValidationException(
            INVALID + "Some AttributeDefinitions are not used. AttributeDefinitions: "
            f"[{', '.join(definitions)}], keys used: [{', '.join(sorted(used))}]"
        )
    view_type = _check_stream_specification_on_create(request.get("StreamSpecification"))
    tags = request.get("Tags") or []
    _check_tags(tags)
    if backend.engine.get_table(region, name) is not None:
        raise ResourceInUseException(f"Table already exists: {name}")

    now = backend.clock.now()
    description: dict[str, Any] = {
        "AttributeDefinitions": attribute_definitions,
        "TableName": name,
        "KeySchema": key_schema,
        "TableStatus": "ACTIVE",
        "CreationDateTime": round(now, 3),
        "ProvisionedThroughput": _throughput_description(throughput),
        "TableSizeBytes": 0,
        "ItemCount": 0,
        "TableArn": arn,
        "TableId": str(uuid.uuid4()),
        "BillingModeSummary": _billing_summary(billing_mode, now),
    }
    if lsis:
        description["LocalSecondaryIndexes"] = lsis
    if gsis:
        description["GlobalSecondaryIndexes"] = gsis
    if request.get("TableClass"):
        description["TableClassSummary"] = {"TableClass": request["TableClass"]}
    description["DeletionProtectionEnabled"] = bool(request.get("DeletionProtectionEnabled", False))
    description[TAGS] = {tag["Key"]: tag["Value"] for tag in tags}
    with backend.engine.transaction():
        description[INDEX_IDS] = {
            index["IndexName"]: backend.engine.allocate_id("index") for index in lsis + gsis
        }
        row = backend.engine.create_table(region, name, description)
        if view_type is not None:
            _enable_stream(backend, row, region, view_type)
            backend.engine.save_table(row)
    return {"TableDescription": describe(backend, row)}


def _billing_summary(billing_mode: str, now: float) -> dict[str, Any]:
    summary: dict[str, Any] = {"BillingMode": billing_mode}
    if billing_mode == "PAY_PER_REQUEST":
        summary["LastUpdateToPayPerRequestDateTime"] = round(now, 3)
    return summary


def describe_table(backend: Backend, region: str, request: dict[str, Any]) -> dict[str, Any]:
    row = find_table_for_control(backend, region, request["TableName"])
    return {"Table": describe(backend, row)}


def list_tables(backend: Backend, region: str, request: dict[str, Any]) -> dict[str, Any]:
    names = backend.engine.table_names(region)
    start = request.get("ExclusiveStartTableName")
    if start is not None:
        names = [name for name in names if name > start]
    limit = request.get("Limit", 100)
    result: dict[str, Any] = {"TableNames": names[:limit]}
    if len(names) > limit:
        result["LastEvaluatedTableName"] = names[limit - 1]
    return result


def delete_table(backend: Backend, region: str, request: dict[str, Any]) -> dict[str, Any]:
    row = find_table_for_control(backend, region, request["TableName"])
    if row.description.get("DeletionProtectionEnabled"):
        raise ValidationException(
            "Resource cannot be deleted as it is currently protected against deletion. "
            "Disable deletion protection first."
        )
    with backend.engine.transaction():
        description = describe(backend, row, status="DELETING")
        _disable_stream(backend, row)
        backend.engine.delete_table(row, list((row.description.get(INDEX_IDS) or {}).values()))
    return {"TableDescription": description}


def update_table(backend: Backend, region: str, request: dict[str, Any]) -> dict[str, Any]:
    row = find_table_for_control(backend, region, request["TableName"])
    description = row.description
    changes = [
        member
        for member in (
            "ProvisionedThroughput",
            "BillingMode",
            "StreamSpecification",
            "GlobalSecondaryIndexUpdates",
            "DeletionProtectionEnabled",
            "TableClass",
            "SSESpecification",
            "ReplicaUpdates",
            "OnDemandThroughput",
            "WarmThroughput",
        )
        if request.get(member) is not None
    ]
    if not changes:
        raise ValidationException(
            "At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, "
            "GlobalSecondaryIndexUpdates or SSESpecification or ReplicaUpdates is required"
        )
    stream_spec = request.get("StreamSpecification")
    index_updates = request.get("GlobalSecondaryIndexUpdates")
    if stream_spec is not None:
        if index_updates:
            raise ValidationException(
                INVALID + "You cannot create or delete index while changing stream status"
            )
        if request.get("ProvisionedThroughput") is not None:
            raise ValidationException(
                INVALID + "You cannot modify stream status while updating table IOPS"
            )
        _check_stream_update(description, stream_spec, row.name)

    billing_mode = request.get("BillingMode", description["BillingModeSummary"]["BillingMode"])
    throughput = request.get("ProvisionedThroughput")
    if throughput is not None or "BillingMode" in request:
        if billing_mode == "PAY_PER_REQUEST" and throughput is not None:
            _check_billing(billing_mode, throughput)
        if (
            billing_mode == "PROVISIONED"
            and throughput is None
            and description["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
        ):
            _check_billing(billing_mode, throughput)
        current = description["ProvisionedThroughput"]
        if (
            throughput is not None
            and "BillingMode" not in request
            and throughput.get("ReadCapacityUnits") == current["ReadCapacityUnits"]
            and throughput.get("WriteCapacityUnits") == current["WriteCapacityUnits"]
        ):
            raise ValidationException(
                "The provisioned throughput for the table will not change. The requested value "
                "equals the current value. Current ReadCapacityUnits provisioned for the table: "
                f"{current['ReadCapacityUnits']}. Requested ReadCapacityUnits: "
                f"{throughput['ReadCapacityUnits']}. Current WriteCapacityUnits provisioned for "
                f"the table: {current['WriteCapacityUnits']}. Requested WriteCapacityUnits: "
                f"{throughput['WriteCapacityUnits']}. Refer to the Amazon DynamoDB Developer "
                "Guide for current limits and how to request higher limits."
            )
    definitions = {
        d["AttributeName"]: d["AttributeType"] for d in description["AttributeDefinitions"]
    }
    for definition in request.get("AttributeDefinitions") or []:
        definitions.setdefault(definition["AttributeName"], definition["AttributeType"])
    new_gsis, removed_gsis = _plan_index_updates(
        description, index_updates or [], definitions, billing_mode, row
    )

    now = backend.clock.now()
    with backend.engine.transaction():
        if (
            "BillingMode" in request
            and request["BillingMode"] != description["BillingModeSummary"]["BillingMode"]
        ):
            description["BillingModeSummary"] = _billing_summary(billing_mode, now)
        elif "BillingMode" in request:
            description["BillingModeSummary"]["BillingMode"] = billing_mode
        if billing_mode == "PAY_PER_REQUEST":
            description["ProvisionedThroughput"] = _throughput_description(None)
        elif throughput is not None:
            previous = description["ProvisionedThroughput"]
            updated = _throughput_description(throughput)
            if (
                updated["ReadCapacityUnits"] > previous["ReadCapacityUnits"]
                or updated["WriteCapacityUnits"] > previous["WriteCapacityUnits"]
            ):
                updated["LastIncreaseDateTime"] = round(now, 3)
            description["ProvisionedThroughput"] = updated
        if request.get("DeletionProtectionEnabled") is not None:
            description["DeletionProtectionEnabled"] = request["DeletionProtectionEnabled"]
        if request.get("TableClass"):
            description["TableClassSummary"] = {"TableClass": request["TableClass"]}
        if index_updates:
            used_definitions = {d["AttributeName"] for d in description["AttributeDefinitions"]}
            for name, attribute_type in definitions.items():
                if name not in used_definitions:
                    description["AttributeDefinitions"].append(
                        {"AttributeName": name, "AttributeType": attribute_type}
                    )
            gsis = [
                g
                for g in description.get("GlobalSecondaryIndexes", [])
                if g["IndexName"] not in removed_gsis
            ]
            gsis.extend(new_gsis)
            if gsis:
                description["GlobalSecondaryIndexes"] = gsis
            else:
                description.pop("GlobalSecondaryIndexes", None)
            _rebuild_index_storage(backend, row, removed_gsis, [g["IndexName"] for g in new_gsis])
        if stream_spec is not None:
            if stream_spec["StreamEnabled"]:
                _enable_stream(backend, row, region, stream_spec["StreamViewType"])
            else:
                _disable_stream(backend, row)
        backend.engine.save_table(row)
    return {"TableDescription": describe(backend, row, status="UPDATING")}


def _rebuild_index_storage(
    backend: Backend, row: TableRow, removed: set[str], created: list[str]
) -> None:
    """Drop removed GSIs' entries and backfill new ones from the table's items.

    The ids dict is replaced, not mutated: that is how the index cache notices.
    """
    engine = backend.engine
    ids = dict(row.description.get(INDEX_IDS) or {})
    for name in removed:
        index_id = ids.pop(name, None)
        if index_id is not None:
            engine.drop_index(index_id)
    for name in created:
        ids[name] = engine.allocate_id("index")
    row.description[INDEX_IDS] = ids
    new_indexes = tuple(index for index in table_indexes(row) if index.name in created)
    if not new_indexes:
        return
    after: tuple[bytes, bytes] | None = None
    while rows := engine.scan_items(row.table_id, after, 1000):
        for hash_key, range_key, _size, blob in rows:
            update_index_entries(
                backend, new_indexes, hash_key, range_key, None, orjson.loads(blob)
            )
        after = (rows[-1][0], rows[-1][1])


def _check_stream_update(description: dict[str, Any], spec: dict[str, Any], name: str) -> None:
    enabled = spec.get("StreamEnabled")
    view_type = spec.get("StreamViewType")
    if enabled:
        if view_type is None:
            raise ValidationException(
                INVALID + "If stream is being enabled then UpdateViewType is required"
            )
        if STREAM_ID in description:
            raise ValidationException(f"Table already has an enabled stream: TableName: {name}")
    else:
        if view_type is not None:
            raise ValidationException(
                INVALID + "If stream is being disabled, then UpdateViewType must not be specified"
            )
        if STREAM_ID not in description:
            raise ValidationException(f"Table has no stream to disable: TableName: {name}")


def _plan_index_updates(
    description: dict[str, Any],
    updates: list[dict[str, Any]],
    definitions: dict[str, str],
    billing_mode: str,
    row: TableRow,
) -> tuple[list[dict[str, Any]], set[str]]:
    existing = {g["IndexName"] for g in description.get("GlobalSecondaryIndexes", [])}
    existing |= {i["IndexName"] for i in description.get("LocalSecondaryIndexes", [])}
    created: list[dict[str, Any]] = []
    removed: set[str] = set()
    names = set(existing)
    for update in updates:
        if "Create" in update:
            created.append(
                _gsi_description(
                    update["Create"], definitions, billing_mode, description["TableArn"], names
                )
            )
        elif "Delete" in update:
            name = update["Delete"]["IndexName"]
            if name not in existing:
                raise ResourceNotFoundException()
            removed.add(name)
        elif "Update" in update:
            name = update["Update"]["IndexName"]
            if name not in existing:
                raise ResourceNotFoundException()
    return created, removed


# -- tags -----------------------------------------------------------------------------------


def _table_by_arn(backend: Backend, region: str, arn: str) -> TableRow:
    prefix = f"arn:aws:dynamodb:{region}:{backend.config.account_id}:table/"
    if not arn.startswith("arn:"):
        raise ValidationException(f"Invalid TableArn: Invalid ResourceArn provided as input {arn}")
    name = arn[len(prefix) :] if arn.startswith(prefix) else None
    row = backend.engine.get_table(region, name) if name else None
    if row is None:
        raise ResourceNotFoundException(
            f"Requested resource not found: ResourcArn: {arn} not found"
        )
    return row


def tag_resource(backend: Backend, region: str, request: dict[str, Any]) -> dict[str, Any]:
    row = _table_by_arn(backend, region, request["ResourceArn"])
    tags: dict[str, str] = row.description[TAGS]
    _check_tags(request["Tags"])
    merged = dict(tags)
    merged.update({tag["Key"]: tag["Value"] for tag in request["Tags"]})
    if len(merged) > MAX_TAGS:
        raise ValidationException("The number of tags exceeds the limit of 50 tags per resource")
    with backend.engine.transaction():
        row.description[TAGS] = merged
        backend.engine.save_table(row)
    return {}


def untag_resource(backend: Backend, region: str, request: dict[str, Any]) -> dict[str, Any]:
    row = _table_by_arn(backend, region, request["ResourceArn"])
    with backend.engine.transaction():
        tags: dict[str, str] = row.description[TAGS]
        for key in request["TagKeys"]:
            tags.pop(key, None)
        backend.engine.save_table(row)
    return {}


def list_tags_of_resource(backend: Backend, region: str, request: dict[str, Any]) -> dict[str, Any]:
    row = _table_by_arn(backend, region, request["ResourceArn"])
    tags = sorted(row.description[TAGS].items())
    start = int(request["NextToken"]) if str(request.get("NextToken", "")).isdigit() else 0
    page = tags[start : start + 10]
    result: dict[str, Any] = {"Tags": [{"Key": k, "Value": v} for k, v in page]}
    if start + 10 < len(tags):
        result["NextToken"] = str(start + 10)
    return result
