"""Python zip functions in worker processes, driven through the TargetRegistry the way the
Lambda API's Invoke and the poller drive them: the event, the context, the environment,
warm reuse, concurrency, timeouts, crashes, import errors, logs and revision rebuilds."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from runner_helpers import (
    call,
    eventually,
    eventually_async,
    invocation,
    payload,
    pid_alive,
    run,
    spec,
    write_app,
    zip_of,
)

from emulator.triggers.runners import TargetRegistry
from emulator.triggers.runners.output import log_tail
from emulator.triggers.runners.process import ProcessTarget
from emulator.triggers.targets import Outcome

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


@pytest.fixture
def app(tmp_path: Path) -> Path:
    return write_app(tmp_path / "task")


def test_the_handler_gets_the_exact_event_and_its_result_is_the_payload(app: Path) -> None:
    event = {
        "action": "echo",
        "Records": [{"dynamodb": {"Keys": {"pk": {"S": "ü-ß-✓"}}, "SizeBytes": 70}}],
        "n": 12345678901234567890,
        "f": 1.5,
        "t": True,
        "z": None,
        "empty": {},
    }

    async def scenario(registry: TargetRegistry) -> Any:
        return await call(registry.target_for(spec(code_dir=app)), event)

    result = run(scenario)
    assert result.outcome is Outcome.SUCCESS
    assert result.function_error is None
    assert payload(result) == event
    # Python's json.dumps, as the runtime answers: ", " and ": " separators.
    assert result.payload.startswith(b'{"action": "echo", "Records": [{"dynamodb"')


def test_code_from_a_zip_file_with_a_package(tmp_path: Path) -> None:
    package = zip_of(
        {
            "lib/__init__.py": "",
            "lib/greet.py": "def greet(name):\n    return 'hello ' + name\n",
            "service/__init__.py": "",
            "service/main.py": "from lib.greet import greet\n"
            "def run(event, context):\n    return {'said': greet(event['name'])}\n",
        }
    )

    async def scenario(registry: TargetRegistry) -> Any:
        target = registry.target_for(spec(handler="service/main.run", code_zip=package))
        return await call(target, {"name": "zip"}), await call(target, {"name": "again"})

    first, second = run(scenario)
    assert payload(first) == {"said": "hello zip"}
    assert payload(second) == {"said": "hello again"}


def test_the_context_object(app: Path) -> None:
    custom = {
        "custom": {"tenant": "t-1"},
        "env": {"locale": "fr"},
        "client": {"installation_id": "i-9"},
    }
    header = base64.b64encode(json.dumps(custom).encode()).decode()

    async def scenario(registry: TargetRegistry) -> Any:
        target = registry.target_for(spec(code_dir=app, memory=256, timeout=7))
        plain = await call(target, {"action": "context"}, request_id="req-plain")
        with_client = await call(
            target, {"action": "context"}, request_id="req-client", client_context=header
        )
        return plain, with_client

    plain, with_client = run(scenario)
    context = payload(plain)
    assert context["aws_request_id"] == "req-plain"
    assert context["function_name"] == "f"
    assert context["function_version"] == "$LATEST"
    assert context["invoked_function_arn"] == "arn:aws:lambda:us-east-1:000000000000:function:f"
    assert context["memory_limit_in_mb"] == "256"  # a string, as on Lambda
    assert context["log_group_name"] == "/aws/lambda/f"
    assert re.fullmatch(r"\d{4}/\d\d/\d\d/\[\$LATEST\][0-9a-f]{32}", context["log_stream_name"])
    assert 0 < context["remaining"] <= 7000
    assert context["identity"] == [None, None]
    assert context["client_context"] is None
    client = payload(with_client)["client_context"]
    assert client == {
        "custom": {"tenant": "t-1"},
        "env": {"locale": "fr"},
        "installation_id": "i-9",
    }


def test_environment_variables_the_functions_and_lambdas_own(app: Path) -> None:
    async def scenario(registry: TargetRegistry) -> Any:
        target = registry.target_for(
            spec(
                name="orders-trigger",
                code_dir=app,
                memory=512,
                region="eu-west-1",
                environment={"TABLE": "orders", "AWS_REGION": "us-west-2"},
            )
        )
        return await call(target, {"action": "env"}), await call(target, {"action": "env"})

    first, second = run(scenario)
    seen = payload(first)
    env = seen["env"]
    assert env["TABLE"] == "orders"
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == "orders-trigger"
    assert env["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "512"
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "eu-west-1"  # reserved: Lambda's wins
    assert env["AWS_EXECUTION_ENV"] == "AWS_Lambda_python3.12"
    assert env["AWS_LAMBDA_LOG_GROUP_NAME"] == "/aws/lambda/orders-trigger"
    assert env["AWS_LAMBDA_INITIALIZATION_TYPE"] == "on-demand"
    assert env["_HANDLER"] == "app.handler"
    assert env["LAMBDA_TASK_ROOT"] == str(app) == seen["cwd"] == seen["path0"]
    assert os.path.isdir(env["LAMBDA_RUNTIME_DIR"])
    assert env["TZ"] == ":UTC"
    assert env["AWS_ACCESS_KEY_ID"] and env["AWS_SECRET_ACCESS_KEY"]
    assert re.fullmatch(
        r"Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0", env["_X_AMZN_TRACE_ID"]
    )
    assert payload(second)["env"]["_X_AMZN_TRACE_ID"] != env["_X_AMZN_TRACE_ID"]


def test_a_warm_worker_is_reused_and_the_handler_imported_once(app: Path) -> None:
    async def scenario(registry: TargetRegistry) -> Any:
        target = registry.target_for(spec(code_dir=app))
        return [await call(target, {"action": "count"}) for _ in range(5)]

    results = run(scenario)
    seen = [payload(result) for result in results]
    assert [s["count"] for s in seen] == [1, 2, 3, 4, 5]
    assert len({s["pid"] for s in seen}) == 1
    # The init phase's output and Init Duration belong to the first invocation only.
    assert "init output of app" in results[0].logs
    assert "Init Duration: " in results[0].logs
    assert all("init output" not in r.logs and "Init Duration" not in r.logs for r in results[1:])


def test_concurrent_invocations_each_get_a_worker(app: Path, tmp_path: Path) -> None:
    # Each handler waits until all three have started: run one at a time, the first would
    # give up after 20 s having seen only itself.
    folder = tmp_path / "rendezvous"
    folder.mkdir()

    async def scenario(registry: TargetRegistry) -> Any:
        target = registry.target_for(spec(code_dir=app, timeout=30))
        event = {"action": "rendezvous", "folder": str(folder), "n": 3}
        results = await asyncio.gather(*(call(target, event) for _ in range(3)))
        assert isinstance(target, ProcessTarget)
        workers = target.workers
        again = await asyncio.gather(*(call(target, {"action": "count"}) for _ in range(3)))
        return results, workers, again

    results, workers, again = run(scenario)
    seen = [payload(result) for result in results]
    assert [s["saw"] for s in seen] == [3, 3, 3]
    assert len({s["pid"] for s in seen}) == 3
    assert workers == 3
    assert {payload(r)["pid"] for r in again} == {s["pid"] for s in seen}  # all warm


def test_a_pool_limit_queues_the_rest(app: Path) -> None:
    async def scenario(registry: TargetRegistry) -> Any:
        target = registry.target_for(spec(code_dir=app))
        results = await asyncio.gather(*(call(target, {"action": "count"}) for _ in range(6)))
        assert isinstance(target, ProcessTarget)
        return results, target.workers

    results, workers = run(scenario, max_workers=2)
    assert all(result.outcome is Outcome.SUCCESS for result in results)
    assert workers <= 2
    assert len({payload(result)["pid"] for result in results}) <= 2


def test_a_timeout_kills_the_worker_and_its_children_and_is_a_function_error(
    app: Path, tmp_path: Path
) -> None:
    pid_file = tmp_path / "pids.json"

    async def scenario(registry: TargetRegistry) -> Any:
        target = registry.target_for(spec(code_dir=app, timeout=1))
        hung = await call(
            target, {"action": "hang", "pid_file": str(pid_file), "child": True}, request_id="req-t"
        )
        after = await call(target, {"action": "count"})
        return hung, after

    hung, after = run(scenario)
    assert hung.outcome is Outcome.FUNCTION_ERROR
    assert hung.function_error == "Unhandled"
    assert payload(hung) == {
        "errorMessage": "RequestId: req-t Error: Task timed out after 1.00 seconds",
        "errorType": "Sandbox.Timedout",
    }
    assert "about to hang" in hung.logs
    assert re.search(
        r"Z req-t Task timed out after 1.00 seconds\nEND RequestId: req-t\n", hung.logs
    )
    assert "Status: timeout" in hung.logs
    assert hung.duration_ms >= 1000
    worker_pid, child_pid = json.loads(pid_file.read_text())
    assert eventually(lambda: not pid_alive(worker_pid) and not pid_alive(child_pid))
    # The next invocation gets a fresh worker, with a cold start.
    assert after.outcome is Outcome.SUCCESS
    assert payload(after)["count"] == 1
    assert payload(after)["pid"] != worker_pid


def test_a_handler_that_raises_gets_the_python_runtime_error_document(app: Path) -> None:
    async def scenario(registry: TargetRegistry) -> Any:
        target = registry.target_for(spec(code_dir=app))
        failed = await call(target, {"action": "raise"}, request_id="req-err")
        after = await call(target, {"action": "count"})
        return failed, after

    failed, after = run(scenario)
    assert failed.outcome is Outcome.FUNCTION_ERROR
    assert failed.function_error == "Unhandled"
    document = payload(failed)
    assert list(document) == ["errorMessage", "errorType", "requestId", "stackTrace"]
    assert document["errorMessage"] == "boom"
    assert document["errorType"] == "ValueError"
    assert document["requestId"] == "req-err"
    assert isinstance(document["stackTrace"], list)
    assert document["stackTrace"][0].startswith(f'  File "{app}/app.py", line ')
    assert 'raise ValueError("boom")' in document["stackTrace"][-1]
    assert "[ERROR] ValueError: boom\nTraceback (most recent call last):\n" in failed.logs
    # Raising does not cost the worker.
    assert payload(after)["count"] == 2


@pytest.mark.parametrize(
    ("event", "status"),
    [
        ({"action": "exit", "code": 3}, "exit status 3"),
        ({"action": "exit", "code": 0}, "exit status 0"),
        ({"action": "sys_exit"}, "exit status 2"),
        ({"action": "signal", "signal": int(signal.SIGKILL)}, "signal: killed"),
        ({"action": "signal", "signal": int(signal.SIGSEGV)}, "signal: segmentation fault"),
        ({"action": "signal", "signal": int(signal.SIGABRT)}, "signal: aborted"),
    ],
)
def test_a_worker_that_dies_is_a_runtime_exit_error(
    app: Path, event: dict[str, Any], status: str
) -> None:
    async def scenario(registry: TargetRegistry) -> Any:
        target = registry.target_for(spec(code_dir=app))
        await call(target, {"action": "count"})
        died = await call(target, event, request_id="req-x")
        after = await call(target, {"action": "count"})
        return died, after

    died, after = run(scenario)
    assert died.outcome is Outcome.FUNCTION_ERROR
    assert died.function_error == "Unhandled"
    assert payload(died) == {
        "errorMessage": f"RequestId: req-x Error: Runtime exited with error: {status}",
        "errorType": "Runtime.ExitError",
    }
    assert "Error Type: Runtime.ExitError" in died.logs
    assert after.outcome is Outcome.SUCCESS
    assert payload(after)["count"] == 1  # a new worker


@pytest.mark.parametrize(
    ("files", "handler", "error_type", "message"),
    [
        (
            {},
            "lambda_function.lambda_handler",
            "Runtime.ImportModuleError",
            "Unable to import module 'lambda_function': No module named 'lambda_function'",
        ),
        (
            {"app.py": "import not_installed_anywhere\n"},
            "app.handler",
            "Runtime.ImportModuleError",
            "Unable to import module 'app': No module named 'not_installed_anywhere'",
        ),
        (
            {"app.py": "def other(e, c):\n    pass\n"},
            "app.handler",
            "Runtime.HandlerNotFound",
            "Handler 'handler' missing on module 'app'",
        ),
        (
            {"app.py": "def handler(e, c):\n    return (\n"},
            "app.handler",
            "Runtime.UserCodeSyntaxError",
            "Syntax error in module 'app': ",
        ),
        (
            {"app.py": ""},
            "nodot",
            "Runtime.MalformedHandlerName",
            "Bad handler 'nodot': not enough values to unpack (expected 2, got 1)",
        ),
        (
            {"app.py": ""},
            "sys.handler",
            "Runtime.BuiltInModuleConflict",
            "Cannot use built-in module sys as a handler module",
        ),
    ],
)
def test_import_errors_are_reported_as_the_runtime_does(
    files: dict[str, str], handler: str, error_type: str, message: str
) -> None:
    async def scenario(registry: TargetRegistry) -> Any:
        target = registry.target_for(spec(handler=handler, code_zip=zip_of(dict(files))))
        return await call(target, {}, request_id="req-i"), await call(target, {})

    first, second = run(scenario)
    for result in (first, second):
        assert result.outcome is Outcome.FUNCTION_ERROR
        assert result.function_error == "Unhandled"
        assert payload(result)["errorType"] == error_type
    document = payload(first)
    assert document["errorMessage"].startswith(message)
    assert document["requestId"] == "req-i"
    assert f"[ERROR] {error_type}: {message}" in first.logs


def test_an_exception_at_import_time_is_an_init_error() -> None:
    package = zip_of({"app.py": "raise RuntimeError('no config')\ndef handler(e, c):\n    pass\n"})

    async def scenario(registry: TargetRegistry) -> Any:
        return await call(registry.target_for(spec(code_zip=package)), {})

    result = run(scenario)
    assert result.outcome is Outcome.FUNCTION_ERROR
    document = payload(result)
    assert document["errorType"] == "RuntimeError"
    assert document["errorMessage"] == "no config"
    assert document["requestId"] == ""
    assert document["stackTrace"][0].startswith('  File "')
    assert "app.py" in document["stackTrace"][-1]
    assert result.logs.index("[ERROR] RuntimeError: no config") < result.logs.index("START")


def test_logs_stdout_stderr_logging_and_child_output_per_invocation(app: Path) -> None:
    async def scenario(registry: TargetRegistry) -> Any:
        target = registry.target_for(spec(code_dir=app, memory=192))
        await call(target, {"action": "count"})
        logged = await call(target, {"action": "log"}, request_id="req-log")
        quiet = await call(target, {"action": "count"}, request_id="req-quiet")
        return logged, quiet

    logged, quiet = run(scenario)
    lines = logged.logs.splitlines()
    assert lines[0] == "START RequestId: req-log Version: $LATEST"
    assert lines[1:4] == ["to stdout", "to stderr", lines[3]]
    assert re.fullmatch(
        r"\[WARNING\]\t\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\treq-log\ta warning 1", lines[3]
    )
    assert lines[4:6] == ["raw fd write", "from a child process"]
    assert lines[6] == "END RequestId: req-log"
    assert re.fullmatch(
        r"REPORT RequestId: req-log\tDuration: \d+\.\d\d ms\tBilled Duration: \d+ ms\t"
        r"Memory Size: 192 MB\tMax Memory Used: \d+ MB\t",
        lines[7],
    )
    assert len(lines) == 8
    assert "info line" not in logged.logs  # the root logger is at WARNING, as on Lambda
    assert quiet.logs.splitlines()[:2] == [
        "START RequestId: req-quiet Version: $LATEST",
        "END RequestId: req-quiet",
    ]
    tail = base64.b64decode(log_tail(logged.logs)).decode()
    assert tail == logged.logs  # short: the whole log
    assert payload(logged) == "logged"


def test_a_long_log_keeps_its_end_and_the_tail_is_the_last_4_kb(app: Path) -> None:
    async def scenario(registry: TargetRegistry) -> Any:
        return await call(registry.target_for(spec(code_dir=app)), {"action": "big_log"})

    result = run(scenario)
    assert result.outcome is Outcome.SUCCESS
    assert len(result.logs) < 1.2 * (1 << 20)
    assert re.search(r"\[\.\.\. \d+ bytes of log not kept \.\.\.\]", result.logs)
    assert "the end\nEND RequestId: " in result.logs
    tail = base64.b64decode(log_tail(result.logs))
    assert len(tail) == 4096
    assert result.logs.encode().endswith(tail)


@pytest.mark.parametrize(
    ("action", "outcome", "expected"),
    [
        ("decimal", Outcome.SUCCESS, {"d": 1.5, "i": 3}),
        ("none", Outcome.SUCCESS, None),
        ("unmarshalable", Outcome.FUNCTION_ERROR, "Runtime.MarshalError"),
        ("huge", Outcome.FUNCTION_ERROR, "Function.ResponseSizeTooLarge"),
        ("enormous", Outcome.FUNCTION_ERROR, "Function.ResponseSizeTooLarge"),
    ],
)
def test_the_response_is_marshalled_as_the_runtime_does(
    app: Path, action: str, outcome: Outcome, expected: Any
) -> None:
    async def scenario(registry: TargetRegistry) -> Any:
        return await call(registry.target_for(spec(code_dir=app)), {"action": action})

    result = run(scenario)
    assert result.outcome is outcome
    if outcome is Outcome.SUCCESS:
        assert payload(result) == expected
    else:
        assert payload(result)["errorType"] == expected


def test_the_event_loop_keeps_running_while_a_handler_blocks(app: Path, tmp_path: Path) -> None:
    gate = tmp_path / "gate"

    async def scenario(registry: TargetRegistry) -> Any:
        blocked = asyncio.ensure_future(
            call(
                registry.target_for(spec("a", code_dir=app, timeout=30)),
                {"action": "wait_for_file", "path": str(gate)},
            )
        )
        other = await call(registry.target_for(spec("b", code_dir=app)), {"action": "count"})
        assert not blocked.done()
        gate.touch()
        return other, await blocked

    other, blocked = run(scenario)
    assert other.outcome is Outcome.SUCCESS
    assert payload(blocked) == {"appeared": True}


def test_a_cancelled_invocation_kills_its_worker(app: Path, tmp_path: Path) -> None:
    pid_file = tmp_path / "pids.json"

    async def scenario(registry: TargetRegistry) -> Any:
        target = registry.target_for(spec(code_dir=app, timeout=60))
        task = asyncio.ensure_future(call(target, {"action": "hang", "pid_file": str(pid_file)}))
        assert await eventually_async(pid_file.exists)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return await call(target, {"action": "count"})

    after = run(scenario)
    (worker_pid,) = json.loads(pid_file.read_text())
    assert eventually(lambda: not pid_alive(worker_pid))
    assert payload(after)["count"] == 1


def test_targets_are_cached_per_revision_and_rebuilt_when_it_changes(
    app: Path, tmp_path: Path
) -> None:
    async def scenario(registry: TargetRegistry) -> Any:
        old = registry.target_for(spec(code_dir=app, revision="r1"))
        assert registry.target_for(spec(code_dir=app, revision="r1")) is old
        first = payload(await call(old, {"action": "count"}))
        slow = asyncio.ensure_future(call(old, {"action": "sleep", "seconds": 0.3}))
        await asyncio.sleep(0)
        new = registry.target_for(spec(code_dir=app, revision="r2", environment={"V": "2"}))
        assert new is not old
        assert registry.target_for(spec(code_dir=app, revision="r2")) is new
        in_flight = await slow  # the old version finishes what it started
        fresh = payload(await call(new, {"action": "count"}))
        assert isinstance(old, ProcessTarget)
        assert await eventually_async(lambda: old.workers == 0)
        closed = await call(old, {"action": "count"})
        return first, in_flight, fresh, closed

    first, in_flight, fresh, closed = run(scenario)
    assert in_flight.outcome is Outcome.SUCCESS
    assert fresh["pid"] != first["pid"]
    assert fresh["count"] == 1
    assert eventually(lambda: not pid_alive(first["pid"]))
    assert closed.outcome is Outcome.SERVICE_ERROR


def test_close_stops_every_worker(app: Path) -> None:
    pids: list[int] = []

    async def scenario(registry: TargetRegistry) -> Any:
        for name in ("a", "b"):
            pids.append(
                payload(
                    await call(registry.target_for(spec(name, code_dir=app)), {"action": "count"})
                )["pid"]
            )
        await registry.close()
        return await call(registry.target_for(spec("a", code_dir=app)), {"action": "count"})

    run(scenario)
    assert eventually(lambda: not any(pid_alive(pid) for pid in pids))


def test_a_configured_interpreter_without_the_emulator_installed(app: Path) -> None:
    other = shutil.which("python3", path="/usr/bin")
    if other is None:
        pytest.skip("no /usr/bin/python3 here")

    async def scenario(registry: TargetRegistry) -> Any:
        target = registry.target_for(spec(code_dir=app))
        return await call(target, {"action": "env"}), await call(target, {"action": "raise"})

    env, failed = run(scenario, python=other)
    assert payload(env)["executable"] == other
    assert payload(failed)["errorType"] == "ValueError"


@pytest.mark.parametrize(
    ("options", "detail"),
    [
        ({"code_zip": b"not a zip"}, "not a valid zip file"),
        ({"code_zip": zip_of({"../escape.py": "x = 1\n"})}, "unsafe path: ../escape.py"),
        ({"code_dir": "/nonexistent/folder"}, "code folder /nonexistent/folder does not exist"),
        ({}, "has no code the emulator can run"),
        (
            {"code_zip": zip_of({}), "runtime": "java21"},
            "Runtime java21, which the emulator cannot run",
        ),
        ({"code_zip": zip_of({}), "runtime": None}, "Runtime None, which the emulator cannot run"),
    ],
)
def test_code_that_cannot_run_here_is_a_service_error(options: dict[str, Any], detail: str) -> None:
    async def scenario(registry: TargetRegistry) -> Any:
        return await call(registry.target_for(spec(**options)), {})

    result = run(scenario)
    assert result.outcome is Outcome.SERVICE_ERROR
    assert detail in result.detail
    assert result.payload == b""


def test_under_uvloop(app: Path) -> None:
    uvloop = pytest.importorskip("uvloop")

    async def scenario() -> Any:
        registry = TargetRegistry()
        try:
            target = registry.target_for(spec(code_dir=app, timeout=1))
            return [
                await target.invoke(invocation(event))
                for event in (
                    {"action": "count"},
                    {"action": "exit", "code": 5},
                    {"action": "count"},
                )
            ]
        finally:
            await registry.close()

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        ok, died, again = runner.run(scenario())
    assert ok.outcome is again.outcome is Outcome.SUCCESS
    assert payload(died)["errorMessage"].endswith("exit status 5")


def test_a_worker_ends_when_the_emulator_is_killed(app: Path, tmp_path: Path) -> None:
    """Killed without closing its workers, the emulator leaves none behind, even one whose
    handler hangs (and so never reads the request pipe's EOF)."""
    pid_file = tmp_path / "pids.json"
    script = tmp_path / "emulator_stand_in.py"
    script.write_text(
        "import asyncio, json, sys\n"
        "from emulator.triggers.runners import TargetRegistry\n"
        "from emulator.triggers.targets import FunctionSpec, Invocation\n"
        "async def main():\n"
        "    spec = FunctionSpec('f', 'arn:f', 'python3.12', 'app.handler', timeout_seconds=60,\n"
        f"                        code_dir={str(app)!r})\n"
        f"    event = json.dumps({{'action': 'hang', 'pid_file': {str(pid_file)!r}}}).encode()\n"
        "    await TargetRegistry().target_for(spec).invoke(Invocation(event, 'r'))\n"
        "asyncio.run(main())\n"
    )
    process = subprocess.Popen([sys.executable, str(script)])
    try:
        assert eventually(pid_file.exists, 30)
        (worker_pid,) = json.loads(pid_file.read_text())
        assert pid_alive(worker_pid)
    finally:
        process.kill()
        process.wait()
    assert eventually(lambda: not pid_alive(worker_pid), 10)
