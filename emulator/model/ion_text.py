"""Amazon Ion text for DynamoDB values, as the ION export format writes them: S → string,
N → decimal (`103.`, `6d2`, `1.5`), B → blob (`{{base64}}`), BOOL → bool, NULL → null,
L → list, M → struct, and sets → lists annotated `$dynamodb_SS::`, `$dynamodb_NS::`,
`$dynamodb_BS::` (the mapping and the sample of the DynamoDB export documentation).

A writer of its own: only this small subset of Ion text is ever written, and the
emulator takes no dependency for it.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from emulator.model.values import Item

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*")
#: Identifiers Ion reads as something else.
_KEYWORDS = frozenset(("null", "true", "false", "nan"))
_ESCAPES = {
    "\\": "\\\\",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
}
_NEEDS_ESCAPE = re.compile(r"[\x00-\x1f\x7f\\\"']")


def _escape(text: str, quote: str) -> str:
    def replace(match: re.Match[str]) -> str:
        char = match.group(0)
        if char in _ESCAPES:
            return _ESCAPES[char]
        if char == quote:
            return "\\" + char
        if char in "\"'":
            return char
        return f"\\x{ord(char):02x}"

    return _NEEDS_ESCAPE.sub(replace, text)


def ion_string(text: str) -> str:
    return '"' + _escape(text, '"') + '"'


def ion_field_name(name: str) -> str:
    """A bare symbol when the name is an identifier, else a quoted symbol."""
    if _IDENTIFIER.fullmatch(name) and name not in _KEYWORDS:
        return name
    return "'" + _escape(name, "'") + "'"


def ion_decimal(number: str) -> str:
    """A DynamoDB number as an Ion decimal, exact: `103.` (exponent 0 ends in a point),
    `6d2` for 600 (trailing zeros go to the exponent), `1.5`, `-0.001`."""
    sign, digits, exponent = Decimal(number).normalize().as_tuple()
    assert isinstance(exponent, int)  # DynamoDB numbers are finite
    text = "".join(map(str, digits))
    prefix = "-" if sign else ""
    if exponent == 0:
        return f"{prefix}{text}."
    if exponent > 0:
        return f"{prefix}{text}d{exponent}"
    point = len(text) + exponent
    if point > 0:
        return f"{prefix}{text[:point]}.{text[point:]}"
    return f"{prefix}0.{'0' * -point}{text}"


def ion_value(value: dict[str, Any]) -> str:
    """One AttributeValue (`{"S": ...}` and so on) as Ion text."""
    ((kind, inner),) = value.items()
    if kind == "S":
        return ion_string(inner)
    if kind == "N":
        return ion_decimal(inner)
    if kind == "B":
        return "{{" + inner + "}}"
    if kind == "BOOL":
        return "true" if inner else "false"
    if kind == "NULL":
        return "null"
    if kind == "M":
        return ion_struct(inner)
    if kind == "L":
        return "[" + ",".join(ion_value(element) for element in inner) + "]"
    if kind == "SS":
        return "$dynamodb_SS::[" + ",".join(ion_string(text) for text in inner) + "]"
    if kind == "NS":
        return "$dynamodb_NS::[" + ",".join(ion_decimal(text) for text in inner) + "]"
    if kind == "BS":
        return "$dynamodb_BS::[" + ",".join("{{" + blob + "}}" for blob in inner) + "]"
    raise ValueError(f"not an attribute value type: {kind}")


def ion_struct(item: Item) -> str:
    """An item (or a map) as an Ion struct."""
    return (
        "{"
        + ",".join(f"{ion_field_name(name)}:{ion_value(value)}" for name, value in item.items())
        + "}"
    )


def ion_line(fields: dict[str, str]) -> bytes:
    """One line of an ION export: the version marker, then a struct of the given fields
    (already Ion text), e.g. `$ion_1_0 {Item:{...}}`."""
    body = ",".join(f"{name}:{text}" for name, text in fields.items())
    return ("$ion_1_0 {" + body + "}\n").encode()
