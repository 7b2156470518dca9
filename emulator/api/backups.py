"""Point-in-time recovery, on-demand backups and exports, on top of the change log.

DescribeContinuousBackups / UpdateContinuousBackups, RestoreTableToPointInTime,
CreateBackup / DescribeBackup / ListBackups / DeleteBackup / RestoreTableFromBackup,
ExportTableToPointInTime / DescribeExport / ListExports.

Emulator rules (SPEC-STREAM-APPS 7.4): `LatestRestorableDateTime` is now (no 5-minute
lag); restores and backups are done when the call returns (a restored table is ACTIVE, a
backup AVAILABLE); a restore is a new table without the source's stream, TTL, tags, PITR
setting or deletion protection, as on AWS. An export is asynchronous as on AWS: read when
the call is made, answered IN_PROGRESS, then written off the event loop
(runtime/exports.py) to a local folder (`--export-dir`:
`<dir>/<S3Bucket>/<S3Prefix>/AWSDynamoDB/<id>/`) or an S3-compatible endpoint
(`--export-s3-endpoint`), and COMPLETED or FAILED; settling waits for it.
"""

from __future__ import annotations

import dataclasses
import math
import time
import uuid
from typing import Any

from emulator.api.common import INVALID, check_table_name, table_arn
from emulator.api.tables import create_table, describe
from emulator.errors import (
    BackupNotFoundException,
    ExportNotFoundException,
    IdempotentParameterMismatchException,
    InvalidExportTimeException,
    InvalidRestoreTimeException,
    PointInTimeRecoveryUnavailableException,
    TableAlreadyExistsException,
    TableNotFoundException,
    ValidationException,
)
from emulator.model.table_state import PitrState
from emulator.runtime import history
from emulator.runtime.backend import Backend
from emulator.storage.engine import TableRow

BACKUP = "backup"
EXPORT = "export"
#: Incremental export windows (AWS: 15 minutes to 24 hours).
MIN_INCREMENTAL_SECONDS = 15 * 60.0
MAX_INCREMENTAL_SECONDS = 24 * 3600.0
#: An export's ClientToken is remembered this long.
CLIENT_TOKEN_SECONDS = 8 * 3600.0
IN_PROGRESS, COMPLETED, FAILED = "IN_PROGRESS", "COMPLETED", "FAILED"


# -- lookups ---------------------------------------------------------------------------------


def _table(backend: Backend, region: str, name_or_arn: str) -> TableRow:
    """A source table by name or ARN; TableNotFoundException `Table not found: <t>`."""
    name = name_or_arn
    if name_or_arn.startswith("arn:"):
        prefix = f"arn:aws:dynamodb:{region}:{backend.config.account_id}:table/"
        name = name_or_arn[len(prefix) :] if name_or_arn.startswith(prefix) else name_or_arn
    row = backend.engine.get_table(region, name)
    if row is None:
        raise TableNotFoundException(f"Table not found: {name}")
    return row


def restorable_window(backend: Backend, row: TableRow) -> tuple[float, float] | None:
    """(EarliestRestorableDateTime, LatestRestorableDateTime), or None without PITR."""
    pitr = row.state.pitr
    if pitr is None:
        return None
    now = backend.clock.now()
    earliest = max(pitr.enabled_at, now - pitr.recovery_days * 86400.0)
    return math.floor(earliest * 1000) / 1000, now


def _within(instant: float, window: tuple[float, float]) -> bool:
    """Whether a requested instant is restorable: from the earliest time's second (a
    client may send whole seconds) to now, give or take the float round trip."""
    return math.floor(window[0]) <= instant <= window[1] + 1e-6


def _ms(seconds: float) -> float:
    return round(seconds, 3)


# -- continuous backups ------------------------------------------------------------------------


def _continuous_backups(backend: Backend, row: TableRow) -> dict[str, Any]:
    window = restorable_window(backend, row)
    pitr: dict[str, Any]
    if window is None:
        pitr = {"PointInTimeRecoveryStatus": "DISABLED"}
    else:
        pitr = {
            "PointInTimeRecoveryStatus": "ENABLED",
            "RecoveryPeriodInDays": row.state.pitr.recovery_days,
            "EarliestRestorableDateTime": window[0],
            "LatestRestorableDateTime": math.floor(window[1] * 1000) / 1000,
        }
    return {"ContinuousBackupsStatus": "ENABLED", "PointInTimeRecoveryDescription": pitr}


def describe_continuous_backups(
    backend: Backend, region: str, request: dict[str, Any]
) -> dict[str, Any]:
    row = _table(backend, region, request["TableName"])
    return {"ContinuousBackupsDescription": _continuous_backups(backend, row)}


def update_continuous_backups(
    backend: Backend, region: str, request: dict[str, Any]
) -> dict[str, Any]:
    """Enabling starts the table's change log (when `--change-log` has not already);
    disabling drops its history, so re-enabling starts the window again (as on AWS)."""
    row = _table(backend, region, request["TableName"])
    spec = request["PointInTimeRecoverySpecification"]
    enabled = bool(spec["PointInTimeRecoveryEnabled"])
    days = spec.get("RecoveryPeriodInDays")
    if days is not None and not enabled:
        raise ValidationException(
            "RecoveryPeriodInDays can only be specified when PointInTimeRecoveryEnabled is true"
        )
    engine = backend.engine
    current = row.state.pitr
    with engine.transaction():
        if enabled:
            period = int(days) if days is not None else (current.recovery_days if current else 35)
            enabled_at = current.enabled_at if current is not None else backend.clock.now()
            row.state = dataclasses.replace(row.state, pitr=PitrState(enabled_at, period))
        elif current is not None:
            row.state = dataclasses.replace(row.state, pitr=None)
            if not backend.config.change_log:
                engine.change_log.drop_table(row.table_id)
        engine.catalog.save_table(row)
    return {"ContinuousBackupsDescription": _continuous_backups(backend, row)}


# -- restores ------------------------------------------------------------------------------------


def _restore_request(
    source: dict[str, Any], target: str, request: dict[str, Any]
) -> dict[str, Any]:
    """The CreateTable request of a restored table: the source's keys, indexes, billing
    and class, with the request's overrides; no stream, TTL, tags or protection."""
    billing = request.get(
        "BillingModeOverride",
        source.get("BillingModeSummary", {}).get("BillingMode", "PROVISIONED"),
    )
    create: dict[str, Any] = {
        "TableName": target,
        "KeySchema": source["KeySchema"],
        "AttributeDefinitions": source["AttributeDefinitions"],
        "BillingMode": billing,
    }
    if billing == "PROVISIONED":
        throughput = request.get("ProvisionedThroughputOverride") or {
            "ReadCapacityUnits": max(1, source["ProvisionedThroughput"]["ReadCapacityUnits"]),
            "WriteCapacityUnits": max(1, source["ProvisionedThroughput"]["WriteCapacityUnits"]),
        }
        create["ProvisionedThroughput"] = throughput
    local = request.get("LocalSecondaryIndexOverride")
    if local is None:
        local = [
            {key: index[key] for key in ("IndexName", "KeySchema", "Projection")}
            for index in source.get("LocalSecondaryIndexes", [])
        ]
    if local:
        create["LocalSecondaryIndexes"] = local
    global_ = request.get("GlobalSecondaryIndexOverride")
    if global_ is None:
        global_ = []
        for index in source.get("GlobalSecondaryIndexes", []):
            created = {
                "IndexName": index["IndexName"],
                "KeySchema": index["KeySchema"],
                "Projection": index["Projection"],
            }
            if billing == "PROVISIONED":
                throughput = index.get("ProvisionedThroughput") or {}
                created["ProvisionedThroughput"] = {
                    "ReadCapacityUnits": max(1, throughput.get("ReadCapacityUnits", 1)),
                    "WriteCapacityUnits": max(1, throughput.get("WriteCapacityUnits", 1)),
                }
            global_.append(created)
    if global_:
        create["GlobalSecondaryIndexes"] = global_
    used = {e["AttributeName"] for e in create["KeySchema"]}
    for index in (*local, *global_):
        used.update(e["AttributeName"] for e in index["KeySchema"])
    create["AttributeDefinitions"] = [
        d for d in create["AttributeDefinitions"] if d["AttributeName"] in used
    ]
    if "TableClassSummary" in source:
        create["TableClass"] = source["TableClassSummary"]["TableClass"]
    if request.get("OnDemandThroughputOverride") is not None:
        create["OnDemandThroughput"] = request["OnDemandThroughputOverride"]
    if request.get("SSESpecificationOverride") is not None:
        create["SSESpecification"] = request["SSESpecificationOverride"]
    return create


def _check_target(backend: Backend, region: str, target: str) -> None:
    check_table_name(target, "targetTableName")
    if backend.engine.get_table(region, target) is not None:
        raise TableAlreadyExistsException(f"Table already exists: {target}")


def _restore(
    backend: Backend,
    region: str,
    source: dict[str, Any],
    target: str,
    request: dict[str, Any],
    summary: dict[str, Any],
    items: Any,
) -> dict[str, Any]:
    """Create the target table and fill it, in one transaction."""
    engine = backend.engine
    with engine.transaction():
        create_table(backend, region, _restore_request(source, target, request))
        row = engine.get_table(region, target)
        assert row is not None
        history.fill_table(backend, row, items)
        row.description["RestoreSummary"] = {**summary, "RestoreInProgress": False}
        engine.catalog.save_table(row)
    return {"TableDescription": describe(backend, row)}


def restore_table_to_point_in_time(
    backend: Backend, region: str, request: dict[str, Any]
) -> dict[str, Any]:
    name = request.get("SourceTableName")
    arn = request.get("SourceTableArn")
    if (name is None) == (arn is None):
        raise ValidationException(
            "Exactly one of SourceTableName or SourceTableArn must be specified"
        )
    source = _table(backend, region, name if name is not None else arn)  # type: ignore[arg-type]
    target = request["TargetTableName"]
    _check_target(backend, region, target)
    latest = bool(request.get("UseLatestRestorableTime"))
    instant = request.get("RestoreDateTime")
    if latest and instant is not None:
        raise ValidationException(
            "Only one of RestoreDateTime or UseLatestRestorableTime can be specified"
        )
    if not latest and instant is None:
        raise ValidationException(
            "Either RestoreDateTime or UseLatestRestorableTime must be specified"
        )
    window = restorable_window(backend, source)
    if window is None:
        raise PointInTimeRecoveryUnavailableException(
            f"Point in time recovery is not enabled for table '{source.name}'"
        )
    if latest or instant is None:
        instant = window[1]
    else:
        instant = float(instant)
        if not _within(instant, window):
            raise InvalidRestoreTimeException(
                "RestoreDateTime must be between EarliestRestorableDateTime and "
                "LatestRestorableDateTime"
            )
    summary = {"SourceTableArn": source.description["TableArn"], "RestoreDateTime": _ms(instant)}
    items = history.items_at(backend, source, instant)
    return _restore(backend, region, source.description, target, request, summary, items)


# -- backups -------------------------------------------------------------------------------------


def _backup_arn(backend: Backend, region: str, table: str) -> str:
    stamp = int(backend.clock.now() * 1000)
    return f"{table_arn(backend, region, table)}/backup/{stamp:014d}-{uuid.uuid4().hex[:8]}"


def _backup(backend: Backend, region: str, arn: str) -> dict[str, Any]:
    document = backend.engine.documents.get(BACKUP, region, arn)
    if document is None:
        raise BackupNotFoundException(f"Backup not found: {arn}")
    return document


def _backup_description(document: dict[str, Any]) -> dict[str, Any]:
    source = document["source"]
    details = {
        "TableName": source["TableName"],
        "TableId": source["TableId"],
        "TableArn": source["TableArn"],
        "TableSizeBytes": source["TableSizeBytes"],
        "KeySchema": source["KeySchema"],
        "TableCreationDateTime": source["CreationDateTime"],
        "ProvisionedThroughput": {
            "ReadCapacityUnits": source["ProvisionedThroughput"]["ReadCapacityUnits"],
            "WriteCapacityUnits": source["ProvisionedThroughput"]["WriteCapacityUnits"],
        },
        "ItemCount": source["ItemCount"],
        "BillingMode": source.get("BillingModeSummary", {}).get("BillingMode", "PROVISIONED"),
    }
    features: dict[str, Any] = {}
    for member in ("LocalSecondaryIndexes", "GlobalSecondaryIndexes"):
        if source.get(member):
            features[member] = [
                {
                    key: index[key]
                    for key in ("IndexName", "KeySchema", "Projection", "ProvisionedThroughput")
                    if key in index
                }
                for index in source[member]
            ]
    if "StreamSpecification" in source:
        features["StreamDescription"] = source["StreamSpecification"]
    if document.get("ttl") is not None:
        features["TimeToLiveDescription"] = document["ttl"]
    if "SSEDescription" in source:
        features["SSEDescription"] = source["SSEDescription"]
    description: dict[str, Any] = {
        "BackupDetails": document["details"],
        "SourceTableDetails": details,
    }
    if features:
        description["SourceTableFeatureDetails"] = features
    return description


def create_backup(backend: Backend, region: str, request: dict[str, Any]) -> dict[str, Any]:
    row = _table(backend, region, request["TableName"])
    return {"BackupDetails": make_backup(backend, row, request["BackupName"], "USER")["details"]}


def make_backup(backend: Backend, row: TableRow, name: str, kind: str) -> dict[str, Any]:
    """Snapshot the table's items now; the backup's document (also the system backup
    of a deleted PITR table)."""
    engine = backend.engine
    arn = _backup_arn(backend, row.region, row.name)
    source = describe(backend, row)
    ttl = row.state.ttl
    details: dict[str, Any] = {
        "BackupArn": arn,
        "BackupName": name,
        "BackupSizeBytes": source["TableSizeBytes"],
        "BackupStatus": "AVAILABLE",
        "BackupType": kind,
        "BackupCreationDateTime": _ms(backend.clock.now()),
    }
    if kind == "SYSTEM":
        details["BackupExpiryDateTime"] = _ms(backend.clock.now() + 35 * 86400.0)
    document = {
        "details": details,
        "source": source,
        "ttl": None
        if ttl is None
        else {
            "TimeToLiveStatus": "ENABLED" if ttl.enabled else "DISABLED",
            "AttributeName": ttl.attribute,
        },
    }
    with engine.transaction():
        engine.change_log.snapshot(arn, row.table_id)
        engine.documents.put(BACKUP, row.region, arn, document)
    return document


def describe_backup(backend: Backend, region: str, request: dict[str, Any]) -> dict[str, Any]:
    document = _backup(backend, region, request["BackupArn"])
    return {"BackupDescription": _backup_description(document)}


def delete_backup(backend: Backend, region: str, request: dict[str, Any]) -> dict[str, Any]:
    arn = request["BackupArn"]
    document = _backup(backend, region, arn)
    engine = backend.engine
    with engine.transaction():
        engine.change_log.drop_backup(arn)
        engine.documents.delete(BACKUP, region, arn)
    document["details"]["BackupStatus"] = "DELETED"
    return {"BackupDescription": _backup_description(document)}


def list_backups(backend: Backend, region: str, request: dict[str, Any]) -> dict[str, Any]:
    table = request.get("TableName")
    kind = request.get("BackupType", "USER")
    lower = request.get("TimeRangeLowerBound")
    upper = request.get("TimeRangeUpperBound")
    summaries = []
    for _region, arn, document in backend.engine.documents.list(BACKUP, region):
        details = document["details"]
        source = document["source"]
        if table is not None and source["TableName"] != table and source["TableArn"] != table:
            continue
        if kind != "ALL" and details["BackupType"] != kind:
            continue
        created = details["BackupCreationDateTime"]
        if (lower is not None and created < float(lower)) or (
            upper is not None and created >= float(upper)
        ):
            continue
        summary = {
            "TableName": source["TableName"],
            "TableId": source["TableId"],
            "TableArn": source["TableArn"],
            **details,
        }
        summaries.append((created, arn, summary))
    summaries.sort(key=lambda entry: (entry[0], entry[1]))
    start = request.get("ExclusiveStartBackupArn")
    if start is not None:
        arns = [arn for _c, arn, _s in summaries]
        summaries = summaries[arns.index(start) + 1 :] if start in arns else []
    limit = request.get("Limit", 100)
    result: dict[str, Any] = {"BackupSummaries": [s for _c, _a, s in summaries[:limit]]}
    if len(summaries) > limit:
        result["LastEvaluatedBackupArn"] = summaries[limit - 1][1]
    return result


def restore_table_from_backup(
    backend: Backend, region: str, request: dict[str, Any]
) -> dict[str, Any]:
    arn = request["BackupArn"]
    document = _backup(backend, region, arn)
    target = request["TargetTableName"]
    _check_target(backend, region, target)
    summary = {
        "SourceBackupArn": arn,
        "SourceTableArn": document["source"]["TableArn"],
        "RestoreDateTime": document["details"]["BackupCreationDateTime"],
    }
    items = (
        (hash_key, range_key, item)
        for hash_key, range_key, _size, item in backend.engine.change_log.backup_items(arn)
    )
    return _restore(backend, region, document["source"], target, request, summary, items)


# -- exports -------------------------------------------------------------------------------------


def _iso(seconds: float) -> str:
    whole = math.floor(seconds)
    millis = round((seconds - whole) * 1000)
    if millis == 1000:
        whole, millis = whole + 1, 0
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)) + f".{millis:03d}Z"


def _check_incremental(
    request: dict[str, Any], window: tuple[float, float]
) -> tuple[float, float, str]:
    spec = request.get("IncrementalExportSpecification")
    if spec is None or spec.get("ExportFromTime") is None:
        raise ValidationException(
            INVALID + "IncrementalExportSpecification.ExportFromTime is required for an "
            "INCREMENTAL_EXPORT"
        )
    if request.get("ExportTime") is not None:
        raise ValidationException(
            INVALID + "ExportTime cannot be specified for an INCREMENTAL_EXPORT"
        )
    since = float(spec["ExportFromTime"])
    until = float(spec["ExportToTime"]) if spec.get("ExportToTime") is not None else window[1]
    if since >= until:
        raise ValidationException(INVALID + "ExportFromTime must be before ExportToTime")
    if until - since < MIN_INCREMENTAL_SECONDS:
        raise ValidationException(
            INVALID + "The incremental export period must be at least 15 minutes"
        )
    if until - since > MAX_INCREMENTAL_SECONDS:
        raise ValidationException(
            INVALID + "The incremental export period must not be longer than 24 hours"
        )
    if not (_within(since, window) and _within(until, window)):
        raise InvalidExportTimeException(
            "The export period must be within the point in time recovery window"
        )
    return since, until, spec.get("ExportViewType", "NEW_AND_OLD_IMAGES")


def export_table_to_point_in_time(
    backend: Backend, region: str, request: dict[str, Any]
) -> dict[str, Any]:
    table_arn_value = request["TableArn"]
    if not table_arn_value.startswith("arn:"):
        raise ValidationException(
            f"Invalid TableArn: Invalid ResourceArn provided as input {table_arn_value}"
        )
    row = _table(backend, region, table_arn_value)
    now = backend.clock.now()
    token = request.get("ClientToken")
    engine = backend.engine
    if token is not None:
        for _r, _arn, document in engine.documents.list(EXPORT, region):
            previous = document["description"]
            if previous.get("ClientToken") == token and now - document["at"] < CLIENT_TOKEN_SECONDS:
                if document["request"] != request:
                    raise IdempotentParameterMismatchException(
                        "The ClientToken was already used with different parameters"
                    )
                return {"ExportDescription": previous}
    window = restorable_window(backend, row)
    if window is None:
        raise PointInTimeRecoveryUnavailableException(
            "Point in time recovery has not yet been enabled"
        )
    export_type = request.get("ExportType", "FULL_EXPORT")
    export_format = request.get("ExportFormat", "DYNAMODB_JSON")
    if export_type == "INCREMENTAL_EXPORT":
        since, until, view_type = _check_incremental(request, window)
        instant = until
    else:
        if request.get("IncrementalExportSpecification") is not None:
            raise ValidationException(
                INVALID + "IncrementalExportSpecification can only be specified for an "
                "INCREMENTAL_EXPORT"
            )
        instant = float(request["ExportTime"]) if request.get("ExportTime") is not None else now
        if not _within(instant, window):
            raise InvalidExportTimeException(
                "ExportTime must be within the point in time recovery window"
            )
    export_id = f"{int(now * 1000):014d}-{uuid.uuid4().hex[:8]}"
    arn = f"{row.description['TableArn']}/export/{export_id}"
    bucket = request["S3Bucket"]
    prefix = request.get("S3Prefix")
    if prefix and any(part in (".", "..") for part in prefix.split("/")):
        # A key is a name in S3; here it is a path, which must stay in the export folder.
        raise ValidationException(
            INVALID + f"S3Prefix cannot contain '.' or '..' segments: {prefix}"
        )
    key_prefix = f"{prefix.rstrip('/')}/" if prefix else ""
    s3_folder = f"{key_prefix}AWSDynamoDB/{export_id}/"
    if export_type == "INCREMENTAL_EXPORT":
        lines = history.incremental_export_lines(
            backend, row, since, until, view_type, export_format
        )
    else:
        lines = history.full_export_lines(backend, row, instant, export_format)
    result = history.data_files(s3_folder, lines, export_format)
    ended = backend.clock.now()
    description: dict[str, Any] = {
        "ExportArn": arn,
        "ExportStatus": IN_PROGRESS,
        "StartTime": _ms(now),
        "ExportManifest": f"{s3_folder}manifest-summary.json",
        "TableArn": row.description["TableArn"],
        "TableId": row.description["TableId"],
        "ExportTime": _ms(instant),
        "S3Bucket": bucket,
        "S3SseAlgorithm": request.get("S3SseAlgorithm", "AES256"),
        "ExportFormat": export_format,
        "ExportType": export_type,
    }
    for member in ("ClientToken", "S3BucketOwner", "S3Prefix", "S3SseKmsKeyId"):
        if request.get(member) is not None:
            description[member] = request[member]
    if export_type == "INCREMENTAL_EXPORT":
        description["IncrementalExportSpecification"] = {
            "ExportFromTime": _ms(since),
            "ExportToTime": _ms(until),
            "ExportViewType": view_type,
        }
    summary: dict[str, Any] = {
        "version": "2020-06-30",
        "exportArn": arn,
        "startTime": _iso(now),
        "endTime": _iso(ended),
        "tableArn": row.description["TableArn"],
        "tableId": row.description["TableId"],
        "exportTime": _iso(instant),
        "s3Bucket": bucket,
        "s3Prefix": prefix,
        "s3SseAlgorithm": description["S3SseAlgorithm"],
        "s3SseKmsKeyId": request.get("S3SseKmsKeyId"),
        "manifestFilesS3Key": f"{s3_folder}manifest-files.json",
        "billedSizeBytes": result.billed_bytes,
        "itemCount": result.item_count,
        "outputFormat": export_format,
    }
    if export_type == "INCREMENTAL_EXPORT":
        summary["exportType"] = export_type
        summary["exportFromTime"] = _iso(since)
        summary["exportToTime"] = _iso(until)
        summary["outputView"] = view_type
    with engine.transaction():
        engine.documents.put(
            EXPORT, region, arn, {"description": description, "request": request, "at": now}
        )

    def finished(outcome: tuple[str | None, str | None]) -> None:
        """The objects are written (or could not be): the export's final state."""
        document = engine.documents.get(EXPORT, region, arn)
        if document is None:
            return  # dropped by a reset meanwhile
        final = document["description"]
        code, message = outcome
        if code is None:
            final["ExportStatus"] = COMPLETED
            final["BilledSizeBytes"] = result.billed_bytes
            final["ItemCount"] = result.item_count
        else:
            final["ExportStatus"] = FAILED
            final["FailureCode"] = code
            final["FailureMessage"] = message
        final["EndTime"] = _ms(max(ended, backend.clock.now()))
        with engine.transaction():
            engine.documents.put(EXPORT, region, arn, document)

    backend.exports.start(arn, bucket, history.export_objects(s3_folder, summary, result), finished)
    return {"ExportDescription": description}


def _export_description(backend: Backend, region: str, arn: str, document: dict[str, Any]) -> Any:
    """The stored description; an export left IN_PROGRESS by an emulator that stopped
    before writing it is FAILED from then on."""
    description = document["description"]
    if description["ExportStatus"] == IN_PROGRESS and arn not in backend.exports.pending:
        description["ExportStatus"] = FAILED
        description["FailureCode"] = "UNKNOWN"
        description["FailureMessage"] = "The emulator stopped before the export was written"
        description["EndTime"] = _ms(backend.clock.now())
        with backend.engine.transaction():
            backend.engine.documents.put(EXPORT, region, arn, document)
    return description


def describe_export(backend: Backend, region: str, request: dict[str, Any]) -> dict[str, Any]:
    arn = request["ExportArn"]
    document = backend.engine.documents.get(EXPORT, region, arn)
    if document is None:
        raise ExportNotFoundException(f"Export not found: {arn}")
    return {"ExportDescription": _export_description(backend, region, arn, document)}


def list_exports(backend: Backend, region: str, request: dict[str, Any]) -> dict[str, Any]:
    table = request.get("TableArn")
    exports = [
        (document["at"], arn, _export_description(backend, region, arn, document))
        for _r, arn, document in backend.engine.documents.list(EXPORT, region)
        if table is None or document["description"]["TableArn"] == table
    ]
    exports.sort(key=lambda entry: (entry[0], entry[1]))
    start = 0
    token = request.get("NextToken")
    if token is not None:
        if not str(token).isdigit():
            raise ValidationException("Invalid NextToken")
        start = int(token)
    limit = request.get("MaxResults", 25)
    page = exports[start : start + limit]
    result: dict[str, Any] = {
        "ExportSummaries": [
            {
                "ExportArn": description["ExportArn"],
                "ExportStatus": description["ExportStatus"],
                "ExportType": description["ExportType"],
            }
            for _at, _arn, description in page
        ]
    }
    if start + limit < len(exports):
        result["NextToken"] = str(start + limit)
    return result
