"""Exports beyond the DYNAMODB_JSON layout (tests/test_change_log.py): the ION format, read
back with the `amazon.ion` package, and exports written to a real S3-compatible endpoint
(moto's server), checked through boto3's S3 client: objects, manifests, checksums, and the
asynchronous IN_PROGRESS → COMPLETED | FAILED states (SPEC-STREAM-APPS 7.2-7.3)."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from amazon.ion import simpleion
from amazon.ion.core import IonType

from tests.conftest import RunningServer, free_port, make_client, start_server
from tests.test_change_log import at, clock, create, export, export_folder

#: Every attribute type, numbers in the forms the Ion mapping distinguishes, and names
#: and strings Ion must quote or escape.
ITEM: dict[str, Any] = {
    "pk": {"S": "all-types"},
    "Id": {"N": "103"},
    "PageCount": {"N": "600"},
    "Price": {"N": "2000"},
    "ratio": {"N": "1.5"},
    "tiny": {"N": "-0.001"},
    "huge": {"N": "12345678901234567890123456789012345678"},
    "zero": {"N": "0"},
    "bin": {"B": b"\x00\xffbinary"},
    "yes": {"BOOL": True},
    "no": {"BOOL": False},
    "nothing": {"NULL": True},
    "list": {"L": [{"S": "x"}, {"N": "7"}, {"M": {"inner": {"S": "y"}}}]},
    "map": {"M": {"k": {"S": "v"}, "n": {"L": []}}},
    "empty": {"M": {}},
    "Authors": {"SS": ["Author1", "Author2"]},
    "nums": {"NS": ["1", "2.5", "300"]},
    "blobs": {"BS": [b"a", b"bc"]},
    "my-attr": {"S": 'quote " backslash \\ newline \n tab \t bell \x07 é ✓ 𝄞'},
    "null": {"S": "a field named like a keyword"},
    "$dollar": {"S": "a field starting with $"},
    "it's": {"S": "a field with a quote"},
}


def from_ion(value: Any) -> dict[str, Any]:
    """An Ion value read by amazon.ion back into a DynamoDB AttributeValue, by the
    export's mapping."""
    annotations = [str(a.text) for a in getattr(value, "ion_annotations", ())]
    if annotations == ["$dynamodb_SS"]:
        return {"SS": [str(v) for v in value]}
    if annotations == ["$dynamodb_NS"]:
        return {"NS": [number(v) for v in value]}
    if annotations == ["$dynamodb_BS"]:
        return {"BS": [base64.b64encode(bytes(v)).decode() for v in value]}
    assert not annotations, annotations
    kind = value.ion_type
    if value.ion_type is not None and type(value).__name__ == "IonPyNull":
        return {"NULL": True}
    if kind == IonType.BOOL:
        return {"BOOL": bool(value)}
    if kind == IonType.DECIMAL:
        return {"N": number(value)}
    if kind == IonType.BLOB:
        return {"B": base64.b64encode(bytes(value)).decode()}
    if kind == IonType.STRING:
        return {"S": str(value)}
    if kind == IonType.STRUCT:
        return {"M": {str(k): from_ion(v) for k, v in value.items()}}
    if kind == IonType.LIST:
        return {"L": [from_ion(v) for v in value]}
    raise AssertionError(f"unexpected Ion value {value!r} ({kind})")


def number(value: Decimal | str) -> str:
    """A number in one canonical text, so that `600` and Ion's `6d2` compare equal."""
    return format(Decimal(value).normalize(), "f") if Decimal(value) != 0 else "0"


def canonical(value: dict[str, Any], wire: bool = False) -> dict[str, Any]:
    """`wire`: blobs are base64 text already (read back), else bytes (as boto3 takes)."""
    ((kind, inner),) = value.items()
    if wire and kind in ("B", "BS"):
        return {kind: inner if kind == "B" else sorted(inner)}
    if kind == "N":
        return {"N": number(inner)}
    if kind == "NS":
        return {"NS": sorted(number(n) for n in inner)}
    if kind == "B":
        return {"B": base64.b64encode(inner).decode()}  # boto3 takes bytes
    if kind == "BS":
        return {"BS": sorted(base64.b64encode(blob).decode() for blob in inner)}
    if kind == "SS":
        return {kind: sorted(inner)}
    if kind == "M":
        return {"M": {k: canonical(v, wire) for k, v in inner.items()}}
    if kind == "L":
        return {"L": [canonical(v, wire) for v in inner]}
    return value


def canonical_item(item: dict[str, Any], wire: bool = False) -> dict[str, Any]:
    return {name: canonical(value, wire) for name, value in item.items()}


def ion_lines(body: bytes) -> list[Any]:
    """Each line of an ION data file: the version marker, then one struct."""
    text = gzip.decompress(body).decode()
    lines = text.splitlines()
    assert text.endswith("\n") or not text
    values = []
    for line in lines:
        assert line.startswith("$ion_1_0 {"), line
        values.append(simpleion.loads(line))
    return values


@pytest.fixture(scope="module")
def export_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("ion-exports")


@pytest.fixture(scope="module")
def local(export_dir: Path) -> Iterator[RunningServer]:
    running = start_server("--export-dir", str(export_dir))
    try:
        clock(running, advance=0)
        yield running
    finally:
        running.stop()


def test_full_export_in_ion(local: RunningServer, export_dir: Path) -> None:
    db = make_client(local.url)
    create(db, "ion-full")
    db.put_item(TableName="ion-full", Item=ITEM)
    db.put_item(TableName="ion-full", Item={"pk": {"S": "small"}, "n": {"N": "600"}})
    arn = db.describe_table(TableName="ion-full")["Table"]["TableArn"]
    instant = clock(local, advance=1)
    description = export(
        db, local, TableArn=arn, S3Bucket="ion", ExportFormat="ION", ExportTime=at(instant)
    )
    assert description["ExportStatus"] == "COMPLETED"
    assert description["ExportFormat"] == "ION"
    assert description["ItemCount"] == 2
    folder = export_folder(export_dir, description)
    summary = json.loads((folder / "manifest-summary.json").read_text())
    assert summary["outputFormat"] == "ION"
    assert summary["itemCount"] == 2
    items = []
    raw_lines = []
    for entry in (folder / "manifest-files.json").read_text().splitlines():
        manifest = json.loads(entry)
        assert manifest["dataFileS3Key"].endswith(".ion.gz")
        assert manifest["dataFileS3Key"].startswith(str(Path(description["ExportManifest"]).parent))
        body = (export_dir / "ion" / manifest["dataFileS3Key"]).read_bytes()
        assert manifest["md5Checksum"] == base64.b64encode(hashlib.md5(body).digest()).decode()
        raw_lines += gzip.decompress(body).decode().splitlines()
        values = ion_lines(body)
        assert len(values) == manifest["itemCount"]
        items += values
    # AWS's text forms: integers end in a point, trailing zeros go to the exponent.
    assert '$ion_1_0 {Item:{pk:"small",n:6d2}}' in raw_lines
    by_key = {}
    for value in items:
        assert list(value) == ["Item"]
        item = {str(name): from_ion(attribute) for name, attribute in value["Item"].items()}
        by_key[item["pk"]["S"]] = item
    assert canonical_item(by_key["all-types"], wire=True) == canonical_item(ITEM)
    assert by_key["small"] == {"pk": {"S": "small"}, "n": {"N": "600"}}


def test_incremental_export_in_ion(local: RunningServer, export_dir: Path) -> None:
    db = make_client(local.url)
    create(db, "ion-incr")
    clock(local, set=float(int(clock(local, advance=0)) + 1))
    db.put_item(TableName="ion-incr", Item={"pk": {"S": "kept"}, "v": {"N": "1"}})
    db.put_item(TableName="ion-incr", Item={"pk": {"S": "gone"}, "s": {"SS": ["a"]}})
    since = clock(local, advance=1)
    written = clock(local, advance=1)
    db.put_item(TableName="ion-incr", Item={"pk": {"S": "kept"}, "v": {"N": "2"}})
    db.delete_item(TableName="ion-incr", Key={"pk": {"S": "gone"}})
    db.put_item(TableName="ion-incr", Item={"pk": {"S": "flash"}})
    db.delete_item(TableName="ion-incr", Key={"pk": {"S": "flash"}})
    until = clock(local, advance=15 * 60)
    arn = db.describe_table(TableName="ion-incr")["Table"]["TableArn"]
    description = export(
        db,
        local,
        TableArn=arn,
        S3Bucket="ion",
        ExportFormat="ION",
        ExportType="INCREMENTAL_EXPORT",
        IncrementalExportSpecification={"ExportFromTime": at(since), "ExportToTime": at(until)},
    )
    folder = export_folder(export_dir, description)
    values = []
    for entry in (folder / "manifest-files.json").read_text().splitlines():
        key = json.loads(entry)["dataFileS3Key"]
        assert key.endswith(".ion.gz")
        values += ion_lines((export_dir / "ion" / key).read_bytes())
    lines = {}
    for value in values:
        line = {str(k): v for k, v in value.items()}
        keys = {str(k): from_ion(v) for k, v in line["Keys"].items()}
        lines[keys["pk"]["S"]] = line
    assert set(lines) == {"kept", "gone"}  # insert then delete in the window: no line
    kept = lines["kept"]
    assert list(kept) == ["Metadata", "Keys", "NewImage", "OldImage"]
    assert kept["Metadata"]["WriteTimestampMicros"] == Decimal(round(written * 1e6))
    assert {str(k): from_ion(v) for k, v in kept["NewImage"].items()} == {
        "pk": {"S": "kept"},
        "v": {"N": "2"},
    }
    assert {str(k): from_ion(v) for k, v in kept["OldImage"].items()} == {
        "pk": {"S": "kept"},
        "v": {"N": "1"},
    }
    gone = lines["gone"]
    assert list(gone) == ["Metadata", "Keys", "OldImage"]
    assert {str(k): from_ion(v) for k, v in gone["OldImage"].items()} == {
        "pk": {"S": "gone"},
        "s": {"SS": ["a"]},
    }


# -- an S3-compatible endpoint (moto's server) ----------------------------------------------


@pytest.fixture(scope="module")
def to_s3(moto_server: str) -> Iterator[RunningServer]:
    running = start_server("--export-s3-endpoint", moto_server)
    try:
        clock(running, advance=0)
        yield running
    finally:
        running.stop()


def s3_objects(s3: Any, bucket: str, prefix: str) -> dict[str, bytes]:
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])
    return {
        entry["Key"]: s3.get_object(Bucket=bucket, Key=entry["Key"])["Body"].read()
        for entry in listed
    }


def test_export_to_an_s3_endpoint(to_s3: RunningServer, moto_server: str) -> None:
    db = make_client(to_s3.url)
    s3 = make_client(moto_server, "s3")
    s3.create_bucket(Bucket="exports")
    create(db, "to-s3")
    for n in range(30):
        db.put_item(TableName="to-s3", Item={"pk": {"S": f"k{n:02d}"}, "n": {"N": str(n)}})
    arn = db.describe_table(TableName="to-s3")["Table"]["TableArn"]
    instant = clock(to_s3, advance=1)
    description = export(
        db, to_s3, TableArn=arn, S3Bucket="exports", S3Prefix="daily/x", ExportTime=at(instant)
    )
    assert description["ExportStatus"] == "COMPLETED"
    assert description["ItemCount"] == 30
    folder = str(Path(description["ExportManifest"]).parent) + "/"
    assert folder.startswith("daily/x/AWSDynamoDB/")
    objects = s3_objects(s3, "exports", folder)
    assert objects[folder + "_started"] == b""
    summary_body = objects[folder + "manifest-summary.json"]
    assert objects[folder + "manifest-summary.checksum"].decode() == (
        hashlib.md5(summary_body).hexdigest()
    )
    files_body = objects[folder + "manifest-files.json"]
    assert objects[folder + "manifest-files.checksum"].decode() == (
        hashlib.md5(files_body).hexdigest()
    )
    summary = json.loads(summary_body)
    assert summary["exportArn"] == description["ExportArn"]
    assert summary["s3Bucket"] == "exports"
    assert summary["s3Prefix"] == "daily/x"
    assert summary["manifestFilesS3Key"] == folder + "manifest-files.json"
    assert summary["itemCount"] == 30
    pks = []
    data_keys = set()
    for entry in files_body.decode().splitlines():
        manifest = json.loads(entry)
        key = manifest["dataFileS3Key"]
        data_keys.add(key)
        assert key.startswith(folder + "data/") and key.endswith(".json.gz")
        body = objects[key]
        assert manifest["md5Checksum"] == base64.b64encode(hashlib.md5(body).digest()).decode()
        # The object S3 stored is the one described (its ETag is its MD5).
        head = s3.head_object(Bucket="exports", Key=key)
        assert head["ETag"].strip('"') == manifest["etag"] == hashlib.md5(body).hexdigest()
        lines = [json.loads(line) for line in gzip.decompress(body).splitlines()]
        assert len(lines) == manifest["itemCount"]
        pks += [line["Item"]["pk"]["S"] for line in lines]
    assert sorted(pks) == [f"k{n:02d}" for n in range(30)]
    expected = {
        folder + name
        for name in (
            "_started",
            "manifest-summary.json",
            "manifest-summary.checksum",
            "manifest-files.json",
            "manifest-files.checksum",
        )
    }
    assert set(objects) == expected | data_keys
    listed = db.list_exports(TableArn=arn)["ExportSummaries"]
    assert [(e["ExportArn"], e["ExportStatus"]) for e in listed] == [
        (description["ExportArn"], "COMPLETED")
    ]


def test_export_to_a_missing_bucket_fails(to_s3: RunningServer) -> None:
    db = make_client(to_s3.url)
    create(db, "to-nowhere")
    db.put_item(TableName="to-nowhere", Item={"pk": {"S": "a"}})
    arn = db.describe_table(TableName="to-nowhere")["Table"]["TableArn"]
    description = export(db, to_s3, TableArn=arn, S3Bucket="no-such-bucket")
    assert description["ExportStatus"] == "FAILED"
    assert description["FailureCode"] == "S3NoSuchBucket"
    assert description["FailureMessage"] == "The specified bucket does not exist"
    assert "ItemCount" not in description
    assert description["EndTime"] >= description["StartTime"]
    listed = db.list_exports(TableArn=arn)["ExportSummaries"]
    assert [e["ExportStatus"] for e in listed] == ["FAILED"]


def test_export_to_an_endpoint_that_does_not_answer_fails() -> None:
    running = start_server("--export-s3-endpoint", f"http://127.0.0.1:{free_port()}")
    try:
        db = make_client(running.url)
        create(db, "to-closed-port")
        arn = db.describe_table(TableName="to-closed-port")["Table"]["TableArn"]
        description = export(db, running, TableArn=arn, S3Bucket="any")
        assert description["ExportStatus"] == "FAILED"
        assert description["FailureCode"] == "UNKNOWN"
        assert description["FailureMessage"].startswith("Could not write to S3: ")
    finally:
        running.stop()
