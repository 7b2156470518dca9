"""What every Lambda operation shares: the parsed request, the reply, model validation,
timestamps, page markers."""

from __future__ import annotations

import base64
import binascii
import datetime
from dataclasses import dataclass, field
from typing import Any

from emulator import validation
from emulator.errors import SerializationException
from emulator.errors import ValidationException as CoralValidation
from emulator.lambda_api.errors import (
    InvalidParameterValueException,
    ValidationException,
)


@dataclass
class LambdaRequest:
    operation: str
    region: str
    #: The path parameter (FunctionName or UUID), percent-decoded; None when the route
    #: has none.
    resource: str | None
    #: Query parameters (the first value of each).
    query: dict[str, str]
    #: Header names in lower case.
    headers: dict[str, str]
    raw_body: bytes
    #: The JSON body of control-plane operations ({} when empty).
    body: dict[str, Any] = field(default_factory=dict)
    #: `scheme://host` the client used, for URLs handed back (code locations).
    base_url: str = ""
    request_id: str = ""


@dataclass
class Reply:
    status: int
    #: A JSON document, raw bytes (Invoke's payload), or None for an empty body.
    body: dict[str, Any] | bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)


def validate(operation: str, members: dict[str, Any]) -> None:
    """Coral's shape validation of the operation's input, from botocore's model.

    JSON type mismatches are reported as Lambda reports them (SPEC-STREAM-APPS 2.6,
    recorded: `Received Exception while reading from provided stream. ...`)."""
    try:
        validation.validate_request("lambda", operation, members)
    except CoralValidation as error:
        raise ValidationException(error.message or "") from None
    except SerializationException as error:
        raise InvalidParameterValueException(
            f"Received Exception while reading from provided stream. {error.message}"
        ) from None


def integer_parameter(request: LambdaRequest, name: str) -> int | None:
    """A query parameter the model types as an integer (clients send it as text)."""
    text = request.query.get(name)
    if text is None:
        return None
    try:
        return int(text)
    except ValueError:
        raise InvalidParameterValueException(
            "Received Exception while reading from provided stream. "
            f"Cannot convert '{text}' to an Integer for parameter {name}"
        ) from None


def iso_timestamp(epoch_seconds: float) -> str:
    """FunctionConfiguration.LastModified: `2025-11-25T02:26:54.000+0000`."""
    moment = datetime.datetime.fromtimestamp(epoch_seconds, datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def encode_marker(key: str) -> str:
    """An opaque page marker that resumes after `key`."""
    return base64.urlsafe_b64encode(key.encode()).decode()


def decode_marker(marker: str | None) -> str | None:
    if marker is None:
        return None
    try:
        return base64.b64decode(marker.encode("ascii"), altchars=b"-_", validate=True).decode()
    except (binascii.Error, UnicodeError, ValueError):
        raise InvalidParameterValueException(f"Invalid Marker: {marker}") from None
