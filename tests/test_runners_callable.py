"""In-process callables as functions, and which target wins for a function name."""

from __future__ import annotations

import asyncio
import decimal
import logging
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from runner_helpers import call, payload, run, spec, write_app

from emulator.triggers.runners import TargetRegistry
from emulator.triggers.runners.http_target import HttpTarget
from emulator.triggers.runners.inprocess import CallableTarget
from emulator.triggers.runners.process import ProcessTarget
from emulator.triggers.targets import Outcome

logger = logging.getLogger("user.handler")


def test_a_callable_gets_the_event_and_a_context() -> None:
    seen: list[Any] = []

    def handler(event: dict[str, Any], context: Any) -> Any:
        seen.append((event, context, threading.current_thread().name))
        return {"got": event["Records"][0]["eventName"], "d": decimal.Decimal("2")}

    async def scenario(registry: TargetRegistry) -> Any:
        registry.register_callable("f", handler)
        target = registry.target_for(spec("f", memory=1024, timeout=9))
        return await call(target, {"Records": [{"eventName": "INSERT"}]}, request_id="req-c")

    result = run(scenario)
    assert result.outcome is Outcome.SUCCESS
    assert payload(result) == {"got": "INSERT", "d": 2}
    event, context, thread = seen[0]
    assert event == {"Records": [{"eventName": "INSERT"}]}
    assert context.aws_request_id == "req-c"
    assert context.function_name == "f"
    assert context.function_version == "$LATEST"
    assert context.invoked_function_arn == "arn:aws:lambda:us-east-1:000000000000:function:f"
    assert context.memory_limit_in_mb == "1024"
    assert context.log_group_name == "/aws/lambda/f"
    assert 0 < context.get_remaining_time_in_millis() <= 9000
    assert thread.startswith("emulator-function")  # off the event loop's thread
    assert result.logs.startswith("START RequestId: req-c Version: $LATEST\nEND RequestId: req-c\n")


def test_an_exception_is_a_function_error_with_the_error_document() -> None:
    def handler(event: dict[str, Any], context: Any) -> Any:
        logger.warning("about to fail on %s", event["id"])
        raise KeyError("missing")

    async def scenario(registry: TargetRegistry) -> Any:
        registry.register_callable("f", handler)
        return await call(registry.target_for(spec("f")), {"id": 7}, request_id="req-e")

    result = run(scenario)
    assert result.outcome is Outcome.FUNCTION_ERROR
    assert result.function_error == "Unhandled"
    document = payload(result)
    assert document["errorMessage"] == "'missing'"
    assert document["errorType"] == "KeyError"
    assert document["requestId"] == "req-e"
    assert document["stackTrace"][0].startswith(f'  File "{__file__}", line ')
    assert len(document["stackTrace"]) == 1
    assert "\treq-e\tabout to fail on 7\n" in result.logs
    assert "[ERROR] KeyError: 'missing'\nTraceback (most recent call last):\n" in result.logs


def test_logging_of_other_threads_is_not_captured() -> None:
    def handler(event: dict[str, Any], context: Any) -> Any:
        logger.error("inside")
        return None

    async def scenario(registry: TargetRegistry) -> Any:
        registry.register_callable("f", handler)
        target = registry.target_for(spec("f"))
        logger.error("outside, before")
        result = await call(target, {})
        logger.error("outside, after")
        return result

    result = run(scenario)
    assert "inside" in result.logs
    assert "outside" not in result.logs


def test_an_async_callable_is_awaited() -> None:
    async def handler(event: dict[str, Any], context: Any) -> Any:
        await asyncio.sleep(0)
        logger.warning("async says hi")
        return [event["n"] * 2]

    async def scenario(registry: TargetRegistry) -> Any:
        registry.register_callable("f", handler)
        return await call(registry.target_for(spec("f")), {"n": 21})

    result = run(scenario)
    assert payload(result) == [42]
    assert "async says hi" in result.logs


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_a_callable_past_its_timeout_is_a_timed_out_invocation(kind: str) -> None:
    release = threading.Event()

    def blocking(event: dict[str, Any], context: Any) -> Any:
        release.wait(10)

    async def waiting(event: dict[str, Any], context: Any) -> Any:
        await asyncio.sleep(10)

    async def scenario(registry: TargetRegistry) -> Any:
        registry.register_callable("f", blocking if kind == "sync" else waiting)
        try:
            return await call(registry.target_for(spec("f", timeout=0.2)), {}, request_id="req-to")
        finally:
            release.set()

    result = run(scenario)
    assert result.outcome is Outcome.FUNCTION_ERROR
    assert payload(result) == {
        "errorMessage": "RequestId: req-to Error: Task timed out after 0.20 seconds",
        "errorType": "Sandbox.Timedout",
    }
    assert "Status: timeout" in result.logs


def test_an_unmarshalable_result() -> None:
    async def scenario(registry: TargetRegistry) -> Any:
        registry.register_callable("f", lambda event, context: object())
        return await call(registry.target_for(spec("f")), {})

    result = run(scenario)
    assert result.outcome is Outcome.FUNCTION_ERROR
    document = payload(result)
    assert document["errorType"] == "Runtime.MarshalError"
    assert document["errorMessage"].startswith("Unable to marshal response: Object of type object")


def test_concurrent_invocations_of_a_callable_run_at_once() -> None:
    barrier = threading.Barrier(3, timeout=10)

    def handler(event: dict[str, Any], context: Any) -> Any:
        barrier.wait()  # raises BrokenBarrierError unless all three are inside together
        return event["i"]

    async def scenario(registry: TargetRegistry) -> Any:
        registry.register_callable("f", handler)
        target = registry.target_for(spec("f", timeout=20))
        return await asyncio.gather(*(call(target, {"i": i}) for i in range(3)))

    results = run(scenario)
    assert [payload(result) for result in results] == [0, 1, 2]


def test_a_callable_wins_over_a_url_which_wins_over_the_code(tmp_path: Path) -> None:
    code = write_app(tmp_path / "task")

    def first(event: Any, context: Any) -> str:
        return "first"

    def second(event: Any, context: Any) -> str:
        return "second"

    async def scenario(registry: TargetRegistry) -> Any:
        function = spec("f", code_dir=code)
        kinds = [type(registry.target_for(function))]
        registry.register_url("f", "http://127.0.0.1:9/")
        kinds.append(type(registry.target_for(function)))
        registry.register_callable("f", first)
        kinds.append(type(registry.target_for(function)))
        names = registry.overridden_names()
        answers = [payload(await call(registry.target_for(function), {}))]
        registry.register_callable("f", second)
        answers.append(payload(await call(registry.target_for(function), {})))
        registry.unregister_callable("f")
        kinds.append(type(registry.target_for(function)))
        registry.unregister_url("f")
        kinds.append(type(registry.target_for(function)))
        return kinds, names, answers, registry.overridden_names()

    kinds, names, answers, after = run(scenario)
    assert kinds == [ProcessTarget, HttpTarget, CallableTarget, HttpTarget, ProcessTarget]
    assert names == {"f"}
    assert answers == ["first", "second"]
    assert after == set()


def test_bad_registrations_are_refused() -> None:
    registry = TargetRegistry()
    with pytest.raises(TypeError):
        registry.register_callable("f", "not callable")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        registry.register_callable("", lambda e, c: None)
    with pytest.raises(ValueError, match="not an http"):
        registry.register_url("f", "ftp://host/")
    with pytest.raises(ValueError, match="not an http"):
        TargetRegistry(urls={"f": "localhost:9000"})


def test_registering_from_another_thread_while_invoking() -> None:
    stop = threading.Event()

    def churn(registry: TargetRegistry) -> None:
        while not stop.is_set():
            registry.register_callable("g", lambda e, c: "g")
            registry.unregister_callable("g")
            time.sleep(0)

    async def scenario(registry: TargetRegistry) -> Any:
        registry.register_callable("f", lambda event, context: event)
        thread = threading.Thread(target=churn, args=(registry,))
        thread.start()
        try:
            return [payload(await call(registry.target_for(spec("f")), i)) for i in range(200)]
        finally:
            stop.set()
            thread.join()

    assert run(scenario) == list(range(200))
