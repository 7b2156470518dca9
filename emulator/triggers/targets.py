"""What a Lambda function is to the emulator: something an event can be sent to.

The Lambda API (functions, Invoke) and the event-source-mapping poller both talk to a
function through `Target`, whatever runs it: a worker process with the user's Python or
Node.js code, an HTTP endpoint speaking Lambda's Invoke API (another emulator, the
Runtime Interface Emulator, `sam local start-lambda`), or an in-process callable.
A target never raises for anything the function does: a handler that raises, hangs past
its timeout or kills its process is an `InvokeResult` with a function error.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Protocol


class Outcome(enum.Enum):
    #: The function returned (its payload may still report partial batch failures).
    SUCCESS = "success"
    #: The function ran and failed: raised, timed out, crashed. Counts as a retry.
    FUNCTION_ERROR = "function_error"
    #: The invocation never reached the function (unreachable target, 5xx, function
    #: not found). Does not count toward MaximumRetryAttempts.
    SERVICE_ERROR = "service_error"
    #: The target answered 429 / is busy. Does not count toward MaximumRetryAttempts.
    THROTTLED = "throttled"


@dataclass(frozen=True, slots=True)
class FunctionSpec:
    """Everything needed to run one version of a function (built from its configuration)."""

    name: str
    arn: str
    runtime: str | None
    handler: str | None
    timeout_seconds: float = 3.0
    memory_mb: int = 128
    environment: dict[str, str] = field(default_factory=dict)
    #: The deployment package (Code.ZipFile), or a local folder holding the code.
    code_zip: bytes | None = None
    code_dir: str | None = None
    #: Identifies the code and configuration: a target is rebuilt when it changes.
    revision: str = ""
    region: str = "us-east-1"


@dataclass(frozen=True, slots=True)
class Invocation:
    payload: bytes
    request_id: str
    client_context: str | None = None
    #: Whether the caller wants the log tail (X-Amz-Log-Type: Tail).
    tail_logs: bool = False


@dataclass(frozen=True, slots=True)
class InvokeResult:
    outcome: Outcome
    #: The function's response, or for a function error Lambda's error document
    #: `{"errorMessage", "errorType", "stackTrace"?}` as JSON bytes.
    payload: bytes
    #: `X-Amz-Function-Error`: "Unhandled" for a function error, else None.
    function_error: str | None = None
    #: What the function wrote (stdout, stderr, logging) during this invocation.
    logs: str = ""
    duration_ms: float = 0.0
    #: For a service error or throttle: the status the target answered (0: no answer).
    status_code: int = 200
    #: A short reason for service errors and throttles, for logs and LastProcessingResult.
    detail: str = ""


class Target(Protocol):
    async def invoke(self, invocation: Invocation) -> InvokeResult: ...

    async def close(self) -> None: ...
