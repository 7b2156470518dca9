"""AttributeValue checks, number normalisation, semantic equality, ordering and item size.

Items are kept in their wire form (``{"name": {"S": "x"}, ...}``) everywhere in the
emulator, so every function here works on plain JSON-native dicts. Numbers are stored in
one canonical text form (see :func:`normalize_number`), which lets equality and duplicate
checks on normalised numbers compare strings instead of parsing them again.

These run on every write, so the common cases (short integers, plain strings) take fast
paths that avoid ``decimal`` and regular expressions where possible.
"""

from __future__ import annotations

import base64
import binascii
import re
from decimal import Decimal
from typing import Any

from emulator.errors import SerializationException, ValidationException

AttributeValue = dict[str, Any]
Item = dict[str, AttributeValue]

#: Every AttributeValue member DynamoDB knows.
ATTRIBUTE_TYPES = frozenset({"S", "N", "B", "SS", "NS", "BS", "M", "L", "NULL", "BOOL"})
SCALAR_TYPES = frozenset({"S", "N", "B"})

MAX_SIGNIFICANT_DIGITS = 38
MAX_ADJUSTED_EXPONENT = 125  # 9.99..E+125 is the largest magnitude
MIN_ADJUSTED_EXPONENT = -130  # 1E-130 is the smallest non-zero magnitude
MAX_NESTING_DEPTH = 32

_INVALID = "One or more parameter values were invalid: "
_MSG_DIGITS = "Attempting to store more than 38 significant digits in a Number"
_MSG_OVERFLOW = (
    "Number overflow. Attempting to store a number with magnitude larger than supported range"
)
_MSG_UNDERFLOW = (
    "Number underflow. Attempting to store a number with magnitude smaller than supported range"
)
_MSG_EMPTY_AV = (
    "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"
)
_MSG_MULTI_AV = (
    "Supplied AttributeValue has more than one datatypes set, "
    "must contain exactly one of the supported datatypes"
)
_MSG_NESTING = "Nesting Levels have exceeded supported limits"
_MSG_EMPTY_SET = {
    "SS": _INVALID + "An string set  may not be empty",
    "NS": _INVALID + "An number set  may not be empty",
    "BS": _INVALID + "Binary sets should not be empty",
}

# Canonical integers that need no work at all: "0" or up to 38 digits without a leading 0.
_FAST_INT = re.compile(r"-?[1-9][0-9]{0,37}|0")
# Everything DynamoDB accepts as a number literal: '1', '+1', '-1.5', '.5', '5.', '1e3'.
_NUMBER = re.compile(r"([+-]?)([0-9]*)(?:\.([0-9]*))?(?:[eE]([+-]?[0-9]+))?")
_JSON_TYPE_NAMES = {
    str: "VALUE_STRING",
    int: "VALUE_NUMBER_INT",
    float: "VALUE_NUMBER_FLOAT",
    bool: "VALUE_TRUE",
    list: "START_ARRAY",
    dict: "START_OBJECT",
    type(None): "VALUE_NULL",
}


# --------------------------------------------------------------------------- numbers


def number_parts(text: str) -> tuple[int, str, int]:
    """Split a number literal into (sign, significant digits, adjusted exponent).

    ``sign`` is -1, 0 or 1; ``digits`` has no leading or trailing zeros (empty for zero);
    the value is ``sign * d1.d2d3... * 10**exponent``. Shared by normalisation, item size
    and the order-preserving key encoding. Raises ValidationException for non-numbers
    only; range checks are the caller's business.
    """
    m = _NUMBER.fullmatch(text)
    if m is None:
        raise ValidationException(f"The parameter cannot be converted to a numeric value: {text}")
    sign_text, int_part, frac_part, exp_text = m.groups()
    frac_part = frac_part or ""
    if not int_part and not frac_part:  # '', '.', '+', 'e5'
        raise ValidationException(f"The parameter cannot be converted to a numeric value: {text}")
    all_digits = int_part + frac_part
    digits = all_digits.lstrip("0")
    if not digits:
        return 0, "", 0
    # Position of the decimal point relative to the first significant digit.
    leading_zeros = len(all_digits) - len(digits)
    exponent = len(int_part) - leading_zeros - 1
    if exp_text:
        body = exp_text.lstrip("+-").lstrip("0")
        # Absurdly long exponents stay out of int()'s digit limit; they are out of range anyway.
        shift = 10**13 if len(body) > 12 else int(body or "0")
        exponent += -shift if exp_text.startswith("-") else shift
    digits = digits.rstrip("0")
    return (-1 if sign_text == "-" else 1), digits, exponent


def _format_number(sign: int, digits: str, exponent: int) -> str:
    """Plain decimal notation of ``sign * d1.d2... * 10**exponent`` (no exponent marker)."""
    if sign == 0:
        return "0"
    point = exponent + 1  # digits before the decimal point
    if point <= 0:
        text = "0." + "0" * -point + digits
    elif point >= len(digits):
        text = digits + "0" * (point - len(digits))
    else:
        text = digits[:point] + "." + digits[point:]
    return "-" + text if sign < 0 else text


def normalize_number(text: str) -> str:
    """Check a DynamoDB number and return its canonical text.

    Canonical means plain notation, no exponent, no leading or trailing zeros, no '+',
    and '0' for every zero: numerically equal numbers get identical text, so stored
    items, stream images and set-duplicate checks can compare strings.
    """
    if _FAST_INT.fullmatch(text):
        return text
    sign, digits, exponent = number_parts(text)
    if sign == 0:
        return "0"
    if len(digits) > MAX_SIGNIFICANT_DIGITS:
        raise ValidationException(_MSG_DIGITS)
    if exponent > MAX_ADJUSTED_EXPONENT:
        raise ValidationException(_MSG_OVERFLOW)
    if exponent < MIN_ADJUSTED_EXPONENT:
        raise ValidationException(_MSG_UNDERFLOW)
    return _format_number(sign, digits, exponent)


def number_value(text: str) -> Decimal:
    """The exact Decimal of a number text (construction from str never rounds)."""
    return Decimal(text)


def significant_digits(text: str) -> int:
    """Count of significant digits (leading and trailing zeros trimmed); 0 for zero."""
    if _FAST_INT.fullmatch(text):
        return len(text.lstrip("-").rstrip("0"))
    return len(number_parts(text)[1])


# --------------------------------------------------------------------------- binary


def decode_binary(text: str) -> bytes:
    """Bytes of a base64 wire value; strict (padding required, no stray characters)."""
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError, TypeError):
        raise SerializationException("Base64 encoded value is not valid") from None


def _binary_length(text: str) -> int:
    """Decoded length of an already-validated base64 text, without decoding it."""
    n = len(text)
    if n == 0:
        return 0
    pad = 2 if text.endswith("==") else 1 if text.endswith("=") else 0
    return n // 4 * 3 - pad


# --------------------------------------------------------------------------- validation


def _serialization_error(expected: str, value: Any) -> SerializationException:
    """The error for a member of the wrong JSON type, e.g. ``{"S": 5}``.

    AWS answers these from its JSON deserialiser, before any semantic validation.
    """
    found = _JSON_TYPE_NAMES.get(type(value), type(value).__name__)
    return SerializationException(
        f"Unexpected value type in payload: expected {expected}, got {found}"
    )


def _duplicates_error(values: list[Any]) -> ValidationException:
    rendered = ", ".join(str(v) for v in values)
    return ValidationException(_INVALID + f"Input collection [{rendered}] contains duplicates.")


def _type_and_value(av: Any) -> tuple[str, Any]:
    """The single (type, value) member of an AttributeValue.

    Members that are null or unknown are ignored, like AWS's deserialiser does.
    """
    if type(av) is not dict:
        raise _serialization_error("AttributeValue object", av)
    if len(av) == 1:
        for kind, value in av.items():
            if kind in ATTRIBUTE_TYPES and value is not None:
                return kind, value
        raise ValidationException(_MSG_EMPTY_AV)
    found = [(k, v) for k, v in av.items() if k in ATTRIBUTE_TYPES and v is not None]
    if not found:
        raise ValidationException(_MSG_EMPTY_AV)
    if len(found) > 1:
        raise ValidationException(_MSG_MULTI_AV)
    return found[0]


def _validate(av: Any, depth: int, allow_empty_sets: bool) -> AttributeValue:
    """Validate one AttributeValue at nesting ``depth``; return its normalised form.

    Values that need no change are returned as the same object (no copy) to keep writes
    cheap; callers must treat results as immutable.
    """
    kind, value = _type_and_value(av)
    if kind == "S":
        if type(value) is not str:
            raise _serialization_error("String", value)
        return av if len(av) == 1 else {"S": value}
    if kind == "N":
        if type(value) is not str:
            raise _serialization_error("String", value)
        norm = normalize_number(value)
        return av if norm is value and len(av) == 1 else {"N": norm}
    if kind == "B":
        if type(value) is not str:
            raise _serialization_error("Blob", value)
        decode_binary(value)
        return av if len(av) == 1 else {"B": value}
    if kind == "BOOL":
        if type(value) is not bool:
            raise _serialization_error("Boolean", value)
        return av if len(av) == 1 else {"BOOL": value}
    if kind == "NULL":
        if type(value) is not bool:
            raise _serialization_error("Boolean", value)
        # AWS now stores {"NULL": false} as {"NULL": true} (SPEC 5.1).
        return av if value and len(av) == 1 else {"NULL": True}
    if kind == "M":
        if type(value) is not dict:
            raise _serialization_error("Map", value)
        if depth >= MAX_NESTING_DEPTH:
            raise ValidationException(_MSG_NESTING)
        return {"M": {name: _validate(v, depth + 1, allow_empty_sets) for name, v in value.items()}}
    if kind == "L":
        if type(value) is not list:
            raise _serialization_error("List", value)
        if depth >= MAX_NESTING_DEPTH:
            raise ValidationException(_MSG_NESTING)
        return {"L": [_validate(v, depth + 1, allow_empty_sets) for v in value]}
    # Sets.
    if type(value) is not list:
        raise _serialization_error("List", value)
    if not value and not allow_empty_sets:
        raise ValidationException(_MSG_EMPTY_SET[kind])
    for element in value:
        if type(element) is not str:
            raise _serialization_error("Blob" if kind == "BS" else "String", element)
    if kind == "SS":
        if len(set(value)) != len(value):
            raise _duplicates_error(value)
        return av if len(av) == 1 else {"SS": value}
    if kind == "NS":
        normalized = [normalize_number(v) for v in value]
        if len(set(normalized)) != len(normalized):
            raise _duplicates_error(value)
        return {"NS": normalized}
    # BS: duplicates are compared on the decoded bytes.
    decoded = {decode_binary(v) for v in value}
    if len(decoded) != len(value):
        raise _duplicates_error(value)
    return av if len(av) == 1 else {"BS": value}


def validate_value(av: Any, *, allow_empty_sets: bool = False) -> AttributeValue:
    """Validate and normalise one AttributeValue (e.g. an ExpressionAttributeValues entry)."""
    return _validate(av, 0, allow_empty_sets)


def validate_item(item: Any, *, allow_empty_sets: bool = False) -> Item:
    """Validate every attribute of a wire item and return the normalised item.

    Numbers (also inside NS, M and L) come back canonical, ``NULL: false`` becomes
    ``NULL: true``. Unchanged attribute values may be shared with the input.
    """
    if type(item) is not dict:
        raise _serialization_error("Map", item)
    if "" in item:
        # AWS documents attribute names as at least one character long; no capture of its
        # answer to an empty one was found, so this refuses it with the emulator's text.
        raise ValidationException(_INVALID + "An attribute name cannot be empty")
    return {name: _validate(av, 0, allow_empty_sets) for name, av in item.items()}


# --------------------------------------------------------------------------- size


def _text_size(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-8"))


def _number_size(text: str) -> int:
    """1 byte per 2 significant digits (rounded up) + 1; zero counts as 1 byte."""
    if "e" in text or "E" in text:
        return (significant_digits(text) + 1) // 2 + 1
    # Normalised text (the stored form): digits are what is left without sign, point and
    # leading / trailing zeros.
    digits = len(text.replace("-", "").replace(".", "").strip("0"))
    return (digits + 1) // 2 + 1


def value_size(av: AttributeValue) -> int:
    """DynamoDB's storage size of one (already validated) AttributeValue (SPEC 5.3)."""
    for kind, value in av.items():
        if kind == "S":
            return _text_size(value)
        if kind == "N":
            return _number_size(value)
        if kind == "B":
            return _binary_length(value)
        if kind == "BOOL" or kind == "NULL":
            return 1
        if kind == "M":
            total = 3 + len(value)
            for name, element in value.items():
                total += _text_size(name) + value_size(element)
            return total
        if kind == "L":
            return 3 + len(value) + sum(value_size(element) for element in value)
        if kind == "SS":
            return sum(_text_size(v) for v in value)
        if kind == "NS":
            return sum(_number_size(v) for v in value)
        if kind == "BS":
            return sum(_binary_length(v) for v in value)
    raise ValidationException(_MSG_EMPTY_AV)


def item_size(item: Item) -> int:
    """Size of a whole item: attribute name bytes + value sizes (also Streams SizeBytes).

    Runs on every write and every stream record, so strings and numbers are inlined.
    """
    total = 0
    for name, av in item.items():
        total += len(name) if name.isascii() else len(name.encode("utf-8"))
        text = av.get("S")
        if text is not None:
            total += len(text) if text.isascii() else len(text.encode("utf-8"))
            continue
        text = av.get("N")
        if text is not None:
            total += _number_size(text)
            continue
        total += value_size(av)
    return total


# --------------------------------------------------------------------------- equality


MAX_ITEM_BYTES = 400 * 1024


def check_item_size(
    item: Item, message: str = "Item size has exceeded the maximum allowed size"
) -> int:
    """The item's size; a ValidationException past DynamoDB's 400 KB."""
    size = item_size(item)
    if size > MAX_ITEM_BYTES:
        raise ValidationException(message)
    return size


def _single(av: AttributeValue) -> tuple[str, Any]:
    for kind, value in av.items():
        return kind, value
    return "", None


def values_equal(a: AttributeValue, b: AttributeValue) -> bool:
    """Semantic equality: numbers numerically, binary by bytes, sets and maps unordered."""
    ka, va = _single(a)
    kb, vb = _single(b)
    if ka != kb:
        return False
    if va == vb:  # identical wire text: the common case, and exact for S/BOOL/NULL/SS
        return True
    if ka == "N":
        return number_value(va) == number_value(vb)
    if ka == "B":
        return decode_binary(va) == decode_binary(vb)
    if ka == "SS":
        return set(va) == set(vb)
    if ka == "NS":
        return {number_value(v) for v in va} == {number_value(v) for v in vb}
    if ka == "BS":
        return {decode_binary(v) for v in va} == {decode_binary(v) for v in vb}
    if ka == "L":
        return len(va) == len(vb) and all(values_equal(x, y) for x, y in zip(va, vb, strict=True))
    if ka == "M":
        return items_equal(va, vb)
    return False


def items_equal(a: Item, b: Item) -> bool:
    """Semantic equality of two items (or two M contents); used for no-op suppression."""
    if len(a) != len(b):
        return False
    for name, av in a.items():
        other = b.get(name)
        if other is None or not values_equal(av, other):
            return False
    return True


# --------------------------------------------------------------------------- ordering


def _cmp(x: Any, y: Any) -> int:
    return (x > y) - (x < y)


def compare_scalars(a: AttributeValue, b: AttributeValue) -> int | None:
    """-1/0/1 ordering of two scalars of one type, as DynamoDB compares them.

    S compares by code point, which is the same as by UTF-8 bytes; N numerically; B by
    unsigned bytes. None when the types differ or are not S/N/B (the comparison is then
    false in condition expressions).
    """
    ka, va = _single(a)
    kb, vb = _single(b)
    if ka != kb:
        return None
    if ka == "S":
        return _cmp(va, vb)
    if ka == "N":
        if va == vb:
            return 0
        return _cmp(number_value(va), number_value(vb))
    if ka == "B":
        if va == vb:
            return 0
        return _cmp(decode_binary(va), decode_binary(vb))
    return None
