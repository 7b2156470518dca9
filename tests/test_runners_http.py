"""HTTP targets against real HTTP servers in the test: one speaking Lambda's Invoke API
(as another emulator or `sam local start-lambda` does) and one behaving like the Runtime
Interface Emulator (SPEC-STREAM-APPS 3.4: its error body without the header, its timeout
text, its one-at-a-time 400, its empty body when the runtime exits)."""

from __future__ import annotations

import asyncio
import base64
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from conftest import free_port
from runner_helpers import call, payload, run, spec

from emulator.triggers.runners import TargetRegistry
from emulator.triggers.runners.http_target import invocations_url
from emulator.triggers.targets import Outcome

LOG = "START RequestId: r Version: $LATEST\nhello from remote\nEND RequestId: r\n"


@dataclass
class Seen:
    requests: list[dict[str, Any]] = field(default_factory=list)
    ports: set[int] = field(default_factory=set)
    busy: threading.Lock = field(default_factory=threading.Lock)
    release: threading.Event = field(default_factory=threading.Event)


class InvokeApiHandler(BaseHTTPRequestHandler):
    """`POST /2015-03-31/functions/{name}/invocations`; the function name picks the answer."""

    protocol_version = "HTTP/1.1"
    seen: Seen

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.seen.ports.add(self.client_address[1])
        self.seen.requests.append(
            {"path": self.path, "headers": dict(self.headers.items()), "body": body}
        )
        parts = self.path.split("/")
        name = parts[3] if len(parts) > 4 else ""
        self.answer(name, body)

    def answer(self, name: str, body: bytes) -> None:
        log = {"X-Amz-Log-Result": base64.b64encode(LOG.encode()).decode()}
        if name == "ok":
            self.reply(
                200,
                json.dumps({"echo": json.loads(body)}).encode(),
                {"X-Amz-Executed-Version": "$LATEST", **log},
            )
        elif name == "fails":
            document = {"errorMessage": "boom", "errorType": "ValueError", "stackTrace": []}
            self.reply(
                200, json.dumps(document).encode(), {"X-Amz-Function-Error": "Unhandled", **log}
            )
        elif name == "throttled":
            self.reply(
                429,
                b'{"Type":"User","message":"Rate Exceeded.","__type":"TooManyRequestsException"}',
            )
        elif name == "broken":
            self.reply(502, b"Bad Gateway")
        elif name == "missing":
            self.reply(
                404,
                b'{"Type":"User","message":"Function not found: '
                b'arn:aws:lambda:us-east-1:000000000000:function:missing",'
                b'"__type":"ResourceNotFoundException"}',
            )
        elif name == "slow":
            time.sleep(5)
            self.reply(200, b"{}")
        elif name == "stale":
            self.reply(200, b'{"fresh": true}')
            self.close_connection = True  # without saying so: the client's next use fails
        elif name == "chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for piece in (b'{"parts": ', b"[1, 2, 3]", b"}"):
                self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
        else:
            self.reply(404, b'{"__type":"ResourceNotFoundException","message":"no such route"}')

    def reply(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class RieHandler(InvokeApiHandler):
    """The Runtime Interface Emulator: `/2015-03-31/functions/function/invocations` only,
    one invocation at a time, errors as 200 without a header. The event's `mode` picks."""

    def answer(self, name: str, body: bytes) -> None:
        if name != "function":
            self.reply(404, b"404 page not found\n")
            return
        if not self.seen.busy.acquire(blocking=False):
            self.reply(400, b"")  # RIE: "concurrent invocations are not supported"
            return
        try:
            mode = json.loads(body).get("mode")
            if mode == "ok":
                self.reply(200, json.dumps({"rie": True}).encode())
            elif mode == "hold":
                self.seen.release.wait(20)
                self.reply(200, b'"held"')
            elif mode == "error":
                self.reply(
                    200,
                    b'{"errorMessage": "boom", "errorType": "ValueError", '
                    b'"requestId": "", "stackTrace": ["  File \\"/var/task/app.py\\"\\n"]}',
                )
            elif mode == "timeout":
                self.reply(200, b"Task timed out after 2.00 seconds")
            elif mode == "exit":
                self.reply(200, b"")
            elif mode == "error_keys_and_data":
                self.reply(200, b'{"errorType": "none", "errorMessage": "fine", "data": 1}')
        finally:
            self.seen.busy.release()


@dataclass
class Endpoint:
    url: str
    seen: Seen


def serve_http(handler: type[InvokeApiHandler]) -> Iterator[Endpoint]:
    seen = Seen()
    bound = type("Bound", (handler,), {"seen": seen})
    server = ThreadingHTTPServer(("127.0.0.1", 0), bound)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Endpoint(f"http://127.0.0.1:{server.server_address[1]}", seen)
    finally:
        seen.release.set()
        server.shutdown()
        server.server_close()


@pytest.fixture
def invoke_api() -> Iterator[Endpoint]:
    yield from serve_http(InvokeApiHandler)


@pytest.fixture
def rie() -> Iterator[Endpoint]:
    yield from serve_http(RieHandler)


def rie_url(endpoint: Endpoint) -> str:
    return endpoint.url + "/2015-03-31/functions/function/invocations"


def test_the_invocations_url() -> None:
    assert (
        invocations_url("http://127.0.0.1:3001", "orders")
        == "http://127.0.0.1:3001/2015-03-31/functions/orders/invocations"
    )
    assert (
        invocations_url("http://h:9000/2015-03-31/functions/function/invocations", "orders")
        == "http://h:9000/2015-03-31/functions/function/invocations"
    )
    assert (
        invocations_url("https://h/prefix/", "a b")
        == "https://h/prefix/2015-03-31/functions/a%20b/invocations"
    )


def test_a_success_through_the_invoke_api(invoke_api: Endpoint) -> None:
    context = base64.b64encode(b'{"custom": {"k": "v"}}').decode()

    async def scenario(registry: TargetRegistry) -> Any:
        registry.register_url("ok", invoke_api.url)
        target = registry.target_for(spec("ok", code_dir="/nonexistent"))
        first = await call(target, {"Records": [{"n": 1}]}, client_context=context)
        second = await call(target, {"Records": []}, client_context='{"custom": {}}')
        return first, second

    first, second = run(scenario)
    assert first.outcome is Outcome.SUCCESS
    assert first.function_error is None
    assert payload(first) == {"echo": {"Records": [{"n": 1}]}}
    assert first.logs == LOG
    assert payload(second) == {"echo": {"Records": []}}
    request = invoke_api.seen.requests[0]
    assert request["path"] == "/2015-03-31/functions/ok/invocations"
    assert request["body"] == b'{"Records": [{"n": 1}]}'  # the payload, byte for byte
    headers = request["headers"]
    assert headers["X-Amz-Invocation-Type"] == "RequestResponse"
    assert headers["X-Amz-Log-Type"] == "Tail"
    assert headers["Content-Type"] == "application/json"
    assert headers["X-Amz-Client-Context"] == context
    assert base64.b64decode(invoke_api.seen.requests[1]["headers"]["X-Amz-Client-Context"]) == (
        b'{"custom": {}}'
    )
    assert len(invoke_api.seen.ports) == 1  # one kept-alive connection


@pytest.mark.parametrize(
    ("name", "outcome", "status", "detail"),
    [
        ("fails", Outcome.FUNCTION_ERROR, 200, ""),
        ("throttled", Outcome.THROTTLED, 429, "TooManyRequestsException: Rate Exceeded."),
        ("broken", Outcome.SERVICE_ERROR, 502, "answered 502: Bad Gateway"),
        ("missing", Outcome.SERVICE_ERROR, 404, "ResourceNotFoundException: Function not found"),
    ],
)
def test_invoke_api_outcomes(
    invoke_api: Endpoint, name: str, outcome: Outcome, status: int, detail: str
) -> None:
    async def scenario(registry: TargetRegistry) -> Any:
        registry.register_url(name, invoke_api.url)
        return await call(registry.target_for(spec(name)), {})

    result = run(scenario)
    assert result.outcome is outcome
    assert result.status_code == status
    assert detail in result.detail
    if outcome is Outcome.FUNCTION_ERROR:
        assert result.function_error == "Unhandled"
        assert payload(result) == {
            "errorMessage": "boom",
            "errorType": "ValueError",
            "stackTrace": [],
        }
        assert result.logs == LOG


def test_a_chunked_answer(invoke_api: Endpoint) -> None:
    async def scenario(registry: TargetRegistry) -> Any:
        registry.register_url("chunked", invoke_api.url)
        return await call(registry.target_for(spec("chunked")), {})

    result = run(scenario)
    assert result.outcome is Outcome.SUCCESS
    assert payload(result) == {"parts": [1, 2, 3]}


def test_a_connection_the_server_dropped_is_replaced(invoke_api: Endpoint) -> None:
    async def scenario(registry: TargetRegistry) -> Any:
        registry.register_url("stale", invoke_api.url)
        target = registry.target_for(spec("stale"))
        return [await call(target, {"i": i}) for i in range(3)]

    results = run(scenario)
    assert [payload(result) for result in results] == [{"fresh": True}] * 3
    assert len(invoke_api.seen.requests) == 3  # each delivered once
    assert len(invoke_api.seen.ports) == 3


def test_no_answer_within_the_timeout_is_a_timed_out_invocation(invoke_api: Endpoint) -> None:
    async def scenario(registry: TargetRegistry) -> Any:
        registry.register_url("slow", invoke_api.url)
        return await call(registry.target_for(spec("slow", timeout=0.5)), {}, request_id="req-s")

    result = run(scenario)
    assert result.outcome is Outcome.FUNCTION_ERROR
    assert payload(result) == {
        "errorMessage": "RequestId: req-s Error: Task timed out after 0.50 seconds",
        "errorType": "Sandbox.Timedout",
    }


def test_nothing_listening_is_a_service_error() -> None:
    url = f"http://127.0.0.1:{free_port()}"

    async def scenario(registry: TargetRegistry) -> Any:
        registry.register_url("gone", url)
        return await call(registry.target_for(spec("gone")), {})

    result = run(scenario)
    assert result.outcome is Outcome.SERVICE_ERROR
    assert result.status_code == 0
    assert f"{url}/2015-03-31/functions/gone/invocations is unreachable" in result.detail


def test_an_endpoint_that_does_not_speak_http_is_a_service_error() -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()

    def answer_garbage() -> None:
        connection, _ = listener.accept()
        connection.recv(65536)
        connection.sendall(b"SSH-2.0-OpenSSH_9.2\r\n")
        connection.close()

    thread = threading.Thread(target=answer_garbage, daemon=True)
    thread.start()

    async def scenario(registry: TargetRegistry) -> Any:
        registry.register_url("odd", f"http://127.0.0.1:{listener.getsockname()[1]}")
        return await call(registry.target_for(spec("odd")), {})

    try:
        result = run(scenario)
    finally:
        listener.close()
    assert result.outcome is Outcome.SERVICE_ERROR
    assert "not an HTTP response" in result.detail


@pytest.mark.parametrize(
    ("mode", "outcome", "expected"),
    [
        ("ok", Outcome.SUCCESS, {"rie": True}),
        (
            "error",
            Outcome.FUNCTION_ERROR,
            {
                "errorMessage": "boom",
                "errorType": "ValueError",
                "requestId": "",
                "stackTrace": ['  File "/var/task/app.py"\n'],
            },
        ),
        (
            "timeout",
            Outcome.FUNCTION_ERROR,
            {
                "errorMessage": "RequestId: req-rie Error: Task timed out after 2.00 seconds",
                "errorType": "Sandbox.Timedout",
            },
        ),
        (
            "error_keys_and_data",
            Outcome.SUCCESS,
            {"errorType": "none", "errorMessage": "fine", "data": 1},
        ),
    ],
)
def test_rie_answers(rie: Endpoint, mode: str, outcome: Outcome, expected: Any) -> None:
    async def scenario(registry: TargetRegistry) -> Any:
        registry.register_url("orders", rie_url(rie))
        return await call(registry.target_for(spec("orders")), {"mode": mode}, request_id="req-rie")

    result = run(scenario)
    assert result.outcome is outcome
    assert payload(result) == expected
    if outcome is Outcome.FUNCTION_ERROR:
        assert result.function_error == "Unhandled"
    assert rie.seen.requests[0]["path"] == "/2015-03-31/functions/function/invocations"


def test_rie_empty_body_when_the_runtime_exits_is_a_service_error(rie: Endpoint) -> None:
    async def scenario(registry: TargetRegistry) -> Any:
        registry.register_url("orders", rie_url(rie))
        return await call(registry.target_for(spec("orders")), {"mode": "exit"})

    result = run(scenario)
    assert result.outcome is Outcome.SERVICE_ERROR
    assert result.status_code == 200
    assert "empty body" in result.detail


def test_rie_busy_with_another_invocation_is_a_service_error(rie: Endpoint) -> None:
    async def scenario(registry: TargetRegistry) -> Any:
        registry.register_url("orders", rie_url(rie))
        target = registry.target_for(spec("orders", timeout=20))
        held = asyncio.ensure_future(call(target, {"mode": "hold"}))
        while not rie.seen.requests:
            await asyncio.sleep(0.005)
        busy = await call(target, {"mode": "ok"})
        rie.seen.release.set()
        return await held, busy

    held, busy = run(scenario)
    assert held.outcome is Outcome.SUCCESS
    assert payload(held) == "held"
    assert busy.outcome is Outcome.SERVICE_ERROR
    assert busy.status_code == 400
