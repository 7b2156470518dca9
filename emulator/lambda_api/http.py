"""Lambda's REST-JSON wire (API version 2015-03-31) on the emulator's port: routing by
method and path, the request body under each operation's size limit, the JSON answer
or Lambda's error shape (`x-amzn-ErrorType` + `{"Type", "Message"|"message"}`)."""

from __future__ import annotations

import inspect
import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import orjson
from starlette.types import Receive, Scope, Send

from emulator.lambda_api import functions, invoke, mappings
from emulator.lambda_api.common import LambdaRequest, Reply, validate
from emulator.lambda_api.errors import (
    InvalidRequestContentException,
    LambdaError,
    RequestEntityTooLargeException,
    ServiceException,
    UnknownOperationException,
)
from emulator.runtime.backend import Backend

logger = logging.getLogger("emulator.lambda")
request_logger = logging.getLogger("emulator.requests")

PREFIX = "/2015-03-31/"
#: The largest request AWS takes for a code upload (a 50 MB zip, base64 in JSON).
MAX_UPLOAD_BYTES = 69_905_067

Handler = Callable[[Backend, LambdaRequest], "Reply | Awaitable[Reply]"]


@dataclass(frozen=True)
class Route:
    operation: str
    handler: Handler
    max_bytes: int = MAX_UPLOAD_BYTES
    #: Whether the body is JSON members (Invoke's is the function's payload).
    json_body: bool = True


_FUNCTION = r"/functions/(?P<resource>[^/]+)"
_MAPPING = r"/event-source-mappings/(?P<resource>[^/]+)"

#: (method, path pattern after /2015-03-31) -> route.
ROUTES: list[tuple[str, re.Pattern[str], Route]] = [
    (method, re.compile(pattern), route)
    for method, pattern, route in [
        ("POST", r"/functions", Route("CreateFunction", functions.create_function)),
        ("GET", r"/functions", Route("ListFunctions", functions.list_functions)),
        ("GET", _FUNCTION, Route("GetFunction", functions.get_function)),
        ("DELETE", _FUNCTION, Route("DeleteFunction", functions.delete_function)),
        (
            "GET",
            _FUNCTION + "/configuration",
            Route("GetFunctionConfiguration", functions.get_function_configuration),
        ),
        (
            "PUT",
            _FUNCTION + "/configuration",
            Route("UpdateFunctionConfiguration", functions.update_function_configuration),
        ),
        ("PUT", _FUNCTION + "/code", Route("UpdateFunctionCode", functions.update_function_code)),
        # Not an AWS operation: where GetFunction's Code.Location points.
        ("GET", _FUNCTION + "/code", Route("DownloadFunctionCode", functions.download_code)),
        (
            "POST",
            _FUNCTION + "/invocations",
            Route(
                "Invoke",
                invoke.invoke,
                max_bytes=invoke.MAX_SYNC_REQUEST_BYTES,
                json_body=False,
            ),
        ),
        (
            "POST",
            r"/event-source-mappings",
            Route("CreateEventSourceMapping", mappings.create_event_source_mapping),
        ),
        (
            "GET",
            r"/event-source-mappings",
            Route("ListEventSourceMappings", mappings.list_event_source_mappings),
        ),
        ("GET", _MAPPING, Route("GetEventSourceMapping", mappings.get_event_source_mapping)),
        (
            "PUT",
            _MAPPING,
            Route("UpdateEventSourceMapping", mappings.update_event_source_mapping),
        ),
        (
            "DELETE",
            _MAPPING,
            Route("DeleteEventSourceMapping", mappings.delete_event_source_mapping),
        ),
    ]
]


def route_for(method: str, path: str) -> tuple[Route, str | None] | None:
    """The route of a request and its path parameter."""
    tail = path[len(PREFIX) - 1 :].rstrip("/") or "/"
    for route_method, pattern, route in ROUTES:
        if route_method == method:
            match = pattern.fullmatch(tail)
            if match is not None:
                return route, match.groupdict().get("resource")
    return None


async def serve(backend: Backend, region: str, scope: Scope, receive: Receive, send: Send) -> None:
    """Answer one Lambda API request (the server routes `/2015-03-31/...` here)."""
    started = time.perf_counter()
    request_id = str(uuid.uuid4())
    found = route_for(scope["method"], scope["path"])
    operation = found[0].operation if found else "-"
    received = 0
    try:
        if found is None:
            await _drain(receive)
            raise UnknownOperationException(
                f"No Lambda operation is {scope['method']} {scope['path']}"
            )
        route, resource = found
        body, received = await _read_body(receive, route.max_bytes)
        if body is None:
            raise _too_large(route, received)
        request = LambdaRequest(
            operation=route.operation,
            region=region,
            resource=resource,
            query=dict(parse_qsl(scope.get("query_string", b"").decode("latin-1"))),
            headers={
                name.decode("latin-1").lower(): value.decode("latin-1")
                for name, value in scope["headers"]
            },
            raw_body=body,
            base_url=_base_url(scope),
            request_id=request_id,
        )
        if route.json_body:
            request.body = _json_members(route.operation, body)
        result = route.handler(backend, request)
        reply = await result if inspect.isawaitable(result) else result
    except LambdaError as error:
        reply = _error_reply(error)
    except Exception:
        logger.exception("internal error in Lambda %s", operation)
        reply = _error_reply(ServiceException("Internal error"))
    payload = await _send(send, reply, request_id)
    if request_logger.isEnabledFor(logging.DEBUG):
        _log(operation, region, reply, received, len(payload), request_id, started)


def _json_members(operation: str, body: bytes) -> dict[str, Any]:
    if not body.strip():
        return {}
    try:
        members = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise InvalidRequestContentException(
            f"Could not parse request body into json: {error}"
        ) from None
    if not isinstance(members, dict):
        validate(operation, members)  # raises, worded as Lambda does
        raise InvalidRequestContentException("Could not parse request body into json")
    return members


def _too_large(route: Route, size: int) -> LambdaError:
    if route.operation == "Invoke":
        return invoke.sync_request_too_large()
    return RequestEntityTooLargeException(
        f"Request must be smaller than {route.max_bytes} bytes for the {route.operation} operation"
    )


async def _read_body(receive: Receive, limit: int) -> tuple[bytes | None, int]:
    """The body, or None (after reading it all) when it is over `limit` bytes."""
    chunks: list[bytes] = []
    size = 0
    more = True
    while more:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size <= limit:
            chunks.append(chunk)
        more = message.get("more_body", False)
    if size > limit:
        return None, size
    return b"".join(chunks), size


async def _drain(receive: Receive) -> None:
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)


def _base_url(scope: Scope) -> str:
    host = next((v.decode("latin-1") for n, v in scope["headers"] if n == b"host"), None)
    if host is None:
        server = scope.get("server") or ("127.0.0.1", 80)
        host = f"{server[0]}:{server[1]}"
    return f"{scope.get('scheme', 'http')}://{host}"


def _error_reply(error: LambdaError) -> Reply:
    headers = {"x-amzn-errortype": error.code, **error.headers}
    return Reply(error.status, error.body(), headers)


async def _send(send: Send, reply: Reply, request_id: str) -> bytes:
    if reply.body is None:
        payload = b""
    elif isinstance(reply.body, bytes):
        payload = reply.body
    else:
        payload = orjson.dumps(reply.body)
    headers = {
        "content-type": "application/json",
        **reply.headers,
        "content-length": str(len(payload)),
        "x-amzn-requestid": request_id,
    }
    await send(
        {
            "type": "http.response.start",
            "status": reply.status,
            "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()],
        }
    )
    await send({"type": "http.response.body", "body": payload})
    return payload


def _log(
    operation: str,
    region: str,
    reply: Reply,
    received: int,
    sent: int,
    request_id: str,
    started: float,
) -> None:
    """One logfmt line per Lambda call at debug level, like the DynamoDB wire's."""
    fields: dict[str, Any] = {
        "op": f"Lambda.{operation}",
        "status": reply.status,
        "ms": round((time.perf_counter() - started) * 1000, 3),
        "region": region,
        "in": received,
        "out": sent,
        "request_id": request_id,
    }
    if reply.status >= 400:
        fields["error"] = reply.headers.get("x-amzn-errortype", "-")
    line = " ".join(f"{name}={value}" for name, value in fields.items())
    request_logger.debug("request %s", line, extra={"aws": fields})
