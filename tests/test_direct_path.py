"""AWS calls answered straight from the HTTP connection (emulator/http_protocol.py): the
same bytes on the wire as the ASGI path, pipelining kept in order, bodies in pieces,
and uvicorn's keep-alive timeout still applied to connections answered that way."""

from __future__ import annotations

import json
import socket
import time
import zlib
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from conftest import RunningServer, make_client, start_server

TABLE = "direct-path"


@pytest.fixture(scope="module")
def server() -> Iterator[RunningServer]:
    running = start_server()
    try:
        make_client(running.url).create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        yield running
    finally:
        running.stop()


def connect(server: RunningServer) -> socket.socket:
    parts = urlsplit(server.url)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=20)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def request(target: str, payload: object, extra: str = "") -> bytes:
    body = json.dumps(payload).encode()
    return (
        f"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Amz-Target: DynamoDB_20120810.{target}\r\n"
        f"Content-Type: application/x-amz-json-1.0\r\nContent-Length: {len(body)}\r\n{extra}\r\n"
    ).encode() + body


class Responses:
    """Reads whole HTTP responses (Content-Length framed) off one connection."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = b""

    def next(self) -> tuple[int, list[tuple[str, str]], bytes]:
        while b"\r\n\r\n" not in self.buffer:
            self.buffer += self._recv()
        head, _, rest = self.buffer.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = [(n.lower(), v.strip()) for n, _, v in (x.partition(":") for x in lines[1:])]
        length = int(dict(headers)["content-length"])
        while len(rest) < length:
            rest += self._recv()
        self.buffer = rest[length:]
        return int(lines[0].split()[1]), headers, rest[:length]

    def _recv(self) -> bytes:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("the server closed the connection")
        return chunk


def test_pipelined_calls_are_answered_in_order(server: RunningServer) -> None:
    item = {"pk": {"S": "pipelined"}, "n": {"N": "1"}}
    key = {"pk": {"S": "pipelined"}}
    batch = {"RequestItems": {TABLE: [{"PutRequest": {"Item": {"pk": {"S": "batched"}}}}]}}
    with connect(server) as sock:
        sock.sendall(
            request("PutItem", {"TableName": TABLE, "Item": item})
            + request("GetItem", {"TableName": TABLE, "Key": key})
            # BatchWriteItem takes the ASGI path; what follows it waits for its answer.
            + request("BatchWriteItem", batch)
            + request("GetItem", {"TableName": TABLE, "Key": {"pk": {"S": "batched"}}})
            + request("DescribeTable", {"TableName": "no-such-table"})
        )
        responses = Responses(sock)
        answers = [responses.next() for _ in range(5)]
    assert [status for status, _, _ in answers] == [200, 200, 200, 200, 400]
    assert json.loads(answers[0][2]) == {}
    assert json.loads(answers[1][2]) == {"Item": item}
    assert json.loads(answers[2][2]) == {"UnprocessedItems": {}}
    assert json.loads(answers[3][2]) == {"Item": {"pk": {"S": "batched"}}}
    assert json.loads(answers[4][2])["__type"].endswith("ResourceNotFoundException")


def test_a_body_in_pieces_is_answered(server: RunningServer) -> None:
    item = {"pk": {"S": "pieces"}, "text": {"S": "x" * 5000}}
    raw = request("PutItem", {"TableName": TABLE, "Item": item})
    with connect(server) as sock:
        for start in range(0, len(raw), 1000):
            sock.sendall(raw[start : start + 1000])
            time.sleep(0.01)
        status, _, body = Responses(sock).next()
    assert (status, json.loads(body)) == (200, {})
    found = make_client(server.url).get_item(TableName=TABLE, Key={"pk": {"S": "pieces"}})
    assert found["Item"]["text"] == {"S": "x" * 5000}


def test_direct_and_asgi_answers_have_the_same_headers(server: RunningServer) -> None:
    with connect(server) as sock:
        sock.sendall(
            request("ListTables", {})  # answered directly
            + request("BatchGetItem", {"RequestItems": {}})  # the ASGI path (staged)
        )
        responses = Responses(sock)
        direct = responses.next()
        staged = responses.next()
    assert direct[0] == 200 and staged[0] == 400
    names = ["date", "server", "content-type", "content-length", "x-amzn-requestid", "x-amz-crc32"]
    for _, headers, body in (direct, staged):
        assert [name for name, _ in headers] == names
        values = dict(headers)
        assert values["content-type"] == "application/x-amz-json-1.0"
        assert values["x-amz-crc32"] == str(zlib.crc32(body))
        assert len(values["x-amzn-requestid"]) == 52
        assert values["x-amzn-requestid"].isalnum() and values["x-amzn-requestid"].isupper()


def test_connection_close_is_honoured(server: RunningServer) -> None:
    with connect(server) as sock:
        sock.sendall(request("ListTables", {}, "Connection: close\r\n"))
        responses = Responses(sock)
        status, headers, _ = responses.next()
        assert status == 200 and ("connection", "close") in headers
        assert sock.recv(65536) == b""


def test_an_idle_connection_is_closed_after_the_keep_alive_timeout(
    server: RunningServer,
) -> None:
    """uvicorn closes a keep-alive connection 5 s after its last answer; so does the
    direct path (its watch checks once a second or so)."""
    with connect(server) as sock:
        sock.sendall(request("ListTables", {}))
        assert Responses(sock).next()[0] == 200
        answered = time.monotonic()
        sock.settimeout(30)
        assert sock.recv(65536) == b""  # closed by the server
        idle = time.monotonic() - answered
    assert 4.5 <= idle <= 20
