"""Function runners inside a real emulator: `Backend.targets` invoked on the server's own
event loop by handlers that call the emulator back over HTTP (boto3), `--function
NAME=URL`, `emulator.serve(functions=...)`, the `ddb_function` fixture, and the registry's
lifetime (stopped with the server, targets dropped by a reset)."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, make_client, serve_backend, start_server
from runner_helpers import eventually, invocation, payload, pid_alive, spec, write_app
from test_runners_http import Endpoint, RieHandler, rie_url, serve_http

import emulator
from emulator.config import Config, parse_config
from emulator.runtime.backend import Backend
from emulator.serving import function_registry
from emulator.triggers.targets import Outcome

pytest_plugins = ["pytester"]


@pytest.fixture
def rie() -> Iterator[Endpoint]:
    yield from serve_http(RieHandler)


def create_table(endpoint: str, name: str) -> Any:
    client = make_client(endpoint)
    client.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return client


def test_a_python_worker_that_calls_the_emulator_back(tmp_path: Path) -> None:
    code = write_app(tmp_path / "task")
    backend = Backend.create(Config())
    with serve_backend(backend) as server:
        client = create_table(server.url, "orders")
        target = server.call(lambda: backend.targets.target_for(spec("writer", code_dir=code)))
        event = {"action": "boto3", "endpoint": server.url, "table": "orders", "key": "k-1"}
        result = server.run(target.invoke(invocation(event)), timeout=30)
        assert result.outcome is Outcome.SUCCESS, result.payload
        assert payload(result) == {"pk": {"S": "k-1"}}
        item = client.get_item(TableName="orders", Key={"pk": {"S": "k-1"}})["Item"]
        assert item == {"pk": {"S": "k-1"}}
        pid = payload(server.run(target.invoke(invocation({"action": "count"}))))["pid"]
    # Stopping the server stopped the worker.
    assert eventually(lambda: not pid_alive(pid))


def test_a_callable_that_calls_the_emulator_back_does_not_deadlock() -> None:
    backend = Backend.create(Config())
    with serve_backend(backend) as server:
        client = create_table(server.url, "audit")

        def handler(event: dict[str, Any], context: Any) -> Any:
            for record in event["Records"]:
                client.put_item(TableName="audit", Item={"pk": {"S": record["id"]}})
            return {"count": client.scan(TableName="audit")["Count"]}

        backend.targets.register_callable("auditor", handler)
        target = server.call(lambda: backend.targets.target_for(spec("auditor")))
        records = {"Records": [{"id": f"r-{i}"} for i in range(20)]}
        result = server.run(target.invoke(invocation(records)), timeout=30)
    assert result.outcome is Outcome.SUCCESS
    assert payload(result) == {"count": 20}


def test_function_urls_from_the_config_reach_an_rie(rie: Endpoint) -> None:
    config = parse_config(["--function", f"orders={rie_url(rie)}"], environ={})
    backend = Backend.create(config)
    with serve_backend(backend) as server:
        assert backend.targets.overridden_names() == {"orders"}
        target = server.call(lambda: backend.targets.target_for(spec("orders")))
        ok = server.run(target.invoke(invocation({"mode": "ok"})))
        failed = server.run(target.invoke(invocation({"mode": "error"})))
    assert ok.outcome is Outcome.SUCCESS
    assert payload(ok) == {"rie": True}
    assert failed.outcome is Outcome.FUNCTION_ERROR
    assert failed.function_error == "Unhandled"


def test_a_reset_drops_the_targets_but_keeps_the_overrides(tmp_path: Path) -> None:
    code = write_app(tmp_path / "task")
    backend = Backend.create(Config())
    with serve_backend(backend) as server:
        backend.targets.register_callable("cb", lambda event, context: "kept")
        target = server.call(lambda: backend.targets.target_for(spec("w", code_dir=code)))
        pid = payload(server.run(target.invoke(invocation({"action": "count"}))))["pid"]
        server.admin("/_emulator/reset", {})
        assert eventually(lambda: not pid_alive(pid))
        assert backend.targets.overridden_names() == {"cb"}
        again = server.call(lambda: backend.targets.target_for(spec("w", code_dir=code)))
        assert again is not target
        assert payload(server.run(again.invoke(invocation({"action": "count"}))))["count"] == 1


def test_serve_with_functions(rie: Endpoint) -> None:
    def handler(event: dict[str, Any], context: Any) -> Any:
        return event

    with emulator.serve(port=0, functions={"cb": handler, "remote": rie_url(rie)}) as url:
        registry = function_registry(url)
        assert registry is not None
        assert function_registry(url + "/") is registry
        assert registry.overridden_names() == {"cb", "remote"}
        assert registry.urls() == {"remote": rie_url(rie)}
        with urllib.request.urlopen(url + "/_emulator/health") as response:
            assert json.loads(response.read())["status"] == "ok"
    assert function_registry(url) is None
    with (
        pytest.raises(TypeError, match="expected a callable or an endpoint URL"),
        emulator.serve(port=0, functions={"x": 3}),  # type: ignore[dict-item]
    ):
        pass


def test_the_function_flag_and_its_environment_variable() -> None:
    config = parse_config(
        ["--function", "a=http://127.0.0.1:9001", "--function", "b=https://h/x/invocations"],
        environ={
            "EMULATOR_FUNCTIONS": "c=http://c:1, a=http://old:2",
            "EMULATOR_FUNCTION_PYTHON": "/x/py",
        },
    )
    assert config.functions == (
        ("c", "http://c:1"),
        ("a", "http://127.0.0.1:9001"),
        ("b", "https://h/x/invocations"),
    )
    assert config.function_python == "/x/py"
    assert parse_config([], environ={}).functions == ()
    registry = Backend.create(dataclasses.replace(config, functions=config.functions)).targets
    assert registry.urls() == dict(config.functions)
    assert registry.python == "/x/py"


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["--function", "nourl"], {}, "expected NAME=URL, got 'nourl'"),
        (["--function", "f=ftp://host"], {}, "f: not an http(s) URL: 'ftp://host'"),
        (
            [],
            {"EMULATOR_FUNCTIONS": "f=http://ok:1,=http://x"},
            "EMULATOR_FUNCTIONS: expected NAME=URL",
        ),
    ],
)
def test_bad_function_flags_are_usage_errors(
    args: list[str], env: dict[str, str], message: str
) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "emulator", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, **env},
    )
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_a_server_started_with_function_flags_answers() -> None:
    server = start_server(
        "--function", "a=http://127.0.0.1:9/", "--function-python", sys.executable
    )
    try:
        with urllib.request.urlopen(server.url + "/_emulator/health") as response:
            assert response.status == 200
    finally:
        server.stop()
    assert server.process.returncode == 0


PLUGIN_TESTS = """
import asyncio
import json
import pytest

from emulator.serving import function_registry
from emulator.triggers.targets import FunctionSpec, Invocation

SPEC = FunctionSpec("trigger", "arn:aws:lambda:us-east-1:000000000000:function:trigger",
                    "python3.12", "app.handler")


def test_registered_for_the_test(ddb_function, ddb_endpoint):
    calls = []
    ddb_function("trigger", lambda event, context: calls.append(event) or {"n": len(calls)})
    registry = function_registry(ddb_endpoint)
    assert registry.overridden_names() == {"trigger"}
    result = asyncio.run(registry.target_for(SPEC).invoke(Invocation(b'{"a": 1}', "r-1")))
    assert json.loads(result.payload) == {"n": 1}
    assert calls == [{"a": 1}]


def test_gone_after_the_test(ddb_endpoint):
    assert function_registry(ddb_endpoint).overridden_names() == set()
"""


def test_the_ddb_function_fixture(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user=PLUGIN_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)


def test_the_ddb_function_fixture_needs_the_in_process_emulator(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_external="""
        def test_external(ddb_function):
            pass
        """
    )
    with emulator.serve(port=0) as url:
        result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--ddb-endpoint", url)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*ddb_function runs a handler in the test's process*"])
