"""The ASGI application: AWS JSON calls on `POST /`, the Lambda API under `/2015-03-31/`,
the emulator's own admin surface under `/_emulator/`, and the lifespan that owns the
storage engine and background work."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from emulator import __version__, wire
from emulator.api import Backend
from emulator.config import Config
from emulator.errors import AwsError
from emulator.runtime import scheduler
from emulator.runtime.settle import settle

logger = logging.getLogger("emulator")


class EmulatorApp:
    """AWS traffic is served by a lean ASGI path (it is the hot path); everything else,
    admin routes and health probes, by a Starlette app."""

    def __init__(self, config: Config, backend: Backend | None = None) -> None:
        self.config = config
        self.backend = backend or Backend.create(config)
        self.admin = Starlette(routes=admin_routes(self), lifespan=self._lifespan)

    @asynccontextmanager
    async def _lifespan(self, app: Starlette) -> AsyncIterator[None]:
        self.backend.start_background(scheduler.tick_forever(self.backend))
        self.backend.start_background(self.backend.triggers.run_forever())
        self.backend.start_background(self.backend.replication.run_forever())
        self.backend.start_background(self.backend.external_replication.run_forever())
        try:
            yield
        finally:
            await self.backend.stop()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"] == "/":
            await self.serve_aws(scope, receive, send)
        elif scope["type"] == "http" and scope["path"].startswith("/2015-03-31/"):
            await self.serve_lambda(scope, receive, send)
        else:
            await self.admin(scope, receive, send)

    async def serve_lambda(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The Lambda API (REST-JSON); imported on its first request, so start-up does
        not pay for it."""
        from emulator.lambda_api.http import serve

        authorization = next(
            (v.decode("latin-1") for n, v in scope["headers"] if n == b"authorization"), None
        )
        region = wire.region_from_authorization(authorization, self.config.region)
        await serve(self.backend, region, scope, receive, send)

    async def serve_aws(self, scope: Scope, receive: Receive, send: Send) -> None:
        target = authorization = None
        declared_length = 0
        for name, value in scope["headers"]:
            if name == b"x-amz-target":
                target = value.decode("latin-1")
            elif name == b"authorization":
                authorization = value.decode("latin-1")
            elif name == b"content-length":
                declared_length = int(value) if value.isdigit() else 0
        if declared_length > wire.MAX_REQUEST_BYTES:
            await self._discard_body(receive)
            await self._send(send, 413, b"")
            return
        chunks: list[bytes] = []
        received = 0
        more = True
        while more:
            message = await receive()
            chunk = message.get("body", b"")
            received += len(chunk)
            if received > wire.MAX_REQUEST_BYTES:
                if message.get("more_body", False):
                    await self._discard_body(receive)
                await self._send(send, 413, b"")
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        region = wire.region_from_authorization(authorization, self.config.region)
        if wire.request_logger.isEnabledFor(logging.DEBUG):
            await self._serve_logged(send, target, region, body)
            return
        status, payload = wire.handle_call(self.backend, target, region, body)
        await self._send(send, status, payload)

    async def _serve_logged(self, send: Send, target: str | None, region: str, body: bytes) -> None:
        """`serve_aws`'s last step at debug level: the same, plus one structured log line."""
        started = time.perf_counter()
        status, payload = wire.handle_call(self.backend, target, region, body)
        request_id = wire.request_id()
        await self._send(send, status, payload, request_id)
        wire.log_request(target, region, status, body, payload, request_id, started)

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


def admin_routes(app: EmulatorApp) -> list[Route]:
    backend = app.backend

    async def root(request: Request) -> Response:
        return JSONResponse({"status": "ok", "service": "ddb-streams-emulator"})

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
        Route("/", root, methods=["GET", "HEAD"]),
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
        Route("/_emulator/health", health, methods=["GET"]),
        Route("/_emulator/reset", reset, methods=["POST"]),
        Route("/_emulator/clock", clock, methods=["GET", "POST"]),
        Route("/_emulator/streams/rollover", rollover, methods=["POST"]),
    ]


def create_app(config: Config | None = None) -> EmulatorApp:
    return EmulatorApp(config or Config())
