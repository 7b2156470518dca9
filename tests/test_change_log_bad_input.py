"""Bad input to the PITR, backup and export operations, over raw HTTP: random members of
random JSON types and values (hypothesis) always get a 4xx in AWS's error shape, never a
5xx; the source table, its backup and its export are unchanged."""

from __future__ import annotations

import json
from typing import Any

import botocore.session
import pytest
from conftest import raw_call
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

OPERATIONS = (
    "DescribeContinuousBackups",
    "UpdateContinuousBackups",
    "RestoreTableToPointInTime",
    "CreateBackup",
    "DescribeBackup",
    "ListBackups",
    "DeleteBackup",
    "RestoreTableFromBackup",
    "ExportTableToPointInTime",
    "DescribeExport",
    "ListExports",
)
TABLE = "bad-input-source"
#: A region no other test uses: whatever a random request creates stays there.
REGION = "eu-south-2"
AUTHORIZATION = (
    f"AWS4-HMAC-SHA256 Credential=FUZZ/20260101/{REGION}/dynamodb/aws4_request, "
    "SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=0"
)
_MODEL = botocore.session.get_session().get_service_model("dynamodb")


def members(operation: str) -> list[str]:
    return list(_MODEL.operation_model(operation).input_shape.members)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from(
        [
            "",
            "x",
            TABLE,
            f"arn:aws:dynamodb:{REGION}:000000000000:table/" + TABLE,
            f"arn:aws:dynamodb:{REGION}:000000000000:table/" + TABLE + "/backup/0-0",
            f"arn:aws:dynamodb:{REGION}:000000000000:table/" + TABLE + "/export/0-0",
            "../../etc",
            "FULL_EXPORT",
            "INCREMENTAL_EXPORT",
            "NEW_IMAGE",
            "ION",
            "2026-01-01T00:00:00Z",
        ]
    )
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                [
                    "PointInTimeRecoveryEnabled",
                    "RecoveryPeriodInDays",
                    "ExportFromTime",
                    "ExportToTime",
                    "ExportViewType",
                    "IndexName",
                    "KeySchema",
                    "Projection",
                    "ReadCapacityUnits",
                    "WriteCapacityUnits",
                    "Enabled",
                    "x",
                ]
            ),
            children,
            max_size=3,
        )
    ),
    max_leaves=6,
)


def call(endpoint: str, operation: str, body: dict[str, Any]) -> tuple[int, bytes]:
    status, _headers, payload = raw_call(
        endpoint,
        "DynamoDB_20120810." + operation,
        json.dumps(body),
        {"Authorization": AUTHORIZATION},
    )
    return status, payload


@st.composite
def requests(draw: Any) -> tuple[str, dict[str, Any]]:
    operation = draw(st.sampled_from(OPERATIONS))
    names = members(operation)
    chosen = draw(st.lists(st.sampled_from(names), max_size=len(names), unique=True))
    return operation, {name: draw(json_values) for name in chosen}


@pytest.fixture(scope="module")
def source(endpoint: str) -> str:
    call(
        endpoint,
        "CreateTable",
        {
            "TableName": TABLE,
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
            "BillingMode": "PAY_PER_REQUEST",
        },
    )
    call(
        endpoint,
        "UpdateContinuousBackups",
        {
            "TableName": TABLE,
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
        },
    )
    call(endpoint, "PutItem", {"TableName": TABLE, "Item": {"pk": {"S": "kept"}}})
    return TABLE


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(request=requests())
def test_bad_input_never_fails_the_server(
    endpoint: str, source: str, request: tuple[str, dict[str, Any]]
) -> None:
    operation, body = request
    status, payload = call(endpoint, operation, body)
    assert status < 500, (operation, body, payload)
    if status >= 400:
        assert "__type" in json.loads(payload)


def test_the_source_is_intact(endpoint: str, source: str) -> None:
    status, payload = call(endpoint, "Scan", {"TableName": source})
    assert status == 200 and json.loads(payload)["Items"] == [{"pk": {"S": "kept"}}]
