"""AWS error types: the code, message, HTTP status and any extra body members a client sees."""

from __future__ import annotations

from typing import Any

DYNAMODB_NS = "com.amazonaws.dynamodb.v20120810#"
VALIDATE_NS = "com.amazon.coral.validate#"
CORAL_NS = "com.amazon.coral.service#"


class AwsError(Exception):
    """An error answered to the client in AWS's JSON error shape."""

    code: str = "InternalServerError"
    namespace: str = DYNAMODB_NS
    status: int = 400

    def __init__(self, message: str | None = None, **extra: Any) -> None:
        super().__init__(message or "")
        self.message = message
        self.extra = extra

    @property
    def type_name(self) -> str:
        return self.namespace + self.code

    def body(self) -> dict[str, Any]:
        """The JSON body; `message` is omitted when AWS sends none."""
        body: dict[str, Any] = {"__type": self.type_name}
        if self.message is not None:
            body["message"] = self.message
        body.update(self.extra)
        return body


class ValidationException(AwsError):
    code = "ValidationException"
    namespace = VALIDATE_NS


class ResourceNotFoundException(AwsError):
    code = "ResourceNotFoundException"

    def __init__(self, message: str = "Requested resource not found", **extra: Any) -> None:
        super().__init__(message, **extra)


class ResourceInUseException(AwsError):
    code = "ResourceInUseException"


class ConditionalCheckFailedException(AwsError):
    code = "ConditionalCheckFailedException"

    def __init__(
        self, message: str | None = "The conditional request failed", **extra: Any
    ) -> None:
        super().__init__(message, **extra)


class AccessDeniedException(AwsError):
    code = "AccessDeniedException"


class TransactionCanceledException(AwsError):
    code = "TransactionCanceledException"


class DuplicateItemException(AwsError):
    """A PartiQL INSERT of a key the table holds already."""

    code = "DuplicateItemException"


class TransactionConflictException(AwsError):
    code = "TransactionConflictException"


class IdempotentParameterMismatchException(AwsError):
    code = "IdempotentParameterMismatchException"


class LimitExceededException(AwsError):
    code = "LimitExceededException"


class ExpiredIteratorException(AwsError):
    code = "ExpiredIteratorException"


class TrimmedDataAccessException(AwsError):
    code = "TrimmedDataAccessException"


class TableNotFoundException(AwsError):
    code = "TableNotFoundException"


class TableAlreadyExistsException(AwsError):
    code = "TableAlreadyExistsException"


class TableInUseException(AwsError):
    code = "TableInUseException"


class PointInTimeRecoveryUnavailableException(AwsError):
    code = "PointInTimeRecoveryUnavailableException"


class ContinuousBackupsUnavailableException(AwsError):
    code = "ContinuousBackupsUnavailableException"


class InvalidRestoreTimeException(AwsError):
    code = "InvalidRestoreTimeException"


class BackupNotFoundException(AwsError):
    code = "BackupNotFoundException"


class BackupInUseException(AwsError):
    code = "BackupInUseException"


class ExportNotFoundException(AwsError):
    code = "ExportNotFoundException"


class ExportConflictException(AwsError):
    code = "ExportConflictException"


class InvalidExportTimeException(AwsError):
    code = "InvalidExportTimeException"


class UnknownOperationException(AwsError):
    code = "UnknownOperationException"
    namespace = CORAL_NS


class SerializationException(AwsError):
    code = "SerializationException"
    namespace = CORAL_NS


class MissingAuthenticationTokenException(AwsError):
    code = "MissingAuthenticationTokenException"
    namespace = CORAL_NS


class IncompleteSignatureException(AwsError):
    code = "IncompleteSignatureException"
    namespace = CORAL_NS


class InvalidSignatureException(AwsError):
    code = "InvalidSignatureException"
    namespace = CORAL_NS


class UnrecognizedClientException(AwsError):
    code = "UnrecognizedClientException"
    namespace = CORAL_NS


class InternalServerError(AwsError):
    code = "InternalServerError"
    status = 500
