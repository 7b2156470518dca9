"""AWS's PartiQL error messages (ValidationException unless said otherwise)."""

from __future__ import annotations

from emulator.errors import ValidationException

NOT_WELL_FORMED = "Statement wasn't well formed, can't be processed: "
LEFTOVER = "Unexpected token after expression"
ALIASING = "Aliasing is not supported"
INCOMPLETE_KEY = "Where clause does not contain a mandatory equality on all key attributes"
PARAMETER_COUNT = "Number of parameters in request and statement don't match."
DUPLICATE_ITEM = "Duplicate primary key exists in table"
EMPTY_BAG = "Empty bags are not supported"
MISSING_COMPARED = "MISSING must be compared using IS operator"
NOT_ON_INDEX = "This operation is not supported on an index"
CONSISTENT_READ_ON_GSI = "Strongly consistent read is not supported on Global Secondary Indexes"
INVALID_NEXT_TOKEN = "Invalid NextToken"
OTHER_STATEMENT_TOKEN = "The provided starting key is invalid"
ITEM_FORMAT = (
    "Unsupported format in item expression. Please use struct format {...} to express "
    "item values for insert statement."
)
RETURNING_INSERT = "RETURNING is not supported in INSERT"
STAR_AND_OTHERS = "Other attributes should not be present in the projection when '*' is used."
BATCH_KEY = (
    "Select statements within BatchExecuteStatement must specify the primary key in the "
    "where clause."
)
BATCH_MIXED = (
    "The entire batch must consist of either read statements or write statements, you "
    "cannot mix both in one batch."
)
TRANSACTION_KEY = (
    "Select statements within ExecuteTransaction must specify the primary key in the where clause."
)
TRANSACTION_INDEX = "Reads on indices are not supported within transactions."
EXISTS_SHAPE = "EXISTS() must contain a single item read with additional condition"
EXISTS_OUTSIDE = "EXISTS can only be used in ExecuteTransaction write requests."
ORDER_BY_NO_WHERE = "Must have WHERE clause in the statement when using ORDER BY clause."
ORDER_BY_NO_HASH = (
    "Must have at least one non-optional hash key condition in WHERE clause when using "
    "ORDER BY clause."
)
IS_IN_UPDATE = "IS operator is not supported in update expressions"


def not_well_formed(detail: str) -> ValidationException:
    return ValidationException(NOT_WELL_FORMED + detail)


def at(message: str, text: str, start: int, length: int) -> ValidationException:
    """A message with AWS's `at line:column:length` position of a token."""
    line = text.count("\n", 0, start) + 1
    column = start - (text.rfind("\n", 0, start) + 1) + 1
    return ValidationException(f"{message} at {line}:{column}:{length}")
