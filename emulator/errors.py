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
    """A body AWS's deserialiser cannot read. Its body says `Message`, capital M (the
    one front-end error that does; recorded on DynamoDB), or has no message at all for
    a body that is not JSON."""

    code = "SerializationException"
    namespace = CORAL_NS

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"__type": self.type_name}
        if self.message is not None:
            body["Message"] = self.message
        body.update(self.extra)
        return body


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


# ------------------------------------------------------------------ type mismatches

#: The Java type AWS's deserialiser names when a scalar stands where a list or a map
#: nested in a list or map belongs (its generics show through; recorded on DynamoDB).
PARAMETERIZED_CAST = (
    "class sun.reflect.generics.reflectiveObjects.ParameterizedTypeImpl cannot be cast to "
    "class java.lang.Class (sun.reflect.generics.reflectiveObjects.ParameterizedTypeImpl and "
    "java.lang.Class are in module java.base of loader 'bootstrap')"
)
_CONVERTED_TO = {
    "string": "String",
    "integer": "Integer",
    "long": "Long",
    "double": "Double",
    "float": "Float",
    "boolean": "Boolean",
    "timestamp": "Date",
}


def _token(value: Any) -> str:
    """The JSON token kind AWS's parser names in its type-mismatch messages."""
    if value is True:
        return "TRUE_VALUE"
    if value is False:
        return "FALSE_VALUE"
    if isinstance(value, str):
        return "STRING_VALUE"
    if isinstance(value, int):
        return "NUMBER_VALUE"
    if isinstance(value, float):
        return "DECIMAL_VALUE"
    return "VALUE"


def type_mismatch(
    value: Any, shape_type: str, java: str = "", field: bool = True
) -> SerializationException:
    """The SerializationException for ``value`` where the model wants ``shape_type``
    (a botocore shape type: string, boolean, integer, long, blob, list, map, structure).

    Worded as DynamoDB's deserialiser words it (recorded against DynamoDB by dynalite's
    suite): an object where it is not wanted, an array where a ``java`` type is (the
    Java class of the shape), or a scalar of the wrong kind. For a scalar where a
    container is, the message depends on where the container stands: a structure
    member (``field``) or an element of a list or value of a map.
    """
    if isinstance(value, dict):
        return SerializationException("Start of structure or map found where not expected")
    if isinstance(value, list):
        prefix = "" if java.startswith("java.util.") else "class "
        return SerializationException(f"Unrecognized collection type {prefix}{java}")
    if shape_type == "structure":
        return SerializationException(
            "Unexpected field type" if field else "Unexpected value type in payload"
        )
    if shape_type in ("list", "map"):
        return SerializationException("Unexpected field type" if field else PARAMETERIZED_CAST)
    if shape_type == "blob":
        return SerializationException("only base-64-encoded strings are convertible to bytes")
    if shape_type == "boolean" and isinstance(value, str):
        return SerializationException("Unexpected token received from parser")
    target = _CONVERTED_TO.get(shape_type, shape_type)
    return SerializationException(f"{_token(value)} cannot be converted to {target}")
