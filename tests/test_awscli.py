"""The AWS CLI (`aws --endpoint-url ... dynamodb ...`) against the emulator, as a user runs it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest


def aws_executable() -> str:
    beside = Path(sys.executable).parent / "aws"
    if beside.exists():
        return str(beside)
    found = shutil.which("aws")
    if found is None:
        pytest.skip("the AWS CLI is not installed")
    return found


@pytest.fixture(scope="module")
def aws(endpoint: str, tmp_path_factory: pytest.TempPathFactory) -> Any:
    executable = aws_executable()
    home = tmp_path_factory.mktemp("aws-home")
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "cli-key",
        "AWS_SECRET_ACCESS_KEY": "cli-secret",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": str(home / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / "credentials"),
        "AWS_PAGER": "",
    }
    env.pop("AWS_PROFILE", None)
    env.pop("AWS_ENDPOINT_URL", None)
    env.pop("AWS_SESSION_TOKEN", None)

    def run(*args: str, region: str | None = None) -> subprocess.CompletedProcess[str]:
        run_env = dict(env)
        if region is not None:
            run_env["AWS_DEFAULT_REGION"] = region
        return subprocess.run(
            [executable, "--endpoint-url", endpoint, "--output", "json", "dynamodb", *args],
            capture_output=True,
            text=True,
            env=run_env,
            timeout=60,
        )

    return run


def ok(result: subprocess.CompletedProcess[str]) -> Any:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout) if result.stdout.strip() else None


def test_create_put_get_describe_list(aws: Any, table_name: str) -> None:
    created = ok(
        aws(
            "create-table",
            "--table-name",
            table_name,
            "--attribute-definitions",
            "AttributeName=pk,AttributeType=S",
            "AttributeName=sk,AttributeType=N",
            "--key-schema",
            "AttributeName=pk,KeyType=HASH",
            "AttributeName=sk,KeyType=RANGE",
            "--billing-mode",
            "PAY_PER_REQUEST",
            "--stream-specification",
            "StreamEnabled=true,StreamViewType=NEW_AND_OLD_IMAGES",
        )
    )["TableDescription"]
    assert created["TableName"] == table_name
    assert created["TableStatus"] == "ACTIVE"
    assert created["TableArn"] == f"arn:aws:dynamodb:us-east-1:000000000000:table/{table_name}"
    assert created["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    assert created["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert created["StreamSpecification"] == {
        "StreamEnabled": True,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    assert created["LatestStreamArn"] == (
        f"{created['TableArn']}/stream/{created['LatestStreamLabel']}"
    )

    item = {
        "pk": {"S": "cli"},
        "sk": {"N": "1.50"},
        "ss": {"SS": ["x", "y"]},
        "m": {"M": {"n": {"N": "1e3"}, "l": {"L": [{"BOOL": True}, {"NULL": True}]}}},
    }
    assert ok(aws("put-item", "--table-name", table_name, "--item", json.dumps(item))) is None

    got = ok(
        aws(
            "get-item",
            "--table-name",
            table_name,
            "--key",
            json.dumps({"pk": {"S": "cli"}, "sk": {"N": "1.5"}}),
            "--consistent-read",
        )
    )
    assert got == {
        "Item": {
            "pk": {"S": "cli"},
            "sk": {"N": "1.5"},
            "ss": {"SS": ["x", "y"]},
            "m": {"M": {"n": {"N": "1000"}, "l": {"L": [{"BOOL": True}, {"NULL": True}]}}},
        }
    }

    missing = ok(
        aws(
            "get-item",
            "--table-name",
            table_name,
            "--key",
            json.dumps({"pk": {"S": "none"}, "sk": {"N": "1"}}),
        )
    )
    assert missing is None or missing == {}

    table = ok(aws("describe-table", "--table-name", table_name))["Table"]
    assert table["TableName"] == table_name
    assert table["ItemCount"] == 1
    assert table["TableId"] == created["TableId"]
    assert table["LatestStreamArn"] == created["LatestStreamArn"]

    # The CLI follows LastEvaluatedTableName itself and prints every name.
    names = ok(aws("list-tables"))["TableNames"]
    assert table_name in names


def test_put_item_return_values(aws: Any, ddb: Any, make_table: Any) -> None:
    name = make_table()
    ddb.put_item(TableName=name, Item={"pk": {"S": "a"}, "v": {"S": "old"}})
    old = ok(
        aws(
            "put-item",
            "--table-name",
            name,
            "--item",
            json.dumps({"pk": {"S": "a"}}),
            "--return-values",
            "ALL_OLD",
            "--return-consumed-capacity",
            "TOTAL",
        )
    )
    assert old == {
        "Attributes": {"pk": {"S": "a"}, "v": {"S": "old"}},
        "ConsumedCapacity": {"TableName": name, "CapacityUnits": 1.0},
    }


def test_missing_table_error(aws: Any, table_name: str) -> None:
    result = aws("describe-table", "--table-name", table_name)
    assert result.returncode != 0
    assert result.stdout == ""
    assert (
        "An error occurred (ResourceNotFoundException) when calling the DescribeTable operation: "
        f"Requested resource not found: Table: {table_name} not found"
    ) in result.stderr


def test_validation_error(aws: Any, make_table: Any) -> None:
    name = make_table()
    result = aws(
        "put-item",
        "--table-name",
        name,
        "--item",
        json.dumps({"pk": {"S": "a"}, "n": {"N": "1e126"}}),
    )
    assert result.returncode != 0
    assert (
        "An error occurred (ValidationException) when calling the PutItem operation: "
        "Number overflow. Attempting to store a number with magnitude larger than supported range"
    ) in result.stderr


def test_create_existing_table_error(aws: Any, make_table: Any) -> None:
    name = make_table()
    result = aws(
        "create-table",
        "--table-name",
        name,
        "--attribute-definitions",
        "AttributeName=pk,AttributeType=S",
        "--key-schema",
        "AttributeName=pk,KeyType=HASH",
        "--billing-mode",
        "PAY_PER_REQUEST",
    )
    assert result.returncode != 0
    assert (
        "An error occurred (ResourceInUseException) when calling the CreateTable operation: "
        f"Table already exists: {name}"
    ) in result.stderr


def test_region_from_the_cli_environment(aws: Any, ddb: Any, table_name: str) -> None:
    created = ok(
        aws(
            "create-table",
            "--table-name",
            table_name,
            "--attribute-definitions",
            "AttributeName=pk,AttributeType=S",
            "--key-schema",
            "AttributeName=pk,KeyType=HASH",
            "--billing-mode",
            "PAY_PER_REQUEST",
            region="ap-northeast-1",
        )
    )["TableDescription"]
    assert created["TableArn"] == (
        f"arn:aws:dynamodb:ap-northeast-1:000000000000:table/{table_name}"
    )
    with pytest.raises(ddb.exceptions.ResourceNotFoundException):
        ddb.describe_table(TableName=table_name)  # a us-east-1 client does not see it
