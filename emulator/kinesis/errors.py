"""Kinesis Data Streams error types. Kinesis names its errors without a namespace
(`{"__type":"ResourceNotFoundException","message":"…"}`), on both wires."""

from __future__ import annotations

from emulator.errors import AwsError


class KinesisError(AwsError):
    namespace = ""


class ResourceNotFound(KinesisError):
    code = "ResourceNotFoundException"


class ResourceInUse(KinesisError):
    code = "ResourceInUseException"


class InvalidArgument(KinesisError):
    code = "InvalidArgumentException"


class ExpiredIterator(KinesisError):
    code = "ExpiredIteratorException"


class ExpiredNextToken(KinesisError):
    code = "ExpiredNextTokenException"


class LimitExceeded(KinesisError):
    code = "LimitExceededException"


class KinesisValidation(KinesisError):
    code = "ValidationException"


class InternalFailure(KinesisError):
    code = "InternalFailure"
    status = 500
