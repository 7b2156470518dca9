"""Issue 12, defect 6: the admin API (`/_emulator/...`) cannot be driven by a web page.

A cross-site form or `text/plain` POST needs no CORS preflight, so admin POSTs must say
`Content-Type: application/json`; DNS rebinding makes an attacker's name resolve to the
emulator, so the Host header must name the emulator; `--admin off` removes the admin API
(the health probe stays) and `--admin-token` requires a bearer token.
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from conftest import RunningServer, make_client, start_server


def request(
    url: str,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], Any]:
    """A raw request whose Host and Content-Type are exactly what the test says."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30)
    try:
        connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        sent = {"Host": parts.netloc, **(headers or {})}
        for name, value in sent.items():
            if value is not None:
                connection.putheader(name, value)
        if body is not None:
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        response = connection.getresponse()
        payload = response.read()
        json_body = "json" in (response.getheader("Content-Type") or "")
        answer = json.loads(payload) if payload and json_body else payload or None
        return response.status, {k.lower(): v for k, v in response.getheaders()}, answer
    finally:
        connection.close()


JSON = {"Content-Type": "application/json"}


def create_table(url: str, name: str) -> Any:
    ddb = make_client(url)
    ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return ddb


@pytest.fixture(scope="module")
def guarded() -> Iterator[RunningServer]:
    running = start_server()
    try:
        yield running
    finally:
        running.stop()


@pytest.mark.parametrize(
    "content_type",
    [
        None,  # fetch(url, {method: "POST", mode: "no-cors"})
        "application/x-www-form-urlencoded",  # an HTML form
        "multipart/form-data; boundary=x",
        "text/plain",  # fetch with a string body
        "application/jsonx",
    ],
)
def test_cross_site_posts_are_refused(guarded: RunningServer, content_type: str | None) -> None:
    ddb = create_table(guarded.url, f"kept-{abs(hash(content_type))}")
    for path in ("/_emulator/reset", "/_emulator/clock", "/_emulator/ttl/sweep"):
        status, _, answer = request(
            guarded.url, "POST", path, b'{"advance": 86400}', {"Content-Type": content_type}
        )
        assert (status, answer) == (
            415,
            {"error": "admin requests need 'Content-Type: application/json'"},
        ), path
    assert f"kept-{abs(hash(content_type))}" in ddb.list_tables()["TableNames"]
    status, _, clock = request(guarded.url, "GET", "/_emulator/clock")
    assert (status, clock["mode"]) == (200, "real")


def test_json_posts_work(guarded: RunningServer) -> None:
    for content_type in ("application/json", "application/json; charset=utf-8", "Application/JSON"):
        status, _, answer = request(
            guarded.url,
            "POST",
            "/_emulator/clock",
            b'{"mode": "real"}',
            {"Content-Type": content_type},
        )
        assert status == 200 and answer["mode"] == "real", content_type
    assert request(guarded.url, "POST", "/_emulator/ttl/sweep", b"", JSON)[0] == 200


@pytest.mark.parametrize(
    "host",
    ["evil.example.com", "evil.example.com:8000", "127.0.0.1.nip.io", "localhost.evil.com"],
)
def test_foreign_host_names_are_refused(guarded: RunningServer, host: str) -> None:
    """A DNS-rebound page talks to the emulator under the attacker's own name."""
    name = host.partition(":")[0]
    for method, path, body in (
        ("POST", "/_emulator/reset", b"{}"),
        ("GET", "/_emulator/clock", None),
        ("POST", "/_emulator/streams/rollover", b"{}"),
    ):
        status, _, answer = request(guarded.url, method, path, body, {**JSON, "Host": host})
        assert (status, answer) == (
            403,
            {
                "error": f"Host {name!r} is not allowed to use the admin API; "
                "allow it with --admin-hosts"
            },
        ), (method, path)


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1:8000",
        "localhost:8000",
        "LOCALHOST",
        "localhost.:8000",
        "[::1]:8000",
        "10.1.2.3",
        "emulator:8000",  # a compose service
        "ddb.localhost",
        "host.docker.internal:8000",
        "ddb.default.svc.cluster.local",
    ],
)
def test_the_emulators_own_names_are_allowed(guarded: RunningServer, host: str) -> None:
    status, _, answer = request(guarded.url, "GET", "/_emulator/clock", None, {"Host": host})
    assert status == 200, answer


def test_health_and_aws_calls_are_not_guarded(guarded: RunningServer) -> None:
    evil = {"Host": "evil.example.com"}
    assert request(guarded.url, "GET", "/_emulator/health", None, evil)[0] == 200
    assert request(guarded.url, "GET", "/", None, evil)[0] == 200
    status, _, answer = request(
        guarded.url,
        "POST",
        "/",
        b"{}",
        {
            **evil,
            "Content-Type": "application/x-amz-json-1.0",
            "X-Amz-Target": "DynamoDB_20120810.ListTables",
        },
    )
    assert status == 200 and "TableNames" in answer


def test_admin_off() -> None:
    running = start_server("--admin", "off")
    try:
        create_table(running.url, "kept")
        for method, path in (
            ("POST", "/_emulator/reset"),
            ("POST", "/_emulator/clock"),
            ("GET", "/_emulator/clock"),
            ("POST", "/_emulator/streams/rollover"),
            ("POST", "/_emulator/ttl/sweep"),
            ("GET", "/_emulator/anything"),
        ):
            status, _, answer = request(running.url, method, path, b"{}", JSON)
            assert (status, answer) == (404, {"error": "the admin API is off (--admin off)"})
        assert request(running.url, "GET", "/_emulator/health")[0] == 200
        assert make_client(running.url).list_tables()["TableNames"] == ["kept"]
    finally:
        running.stop()


def test_admin_token_and_extra_hosts() -> None:
    running = start_server(
        "--admin-token", "s3cret", "--admin-hosts", "ddb.example.test, .dev.example.org"
    )
    try:
        url = running.url
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "s3cret"}):
            status, response_headers, answer = request(
                url, "POST", "/_emulator/reset", b"{}", {**JSON, **headers}
            )
            assert status == 401, headers
            assert answer == {
                "error": "the admin API needs 'Authorization: Bearer <token>' (--admin-token)"
            }
            assert response_headers["www-authenticate"].startswith("Bearer")
        assert request(url, "GET", "/_emulator/clock")[0] == 401
        assert request(url, "GET", "/_emulator/health")[0] == 200
        good = {**JSON, "Authorization": "Bearer s3cret"}
        status, _, answer = request(url, "POST", "/_emulator/reset", b"{}", good)
        assert (status, answer) == (200, {"reset": True})
        # --admin-hosts: exact names, and a leading dot for everything under a domain.
        # The token is checked after the Host, so a foreign Host gets 403 even with it.
        for host, expected in (
            ("ddb.example.test:8000", 200),
            ("api.dev.example.org", 200),
            ("a.b.dev.example.org:80", 200),
            ("dev.example.org.evil.com", 403),
            ("ddb.example.test.evil.com", 403),
            ("other.example.test", 403),
        ):
            assert request(url, "GET", "/_emulator/clock", None, {**good, "Host": host})[0] == (
                expected
            ), host
    finally:
        running.stop()


def test_any_host_with_a_star() -> None:
    running = start_server("--admin-hosts", "*")
    try:
        status, _, _ = request(
            running.url, "GET", "/_emulator/clock", None, {"Host": "anything.example.com"}
        )
        assert status == 200
    finally:
        running.stop()
