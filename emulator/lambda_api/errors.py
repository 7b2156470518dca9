"""Lambda's errors as its REST-JSON wire carries them: the status, an `x-amzn-ErrorType`
header with the code, and a body `{"Type": "User" | "Service", "Message" | "message": ...}`
(the member's case follows the botocore model of each exception, SPEC-STREAM-APPS 2.1)."""

from __future__ import annotations

from typing import Any


class LambdaError(Exception):
    code = "ServiceException"
    status = 500
    #: "Message" or "message", as the model names the member.
    message_key = "message"
    fault = "User"

    def __init__(self, message: str, *, headers: dict[str, str] | None = None, **extra: Any):
        super().__init__(message)
        self.message = message
        self.headers = headers or {}
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return {"Type": self.fault, self.message_key: self.message, **self.extra}


class InvalidParameterValueException(LambdaError):
    code = "InvalidParameterValueException"
    status = 400


class ValidationException(LambdaError):
    """Coral's shape validation (`1 validation error detected: ...`)."""

    code = "ValidationException"
    status = 400


class InvalidRequestContentException(LambdaError):
    code = "InvalidRequestContentException"
    status = 400


class ResourceNotFoundException(LambdaError):
    code = "ResourceNotFoundException"
    status = 404
    message_key = "Message"


class ResourceConflictException(LambdaError):
    code = "ResourceConflictException"
    status = 409


class ResourceInUseException(LambdaError):
    code = "ResourceInUseException"
    status = 400
    message_key = "Message"


class PreconditionFailedException(LambdaError):
    code = "PreconditionFailedException"
    status = 412


class RequestEntityTooLargeException(LambdaError):
    """What AWS answers for an Invoke (or code upload) request over its size limit; not
    in the botocore model, so clients see it as a plain ClientError with this code."""

    code = "RequestEntityTooLargeException"
    status = 413


class TooManyRequestsException(LambdaError):
    code = "TooManyRequestsException"
    status = 429


class ServiceException(LambdaError):
    code = "ServiceException"
    status = 500
    message_key = "Message"
    fault = "Service"


class UnknownOperationException(LambdaError):
    code = "UnknownOperationException"
    status = 404
