"""The Lambda API subset through the AWS CLI (`aws lambda ...`), with `--endpoint-url`
and with `AWS_ENDPOINT_URL` alone."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import subprocess
import sys
import urllib.request
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

AWS = Path(sys.executable).parent / "aws"
ROLE = "arn:aws:iam::000000000000:role/lambda-role"


def cli_env(**extra: str) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if k != "AWS_ENDPOINT_URL"},
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_PAGER": "",
        "AWS_MAX_ATTEMPTS": "1",
        **extra,
    }


def aws(
    endpoint: str | None, *args: str, check: bool = True, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    command = [str(AWS), "--output", "json"]
    if endpoint is not None:
        command += ["--endpoint-url", endpoint]
    result = subprocess.run(
        [*command, *args],
        env=env or cli_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    if check:
        assert result.returncode == 0, result.stderr
    return result


def aws_json(endpoint: str | None, *args: str, env: dict[str, str] | None = None) -> Any:
    return json.loads(aws(endpoint, *args, env=env).stdout)


@pytest.fixture
def code_zip(tmp_path: Path) -> Path:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            "handler.py",
            "def handler(event, context):\n    print('cli says hi')\n    return {'got': event}\n",
        )
    path = tmp_path / "function.zip"
    path.write_bytes(buffer.getvalue())
    return path


def settle(endpoint: str) -> None:
    """Wait for the trigger supervisor to complete every state transition."""
    request = urllib.request.Request(
        endpoint + "/_emulator/triggers/settle",
        b"{}",
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert json.loads(response.read()) == {"settled": True}


def create(endpoint: str, name: str, code_zip: Path) -> Any:
    return aws_json(
        endpoint,
        "lambda",
        "create-function",
        "--function-name",
        name,
        "--runtime",
        "python3.12",
        "--role",
        ROLE,
        "--handler",
        "handler.handler",
        "--zip-file",
        f"fileb://{code_zip}",
    )


def test_function_lifecycle(endpoint: str, code_zip: Path, tmp_path: Path) -> None:
    name = "cli-lifecycle-fn"
    created = create(endpoint, name, code_zip)
    digest = base64.b64encode(hashlib.sha256(code_zip.read_bytes()).digest()).decode()
    assert (created["State"], created["CodeSha256"]) == ("Pending", digest)
    got = aws_json(endpoint, "lambda", "get-function", "--function-name", name)
    assert got["Configuration"]["State"] == "Active"
    configuration = aws_json(
        endpoint, "lambda", "get-function-configuration", "--function-name", name
    )
    assert configuration == got["Configuration"]
    listed = aws_json(endpoint, "lambda", "list-functions")
    assert name in [f["FunctionName"] for f in listed["Functions"]]
    updated = aws_json(
        endpoint,
        "lambda",
        "update-function-configuration",
        "--function-name",
        name,
        "--timeout",
        "30",
        "--environment",
        "Variables={STAGE=test}",
    )
    assert (updated["Timeout"], updated["LastUpdateStatus"]) == (30, "InProgress")
    out = tmp_path / "out.json"
    invoked = aws_json(
        endpoint,
        "lambda",
        "invoke",
        "--function-name",
        name,
        "--payload",
        '{"k": "v"}',
        "--log-type",
        "Tail",
        str(out),
    )
    assert invoked["StatusCode"] == 200 and invoked["ExecutedVersion"] == "$LATEST"
    assert "cli says hi" in base64.b64decode(invoked["LogResult"]).decode()
    assert json.loads(out.read_text()) == {"got": {"k": "v"}}
    code = aws_json(
        endpoint,
        "lambda",
        "update-function-code",
        "--function-name",
        name,
        "--zip-file",
        f"fileb://{code_zip}",
    )
    assert code["CodeSha256"] == digest
    deleted = aws(endpoint, "lambda", "delete-function", "--function-name", name)
    assert json.loads(deleted.stdout or "{}").get("StatusCode", 204) == 204
    missing = aws(endpoint, "lambda", "get-function", "--function-name", name, check=False)
    assert missing.returncode in (254, 255)  # an AWS error: 254 in AWS CLI v2, 255 in v1
    assert (
        "An error occurred (ResourceNotFoundException) when calling the GetFunction operation: "
        f"Function not found: arn:aws:lambda:us-east-1:000000000000:function:{name}"
    ) in missing.stderr


def test_mapping_lifecycle(
    endpoint: str, ddb: Any, make_table: Callable[..., str], code_zip: Path
) -> None:
    table = make_table(stream="NEW_IMAGE")
    stream_arn = ddb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    create(endpoint, "cli-mapping-fn", code_zip)
    created = aws_json(
        endpoint,
        "lambda",
        "create-event-source-mapping",
        "--function-name",
        "cli-mapping-fn",
        "--event-source-arn",
        stream_arn,
        "--starting-position",
        "LATEST",
        "--batch-size",
        "10",
    )
    assert (created["State"], created["BatchSize"]) == ("Creating", 10)
    assert created["StateTransitionReason"] == "User action"
    uuid = created["UUID"]
    got = aws_json(endpoint, "lambda", "get-event-source-mapping", "--uuid", uuid)
    assert got["EventSourceMappingArn"].endswith(f":event-source-mapping:{uuid}")
    listed = aws_json(
        endpoint, "lambda", "list-event-source-mappings", "--event-source-arn", stream_arn
    )
    assert [m["UUID"] for m in listed["EventSourceMappings"]] == [uuid]
    duplicate = aws(
        endpoint,
        "lambda",
        "create-event-source-mapping",
        "--function-name",
        "cli-mapping-fn",
        "--event-source-arn",
        stream_arn,
        "--starting-position",
        "LATEST",
        check=False,
    )
    assert duplicate.returncode in (254, 255)  # AWS CLI v2, v1
    assert "(ResourceConflictException)" in duplicate.stderr
    assert f"existing mapping with UUID {uuid}" in duplicate.stderr
    settle(endpoint)
    assert aws_json(endpoint, "lambda", "get-event-source-mapping", "--uuid", uuid)["State"] == (
        "Enabled"
    )
    disabled = aws_json(
        endpoint, "lambda", "update-event-source-mapping", "--uuid", uuid, "--no-enabled"
    )
    assert disabled["State"] == "Disabling"
    deleted = aws_json(endpoint, "lambda", "delete-event-source-mapping", "--uuid", uuid)
    assert deleted["State"] == "Deleting"
    unknown = aws(
        endpoint,
        "lambda",
        "get-event-source-mapping",
        "--uuid",
        "00000000-0000-4000-8000-000000000000",
        check=False,
    )
    assert (
        "(ResourceNotFoundException) when calling the GetEventSourceMapping operation: "
        "The resource you requested does not exist."
    ) in unknown.stderr


def test_aws_endpoint_url_alone(endpoint: str, code_zip: Path) -> None:
    env = cli_env(AWS_ENDPOINT_URL=endpoint)
    created = aws_json(
        None,
        "lambda",
        "create-function",
        "--function-name",
        "cli-env-fn",
        "--runtime",
        "python3.12",
        "--role",
        ROLE,
        "--handler",
        "handler.handler",
        "--zip-file",
        f"fileb://{code_zip}",
        env=env,
    )
    assert created["FunctionName"] == "cli-env-fn"
    listed = aws_json(None, "lambda", "list-functions", env=env)
    assert "cli-env-fn" in [f["FunctionName"] for f in listed["Functions"]]
    bad = aws(
        None,
        "lambda",
        "create-event-source-mapping",
        "--function-name",
        "cli-env-fn",
        "--event-source-arn",
        "arn:aws:dynamodb:us-east-1:000000000000:table/nope/stream/2020-01-01T00:00:00.000",
        "--starting-position",
        "TRIM_HORIZON",
        "--batch-size",
        "10001",
        check=False,
        env=env,
    )
    assert (
        "(ValidationException) when calling the CreateEventSourceMapping operation: 1 "
        "validation error detected: Value '10001' at 'batchSize' failed to satisfy "
        "constraint: Member must have value less than or equal to 10000"
    ) in bad.stderr
