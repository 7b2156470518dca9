"""The worker process of a Python function: imports the handler once, then runs one
invocation per request frame, the way Lambda's Python runtime (awslambdaric) does.

Self-contained (standard library only, Python 3.8+): the parent runs this file's source
with `python -u -c` in the function's task root, with the configured interpreter, which
need not have the emulator installed. `-c` puts the working directory (the task root) at
the front of `sys.path`, as Lambda does, and keeps the emulator's package folder off it.
The emulator also imports `LambdaContext`, `error_document` and `marshal_response` from
here for in-process callables, so both kinds of target build the same documents.

Protocol (`argv`: the result-pipe fd and the handler string):
  - parent -> worker on stdin: frames of a 4-byte big-endian length and a JSON object
    `{"seq", "request_id", "payload", "deadline_ms", "function_arn", "client_context",
    "trace_id"}`; `payload` is the event's JSON text, decoded here as the function's event.
  - worker -> parent on the result fd: `{"type": "ready"}` once the handler is imported
    (or `{"type": "init_error", "error": {...}}`, after which the worker exits), then one
    `{"type": "result", "seq", "ok", "body", "max_rss_kb"}` per invocation.
  - stdout and stderr are the function's log. After each phase the worker writes a
    marker line there (`MARKER` and the sequence number), so the parent can cut the log
    into what each invocation wrote.
"""

from __future__ import annotations

import contextlib
import decimal
import importlib
import json
import logging
import os
import struct
import sys
import time
import traceback
from typing import Any

#: Written to stdout after the output of each phase (init, each invocation).
MARKER = b"\x1e\x1eemulator-log-mark:"
#: Frames the emulator itself sends and reads are never larger than this.
_LENGTH = struct.Struct(">I")

_current_request_id = ""


class _Slotted:
    __slots__: tuple[str, ...] = ()

    def __init__(self, values: Any) -> None:
        for name in self.__slots__:
            setattr(self, name, values.get(name) if isinstance(values, dict) else None)

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"{type(self).__name__}({shown})"


class Client(_Slotted):
    __slots__ = (
        "app_package_name",
        "app_title",
        "app_version_code",
        "app_version_name",
        "installation_id",
    )


class ClientContext(_Slotted):
    __slots__ = ("client", "custom", "env")
    client: Any


class CognitoIdentity(_Slotted):
    __slots__ = ("cognito_identity_id", "cognito_identity_pool_id")


class LambdaContext:
    """The `context` argument, attribute for attribute as the Python runtime builds it
    (`memory_limit_in_mb` is a string there too: it comes from the environment)."""

    def __init__(
        self,
        request_id: str,
        function_name: str,
        function_arn: str,
        memory_mb: Any,
        deadline_ms: float,
        client_context: Any = None,
        log_group_name: str = "",
        log_stream_name: str = "",
        function_version: str = "$LATEST",
    ) -> None:
        self.aws_request_id = request_id
        self.log_group_name = log_group_name
        self.log_stream_name = log_stream_name
        self.function_name = function_name
        self.memory_limit_in_mb = str(memory_mb)
        self.function_version = function_version
        self.invoked_function_arn = function_arn
        self.client_context: ClientContext | None = None
        if isinstance(client_context, dict):
            self.client_context = ClientContext(client_context)
            self.client_context.client = (
                Client(client_context["client"])
                if isinstance(client_context.get("client"), dict)
                else None
            )
        self.identity = CognitoIdentity({})
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int(self._deadline_ms - time.time() * 1000))

    def log(self, message: str) -> None:
        sys.stdout.write(message)

    def __repr__(self) -> str:
        return (
            f"LambdaContext([aws_request_id={self.aws_request_id},"
            f"function_name={self.function_name},"
            f"invoked_function_arn={self.invoked_function_arn}])"
        )


def decode_client_context(value: str | None) -> Any:
    """`X-Amz-Client-Context` is base64 of a JSON object; plain JSON is taken as well."""
    if not value:
        return None
    import base64
    import binascii

    try:
        return json.loads(base64.b64decode(value, validate=True))
    except (binascii.Error, ValueError):
        pass
    try:
        return json.loads(value)
    except ValueError:
        return None


def error_document(
    message: str, error_type: str, stack_trace: list[str] | None, request_id: str
) -> dict[str, Any]:
    """Lambda's Python-runtime error document, keys in its order."""
    return {
        "errorMessage": message,
        "errorType": error_type,
        "requestId": request_id,
        "stackTrace": stack_trace or [],
    }


def exception_document(
    error: BaseException, request_id: str, skip: Any = lambda filename: filename[:1] == "<"
) -> dict[str, Any]:
    """The document for an exception the handler raised: the traceback starts at the
    first frame outside the runtime's own code (`skip(filename)`; in the worker that is
    its `-c` source and importlib's frozen modules)."""
    frames = traceback.extract_tb(error.__traceback__)
    start = 0
    while start < len(frames) and skip(frames[start].filename):
        start += 1
    return error_document(
        str(error), type(error).__name__, traceback.format_list(frames[start:]), request_id
    )


def error_log_lines(document: dict[str, Any]) -> str:
    """What the Python runtime logs for a failed invocation (text log format)."""
    head = "[ERROR]"
    if document.get("errorType"):
        head += " " + document["errorType"]
    if document.get("errorMessage"):
        head += (":" if document.get("errorType") else "") + " " + document["errorMessage"]
    lines = [head]
    stack = document.get("stackTrace")
    if stack is not None:
        lines.append("Traceback (most recent call last):")
        for element in stack:
            lines.extend(element.splitlines() if element else [""])
    return "\n".join(lines) + "\n"


class _Encoder(json.JSONEncoder):
    def default(self, value: Any) -> Any:
        if isinstance(value, decimal.Decimal):
            return int(value) if value == value.to_integral_value() else float(value)
        return super().default(value)


class MarshalError(Exception):
    pass


def marshal_response(result: Any) -> str:
    """The response as JSON text, as the runtime serialises it (Decimal as a number)."""
    try:
        return json.dumps(result, cls=_Encoder)
    except (TypeError, ValueError) as error:
        raise MarshalError(f"Unable to marshal response: {error}") from None


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.aws_request_id = _current_request_id
        return True


class _StdoutHandler(logging.Handler):
    """The runtime's root handler: writes to the function's log (stdout here)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stdout.write(self.format(record))
        except Exception:
            self.handleError(record)


def lambda_log_formatter() -> logging.Formatter:
    formatter = logging.Formatter(
        "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n",
        "%Y-%m-%dT%H:%M:%S",
    )
    formatter.converter = time.gmtime
    return formatter


def _setup_logging() -> None:
    handler = _StdoutHandler()
    handler.setFormatter(lambda_log_formatter())
    handler.addFilter(_RequestIdFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    level = os.environ.get("AWS_LAMBDA_LOG_LEVEL", "").upper()
    if level in ("DEBUG", "INFO", "WARNING", "WARN", "ERROR", "CRITICAL", "FATAL"):
        root.setLevel({"WARN": "WARNING", "FATAL": "CRITICAL"}.get(level, level))


class _Fault(Exception):
    """A runtime fault (import error, bad handler name): its own error type, no traceback
    unless given."""

    def __init__(self, error_type: str, message: str, trace: list[str] | None = None) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.trace = trace


def load_handler(handler: str) -> Any:
    """The handler function, or a `_Fault` to report on every invocation, the way the
    runtime reports them (a missing module or function is an invocation error, not an
    init error)."""
    try:
        module_name, function_name = handler.rsplit(".", 1)
    except ValueError as error:
        return _Fault("Runtime.MalformedHandlerName", f"Bad handler '{handler}': {error}")
    if module_name.split(".")[0] in sys.builtin_module_names:
        return _Fault(
            "Runtime.BuiltInModuleConflict",
            f"Cannot use built-in module {module_name} as a handler module",
        )
    try:
        module = importlib.import_module(module_name.replace("/", "."))
    except ImportError as error:
        return _Fault(
            "Runtime.ImportModuleError", f"Unable to import module '{module_name}': {error}"
        )
    except SyntaxError as error:
        trace = [f'  File "{error.filename}" Line {error.lineno}\n    {error.text}']
        return _Fault(
            "Runtime.UserCodeSyntaxError",
            f"Syntax error in module '{module_name}': {error}",
            trace,
        )
    function = getattr(module, function_name, None)
    if function is None:
        return _Fault(
            "Runtime.HandlerNotFound",
            f"Handler '{function_name}' missing on module '{module_name}'",
        )
    return function


def _read_exactly(stream: Any, size: int) -> bytes | None:
    chunks = []
    while size:
        chunk = stream.read(size)
        if not chunk:
            return None
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def _write_frame(out: Any, message: dict[str, Any]) -> None:
    data = json.dumps(message).encode()
    out.write(_LENGTH.pack(len(data)) + data)
    out.flush()


def _mark(seq: Any) -> None:
    """Flush what the function wrote, then the marker closing this phase's log."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    with contextlib.suppress(OSError):
        os.write(1, MARKER + str(seq).encode() + b"\n")


def _max_rss_kb() -> int:
    try:
        import resource

        return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    except Exception:
        return 0


def _invoke(function: Any, request: dict[str, Any]) -> tuple[bool, str]:
    request_id = request["request_id"]
    try:
        if isinstance(function, _Fault):
            raise function
        event = json.loads(request["payload"])
        context = LambdaContext(
            request_id,
            os.environ.get("AWS_LAMBDA_FUNCTION_NAME", ""),
            request["function_arn"],
            os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"),
            request["deadline_ms"],
            decode_client_context(request.get("client_context")),
            os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", ""),
            os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", ""),
            os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
        )
        result = function(event, context)
        return True, marshal_response(result)
    except _Fault as fault:
        document = error_document(fault.message, fault.error_type, fault.trace, request_id)
    except MarshalError as error:
        document = error_document(str(error), "Runtime.MarshalError", None, request_id)
    except Exception as error:
        document = exception_document(error, request_id)
    sys.stdout.write(error_log_lines(document))
    return False, json.dumps(document)


def _exit_with_parent() -> None:
    """A daemon thread: end this worker if the emulator is gone (killed without closing
    it), even while a handler hangs and the request pipe is not being read."""
    import threading

    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(1.0)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="emulator-parent-watch", daemon=True).start()


def main() -> None:
    global _current_request_id
    result_fd, handler = int(sys.argv[1]), sys.argv[2]
    os.set_inheritable(result_fd, False)
    requests = os.fdopen(os.dup(0), "rb", buffering=0)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)  # a handler reading stdin must not eat the protocol
    os.close(devnull)
    results = os.fdopen(result_fd, "wb", buffering=0)
    sys.argv = [""]
    _exit_with_parent()
    task_root = os.getcwd()
    if sys.path and sys.path[0] in ("", "."):
        sys.path[0] = task_root
    else:
        sys.path.insert(0, task_root)
    _setup_logging()
    try:
        function = load_handler(handler)
    except Exception as error:
        document = exception_document(error, "")
        sys.stdout.write(error_log_lines(document))
        _mark("init")
        _write_frame(results, {"type": "init_error", "error": document})
        sys.exit(1)
    _mark("init")
    _write_frame(results, {"type": "ready"})
    while True:
        head = _read_exactly(requests, _LENGTH.size)
        if head is None:
            return
        body = _read_exactly(requests, _LENGTH.unpack(head)[0])
        if body is None:
            return
        request = json.loads(body)
        _current_request_id = request["request_id"]
        if request.get("trace_id"):
            os.environ["_X_AMZN_TRACE_ID"] = request["trace_id"]
        ok, response = _invoke(function, request)
        _mark(request["seq"])
        _write_frame(
            results,
            {
                "type": "result",
                "seq": request["seq"],
                "ok": ok,
                "body": response,
                "max_rss_kb": _max_rss_kb(),
            },
        )


if __name__ == "__main__":
    main()
