"""The runners behind Lambda's Invoke, through a real emulator process and boto3: Python
and Node.js zips (context, environment, a handler calling the emulator back, concurrent
invocations, timeouts, crashes, the log tail) and an RIE-style endpoint given with
`--function NAME=URL`."""

from __future__ import annotations

import base64
import json
import shutil
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from conftest import make_client, start_server
from runner_helpers import PYTHON_APP, zip_of
from test_runners_http import Endpoint, RieHandler, rie_url, serve_http
from test_runners_node import NODE_APP

ROLE = "arn:aws:iam::000000000000:role/lambda-role"
_names = iter(range(1, 10**9))


@pytest.fixture(scope="module")
def lam(endpoint: str) -> Any:
    return make_client(endpoint, "lambda")


@pytest.fixture
def function(lam: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """`function(**CreateFunction members)` -> its name; deleted after the test."""
    made: list[str] = []

    def create(**members: Any) -> str:
        name = f"run{next(_names)}-{request.node.name[:30]}".replace("[", "-").replace("]", "")
        name = "".join(c if c.isalnum() or c in "-_" else "-" for c in name)
        lam.create_function(FunctionName=name, Role=ROLE, **members)
        made.append(name)
        return name

    yield create
    for name in made:
        lam.delete_function(FunctionName=name)


def python_function(function: Any, **members: Any) -> str:
    return str(
        function(
            Runtime="python3.12",
            Handler="app.handler",
            Code={"ZipFile": zip_of({"app.py": PYTHON_APP})},
            **members,
        )
    )


def invoke(lam: Any, name: str, event: Any) -> tuple[dict[str, Any], Any, str]:
    answer = lam.invoke(FunctionName=name, Payload=json.dumps(event).encode(), LogType="Tail")
    log = base64.b64decode(answer.get("LogResult", "")).decode()
    return answer, json.loads(answer["Payload"].read()), log


def test_context_and_environment_through_invoke(lam: Any, function: Any) -> None:
    name = python_function(
        function, MemorySize=384, Timeout=11, Environment={"Variables": {"STAGE": "test"}}
    )
    arn = lam.get_function(FunctionName=name)["Configuration"]["FunctionArn"]
    answer, context, log = invoke(lam, name, {"action": "context"})
    request_id = answer["ResponseMetadata"]["RequestId"]
    assert answer["StatusCode"] == 200
    assert answer["ExecutedVersion"] == "$LATEST"
    assert context["aws_request_id"] == request_id
    assert context["function_name"] == name
    assert context["invoked_function_arn"] == arn
    assert context["memory_limit_in_mb"] == "384"
    assert 0 < context["remaining"] <= 11000
    assert log.startswith(f"init output of app\nSTART RequestId: {request_id} Version: $LATEST\n")
    assert "\tMemory Size: 384 MB\t" in log
    _, seen, _ = invoke(lam, name, {"action": "env"})
    assert seen["env"]["STAGE"] == "test"
    assert seen["env"]["AWS_LAMBDA_FUNCTION_NAME"] == name
    assert seen["env"]["AWS_LAMBDA_FUNCTION_TIMEOUT"] == "11"


def test_a_handler_calling_the_emulator_back(lam: Any, function: Any, endpoint: str) -> None:
    ddb = make_client(endpoint)
    table = f"callback-{next(_names)}"
    ddb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    name = python_function(function, Timeout=30)
    answer, item, _ = invoke(
        lam, name, {"action": "boto3", "endpoint": endpoint, "table": table, "key": "k"}
    )
    assert "FunctionError" not in answer, item
    assert item == {"pk": {"S": "k"}}
    assert ddb.get_item(TableName=table, Key={"pk": {"S": "k"}})["Item"] == {"pk": {"S": "k"}}


def test_concurrent_invokes_run_at_once(lam: Any, function: Any, tmp_path: Path) -> None:
    name = python_function(function, Timeout=30)
    event = {"action": "rendezvous", "folder": str(tmp_path), "n": 3}
    with ThreadPoolExecutor(3) as pool:
        results = list(pool.map(lambda _: invoke(lam, name, event)[1], range(3)))
    assert [result["saw"] for result in results] == [3, 3, 3]
    assert len({result["pid"] for result in results}) == 3


def test_timeout_and_crash_through_invoke(lam: Any, function: Any, tmp_path: Path) -> None:
    name = python_function(function, Timeout=1)
    answer, document, log = invoke(lam, name, {"action": "hang", "pid_file": str(tmp_path / "pid")})
    request_id = answer["ResponseMetadata"]["RequestId"]
    assert (answer["StatusCode"], answer["FunctionError"]) == (200, "Unhandled")
    assert document == {
        "errorMessage": f"RequestId: {request_id} Error: Task timed out after 1.00 seconds",
        "errorType": "Sandbox.Timedout",
    }
    assert f"{request_id} Task timed out after 1.00 seconds\n" in log
    assert "Status: timeout" in log
    answer, document, log = invoke(lam, name, {"action": "exit", "code": 1})
    assert answer["FunctionError"] == "Unhandled"
    assert document["errorType"] == "Runtime.ExitError"
    assert document["errorMessage"].endswith("Runtime exited with error: exit status 1")
    answer, count, _ = invoke(lam, name, {"action": "count"})
    assert "FunctionError" not in answer
    assert count["count"] == 1


def test_a_node_function_through_invoke(lam: Any, function: Any) -> None:
    if shutil.which("node") is None:
        pytest.skip("node is not on PATH")
    name = function(
        Runtime="nodejs20.x",
        Handler="index.handler",
        Code={"ZipFile": zip_of({"index.js": NODE_APP})},
    )
    answer, result, log = invoke(lam, name, {"action": "log"})
    request_id = answer["ResponseMetadata"]["RequestId"]
    assert result == "logged"
    assert f"\t{request_id}\tINFO\thello {{ a: 1 }}\n" in log
    answer, document, _ = invoke(lam, name, {"action": "throw"})
    assert answer["FunctionError"] == "Unhandled"
    assert (document["errorType"], document["errorMessage"]) == ("TypeError", "boom")


@pytest.fixture(scope="module")
def rie() -> Iterator[Endpoint]:
    yield from serve_http(RieHandler)


@pytest.fixture(scope="module")
def rie_emulator(rie: Endpoint) -> Iterator[Any]:
    server = start_server("--function", f"orders={rie_url(rie)}")
    try:
        yield make_client(server.url, "lambda")
    finally:
        server.stop()


@pytest.mark.parametrize(
    ("mode", "error", "expected"),
    [
        ("ok", None, {"rie": True}),
        ("error", "Unhandled", "ValueError"),
        ("timeout", "Unhandled", "Sandbox.Timedout"),
    ],
)
def test_an_rie_endpoint_through_invoke(
    rie_emulator: Any, rie: Endpoint, mode: str, error: str | None, expected: Any
) -> None:
    answer = rie_emulator.invoke(FunctionName="orders", Payload=json.dumps({"mode": mode}))
    assert answer["StatusCode"] == 200
    assert answer.get("FunctionError") == error
    document = json.loads(answer["Payload"].read())
    assert (document if error is None else document["errorType"]) == expected
    assert rie.seen.requests[-1]["path"] == "/2015-03-31/functions/function/invocations"


def test_an_rie_whose_runtime_exited_is_a_service_exception(rie_emulator: Any) -> None:
    with pytest.raises(rie_emulator.exceptions.ServiceException) as info:
        rie_emulator.invoke(FunctionName="orders", Payload=b'{"mode": "exit"}')
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert "empty body" in info.value.response["Error"]["Message"]


def test_an_rie_busy_with_another_invocation(rie_emulator: Any, rie: Endpoint) -> None:
    rie.seen.release.clear()
    held: dict[str, Any] = {}

    def hold() -> None:
        held["answer"] = rie_emulator.invoke(FunctionName="orders", Payload=b'{"mode": "hold"}')

    thread = threading.Thread(target=hold)
    before = len(rie.seen.requests)
    thread.start()
    try:
        while len(rie.seen.requests) == before:
            thread.join(0.005)
        with pytest.raises(rie_emulator.exceptions.ServiceException) as info:
            rie_emulator.invoke(FunctionName="orders", Payload=b'{"mode": "ok"}')
        assert "answered 400" in info.value.response["Error"]["Message"]
    finally:
        rie.seen.release.set()
        thread.join(20)
    assert json.loads(held["answer"]["Payload"].read()) == "held"
