"""The Kinesis wire: `X-Amz-Target: Kinesis_20131202.<Op>` on the same `POST /` as
DynamoDB, in AWS JSON 1.1 or CBOR 1.1 (what the Java SDKs and the KCL send by default),
answered in the request's own format.

- JSON 1.1: blobs are base64 text, timestamps epoch seconds with a millisecond fraction.
- CBOR 1.1: blobs are byte strings; timestamps are tag 1 around an *integer of epoch
  milliseconds* (AWS's convention, not RFC 8949's seconds), both ways. A tag-1 float is
  read as seconds, for clients that follow the RFC.
- Errors: `{"__type": "<Code>", "message": "…"}` in either format, no namespace.

cbor2 is imported on the first CBOR request only (start-up pays nothing for it).
"""

from __future__ import annotations

import binascii
import logging
from typing import Any

import orjson

from emulator import validation
from emulator.errors import AwsError, SerializationException, UnknownOperationException
from emulator.kinesis.errors import InternalFailure
from emulator.kinesis.model import Instant
from emulator.runtime.backend import Backend

logger = logging.getLogger("emulator.kinesis")

TARGET_PREFIX = "Kinesis_20131202."
JSON_TYPE = b"application/x-amz-json-1.1"
CBOR_TYPE = b"application/x-amz-cbor-1.1"


def is_cbor(content_type: bytes | None) -> bool:
    return content_type is not None and content_type.startswith(b"application/x-amz-cbor")


def _json_default(value: Any) -> Any:
    if type(value) is bytes:
        return binascii.b2a_base64(value, newline=False).decode()
    if type(value) is Instant:
        return value.ms / 1000
    raise TypeError(type(value).__name__)


def _cbor_default(encoder: Any, value: Any) -> None:
    import cbor2

    if type(value) is Instant:
        encoder.encode(cbor2.CBORTag(1, value.ms))
        return
    raise TypeError(type(value).__name__)


def _cbor_timestamp(value: Any, immutable: bool) -> float:
    """Tag 1 in a request: integer epoch milliseconds (AWS), or RFC 8949 seconds."""
    if type(value) is int:
        return value / 1000
    if type(value) is float:
        return value
    raise SerializationException("Invalid timestamp in CBOR payload")


def decode(body: bytes, cbor: bool) -> dict[str, Any]:
    if not body:
        return {}
    if cbor:
        import cbor2

        try:
            request = cbor2.loads(body, semantic_decoders={1: _cbor_timestamp})
        except AwsError:
            raise
        except Exception:
            raise SerializationException() from None
    else:
        try:
            request = orjson.loads(body)
        except orjson.JSONDecodeError:
            raise SerializationException() from None
    if not isinstance(request, dict):
        raise SerializationException("Start of structure or map found where not expected.")
    return request


def encode(result: dict[str, Any], cbor: bool) -> bytes:
    if cbor:
        import cbor2

        return bytes(cbor2.dumps(result, default=_cbor_default))
    return orjson.dumps(result, default=_json_default)


def error_body(error: AwsError) -> dict[str, Any]:
    body: dict[str, Any] = {"__type": error.code}
    if error.message is not None:
        body["message"] = error.message
    return body


def handle_call(
    backend: Backend, target: str, content_type: bytes | None, region: str, body: bytes
) -> tuple[int, bytes, bytes]:
    """Run one Kinesis call: (status, body, content type); never raises."""
    cbor = is_cbor(content_type)
    answer_type = CBOR_TYPE if cbor else JSON_TYPE
    name = target[len(TARGET_PREFIX) :] if target.startswith(TARGET_PREFIX) else ""
    try:
        from emulator.kinesis.api import OPERATIONS

        operation = OPERATIONS.get(name)
        if operation is None:
            raise UnknownOperationException()
        request = decode(body, cbor)
        validation.validate_request("kinesis", name, request)
        result = operation(backend, region, request)
        return 200, encode(result, cbor), answer_type
    except AwsError as error:
        return error.status, encode(error_body(error), cbor), answer_type
    except Exception:
        logger.exception("internal error in %s", target)
        failure = InternalFailure("Internal service failure.")
        return failure.status, encode(error_body(failure), cbor), answer_type
