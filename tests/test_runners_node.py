"""Node.js zip functions in worker processes (when `node` is on PATH): async, callback and
ES-module handlers, the context, console logs, errors as the Node.js runtime reports them,
timeouts, crashes and warm reuse."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from runner_helpers import call, payload, run, spec, write_app, zip_of

from emulator.triggers.runners import TargetRegistry
from emulator.triggers.targets import Outcome

NODE_APP = r"""
console.log('loading index');
let count = 0;
exports.handler = async (event, context) => {
  count += 1;
  switch (event.action) {
    case 'echo': return event;
    case 'context': return {
      awsRequestId: context.awsRequestId, functionName: context.functionName,
      functionVersion: context.functionVersion, invokedFunctionArn: context.invokedFunctionArn,
      memoryLimitInMB: context.memoryLimitInMB, logGroupName: context.logGroupName,
      logStreamName: context.logStreamName, remaining: context.getRemainingTimeInMillis(),
      clientContext: context.clientContext || null,
      env: { name: process.env.AWS_LAMBDA_FUNCTION_NAME, region: process.env.AWS_REGION,
             root: process.env.LAMBDA_TASK_ROOT, handler: process.env._HANDLER,
             table: process.env.TABLE, cwd: process.cwd() } };
    case 'count': return { count, pid: process.pid };
    case 'log':
      console.log('hello', { a: 1 });
      console.error('bad thing');
      console.warn('careful');
      process.stderr.write('raw stderr\n');
      return 'logged';
    case 'throw': throw new TypeError('boom');
    case 'throw_string': throw 'plain string';
    case 'exit': process.exit(event.code);
    case 'hang': return new Promise(() => {});
    case 'undefined': return undefined;
  }
  return { unknown: event.action };
};
exports.callback = (event, context, callback) => {
  const answer = () => (event.fail
    ? callback(new Error('cb failed'))
    : callback(null, { via: 'callback' }));
  setTimeout(answer, 1);
};
exports.nested = { deeper: async () => 'nested' };
exports.notAFunction = 42;
"""


@pytest.fixture(scope="module")
def node() -> str:
    path = shutil.which("node")
    if path is None:
        pytest.skip("node is not on PATH")
    return path


@pytest.fixture
def app(tmp_path: Path, node: str) -> Path:
    folder = write_app(tmp_path / "task", NODE_APP, "index.js")
    (folder / "esm.mjs").write_text("export const handler = async (event) => ({ esm: event.n });\n")
    return folder


def node_spec(**options: Any) -> Any:
    return spec(runtime="nodejs20.x", handler=options.pop("handler", "index.handler"), **options)


def test_async_handler_event_context_and_env(app: Path) -> None:
    async def scenario(registry: TargetRegistry) -> Any:
        target = registry.target_for(
            node_spec(code_dir=app, memory=256, timeout=5, environment={"TABLE": "orders"})
        )
        echo = await call(target, {"action": "echo", "list": [1, "ü", None]})
        context = await call(
            target,
            {"action": "context"},
            request_id="req-n",
            client_context='{"custom": {"k": "v"}}',
        )
        return echo, context

    echo, context = run(scenario)
    assert echo.outcome is Outcome.SUCCESS
    assert payload(echo) == {"action": "echo", "list": [1, "ü", None]}
    seen = payload(context)
    assert seen["awsRequestId"] == "req-n"
    assert seen["functionName"] == "f"
    assert seen["functionVersion"] == "$LATEST"
    assert seen["invokedFunctionArn"] == "arn:aws:lambda:us-east-1:000000000000:function:f"
    assert seen["memoryLimitInMB"] == "256"
    assert seen["logGroupName"] == "/aws/lambda/f"
    assert 0 < seen["remaining"] <= 5000
    assert seen["clientContext"] == {"custom": {"k": "v"}}
    assert seen["env"] == {
        "name": "f",
        "region": "us-east-1",
        "root": str(app),
        "handler": "index.handler",
        "table": "orders",
        "cwd": str(app),
    }


def test_callback_esm_and_nested_handlers(app: Path) -> None:
    async def scenario(registry: TargetRegistry) -> Any:
        results = []
        for handler, event in (
            ("index.callback", {}),
            ("index.callback", {"fail": True}),
            ("esm.handler", {"n": 7}),
            ("index.nested.deeper", {}),
        ):
            target = registry.target_for(
                node_spec(name=handler.replace(".", "-"), handler=handler, code_dir=app)
            )
            results.append(await call(target, event))
        return results

    ok, failed, esm, nested = run(scenario)
    assert payload(ok) == {"via": "callback"}
    assert failed.outcome is Outcome.FUNCTION_ERROR
    assert payload(failed)["errorMessage"] == "cb failed"
    assert payload(esm) == {"esm": 7}
    assert payload(nested) == "nested"


def test_warm_reuse_and_console_logs(app: Path) -> None:
    async def scenario(registry: TargetRegistry) -> Any:
        target = registry.target_for(node_spec(code_dir=app))
        counts = [payload(await call(target, {"action": "count"})) for _ in range(3)]
        logged = await call(target, {"action": "log"}, request_id="req-log")
        first = await call(
            registry.target_for(node_spec(name="g", code_dir=app)), {"action": "count"}
        )
        return counts, logged, first

    counts, logged, first = run(scenario)
    assert [c["count"] for c in counts] == [1, 2, 3]
    assert len({c["pid"] for c in counts}) == 1
    lines = logged.logs.splitlines()
    stamp = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"
    assert lines[0] == "START RequestId: req-log Version: $LATEST"
    assert re.fullmatch(stamp + r"\treq-log\tINFO\thello { a: 1 }", lines[1])
    assert re.fullmatch(stamp + r"\treq-log\tERROR\tbad thing", lines[2])
    assert re.fullmatch(stamp + r"\treq-log\tWARN\tcareful", lines[3])
    assert lines[4:6] == ["raw stderr", "END RequestId: req-log"]
    assert lines[6].startswith("REPORT RequestId: req-log\tDuration: ")
    assert re.search(stamp + r"\tundefined\tINFO\tloading index\nSTART ", first.logs)


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        ({"action": "throw"}, {"errorType": "TypeError", "errorMessage": "boom"}),
        (
            {"action": "throw_string"},
            {"errorType": "string", "errorMessage": "plain string", "trace": []},
        ),
    ],
)
def test_errors_as_the_node_runtime_reports_them(app: Path, event: Any, expected: Any) -> None:
    async def scenario(registry: TargetRegistry) -> Any:
        target = registry.target_for(node_spec(code_dir=app))
        return await call(target, event, request_id="req-e"), await call(
            target, {"action": "count"}
        )

    failed, after = run(scenario)
    assert failed.outcome is Outcome.FUNCTION_ERROR
    assert failed.function_error == "Unhandled"
    document = payload(failed)
    assert list(document)[:2] == ["errorType", "errorMessage"]
    assert {key: document[key] for key in expected} == expected
    if event["action"] == "throw":
        assert document["trace"][0] == "TypeError: boom"
        assert f"{app}/index.js" in document["trace"][1]
        assert not any("node_worker.js" in line for line in document["trace"])
    assert "\treq-e\tERROR\tInvoke Error \t{" in failed.logs
    assert payload(after)["count"] == 2


def test_timeout_exit_and_undefined(app: Path) -> None:
    async def scenario(registry: TargetRegistry) -> Any:
        target = registry.target_for(node_spec(code_dir=app, timeout=1))
        return [
            await call(target, event, request_id="req-x")
            for event in (
                {"action": "hang"},
                {"action": "exit", "code": 9},
                {"action": "undefined"},
            )
        ]

    hung, died, undefined = run(scenario)
    assert payload(hung) == {
        "errorMessage": "RequestId: req-x Error: Task timed out after 1.00 seconds",
        "errorType": "Sandbox.Timedout",
    }
    assert payload(died) == {
        "errorMessage": "RequestId: req-x Error: Runtime exited with error: exit status 9",
        "errorType": "Runtime.ExitError",
    }
    assert undefined.outcome is Outcome.SUCCESS
    assert undefined.payload == b"null"


@pytest.mark.parametrize(
    ("files", "handler", "error_type", "message"),
    [
        (
            {"index.js": "exports.other = 1;"},
            "index.handler",
            "Runtime.HandlerNotFound",
            "index.handler is undefined or not exported",
        ),
        (
            {"index.js": "exports.handler = 42;"},
            "index.handler",
            "Runtime.HandlerNotFound",
            "index.handler is not a function",
        ),
        ({}, "index.handler", "Runtime.ImportModuleError", "Error: Cannot find module 'index'"),
        (
            {"index.js": "require('left-pad-not-here');"},
            "index.handler",
            "Runtime.ImportModuleError",
            "Error: Cannot find module 'left-pad-not-here'",
        ),
        (
            {"index.js": "exports.handler = async () => {;"},
            "index.handler",
            "Runtime.UserCodeSyntaxError",
            "SyntaxError: ",
        ),
        ({"index.js": ""}, "index", "Runtime.MalformedHandlerName", "Bad handler"),
        (
            {"index.js": "throw new RangeError('init failed');"},
            "index.handler",
            "RangeError",
            "init failed",
        ),
    ],
)
def test_load_errors(
    node: str, files: dict[str, str], handler: str, error_type: str, message: str
) -> None:
    async def scenario(registry: TargetRegistry) -> Any:
        return await call(
            registry.target_for(node_spec(handler=handler, code_zip=zip_of(dict(files)))), {}
        )

    result = run(scenario)
    assert result.outcome is Outcome.FUNCTION_ERROR
    document = payload(result)
    assert document["errorType"] == error_type
    assert document["errorMessage"].startswith(message)


def test_without_node_on_path_a_clear_service_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))

    async def scenario(registry: TargetRegistry) -> Any:
        return await call(registry.target_for(node_spec(code_zip=zip_of({"index.js": ""}))), {})

    result = run(scenario)
    assert result.outcome is Outcome.SERVICE_ERROR
    assert result.detail == (
        "function f has Runtime nodejs20.x, which needs Node.js: there is no `node` on the "
        "emulator's PATH"
    )
