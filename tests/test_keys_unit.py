"""Unit tests for emulator.model.keys: schema, key checks, order-preserving encoding."""

from __future__ import annotations

import base64
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from emulator.errors import ValidationException
from emulator.model.keys import (
    KeySchema,
    composite_sort_bounds,
    decode_key_value,
    encode_components,
    encode_key_av,
    encode_key_value,
    key_of,
    prefix_upper_bound,
    validate_item_key,
    validate_key,
)
from emulator.model.values import normalize_number

INVALID = "One or more parameter values were invalid: "
SCHEMA_MISMATCH = "The provided key element does not match the schema"
HASH_ONLY = KeySchema("pk", "S")
COMPOSITE = KeySchema("pk", "S", "sk", "N")
BINARY = KeySchema("h", "B", "r", "B")


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def message_of(info: pytest.ExceptionInfo[ValidationException]) -> str | None:
    return info.value.message


# --------------------------------------------------------------------------- schema


def ks(*elements: tuple[str, str]) -> list[dict[str, Any]]:
    return [{"AttributeName": name, "KeyType": kind} for name, kind in elements]


def defs(*definitions: tuple[str, str]) -> list[dict[str, Any]]:
    return [{"AttributeName": name, "AttributeType": kind} for name, kind in definitions]


def test_from_definitions() -> None:
    schema = KeySchema.from_definitions(
        ks(("pk", "HASH"), ("sk", "RANGE")), defs(("sk", "N"), ("pk", "S"))
    )
    assert schema == COMPOSITE
    assert schema.names == ("pk", "sk")
    hash_only = KeySchema.from_definitions(ks(("id", "HASH")), defs(("id", "B")))
    assert hash_only == KeySchema("id", "B")
    assert hash_only.names == ("id",)
    assert hash_only.range_name is None and hash_only.range_type is None


@pytest.mark.parametrize(
    ("key_schema", "definitions"),
    [
        (ks(("pk", "HASH")), []),
        (ks(("pk", "RANGE")), defs(("pk", "S"))),
        (ks(("a", "HASH"), ("a", "RANGE")), defs(("a", "S"))),
        # A GSI key takes up to 4 HASH and up to 4 RANGE attributes.
        (
            ks(*((f"h{i}", "HASH") for i in range(5))),
            defs(*((f"h{i}", "S") for i in range(5))),
        ),
        (
            ks(("a", "HASH"), *((f"r{i}", "RANGE") for i in range(5))),
            defs(("a", "S"), *((f"r{i}", "S") for i in range(5))),
        ),
        ([], []),
    ],
)
def test_from_definitions_errors(
    key_schema: list[dict[str, Any]], definitions: list[dict[str, Any]]
) -> None:
    with pytest.raises(ValidationException):
        KeySchema.from_definitions(key_schema, definitions)


def test_from_definitions_multi_attribute() -> None:
    """A GSI's multi-attribute key keeps both sides in key-schema order."""
    schema = KeySchema.from_definitions(
        ks(("a", "HASH"), ("b", "HASH"), ("c", "RANGE"), ("d", "RANGE")),
        defs(("d", "B"), ("c", "N"), ("b", "S"), ("a", "S")),
    )
    assert schema.multi
    assert schema.names == ("a", "b", "c", "d")
    assert schema.hash_attributes == (("a", "S"), ("b", "S"))
    assert schema.range_attributes == (("c", "N"), ("d", "B"))
    assert [schema.type_of(n) for n in "abcd"] == ["S", "S", "N", "B"]
    assert schema.is_hash("b") and not schema.is_hash("c")
    assert not COMPOSITE.multi and COMPOSITE.hash_attributes == (("pk", "S"),)


def test_key_of() -> None:
    item = {"pk": {"S": "a"}, "sk": {"N": "1"}, "x": {"S": "y"}}
    assert key_of(COMPOSITE, item) == {"pk": {"S": "a"}, "sk": {"N": "1"}}
    assert key_of(HASH_ONLY, item) == {"pk": {"S": "a"}}


# --------------------------------------------------------------------------- validate_key


def test_validate_key_normalises() -> None:
    assert validate_key(COMPOSITE, {"pk": {"S": "a"}, "sk": {"N": "1.50"}}) == {
        "pk": {"S": "a"},
        "sk": {"N": "1.5"},
    }
    assert validate_key(HASH_ONLY, {"pk": {"S": "a"}}) == {"pk": {"S": "a"}}


@pytest.mark.parametrize(
    ("schema", "key"),
    [
        (COMPOSITE, {"pk": {"S": "a"}}),  # missing range key
        (COMPOSITE, {"sk": {"N": "1"}}),
        (COMPOSITE, {"pk": {"S": "a"}, "sk": {"S": "1"}}),  # wrong type
        (COMPOSITE, {"pk": {"N": "1"}, "sk": {"N": "1"}}),
        (COMPOSITE, {"pk": {"S": "a"}, "sk": {"N": "1"}, "x": {"S": "b"}}),  # extra
        (COMPOSITE, {"pk": {"S": "a"}, "other": {"N": "1"}}),
        (HASH_ONLY, {}),
        (HASH_ONLY, {"pk": {"S": "a"}, "sk": {"N": "1"}}),
        (HASH_ONLY, {"pk": {"SS": ["a"]}}),
        (HASH_ONLY, {"pk": {"M": {}}}),
        (HASH_ONLY, {"pk": {"NULL": True}}),
    ],
)
def test_validate_key_schema_mismatch(schema: KeySchema, key: dict[str, Any]) -> None:
    with pytest.raises(ValidationException) as info:
        validate_key(schema, key)
    assert message_of(info) == SCHEMA_MISMATCH


def test_validate_key_bad_value_comes_first() -> None:
    with pytest.raises(ValidationException) as info:
        validate_key(COMPOSITE, {"pk": {"S": "a"}, "sk": {"N": "x"}})
    assert message_of(info) == "The parameter cannot be converted to a numeric value: x"


def test_validate_key_empty_values() -> None:
    with pytest.raises(ValidationException) as info:
        validate_key(COMPOSITE, {"pk": {"S": ""}, "sk": {"N": "1"}})
    assert message_of(info) == (
        "One or more parameter values are not valid. The AttributeValue for a key attribute "
        "cannot contain an empty string value. Key: pk"
    )
    with pytest.raises(ValidationException) as info:
        validate_key(BINARY, {"h": {"B": "AA=="}, "r": {"B": ""}})
    assert message_of(info) == (
        "One or more parameter values are not valid. The AttributeValue for a key attribute "
        "cannot contain an empty binary value. Key: r"
    )


def test_validate_key_sizes() -> None:
    validate_key(HASH_ONLY, {"pk": {"S": "x" * 2048}})
    validate_key(BINARY, {"h": {"B": b64(b"\x00" * 2048)}, "r": {"B": b64(b"\x01" * 1024)}})
    validate_key(KeySchema("pk", "S", "sk", "S"), {"pk": {"S": "é" * 1024}, "sk": {"S": "é" * 512}})
    with pytest.raises(ValidationException) as info:
        validate_key(HASH_ONLY, {"pk": {"S": "é" * 1025}})  # 2050 UTF-8 bytes
    assert message_of(info) == (
        INVALID + "Size of hashkey has exceeded the maximum size limit of2048 bytes"
    )
    with pytest.raises(ValidationException) as info:
        validate_key(BINARY, {"h": {"B": "AA=="}, "r": {"B": b64(b"\x01" * 1025)}})
    assert message_of(info) == (
        INVALID + "Aggregated size of all range keys has exceeded the size limit of 1024 bytes"
    )


# --------------------------------------------------------------------------- validate_item_key


def test_validate_item_key_ok() -> None:
    validate_item_key(COMPOSITE, {"pk": {"S": "a"}, "sk": {"N": "1"}, "x": {"S": ""}})


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ({"sk": {"N": "1"}}, INVALID + "Missing the key pk in the item"),
        ({"pk": {"S": "a"}}, INVALID + "Missing the key sk in the item"),
        ({"pk": {"N": "1"}, "sk": {"N": "1"}},
         INVALID + "Type mismatch for key pk expected: S actual: N"),
        ({"pk": {"S": "a"}, "sk": {"SS": ["1"]}},
         INVALID + "Type mismatch for key sk expected: N actual: SS"),
        ({"pk": {"S": ""}, "sk": {"N": "1"}},
         "One or more parameter values are not valid. The AttributeValue for a key attribute "
         "cannot contain an empty string value. Key: pk"),
        ({"pk": {"S": "x" * 2049}, "sk": {"N": "1"}},
         INVALID + "Size of hashkey has exceeded the maximum size limit of2048 bytes"),
    ],
)  # fmt: skip
def test_validate_item_key_errors(item: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationException) as info:
        validate_item_key(COMPOSITE, item)
    assert message_of(info) == message


def test_validate_item_key_range_size() -> None:
    schema = KeySchema("pk", "S", "sk", "S")
    with pytest.raises(ValidationException) as info:
        validate_item_key(schema, {"pk": {"S": "a"}, "sk": {"S": "x" * 1025}})
    assert message_of(info) == (
        INVALID + "Aggregated size of all range keys has exceeded the size limit of 1024 bytes"
    )


# --------------------------------------------------------------------------- encoding

NUMBERS_IN_ORDER = [
    "-9.9999999999999999999999999999999999999E+125",
    "-1e125",
    "-123456789012345678901234567890.12345678",
    "-1000",
    "-101",
    "-100",
    "-99.99",
    "-10.01",
    "-10",
    "-1.01",
    "-1.0000000000000000000000000000000000001",
    "-1",
    "-0.5",
    "-0.01",
    "-1e-129",
    "-1e-130",
    "0",
    "1e-130",
    "1.5e-130",
    "1e-129",
    "0.01",
    "0.5",
    "1",
    "1.0000000000000000000000000000000000001",
    "1.01",
    "1.1",
    "10",
    "10.01",
    "99.99",
    "100",
    "101",
    "1000",
    "123456789012345678901234567890.12345678",
    "1e125",
    "9.9999999999999999999999999999999999999E+125",
]


def number_key(text: str) -> bytes:
    return encode_key_value("N", normalize_number(text))


def test_numbers_explicit_order() -> None:
    encoded = [number_key(t) for t in NUMBERS_IN_ORDER]
    assert encoded == sorted(encoded)
    assert len(set(encoded)) == len(encoded)
    for text in NUMBERS_IN_ORDER:
        norm = normalize_number(text)
        assert decode_key_value("N", encode_key_value("N", norm)) == norm


def test_number_zero_forms_encode_alike() -> None:
    assert number_key("0") == number_key("-0") == number_key("0.000") == number_key("0e5")
    assert number_key("1.50") == number_key("1.5") == number_key("15e-1")


in_range_decimals = st.builds(
    lambda digits, exp, neg: Decimal(f"{'-' if neg else ''}{digits}E{exp}"),
    st.integers(min_value=0, max_value=10**38 - 1),
    st.integers(min_value=-130, max_value=88),
    st.booleans(),
).filter(lambda d: d.is_zero() or -130 <= d.adjusted() <= 125)
small_decimals = st.decimals(
    min_value=-1000, max_value=1000, allow_nan=False, allow_infinity=False, places=3
)
numbers = st.one_of(in_range_decimals, small_decimals, st.integers(-(10**6), 10**6).map(Decimal))


@given(numbers, numbers)
def test_number_encoding_order(a: Decimal, b: Decimal) -> None:
    ea, eb = number_key(str(a)), number_key(str(b))
    assert (ea < eb) is (a < b)
    assert (ea == eb) is (a == b)


@given(numbers)
def test_number_encoding_roundtrip(a: Decimal) -> None:
    norm = normalize_number(str(a))
    assert decode_key_value("N", encode_key_value("N", norm)) == norm


@given(st.text(), st.text())
def test_string_encoding_order(a: str, b: str) -> None:
    ea, eb = encode_key_value("S", a), encode_key_value("S", b)
    assert (ea < eb) is (a.encode() < b.encode())
    assert (ea == eb) is (a == b)
    assert decode_key_value("S", ea) == a


@given(st.binary(), st.binary())
def test_binary_encoding_order(a: bytes, b: bytes) -> None:
    ea, eb = encode_key_value("B", b64(a)), encode_key_value("B", b64(b))
    assert (ea < eb) is (a < b)
    assert (ea == eb) is (a == b)
    assert decode_key_value("B", ea) == b64(a)


def test_binary_explicit_order() -> None:
    values = [
        b"",
        b"\x00",
        b"\x00\x00",
        b"\x00\xff",
        b"\x01",
        b"\x7f",
        b"\x80",
        b"\xff",
        b"\xff\x00",
    ]
    encoded = [encode_key_value("B", b64(v)) for v in values]
    assert encoded == sorted(encoded)
    assert encoded == values


def test_string_explicit_order() -> None:
    values = ["", "A", "Z", "a", "aa", "ab", "b", "é", "\uffff", "😀"]
    encoded = [encode_key_value("S", v) for v in values]
    assert encoded == sorted(encoded)


def test_encode_key_av() -> None:
    assert encode_key_av({"N": "5"}) == encode_key_value("N", "5")
    assert encode_key_av({"S": "x"}) == b"x"
    assert encode_key_av({"B": "AP8="}) == b"\x00\xff"


@pytest.mark.parametrize(
    ("prefix", "bound"),
    [
        (b"abc", b"abd"),
        (b"a\xff", b"b"),
        (b"a\xff\xff", b"b"),
        (b"\x00", b"\x01"),
        (b"\xfe", b"\xff"),
        (b"\xff", None),
        (b"\xff\xff", None),
        (b"", None),
    ],
)
def test_prefix_upper_bound(prefix: bytes, bound: bytes | None) -> None:
    assert prefix_upper_bound(prefix) == bound


@given(st.binary(max_size=6), st.binary(max_size=6))
def test_prefix_upper_bound_property(prefix: bytes, other: bytes) -> None:
    bound = prefix_upper_bound(prefix)
    starts = other.startswith(prefix)
    in_range = other >= prefix and (bound is None or other < bound)
    assert starts is in_range


# -- multi-attribute keys: one column, ordered attribute by attribute ---------------------

_COMPONENT = st.one_of(
    st.text(min_size=1, max_size=4, alphabet="a\u0000\u0001é\uffff").map(lambda s: {"S": s}),
    st.binary(min_size=1, max_size=4).map(lambda b: {"B": base64.b64encode(b).decode()}),
    st.decimals(min_value=-1000, max_value=1000, places=2, allow_nan=False).map(
        lambda d: {"N": normalize_number(str(d))}
    ),
)


def _natural(av: dict[str, str]) -> tuple[Any, ...]:
    kind, value = next(iter(av.items()))
    if kind == "N":
        return (Decimal(value),)
    if kind == "B":
        return (base64.b64decode(value),)
    return (value.encode("utf-8"),)


@given(st.lists(st.tuples(_COMPONENT, _COMPONENT), min_size=2, max_size=12), st.data())
def test_encode_components_orders_attribute_by_attribute(
    rows: list[tuple[dict[str, str], dict[str, str]]], data: st.DataObject
) -> None:
    # One type per position, as in a key schema.
    kinds = [next(iter(rows[0][i])) for i in range(2)]
    rows = [row for row in rows if [next(iter(av)) for av in row] == kinds]
    by_bytes = sorted(rows, key=lambda row: encode_components(row))
    by_value = sorted(rows, key=lambda row: tuple(_natural(av) for av in row))
    assert [tuple(_natural(av) for av in row) for row in by_bytes] == [
        tuple(_natural(av) for av in row) for row in by_value
    ]
    # Equality on the first attribute is one contiguous byte prefix.
    first = data.draw(st.sampled_from(rows))[0]
    lower, _, upper, _ = composite_sort_bounds([first], None, [])
    assert lower is not None
    inside = [
        r
        for r in rows
        if lower <= encode_components(r) and (upper is None or encode_components(r) < upper)
    ]
    assert sorted(map(repr, inside)) == sorted(
        repr(r) for r in rows if _natural(r[0]) == _natural(first)
    )
