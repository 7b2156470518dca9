"""The AWS JSON 1.0 wire: X-Amz-Target routing, JSON in and out, AWS's error shape.

One pipeline for every AWS call: size check → target → JSON object → shape validation
(botocore's model) → the operation → response bytes with x-amz-crc32.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
import zlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import orjson

from emulator import validation
from emulator.api import Backend, operation
from emulator.errors import (
    AwsError,
    InternalServerError,
    SerializationException,
    UnknownOperationException,
    ValidationException,
)
from emulator.runtime.scheduler import yield_to_requests

logger = logging.getLogger("emulator.wire")
request_logger = logging.getLogger("emulator.requests")

MAX_REQUEST_BYTES = 16 * 1024 * 1024
#: The status `handle_call` gives a call that goes on in stages (see `finish_staged`).
STAGED = 0
#: The 413 body. DynamoDB documents a request over 16 MB as refused (BatchWriteItem:
#: "The total request size exceeds 16 MB"); its exact wire answer is not known, so the
#: error clients already handle for size limits, a ValidationException, says it.
TOO_LARGE = orjson.dumps(
    ValidationException(
        f"Request size exceeds the maximum allowed size of {MAX_REQUEST_BYTES} bytes"
    ).body()
)
CONTENT_TYPE = b"application/x-amz-json-1.0"
#: X-Amz-Target prefix -> the service in `api.OPERATIONS` (and in validation's models).
#: A JSON API served on the same port adds its prefix here (e.g. Kinesis_20131202).
SERVICE_PREFIXES = {
    "DynamoDB_20120810": "dynamodb",
    "DynamoDBStreams_20120810": "dynamodbstreams",
}


def request_id() -> str:
    """52 upper-case alphanumerics, like DynamoDB's (hex digits: cheap to make)."""
    return os.urandom(26).hex().upper()


def region_from_authorization(authorization: str | None, default: str) -> str:
    """The region of the SigV4 credential scope (`Credential=AKID/date/region/...`)."""
    if not authorization:
        return default
    start = authorization.find("Credential=")
    if start < 0:
        return default
    parts = authorization[start + 11 :].split("/", 4)
    if len(parts) < 4 or not parts[2]:
        return default
    return parts[2]


def resolve_operation(target: str | None) -> tuple[str, str, Callable[..., Any]]:
    if target:
        prefix, _, name = target.partition(".")
        service = SERVICE_PREFIXES.get(prefix)
        if service is not None:
            function = operation(service, name)
            if function is not None:
                return service, name, function
    raise unknown_operation(target)


def unknown_operation(target: str | None) -> UnknownOperationException:
    """AWS answers an unknown target with a bare UnknownOperationException; this one
    also says which operation it did not know, and whether it is a real one the emulator
    does not implement."""
    if not target:
        return UnknownOperationException("The request names no operation (no X-Amz-Target)")
    prefix, _, name = target.partition(".")
    service = SERVICE_PREFIXES.get(prefix)
    if service is not None and name in validation.operation_names(service):
        return UnknownOperationException(
            f"The operation {target} is not implemented by this emulator"
        )
    return UnknownOperationException(f"Unknown operation {target}")


class BodyTooLarge(Exception):
    """A compressed body that inflates past MAX_REQUEST_BYTES (answered 413)."""


#: What AWS answers a body it cannot inflate, and a Content-Encoding it does not know:
#: an HTTP 500 (observed on DynamoDB; its body is not known, so it is the usual
#: InternalServerError shape, with a message saying what was wrong).
def _undecodable(encoding: str) -> InternalServerError:
    return InternalServerError(
        f"The request body could not be decoded as Content-Encoding: {encoding}"
    )


def decompress_body(encoding: bytes, body: bytes) -> bytes:
    """The body of a request sent with `Content-Encoding` (gzip, as the SDKs' request
    compression sends it; deflate too, zlib-wrapped or raw; identity).

    As observed on DynamoDB: a body that is not valid for its encoding (an empty one
    included), or an encoding DynamoDB does not know, is answered 500; several gzip
    members one after the other are one body; bytes after the last member that do not
    start another are ignored (DynamoDB accepts them). The 16 MB limit applies to the
    inflated body (DynamoDB was seen to inflate far more; the emulator is strict, and
    inflates at most one byte past the limit, so a small bomb costs nothing): past it,
    the same 413 as an uncompressed body over 16 MB. Raises BodyTooLarge or the
    InternalServerError to answer.
    """
    name = encoding.decode("latin-1").strip().lower()
    if name in ("", "identity"):
        return body
    if name in ("gzip", "x-gzip"):
        return _inflate(body, 16 + zlib.MAX_WBITS, name, members=True)
    if name == "deflate":
        try:
            return _inflate(body, zlib.MAX_WBITS, name, members=False)
        except InternalServerError:
            return _inflate(body, -zlib.MAX_WBITS, name, members=False)  # raw deflate
    raise _undecodable(name)


def _inflate(body: bytes, wbits: int, name: str, *, members: bool) -> bytes:
    """Inflate `body`, refusing at the first byte past MAX_REQUEST_BYTES: the output of
    each member is capped at what is left, so an output that fills the cap is too
    large (and anything shorter was inflated whole)."""
    out: list[bytes] = []
    size = 0
    data = body
    try:
        while True:
            inflater = zlib.decompressobj(wbits)
            chunk = inflater.decompress(data, MAX_REQUEST_BYTES + 1 - size)
            size += len(chunk)
            if size > MAX_REQUEST_BYTES:
                raise BodyTooLarge()
            if not inflater.eof:
                raise _undecodable(name)  # cut short (or empty)
            out.append(chunk)
            data = inflater.unused_data
            if not members or not data.startswith(b"\x1f\x8b"):
                return out[0] if len(out) == 1 else b"".join(out)
    except zlib.error:
        raise _undecodable(name) from None


def error_response(error: AwsError) -> tuple[int, bytes]:
    return error.status, orjson.dumps(error.body())


def handle_call(backend: Backend, target: str | None, region: str, body: bytes) -> tuple[int, Any]:
    """Run one AWS call; always answers (status, body bytes), never raises - or, for an
    operation that works in stages, (STAGED, the operation) for `finish_staged`."""
    try:
        service, name, operation = resolve_operation(target)
        try:
            request = orjson.loads(body) if body else {}
        except orjson.JSONDecodeError:
            raise SerializationException() from None
        # (a body that is not an object is refused by the input shape's own check)
        validation.validate_request(service, name, request)
        result = operation(backend, region, request)
    except AwsError as error:
        return error_response(error)
    except Exception:
        logger.exception("internal error in %s", target)
        return error_response(InternalServerError("Internal server error"))
    if type(result) is bytes:
        return 200, result
    if type(result) is dict:
        return 200, orjson.dumps(result)
    return STAGED, result


#: Bodies larger than this are decoded and shape-validated on a worker thread.
LARGE_REQUEST_BYTES = 1024 * 1024
_decoder: ThreadPoolExecutor | None = None


def _decode(target: str | None, body: bytes) -> tuple[Callable[..., Any], dict[str, Any]]:
    """Target, JSON and shape checks of a request: pure, so it may run on a thread."""
    service, name, function = resolve_operation(target)
    try:
        request = orjson.loads(body) if body else {}
    except orjson.JSONDecodeError:
        raise SerializationException() from None
    validation.validate_request(service, name, request)
    return function, request


async def handle_large_call(
    backend: Backend, target: str | None, region: str, body: bytes
) -> tuple[int, bytes]:
    """`handle_call` for a body over LARGE_REQUEST_BYTES: decoding 16 MB of JSON and
    checking its shape takes a few hundred milliseconds, which a worker thread spends
    while the event loop goes on answering the other clients (Python switches between
    the two every few milliseconds). The operation itself runs on the loop, as always."""
    global _decoder
    if _decoder is None:
        _decoder = ThreadPoolExecutor(max_workers=2, thread_name_prefix="ddb-decode")
    loop = asyncio.get_running_loop()
    try:
        function, request = await loop.run_in_executor(_decoder, _decode, target, body)
        result = function(backend, region, request)
    except AwsError as error:
        return error_response(error)
    except Exception:
        logger.exception("internal error in %s", target)
        return error_response(InternalServerError("Internal server error"))
    if type(result) is bytes:
        return 200, result
    if type(result) is dict:
        return 200, orjson.dumps(result)
    return await finish_staged(target, result)


async def finish_staged(target: str | None, staged: Any) -> tuple[int, bytes]:
    """Run a staged operation (`handle_call` answered STAGED) to its end, answering the
    other requests at each pause; errors are answered as `handle_call` answers them."""
    try:
        while True:
            try:
                next(staged)
            except StopIteration as done:
                result = done.value
                break
            await yield_to_requests()
    except AwsError as error:
        return error_response(error)
    except Exception:
        logger.exception("internal error in %s", target)
        return error_response(InternalServerError("Internal server error"))
    if type(result) is bytes:
        return 200, result
    return 200, orjson.dumps(result)


def response_headers(body: bytes, rid: str | None = None) -> list[tuple[bytes, bytes]]:
    return [
        (b"content-type", CONTENT_TYPE),
        (b"content-length", str(len(body)).encode()),
        (b"x-amzn-requestid", (rid or request_id()).encode()),
        (b"x-amz-crc32", str(zlib.crc32(body) & 0xFFFFFFFF).encode()),
    ]


def log_request(
    target: str | None,
    region: str,
    status: int,
    body: bytes,
    payload: bytes,
    rid: str,
    started: float,
) -> None:
    """One logfmt line per AWS call (debug level only; the caller checks the level once).

    `op=DynamoDB_20120810.PutItem status=200 ms=0.41 region=us-east-1 in=93 out=2
    request_id=...`, plus `error=<AWS error code>` for a 4xx/5xx answer. The same fields
    are attached to the log record (`record.aws`) for JSON formatters.
    """
    fields: dict[str, Any] = {
        "op": target or "-",
        "status": status,
        "ms": round((time.perf_counter() - started) * 1000, 3),
        "region": region,
        "in": len(body),
        "out": len(payload),
        "request_id": rid,
    }
    if status >= 400:
        try:
            error_type = orjson.loads(payload).get("__type", "")
        except (orjson.JSONDecodeError, AttributeError):
            error_type = ""
        fields["error"] = error_type.rpartition("#")[2] or "-"
    line = " ".join(f"{name}={_logfmt(value)}" for name, value in fields.items())
    request_logger.debug("request %s", line, extra={"aws": fields})


def _logfmt(value: object) -> str:
    text = str(value)
    if text and not any(c in text for c in ' ="\\') and text.isprintable():
        return text
    return orjson.dumps(text).decode()
