"""What Lambda prints and answers around an invocation, shared by every runner: the
START / END / REPORT log lines, the timeout and runtime-exit error documents, the log
tail of `X-Amz-Log-Result`, and the `InvokeResult`s for the outcomes."""

from __future__ import annotations

import base64
import math
import signal
import time
from typing import Any

import orjson

from emulator.triggers.targets import InvokeResult, Outcome

#: Lambda's limit on a synchronous response (6 MB as Lambda counts it).
MAX_RESPONSE_BYTES = 6_291_556
#: `X-Amz-Log-Result` carries the last 4 KB of the log.
TAIL_BYTES = 4096
#: What one invocation's log keeps at most (the end of it, with a note of what was cut).
MAX_LOG_BYTES = 1 << 20

#: How Go (Lambda's runtime supervisor) names the signal that ended a process.
_SIGNAL_TEXT = {
    signal.SIGKILL: "killed",
    signal.SIGSEGV: "segmentation fault",
    signal.SIGABRT: "aborted",
    signal.SIGTERM: "terminated",
    signal.SIGBUS: "bus error",
    signal.SIGFPE: "floating point exception",
    signal.SIGILL: "illegal instruction",
    signal.SIGINT: "interrupt",
    signal.SIGHUP: "hangup",
    signal.SIGPIPE: "broken pipe",
    signal.SIGQUIT: "quit",
    signal.SIGUSR1: "user defined signal 1",
    signal.SIGUSR2: "user defined signal 2",
}


def start_line(request_id: str) -> str:
    return f"START RequestId: {request_id} Version: $LATEST\n"


def end_line(request_id: str) -> str:
    return f"END RequestId: {request_id}\n"


def report_line(
    request_id: str,
    duration_ms: float,
    memory_mb: int,
    max_memory_mb: int | None = None,
    *,
    init_ms: float | None = None,
    status: str | None = None,
    error_type: str | None = None,
) -> str:
    parts = [
        f"REPORT RequestId: {request_id}",
        f"Duration: {duration_ms:.2f} ms",
        f"Billed Duration: {max(1, math.ceil(duration_ms))} ms",
        f"Memory Size: {memory_mb} MB",
        f"Max Memory Used: {max_memory_mb if max_memory_mb is not None else 0} MB",
    ]
    if init_ms is not None:
        parts.append(f"Init Duration: {init_ms:.2f} ms")
    if status is not None:
        parts.append(f"Status: {status}")
    if error_type is not None:
        parts.append(f"Error Type: {error_type}")
    return "\t".join(parts) + "\t\n"


def framed_log(
    request_id: str,
    output: str,
    duration_ms: float,
    memory_mb: int,
    max_memory_mb: int | None = None,
    *,
    before: str = "",
    init_ms: float | None = None,
    status: str | None = None,
    error_type: str | None = None,
) -> str:
    """An invocation's log as Lambda shows it: `before` (the init phase's output), START,
    what the function wrote, END, REPORT."""
    if output and not output.endswith("\n"):
        output += "\n"
    return (
        before
        + start_line(request_id)
        + output
        + end_line(request_id)
        + report_line(
            request_id,
            duration_ms,
            memory_mb,
            max_memory_mb,
            init_ms=init_ms,
            status=status,
            error_type=error_type,
        )
    )


def log_tail(logs: str) -> str:
    """`X-Amz-Log-Result`: base64 of the last 4 KB of the log."""
    return base64.b64encode(logs.encode("utf-8", "replace")[-TAIL_BYTES:]).decode("ascii")


def utc_timestamp(epoch: float | None = None) -> str:
    """`2024-01-31T12:00:00.123Z`, the timestamp Lambda's runtimes put on log lines."""
    epoch = time.time() if epoch is None else epoch
    whole = int(epoch)
    return (
        time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole))
        + f".{int((epoch - whole) * 1000):03d}Z"
    )


def timeout_document(request_id: str, timeout_seconds: float) -> dict[str, Any]:
    return {
        "errorMessage": f"RequestId: {request_id} Error: Task timed out after "
        f"{timeout_seconds:.2f} seconds",
        "errorType": "Sandbox.Timedout",
    }


def timeout_log_line(request_id: str, timeout_seconds: float) -> str:
    return f"{utc_timestamp()} {request_id} Task timed out after {timeout_seconds:.2f} seconds\n"


def exit_status_text(returncode: int | None) -> str:
    """`exit status 1` / `signal: killed`, as Lambda words a runtime that ended."""
    if returncode is None:
        return "exit status unknown"
    if returncode >= 0:
        return f"exit status {returncode}"
    try:
        number = signal.Signals(-returncode)
    except ValueError:
        return f"signal: {-returncode}"
    return "signal: " + _SIGNAL_TEXT.get(number, number.name.lower())


def exit_document(request_id: str, returncode: int | None) -> dict[str, Any]:
    return {
        "errorMessage": f"RequestId: {request_id} Error: Runtime exited with error: "
        f"{exit_status_text(returncode)}",
        "errorType": "Runtime.ExitError",
    }


def function_error(
    document: dict[str, Any], logs: str, duration_ms: float, error: str = "Unhandled"
) -> InvokeResult:
    return InvokeResult(
        Outcome.FUNCTION_ERROR,
        orjson.dumps(document),
        function_error=error,
        logs=logs,
        duration_ms=duration_ms,
    )


def service_error(detail: str, status_code: int = 0, logs: str = "") -> InvokeResult:
    return InvokeResult(
        Outcome.SERVICE_ERROR, b"", status_code=status_code, detail=detail, logs=logs
    )


def too_large_document(size: int) -> dict[str, Any]:
    return {
        "errorMessage": f"Response payload size ({size} bytes) exceeded maximum allowed "
        f"payload size ({MAX_RESPONSE_BYTES} bytes).",
        "errorType": "Function.ResponseSizeTooLarge",
    }
