"""The durable change log through the real server: point-in-time recovery, backups,
exports (SPEC-STREAM-APPS 7, checks 42-46) and the audit views, with boto3, the AWS CLI
and `ddb-emulator history`, on servers whose clock the tests move."""

from __future__ import annotations

import base64
import datetime
import gzip
import hashlib
import json
import sqlite3
import subprocess
import sys
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, RunningServer, error_of, make_client, start_server
from tests.test_awscli import aws_executable


def clock(server: RunningServer, **command: float) -> float:
    request = urllib.request.Request(
        server.url + "/_emulator/clock",
        data=json.dumps(command).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return float(json.loads(response.read())["now"])


def at(seconds: float) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(seconds, datetime.UTC)


def history(server: RunningServer, **query: str) -> list[dict[str, Any]]:
    url = server.url + "/_emulator/history?" + urllib.parse.urlencode(query)
    with urllib.request.urlopen(url, timeout=30) as response:
        assert response.headers["content-type"] == "application/x-ndjson"
        return [json.loads(line) for line in response.read().splitlines()]


@pytest.fixture(scope="module")
def export_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("exports")


@pytest.fixture(scope="module")
def logged(export_dir: Path) -> Iterator[RunningServer]:
    """A server with a manual clock and the change log on for every table."""
    running = start_server("--change-log", "--export-dir", str(export_dir))
    try:
        clock(running, advance=0)
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def db(logged: RunningServer) -> Any:
    return make_client(logged.url)


def create(db: Any, name: str, *, pitr: bool = True, **extra: Any) -> str:
    db.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        **extra,
    )
    if pitr:
        db.update_continuous_backups(
            TableName=name,
            PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
        )
    return name


def scan(db: Any, name: str) -> list[dict[str, Any]]:
    return sorted(db.scan(TableName=name)["Items"], key=lambda item: json.dumps(item))


# -- continuous backups -------------------------------------------------------------------


def test_continuous_backups_are_described_and_enabled(db: Any, logged: RunningServer) -> None:
    create(db, "pitr-describe", pitr=False)
    described = db.describe_continuous_backups(TableName="pitr-describe")
    assert described["ContinuousBackupsDescription"] == {
        "ContinuousBackupsStatus": "ENABLED",
        "PointInTimeRecoveryDescription": {"PointInTimeRecoveryStatus": "DISABLED"},
    }
    now = clock(logged, advance=1)
    updated = db.update_continuous_backups(
        TableName="pitr-describe",
        PointInTimeRecoverySpecification={
            "PointInTimeRecoveryEnabled": True,
            "RecoveryPeriodInDays": 7,
        },
    )["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
    assert updated["PointInTimeRecoveryStatus"] == "ENABLED"
    assert updated["RecoveryPeriodInDays"] == 7
    assert updated["EarliestRestorableDateTime"].timestamp() == pytest.approx(now, abs=0.001)
    later = clock(logged, advance=30)
    described = db.describe_continuous_backups(TableName="pitr-describe")
    pitr = described["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
    assert pitr["EarliestRestorableDateTime"].timestamp() == pytest.approx(now, abs=0.001)
    assert pitr["LatestRestorableDateTime"].timestamp() == pytest.approx(later, abs=0.001)
    error = error_of(db.describe_continuous_backups, TableName="no-such-table")
    assert error == {"Code": "TableNotFoundException", "Message": "Table not found: no-such-table"}
    error = error_of(
        db.update_continuous_backups,
        TableName="no-such-table",
        PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
    )
    assert error["Code"] == "TableNotFoundException"


# -- restore to a point in time (check 45) ----------------------------------------------------


def test_restore_between_two_writes_gives_the_first_state(db: Any, logged: RunningServer) -> None:
    create(
        db,
        "pitr-source",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
        Tags=[{"Key": "team", "Value": "a"}],
    )
    db.put_item(TableName="pitr-source", Item={"pk": {"S": "a"}, "v": {"N": "1"}})
    first = clock(logged, advance=10)
    db.put_item(TableName="pitr-source", Item={"pk": {"S": "b"}, "v": {"N": "1"}})
    clock(logged, advance=10)
    db.put_item(TableName="pitr-source", Item={"pk": {"S": "a"}, "v": {"N": "2"}})
    db.delete_item(TableName="pitr-source", Key={"pk": {"S": "b"}})
    clock(logged, advance=10)

    restored = db.restore_table_to_point_in_time(
        SourceTableName="pitr-source",
        TargetTableName="pitr-at-first",
        RestoreDateTime=at(first - 5),
    )["TableDescription"]
    assert restored["TableName"] == "pitr-at-first"
    assert restored["RestoreSummary"]["SourceTableArn"].endswith(":table/pitr-source")
    # Echoed to the millisecond (the client's datetime carries microseconds).
    assert abs(restored["RestoreSummary"]["RestoreDateTime"].timestamp() - (first - 5)) <= 0.001
    assert restored["RestoreSummary"]["RestoreInProgress"] is False
    assert restored["ItemCount"] == 1
    assert scan(db, "pitr-at-first") == [{"pk": {"S": "a"}, "v": {"N": "1"}}]
    # What AWS does not restore: the stream, tags, PITR.
    table = db.describe_table(TableName="pitr-at-first")["Table"]
    assert "StreamSpecification" not in table and "LatestStreamArn" not in table
    assert db.list_tags_of_resource(ResourceArn=table["TableArn"])["Tags"] == []
    pitr = db.describe_continuous_backups(TableName="pitr-at-first")
    assert pitr["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"] == {
        "PointInTimeRecoveryStatus": "DISABLED"
    }

    db.restore_table_to_point_in_time(
        SourceTableName="pitr-source", TargetTableName="pitr-between", RestoreDateTime=at(first + 5)
    )
    assert scan(db, "pitr-between") == [
        {"pk": {"S": "a"}, "v": {"N": "1"}},
        {"pk": {"S": "b"}, "v": {"N": "1"}},
    ]
    db.restore_table_to_point_in_time(
        SourceTableArn=table["TableArn"].replace("pitr-at-first", "pitr-source"),
        TargetTableName="pitr-latest",
        UseLatestRestorableTime=True,
    )
    assert scan(db, "pitr-latest") == [{"pk": {"S": "a"}, "v": {"N": "2"}}]


def test_restore_errors(db: Any, logged: RunningServer) -> None:
    create(db, "pitr-errors")
    create(db, "pitr-off", pitr=False)
    now = clock(logged, advance=1)
    error = error_of(
        db.restore_table_to_point_in_time,
        SourceTableName="pitr-errors",
        TargetTableName="pitr-errors-r",
        RestoreDateTime=at(now - 3600),
    )
    assert error == {
        "Code": "InvalidRestoreTimeException",
        "Message": "RestoreDateTime must be between EarliestRestorableDateTime and "
        "LatestRestorableDateTime",
    }
    error = error_of(
        db.restore_table_to_point_in_time,
        SourceTableName="pitr-errors",
        TargetTableName="pitr-errors-r",
        RestoreDateTime=at(now + 3600),
    )
    assert error["Code"] == "InvalidRestoreTimeException"
    error = error_of(
        db.restore_table_to_point_in_time,
        SourceTableName="pitr-off",
        TargetTableName="pitr-errors-r",
        UseLatestRestorableTime=True,
    )
    assert error == {
        "Code": "PointInTimeRecoveryUnavailableException",
        "Message": "Point in time recovery is not enabled for table 'pitr-off'",
    }
    error = error_of(
        db.restore_table_to_point_in_time,
        SourceTableName="pitr-errors",
        TargetTableName="pitr-off",
        UseLatestRestorableTime=True,
    )
    assert error == {
        "Code": "TableAlreadyExistsException",
        "Message": "Table already exists: pitr-off",
    }
    error = error_of(
        db.restore_table_to_point_in_time,
        SourceTableName="pitr-nothing",
        TargetTableName="pitr-errors-r",
        UseLatestRestorableTime=True,
    )
    assert error == {"Code": "TableNotFoundException", "Message": "Table not found: pitr-nothing"}
    error = error_of(
        db.restore_table_to_point_in_time,
        SourceTableName="pitr-errors",
        TargetTableName="pitr-errors-r",
    )
    assert error["Code"] == "ValidationException"
    assert "pitr-errors-r" not in db.list_tables()["TableNames"]


def test_disabling_pitr_resets_the_window(db: Any, logged: RunningServer) -> None:
    create(db, "pitr-reset")
    db.put_item(TableName="pitr-reset", Item={"pk": {"S": "a"}})
    before = clock(logged, advance=5)
    spec = {"PointInTimeRecoveryEnabled": False}
    db.update_continuous_backups(TableName="pitr-reset", PointInTimeRecoverySpecification=spec)
    again = clock(logged, advance=5)
    spec = {"PointInTimeRecoveryEnabled": True}
    db.update_continuous_backups(TableName="pitr-reset", PointInTimeRecoverySpecification=spec)
    pitr = db.describe_continuous_backups(TableName="pitr-reset")["ContinuousBackupsDescription"][
        "PointInTimeRecoveryDescription"
    ]
    assert pitr["EarliestRestorableDateTime"].timestamp() == pytest.approx(again, abs=0.001)
    error = error_of(
        db.restore_table_to_point_in_time,
        SourceTableName="pitr-reset",
        TargetTableName="pitr-reset-r",
        RestoreDateTime=at(before),
    )
    assert error["Code"] == "InvalidRestoreTimeException"


def test_restored_indexes_are_queryable(db: Any, logged: RunningServer) -> None:
    db.create_table(
        TableName="pitr-gsi",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "g", "AttributeType": "S"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by-g",
                "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    db.update_continuous_backups(
        TableName="pitr-gsi", PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
    )
    db.put_item(TableName="pitr-gsi", Item={"pk": {"S": "a"}, "g": {"S": "x"}})
    instant = clock(logged, advance=2) - 1
    db.put_item(TableName="pitr-gsi", Item={"pk": {"S": "a"}, "g": {"S": "y"}})
    db.restore_table_to_point_in_time(
        SourceTableName="pitr-gsi", TargetTableName="pitr-gsi-r", RestoreDateTime=at(instant)
    )
    found = db.query(
        TableName="pitr-gsi-r",
        IndexName="by-g",
        KeyConditionExpression="g = :g",
        ExpressionAttributeValues={":g": {"S": "x"}},
    )["Items"]
    assert found == [{"pk": {"S": "a"}, "g": {"S": "x"}}]
    table = db.describe_table(TableName="pitr-gsi-r")["Table"]
    assert [index["IndexName"] for index in table["GlobalSecondaryIndexes"]] == ["by-g"]


# -- backups ------------------------------------------------------------------------------


def test_backup_lifecycle(db: Any, logged: RunningServer) -> None:
    create(db, "backup-source", pitr=False)
    db.put_item(TableName="backup-source", Item={"pk": {"S": "a"}, "v": {"N": "1"}})
    details = db.create_backup(TableName="backup-source", BackupName="nightly")["BackupDetails"]
    assert details["BackupName"] == "nightly"
    assert details["BackupStatus"] == "AVAILABLE"
    assert details["BackupType"] == "USER"
    arn = details["BackupArn"]
    assert arn.startswith("arn:aws:dynamodb:us-east-1:000000000000:table/backup-source/backup/")
    db.put_item(TableName="backup-source", Item={"pk": {"S": "a"}, "v": {"N": "2"}})
    described = db.describe_backup(BackupArn=arn)["BackupDescription"]
    assert described["BackupDetails"] == details
    assert described["SourceTableDetails"]["TableName"] == "backup-source"
    assert described["SourceTableDetails"]["ItemCount"] == 1
    summaries = db.list_backups(TableName="backup-source")["BackupSummaries"]
    assert [s["BackupArn"] for s in summaries] == [arn]
    restored = db.restore_table_from_backup(TargetTableName="backup-restored", BackupArn=arn)
    summary = restored["TableDescription"]["RestoreSummary"]
    assert summary["SourceBackupArn"] == arn
    assert scan(db, "backup-restored") == [{"pk": {"S": "a"}, "v": {"N": "1"}}]
    deleted = db.delete_backup(BackupArn=arn)["BackupDescription"]
    assert deleted["BackupDetails"]["BackupStatus"] == "DELETED"
    error = error_of(db.describe_backup, BackupArn=arn)
    assert error == {"Code": "BackupNotFoundException", "Message": f"Backup not found: {arn}"}
    error = error_of(db.create_backup, TableName="backup-nothing", BackupName="x-1")
    assert error == {"Code": "TableNotFoundException", "Message": "Table not found: backup-nothing"}


def test_deleting_a_pitr_table_leaves_a_system_backup(db: Any) -> None:
    create(db, "backup-deleted")
    db.put_item(TableName="backup-deleted", Item={"pk": {"S": "a"}})
    db.delete_table(TableName="backup-deleted")
    summaries = [
        s
        for s in db.list_backups(BackupType="SYSTEM")["BackupSummaries"]
        if s["TableName"] == "backup-deleted"
    ]
    assert [s["BackupName"] for s in summaries] == ["backup-deleted$DeletedTableBackup"]
    assert "BackupExpiryDateTime" in summaries[0]
    db.restore_table_from_backup(
        TargetTableName="backup-deleted-r", BackupArn=summaries[0]["BackupArn"]
    )
    assert scan(db, "backup-deleted-r") == [{"pk": {"S": "a"}}]


# -- exports (checks 43, 45, 46) -----------------------------------------------------------


def settle(server: RunningServer) -> None:
    request = urllib.request.Request(
        server.url + "/_emulator/triggers/settle",
        data=json.dumps({"timeout": 30}).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        assert response.status == 200, response.read()


def export(db: Any, server: RunningServer, **request: Any) -> dict[str, Any]:
    """ExportTableToPointInTime, which answers IN_PROGRESS (as on AWS); then, once the
    settle call returned, the export's final description."""
    started = db.export_table_to_point_in_time(**request)["ExportDescription"]
    assert started["ExportStatus"] == "IN_PROGRESS"
    assert "EndTime" not in started and "ItemCount" not in started
    settle(server)
    final = db.describe_export(ExportArn=started["ExportArn"])["ExportDescription"]
    assert final["ExportStatus"] in ("COMPLETED", "FAILED")
    assert {k: v for k, v in final.items() if k in started} == {
        k: v for k, v in started.items() if k != "ExportStatus"
    } | {"ExportStatus": final["ExportStatus"]}
    return final


def export_folder(export_dir: Path, description: dict[str, Any]) -> Path:
    return export_dir / description["S3Bucket"] / Path(description["ExportManifest"]).parent


def read_data_files(folder: Path, export_dir: Path, bucket: str) -> list[dict[str, Any]]:
    lines = []
    for entry in (folder / "manifest-files.json").read_text().splitlines():
        manifest = json.loads(entry)
        body = (export_dir / bucket / manifest["dataFileS3Key"]).read_bytes()
        assert manifest["md5Checksum"] == base64.b64encode(hashlib.md5(body).digest()).decode()
        assert manifest["etag"] == hashlib.md5(body).hexdigest()
        data = gzip.decompress(body).splitlines()
        assert len(data) == manifest["itemCount"]
        lines += [json.loads(line) for line in data]
    return lines


def test_export_without_pitr_is_refused(db: Any) -> None:
    create(db, "export-off", pitr=False)
    arn = db.describe_table(TableName="export-off")["Table"]["TableArn"]
    error = error_of(db.export_table_to_point_in_time, TableArn=arn, S3Bucket="bucket")
    assert error == {
        "Code": "PointInTimeRecoveryUnavailableException",
        "Message": "Point in time recovery has not yet been enabled",
    }
    error = error_of(
        db.export_table_to_point_in_time, TableArn=arn.replace("off", "none"), S3Bucket="bucket"
    )
    assert error["Code"] == "TableNotFoundException"


def test_full_export_layout(db: Any, logged: RunningServer, export_dir: Path) -> None:
    create(db, "export-full")
    for n in range(5):
        db.put_item(TableName="export-full", Item={"pk": {"S": f"k{n}"}, "n": {"N": str(n)}})
    instant = clock(logged, advance=3) - 1
    db.put_item(TableName="export-full", Item={"pk": {"S": "late"}})
    db.delete_item(TableName="export-full", Key={"pk": {"S": "k0"}})
    arn = db.describe_table(TableName="export-full")["Table"]["TableArn"]
    description = export(
        db,
        logged,
        TableArn=arn,
        S3Bucket="bucket",
        S3Prefix="exports/daily",
        ExportTime=at(instant),
    )
    assert description["ExportStatus"] == "COMPLETED"
    assert description["EndTime"] >= description["StartTime"]
    assert description["ExportType"] == "FULL_EXPORT"
    assert description["ExportFormat"] == "DYNAMODB_JSON"
    assert abs(description["ExportTime"].timestamp() - instant) <= 0.001  # to the millisecond
    assert description["ItemCount"] == 5
    assert description["ExportArn"].startswith(arn + "/export/")
    export_id = description["ExportArn"].rsplit("/", 1)[1]
    assert description["ExportManifest"] == (
        f"exports/daily/AWSDynamoDB/{export_id}/manifest-summary.json"
    )
    folder = export_folder(export_dir, description)
    assert (folder / "_started").read_bytes() == b""
    summary = json.loads((folder / "manifest-summary.json").read_text())
    assert summary["version"] == "2020-06-30"
    assert summary["exportArn"] == description["ExportArn"]
    assert summary["itemCount"] == 5
    assert summary["outputFormat"] == "DYNAMODB_JSON"
    assert (
        summary["manifestFilesS3Key"]
        == f"exports/daily/AWSDynamoDB/{export_id}/manifest-files.json"
    )
    assert summary["exportTime"].endswith("Z") and len(summary["exportTime"]) == 24
    assert (folder / "manifest-summary.checksum").read_text() == hashlib.md5(
        (folder / "manifest-summary.json").read_bytes()
    ).hexdigest()
    items = read_data_files(folder, export_dir, "bucket")
    assert sorted(line["Item"]["pk"]["S"] for line in items) == ["k0", "k1", "k2", "k3", "k4"]
    assert all(set(line) == {"Item"} for line in items)
    assert (
        db.describe_export(ExportArn=description["ExportArn"])["ExportDescription"] == description
    )
    listed = db.list_exports(TableArn=arn)["ExportSummaries"]
    assert listed == [
        {
            "ExportArn": description["ExportArn"],
            "ExportStatus": "COMPLETED",
            "ExportType": "FULL_EXPORT",
        }
    ]
    error = error_of(db.describe_export, ExportArn=description["ExportArn"] + "0")
    assert error["Code"] == "ExportNotFoundException"
    error = error_of(
        db.export_table_to_point_in_time,
        TableArn=arn,
        S3Bucket="bucket",
        ExportTime=at(instant + 600),
    )
    assert error["Code"] == "InvalidExportTimeException"


def test_incremental_export_is_compacted(db: Any, logged: RunningServer, export_dir: Path) -> None:
    create(db, "export-incr")
    # Whole seconds: the window's ends are then exact whatever a client rounds.
    clock(logged, set=float(int(clock(logged, advance=0)) + 1))
    db.put_item(TableName="export-incr", Item={"pk": {"S": "kept"}, "v": {"N": "0"}})
    db.put_item(TableName="export-incr", Item={"pk": {"S": "gone"}})
    since = clock(logged, advance=1)
    db.put_item(TableName="export-incr", Item={"pk": {"S": "flash"}})
    db.delete_item(TableName="export-incr", Key={"pk": {"S": "flash"}})
    db.put_item(TableName="export-incr", Item={"pk": {"S": "kept"}, "v": {"N": "1"}})
    written = clock(logged, advance=1)
    db.put_item(TableName="export-incr", Item={"pk": {"S": "kept"}, "v": {"N": "2"}})
    db.put_item(TableName="export-incr", Item={"pk": {"S": "new"}})
    db.delete_item(TableName="export-incr", Key={"pk": {"S": "gone"}})
    until = clock(logged, advance=15 * 60)
    # ExportToTime is excluded: a change at `until` is not in the window.
    db.put_item(TableName="export-incr", Item={"pk": {"S": "after"}})
    arn = db.describe_table(TableName="export-incr")["Table"]["TableArn"]
    for view in ("NEW_AND_OLD_IMAGES", "NEW_IMAGE"):
        description = export(
            db,
            logged,
            TableArn=arn,
            S3Bucket="bucket",
            ExportType="INCREMENTAL_EXPORT",
            IncrementalExportSpecification={
                "ExportFromTime": at(since),
                "ExportToTime": at(until),
                "ExportViewType": view,
            },
        )
        assert description["ExportType"] == "INCREMENTAL_EXPORT"
        assert description["IncrementalExportSpecification"]["ExportViewType"] == view
        lines = read_data_files(export_folder(export_dir, description), export_dir, "bucket")
        by_key = {line["Keys"]["pk"]["S"]: line for line in lines}
        assert set(by_key) == {"kept", "new", "gone"}
        kept = by_key["kept"]
        assert kept["NewImage"] == {"pk": {"S": "kept"}, "v": {"N": "2"}}
        assert int(kept["Metadata"]["WriteTimestampMicros"]["N"]) == round(written * 1e6)
        assert by_key["new"]["NewImage"] == {"pk": {"S": "new"}}
        assert "NewImage" not in by_key["gone"]
        if view == "NEW_AND_OLD_IMAGES":
            assert kept["OldImage"] == {"pk": {"S": "kept"}, "v": {"N": "0"}}
            assert by_key["gone"]["OldImage"] == {"pk": {"S": "gone"}}
            assert "OldImage" not in by_key["new"]
        else:
            assert all("OldImage" not in line for line in lines)
            assert set(by_key["gone"]) == {"Metadata", "Keys"}
    error = error_of(
        db.export_table_to_point_in_time,
        TableArn=arn,
        S3Bucket="bucket",
        ExportType="INCREMENTAL_EXPORT",
        IncrementalExportSpecification={
            "ExportFromTime": at(since),
            "ExportToTime": at(since + 60),
        },
    )
    assert error["Code"] == "ValidationException"


# -- audit views (check 42) ------------------------------------------------------------------


def test_item_history_in_stream_format(db: Any, logged: RunningServer) -> None:
    name = create(db, "history-item", pitr=False)  # logged by --change-log
    start = clock(logged, advance=1)
    db.put_item(TableName=name, Item={"pk": {"S": "a"}, "v": {"N": "1"}})
    db.put_item(TableName=name, Item={"pk": {"S": "b"}})
    db.update_item(
        TableName=name,
        Key={"pk": {"S": "a"}},
        UpdateExpression="SET v = :v",
        ExpressionAttributeValues={":v": {"N": "2"}},
    )
    db.put_item(TableName=name, Item={"pk": {"S": "a"}, "v": {"N": "2"}})  # no change: no entry
    db.delete_item(TableName=name, Key={"pk": {"S": "a"}})
    records = history(logged, TableName=name, Key=json.dumps({"pk": {"S": "a"}}))
    assert [r["eventName"] for r in records] == ["INSERT", "MODIFY", "REMOVE"]
    arn = db.describe_table(TableName=name)["Table"]["TableArn"]
    for record in records:
        assert list(record) == [
            "eventID",
            "eventName",
            "eventVersion",
            "eventSource",
            "awsRegion",
            "dynamodb",
            "eventSourceARN",
        ]
        assert record["eventSourceARN"] == arn
        assert record["eventVersion"] == "1.1" and record["eventSource"] == "aws:dynamodb"
        assert record["dynamodb"]["Keys"] == {"pk": {"S": "a"}}
        assert record["dynamodb"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
        assert record["dynamodb"]["ApproximateCreationDateTime"] == int(start)
    insert, modify, remove = (r["dynamodb"] for r in records)
    assert insert["NewImage"] == {"pk": {"S": "a"}, "v": {"N": "1"}} and "OldImage" not in insert
    assert modify["OldImage"] == insert["NewImage"]
    assert modify["NewImage"] == {"pk": {"S": "a"}, "v": {"N": "2"}}
    assert remove["OldImage"] == modify["NewImage"] and "NewImage" not in remove
    sequence = [int(r["dynamodb"]["SequenceNumber"]) for r in records]
    assert sequence == sorted(sequence)
    everything = history(logged, TableName=name, From=str(start), To=str(start))
    assert [r["eventName"] for r in everything] == ["INSERT", "INSERT", "MODIFY", "REMOVE"]
    assert history(logged, TableName=name, From=str(start + 1)) == []


def test_ttl_deletes_carry_the_service_identity(db: Any, logged: RunningServer) -> None:
    name = create(db, "history-ttl", pitr=False)
    db.update_time_to_live(
        TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires"}
    )
    now = clock(logged, advance=10)
    db.put_item(TableName=name, Item={"pk": {"S": "a"}, "expires": {"N": str(int(now) + 5)}})
    clock(logged, advance=10)  # the clock move sweeps TTL
    records = history(logged, TableName=name, Key=json.dumps({"pk": {"S": "a"}}))
    assert [r["eventName"] for r in records] == ["INSERT", "REMOVE"]
    assert "userIdentity" not in records[0]
    assert records[1]["userIdentity"] == {
        "Type": "Service",
        "PrincipalId": "dynamodb.amazonaws.com",
    }


def test_history_errors(logged: RunningServer) -> None:
    for query, status in (
        ({}, 400),
        ({"TableName": "history-none"}, 404),
        ({"TableName": "history-item", "From": "soon"}, 400),
        ({"TableName": "history-item", "Key": "{"}, 400),
        ({"TableName": "history-item", "Key": json.dumps({"other": {"S": "a"}})}, 400),
    ):
        url = logged.url + "/_emulator/history?" + urllib.parse.urlencode(query)
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(url, timeout=10)
        assert info.value.code == status, query


def test_history_command(db: Any, logged: RunningServer) -> None:
    name = create(db, "history-cli", pitr=False)
    db.put_item(TableName=name, Item={"pk": {"S": "a"}})
    db.put_item(TableName=name, Item={"pk": {"S": "a"}, "v": {"S": "x"}})
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "emulator",
            "history",
            "--endpoint-url",
            logged.url,
            "--table",
            name,
            "--key",
            '{"pk": {"S": "a"}}',
            "--from",
            "2000-01-01T00:00:00Z",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["eventName"] for line in lines] == ["INSERT", "MODIFY"]
    missing = subprocess.run(
        [
            sys.executable,
            "-m",
            "emulator",
            "history",
            "--endpoint-url",
            logged.url,
            "--table",
            "x-y-z",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert missing.returncode == 1 and "Table not found: x-y-z" in missing.stderr


# -- the AWS CLI ------------------------------------------------------------------------------


def test_aws_cli_pitr_restore_and_export(
    db: Any, logged: RunningServer, export_dir: Path, tmp_path: Path
) -> None:
    executable = aws_executable()
    env = {
        "AWS_ACCESS_KEY_ID": "k",
        "AWS_SECRET_ACCESS_KEY": "s",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": str(tmp_path / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials"),
        "AWS_PAGER": "",
        "PATH": str(Path(sys.executable).parent),
    }

    def aws(*args: str) -> Any:
        result = subprocess.run(
            [executable, "--endpoint-url", logged.url, "--output", "json", "dynamodb", *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout) if result.stdout.strip() else None

    create(db, "cli-source", pitr=False)
    described = aws(
        "update-continuous-backups",
        "--table-name",
        "cli-source",
        "--point-in-time-recovery-specification",
        "PointInTimeRecoveryEnabled=true",
    )
    assert (
        described["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"][
            "PointInTimeRecoveryStatus"
        ]
        == "ENABLED"
    )
    db.put_item(TableName="cli-source", Item={"pk": {"S": "a"}})
    instant = clock(logged, advance=2)
    db.put_item(TableName="cli-source", Item={"pk": {"S": "b"}})
    restored = aws(
        "restore-table-to-point-in-time",
        "--source-table-name",
        "cli-source",
        "--target-table-name",
        "cli-restored",
        "--restore-date-time",
        str(int(instant - 1)),
    )
    assert restored["TableDescription"]["ItemCount"] == 1
    arn = restored["TableDescription"]["RestoreSummary"]["SourceTableArn"]
    exported = aws(
        "export-table-to-point-in-time", "--table-arn", arn, "--s3-bucket", "cli-bucket"
    )["ExportDescription"]
    assert exported["ExportStatus"] == "IN_PROGRESS"
    settle(logged)
    exported = aws("describe-export", "--export-arn", exported["ExportArn"])["ExportDescription"]
    assert exported["ExportStatus"] == "COMPLETED"
    assert exported["ItemCount"] == 2
    listed = aws("list-exports", "--table-arn", arn)["ExportSummaries"]
    assert [e["ExportArn"] for e in listed] == [exported["ExportArn"]]
    backup = aws("create-backup", "--table-name", "cli-source", "--backup-name", "cli-b")
    assert backup["BackupDetails"]["BackupStatus"] == "AVAILABLE"


# -- across a restart and across retention ------------------------------------------------------


def test_history_and_restore_survive_a_restart(tmp_path: Path) -> None:
    data = str(tmp_path / "data")
    first = start_server("--data-dir", data)
    try:
        client = make_client(first.url)
        create(client, "durable")
        client.put_item(TableName="durable", Item={"pk": {"S": "a"}, "v": {"N": "1"}})
        instant = clock(first, advance=5) - 1
        client.put_item(TableName="durable", Item={"pk": {"S": "a"}, "v": {"N": "2"}})
        clock(first, advance=5)
    finally:
        first.stop()
    second = start_server("--data-dir", data)
    try:
        client = make_client(second.url)
        client.put_item(TableName="durable", Item={"pk": {"S": "a"}, "v": {"N": "3"}})
        client.restore_table_to_point_in_time(
            SourceTableName="durable", TargetTableName="durable-r", RestoreDateTime=at(instant)
        )
        assert scan(client, "durable-r") == [{"pk": {"S": "a"}, "v": {"N": "1"}}]
        records = history(second, TableName="durable", Key=json.dumps({"pk": {"S": "a"}}))
        assert [r["dynamodb"]["NewImage"]["v"]["N"] for r in records] == ["1", "2", "3"]
        assert records[2]["dynamodb"]["OldImage"]["v"]["N"] == "2"
    finally:
        second.stop()


def test_backups_and_exports_survive_a_restart(tmp_path: Path) -> None:
    """A backup, a finished export and the log's history outlive the process; an export
    a stopped emulator left IN_PROGRESS is FAILED after the restart."""
    data = str(tmp_path / "data")
    first = start_server("--data-dir", data)
    try:
        client = make_client(first.url)
        create(client, "kept")
        client.put_item(TableName="kept", Item={"pk": {"S": "a"}, "v": {"N": "1"}})
        backup = client.create_backup(TableName="kept", BackupName="kept-b1")["BackupDetails"]
        arn = client.describe_table(TableName="kept")["Table"]["TableArn"]
        done = export(client, first, TableArn=arn, S3Bucket="bucket")
        assert done["ExportStatus"] == "COMPLETED"
        other = export(client, first, TableArn=arn, S3Bucket="bucket", ClientToken="t2")
        client.put_item(TableName="kept", Item={"pk": {"S": "a"}, "v": {"N": "2"}})
    finally:
        first.stop()
    # As if the process had stopped while the second export was being written.
    database = sqlite3.connect(str(tmp_path / "data" / "emulator.sqlite3"))
    with database:
        (document,) = database.execute(
            "SELECT document FROM documents WHERE kind = 'export' AND name = ?",
            (other["ExportArn"],),
        ).fetchone()
        stored = json.loads(document)
        stored["description"]["ExportStatus"] = "IN_PROGRESS"
        database.execute(
            "UPDATE documents SET document = ? WHERE kind = 'export' AND name = ?",
            (json.dumps(stored).encode(), other["ExportArn"]),
        )
    database.close()
    second = start_server("--data-dir", data)
    try:
        client = make_client(second.url)
        assert client.describe_export(ExportArn=done["ExportArn"])["ExportDescription"] == done
        failed = client.describe_export(ExportArn=other["ExportArn"])["ExportDescription"]
        assert failed["ExportStatus"] == "FAILED"
        assert failed["FailureCode"] == "UNKNOWN"
        assert failed["FailureMessage"] == "The emulator stopped before the export was written"
        statuses = {
            e["ExportArn"]: e["ExportStatus"]
            for e in client.list_exports(TableArn=arn)["ExportSummaries"]
        }
        assert statuses == {done["ExportArn"]: "COMPLETED", other["ExportArn"]: "FAILED"}
        described = client.describe_backup(BackupArn=backup["BackupArn"])
        assert described["BackupDescription"]["BackupDetails"]["BackupStatus"] == "AVAILABLE"
        client.restore_table_from_backup(TargetTableName="kept-b", BackupArn=backup["BackupArn"])
        assert scan(client, "kept-b") == [{"pk": {"S": "a"}, "v": {"N": "1"}}]
        records = history(second, TableName="kept", Key=json.dumps({"pk": {"S": "a"}}))
        assert [r["eventName"] for r in records] == ["INSERT", "MODIFY"]
        assert records[1]["dynamodb"]["OldImage"]["v"]["N"] == "1"
        assert records[1]["dynamodb"]["NewImage"]["v"]["N"] == "2"
    finally:
        second.stop()


def test_a_log_of_the_earlier_layout_is_migrated(tmp_path: Path) -> None:
    """A database whose change log is the earlier `change_log` table (each entry with its
    new image; the old image only on an item's first entry) reads the same after the
    one-time move to `item_changes` (each entry with its old image)."""
    data = str(tmp_path / "data")
    first = start_server("--data-dir", data)
    key = json.dumps({"pk": {"S": "a"}})
    try:
        client = make_client(first.url)
        create(client, "old", pitr=False)
        client.put_item(TableName="old", Item={"pk": {"S": "a"}, "v": {"N": "0"}})
        client.update_continuous_backups(
            TableName="old",
            PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
        )
        for n in (1, 2, 3):
            clock(first, advance=1)
            client.put_item(TableName="old", Item={"pk": {"S": "a"}, "v": {"N": str(n)}})
        client.put_item(TableName="old", Item={"pk": {"S": "b"}})
        client.delete_item(TableName="old", Key={"pk": {"S": "b"}})
        expected = history(first, TableName="old", Key=key)
        expected_b = history(first, TableName="old", Key=json.dumps({"pk": {"S": "b"}}))
    finally:
        first.stop()
    assert [r["eventName"] for r in expected] == ["MODIFY", "MODIFY", "MODIFY"]
    database = sqlite3.connect(str(tmp_path / "data" / "emulator.sqlite3"))
    with database:
        # Rewrite the log in the earlier layout, as the earlier version stored it.
        database.executescript(
            """
            CREATE TABLE change_log (
                entry_id INTEGER PRIMARY KEY, table_id INTEGER NOT NULL,
                time_us INTEGER NOT NULL, hash_key BLOB NOT NULL, range_key BLOB NOT NULL,
                event INTEGER NOT NULL, origin TEXT NOT NULL, identity BLOB,
                keys BLOB NOT NULL, new_image BLOB, old_image BLOB);
            INSERT INTO change_log SELECT entry_id & 1099511627775, entry_id >> 40, time_us,
                hash_key, range_key, event, origin, identity, CAST(x'' AS BLOB),
                CASE WHEN event = 3 THEN NULL ELSE coalesce(lead(old_image) OVER item,
                    (SELECT item FROM items WHERE items.table_id = c.entry_id >> 40
                     AND items.hash_key = c.hash_key AND items.range_key = c.range_key)) END,
                CASE WHEN row_number() OVER item = 1 THEN old_image END
                FROM item_changes AS c
                WINDOW item AS (PARTITION BY hash_key, range_key ORDER BY entry_id);
            DROP TABLE item_changes;
            """
        )
    database.close()
    second = start_server("--data-dir", data)
    try:
        assert history(second, TableName="old", Key=key) == expected
        assert history(second, TableName="old", Key=json.dumps({"pk": {"S": "b"}})) == expected_b
        assert [r["dynamodb"]["OldImage"]["v"]["N"] for r in expected] == ["0", "1", "2"]
    finally:
        second.stop()


def test_retention_trims_by_the_clock(tmp_path: Path) -> None:
    running = start_server("--change-log", "--change-log-retention-days", "1")
    try:
        client = make_client(running.url)
        start = clock(running, advance=0)
        create(client, "retained", pitr=False)
        create(client, "recovered")
        client.update_continuous_backups(
            TableName="recovered",
            PointInTimeRecoverySpecification={
                "PointInTimeRecoveryEnabled": True,
                "RecoveryPeriodInDays": 2,
            },
        )
        for table in ("retained", "recovered"):
            client.put_item(TableName=table, Item={"pk": {"S": "a"}, "v": {"N": "1"}})
        clock(running, advance=12 * 3600)
        for table in ("retained", "recovered"):
            client.put_item(TableName=table, Item={"pk": {"S": "a"}, "v": {"N": "2"}})
        clock(running, advance=13 * 3600)  # the first change is now 25 h old
        key = json.dumps({"pk": {"S": "a"}})
        records = history(running, TableName="retained", Key=key)
        assert [r["eventName"] for r in records] == ["MODIFY"]
        # The trimmed entry handed its image on: the oldest kept change knows its past.
        assert records[0]["dynamodb"]["OldImage"] == {"pk": {"S": "a"}, "v": {"N": "1"}}
        assert len(history(running, TableName="recovered", Key=key)) == 2
        clock(running, advance=24 * 3600)  # 49 h: past the 2-day recovery period too
        records = history(running, TableName="recovered", Key=key)
        assert [r["eventName"] for r in records] == ["MODIFY"]
        pitr = client.describe_continuous_backups(TableName="recovered")[
            "ContinuousBackupsDescription"
        ]["PointInTimeRecoveryDescription"]
        now = clock(running, advance=0)
        assert pitr["EarliestRestorableDateTime"].timestamp() == pytest.approx(
            now - 2 * 86400, abs=0.001
        )
        error = error_of(
            client.restore_table_to_point_in_time,
            SourceTableName="recovered",
            TargetTableName="recovered-r",
            RestoreDateTime=at(start + 1800),
        )
        assert error["Code"] == "InvalidRestoreTimeException"
        # A restore at the earliest second still sees the trimmed change's result.
        client.restore_table_to_point_in_time(
            SourceTableName="recovered",
            TargetTableName="recovered-r",
            RestoreDateTime=at(now - 2 * 86400 + 1),
        )
        assert scan(client, "recovered-r") == [{"pk": {"S": "a"}, "v": {"N": "1"}}]
    finally:
        running.stop()


def _events(server: RunningServer, table: str, pk: str) -> list[tuple[str, str | None]]:
    """An item's history as (event, its new image's `v`)."""
    records = history(server, TableName=table, Key=json.dumps({"pk": {"S": pk}}))
    return [
        (r["eventName"], r["dynamodb"].get("NewImage", {}).get("v", {}).get("N")) for r in records
    ]


def test_new_items_entries_are_exact_through_every_write_path_and_a_restart(
    tmp_path: Path,
) -> None:
    """A PutItem of a new item keeps its INSERT entry in the item's row (one row per new
    item); that entry reads back in its place before and after the item's other writes
    (a PutItem, UpdateItem, DeleteItem, a transaction), in a table's changes and a
    restore, and across a restart."""
    data = str(tmp_path / "data")
    first = start_server("--data-dir", data)
    try:
        client = make_client(first.url)
        create(client, "deferred")
        start = clock(first, advance=1)
        for pk in ("a", "b", "c", "d"):
            client.put_item(TableName="deferred", Item={"pk": {"S": pk}, "v": {"N": "1"}})
        assert _events(first, "deferred", "a") == [("INSERT", "1")]
        clock(first, advance=2)
        client.put_item(TableName="deferred", Item={"pk": {"S": "a"}, "v": {"N": "2"}})
        client.update_item(
            TableName="deferred",
            Key={"pk": {"S": "b"}},
            UpdateExpression="SET v = :v",
            ExpressionAttributeValues={":v": {"N": "2"}},
        )
        client.delete_item(TableName="deferred", Key={"pk": {"S": "c"}})
        client.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": "deferred", "Item": {"pk": {"S": "d"}, "v": {"N": "2"}}}}
            ]
        )
        client.put_item(TableName="deferred", Item={"pk": {"S": "c"}, "v": {"N": "3"}})
        assert _events(first, "deferred", "a") == [("INSERT", "1"), ("MODIFY", "2")]
        assert _events(first, "deferred", "b") == [("INSERT", "1"), ("MODIFY", "2")]
        assert _events(first, "deferred", "c") == [
            ("INSERT", "1"),
            ("REMOVE", None),
            ("INSERT", "3"),
        ]
        assert _events(first, "deferred", "d") == [("INSERT", "1"), ("MODIFY", "2")]
        client.put_item(TableName="deferred", Item={"pk": {"S": "e"}, "v": {"N": "1"}})
        client.restore_table_to_point_in_time(
            SourceTableName="deferred",
            TargetTableName="deferred-r",
            RestoreDateTime=at(start + 1),
        )
        assert scan(client, "deferred-r") == [
            {"pk": {"S": pk}, "v": {"N": "1"}} for pk in ("a", "b", "c", "d")
        ]
        changes = history(first, TableName="deferred", From=str(start))
        assert [(r["eventName"], r["dynamodb"]["Keys"]["pk"]["S"]) for r in changes] == [
            ("INSERT", "a"),
            ("INSERT", "b"),
            ("INSERT", "c"),
            ("INSERT", "d"),
            ("MODIFY", "a"),
            ("MODIFY", "b"),
            ("REMOVE", "c"),
            ("MODIFY", "d"),
            ("INSERT", "c"),
            ("INSERT", "e"),
        ]
        sequence = [int(r["dynamodb"]["SequenceNumber"]) for r in changes]
        assert sequence == sorted(sequence) and len(set(sequence)) == len(sequence)
        client.put_item(TableName="deferred", Item={"pk": {"S": "f"}, "v": {"N": "1"}})
    finally:
        first.stop()
    database = sqlite3.connect(str(tmp_path / "data" / "emulator.sqlite3"))
    # f's INSERT is kept in its row: no entry row of its own.
    assert database.execute(
        "SELECT insert_entry IS NOT NULL FROM items WHERE hash_key = ?", (b"f",)
    ).fetchall() == [(1,)]
    logged_rows = database.execute("SELECT count(*) FROM item_changes").fetchone()[0]
    database.close()
    assert logged_rows == len(changes)
    second = start_server("--data-dir", data)
    try:
        client = make_client(second.url)
        assert _events(second, "deferred", "f") == [("INSERT", "1")]
        client.put_item(TableName="deferred", Item={"pk": {"S": "g"}, "v": {"N": "1"}})
        client.put_item(TableName="deferred", Item={"pk": {"S": "f"}, "v": {"N": "2"}})
        assert _events(second, "deferred", "f") == [("INSERT", "1"), ("MODIFY", "2")]
        later = history(second, TableName="deferred", From=str(start))[len(changes) :]
        assert [(r["eventName"], r["dynamodb"]["Keys"]["pk"]["S"]) for r in later] == [
            ("INSERT", "f"),
            ("INSERT", "g"),
            ("MODIFY", "f"),
        ]
        numbers = [int(r["dynamodb"]["SequenceNumber"]) for r in later]
        assert numbers == sorted(numbers) and numbers[0] > sequence[-1]
    finally:
        second.stop()


def test_items_of_the_layout_before_deferred_entries_are_migrated(tmp_path: Path) -> None:
    """A database whose `items` has no columns for a deferred INSERT entry gets them at
    start; its log reads as before, and new items' entries are deferred from then on."""
    data = str(tmp_path / "data")
    first = start_server("--data-dir", data)
    try:
        client = make_client(first.url)
        create(client, "earlier")
        start = clock(first, advance=1)
        client.put_item(TableName="earlier", Item={"pk": {"S": "a"}, "v": {"N": "1"}})
        client.put_item(TableName="earlier", Item={"pk": {"S": "a"}, "v": {"N": "2"}})
        expected = history(first, TableName="earlier", From=str(start))  # writes them out
    finally:
        first.stop()
    assert [r["eventName"] for r in expected] == ["INSERT", "MODIFY"]
    database = sqlite3.connect(str(tmp_path / "data" / "emulator.sqlite3"))
    with database:
        database.executescript(
            """
            ALTER TABLE items DROP COLUMN insert_entry;
            ALTER TABLE items DROP COLUMN insert_time;
            DROP TABLE deferred_inserts;
            """
        )
    database.close()
    second = start_server("--data-dir", data)
    try:
        client = make_client(second.url)
        assert history(second, TableName="earlier", From=str(start)) == expected
        client.put_item(TableName="earlier", Item={"pk": {"S": "b"}, "v": {"N": "1"}})
        assert _events(second, "earlier", "b") == [("INSERT", "1")]
        changes = history(second, TableName="earlier", From=str(start))
        assert [r["eventName"] for r in changes] == ["INSERT", "MODIFY", "INSERT"]
    finally:
        second.stop()
