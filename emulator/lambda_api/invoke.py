"""Invoke (SPEC-STREAM-APPS 2.3): run a function through the target registry and answer
as Lambda does — 200 with the function's payload (plus `X-Amz-Function-Error` when it
failed), 202 for `Event` (run in the background), 204 for `DryRun`; throttles and
invocations that never reached the function are AWS errors (429, 500)."""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging

import orjson

from emulator.lambda_api.common import LambdaRequest, Reply, validate
from emulator.lambda_api.errors import (
    InvalidRequestContentException,
    RequestEntityTooLargeException,
    ServiceException,
    TooManyRequestsException,
)
from emulator.lambda_api.functions import find_function, overridden_names
from emulator.runtime.backend import Backend
from emulator.triggers.functions import LATEST, function_spec
from emulator.triggers.runners import output
from emulator.triggers.targets import Invocation, InvokeResult, Outcome, Target

logger = logging.getLogger("emulator.lambda")

#: Request size limits, and the texts AWS answers with beyond them.
MAX_SYNC_REQUEST_BYTES = 6_291_456
MAX_EVENT_PAYLOAD_BYTES = 1_048_576

#: Event invocations running in the background (kept referenced until they finish).
_running: set[asyncio.Task[None]] = set()


def sync_request_too_large() -> RequestEntityTooLargeException:
    return RequestEntityTooLargeException(
        f"Request must be smaller than {MAX_SYNC_REQUEST_BYTES} bytes for the InvokeFunction "
        "operation"
    )


async def invoke(backend: Backend, request: LambdaRequest) -> Reply:
    headers = request.headers
    qualifier = request.query.get("Qualifier")
    members = {
        "FunctionName": request.resource,
        "Qualifier": qualifier,
        "InvocationType": headers.get("x-amz-invocation-type"),
        "LogType": headers.get("x-amz-log-type"),
        "ClientContext": headers.get("x-amz-client-context"),
    }
    validate("Invoke", {key: value for key, value in members.items() if value is not None})
    invocation_type = members["InvocationType"] or "RequestResponse"
    found = find_function(backend, request.region, request.resource or "", qualifier)
    payload = request.raw_body or b"{}"
    if len(payload) > MAX_SYNC_REQUEST_BYTES:
        raise sync_request_too_large()
    if invocation_type == "Event" and len(payload) > MAX_EVENT_PAYLOAD_BYTES:
        raise RequestEntityTooLargeException(
            f"{len(payload)} byte payload is too large for the Event invocation type "
            f"(limit {MAX_EVENT_PAYLOAD_BYTES} bytes)"
        )
    try:
        orjson.loads(payload)
    except orjson.JSONDecodeError as error:
        raise InvalidRequestContentException(
            f"Could not parse request body into json: Could not parse payload into json: {error}"
        ) from None
    client_context = members["ClientContext"]
    if client_context is not None:
        _check_client_context(client_context)
    if invocation_type == "DryRun":
        return Reply(204)
    spec = function_spec(
        backend.engine.documents,
        request.region,
        found.name,
        overridden=overridden_names(backend),
        account_id=backend.config.account_id,
    )
    if spec is None:  # deleted between the lookup and now: cannot happen on one thread
        raise ServiceException("The function is not available.")
    target: Target = backend.targets.target_for(spec)
    tail = members["LogType"] == "Tail"
    invocation = Invocation(payload, request.request_id, client_context, tail)
    if invocation_type == "Event":
        task = asyncio.get_running_loop().create_task(_run_event(target, invocation, spec.name))
        _running.add(task)
        task.add_done_callback(_running.discard)
        return Reply(202)
    result = await target.invoke(invocation)
    return answer(result, tail)


def answer(result: InvokeResult, tail: bool) -> Reply:
    """Invoke's HTTP answer for what the target reported (the runners frame the log and
    cap the response size as Lambda does)."""
    if result.outcome is Outcome.THROTTLED:
        raise TooManyRequestsException(
            "Rate Exceeded.",
            headers={"Retry-After": "1"},
            Reason="ConcurrentInvocationLimitExceeded",
        )
    if result.outcome is Outcome.SERVICE_ERROR:
        detail = result.detail or "the function's target did not answer"
        raise ServiceException(f"The function could not be invoked: {detail}")
    headers = {"x-amz-executed-version": LATEST}
    if result.outcome is Outcome.FUNCTION_ERROR:
        headers["x-amz-function-error"] = result.function_error or "Unhandled"
    if tail:
        headers["x-amz-log-result"] = output.log_tail(result.logs)
    return Reply(200, result.payload, headers)


def _check_client_context(value: str) -> None:
    try:
        context = orjson.loads(base64.b64decode(value, validate=True))
    except (binascii.Error, orjson.JSONDecodeError):
        context = None
    if not isinstance(context, dict):
        raise InvalidRequestContentException(
            "Client context must be a valid Base64-encoded JSON object."
        )


async def _run_event(target: Target, invocation: Invocation, name: str) -> None:
    """An `Event` invocation: its outcome goes to the log (AWS would retry it and use
    the function's asynchronous destinations, which the emulator does not model)."""
    try:
        result = await target.invoke(invocation)
    except Exception:
        logger.exception("asynchronous invocation of %s failed", name)
        return
    if result.outcome is not Outcome.SUCCESS:
        logger.warning(
            "asynchronous invocation %s of %s: %s %s",
            invocation.request_id,
            name,
            result.outcome.value,
            result.detail or result.payload[:500].decode("utf-8", "replace"),
        )
