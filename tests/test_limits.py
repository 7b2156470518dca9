"""Issue 12, defect 7: limits a public front door has.

- The request line and headers are bounded (16 KiB and 64 KiB): longer gets a 400 in
  AWS's error shape, and the server stops reading (an endless header is not buffered).
- A client that connects and sends nothing, or stops halfway through its head or body,
  is timed out (`--client-timeout-seconds`); a request cut off that way has no effect.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from conftest import RunningServer, make_client, raw_call, start_server

HEAD_TOO_LARGE = {
    "__type": "com.amazon.coral.validate#ValidationException",
    "message": "The request line and headers must not exceed 65536 bytes (the request line 16384)",
}
STALLED = {
    "__type": "com.amazon.coral.service#RequestTimeoutException",
    "message": "The client stopped sending its request before it was complete",
}
TIMEOUT = 0.5


@pytest.fixture(scope="module")
def quick() -> Iterator[RunningServer]:
    """A server that gives up on a quiet client after half a second."""
    running = start_server("--client-timeout-seconds", str(TIMEOUT))
    try:
        yield running
    finally:
        running.stop()


def connect(server: RunningServer) -> socket.socket:
    parts = urlsplit(server.url)
    return socket.create_connection((parts.hostname, parts.port), timeout=20)


def read_all(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (bounded wait)."""
    data = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            return data
        if not chunk:
            return data
        data += chunk


def response_of(raw: bytes) -> tuple[int, dict[str, str], Any]:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return status, headers, json.loads(body) if body else None


def request_bytes(target: str, body: bytes, extra: str = "", length: int | None = None) -> bytes:
    return (
        f"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Amz-Target: {target}\r\n"
        "Content-Type: application/x-amz-json-1.0\r\n"
        f"Content-Length: {len(body) if length is None else length}\r\n{extra}\r\n"
    ).encode() + body


def still_serves(server: RunningServer) -> None:
    assert "TableNames" in make_client(server.url).list_tables()


def test_a_long_request_line_is_a_400(quick: RunningServer) -> None:
    with connect(quick) as sock:
        sock.sendall(b"POST /" + b"a" * (17 * 1024) + b" HTTP/1.1\r\nHost: x\r\n\r\n")
        status, headers, answer = response_of(read_all(sock))
    assert (status, answer) == (400, HEAD_TOO_LARGE)
    assert headers["content-type"] == "application/x-amz-json-1.0"
    still_serves(quick)


@pytest.mark.parametrize(
    "extra",
    [
        "X-Big: " + "b" * (65 * 1024) + "\r\n",  # one header
        "".join(f"X-Many-{i}: {'m' * 1000}\r\n" for i in range(70)),  # many
    ],
    ids=["one-large-header", "many-headers"],
)
def test_headers_over_64_kib_are_a_400(quick: RunningServer, extra: str) -> None:
    with connect(quick) as sock:
        sock.sendall(request_bytes("DynamoDB_20120810.ListTables", b"{}", extra))
        status, _, answer = response_of(read_all(sock))
    assert (status, answer) == (400, HEAD_TOO_LARGE)
    still_serves(quick)


def test_an_endless_header_is_not_buffered(quick: RunningServer) -> None:
    """The server answers and closes once the limit is passed, without the end."""
    with connect(quick) as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nX-Endless: ")
        sent = 0
        try:
            while sent < 64 * 1024 * 1024:
                sock.sendall(b"e" * 65536)
                sent += 65536
        except OSError:
            pass  # closed by the server: what this test wants
        status, _, answer = response_of(read_all(sock))
    assert sent < 64 * 1024 * 1024
    assert (status, answer) == (400, HEAD_TOO_LARGE)


def test_headers_under_the_limit_work(quick: RunningServer) -> None:
    extra = {f"X-Fill-{i}": "f" * 1000 for i in range(50)}  # ~51 KiB
    status, _, payload = raw_call(quick.url, "DynamoDB_20120810.ListTables", "{}", extra)
    assert status == 200 and "TableNames" in json.loads(payload)


def test_a_silent_connection_is_closed(quick: RunningServer) -> None:
    with connect(quick) as sock:
        assert read_all(sock) == b""  # closed by the server, nothing said


def test_a_half_sent_head_is_timed_out(quick: RunningServer) -> None:
    with connect(quick) as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Amz-Target: Dyn")
        status, headers, answer = response_of(read_all(sock))
    assert (status, answer) == (408, STALLED)
    assert headers["connection"] == "close"


def test_a_half_sent_body_is_timed_out_and_has_no_effect(quick: RunningServer) -> None:
    ddb = make_client(quick.url)
    ddb.create_table(
        TableName="half-sent",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    body = json.dumps({"TableName": "half-sent", "Item": {"pk": {"S": "cut"}}}).encode()
    with connect(quick) as sock:
        # A complete JSON document, but the client announced more and went quiet.
        sock.sendall(request_bytes("DynamoDB_20120810.PutItem", body, length=len(body) + 10))
        status, _, answer = response_of(read_all(sock))
    assert (status, answer) == (408, STALLED)
    assert ddb.get_item(TableName="half-sent", Key={"pk": {"S": "cut"}}).get("Item") is None


def test_a_busy_keep_alive_connection_is_not_timed_out(quick: RunningServer) -> None:
    """Quiet *between* requests is the keep-alive's business, not a stall."""
    with connect(quick) as sock:
        for _ in range(3):
            sock.sendall(request_bytes("DynamoDB_20120810.ListTables", b"{}"))
            data = b""
            while b"\r\n\r\n" not in data or not data.endswith(b"}"):
                data += sock.recv(65536)
            assert data.startswith(b"HTTP/1.1 200 ")


def test_the_timeout_is_range_checked() -> None:
    import subprocess
    import sys

    from conftest import ROOT

    result = subprocess.run(
        [sys.executable, "-m", "emulator", "--client-timeout-seconds", "0"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=30,
    )
    assert result.returncode == 2
    assert "--client-timeout-seconds must be greater than 0" in result.stderr
