"""A Python callable in the emulator's own process as a function: `fn(event, context)`.

For tests: the handler under test runs where the test can see it (breakpoints, shared
state, mocks). A plain callable runs on a thread of the registry's own pool, off the
event loop, so that it may call the emulator over HTTP (boto3) without a deadlock; an
async callable is awaited on the loop. It gets the event decoded from the exact payload,
a context like the Python runtime's, and its `logging` records (root logger, Lambda's
format) go into the invocation's log; `print` is not captured (it goes to the process's
stdout). Lambda's timeout applies to the answer: a callable still running at its
deadline is a timed-out invocation (a thread cannot be stopped, so it runs on unseen).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import functools
import inspect
import logging
import os
import time
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any

import orjson

from emulator.triggers.runners import output, python_worker
from emulator.triggers.targets import FunctionSpec, Invocation, InvokeResult, Outcome

Handler = Callable[[Any, Any], Any]

#: The log lines of the invocation running in this context (None: not in one).
_capture: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar(
    "emulator_function_log", default=None
)
_request_id: contextvars.ContextVar[str] = contextvars.ContextVar(
    "emulator_function_request_id", default=""
)


class _CaptureHandler(logging.Handler):
    """On the root logger: copies the records logged inside an invocation (found by
    context variable, so threads and tasks of the emulator are left out) into its log."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(python_worker.lambda_log_formatter())

    def emit(self, record: logging.LogRecord) -> None:
        lines = _capture.get()
        if lines is None:
            return
        record.aws_request_id = _request_id.get()
        try:
            lines.append(self.format(record))
        except Exception:
            self.handleError(record)


_handler_installed = False


def _install_capture() -> None:
    global _handler_installed
    if not _handler_installed:
        logging.getLogger().addHandler(_CaptureHandler())
        _handler_installed = True


def _is_async(fn: Any) -> bool:
    while isinstance(fn, functools.partial):
        fn = fn.func
    return inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(
        getattr(fn, "__call__", None)  # noqa: B004 - an object with `async def __call__`
    )


#: Frames between the invocation and the user's code: this module, asyncio's and the
#: thread pool's. The error document's stack trace starts after them.
_PLUMBING = (
    os.path.dirname(asyncio.__file__) + os.sep,
    os.path.dirname(concurrent.futures.__file__) + os.sep,
)


def _skip_frame(filename: str) -> bool:
    return filename == __file__ or filename.startswith(("<", *_PLUMBING))


class CallableTarget:
    def __init__(self, spec: FunctionSpec, fn: Handler, executor: Executor) -> None:
        self.spec = spec
        self.fn = fn
        self.executor = executor
        _install_capture()

    async def invoke(self, invocation: Invocation) -> InvokeResult:
        spec = self.spec
        request_id = invocation.request_id
        lines: list[str] = []
        started = time.perf_counter()
        try:
            event = orjson.loads(invocation.payload)
        except orjson.JSONDecodeError as error:
            document = python_worker.error_document(
                f"Unable to unmarshal input: {error}", "Runtime.UnmarshalError", None, request_id
            )
            return self._failed(document, lines, started)
        context = python_worker.LambdaContext(
            request_id,
            spec.name,
            spec.arn,
            spec.memory_mb,
            time.time() * 1000 + spec.timeout_seconds * 1000,
            python_worker.decode_client_context(invocation.client_context),
            f"/aws/lambda/{spec.name}",
            f"{time.strftime('%Y/%m/%d', time.gmtime())}/[$LATEST]in-process",
        )
        scope = contextvars.copy_context()
        scope.run(_capture.set, lines)
        scope.run(_request_id.set, request_id)
        loop = asyncio.get_running_loop()
        try:
            if _is_async(self.fn):
                running: asyncio.Future[Any] = loop.create_task(
                    self.fn(event, context), context=scope
                )
            else:
                running = loop.run_in_executor(self.executor, scope.run, self.fn, event, context)
            try:
                result = await asyncio.wait_for(running, spec.timeout_seconds)
                if inspect.isawaitable(result):  # a sync callable that returned a coroutine
                    result = await asyncio.wait_for(result, spec.timeout_seconds)
            except TimeoutError:
                duration = (time.perf_counter() - started) * 1000
                lines.append(output.timeout_log_line(request_id, spec.timeout_seconds))
                return output.function_error(
                    output.timeout_document(request_id, spec.timeout_seconds),
                    output.framed_log(
                        request_id, "".join(lines), duration, spec.memory_mb, status="timeout"
                    ),
                    duration,
                )
            body = python_worker.marshal_response(result).encode()
        except python_worker.MarshalError as error:
            document = python_worker.error_document(
                str(error), "Runtime.MarshalError", None, request_id
            )
            return self._failed(document, lines, started)
        except Exception as error:
            document = python_worker.exception_document(error, request_id, _skip_frame)
            return self._failed(document, lines, started)
        duration = (time.perf_counter() - started) * 1000
        logs = output.framed_log(request_id, "".join(lines), duration, spec.memory_mb)
        if len(body) > output.MAX_RESPONSE_BYTES:
            return output.function_error(output.too_large_document(len(body)), logs, duration)
        return InvokeResult(Outcome.SUCCESS, body, logs=logs, duration_ms=duration)

    def _failed(self, document: dict[str, Any], lines: list[str], started: float) -> InvokeResult:
        duration = (time.perf_counter() - started) * 1000
        lines.append(python_worker.error_log_lines(document))
        logs = output.framed_log(
            document["requestId"], "".join(lines), duration, self.spec.memory_mb
        )
        return output.function_error(document, logs, duration)

    async def close(self) -> None:
        """Nothing to stop: the callable belongs to the caller."""
