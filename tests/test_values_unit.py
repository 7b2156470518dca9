"""Unit tests for emulator.model.values: numbers, AttributeValue checks, size, equality."""

from __future__ import annotations

import base64
import re
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from emulator.errors import SerializationException, ValidationException
from emulator.model.values import (
    compare_scalars,
    decode_binary,
    item_size,
    items_equal,
    normalize_number,
    number_value,
    validate_item,
    validate_value,
    value_size,
    values_equal,
)

INVALID = "One or more parameter values were invalid: "


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


# --------------------------------------------------------------------------- numbers


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0", "0"),
        ("7", "7"),
        ("-7", "-7"),
        ("100", "100"),
        ("1.50", "1.5"),
        ("1e3", "1000"),
        ("1E3", "1000"),
        ("1E-3", "0.001"),
        ("1e+3", "1000"),
        ("-0.0", "0"),
        ("-0", "0"),
        ("+0", "0"),
        ("0e999", "0"),
        ("+1", "1"),
        (".5", "0.5"),
        ("-.5", "-0.5"),
        ("5.", "5"),
        ("007", "7"),
        ("-007.0100", "-7.01"),
        ("123.456e2", "12345.6"),
        ("123.456e-2", "1.23456"),
        ("0.000", "0"),
        ("1e125", "1" + "0" * 125),
        ("-1e125", "-1" + "0" * 125),
        ("1e-130", "0." + "0" * 129 + "1"),
        ("-1E-130", "-0." + "0" * 129 + "1"),
        ("9.9999999999999999999999999999999999999E+125", "9" * 38 + "0" * 88),
        ("1" * 38, "1" * 38),
        ("1" * 38 + "0" * 10, "1" * 38 + "0" * 10),  # trailing zeros are not significant
        ("0." + "0" * 50 + "1" * 38, "0." + "0" * 50 + "1" * 38),
        ("00000000000000000000000000000000000000000001", "1"),  # leading zeros neither
    ],
)
def test_normalize_number(text: str, expected: str) -> None:
    assert normalize_number(text) == expected


@pytest.mark.parametrize(
    "text",
    ["NaN", "nan", "Infinity", "-Infinity", "inf", "", " 1", "1 ", "0x10", ".", "-", "+", "e5",
     "1e", "1e+", "1.2.3", "1_000", "１", "--1", "1e3.5", "abc"],
)  # fmt: skip
def test_normalize_number_unparseable(text: str) -> None:
    with pytest.raises(ValidationException) as info:
        normalize_number(text)
    assert info.value.message == f"The parameter cannot be converted to a numeric value: {text}"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1e126", "Number overflow. Attempting to store a number with magnitude larger than "
         "supported range"),
        ("-1e126", "Number overflow. Attempting to store a number with magnitude larger than "
         "supported range"),
        ("10e125", "Number overflow. Attempting to store a number with magnitude larger than "
         "supported range"),
        ("1e99999999999999999999999", "Number overflow. Attempting to store a number with "
         "magnitude larger than supported range"),
        ("1e-131", "Number underflow. Attempting to store a number with magnitude smaller than "
         "supported range"),
        ("-0.1e-130", "Number underflow. Attempting to store a number with magnitude smaller "
         "than supported range"),
        ("1e-99999999999999999999999", "Number underflow. Attempting to store a number with "
         "magnitude smaller than supported range"),
        ("1" * 39, "Attempting to store more than 38 significant digits in a Number"),
        ("1." + "1" * 38, "Attempting to store more than 38 significant digits in a Number"),
    ],
)  # fmt: skip
def test_normalize_number_out_of_range(text: str, message: str) -> None:
    with pytest.raises(ValidationException) as info:
        normalize_number(text)
    assert info.value.message == message


in_range_decimals = st.builds(
    lambda digits, exp, neg: Decimal(f"{'-' if neg else ''}{digits}E{exp}"),
    st.integers(min_value=1, max_value=10**38 - 1),
    st.integers(min_value=-130, max_value=88),
    st.booleans(),
).filter(lambda d: -130 <= d.adjusted() <= 125)


@given(in_range_decimals, st.sampled_from(["{:e}", "{:E}", "{:f}", "{}"]))
def test_normalize_number_roundtrip(value: Decimal, fmt: str) -> None:
    text = fmt.format(value)
    norm = normalize_number(text)
    assert Decimal(norm) == value
    assert re.fullmatch(r"-?(0|[1-9][0-9]*)(\.[0-9]*[1-9])?", norm) or re.fullmatch(
        r"-?0\.[0-9]*[1-9]", norm
    )
    assert normalize_number(norm) == norm
    assert number_value(norm) == value


# --------------------------------------------------------------------------- validation


def test_validate_item_normalises() -> None:
    item = {
        "pk": {"S": "a"},
        "n": {"N": "1.50"},
        "b": {"B": "AAE="},
        "s": {"SS": ["x", "y"]},
        "ns": {"NS": ["1e2", "-0.50"]},
        "m": {"M": {"x": {"N": "+3"}, "l": {"L": [{"N": "2.0"}, {"NULL": False}]}}},
        "z": {"NULL": False},
        "t": {"BOOL": False},
        "e": {"S": ""},
        "eb": {"B": ""},
    }
    assert validate_item(item) == {
        "pk": {"S": "a"},
        "n": {"N": "1.5"},
        "b": {"B": "AAE="},
        "s": {"SS": ["x", "y"]},
        "ns": {"NS": ["100", "-0.5"]},
        "m": {"M": {"x": {"N": "3"}, "l": {"L": [{"N": "2"}, {"NULL": True}]}}},
        "z": {"NULL": True},
        "t": {"BOOL": False},
        "e": {"S": ""},
        "eb": {"B": ""},
    }


@pytest.mark.parametrize(
    ("av", "message"),
    [
        ({}, "Supplied AttributeValue is empty, must contain exactly one of the supported "
         "datatypes"),
        ({"S": None}, "Supplied AttributeValue is empty, must contain exactly one of the "
         "supported datatypes"),
        ({"X": "a"}, "Supplied AttributeValue is empty, must contain exactly one of the "
         "supported datatypes"),
        ({"S": "a", "N": "1"}, "Supplied AttributeValue has more than one datatypes set, must "
         "contain exactly one of the supported datatypes"),
        ({"SS": []}, INVALID + "An string set  may not be empty"),
        ({"NS": []}, INVALID + "An number set  may not be empty"),
        ({"BS": []}, INVALID + "Binary sets should not be empty"),
        ({"SS": ["a", "a"]}, INVALID + "Input collection [a, a] contains duplicates."),
        ({"NS": ["1", "1.0"]}, INVALID + "Input collection [1, 1.0] contains duplicates."),
        ({"NS": ["1", "x"]}, "The parameter cannot be converted to a numeric value: x"),
        ({"NS": ["1e126"]}, "Number overflow. Attempting to store a number with magnitude "
         "larger than supported range"),
        ({"N": "abc"}, "The parameter cannot be converted to a numeric value: abc"),
        ({"M": {"a": {}}}, "Supplied AttributeValue is empty, must contain exactly one of the "
         "supported datatypes"),
        ({"L": [{"N": "1e-131"}]}, "Number underflow. Attempting to store a number with "
         "magnitude smaller than supported range"),
    ],
)  # fmt: skip
def test_validate_value_errors(av: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationException) as info:
        validate_value(av)
    assert info.value.message == message
    with pytest.raises(ValidationException):
        validate_item({"a": av})


def test_binary_set_duplicates_compare_bytes() -> None:
    # "AB==" and "AA==" both decode to b"\x00" (non-canonical trailing bits).
    with pytest.raises(ValidationException, match="contains duplicates"):
        validate_value({"BS": ["AA==", "AB=="]})
    assert validate_value({"BS": ["AA==", "AQ=="]}) == {"BS": ["AA==", "AQ=="]}


def test_empty_sets_allowed_on_request() -> None:
    assert validate_value({"SS": []}, allow_empty_sets=True) == {"SS": []}
    assert validate_item({"a": {"NS": []}}, allow_empty_sets=True) == {"a": {"NS": []}}


def test_empty_strings_inside_sets_allowed() -> None:
    assert validate_value({"SS": ["", "a"]}) == {"SS": ["", "a"]}


@pytest.mark.parametrize(
    "av",
    [
        {"S": 5},
        {"N": 5},
        {"N": 1.5},
        {"B": 5},
        {"B": "not base64!"},
        {"B": "AAE"},  # missing padding
        {"BOOL": "true"},
        {"BOOL": 1},
        {"NULL": "x"},
        {"SS": "a"},
        {"SS": [1]},
        {"NS": [1]},
        {"BS": ["***"]},
        {"M": []},
        {"L": {}},
        "a",
        ["S", "a"],
        None,
    ],
)
def test_wrong_json_types_are_serialization_errors(av: Any) -> None:
    with pytest.raises(SerializationException):
        validate_value(av)


def test_item_must_be_map() -> None:
    with pytest.raises(SerializationException):
        validate_item([])


def nested(kind: str, depth: int) -> dict[str, Any]:
    av: dict[str, Any] = {"S": "leaf"}
    for _ in range(depth):
        av = {"M": {"x": av}} if kind == "M" else {"L": [av]}
    return av


@pytest.mark.parametrize("kind", ["M", "L"])
def test_nesting_limit(kind: str) -> None:
    validate_item({"a": nested(kind, 32)})
    with pytest.raises(ValidationException) as info:
        validate_item({"a": nested(kind, 33)})
    assert info.value.message == "Nesting Levels have exceeded supported limits"


def test_decode_binary() -> None:
    assert decode_binary("AAE=") == b"\x00\x01"
    assert decode_binary("") == b""
    with pytest.raises(SerializationException):
        decode_binary("A")


# --------------------------------------------------------------------------- size


def S(v: str) -> dict[str, Any]:
    return {"S": v}


@pytest.mark.parametrize(
    ("av", "size"),
    [
        (S("abc"), 3),
        (S(""), 0),
        (S("é"), 2),
        (S("😀"), 4),
        ({"N": "101"}, 3),
        ({"N": "1"}, 2),
        ({"N": "12"}, 2),
        ({"N": "123"}, 3),
        ({"N": "1000"}, 2),  # trailing zeros trimmed
        ({"N": "0.001"}, 2),  # leading zeros trimmed
        ({"N": "-12345"}, 4),
        ({"N": "1" * 38}, 20),
        ({"B": b64(b"123456")}, 6),
        ({"B": b64(b"12345")}, 5),
        ({"B": b64(b"1234")}, 4),
        ({"B": ""}, 0),
        ({"BOOL": True}, 1),
        ({"NULL": True}, 1),
        ({"SS": ["ab", "c"]}, 3),
        ({"NS": ["1", "123"]}, 5),
        ({"BS": [b64(b"ab"), b64(b"cde")]}, 5),
        ({"L": []}, 3),
        ({"M": {}}, 3),
        ({"L": [S("ab"), {"N": "1"}]}, 3 + 2 + 2 + 2),
        ({"M": {"k": S("ab"), "kk": {"BOOL": True}}}, 3 + (1 + 2) + (2 + 1) + 2),
    ],
)
def test_value_size(av: dict[str, Any], size: int) -> None:
    assert value_size(av) == size


def stream_size_bytes(keys: dict[str, Any], *images: dict[str, Any]) -> int:
    """SizeBytes as SPEC 3.2 defines it: Keys + the included images."""
    return item_size(keys) + sum(item_size(image) for image in images)


def test_spec_3_2_size_bytes_table() -> None:
    # KEYS_ONLY model example.
    keys = {"ForumName": S("DynamoDB"), "Subject": S("DynamoDB Thread 3")}
    assert stream_size_bytes(keys) == 41
    # KEYS_ONLY LocalStack snapshot.
    assert stream_size_bytes({"Username": S("Fred")}) == 12
    # NEW_AND_OLD_IMAGES INSERT / MODIFY.
    keys = {"id": S("my-item-id")}
    image = {"attr1": S("value1"), "attr2": S("value2"), "id": S("my-item-id")}
    assert item_size(keys) == 12 and item_size(image) == 34
    assert stream_size_bytes(keys, image) == 46
    assert stream_size_bytes(keys, image, image) == 80
    # NEW_IMAGE INSERT with a 6-byte binary attribute.
    keys = {"my_partition_key": S("hello world")}
    image = {"my_partition_key": S("hello world"), "binary_key": {"B": b64(b"\x00\x01\x02abc")}}
    assert stream_size_bytes(keys, image) == 70
    # Lambda documentation samples.
    keys = {"Id": {"N": "101"}}
    old = {"Id": {"N": "101"}, "Message": S("New item!")}
    new = {"Id": {"N": "101"}, "Message": S("This item has changed")}
    assert item_size(keys) == 5
    assert stream_size_bytes(keys, old) == 26  # INSERT
    assert stream_size_bytes(keys, new, old) == 59  # MODIFY
    assert stream_size_bytes(keys, new) == 38  # REMOVE (old image is the changed item)


# --------------------------------------------------------------------------- equality / order


@pytest.mark.parametrize(
    ("a", "b", "equal"),
    [
        (S("a"), S("a"), True),
        (S("a"), S("b"), False),
        (S("1"), {"N": "1"}, False),
        ({"N": "1.0"}, {"N": "1"}, True),
        ({"N": "-0"}, {"N": "0"}, True),
        ({"N": "2"}, {"N": "1"}, False),
        ({"B": "AA=="}, {"B": "AB=="}, True),
        ({"B": "AA=="}, {"B": "AQ=="}, False),
        ({"SS": ["a", "b"]}, {"SS": ["b", "a"]}, True),
        ({"SS": ["a", "b"]}, {"SS": ["a"]}, False),
        ({"NS": ["1", "2.0"]}, {"NS": ["2", "1"]}, True),
        ({"BS": ["AA==", "AQ=="]}, {"BS": ["AQ==", "AA=="]}, True),
        ({"L": [S("a"), S("b")]}, {"L": [S("b"), S("a")]}, False),
        ({"L": [{"N": "1"}]}, {"L": [{"N": "1.0"}]}, True),
        ({"L": [S("a")]}, {"L": [S("a"), S("a")]}, False),
        ({"M": {"a": S("x"), "b": {"N": "1"}}}, {"M": {"b": {"N": "1"}, "a": S("x")}}, True),
        ({"M": {"a": S("x")}}, {"M": {"b": S("x")}}, False),
        ({"M": {"a": S("x")}}, {"M": {"a": S("x"), "b": S("y")}}, False),
        ({"BOOL": True}, {"BOOL": True}, True),
        ({"BOOL": True}, {"BOOL": False}, False),
        ({"NULL": True}, {"NULL": True}, True),
    ],
)
def test_values_equal(a: dict[str, Any], b: dict[str, Any], equal: bool) -> None:
    assert values_equal(a, b) is equal
    assert values_equal(b, a) is equal
    assert items_equal({"x": a}, {"x": b}) is equal


def test_items_equal() -> None:
    assert items_equal({"a": S("1"), "b": {"N": "2"}}, {"b": {"N": "2.00"}, "a": S("1")})
    assert not items_equal({"a": S("1")}, {"a": S("1"), "b": S("2")})
    assert not items_equal({"a": S("1"), "c": S("2")}, {"a": S("1"), "b": S("2")})
    assert items_equal({}, {})


@pytest.mark.parametrize(
    ("a", "b", "result"),
    [
        (S("a"), S("b"), -1),
        (S("b"), S("a"), 1),
        (S("a"), S("a"), 0),
        (S("Z"), S("a"), -1),
        (S("a"), S("ab"), -1),
        (S("\uffff"), S("😀"), -1),  # code point order = UTF-8 byte order, not UTF-16
        ({"N": "10"}, {"N": "9"}, 1),
        ({"N": "-10"}, {"N": "9"}, -1),
        ({"N": "1.0"}, {"N": "1"}, 0),
        ({"N": "-0.5"}, {"N": "-0.25"}, -1),
        ({"B": b64(b"\x00")}, {"B": b64(b"\xff")}, -1),
        ({"B": b64(b"\x7f")}, {"B": b64(b"\x80")}, -1),
        ({"B": b64(b"\x00")}, {"B": b64(b"\x00\x00")}, -1),
        (S("1"), {"N": "1"}, None),
        ({"BOOL": True}, {"BOOL": True}, None),
        ({"SS": ["a"]}, {"SS": ["a"]}, None),
    ],
)
def test_compare_scalars(a: dict[str, Any], b: dict[str, Any], result: int | None) -> None:
    assert compare_scalars(a, b) == result


@given(st.text(), st.text())
def test_compare_strings_matches_utf8(a: str, b: str) -> None:
    ea, eb = a.encode(), b.encode()
    assert compare_scalars(S(a), S(b)) == (ea > eb) - (ea < eb)


@given(st.binary(), st.binary())
def test_compare_binary(a: bytes, b: bytes) -> None:
    assert compare_scalars({"B": b64(a)}, {"B": b64(b)}) == (a > b) - (a < b)


@given(in_range_decimals, in_range_decimals)
def test_compare_numbers(a: Decimal, b: Decimal) -> None:
    na, nb = normalize_number(str(a)), normalize_number(str(b))
    assert compare_scalars({"N": na}, {"N": nb}) == (a > b) - (a < b)
    assert values_equal({"N": na}, {"N": nb}) is (a == b)
    assert (na == nb) is (a == b)  # canonical text: equal numbers, equal strings
