"""The ASGI application: AWS JSON calls on `POST /`, the Lambda API under `/2015-03-31/`,
the emulator's own admin surface under `/_emulator/`, and the lifespan that owns the
storage engine and background work."""

from __future__ import annotations

import inspect
import logging
import math
import time
import zlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from random import getrandbits
from typing import TYPE_CHECKING, Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from emulator import __version__, wire
from emulator.admin_guard import AdminGuard
from emulator.api import Backend, operation
from emulator.auth import SigV4Verifier, parse_credentials
from emulator.config import Config
from emulator.errors import AwsError, UnknownOperationException
from emulator.runtime import scheduler
from emulator.runtime.settle import settle

if TYPE_CHECKING:
    # Starlette itself (and the console, built on it) is imported when the first admin
    # request comes (start-up time).
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    from emulator.console import Console

logger = logging.getLogger("emulator")

#: The head of a direct answer (`EmulatorApp.answer`): wire.response_headers' headers.
_DIRECT_HEAD = (
    b"content-type: " + wire.CONTENT_TYPE + b"\r\ncontent-length: %d\r\n"
    b"x-amzn-requestid: %052X\r\nx-amz-crc32: %d\r\n\r\n"
)


class EmulatorApp:
    """AWS traffic is served by a lean ASGI path (it is the hot path, and most of it is
    answered straight from the HTTP connection: `answer`); everything else, admin routes
    and health probes, by a Starlette app made on the first such request. The lifespan
    is served here."""

    def __init__(self, config: Config, backend: Backend | None = None) -> None:
        self.config = config
        self.backend = backend or Backend.create(config)
        self._console: Console | None = None
        self._admin: Starlette | None = None
        self.admin_guard = AdminGuard(config)
        #: REST APIs by path prefix (see `mount`).
        self.rest_apis: list[tuple[str, ASGIApp]] = []
        #: With `--auth sigv4`: checks every AWS call's signature (None: no check).
        self.verifier = (
            SigV4Verifier(parse_credentials(config.credentials)) if config.auth == "sigv4" else None
        )
        self.mount("/2015-03-31/", self.serve_lambda)
        #: X-Amz-Target -> whether its operation answers in one step (see `answer`).
        self._one_step: dict[bytes, bool] = {}

    @property
    def console(self) -> Console:
        """The web console (made with the admin routes)."""
        if self._console is None:
            from emulator.console import Console

            self._console = Console(self.backend)
        return self._console

    @property
    def admin(self) -> Starlette:
        """The Starlette app of the admin routes (made on first use)."""
        if self._admin is None:
            from starlette.applications import Starlette

            self._admin = Starlette(routes=admin_routes(self))
        return self._admin

    async def _serve_lifespan(self, receive: Receive, send: Send) -> None:
        """The ASGI lifespan protocol around `_lifespan`, as Starlette serves it."""
        message = await receive()
        if message["type"] != "lifespan.startup":
            return
        lifespan = self._lifespan()
        try:
            await lifespan.__aenter__()
        except BaseException as error:
            await send({"type": "lifespan.startup.failed", "message": repr(error)})
            raise
        await send({"type": "lifespan.startup.complete"})
        await receive()  # lifespan.shutdown
        try:
            await lifespan.__aexit__(None, None, None)
        except BaseException as error:
            await send({"type": "lifespan.shutdown.failed", "message": repr(error)})
            raise
        await send({"type": "lifespan.shutdown.complete"})

    @asynccontextmanager
    async def _lifespan(self) -> AsyncIterator[None]:
        self.backend.start_background(scheduler.tick_forever(self.backend))
        self.backend.start_background(self.backend.triggers.run_forever())
        for work in self.backend.background:
            self.backend.start_background(work())
        self.backend.start_background(self.backend.replication.run_forever())
        self.backend.start_background(self.backend.external_replication.run_forever())
        try:
            yield
        finally:
            if self._console is not None:
                self._console.close()
            await self.backend.stop()

    def mount(self, prefix: str, app: ASGIApp) -> None:
        """Serve the REST API `app` (e.g. Lambda's, under "/2015-03-31/") for every path
        starting with `prefix`; JSON APIs are routed by X-Amz-Target prefix instead (see
        `wire.SERVICE_PREFIXES`)."""
        self.rest_apis.append((prefix, app))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"] == "/":
            await self.serve_aws(scope, receive, send)
            return
        if scope["type"] == "lifespan":
            await self._serve_lifespan(receive, send)
            return
        if scope["type"] != "http":
            await self.admin(scope, receive, send)
            return
        path: str = scope["path"]
        method: str = scope["method"]
        if method == "OPTIONS" and not path.startswith("/_emulator"):
            await self._preflight(scope, send)
            return
        if path == "/" and method in ("GET", "HEAD"):
            await self._health(scope, send)
            return
        if not path.startswith("/_emulator") and path != "/":
            # The AWS APIs answer pages of any origin, as DynamoDB does; the admin API
            # never does (see admin_guard).
            if any(n == b"origin" for n, _ in scope["headers"]):
                send = _with_cors(send)
            for prefix, app in self.rest_apis:
                if path.startswith(prefix):
                    await app(scope, receive, send)
                    return
            if scope["method"] == "POST" and any(n == b"x-amz-target" for n, _ in scope["headers"]):
                # A JSON API call to a path (an endpoint URL with a path): the target decides.
                await self.serve_aws(scope, receive, send)
                return
            await self._unknown_path(scope, send)
            return
        if path.startswith("/_emulator"):
            refused = self.admin_guard.refusal(scope)
            if refused is not None:
                status, message, headers = refused
                body = orjson.dumps({"error": message})
                await send(
                    {
                        "type": "http.response.start",
                        "status": status,
                        "headers": [
                            (b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                            *headers,
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                return
        await self.admin(scope, receive, send)

    async def _health(self, scope: Scope, send: Send) -> None:
        """`GET /` as DynamoDB answers it (and as DynamoDB Local's peers - dynalite,
        container wait strategies - expect): 200, the plain text
        `healthy: dynamodb.<region>.amazonaws.com ` (the trailing space is AWS's), with
        a request id and CRC32. `/_emulator/health` is the emulator's own JSON probe."""
        body = f"healthy: dynamodb.{self.config.region}.amazonaws.com ".encode()
        headers = [
            (b"content-type", b"text/plain"),
            (b"content-length", str(len(body)).encode()),
            (b"x-amzn-requestid", wire.request_id().encode()),
            (b"x-amz-crc32", str(zlib.crc32(body) & 0xFFFFFFFF).encode()),
        ]
        if any(n == b"origin" for n, _ in scope["headers"]):
            headers.extend(CORS_HEADERS)
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send(
            {"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body}
        )

    @staticmethod
    async def _preflight(scope: Scope, send: Send) -> None:
        """A CORS preflight, as DynamoDB answers it: with an `Origin`, 200 and an empty
        body, any origin allowed, the requested headers and method echoed back, cached
        for 48 hours; without one, the 404 `<UnknownOperationException/>` DynamoDB
        sends for every method it does not serve."""
        request: dict[bytes, bytes] = dict(scope["headers"])
        if b"origin" not in request:
            body = b"<UnknownOperationException/>\n"
            await send(
                {
                    "type": "http.response.start",
                    "status": 404,
                    "headers": [
                        (b"content-length", str(len(body)).encode()),
                        (b"x-amzn-requestid", wire.request_id().encode()),
                        (b"x-amz-crc32", str(zlib.crc32(body) & 0xFFFFFFFF).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return
        headers = [(b"x-amzn-requestid", wire.request_id().encode()), *CORS_HEADERS]
        asked_headers = request.get(b"access-control-request-headers")
        if asked_headers:
            headers.append((b"access-control-allow-headers", asked_headers))
        asked_method = request.get(b"access-control-request-method")
        if asked_method:
            headers.append((b"access-control-allow-methods", asked_method))
        headers += [(b"access-control-max-age", b"172800"), (b"content-length", b"0")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b""})

    async def _unknown_path(self, scope: Scope, send: Send) -> None:
        """No API is served here: AWS's error shape (as a REST API answers an unknown
        route), not a bare 404 page."""
        error = UnknownOperationException(
            f"No operation is served at {scope['method']} {scope['path']}"
        )
        await self._send_rest_error(send, error, 404)

    async def serve_lambda(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The Lambda API (REST-JSON); imported on its first request, so start-up does
        not pay for it."""
        from emulator.lambda_api.http import MAX_UPLOAD_BYTES, serve

        if self.verifier is not None:
            body, receive = await _buffered(receive, MAX_UPLOAD_BYTES)
            refused, signed_region = self.verifier.verify(
                scope["method"],
                scope["raw_path"],
                scope["query_string"],
                scope["headers"],
                body,
                "lambda",
            )
            if refused is not None:
                await self._send_rest_error(send, refused)
                return
            region = signed_region or self.config.region
        else:
            authorization = next(
                (v.decode("latin-1") for n, v in scope["headers"] if n == b"authorization"), None
            )
            region = wire.region_from_authorization(authorization, self.config.region)
        await serve(self.backend, region, scope, receive, send)

    @staticmethod
    async def _send_rest_error(send: Send, error: AwsError, status: int | None = None) -> None:
        """An error of a REST API in AWS's shape: the code in x-amzn-ErrorType too."""
        body = orjson.dumps(error.body())
        await send(
            {
                "type": "http.response.start",
                "status": status or error.status,
                "headers": [
                    *wire.response_headers(body),
                    (b"x-amzn-errortype", error.code.encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def serve_aws(self, scope: Scope, receive: Receive, send: Send) -> None:
        target = authorization = content_type = encoding = None
        declared_length = 0
        for name, value in scope["headers"]:
            if name == b"x-amz-target":
                target = value.decode("latin-1")
            elif name == b"authorization":
                authorization = value.decode("latin-1")
            elif name == b"content-length":
                declared_length = int(value) if value.isdigit() else 0
            elif name == b"content-type":
                content_type = value
            elif name == b"content-encoding":
                encoding = value
            elif name == b"origin":
                send = _with_cors(send)
        if declared_length > wire.MAX_REQUEST_BYTES:
            await self._discard_body(receive)
            await self._send(send, 413, wire.TOO_LARGE)
            return
        chunks: list[bytes] = []
        received = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away (or stalled and was timed out) mid-body
            chunk = message.get("body", b"")
            received += len(chunk)
            if received > wire.MAX_REQUEST_BYTES:
                if message.get("more_body", False):
                    await self._discard_body(receive)
                await self._send(send, 413, wire.TOO_LARGE)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        if self.verifier is not None:
            refused, signed_region = self.verifier.verify(
                "POST",
                scope["raw_path"],
                scope["query_string"],
                scope["headers"],
                body,
                "kinesis" if target is not None and target.startswith("Kinesis_") else "dynamodb",
            )
            if refused is not None:
                await self._send(send, refused.status, orjson.dumps(refused.body()))
                return
            region = signed_region or self.config.region
        else:
            region = wire.region_from_authorization(authorization, self.config.region)
        if encoding is not None:
            try:
                body = wire.decompress_body(encoding, body)
            except wire.BodyTooLarge:
                await self._send(send, 413, wire.TOO_LARGE)
                return
            except AwsError as error:
                await self._send(send, error.status, orjson.dumps(error.body()))
                return
            received = len(body)
        if target is not None and target.startswith("Kinesis_"):
            await self._serve_kinesis(send, target, content_type, region, body)
            return
        if wire.request_logger.isEnabledFor(logging.DEBUG):
            await self._serve_logged(send, target, region, body)
            return
        if received > wire.LARGE_REQUEST_BYTES:
            status, payload = await wire.handle_large_call(self.backend, target, region, body)
            await self._send(send, status, payload)
            return
        status, payload = wire.handle_call(self.backend, target, region, body)
        if status == wire.STAGED:
            status, payload = await wire.finish_staged(target, payload)
        await self._send(send, status, payload)

    # -- the direct path (see emulator.http_protocol) --------------------------------------

    def answers_directly(self, target: bytes) -> bool:
        """Whether the connection may hand a call to `target` to `answer` (the hot path:
        no ASGI cycle). Not with signatures to check or request logging on, nor for the
        operations that work in stages (they must let other requests run meanwhile)."""
        one_step = self._one_step.get(target)
        if one_step is None:
            prefix, _, name = target.decode("latin-1").partition(".")
            service = wire.SERVICE_PREFIXES.get(prefix)
            function = None if service is None else operation(service, name)
            if function is None:
                return False  # unknown: the ASGI path says so (not cached: unbounded)
            one_step = self._one_step[target] = not inspect.isgeneratorfunction(function)
        return (
            one_step
            and self.verifier is None
            and not wire.request_logger.isEnabledFor(logging.DEBUG)
        )

    def answer(self, target: bytes, authorization: bytes | None, body: bytes) -> tuple[int, bytes]:
        """`serve_aws` for a call `answers_directly` accepted: the status, and the
        response's headers and body as bytes."""
        region = wire.region_from_authorization(
            None if authorization is None else authorization.decode("latin-1"),
            self.config.region,
        )
        status, payload = wire.handle_call(self.backend, target.decode("latin-1"), region, body)
        if status == wire.STAGED:  # pragma: no cover - answers_directly refuses those
            raise RuntimeError(f"{target!r} works in stages")
        head = _DIRECT_HEAD % (len(payload), getrandbits(208), zlib.crc32(payload))
        return status, head + payload

    async def _serve_logged(self, send: Send, target: str | None, region: str, body: bytes) -> None:
        """`serve_aws`'s last step at debug level: the same, plus one structured log line."""
        started = time.perf_counter()
        status, payload = wire.handle_call(self.backend, target, region, body)
        if status == wire.STAGED:
            status, payload = await wire.finish_staged(target, payload)
        request_id = wire.request_id()
        await self._send(send, status, payload, request_id)
        wire.log_request(target, region, status, body, payload, request_id, started)

    async def _serve_kinesis(
        self, send: Send, target: str, content_type: bytes | None, region: str, body: bytes
    ) -> None:
        """The built-in Kinesis Data Streams endpoint (JSON 1.1 or CBOR 1.1)."""
        from emulator.kinesis import wire as kinesis_wire

        started = time.perf_counter()
        status, payload, answer_type = kinesis_wire.handle_call(
            self.backend, target, content_type, region, body
        )
        request_id = wire.request_id()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", answer_type),
                    (b"content-length", str(len(payload)).encode()),
                    (b"x-amzn-requestid", request_id.encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": payload})
        if wire.request_logger.isEnabledFor(logging.DEBUG):
            wire.log_request(target, region, status, body, b"{}", request_id, started)

    @staticmethod
    async def _discard_body(receive: Receive) -> None:
        """Read and drop the rest of an oversized body, so that a client that writes its
        whole request before reading sees the 413 instead of a connection reset."""
        more = True
        while more:
            message = await receive()
            more = message.get("more_body", False)

    @staticmethod
    async def _send(send: Send, status: int, body: bytes, request_id: str | None = None) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": wire.response_headers(body, request_id),
            }
        )
        await send({"type": "http.response.body", "body": body})


#: What DynamoDB adds to the answer of every request that carries an `Origin` header:
#: any origin may call, and a browser may read the request id, the error type and Date.
CORS_HEADERS = [
    (b"access-control-allow-origin", b"*"),
    (
        b"access-control-expose-headers",
        b"x-amzn-RequestId,x-amzn-ErrorType,x-amzn-ErrorMessage,Date",
    ),
]


def _with_cors(send: Send) -> Send:
    """`send`, adding the CORS headers to the response start (only requests from a
    browser page, which carry `Origin`, pay for the wrapper)."""

    async def send_with_cors(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", ()), *CORS_HEADERS]}
        await send(message)

    return send_with_cors


async def _buffered(receive: Receive, limit: int) -> tuple[bytes, Receive]:
    """Read a request body (to verify its signature) and a `receive` that hands it to the
    app as if it were read for the first time. Past `limit` bytes reading stops: the
    signature cannot match a cut body, so such a request is refused either way."""
    chunks = []
    size = 0
    more = True
    while more and size <= limit:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        more = message.get("more_body", False)
    body = b"".join(chunks)
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return body, replay


def admin_routes(app: EmulatorApp) -> list[Route]:
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    backend = app.backend

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok", "version": __version__})

    async def reset(request: Request) -> Response:
        backend.reset()
        return JSONResponse({"reset": True})

    async def clock(request: Request) -> Response:
        if request.method == "POST":
            try:
                # orjson refuses NaN and Infinity, which would stop the clock for good.
                command: Any = orjson.loads(await request.body())
                for name in ("advance", "set"):
                    value = command.get(name) if isinstance(command, dict) else None
                    if value is not None and (
                        isinstance(value, bool)
                        or not isinstance(value, int | float)
                        or not math.isfinite(value)
                    ):
                        raise ValueError(f'"{name}" must be a finite number of seconds')
                backend.set_clock(command)
            except (ValueError, TypeError) as error:
                return JSONResponse({"error": str(error)}, status_code=400)
            except AwsError as error:
                return JSONResponse(error.body(), status_code=error.status)
            # Whatever fell due as time moved is done before the answer is sent.
            await scheduler.run_due_work(backend, sweep_ttl=True)
        return JSONResponse({"now": backend.clock.now(), "mode": backend.clock.mode})

    async def rollover(request: Request) -> Response:
        body = await request.body()
        try:
            command: Any = orjson.loads(body) if body.strip() else {}
            if not isinstance(command, dict):
                raise ValueError("expected a JSON object")
            closed, created = backend.rollover(command.get("StreamArn"), bool(command.get("Split")))
        except ValueError as error:
            return JSONResponse({"error": str(error)}, status_code=400)
        except LookupError as error:
            return JSONResponse({"error": str(error.args[0])}, status_code=404)
        return JSONResponse({"ClosedShardIds": closed, "NewShardIds": created})

    async def ttl_sweep(request: Request) -> Response:
        deleted = await scheduler.run_due_work(backend, sweep_ttl=True)
        return JSONResponse({"DeletedItems": deleted})

    async def triggers_settle(request: Request) -> Response:
        body = await request.body()
        try:
            command: Any = orjson.loads(body) if body.strip() else {}
            timeout = command.get("timeout", 10) if isinstance(command, dict) else None
            if (
                isinstance(timeout, bool)
                or not isinstance(timeout, int | float)
                or not 0 <= timeout <= 3600
            ):
                raise ValueError('"timeout" must be a number of seconds from 0 to 3600')
        except (ValueError, orjson.JSONDecodeError) as error:
            return JSONResponse({"error": str(error)}, status_code=400)
        settled, pending = await settle(backend, float(timeout))
        if settled:
            return JSONResponse({"settled": True})
        return JSONResponse({"settled": False, "pending": pending}, status_code=409)

    async def change_history(request: Request) -> Response:
        return await history_response(backend, request)

    async def triggers_status(request: Request) -> Response:
        return JSONResponse({"EventSourceMappings": backend.triggers.status()})

    async def trigger_invocations(request: Request) -> Response:
        entries = backend.triggers.invocations(request.path_params["uuid"])
        if entries is None:
            return JSONResponse({"error": "no such running mapping"}, status_code=404)
        return JSONResponse({"Invocations": entries})

    async def trigger_failures(request: Request) -> Response:
        uuid = request.path_params["uuid"]
        return JSONResponse({"Failures": backend.triggers.destinations.documents(uuid)})

    from emulator.kinesis.admin import kinesis_routes

    async def replication_status(request: Request) -> Response:
        replication = backend.replication
        if request.method == "POST":
            body = await request.body()
            try:
                command: Any = orjson.loads(body) if body.strip() else {}
                paused = command.get("Paused") if isinstance(command, dict) else None
                if not isinstance(paused, bool):
                    raise ValueError('expected {"Paused": true} or {"Paused": false}')
            except (ValueError, orjson.JSONDecodeError) as error:
                return JSONResponse({"error": str(error)}, status_code=400)
            replication.pause(paused)
        return JSONResponse(
            {
                "Paused": replication.paused,
                "Links": replication.status(),
                "AppliedLagMillis": replication.lag_percentiles(),
                "External": backend.external_replication.status(),
            }
        )

    async def external_replication(request: Request) -> Response:
        external = backend.external_replication
        if request.method == "GET":
            return JSONResponse({"External": external.status()})
        body = await request.body()
        try:
            command: Any = orjson.loads(body) if body.strip() else {}
            if not isinstance(command, dict):
                raise ValueError("expected a JSON object")
            described = external.add(backend.config.region, command)
        except (ValueError, orjson.JSONDecodeError) as error:
            return JSONResponse({"error": str(error)}, status_code=400)
        except LookupError as error:
            return JSONResponse({"error": str(error.args[0])}, status_code=404)
        return JSONResponse(described)

    async def external_replication_link(request: Request) -> Response:
        link_id = request.path_params["link_id"]
        if request.method == "DELETE":
            if not backend.external_replication.remove(link_id):
                return JSONResponse({"error": "no such replication"}, status_code=404)
            return JSONResponse({"Deleted": link_id})
        for described in backend.external_replication.status():
            if described["Id"] == link_id:
                return JSONResponse(described)
        return JSONResponse({"error": "no such replication"}, status_code=404)

    return [
        *kinesis_routes(backend),
        *app.console.routes(),
        Route("/_emulator/replication", replication_status, methods=["GET", "POST"]),
        Route("/_emulator/replication/external", external_replication, methods=["GET", "POST"]),
        Route(
            "/_emulator/replication/external/{link_id}",
            external_replication_link,
            methods=["GET", "DELETE"],
        ),
        Route("/_emulator/triggers", triggers_status, methods=["GET"]),
        Route("/_emulator/triggers/settle", triggers_settle, methods=["POST"]),
        Route("/_emulator/triggers/{uuid}/invocations", trigger_invocations, methods=["GET"]),
        Route("/_emulator/triggers/{uuid}/failures", trigger_failures, methods=["GET"]),
        Route("/_emulator/ttl/sweep", ttl_sweep, methods=["POST"]),
        Route("/_emulator/history", change_history, methods=["GET"]),
        Route("/_emulator/health", health, methods=["GET"]),
        Route("/_emulator/reset", reset, methods=["POST"]),
        Route("/_emulator/clock", clock, methods=["GET", "POST"]),
        Route("/_emulator/streams/rollover", rollover, methods=["POST"]),
    ]


async def history_response(backend: Backend, request: Request) -> Response:
    """`GET /_emulator/history?TableName=T[&Key=<JSON key>][&From=S][&To=S][&Region=R]`:
    the change log as JSON lines, one stream record (plus `eventSourceARN`) per change,
    oldest first; with `Key`, one item's history, else the table's changes in
    [From, To] (epoch seconds; default: everything retained)."""
    from starlette.responses import JSONResponse, Response, StreamingResponse

    from emulator.runtime import history

    query = request.query_params
    region = query.get("Region") or backend.config.region
    name = query.get("TableName")
    try:
        if not name:
            raise ValueError("TableName is required")
        since = float(query.get("From", "0"))
        until = float(query.get("To", "inf"))
        if math.isnan(since) or math.isnan(until):
            raise ValueError("From and To must be epoch seconds")
        key = orjson.loads(query["Key"]) if "Key" in query else None
    except (ValueError, orjson.JSONDecodeError) as error:
        return JSONResponse({"error": str(error)}, status_code=400)
    row = backend.engine.get_table(region, name)
    if row is None:
        return JSONResponse({"error": f"Table not found: {name}"}, status_code=404)
    until = min(until, 1e12)  # µs must fit SQLite's 64-bit integers
    since = max(since, 0.0)
    if key is not None:
        try:
            records = history.item_history(backend, row, key, since, until)
        except AwsError as error:
            return JSONResponse(error.body(), status_code=error.status)
        body = b"".join(orjson.dumps(record) + b"\n" for record in records)
        return Response(body, media_type="application/x-ndjson")

    async def lines() -> AsyncIterator[bytes]:
        chunk: list[bytes] = []
        for record in history.table_changes(backend, row, since, until):
            chunk.append(orjson.dumps(record) + b"\n")
            if len(chunk) >= 500:
                yield b"".join(chunk)
                chunk.clear()
                await scheduler.yield_to_requests()
        yield b"".join(chunk)

    return StreamingResponse(lines(), media_type="application/x-ndjson")


def create_app(config: Config | None = None) -> EmulatorApp:
    return EmulatorApp(config or Config())
