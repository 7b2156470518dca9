"""A function served by an HTTP endpoint speaking Lambda's Invoke API: another emulator,
`sam local start-lambda`, or the Runtime Interface Emulator (RIE) in a container.

`POST {url}/2015-03-31/functions/{name}/invocations`, or the URL as given when its path
already ends in `/invocations` (RIE: `/2015-03-31/functions/function/invocations`). The
answer is read the way SPEC-STREAM-APPS 3.4 lists: `X-Amz-Function-Error`, RIE's error
body without that header, RIE's timeout text, 429 a throttle, and 5xx, refusals, RIE's
"busy" 400 and an empty body service errors. A small HTTP/1.1 client on asyncio streams
with keep-alive connections (the emulator has no HTTP client dependency).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import re
import ssl
import time
import urllib.parse
from dataclasses import dataclass
from typing import Any

import orjson

from emulator.config import check_function_url
from emulator.triggers.runners import output
from emulator.triggers.targets import FunctionSpec, Invocation, InvokeResult, Outcome

#: The remote side enforces the function's timeout; this much more is allowed for the
#: answer to travel before the emulator calls the invocation timed out itself.
TIMEOUT_GRACE_SECONDS = 2.0
CONNECT_SECONDS = 5.0
MAX_IDLE_CONNECTIONS = 8
_TIMED_OUT = re.compile(rb"Task timed out after (\d+(?:\.\d+)?) seconds")
#: The keys of a runtime's error document (RIE answers one without the header).
_ERROR_KEYS = frozenset({"errorMessage", "errorType", "requestId", "stackTrace", "trace", "cause"})


class HttpError(Exception):
    """The endpoint's answer is not HTTP/1.x as expected."""


def invocations_url(url: str, function_name: str) -> str:
    """The Invoke API URL of `function_name` at `url`."""
    parts = urllib.parse.urlsplit(url)
    path = parts.path.rstrip("/")
    if not path.endswith("/invocations"):
        quoted = urllib.parse.quote(function_name, safe="")
        path = f"{path}/2015-03-31/functions/{quoted}/invocations"
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))


@dataclass
class _Response:
    status: int
    headers: dict[str, str]
    body: bytes
    keep_alive: bool


@dataclass
class _Connection:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter


class HttpTarget:
    def __init__(self, spec: FunctionSpec, url: str) -> None:
        self.spec = spec
        self.url = invocations_url(check_function_url(url), spec.name)
        parts = urllib.parse.urlsplit(self.url)
        self._tls = parts.scheme == "https"
        self._host = parts.hostname or "127.0.0.1"
        self._port = parts.port or (443 if self._tls else 80)
        self._target = parts.path + (f"?{parts.query}" if parts.query else "")
        self._host_header = parts.netloc.rsplit("@", 1)[-1]
        self._idle: list[_Connection] = []
        self._closed = False

    async def invoke(self, invocation: Invocation) -> InvokeResult:
        if self._closed:
            return output.service_error(f"function {self.spec.name}: this target is closed")
        headers = {
            "Host": self._host_header,
            "Content-Type": "application/json",
            "X-Amz-Invocation-Type": "RequestResponse",
            "X-Amz-Log-Type": "Tail",
        }
        if invocation.client_context:
            headers["X-Amz-Client-Context"] = _client_context_header(invocation.client_context)
        started = time.perf_counter()
        try:
            response = await asyncio.wait_for(
                self._request(headers, invocation.payload),
                self.spec.timeout_seconds + TIMEOUT_GRACE_SECONDS,
            )
        except TimeoutError:
            duration = (time.perf_counter() - started) * 1000
            request_id = invocation.request_id
            return output.function_error(
                output.timeout_document(request_id, self.spec.timeout_seconds),
                output.timeout_log_line(request_id, self.spec.timeout_seconds),
                duration,
            )
        except (OSError, HttpError, asyncio.IncompleteReadError, ValueError) as error:
            return output.service_error(
                f"function {self.spec.name}: {self.url} is unreachable: "
                f"{error or type(error).__name__}"
            )
        duration = (time.perf_counter() - started) * 1000
        return classify(
            response.status,
            response.headers,
            response.body,
            invocation,
            duration,
            self.spec,
            self.url,
        )

    async def _request(self, headers: dict[str, str], body: bytes) -> _Response:
        head = f"POST {self._target} HTTP/1.1\r\n" + "".join(
            f"{name}: {value}\r\n" for name, value in headers.items()
        )
        data = (head + f"Content-Length: {len(body)}\r\n\r\n").encode("latin-1") + body
        while True:
            connection = self._idle.pop() if self._idle else None
            reused = connection is not None
            if connection is None:
                connection = await self._connect()
            try:
                connection.writer.write(data)
                await connection.writer.drain()
                response = await _read_response(connection.reader)
            except (OSError, asyncio.IncompleteReadError, HttpError) as error:
                _close(connection)
                # A kept-alive connection the server closed meanwhile: nothing was read
                # from it, so the request did not get there. Once more, on a new one.
                if reused and _nothing_read(error):
                    continue
                raise
            except BaseException:
                _close(connection)
                raise
            if response.keep_alive and not self._closed and len(self._idle) < MAX_IDLE_CONNECTIONS:
                self._idle.append(connection)
            else:
                _close(connection)
            return response

    async def _connect(self) -> _Connection:
        context = ssl.create_default_context() if self._tls else None
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(self._host, self._port, ssl=context, limit=1 << 20),
            CONNECT_SECONDS,
        )
        return _Connection(reader, writer)

    async def close(self) -> None:
        self._closed = True
        idle, self._idle = self._idle, []
        for connection in idle:
            _close(connection)


def classify(
    status: int,
    headers: dict[str, str],
    body: bytes,
    invocation: Invocation,
    duration_ms: float,
    spec: FunctionSpec,
    url: str,
) -> InvokeResult:
    """What an Invoke API answer means for the invocation (SPEC-STREAM-APPS 3.4)."""
    logs = _decode_logs(headers.get("x-amz-log-result"))
    if status == 429:
        return InvokeResult(
            Outcome.THROTTLED, body, logs=logs, status_code=status, detail=_reason(body, status)
        )
    if not 200 <= status < 300:
        return output.service_error(
            f"function {spec.name}: {url} answered {status}: {_reason(body, status)}", status, logs
        )
    function_error = headers.get("x-amz-function-error")
    if function_error:
        return InvokeResult(
            Outcome.FUNCTION_ERROR,
            body,
            function_error=function_error,
            logs=logs,
            duration_ms=duration_ms,
        )
    if not body.strip():
        return output.service_error(
            f"function {spec.name}: {url} answered {status} with an empty body "
            "(the runtime exited?)",
            status,
            logs,
        )
    try:
        document: Any = orjson.loads(body)
    except orjson.JSONDecodeError:
        document = None
        timed_out = _TIMED_OUT.search(body)
        if timed_out is not None:  # RIE: 200 and the text, no header (RIE#21)
            seconds = float(timed_out.group(1))
            return output.function_error(
                output.timeout_document(invocation.request_id, seconds),
                logs or body.decode("utf-8", "replace"),
                duration_ms,
            )
    if (
        isinstance(document, dict)
        and "errorType" in document
        and "errorMessage" in document
        and document.keys() <= _ERROR_KEYS
    ):  # RIE: 200 and the error document, no header (RIE#20)
        return InvokeResult(
            Outcome.FUNCTION_ERROR,
            body,
            function_error="Unhandled",
            logs=logs,
            duration_ms=duration_ms,
        )
    if len(body) > output.MAX_RESPONSE_BYTES:
        return output.function_error(output.too_large_document(len(body)), logs, duration_ms)
    return InvokeResult(Outcome.SUCCESS, body, logs=logs, duration_ms=duration_ms)


def _client_context_header(value: str) -> str:
    """The header is base64 of JSON; a plain JSON value given instead is encoded."""
    try:
        base64.b64decode(value, validate=True)
        return value
    except (binascii.Error, ValueError):
        return base64.b64encode(value.encode()).decode("ascii")


def _decode_logs(value: str | None) -> str:
    if not value:
        return ""
    try:
        return base64.b64decode(value).decode("utf-8", "replace")
    except (binascii.Error, ValueError):
        return ""


def _reason(body: bytes, status: int) -> str:
    """The message of an AWS-style error body, else the start of the body."""
    with contextlib.suppress(orjson.JSONDecodeError):
        document = orjson.loads(body)
        if isinstance(document, dict):
            kind = document.get("__type") or document.get("Type") or document.get("errorType")
            message = (
                document.get("message") or document.get("Message") or document.get("errorMessage")
            )
            if kind or message:
                return ": ".join(str(part) for part in (kind, message) if part)
    text = body[:200].decode("utf-8", "replace").strip()
    return text or f"HTTP {status}"


def _nothing_read(error: BaseException) -> bool:
    if isinstance(error, asyncio.IncompleteReadError):
        return not error.partial
    return isinstance(error, ConnectionResetError | BrokenPipeError)


def _close(connection: _Connection) -> None:
    with contextlib.suppress(Exception):
        connection.writer.close()


async def _read_response(reader: asyncio.StreamReader) -> _Response:
    status_line = await reader.readline()
    if not status_line:
        raise asyncio.IncompleteReadError(b"", None)
    parts = status_line.decode("latin-1").split(None, 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
        raise HttpError(f"not an HTTP response: {status_line[:80]!r}")
    status = int(parts[1])
    version = parts[0]
    headers: dict[str, str] = {}
    while True:
        line = await reader.readline()
        if not line:
            raise HttpError("the connection closed inside the response headers")
        if line in (b"\r\n", b"\n"):
            break
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    connection = headers.get("connection", "").lower()
    keep_alive = "close" not in connection and (version != "HTTP/1.0" or "keep-alive" in connection)
    if status in (204, 304) or 100 <= status < 200:
        return _Response(status, headers, b"", keep_alive)
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body = await _read_chunked(reader)
    elif "content-length" in headers:
        length = headers["content-length"]
        if not length.isdigit():
            raise HttpError(f"bad Content-Length {length!r}")
        body = await reader.readexactly(int(length))
    else:
        body = await reader.read()
        keep_alive = False
    return _Response(status, headers, body, keep_alive)


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    chunks: list[bytes] = []
    while True:
        size_line = await reader.readline()
        size_text = size_line.split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            raise HttpError(f"bad chunk size {size_line[:40]!r}") from None
        if size == 0:
            while (await reader.readline()) not in (b"\r\n", b"\n", b""):
                pass  # trailers
            return b"".join(chunks)
        chunks.append(await reader.readexactly(size))
        await reader.readexactly(2)
