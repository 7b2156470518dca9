"""Key schema, key extraction and checks, and the order-preserving key encoding.

The storage engine keeps the hash key and the range key of an item in two separate
SQLite BLOB columns. SQLite compares BLOBs with memcmp, so each key value is encoded to
bytes whose unsigned byte order is DynamoDB's order for that type:

* ``S``: the UTF-8 bytes (code point order is UTF-8 byte order);
* ``B``: the raw bytes;
* ``N``: a sign byte, then for non-zero numbers a biased exponent byte and the
  significant digits packed two per byte (base 100); negative numbers have exponent and
  digits inverted plus a terminator so that "more digits" sorts lower. See
  :func:`encode_number`.

As one column holds exactly one key value of one declared type, no escaping or
type tags are needed, and every encoding decodes back to the normalised wire text.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from emulator.errors import ValidationException
from emulator.model.values import (
    MAX_ADJUSTED_EXPONENT,
    MIN_ADJUSTED_EXPONENT,
    AttributeValue,
    Item,
    decode_binary,
    number_parts,
    validate_value,
)

HASH_KEY_MAX_BYTES = 2048
RANGE_KEY_MAX_BYTES = 1024
#: A GSI key has up to 4 HASH and up to 4 RANGE attributes (multi-attribute keys).
MAX_KEY_ATTRIBUTES = 4

_INVALID = "One or more parameter values were invalid: "
_MSG_KEY_SCHEMA = "The provided key element does not match the schema"
_MSG_HASH_SIZE = (
    _INVALID + f"Size of hashkey has exceeded the maximum size limit of{HASH_KEY_MAX_BYTES} bytes"
)
_MSG_RANGE_SIZE = (
    _INVALID + "Aggregated size of all range keys has exceeded the size limit of "
    f"{RANGE_KEY_MAX_BYTES} bytes"
)
_MSG_EMPTY_KEY = (
    "One or more parameter values are not valid. The AttributeValue for a key attribute "
    "cannot contain an empty {what} value. Key: {name}"
)


@dataclass(frozen=True, slots=True)
class KeySchema:
    """The primary key of a table (or index): names and scalar types ``S``/``N``/``B``.

    A GSI may have a multi-attribute key (DynamoDB, November 2025: "Multi-attribute keys
    allow you to create Global Secondary Index (GSI) partition and sort keys composed of
    up to four attributes each", developer guide, GSI.DesignPattern.MultiAttributeKeys):
    `more_hash` / `more_range` hold the HASH / RANGE attributes after the first of each
    side. Tables and LSIs keep one of each, and then both are empty.
    """

    hash_name: str
    hash_type: str
    range_name: str | None = None
    range_type: str | None = None
    more_hash: tuple[tuple[str, str], ...] = ()
    more_range: tuple[tuple[str, str], ...] = ()
    #: Key attribute names, hash first.
    names: tuple[str, ...] = field(init=False, compare=False, repr=False)
    #: (name, byte limit) of each key attribute when all are strings, else None: such a
    #: key needs no normalising, so :func:`validate_key` can check it in place.
    string_limits: tuple[tuple[str, int], ...] | None = field(init=False, compare=False, repr=False)
    #: (name, type) of every HASH attribute, then of every RANGE attribute, in order.
    hash_attributes: tuple[tuple[str, str], ...] = field(init=False, compare=False, repr=False)
    range_attributes: tuple[tuple[str, str], ...] = field(init=False, compare=False, repr=False)
    #: Whether either side has more than one attribute (a multi-attribute GSI key).
    multi: bool = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        hash_attributes = ((self.hash_name, self.hash_type), *self.more_hash)
        range_attributes: tuple[tuple[str, str], ...] = ()
        if self.range_name is not None:
            range_attributes = ((self.range_name, str(self.range_type)), *self.more_range)
        object.__setattr__(self, "hash_attributes", hash_attributes)
        object.__setattr__(self, "range_attributes", range_attributes)
        object.__setattr__(self, "multi", bool(self.more_hash or self.more_range))
        if self.more_hash or self.more_range:
            names = tuple(name for name, _ in hash_attributes + range_attributes)
        elif self.range_name is None:
            names = (self.hash_name,)
        else:
            names = (self.hash_name, self.range_name)
        object.__setattr__(self, "names", names)
        limits: tuple[tuple[str, int], ...] | None = None
        if self.hash_type == "S" and self.range_type in (None, "S") and not self.multi:
            limits = ((self.hash_name, HASH_KEY_MAX_BYTES),)
            if self.range_name is not None:
                limits += ((self.range_name, RANGE_KEY_MAX_BYTES),)
        object.__setattr__(self, "string_limits", limits)

    def type_of(self, name: str) -> str | None:
        """Declared type of key attribute ``name``; None when it is not a key attribute."""
        if name == self.hash_name:
            return self.hash_type
        if name == self.range_name:
            return self.range_type
        for other, kind in self.more_hash + self.more_range:
            if other == name:
                return kind
        return None

    def encode_hash(self, values: Sequence[AttributeValue]) -> bytes:
        """The hash-key column of the values of the HASH attributes (in order)."""
        if self.more_hash:
            return encode_components(values)
        return encode_key_av(values[0])

    def encode_range(self, values: Sequence[AttributeValue]) -> bytes:
        """The range-key column of the values of the RANGE attributes (in order)."""
        if self.more_range:
            return encode_components(values)
        return encode_key_av(values[0]) if values else b""

    def is_hash(self, name: str) -> bool:
        """Whether ``name`` is one of the HASH attributes."""
        return name == self.hash_name or any(name == other for other, _ in self.more_hash)

    @classmethod
    def from_definitions(
        cls, key_schema: list[dict[str, Any]], attribute_definitions: list[dict[str, Any]]
    ) -> KeySchema:
        """Build from CreateTable's ``KeySchema`` and ``AttributeDefinitions`` wire shapes.

        Shape checks (required members, enum values, list lengths) belong to the
        botocore-model validator and CreateTable; this only checks how the two lists fit
        together. A key of more than one HASH or RANGE attribute is a GSI's multi-attribute
        key (CreateTable / UpdateTable admit those for GSIs only).
        """
        types = {d["AttributeName"]: d["AttributeType"] for d in attribute_definitions}
        hash_names = [e["AttributeName"] for e in key_schema if e.get("KeyType") == "HASH"]
        range_names = [e["AttributeName"] for e in key_schema if e.get("KeyType") == "RANGE"]
        if not key_schema or key_schema[0].get("KeyType") != "HASH":
            raise ValidationException(
                _INVALID + "Invalid KeySchema: The first KeySchemaElement is not a HASH key type"
            )
        if not hash_names or len(hash_names) > MAX_KEY_ATTRIBUTES:
            raise ValidationException(_INVALID + "Too many hash keys or range keys in KeySchema")
        if len(range_names) > MAX_KEY_ATTRIBUTES:
            raise ValidationException(_INVALID + "Too many hash keys or range keys in KeySchema")
        if len(key_schema) == 2 and range_names and hash_names[0] == range_names[0]:
            raise ValidationException(
                _INVALID + "Both the Hash Key and the Range Key element in the KeySchema "
                "have the same name"
            )
        names = hash_names + range_names
        missing = [n for n in names if n not in types]
        if missing:
            raise ValidationException(
                _INVALID + "Some index key attributes are not defined in AttributeDefinitions. "
                f"Keys: [{', '.join(names)}], AttributeDefinitions: [{', '.join(types)}]"
            )
        for name in names:
            if types[name] not in ("S", "N", "B"):
                raise ValidationException(
                    _INVALID + f"Invalid attribute type for key attribute {name}: {types[name]}"
                )
        more_hash = tuple((n, types[n]) for n in hash_names[1:])
        more_range = tuple((n, types[n]) for n in range_names[1:])
        if range_names:
            return cls(
                hash_names[0],
                types[hash_names[0]],
                range_names[0],
                types[range_names[0]],
                more_hash,
                more_range,
            )
        return cls(hash_names[0], types[hash_names[0]], more_hash=more_hash)


# --------------------------------------------------------------------------- key checks


def key_of(schema: KeySchema, item: Item) -> Item:
    """The key attributes of a full (validated) item, e.g. for a stream record's Keys."""
    key = {schema.hash_name: item[schema.hash_name]}
    if schema.range_name is not None:
        key[schema.range_name] = item[schema.range_name]
    return key


def _scalar_byte_length(kind: str, value: str) -> int:
    if kind == "S":
        return len(value) if value.isascii() else len(value.encode("utf-8"))
    if kind == "B":
        return len(decode_binary(value))
    return 0  # numbers are at most 21 bytes: never near a key size limit


def _check_key_value(name: str, kind: str, value: str, is_hash: bool) -> None:
    """Empty-value and size checks shared by ``Key`` parameters and PutItem items."""
    if kind == "N":
        return
    size = _scalar_byte_length(kind, value)
    if size == 0:
        what = "string" if kind == "S" else "binary"
        raise ValidationException(_MSG_EMPTY_KEY.format(what=what, name=name))
    if is_hash and size > HASH_KEY_MAX_BYTES:
        raise ValidationException(_MSG_HASH_SIZE)
    if not is_hash and size > RANGE_KEY_MAX_BYTES:
        raise ValidationException(_MSG_RANGE_SIZE)


def _only_type(av: AttributeValue) -> tuple[str, Any]:
    for kind, value in av.items():
        return kind, value
    return "", None


def validate_key(schema: KeySchema, key: Any) -> Item:
    """Check a ``Key`` parameter (GetItem, DeleteItem, UpdateItem, BatchGet, ...).

    It must hold exactly the key attributes, each of the declared type; otherwise AWS
    answers one generic message. Returns the key with its number normalised.
    """
    limits = schema.string_limits
    if limits is not None and type(key) is dict and len(key) == len(limits):
        # The common case, string keys in ASCII: valid as they are.
        for name, limit in limits:
            av = key.get(name)
            if type(av) is not dict or len(av) != 1:
                break
            value = av.get("S")
            if type(value) is not str or not 0 < len(value) <= limit or not value.isascii():
                break
        else:
            return key
    if type(key) is not dict:
        raise ValidationException(_MSG_KEY_SCHEMA)
    normalized = {name: validate_value(av) for name, av in key.items()}
    if len(normalized) != len(schema.names):
        raise ValidationException(_MSG_KEY_SCHEMA)
    for name in schema.names:
        av = normalized.get(name)
        if av is None:
            raise ValidationException(_MSG_KEY_SCHEMA)
        kind, _ = _only_type(av)
        if kind != schema.type_of(name):
            raise ValidationException(_MSG_KEY_SCHEMA)
    for name in schema.names:
        kind, value = _only_type(normalized[name])
        _check_key_value(name, kind, value, name == schema.hash_name)
    return normalized


def validate_item_key(schema: KeySchema, item: Item) -> None:
    """Check the key attributes of a PutItem item (already validated by validate_item)."""
    for name in schema.names:
        if name not in item:
            raise ValidationException(_INVALID + f"Missing the key {name} in the item")
    for name in schema.names:
        kind, _ = _only_type(item[name])
        expected = schema.type_of(name)
        if kind != expected:
            raise ValidationException(
                _INVALID + f"Type mismatch for key {name} expected: {expected} actual: {kind}"
            )
    for name in schema.names:
        kind, value = _only_type(item[name])
        _check_key_value(name, kind, value, name == schema.hash_name)


# --------------------------------------------------------------------------- encoding

_NEGATIVE = 0x01
_ZERO = 0x02
_POSITIVE = 0x03
_NEGATIVE_END = 0xFF  # above every inverted digit byte (155..254)
_EXPONENT_BIAS = -MIN_ADJUSTED_EXPONENT  # -130..125 -> 0..255: exactly one byte


def encode_number(text: str) -> bytes:
    """Order-preserving bytes of a number (any accepted literal; canonical text expected).

    Layout: sign byte (negative < zero < positive); then, for non-zero numbers, the
    adjusted exponent + 130 (one byte, as DynamoDB's range is -130..125) and the digits
    as base-100 pairs stored as ``pair + 1`` (1..100; an odd last digit is padded with 0,
    unambiguous because canonical digits have no trailing zero). A shorter digit string
    that is a prefix of a longer one is the smaller magnitude, so positives need no
    terminator. Negatives store ``255 - exponent`` and ``254 - pair`` (155..254) and end
    with 0xFF, so a larger magnitude sorts first and a prefix sorts after its extensions.
    """
    sign, digits, exponent = number_parts(text)
    if sign == 0:
        return bytes((_ZERO,))
    if not MIN_ADJUSTED_EXPONENT <= exponent <= MAX_ADJUSTED_EXPONENT:
        raise ValidationException(f"Number out of range for a key: {text}")
    if len(digits) % 2:
        digits += "0"
    pairs = [int(digits[i : i + 2]) for i in range(0, len(digits), 2)]
    biased = exponent + _EXPONENT_BIAS
    if sign > 0:
        return bytes((_POSITIVE, biased, *(p + 1 for p in pairs)))
    return bytes((_NEGATIVE, 255 - biased, *(254 - p for p in pairs), _NEGATIVE_END))


def decode_number(data: bytes) -> str:
    """Inverse of :func:`encode_number`: the canonical number text."""
    if data[0] == _ZERO:
        return "0"
    if data[0] == _POSITIVE:
        exponent = data[1] - _EXPONENT_BIAS
        pairs = [b - 1 for b in data[2:]]
        sign = ""
    else:
        exponent = 255 - data[1] - _EXPONENT_BIAS
        pairs = [254 - b for b in data[2:-1]]
        sign = "-"
    digits = "".join(f"{p:02d}" for p in pairs).rstrip("0")
    point = exponent + 1
    if point <= 0:
        text = "0." + "0" * -point + digits
    elif point >= len(digits):
        text = digits + "0" * (point - len(digits))
    else:
        text = digits[:point] + "." + digits[point:]
    return sign + text


def encode_key_value(kind: str, value: str) -> bytes:
    """Bytes of one key value whose memcmp order is DynamoDB's order for ``kind``.

    ``value`` is the wire text: S text, N (normalised) number text, B base64.
    """
    if kind == "S":
        return value.encode("utf-8")
    if kind == "N":
        return encode_number(value)
    if kind == "B":
        return decode_binary(value)
    raise ValueError(f"not a key type: {kind}")


def decode_key_value(kind: str, data: bytes) -> str:
    """Wire text of an encoded key value (B comes back as canonical base64)."""
    if kind == "S":
        return data.decode("utf-8")
    if kind == "N":
        return decode_number(data)
    if kind == "B":
        return base64.b64encode(data).decode("ascii")
    raise ValueError(f"not a key type: {kind}")


def encode_key_av(av: AttributeValue) -> bytes:
    """Convenience: encode a one-member key AttributeValue such as ``{"N": "5"}``."""
    kind, value = _only_type(av)
    return encode_key_value(kind, value)


# --------------------------------------------------------------------------- multi-attribute keys

_COMPONENT_END = b"\x00\x01"


def _escape(data: bytes) -> bytes:
    return data.replace(b"\x00", b"\x00\xff")


def encode_components(values: Sequence[AttributeValue]) -> bytes:
    """One storage column for the several attributes of a multi-attribute GSI key side.

    Each value's own encoding (above) with 0x00 escaped as 0x00 0xFF, then 0x00 0x01 as
    its end. No escaped byte string is a prefix of another's end, and 0x00 0x01 sorts
    below every other continuation, so memcmp order of the column is the order of the
    values attribute by attribute, as DynamoDB orders a multi-attribute sort key ("left
    to right in the order they're defined", GSI.DesignPattern.MultiAttributeKeys), and
    equal leading values form one contiguous byte prefix (which is how a Query on the
    leading sort attributes becomes one range).
    """
    return b"".join(_escape(encode_key_av(v)) + _COMPONENT_END for v in values)


def composite_sort_bounds(
    prefix: Sequence[AttributeValue], op: str | None, values: Sequence[AttributeValue]
) -> tuple[bytes | None, bool, bytes | None, bool]:
    """(lower, lower_inclusive, upper, upper_inclusive) over a multi-attribute sort key
    column: equality on the leading attributes `prefix`, then `op` (one of
    ``= < <= > >= BETWEEN begins_with``, or None) on the next one with `values`."""
    head = encode_components(prefix)
    head_end = prefix_upper_bound(head) if head else None
    lower_head = head or None
    if op is None:
        return lower_head, True, head_end, False
    if op == "begins_with":
        start = head + _escape(encode_key_av(values[0]))
        return start or None, True, prefix_upper_bound(start) if start else None, False
    first = head + encode_components(values[:1])
    if op == "=":
        return first, True, prefix_upper_bound(first), False
    if op == "<":
        return lower_head, True, first, False
    if op == "<=":
        return lower_head, True, prefix_upper_bound(first), False
    if op == ">":
        return prefix_upper_bound(first), True, head_end, False
    if op == ">=":
        return first, True, head_end, False
    # BETWEEN
    last = head + encode_components(values[1:2])
    return first, True, prefix_upper_bound(last), False


def storage_key(schema: KeySchema, key: Item) -> tuple[bytes, bytes]:
    """(hash_key, range_key) bytes for the storage engine; range_key is b'' without one."""
    hash_key = encode_key_av(key[schema.hash_name])
    if schema.range_name is None:
        return hash_key, b""
    return hash_key, encode_key_av(key[schema.range_name])


def prefix_upper_bound(prefix: bytes) -> bytes | None:
    """Smallest byte string greater than every string that starts with ``prefix``.

    Gives ``begins_with`` the half-open range ``[prefix, bound)``. Trailing 0xFF bytes
    cannot be incremented, so they are dropped first; None means no upper bound (the
    prefix is empty or all 0xFF).
    """
    stripped = prefix.rstrip(b"\xff")
    if not stripped:
        return None
    return stripped[:-1] + bytes((stripped[-1] + 1,))
