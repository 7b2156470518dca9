"""Issue 12, defect 8: `--auth sigv4` verifies Signature Version 4 (header and query
string forms) against `--credentials`, with AWS's error codes. botocore's signer makes
the signatures here; the server's verification is its own (emulator/auth.py)."""

from __future__ import annotations

import datetime
import json
import os
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any
from unittest import mock

import boto3
import botocore.auth
import pytest
from botocore import UNSIGNED
from botocore.awsrequest import AWSRequest
from botocore.config import Config as BotoConfig
from botocore.credentials import Credentials
from botocore.exceptions import ClientError
from conftest import ROOT, RunningServer, start_server

from emulator.auth import SigV4Verifier, canonical_uri

DOC_KEY = "AKIDEXAMPLE"
DOC_SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
TARGET = "DynamoDB_20120810.ListTables"


@pytest.fixture(scope="module")
def strict() -> Iterator[RunningServer]:
    running = start_server("--auth", "sigv4", "--credentials", f"{DOC_KEY}:{DOC_SECRET},test:test")
    try:
        yield running
    finally:
        running.stop()


def client(url: str, key: str = "test", secret: str = "test", **config: Any) -> Any:
    return boto3.client(
        "dynamodb",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        config=BotoConfig(retries={"max_attempts": 1}, **config),
    )


def error(call: Any, **kwargs: Any) -> dict[str, str]:
    with pytest.raises(ClientError) as info:
        call(**kwargs)
    found: dict[str, str] = info.value.response["Error"]
    return found


def signed(
    url: str,
    body: bytes = b"{}",
    *,
    key: str = "test",
    secret: str = "test",
    service: str = "dynamodb",
    region: str = "us-east-1",
    when: datetime.datetime | None = None,
    query: bool = False,
    expires: int = 300,
    path: str = "/",
) -> AWSRequest:
    """A request botocore signs (header form, or presigned with `query`)."""
    request = AWSRequest(
        method="POST",
        url=url + path,
        data=body,
        headers={"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": TARGET},
    )
    credentials = Credentials(key, secret)
    signer: botocore.auth.SigV4Auth
    if query:
        signer = _BodyKeepingQueryAuth(credentials, service, region, expires=expires)
    else:
        signer = botocore.auth.SigV4Auth(credentials, service, region)
    moment = when or datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
    with mock.patch.object(botocore.auth, "get_current_datetime", return_value=moment):
        signer.add_auth(request)
    return request


class _BodyKeepingQueryAuth(botocore.auth.SigV4QueryAuth):
    """Presigning that leaves a JSON body in the body (botocore's moves it into the query
    string, as the query protocol would); the body's hash is signed as for any request."""

    def _modify_request_before_signing(self, request: AWSRequest) -> None:
        data, request.data = request.data, b""
        super()._modify_request_before_signing(request)
        request.data = data


def send(request: AWSRequest, **change: Any) -> tuple[int, dict[str, Any]]:
    prepared = request.prepare()
    headers = dict(prepared.headers)
    headers.update(change.get("headers", {}))
    raw = urllib.request.Request(
        prepared.url, data=change.get("body", prepared.body), method="POST", headers=headers
    )
    try:
        with urllib.request.urlopen(raw, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as failure:
        return failure.code, json.loads(failure.read())


def code_of(answer: dict[str, Any]) -> str:
    return str(answer["__type"]).rpartition("#")[2]


# -- the header form -----------------------------------------------------------------


def test_signed_clients_work(strict: RunningServer) -> None:
    assert "TableNames" in client(strict.url).list_tables()
    assert "TableNames" in client(strict.url, DOC_KEY, DOC_SECRET).list_tables()
    streams = boto3.client(
        "dynamodbstreams",
        endpoint_url=strict.url,
        region_name="eu-west-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    assert streams.list_streams()["Streams"] == []


def test_the_signed_region_selects_the_namespace(strict: RunningServer) -> None:
    west = boto3.client(
        "dynamodb",
        endpoint_url=strict.url,
        region_name="eu-west-3",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    west.create_table(
        TableName="west-only",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    assert "west-only" in west.list_tables()["TableNames"]
    assert "west-only" not in client(strict.url).list_tables()["TableNames"]


def test_unsigned_requests_are_refused(strict: RunningServer) -> None:
    found = error(client(strict.url, signature_version=UNSIGNED).list_tables)
    assert found == {
        "Code": "MissingAuthenticationTokenException",
        "Message": "Request is missing Authentication Token",
    }


def test_an_unknown_access_key(strict: RunningServer) -> None:
    found = error(client(strict.url, "AKIDUNKNOWN", "whatever").list_tables)
    assert found == {
        "Code": "UnrecognizedClientException",
        "Message": "The security token included in the request is invalid.",
    }


def test_a_wrong_secret(strict: RunningServer) -> None:
    found = error(client(strict.url, "test", "not-the-secret").list_tables)
    assert found["Code"] == "InvalidSignatureException"
    assert found["Message"].startswith(
        "The request signature we calculated does not match the signature you provided."
    )


@pytest.mark.parametrize(
    "change",
    [
        {"body": b'{"Limit": 5}'},  # the body after signing
        {"headers": {"X-Amz-Target": "DynamoDB_20120810.DeleteTable"}},  # a signed header
    ],
    ids=["body", "signed-header"],
)
def test_tampering_breaks_the_signature(strict: RunningServer, change: dict[str, Any]) -> None:
    status, answer = send(signed(strict.url), **change)
    assert (status, code_of(answer)) == (400, "InvalidSignatureException")


def test_an_unsigned_header_may_change(strict: RunningServer) -> None:
    status, answer = send(signed(strict.url), headers={"User-Agent": "changed"})
    assert status == 200 and "TableNames" in answer


def test_request_age(strict: RunningServer) -> None:
    now = datetime.datetime.now(datetime.UTC).replace(tzinfo=None, microsecond=0)
    status, answer = send(signed(strict.url, when=now - datetime.timedelta(minutes=3)))
    assert status == 200
    old = now - datetime.timedelta(minutes=6)
    status, answer = send(signed(strict.url, when=old))
    assert (status, code_of(answer)) == (400, "InvalidSignatureException")
    assert answer["message"].startswith(
        f"Signature expired: {old.strftime('%Y%m%dT%H%M%SZ')} is now earlier than "
    )
    assert answer["message"].endswith(" - 5 min.)")
    future = now + datetime.timedelta(minutes=6)
    status, answer = send(signed(strict.url, when=future))
    assert (status, code_of(answer)) == (400, "InvalidSignatureException")
    assert answer["message"].startswith(
        f"Signature not yet current: {future.strftime('%Y%m%dT%H%M%SZ')} is still later than "
    )


def test_the_credential_scope_is_checked(strict: RunningServer) -> None:
    status, answer = send(signed(strict.url, service="kinesis"))
    assert (status, answer) == (
        400,
        {
            "__type": "com.amazon.coral.service#InvalidSignatureException",
            "message": "Credential should be scoped to correct service: 'dynamodb'.",
        },
    )


@pytest.mark.parametrize(
    ("authorization", "expected"),
    [
        (
            "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/dynamodb/aws4_request",
            "Authorization header requires 'Signature' parameter. Authorization header "
            "requires 'SignedHeaders' parameter.",
        ),
        ("AWS4-HMAC-SHA256 garbage", "'garbage' not a valid key=value pair"),
        ("Bearer abc", "Unsupported AWS 'algorithm': 'Bearer'"),
    ],
)
def test_incomplete_authorization(strict: RunningServer, authorization: str, expected: str) -> None:
    status, answer = send(signed(strict.url), headers={"Authorization": authorization})
    assert (status, code_of(answer)) == (400, "IncompleteSignatureException")
    assert answer["message"].startswith(expected), answer


# -- the query-string form (presigned URL) ---------------------------------------------


def test_presigned_requests_work(strict: RunningServer) -> None:
    request = signed(strict.url, query=True)
    assert "X-Amz-Signature=" in request.url and "Authorization" not in request.headers
    status, answer = send(request)
    assert status == 200 and "TableNames" in answer
    status, answer = send(signed(strict.url, query=True, key=DOC_KEY, secret=DOC_SECRET))
    assert status == 200


def test_presigned_expiry(strict: RunningServer) -> None:
    past = datetime.datetime.now(datetime.UTC).replace(tzinfo=None) - datetime.timedelta(hours=2)
    status, answer = send(signed(strict.url, query=True, when=past, expires=3600))
    assert (status, code_of(answer)) == (400, "InvalidSignatureException")
    assert answer["message"].startswith("Signature expired: ")
    status, _ = send(signed(strict.url, query=True, when=past, expires=3 * 3600))
    assert status == 200  # still inside its X-Amz-Expires


def test_presigned_tampering_and_missing_parts(strict: RunningServer) -> None:
    request = signed(strict.url, query=True)
    status, answer = send(request, body=b'{"Limit": 1}')
    assert (status, code_of(answer)) == (400, "InvalidSignatureException")
    request.url = request.url.replace("X-Amz-Expires=300", "X-Amz-Expires=301")
    status, answer = send(request)
    assert (status, code_of(answer)) == (400, "InvalidSignatureException")
    request.url = request.url.partition("&X-Amz-Signature=")[0]
    status, answer = send(request)
    assert (status, answer) == (
        400,
        {
            "__type": "com.amazon.coral.service#IncompleteSignatureException",
            "message": "AWS query-string parameters must include 'X-Amz-Signature'. "
            "Re-examine the query-string parameters.",
        },
    )


# -- the other APIs on the port ----------------------------------------------------------


def _other(service: str, url: str, **kwargs: Any) -> Any:
    return boto3.client(
        service,
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=kwargs.pop("key", "test"),
        aws_secret_access_key=kwargs.pop("secret", "test"),
        config=BotoConfig(retries={"max_attempts": 1}, **kwargs),
    )


def test_the_lambda_api_is_verified_as_service_lambda(strict: RunningServer) -> None:
    assert "Functions" in _other("lambda", strict.url).list_functions()
    unsigned = error(_other("lambda", strict.url, signature_version=UNSIGNED).list_functions)
    assert unsigned["Code"] == "MissingAuthenticationTokenException"
    wrong = error(_other("lambda", strict.url, secret="wrong").list_functions)
    assert wrong["Code"] == "InvalidSignatureException"


def test_the_kinesis_api_is_verified_as_service_kinesis(strict: RunningServer) -> None:
    assert "StreamNames" in _other("kinesis", strict.url).list_streams()
    wrong = error(_other("kinesis", strict.url, key="AKIDUNKNOWN").list_streams)
    assert wrong["Code"] == "UnrecognizedClientException"


# -- defaults, other clients, the algorithm on paths and queries ------------------------


def test_default_credentials_are_the_test_pair() -> None:
    running = start_server("--auth", "sigv4")
    try:
        assert "TableNames" in client(running.url).list_tables()
        assert error(client(running.url, DOC_KEY, DOC_SECRET).list_tables)["Code"] == (
            "UnrecognizedClientException"
        )
    finally:
        running.stop()


def test_the_aws_cli_signs_and_is_verified(strict: RunningServer) -> None:
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": DOC_KEY,
        "AWS_SECRET_ACCESS_KEY": DOC_SECRET,
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    aws = str(ROOT / ".venv" / "bin" / "aws")
    ok = subprocess.run(
        [aws, "dynamodb", "list-tables", "--endpoint-url", strict.url],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert ok.returncode == 0, ok.stderr
    env["AWS_SECRET_ACCESS_KEY"] = "wrong"
    refused = subprocess.run(
        [aws, "dynamodb", "list-tables", "--endpoint-url", strict.url],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert refused.returncode != 0 and "InvalidSignatureException" in refused.stderr


def test_bad_credentials_flags() -> None:
    import sys

    for bad in ("nocolon", ":secret", "key:", ","):
        result = subprocess.run(
            [sys.executable, "-m", "emulator", "--auth", "sigv4", "--credentials", bad],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=30,
        )
        assert result.returncode == 2, bad
        assert "--credentials" in result.stderr.splitlines()[-1]


@pytest.mark.parametrize(
    ("path", "service"),
    [
        ("/2015-03-31/functions/my-function/invocations", "lambda"),
        (
            "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A0%3Afunction%3Af/invocations",
            "lambda",
        ),
        ("/a/./b/../c//d?Qualifier=%24LATEST&b=two%20words&a=1&a=0&empty=", "lambda"),
        ("/?X-Amz-Target=x", "dynamodb"),
    ],
)
def test_the_algorithm_matches_botocore_on_paths_and_queries(path: str, service: str) -> None:
    """Paths and query strings DynamoDB never uses, but REST APIs served on the same port
    do: the verifier must agree with botocore's signer on every part of the canonical
    request (the header and the query-string forms)."""
    verifier = SigV4Verifier({"test": "test"})
    for query in (False, True):
        request = signed(
            "http://127.0.0.1:8000", b'{"x": 1}', service=service, query=query, path=path
        )
        prepared = request.prepare()
        url = prepared.url.partition("//")[2].partition("/")[2]
        raw_path, _, query_string = ("/" + url).partition("?")
        headers = [
            (name.lower().encode(), str(value).encode()) for name, value in prepared.headers.items()
        ]
        if not any(name == b"host" for name, _ in headers):
            headers.append((b"host", b"127.0.0.1:8000"))
        refused, region = verifier.verify(
            "POST", raw_path.encode(), query_string.encode(), headers, prepared.body, service
        )
        assert refused is None, (path, query, refused and refused.message)
        assert region == "us-east-1"


def test_canonical_uri() -> None:
    assert canonical_uri("/") == "/"
    assert canonical_uri("/a/./b/../c") == "/a/c"
    assert canonical_uri("/a%3Ab/") == "/a%253Ab/"
    assert canonical_uri("/..") == "/"
