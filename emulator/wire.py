"""The AWS JSON 1.0 wire: X-Amz-Target routing, JSON in and out, AWS's error shape.

One pipeline for every AWS call: size check → target → JSON object → shape validation
(botocore's model) → the operation → response bytes with x-amz-crc32.
"""

from __future__ import annotations

import base64
import logging
import os
import zlib
from collections.abc import Callable
from typing import Any

import orjson

from emulator import validation
from emulator.api import OPERATIONS, Backend
from emulator.errors import (
    AwsError,
    InternalServerError,
    SerializationException,
    UnknownOperationException,
)

logger = logging.getLogger("emulator.wire")

MAX_REQUEST_BYTES = 16 * 1024 * 1024
CONTENT_TYPE = b"application/x-amz-json-1.0"
SERVICE_PREFIXES = {
    "DynamoDB_20120810": "dynamodb",
    "DynamoDBStreams_20120810": "dynamodbstreams",
}


def request_id() -> str:
    """52 upper-case alphanumerics, like DynamoDB's."""
    return base64.b32encode(os.urandom(35)).decode()[:52]


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
            operation = OPERATIONS[service].get(name)
            if operation is not None:
                return service, name, operation
    raise UnknownOperationException()


def error_response(error: AwsError) -> tuple[int, bytes]:
    return error.status, orjson.dumps(error.body())


def handle_call(
    backend: Backend, target: str | None, region: str, body: bytes
) -> tuple[int, bytes]:
    """Run one AWS call; always answers (status, body bytes), never raises."""
    try:
        service, name, operation = resolve_operation(target)
        try:
            request = orjson.loads(body) if body else {}
        except orjson.JSONDecodeError:
            raise SerializationException() from None
        if not isinstance(request, dict):
            raise SerializationException("Start of structure or map found where not expected.")
        validation.validate_request(service, name, request)
        result = operation(backend, region, request)
    except AwsError as error:
        return error_response(error)
    except Exception:
        logger.exception("internal error in %s", target)
        return error_response(InternalServerError("Internal server error"))
    if type(result) is bytes:
        return 200, result
    return 200, orjson.dumps(result)


def response_headers(body: bytes) -> list[tuple[bytes, bytes]]:
    return [
        (b"content-type", CONTENT_TYPE),
        (b"content-length", str(len(body)).encode()),
        (b"x-amzn-requestid", request_id().encode()),
        (b"x-amz-crc32", str(zlib.crc32(body) & 0xFFFFFFFF).encode()),
    ]
