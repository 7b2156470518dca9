"""Test harness: a real emulator process on a free port, and real clients pointed at it."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config as BotoConfig
from botocore.exceptions import ClientError

ROOT = Path(__file__).resolve().parent.parent
REGION = "us-east-1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class RunningServer:
    url: str
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_server(
    *args: str, env: dict[str, str] | None = None, port: int | None = None
) -> RunningServer:
    """Start `python -m emulator` on a free port (or `port`) and wait until it answers."""
    port = port or free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "emulator", "--port", str(port), "--log-level", "warning", *args],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            with urllib.request.urlopen(url + "/", timeout=1) as response:
                if response.status == 200:
                    return RunningServer(url, process)
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError("emulator did not start") from None
            time.sleep(0.02)


@pytest.fixture(scope="session")
def server() -> Iterator[RunningServer]:
    running = start_server()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="session")
def endpoint(server: RunningServer) -> str:
    return server.url


def make_client(endpoint: str, service: str = "dynamodb", region: str = REGION) -> Any:
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=BotoConfig(retries={"max_attempts": 1}),
    )


@pytest.fixture(scope="session")
def ddb(endpoint: str) -> Any:
    return make_client(endpoint)


@pytest.fixture(scope="session")
def streams(endpoint: str) -> Any:
    return make_client(endpoint, "dynamodbstreams")


_counter = iter(range(1, 10**9))


@pytest.fixture
def table_name(request: pytest.FixtureRequest) -> str:
    """A fresh table name per test (the server is shared by the session)."""
    base = "".join(c if c.isalnum() else "-" for c in request.node.name)[:80]
    return f"t{next(_counter)}-{base}"


@pytest.fixture
def make_table(ddb: Any, table_name: str) -> Callable[..., str]:
    """Create a table (hash key `pk` S, optional range key `sk`) and return its name."""

    def create(
        *,
        range_key: str | None = None,
        stream: str | None = None,
        name: str | None = None,
        hash_type: str = "S",
        **extra: Any,
    ) -> str:
        name = name or table_name
        key_schema = [{"AttributeName": "pk", "KeyType": "HASH"}]
        definitions = [{"AttributeName": "pk", "AttributeType": hash_type}]
        if range_key is not None:
            key_schema.append({"AttributeName": "sk", "KeyType": "RANGE"})
            definitions.append({"AttributeName": "sk", "AttributeType": range_key})
        kwargs: dict[str, Any] = {
            "TableName": name,
            "KeySchema": key_schema,
            "AttributeDefinitions": definitions,
            "BillingMode": "PAY_PER_REQUEST",
        }
        if stream is not None:
            kwargs["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": stream}
        kwargs.update(extra)
        ddb.create_table(**kwargs)
        return name

    return create


def raw_call(
    endpoint: str, target: str | None, body: bytes | str, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    """A plain HTTP POST, for requests no SDK would send."""
    data = body.encode() if isinstance(body, str) else body
    request = urllib.request.Request(endpoint + "/", data=data, method="POST")
    request.add_header("Content-Type", "application/x-amz-json-1.0")
    if target is not None:
        request.add_header("X-Amz-Target", target)
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def read_stream(streams: Any, arn: str) -> list[dict[str, Any]]:
    """Every record of every shard, from TRIM_HORIZON until a page comes back empty."""
    records: list[dict[str, Any]] = []
    shards = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
    for shard in shards:
        iterator = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while iterator:
            page = streams.get_records(ShardIterator=iterator)
            if not page["Records"]:
                break
            records.extend(page["Records"])
            iterator = page.get("NextShardIterator")
    return records


def read_table_stream(ddb: Any, streams: Any, table: str) -> list[dict[str, Any]]:
    """Every record of the table's latest stream."""
    arn = ddb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    return read_stream(streams, arn)


def error_of(call: Callable[..., Any], **kwargs: Any) -> dict[str, str]:
    """The `Error` member of the ClientError a boto3 call raises (it must raise)."""
    with pytest.raises(ClientError) as info:
        call(**kwargs)
    error: dict[str, str] = info.value.response["Error"]
    return error


def raw_dynamodb(endpoint: str, operation: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """A DynamoDB call over plain HTTP: (status, parsed JSON body)."""
    status, _, payload = raw_call(endpoint, "DynamoDB_20120810." + operation, json.dumps(body))
    return status, json.loads(payload)


@dataclass
class InProcessServer:
    """A real HTTP server over a `Backend` this test holds, on its own event loop thread:
    for tests that reach inside (register a sink, read the stream log the way an
    in-process consumer does) while clients talk HTTP."""

    url: str
    backend: Any
    loop: Any

    def call(self, function: Callable[[], Any]) -> Any:
        """Run `function` on the server's event loop thread (where the backend lives)."""

        async def run() -> Any:
            return function()

        return asyncio.run_coroutine_threadsafe(run(), self.loop).result(10)

    def run(self, coroutine: Any, timeout: float = 10) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def admin(self, path: str, body: dict[str, Any]) -> Any:
        request = urllib.request.Request(
            self.url + path,
            data=json.dumps(body).encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())


@contextmanager
def serve_backend(backend: Any) -> Iterator[InProcessServer]:
    import uvicorn

    from emulator.server import EmulatorApp
    from emulator.serving import bind_socket, listening_url

    app = EmulatorApp(backend.config, backend)
    sock = bind_socket("127.0.0.1", 0)
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, log_level="warning"))
    loop = asyncio.new_event_loop()
    thread = threading.Thread(
        target=loop.run_until_complete, args=(server.serve(sockets=[sock]),), daemon=True
    )
    thread.start()
    deadline = time.monotonic() + 10
    try:
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the in-process server did not start")
            time.sleep(0.01)
        yield InProcessServer(listening_url(sock, connectable=True), backend, loop)
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
        loop.close()


@pytest.fixture(scope="module")
def moto_server() -> Iterator[str]:
    """moto's server (real SQS / SNS / S3 APIs) on a free port, stopped at the end."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(url + "/moto-api/", timeout=1).close()
                break
            except OSError:
                assert process.poll() is None and time.monotonic() < deadline
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(10)
