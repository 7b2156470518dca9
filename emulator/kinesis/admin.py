"""The emulator's own Kinesis routes (not AWS API), under `/_emulator/kinesis/`:

- `POST /_emulator/kinesis/settle`: complete pending state changes (what the next tick
  would do) and wait until every destination record was forwarded; `{"Settled": true}`.
- `GET /_emulator/kinesis/destinations`: per destination stream, the counts AWS reports
  as metrics, and the outbox backlog.
- `GET|POST /_emulator/kinesis/faults`: opt-in fault injection, e.g.
  `{"DuplicateEvery": 3, "ReorderEvery": 5, "ThrottleNextPuts": 2}` (0 switches off).
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from emulator.runtime.backend import Backend
from emulator.runtime.settle import settle as settle_everything

SETTLE_TIMEOUT_SECONDS = 10.0
_FAULTS = ("DuplicateEvery", "ReorderEvery", "ThrottleNextPuts")


async def settle(backend: Backend, timeout: float = SETTLE_TIMEOUT_SECONDS) -> bool:
    """Complete pending state changes and wait until everything delivered in the
    background is delivered (runtime/settle.py), destination records included."""
    async with backend.maintenance_lock:
        backend.complete_transitions()
    settled, _pending = await settle_everything(backend, timeout)
    return settled


def _faults(backend: Backend) -> dict[str, int]:
    faults = backend.kinesis_destinations.faults
    return {
        "DuplicateEvery": faults.duplicate_every,
        "ReorderEvery": faults.reorder_every,
        "ThrottleNextPuts": backend.kinesis.throttle_next_puts,
    }


def kinesis_routes(backend: Backend) -> list[Route]:
    async def settle_route(request: Request) -> Response:
        body = await request.body()
        timeout = SETTLE_TIMEOUT_SECONDS
        try:
            command: Any = orjson.loads(body) if body.strip() else {}
            if not isinstance(command, dict):
                raise ValueError("expected a JSON object")
            if command.get("Timeout") is not None:
                timeout = float(command["Timeout"])
        except (ValueError, TypeError) as error:
            return JSONResponse({"error": str(error)}, status_code=400)
        settled = await settle(backend, timeout)
        return JSONResponse(
            {"Settled": settled, "OutboxRecords": backend.kinesis.log.outbox_size()},
            status_code=200 if settled else 504,
        )

    async def destinations_route(request: Request) -> Response:
        log = backend.kinesis.log
        head = log.outbox_head(1)
        age = 0 if not head else max(0, int((backend.clock.now() - head[0][4]) * 1000))
        return JSONResponse(
            {
                "Destinations": {
                    arn: stats.as_dict()
                    for arn, stats in backend.kinesis_destinations.stats.items()
                },
                "OutboxRecords": log.outbox_size(),
                "AgeOfOldestUnreplicatedRecordMillis": age,
            }
        )

    async def faults_route(request: Request) -> Response:
        if request.method == "POST":
            try:
                command: Any = orjson.loads(await request.body())
                if not isinstance(command, dict):
                    raise ValueError("expected a JSON object")
                values: dict[str, int] = {}
                for name, value in command.items():
                    if name not in _FAULTS:
                        raise ValueError(f"unknown fault {name!r}; known: {', '.join(_FAULTS)}")
                    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                        raise ValueError(f"{name} must be a whole number >= 0")
                    values[name] = value
            except (ValueError, TypeError) as error:
                return JSONResponse({"error": str(error)}, status_code=400)
            faults = backend.kinesis_destinations.faults
            was_active = faults.active
            faults.duplicate_every = values.get("DuplicateEvery", faults.duplicate_every)
            faults.reorder_every = values.get("ReorderEvery", faults.reorder_every)
            if was_active and not faults.active:
                backend.kinesis_destinations.draining = True
            backend.kinesis_destinations.update_mode()
            backend.kinesis.throttle_next_puts = values.get(
                "ThrottleNextPuts", backend.kinesis.throttle_next_puts
            )
        return JSONResponse(_faults(backend))

    return [
        Route("/_emulator/kinesis/settle", settle_route, methods=["POST"]),
        Route("/_emulator/kinesis/destinations", destinations_route, methods=["GET"]),
        Route("/_emulator/kinesis/faults", faults_route, methods=["GET", "POST"]),
    ]
