"""The Lambda API subset through boto3's `lambda` client and raw HTTP (SPEC-STREAM-APPS 2;
acceptance checks 1-7 and 44, the parts answered immediately: the poller's later state
transitions are tested with the poller)."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import urllib.request
import uuid
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ParamValidationError
from conftest import (
    RunningServer,
    error_of,
    make_client,
    serve_backend,
    start_server,
)

ROLE = "arn:aws:iam::000000000000:role/lambda-role"
ACCOUNT = "000000000000"
QUEUE = "arn:aws:sqs:us-east-1:000000000000:q"
HANDLER_SOURCE = "def handler(event, context):\n    return {'echo': event}\n"


def zip_of(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


CODE = zip_of({"handler.py": HANDLER_SOURCE})


@pytest.fixture(scope="session")
def lam(endpoint: str) -> Any:
    return make_client(endpoint, "lambda")


_names = iter(range(1, 10**9))


@pytest.fixture
def fn_name(request: pytest.FixtureRequest) -> str:
    base = "".join(c if c.isalnum() else "-" for c in request.node.name)[:40]
    return f"fn{next(_names)}-{base}"


def create_function(lam: Any, name: str, **extra: Any) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "FunctionName": name,
        "Runtime": "python3.12",
        "Role": ROLE,
        "Handler": "handler.handler",
        "Code": {"ZipFile": CODE},
    }
    kwargs.update(extra)
    response: dict[str, Any] = lam.create_function(**kwargs)
    return response


@pytest.fixture
def function(lam: Any, fn_name: str) -> str:
    create_function(lam, fn_name)
    return fn_name


@pytest.fixture
def stream_arn(ddb: Any, make_table: Callable[..., str]) -> str:
    table = make_table(stream="NEW_AND_OLD_IMAGES")
    arn: str = ddb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    return arn


def raw_lambda(
    endpoint: str,
    method: str,
    path: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], Any]:
    """A Lambda call over plain HTTP (no SigV4: the server's default region); header
    names in lower case."""
    if body is None:
        data = None
    elif isinstance(body, bytes):
        data = body
    else:
        data = (body if isinstance(body, str) else json.dumps(body)).encode()
    request = urllib.request.Request(endpoint + path, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, answer_headers, payload = (
                response.status,
                dict(response.headers),
                response.read(),
            )
    except urllib.error.HTTPError as error:
        status, payload = error.code, error.read()
        answer_headers = {k.lower(): v for k, v in error.headers.items()}
    return status, answer_headers, json.loads(payload) if payload.strip() else None


def esm_body(function: str, stream_arn: str, **extra: Any) -> dict[str, Any]:
    return {
        "FunctionName": function,
        "EventSourceArn": stream_arn,
        "StartingPosition": "TRIM_HORIZON",
        **extra,
    }


def without_metadata(response: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in response.items() if k != "ResponseMetadata"}


#: What the trigger supervisor changes after an answer (state transitions).
_MOVING = ("ResponseMetadata", "State", "LastModified", "LastProcessingResult")


def settled(mapping: dict[str, Any]) -> dict[str, Any]:
    """A mapping description without the members its state transitions change."""
    return {k: v for k, v in mapping.items() if k not in _MOVING}


# --------------------------------------------------------------------------- functions


def test_create_function_answers_the_recorded_shape(lam: Any, fn_name: str) -> None:
    created = create_function(
        lam, fn_name, Timeout=5, MemorySize=256, Environment={"Variables": {"AA": "1"}}
    )
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    body = without_metadata(created)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000", body.pop("LastModified"))
    revision = body.pop("RevisionId")
    assert uuid.UUID(revision).version == 4
    assert body == {
        "FunctionName": fn_name,
        "FunctionArn": f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{fn_name}",
        "Runtime": "python3.12",
        "Role": ROLE,
        "Handler": "handler.handler",
        "CodeSize": len(CODE),
        "CodeSha256": base64.b64encode(hashlib.sha256(CODE).digest()).decode(),
        "Description": "",
        "Timeout": 5,
        "MemorySize": 256,
        "Version": "$LATEST",
        "Environment": {"Variables": {"AA": "1"}},
        "TracingConfig": {"Mode": "PassThrough"},
        "Architectures": ["x86_64"],
        "EphemeralStorage": {"Size": 512},
        "PackageType": "Zip",
        "SnapStart": {"ApplyOn": "None", "OptimizationStatus": "Off"},
        "LoggingConfig": {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{fn_name}"},
        "State": "Pending",
        "StateReason": "The function is being created.",
        "StateReasonCode": "Creating",
    }

    configuration = lam.get_function_configuration(FunctionName=fn_name)
    assert configuration["State"] == "Active"
    assert configuration["LastUpdateStatus"] == "Successful"
    assert "StateReason" not in configuration and "StateReasonCode" not in configuration
    assert configuration["RevisionId"] == revision
    got = lam.get_function(FunctionName=fn_name)
    assert without_metadata(got)["Configuration"] == without_metadata(configuration)
    assert got["Code"]["RepositoryType"] == "S3"
    with urllib.request.urlopen(got["Code"]["Location"], timeout=10) as response:
        assert response.read() == CODE


def test_create_function_defaults(lam: Any, fn_name: str) -> None:
    created = create_function(lam, fn_name)
    assert (created["Timeout"], created["MemorySize"]) == (3, 128)
    assert created["Environment"] == {"Variables": {}}


def test_function_names_and_arns(lam: Any, function: str) -> None:
    arn = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{function}"
    for name in (function, arn, f"{ACCOUNT}:function:{function}", f"{function}:$LATEST"):
        assert lam.get_function_configuration(FunctionName=name)["FunctionArn"] == arn
    assert lam.get_function(FunctionName=function, Qualifier="$LATEST")["Configuration"]


def test_unknown_function_is_404_with_the_arn(lam: Any) -> None:
    arn = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:no-such-fn"
    with pytest.raises(lam.exceptions.ResourceNotFoundException) as info:
        lam.get_function(FunctionName="no-such-fn")
    assert info.value.response["Error"]["Message"] == f"Function not found: {arn}"
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    error = error_of(lam.get_function_configuration, FunctionName="no-such-fn", Qualifier="v1")
    assert error["Message"] == f"Function not found: {arn}:v1"
    for call in (lam.delete_function, lam.get_function):
        assert error_of(call, FunctionName=arn)["Code"] == "ResourceNotFoundException"


def test_a_version_other_than_latest_is_not_found(lam: Any, function: str) -> None:
    error = error_of(lam.get_function, FunctionName=function, Qualifier="1")
    assert error == {
        "Code": "ResourceNotFoundException",
        "Message": f"Function not found: arn:aws:lambda:us-east-1:{ACCOUNT}:function:{function}:1",
    }
    error = error_of(lam.get_function, FunctionName=f"{function}:1", Qualifier="2")
    assert error["Code"] == "InvalidParameterValueException"


def test_duplicate_function_is_409(lam: Any, function: str) -> None:
    with pytest.raises(lam.exceptions.ResourceConflictException) as info:
        create_function(lam, function)
    response = info.value.response
    assert response["Error"]["Message"] == f"Function already exist: {function}"
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 409
    assert response["Type"] == "User"


def test_create_function_validation(lam: Any, fn_name: str) -> None:
    error = error_of(create_function, lam=lam, name=fn_name, Timeout=901)
    assert error == {
        "Code": "ValidationException",
        "Message": "1 validation error detected: Value '901' at 'timeout' failed to satisfy "
        "constraint: Member must have value less than or equal to 900",
    }
    error = error_of(create_function, lam=lam, name=fn_name, MemorySize=32769)
    assert error["Message"].endswith(
        "at 'memorySize' failed to satisfy constraint: Member must have value less than or "
        "equal to 32768"
    )
    error = error_of(lam.create_function, FunctionName=fn_name, Role=ROLE, Code={"ZipFile": CODE})
    assert error == {
        "Code": "InvalidParameterValueException",
        "Message": "Runtime and Handler are mandatory parameters for functions created with "
        "deployment packages.",
    }
    error = error_of(create_function, lam=lam, name=fn_name, Code={"ZipFile": b"not a zip"})
    assert error["Message"] == (
        "Could not unzip uploaded file. Please check your file, then try to upload again."
    )
    error = error_of(create_function, lam=lam, name=fn_name, Role="not-a-role")
    assert error["Code"] == "ValidationException"
    assert (
        "at 'role' failed to satisfy constraint: Member must satisfy regular expression"
        in (error["Message"])
    )
    error = error_of(
        create_function, lam=lam, name=fn_name, Environment={"Variables": {"AWS_REGION": "x"}}
    )
    assert error["Message"].endswith("Reserved keys used in this request: AWS_REGION")
    error = error_of(
        create_function, lam=lam, name=fn_name, Code={"S3Bucket": "some-bucket", "S3Key": "k.zip"}
    )
    assert error["Message"] == (
        "Error occurred while GetObject. S3 Error Code: NoSuchBucket. S3 Error Message: "
        "The specified bucket does not exist"
    )
    assert error_of(lam.get_function, FunctionName=fn_name)["Code"] == "ResourceNotFoundException"


def test_minimum_violations_over_raw_http(endpoint: str, fn_name: str) -> None:
    base = {
        "FunctionName": fn_name,
        "Runtime": "python3.12",
        "Role": ROLE,
        "Handler": "handler.handler",
        "Code": {"ZipFile": base64.b64encode(CODE).decode()},
    }
    status, headers, body = raw_lambda(
        endpoint, "POST", "/2015-03-31/functions", {**base, "Timeout": 0, "MemorySize": 64}
    )
    assert status == 400
    assert headers["x-amzn-errortype"] == "ValidationException"
    assert body == {
        "Type": "User",
        "message": "2 validation errors detected: Value '0' at 'timeout' failed to satisfy "
        "constraint: Member must have value greater than or equal to 1; Value '64' at "
        "'memorySize' failed to satisfy constraint: Member must have value greater than or "
        "equal to 128",
    }


def test_bad_bodies_are_4xx(endpoint: str) -> None:
    for body in (b"{not json", b"[1, 2]", b'{"FunctionName": 5}', b'"text"'):
        status, headers, answer = raw_lambda(endpoint, "POST", "/2015-03-31/functions", body)
        assert status == 400, (body, answer)
        assert headers["x-amzn-errortype"] in (
            "InvalidRequestContentException",
            "InvalidParameterValueException",
        )
        assert answer["Type"] == "User"
    status, headers, answer = raw_lambda(
        endpoint, "POST", "/2015-03-31/event-source-mappings", b"{"
    )
    assert status == 400
    assert headers["x-amzn-errortype"] == "InvalidRequestContentException"
    status, headers, answer = raw_lambda(endpoint, "PATCH", "/2015-03-31/functions/x")
    assert status == 404
    assert headers["x-amzn-errortype"] == "UnknownOperationException"
    status, _, answer = raw_lambda(endpoint, "GET", "/2015-03-31/functions?MaxItems=abc")
    assert status == 400
    assert answer["message"].startswith("Received Exception while reading from provided stream.")


def test_list_functions_pages_of_at_most_50() -> None:
    server = start_server()
    try:
        lam = make_client(server.url, "lambda")
        names = [f"page-fn-{i:03d}" for i in range(53)]
        for name in names:
            create_function(lam, name)
        first = lam.list_functions()
        assert [f["FunctionName"] for f in first["Functions"]] == names[:50]
        assert not {"State", "LastUpdateStatus"} & set(first["Functions"][0])
        second = lam.list_functions(Marker=first["NextMarker"])
        assert [f["FunctionName"] for f in second["Functions"]] == names[50:]
        assert "NextMarker" not in second
        small = lam.list_functions(MaxItems=2)
        assert [f["FunctionName"] for f in small["Functions"]] == names[:2]
        paged = [
            f["FunctionName"]
            for page in lam.get_paginator("list_functions").paginate(
                PaginationConfig={"PageSize": 7}
            )
            for f in page["Functions"]
        ]
        assert paged == names
    finally:
        server.stop()


def test_update_function_configuration(lam: Any, function: str) -> None:
    before = lam.get_function_configuration(FunctionName=function)
    updated = lam.update_function_configuration(
        FunctionName=function,
        Description="Changed",
        Timeout=10,
        MemorySize=512,
        Runtime="python3.11",
        Environment={"Variables": {"ENV_A": "a"}},
    )
    assert updated["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert updated["State"] == "Active"
    assert updated["LastUpdateStatus"] == "InProgress"
    assert updated["LastUpdateStatusReason"] == "The function is being created."
    assert updated["LastUpdateStatusReasonCode"] == "Creating"
    assert updated["RevisionId"] != before["RevisionId"]
    after = lam.get_function_configuration(FunctionName=function)
    assert after["LastUpdateStatus"] == "Successful"
    assert "LastUpdateStatusReason" not in after
    assert (after["Description"], after["Timeout"], after["MemorySize"]) == ("Changed", 10, 512)
    assert after["Runtime"] == "python3.11"
    assert after["Environment"] == {"Variables": {"ENV_A": "a"}}
    assert after["CodeSha256"] == before["CodeSha256"]
    error = error_of(
        lam.update_function_configuration,
        FunctionName=function,
        Timeout=4,
        RevisionId=before["RevisionId"],
    )
    assert error["Code"] == "PreconditionFailedException"
    assert (
        lam.update_function_configuration(
            FunctionName=function, Timeout=4, RevisionId=after["RevisionId"]
        )["Timeout"]
        == 4
    )


def test_update_function_code(lam: Any, function: str) -> None:
    new_code = zip_of({"handler.py": "def handler(e, c):\n    return 2\n"})
    dry = lam.update_function_code(FunctionName=function, ZipFile=new_code, DryRun=True)
    assert dry["CodeSize"] == len(new_code)
    assert lam.get_function(FunctionName=function)["Configuration"]["CodeSize"] == len(CODE)
    updated = lam.update_function_code(FunctionName=function, ZipFile=new_code)
    assert updated["LastUpdateStatus"] == "InProgress"
    sha = base64.b64encode(hashlib.sha256(new_code).digest()).decode()
    assert (updated["CodeSize"], updated["CodeSha256"]) == (len(new_code), sha)
    got = lam.get_function(FunctionName=function)
    assert got["Configuration"]["CodeSha256"] == sha
    with urllib.request.urlopen(got["Code"]["Location"], timeout=10) as response:
        assert response.read() == new_code
    error = error_of(lam.update_function_code, FunctionName="no-such-fn", ZipFile=new_code)
    assert error["Code"] == "ResourceNotFoundException"


def test_delete_function(lam: Any, function: str) -> None:
    error = error_of(lam.delete_function, FunctionName=function, Qualifier="$LATEST")
    assert error["Message"] == "$LATEST version cannot be deleted without deleting the function."
    deleted = lam.delete_function(FunctionName=function)
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_function(FunctionName=function)
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.delete_function(FunctionName=function)


def test_delete_function_answers_204_with_no_body(endpoint: str, function: str) -> None:
    status, _, body = raw_lambda(endpoint, "DELETE", f"/2015-03-31/functions/{function}")
    assert (status, body) == (204, None)


def test_code_in_a_local_folder(lam: Any, fn_name: str, tmp_path: Path) -> None:
    (tmp_path / "handler.py").write_text(HANDLER_SOURCE)
    created = create_function(lam, fn_name, Code={"S3Bucket": "hot-reload", "S3Key": str(tmp_path)})
    assert created["CodeSize"] == 0
    got = lam.get_function(FunctionName=fn_name)
    with urllib.request.urlopen(got["Code"]["Location"], timeout=10) as response:
        archive = zipfile.ZipFile(io.BytesIO(response.read()))
    assert archive.read("handler.py").decode() == HANDLER_SOURCE
    first = lam.invoke(FunctionName=fn_name, Payload=b'{"n": 1}')
    assert json.loads(first["Payload"].read()) == {"echo": {"n": 1}}
    # Hot reload: an edited file is what the next invocation runs.
    (tmp_path / "handler.py").write_text(
        "def handler(event, context):\n    return {'edited': event}\n"
    )
    second = lam.invoke(FunctionName=fn_name, Payload=b'{"n": 2}')
    assert json.loads(second["Payload"].read()) == {"edited": {"n": 2}}
    error = error_of(
        create_function,
        lam=lam,
        name=fn_name + "-x",
        Code={"S3Bucket": "hot-reload", "S3Key": str(tmp_path / "missing")},
    )
    assert error["Code"] == "InvalidParameterValueException"


def test_functions_are_regional(endpoint: str, fn_name: str) -> None:
    west = make_client(endpoint, "lambda", region="eu-west-1")
    created = create_function(west, fn_name)
    assert created["FunctionArn"] == f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:{fn_name}"
    east = make_client(endpoint, "lambda")
    assert error_of(east.get_function, FunctionName=fn_name)["Code"] == (
        "ResourceNotFoundException"
    )
    assert (
        error_of(
            west.get_function, FunctionName=created["FunctionArn"].replace("eu-west-1", "us-east-1")
        )["Code"]
        == "ResourceNotFoundException"
    )


# --------------------------------------------------------------------------- Invoke (pre-target)


def test_invoke_checks_before_running(lam: Any, function: str, endpoint: str) -> None:
    dry = lam.invoke(FunctionName=function, InvocationType="DryRun", Payload=b"{}")
    assert dry["StatusCode"] == 204
    error = error_of(lam.invoke, FunctionName="no-such-fn", Payload=b"{}")
    assert error["Code"] == "ResourceNotFoundException"
    error = error_of(lam.invoke, FunctionName=function, Payload=b"not json")
    assert error["Code"] == "InvalidRequestContentException"
    assert error["Message"].startswith(
        "Could not parse request body into json: Could not parse payload into json:"
    )
    big = b'"' + b"x" * (6 * 1024 * 1024) + b'"'
    status, headers, body = raw_lambda(
        endpoint, "POST", f"/2015-03-31/functions/{function}/invocations", big
    )
    assert status == 413
    assert headers["x-amzn-errortype"] == "RequestEntityTooLargeException"
    assert body["message"] == (
        "Request must be smaller than 6291456 bytes for the InvokeFunction operation"
    )
    event = b'"' + b"x" * (1024 * 1024) + b'"'
    error = error_of(lam.invoke, FunctionName=function, InvocationType="Event", Payload=event)
    assert error["Message"] == (
        f"{len(event)} byte payload is too large for the Event invocation type "
        "(limit 1048576 bytes)"
    )
    status, _, body = raw_lambda(
        endpoint,
        "POST",
        f"/2015-03-31/functions/{function}/invocations",
        b"{}",
        {"X-Amz-Invocation-Type": "Sometimes"},
    )
    assert status == 400
    assert body["message"] == (
        "1 validation error detected: Value 'Sometimes' at 'invocationType' failed to satisfy "
        "constraint: Member must satisfy enum value set: [Event, RequestResponse, DryRun]"
    )


# --------------------------------------------------------------------------- mappings


EXPECTED_DEFAULTS = {
    "StartingPosition": "TRIM_HORIZON",
    "BatchSize": 100,
    "MaximumBatchingWindowInSeconds": 0,
    "ParallelizationFactor": 1,
    "BisectBatchOnFunctionError": False,
    "MaximumRetryAttempts": -1,
    "MaximumRecordAgeInSeconds": -1,
    "TumblingWindowInSeconds": 0,
    "FunctionResponseTypes": [],
    "DestinationConfig": {"OnFailure": {}},
    "LastProcessingResult": "No records processed",
    "State": "Creating",
    "StateTransitionReason": "User action",
}


def test_create_mapping_answers_every_default(
    lam: Any, function: str, stream_arn: str, endpoint: str
) -> None:
    created = lam.create_event_source_mapping(
        FunctionName=function, EventSourceArn=stream_arn, StartingPosition="TRIM_HORIZON"
    )
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 202
    body = without_metadata(created)
    mapping_uuid = body.pop("UUID")
    assert uuid.UUID(mapping_uuid).version == 4
    body.pop("LastModified")
    assert body == {
        **EXPECTED_DEFAULTS,
        "EventSourceArn": stream_arn,
        "FunctionArn": f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{function}",
        "EventSourceMappingArn": (
            f"arn:aws:lambda:us-east-1:{ACCOUNT}:event-source-mapping:{mapping_uuid}"
        ),
    }
    status, _, raw = raw_lambda(
        endpoint, "GET", f"/2015-03-31/event-source-mappings/{mapping_uuid}"
    )
    assert status == 200
    assert isinstance(raw["LastModified"], float) and raw["LastModified"] == int(
        raw["LastModified"]
    )
    assert not any(key.startswith("_") for key in raw)


def test_create_mapping_errors(lam: Any, function: str, stream_arn: str) -> None:
    first = lam.create_event_source_mapping(**esm_body(function, stream_arn))
    with pytest.raises(lam.exceptions.ResourceConflictException) as info:
        lam.create_event_source_mapping(**esm_body(function, stream_arn))
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409
    assert info.value.response["Error"]["Message"] == (
        f'The event source arn (" {stream_arn} ") and function (" {function} ") provided '
        f"mapping already exists. Please update or delete the existing mapping with UUID "
        f"{first['UUID']}"
    )
    missing = stream_arn.rsplit("/", 1)[0] + "/2000-01-01T00:00:00.000"
    error = error_of(lam.create_event_source_mapping, **esm_body(function, missing))
    assert error == {
        "Code": "InvalidParameterValueException",
        "Message": f"Stream not found: {missing}",
    }
    for pattern in ("single-string", '[{"eventName": ["INSERT"=123}]'):
        error = error_of(
            lam.create_event_source_mapping,
            **esm_body(function, stream_arn, FilterCriteria={"Filters": [{"Pattern": pattern}]}),
        )
        assert error == {
            "Code": "InvalidParameterValueException",
            "Message": "Invalid filter pattern definition.",
        }
    error = error_of(lam.create_event_source_mapping, **esm_body("no-such-fn", missing))
    assert error == {"Code": "InvalidParameterValueException", "Message": "Function does not exist"}
    error = error_of(
        lam.create_event_source_mapping, FunctionName=function, StartingPosition="LATEST"
    )
    assert error == {
        "Code": "InvalidParameterValueException",
        "Message": "Unrecognized event source.",
    }


def test_mapping_ranges(lam: Any, function: str, stream_arn: str, endpoint: str) -> None:
    def message(member: str, value: int, bound: str, limit: int) -> str:
        return (
            f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy "
            f"constraint: Member must have value {bound} than or equal to {limit}"
        )

    for member, value, limit in (
        ("BatchSize", 10001, 10000),
        ("ParallelizationFactor", 11, 10),
        ("MaximumRetryAttempts", 10001, 10000),
        ("MaximumRecordAgeInSeconds", 604801, 604800),
        ("TumblingWindowInSeconds", 901, 900),
    ):
        error = error_of(
            lam.create_event_source_mapping, **esm_body(function, stream_arn, **{member: value})
        )
        camel = member[0].lower() + member[1:]
        assert error == {
            "Code": "ValidationException",
            "Message": message(camel, value, "less", limit),
        }
    for member, value, limit in (
        ("BatchSize", 0, 1),
        ("ParallelizationFactor", 0, 1),
        ("MaximumRetryAttempts", -2, -1),
    ):
        with pytest.raises(ParamValidationError):
            lam.create_event_source_mapping(**esm_body(function, stream_arn, **{member: value}))
        status, headers, body = raw_lambda(
            endpoint,
            "POST",
            "/2015-03-31/event-source-mappings",
            esm_body(function, stream_arn, **{member: value}),
        )
        camel = member[0].lower() + member[1:]
        assert (status, headers["x-amzn-errortype"]) == (400, "ValidationException")
        assert body["message"] == message(camel, value, "greater", limit)
    for age in (0, 59):
        error = error_of(
            lam.create_event_source_mapping,
            **esm_body(function, stream_arn, MaximumRecordAgeInSeconds=age),
        )
        assert error["Code"] == "InvalidParameterValueException"
        assert "MaximumRecordAgeInSeconds" in error["Message"]
    error = error_of(
        lam.create_event_source_mapping,
        **esm_body(
            function,
            stream_arn,
            DestinationConfig={
                "OnSuccess": {"Destination": ("arn:aws:sqs:us-east-1:000000000000:q")}
            },
        ),
    )
    assert error == {
        "Code": "InvalidParameterValueException",
        "Message": "Unsupported DestinationConfig parameter for given event source mapping type.",
    }
    accepted = []
    for extra in (
        {"MaximumRecordAgeInSeconds": -1},
        {"MaximumRecordAgeInSeconds": 60},
        {"MaximumRecordAgeInSeconds": 604800},
        {"BatchSize": 10000},
    ):
        created = lam.create_event_source_mapping(**esm_body(function, stream_arn, **extra))
        key, value = next(iter(extra.items()))
        assert created[key] == value
        accepted.append(created["UUID"])
        lam.delete_event_source_mapping(UUID=created["UUID"])
    assert len(set(accepted)) == 4


def test_starting_position_errors(lam: Any, function: str, stream_arn: str) -> None:
    error = error_of(
        lam.create_event_source_mapping, FunctionName=function, EventSourceArn=stream_arn
    )
    assert error == {
        "Code": "InvalidParameterValueException",
        "Message": "1 validation error detected: Value null at 'startingPosition' failed to "
        "satisfy constraint: Member must not be null.",
    }
    error = error_of(
        lam.create_event_source_mapping, **esm_body(function, stream_arn, StartingPosition="0")
    )
    assert error == {
        "Code": "ValidationException",
        "Message": "1 validation error detected: Value '0' at 'startingPosition' failed to "
        "satisfy constraint: Member must satisfy enum value set: [LATEST, AT_TIMESTAMP, "
        "TRIM_HORIZON]",
    }
    error = error_of(
        lam.create_event_source_mapping,
        **esm_body(
            function, stream_arn, StartingPosition="AT_TIMESTAMP", StartingPositionTimestamp=1
        ),
    )
    assert error == {
        "Code": "InvalidParameterValueException",
        "Message": f"Unsupported starting position for arn type: {stream_arn}",
    }
    error = error_of(
        lam.create_event_source_mapping,
        **esm_body(function, stream_arn, StartingPositionTimestamp=1),
    )
    assert error["Message"] == "Timestamp only valid with StartingPosition AT_TIMESTAMP"


def test_large_batch_without_window_is_accepted(lam: Any, function: str, stream_arn: str) -> None:
    created = lam.create_event_source_mapping(
        **esm_body(function, stream_arn, BatchSize=100, MaximumBatchingWindowInSeconds=0)
    )
    assert (created["BatchSize"], created["MaximumBatchingWindowInSeconds"]) == (100, 0)
    lam.delete_event_source_mapping(UUID=created["UUID"])
    created = lam.create_event_source_mapping(**esm_body(function, stream_arn, BatchSize=1000))
    assert created["BatchSize"] == 1000


def test_mapping_settings_are_echoed(lam: Any, function: str, stream_arn: str) -> None:
    pattern = json.dumps({"eventName": ["INSERT"]})
    created = lam.create_event_source_mapping(
        **esm_body(
            function,
            stream_arn,
            BatchSize=7,
            MaximumBatchingWindowInSeconds=2,
            ParallelizationFactor=3,
            BisectBatchOnFunctionError=True,
            MaximumRetryAttempts=2,
            MaximumRecordAgeInSeconds=120,
            TumblingWindowInSeconds=30,
            FunctionResponseTypes=["ReportBatchItemFailures"],
            FilterCriteria={"Filters": [{"Pattern": pattern}]},
            DestinationConfig={
                "OnFailure": {"Destination": "arn:aws:sqs:us-east-1:000000000000:q"}
            },
            Enabled=False,
        )
    )
    assert created["State"] == "Creating"
    assert created["FilterCriteria"] == {"Filters": [{"Pattern": pattern}]}
    assert created["DestinationConfig"] == {"OnFailure": {"Destination": QUEUE}}
    assert (created["BatchSize"], created["ParallelizationFactor"]) == (7, 3)
    assert created["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    got = lam.get_event_source_mapping(UUID=created["UUID"])
    assert settled(got) == settled(created)
    error = error_of(
        lam.create_event_source_mapping,
        **esm_body(
            function + "x",
            stream_arn,
            FilterCriteria={"Filters": [{"Pattern": pattern}] * 6},
        ),
    )
    assert error["Code"] == "InvalidParameterValueException"


def test_unknown_uuid_is_404(lam: Any) -> None:
    unknown = str(uuid.uuid4())
    for call in (lam.get_event_source_mapping, lam.delete_event_source_mapping):
        with pytest.raises(lam.exceptions.ResourceNotFoundException) as info:
            call(UUID=unknown)
        response = info.value.response
        assert response["Error"]["Message"] == "The resource you requested does not exist."
        assert response["ResponseMetadata"]["HTTPStatusCode"] == 404
    error = error_of(lam.update_event_source_mapping, UUID=unknown, BatchSize=5)
    assert error == {
        "Code": "ResourceNotFoundException",
        "Message": "The resource you requested does not exist.",
    }


def test_mappings_survive_delete_function(lam: Any, function: str, stream_arn: str) -> None:
    created = lam.create_event_source_mapping(**esm_body(function, stream_arn))
    assert lam.delete_function(FunctionName=function)["ResponseMetadata"]["HTTPStatusCode"] == 204
    listed = lam.list_event_source_mappings(EventSourceArn=stream_arn)["EventSourceMappings"]
    assert [m["UUID"] for m in listed] == [created["UUID"]]
    assert lam.get_event_source_mapping(UUID=created["UUID"])["FunctionArn"].endswith(function)


def test_errors_are_modelled_exceptions(endpoint: str, lam: Any) -> None:
    status, headers, body = raw_lambda(endpoint, "GET", "/2015-03-31/functions/no-such-fn")
    assert status == 404
    assert headers["x-amzn-errortype"] == "ResourceNotFoundException"
    assert headers["content-type"] == "application/json"
    assert body == {
        "Type": "User",
        "Message": f"Function not found: arn:aws:lambda:us-east-1:{ACCOUNT}:function:no-such-fn",
    }
    status, headers, body = raw_lambda(
        endpoint, "POST", "/2015-03-31/event-source-mappings", {"FunctionName": "no-such-fn"}
    )
    assert (status, headers["x-amzn-errortype"]) == (400, "InvalidParameterValueException")
    assert body == {"Type": "User", "message": "Unrecognized event source."}
    with pytest.raises(lam.exceptions.InvalidParameterValueException):
        lam.create_event_source_mapping(FunctionName="no-such-fn", StartingPosition="LATEST")


# --------------------------------------------------------------------------- with a held backend


@pytest.fixture
def held() -> Iterator[Any]:
    """A server over a Backend the test holds, without the trigger supervisor: mapping
    states stay where the API put them until the test moves them (`set_state`), as the
    supervisor would."""
    from emulator.config import Config
    from emulator.runtime.backend import Backend

    backend = Backend.create(Config())

    async def no_supervisor() -> None:
        return None

    backend.triggers.run_forever = no_supervisor  # type: ignore[method-assign]
    with serve_backend(backend) as server:
        yield server


def held_mapping(server: Any, function: str, table: str) -> tuple[Any, str]:
    """A lambda client of `server` and a new mapping of `function` on a new table."""
    lam = make_client(server.url, "lambda")
    ddb = make_client(server.url)
    create_function(lam, function)
    ddb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )
    arn = ddb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    return lam, lam.create_event_source_mapping(**esm_body(function, arn))["UUID"]


def set_state(server: Any, mapping_uuid: str, state: str) -> None:
    """What the poller's supervisor does when a transition completes."""
    from emulator.triggers.mapping import MAPPING_KIND

    def apply() -> None:
        documents = server.backend.engine.documents
        stored = documents.get(MAPPING_KIND, "us-east-1", mapping_uuid)
        stored["State"] = state
        documents.put(MAPPING_KIND, "us-east-1", mapping_uuid, stored)

    server.call(apply)


def test_update_while_creating_is_in_use(held: Any) -> None:
    lam, mapping_uuid = held_mapping(held, "creating-fn", "creating-table")
    with pytest.raises(lam.exceptions.ResourceInUseException) as info:
        lam.update_event_source_mapping(UUID=mapping_uuid, BatchSize=5)
    response = info.value.response
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert response["Error"]["Message"] == (
        "Cannot update the event source mapping because it is in use."
    )
    deleted = lam.delete_event_source_mapping(UUID=mapping_uuid)
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert deleted["State"] == "Deleting"
    assert lam.get_event_source_mapping(UUID=mapping_uuid)["State"] == "Deleting"
    with pytest.raises(lam.exceptions.ResourceInUseException):
        lam.update_event_source_mapping(UUID=mapping_uuid, BatchSize=5)


def test_update_states(held: Any) -> None:
    lam, mapping_uuid = held_mapping(held, "state-fn", "state-table")
    set_state(held, mapping_uuid, "Enabled")
    disabled = lam.update_event_source_mapping(UUID=mapping_uuid, Enabled=False)
    assert disabled["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert disabled["State"] == "Disabling"
    assert disabled["StateTransitionReason"] == "User action"
    assert disabled["LastProcessingResult"] == "No records processed"
    set_state(held, mapping_uuid, "Disabled")
    assert lam.update_event_source_mapping(UUID=mapping_uuid, BatchSize=9)["State"] == "Updating"
    with pytest.raises(lam.exceptions.ResourceInUseException):
        lam.delete_event_source_mapping(UUID=mapping_uuid)
    set_state(held, mapping_uuid, "Disabled")
    enabled = lam.update_event_source_mapping(UUID=mapping_uuid, Enabled=True, BatchSize=11)
    assert (enabled["State"], enabled["BatchSize"]) == ("Enabling", 11)

    from emulator.triggers.mapping import MAPPING_KIND, EventSourceMapping

    stored = held.call(
        lambda: held.backend.engine.documents.get(MAPPING_KIND, "us-east-1", mapping_uuid)
    )
    mapping = EventSourceMapping.from_description("us-east-1", stored)
    assert (mapping.state, mapping.desired_state, mapping.batch_size) == ("Enabling", "Enabled", 11)
    set_state(held, mapping_uuid, "Enabled")
    updated = lam.update_event_source_mapping(
        UUID=mapping_uuid,
        FilterCriteria={"Filters": [{"Pattern": '{"eventName": ["REMOVE"]}'}]},
        DestinationConfig={"OnFailure": {"Destination": "arn:aws:sns:us-east-1:000000000000:t"}},
    )
    assert updated["State"] == "Updating"
    assert updated["FilterCriteria"] == {"Filters": [{"Pattern": '{"eventName": ["REMOVE"]}'}]}
    set_state(held, mapping_uuid, "Enabled")
    cleared = lam.update_event_source_mapping(
        UUID=mapping_uuid, FilterCriteria={}, DestinationConfig={"OnFailure": {}}
    )
    assert "FilterCriteria" not in cleared
    assert cleared["DestinationConfig"] == {"OnFailure": {}}
    set_state(held, mapping_uuid, "Enabled")
    assert lam.delete_event_source_mapping(UUID=mapping_uuid)["State"] == "Deleting"


def test_latest_is_anchored_and_the_poller_is_signalled(held: Any) -> None:
    from emulator.streams.reader import CheckpointedReader
    from emulator.triggers.mapping import MAPPINGS_TOPIC, checkpoint_consumer

    lam = make_client(held.url, "lambda")
    ddb = make_client(held.url)
    create_function(lam, "anchor-fn")
    ddb.create_table(
        TableName="anchor-table",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )
    arn = ddb.describe_table(TableName="anchor-table")["Table"]["LatestStreamArn"]
    ddb.put_item(TableName="anchor-table", Item={"pk": {"S": "before"}})

    signalled = held.run(_wait_for_signal(held.backend, MAPPINGS_TOPIC, lam, arn))
    assert signalled

    def positions() -> tuple[int, int]:
        """Records each mapping's reader would hand out now: (LATEST one, TRIM_HORIZON one)."""
        backend = held.backend
        stream = backend.streams.stream_by_arn(arn)
        counts = []
        for mapping_uuid in _two(backend):
            reader = CheckpointedReader(
                backend.engine, backend.streams, checkpoint_consumer(mapping_uuid), stream.stream_id
            )
            counts.append(sum(len(reader.read(s, 100).records) for s in reader.ready_shards()))
        return counts[0], counts[1]

    assert held.call(positions) == (0, 1)
    ddb.put_item(TableName="anchor-table", Item={"pk": {"S": "after"}})
    assert held.call(positions) == (1, 2)


def _two(backend: Any) -> tuple[str, str]:
    """The UUIDs of the LATEST and the TRIM_HORIZON mapping."""
    from emulator.triggers.mapping import MAPPING_KIND

    rows = [row[2] for row in backend.engine.documents.list(MAPPING_KIND, "us-east-1")]
    latest = next(r["UUID"] for r in rows if r["StartingPosition"] == "LATEST")
    horizon = next(r["UUID"] for r in rows if r["StartingPosition"] == "TRIM_HORIZON")
    return latest, horizon


async def _wait_for_signal(backend: Any, topic: Any, lam: Any, arn: str) -> bool:
    """Wait on the mappings topic while two mappings are created from another thread."""
    import asyncio

    loop = asyncio.get_running_loop()
    waiter = asyncio.ensure_future(backend.signals.wait([topic], 10))
    await asyncio.sleep(0)

    def create_both() -> None:
        create_function(lam, "anchor-fn-2")
        lam.create_event_source_mapping(
            FunctionName="anchor-fn", EventSourceArn=arn, StartingPosition="LATEST"
        )
        lam.create_event_source_mapping(
            FunctionName="anchor-fn-2", EventSourceArn=arn, StartingPosition="TRIM_HORIZON"
        )

    started = loop.time()
    await loop.run_in_executor(None, create_both)
    await waiter
    return loop.time() - started < 9


# --------------------------------------------------------------------------- listing


def test_list_mappings_filters_and_pages() -> None:
    server = start_server()
    try:
        _check_listing(server)
    finally:
        server.stop()


def _check_listing(server: RunningServer) -> None:
    lam = make_client(server.url, "lambda")
    ddb = make_client(server.url)
    arns = []
    for table in ("list-a", "list-b"):
        ddb.create_table(
            TableName=table,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"},
        )
        arns.append(ddb.describe_table(TableName=table)["Table"]["LatestStreamArn"])
    uuids = []
    for i in range(105):
        create_function(lam, f"list-fn-{i:03d}")
        uuids.append(
            lam.create_event_source_mapping(**esm_body(f"list-fn-{i:03d}", arns[0]))["UUID"]
        )
    other = lam.create_event_source_mapping(**esm_body("list-fn-000", arns[1]))["UUID"]

    first = lam.list_event_source_mappings(EventSourceArn=arns[0], MaxItems=1000)
    assert len(first["EventSourceMappings"]) == 100
    second = lam.list_event_source_mappings(EventSourceArn=arns[0], Marker=first["NextMarker"])
    assert "NextMarker" not in second
    seen = [m["UUID"] for m in first["EventSourceMappings"] + second["EventSourceMappings"]]
    assert sorted(seen) == sorted(uuids)
    everything = [
        m["UUID"]
        for page in lam.get_paginator("list_event_source_mappings").paginate()
        for m in page["EventSourceMappings"]
    ]
    assert sorted(everything) == sorted([*uuids, other])

    by_function = lam.list_event_source_mappings(FunctionName="list-fn-000")
    assert sorted(m["UUID"] for m in by_function["EventSourceMappings"]) == sorted(
        [uuids[0], other]
    )
    by_arn = lam.list_event_source_mappings(
        FunctionName=f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:list-fn-001"
    )
    assert [m["UUID"] for m in by_arn["EventSourceMappings"]] == [uuids[1]]
    both = lam.list_event_source_mappings(FunctionName="list-fn-000", EventSourceArn=arns[1])
    assert [m["UUID"] for m in both["EventSourceMappings"]] == [other]
    assert lam.list_event_source_mappings(FunctionName="no-such-fn")["EventSourceMappings"] == []
    foreign = arns[0].replace("us-east-1", "eu-west-1")
    assert lam.list_event_source_mappings(EventSourceArn=foreign)["EventSourceMappings"] == []
    small = lam.list_event_source_mappings(EventSourceArn=arns[0], MaxItems=3)
    assert len(small["EventSourceMappings"]) == 3 and "NextMarker" in small


# --------------------------------------------------------------------------- persistence


def test_functions_and_mappings_persist(tmp_path: Path) -> None:
    data_dir = str(tmp_path / "data")
    server = start_server("--data-dir", data_dir)
    try:
        lam = make_client(server.url, "lambda")
        ddb = make_client(server.url)
        create_function(lam, "kept-fn", Environment={"Variables": {"KK": "v"}})
        ddb.create_table(
            TableName="kept-table",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"},
        )
        arn = ddb.describe_table(TableName="kept-table")["Table"]["LatestStreamArn"]
        mapping = lam.create_event_source_mapping(**esm_body("kept-fn", arn))
        before = lam.get_function(FunctionName="kept-fn")["Configuration"]
    finally:
        server.stop()
    server = start_server("--data-dir", data_dir)
    try:
        lam = make_client(server.url, "lambda")
        after = lam.get_function(FunctionName="kept-fn")
        assert after["Configuration"] == before
        with urllib.request.urlopen(after["Code"]["Location"], timeout=10) as response:
            assert response.read() == CODE
        got = lam.get_event_source_mapping(UUID=mapping["UUID"])
        assert settled(got) == settled(mapping)
    finally:
        server.stop()


def test_error_text_is_never_a_500(endpoint: str) -> None:
    """A sweep of malformed requests on every route: each gets a 4xx."""
    paths = [
        ("GET", "/2015-03-31/functions/bad%20name!"),
        ("GET", "/2015-03-31/functions/" + "x" * 300),
        ("GET", "/2015-03-31/event-source-mappings/short"),
        ("PUT", "/2015-03-31/event-source-mappings/short"),
        ("POST", "/2015-03-31/functions/x/invocations?Qualifier=%20"),
        ("GET", "/2015-03-31/event-source-mappings?MaxItems=0"),
        ("GET", "/2015-03-31/event-source-mappings?Marker=%%%"),
        ("PUT", "/2015-03-31/functions/x/configuration"),
        ("PUT", "/2015-03-31/functions/x/code"),
    ]
    for method, path in paths:
        status, _, body = raw_lambda(endpoint, method, path, b"{}")
        assert 400 <= status < 500, (method, path, status, body)
        assert body["Type"] == "User"


# --------------------------------------------------------------------------- Invoke


def _echo(event: Any, context: Any) -> Any:
    import logging

    logging.getLogger("handler").warning("echo %s", context.function_name)
    custom = context.client_context.custom if context.client_context else None
    return {"event": event, "request_id": context.aws_request_id, "custom": custom}


def _boom(event: Any, context: Any) -> Any:
    raise ValueError("no good")


@pytest.fixture(scope="module")
def with_callables() -> Iterator[tuple[str, dict[str, Any]]]:
    import threading

    import emulator

    seen: dict[str, Any] = {"events": [], "event": threading.Event()}

    def record(event: Any, context: Any) -> None:
        seen["events"].append(event)
        seen["event"].set()

    functions = {"cb-echo": _echo, "cb-boom": _boom, "cb-record": record}
    with emulator.serve(functions=functions) as url:
        yield url, seen


def test_invoke_a_callable(with_callables: tuple[str, dict[str, Any]]) -> None:
    url, _ = with_callables
    lam = make_client(url, "lambda")
    context = base64.b64encode(json.dumps({"custom": {"k": "v"}}).encode()).decode()
    answer = lam.invoke(
        FunctionName="cb-echo", Payload=b'{"a": 1}', LogType="Tail", ClientContext=context
    )
    assert answer["StatusCode"] == 200
    assert answer["ExecutedVersion"] == "$LATEST"
    assert "FunctionError" not in answer
    body = json.loads(answer["Payload"].read())
    request_id = answer["ResponseMetadata"]["RequestId"]
    assert body == {"event": {"a": 1}, "request_id": request_id, "custom": {"k": "v"}}
    log = base64.b64decode(answer["LogResult"]).decode()
    assert log.startswith(f"START RequestId: {request_id} Version: $LATEST\n")
    assert "echo cb-echo" in log
    assert f"END RequestId: {request_id}\n" in log and "REPORT RequestId" in log
    empty = lam.invoke(FunctionName="cb-echo")
    assert json.loads(empty["Payload"].read())["event"] == {}


def test_invoke_a_failing_callable(with_callables: tuple[str, dict[str, Any]]) -> None:
    url, _ = with_callables
    lam = make_client(url, "lambda")
    answer = lam.invoke(FunctionName="cb-boom", Payload=b"{}")
    assert (answer["StatusCode"], answer["FunctionError"]) == (200, "Unhandled")
    document = json.loads(answer["Payload"].read())
    assert (document["errorType"], document["errorMessage"]) == ("ValueError", "no good")


def test_event_invocation_runs_in_the_background(
    with_callables: tuple[str, dict[str, Any]],
) -> None:
    url, seen = with_callables
    lam = make_client(url, "lambda")
    answer = lam.invoke(FunctionName="cb-record", InvocationType="Event", Payload=b'{"n": 7}')
    assert answer["StatusCode"] == 202
    assert answer["Payload"].read() == b""
    assert seen["event"].wait(10)
    assert seen["events"] == [{"n": 7}]


def test_callables_are_functions_of_the_api(with_callables: tuple[str, dict[str, Any]]) -> None:
    url, _ = with_callables
    lam = make_client(url, "lambda", region="ap-south-1")
    configuration = lam.get_function(FunctionName="cb-echo")["Configuration"]
    assert configuration["FunctionArn"] == (f"arn:aws:lambda:ap-south-1:{ACCOUNT}:function:cb-echo")
    assert (configuration["State"], configuration["LastUpdateStatus"]) == ("Active", "Successful")
    listed = [f["FunctionName"] for f in lam.list_functions()["Functions"]]
    assert {"cb-echo", "cb-boom", "cb-record"} <= set(listed)
    ddb = make_client(url, region="ap-south-1")
    ddb.create_table(
        TableName="callable-table",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )
    arn = ddb.describe_table(TableName="callable-table")["Table"]["LatestStreamArn"]
    created = lam.create_event_source_mapping(**esm_body("cb-echo", arn))
    assert created["FunctionArn"] == configuration["FunctionArn"]
    error = error_of(lam.delete_function, FunctionName="cb-echo")
    assert error["Code"] == "ResourceConflictException"


def test_invoke_a_python_zip(lam: Any, fn_name: str) -> None:
    code = zip_of(
        {
            "app/main.py": (
                "import os\n"
                "def handler(event, context):\n"
                "    print('hello from', context.function_name)\n"
                "    if event.get('fail'):\n"
                "        raise RuntimeError('asked to fail')\n"
                "    return {'greeting': os.environ['GREETING'], 'event': event}\n"
            )
        }
    )
    create_function(
        lam,
        fn_name,
        Handler="app/main.handler",
        Code={"ZipFile": code},
        Environment={"Variables": {"GREETING": "hi"}},
    )
    answer = lam.invoke(FunctionName=fn_name, Payload=b'{"x": [1, 2]}', LogType="Tail")
    assert answer["StatusCode"] == 200
    assert json.loads(answer["Payload"].read()) == {"greeting": "hi", "event": {"x": [1, 2]}}
    assert f"hello from {fn_name}" in base64.b64decode(answer["LogResult"]).decode()
    failed = lam.invoke(FunctionName=fn_name, Payload=b'{"fail": true}')
    assert failed["FunctionError"] == "Unhandled"
    document = json.loads(failed["Payload"].read())
    assert (document["errorType"], document["errorMessage"]) == ("RuntimeError", "asked to fail")
    lam.update_function_configuration(
        FunctionName=fn_name, Environment={"Variables": {"GREETING": "hello"}}
    )
    again = lam.invoke(FunctionName=fn_name, Payload=b"{}")
    assert json.loads(again["Payload"].read())["greeting"] == "hello"
    lam.delete_function(FunctionName=fn_name)
    assert error_of(lam.invoke, FunctionName=fn_name)["Code"] == "ResourceNotFoundException"


def test_service_errors_and_throttles() -> None:
    """A function behind an unreachable endpoint is a 500 ServiceException, one whose
    endpoint throttles a 429 TooManyRequestsException."""
    import socket
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    import emulator

    class Throttling(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            body = b'{"Type":"User","message":"Rate Exceeded."}'
            self.send_response(429)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    throttler = ThreadingHTTPServer(("127.0.0.1", 0), Throttling)
    thread = threading.Thread(target=throttler.serve_forever, daemon=True)
    thread.start()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    functions = {
        "down": f"http://127.0.0.1:{closed_port}",
        "busy": f"http://127.0.0.1:{throttler.server_address[1]}",
    }
    try:
        with emulator.serve(functions=functions) as url:
            lam = make_client(url, "lambda")
            with pytest.raises(lam.exceptions.ServiceException) as info:
                lam.invoke(FunctionName="down", Payload=b"{}")
            response = info.value.response
            assert response["ResponseMetadata"]["HTTPStatusCode"] == 500
            assert response["Type"] == "Service"
            assert "unreachable" in response["Error"]["Message"]
            with pytest.raises(lam.exceptions.TooManyRequestsException) as throttled:
                lam.invoke(FunctionName="busy", Payload=b"{}")
            response = throttled.value.response
            assert response["ResponseMetadata"]["HTTPStatusCode"] == 429
            assert response["Reason"] == "ConcurrentInvocationLimitExceeded"
    finally:
        throttler.shutdown()
        throttler.server_close()


def test_the_invoke_api_is_an_endpoint_for_another_emulator(
    with_callables: tuple[str, dict[str, Any]],
) -> None:
    """`--function NAME=URL` pointed at an emulator: its Invoke API is the target."""
    url, _ = with_callables
    server = start_server("--function", f"cb-echo={url}", "--function", f"cb-boom={url}")
    try:
        lam = make_client(server.url, "lambda")
        answer = lam.invoke(FunctionName="cb-echo", Payload=b'{"via": "http"}')
        assert json.loads(answer["Payload"].read())["event"] == {"via": "http"}
        failed = lam.invoke(FunctionName="cb-boom", Payload=b"{}")
        assert failed["FunctionError"] == "Unhandled"
        assert json.loads(failed["Payload"].read())["errorType"] == "ValueError"
    finally:
        server.stop()
