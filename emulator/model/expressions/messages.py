"""AWS's expression error texts in one place, so wording fixes touch one file.

Texts marked "observed" are in SPEC.md 5.5/5.6 (captured from AWS); the others follow
AWS's wording as publicly reported and are the emulator's best knowledge.
"""

from __future__ import annotations

from collections.abc import Sequence

from emulator.errors import ValidationException
from emulator.model.values import AttributeValue

CONDITION = "ConditionExpression"
FILTER = "FilterExpression"
KEY_CONDITION = "KeyConditionExpression"
UPDATE = "UpdateExpression"
PROJECTION = "ProjectionExpression"

#: Long type names used by the ADD/DELETE operand message (observed: STRING).
LONG_TYPE_NAMES = {
    "S": "STRING",
    "N": "NUMBER",
    "B": "BINARY",
    "BOOL": "BOOLEAN",
    "NULL": "NULL",
    "M": "MAP",
    "L": "LIST",
    "SS": "STRING_SET",
    "NS": "NUMBER_SET",
    "BS": "BINARY_SET",
}

#: The message for runtime type errors in SET/ADD/DELETE (observed).
INCORRECT_DATA_TYPE = "An operand in the update expression has an incorrect data type"
#: A path through a missing or non-container parent in an update (observed).
INVALID_UPDATE_PATH = "The document path provided in the update expression is invalid for update"
#: A SET operand path that resolves to nothing.
MISSING_OPERAND = "The provided expression refers to an attribute that does not exist in the item"


def invalid(kind: str, detail: str) -> ValidationException:
    """``Invalid <Kind>: <detail>``, the shape of every expression error."""
    return ValidationException(f"Invalid {kind}: {detail}")


def syntax_error(kind: str, token: str, near: str) -> ValidationException:
    return invalid(kind, f'Syntax error; token: "{token}", near: "{near}"')


def render_path(path: Sequence[str | int]) -> str:
    """AWS's rendering of a resolved path in messages: ``[a, b, [0]]``."""
    return "[" + ", ".join(f"[{e}]" if isinstance(e, int) else e for e in path) + "]"


def render_value(av: AttributeValue) -> str:
    """AWS's short rendering of an AttributeValue, e.g. ``{N:5}``."""
    for kind, value in av.items():
        if isinstance(value, list):
            return "{" + kind + ":[" + ", ".join(str(v) for v in value) + "]}"
        return "{" + f"{kind}:{value}" + "}"
    return "{}"


def type_of(av: AttributeValue) -> str:
    for kind in av:
        return kind
    return ""


def incorrect_operand(kind: str, function: str, operand_type: str) -> ValidationException:
    return invalid(
        kind,
        "Incorrect operand type for operator or function; "
        f"operator or function: {function}, operand type: {operand_type}",
    )
