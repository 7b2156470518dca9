"""PutItem / GetItem / DeleteItem as a client sees them: attribute values, number
normalisation, key checks, the item-size limit and AWS's messages (SPEC 5.1-5.4, 5.9)."""

from __future__ import annotations

import base64
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import boto3
import pytest
from boto3.dynamodb.types import Binary
from botocore.exceptions import ClientError
from conftest import raw_dynamodb as raw

INVALID = "One or more parameter values were invalid: "
KEY_SCHEMA = "The provided key element does not match the schema"
NOT_FOUND = {"Code": "ResourceNotFoundException", "Message": "Requested resource not found"}
TARGET = "DynamoDB_20120810."


def error_of(call: Callable[..., Any], **kwargs: Any) -> dict[str, str]:
    with pytest.raises(ClientError) as info:
        call(**kwargs)
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    error: dict[str, str] = info.value.response["Error"]
    return error


def validation(message: str) -> dict[str, str]:
    return {"Code": "ValidationException", "Message": message}


@pytest.fixture
def table(make_table: Callable[..., str]) -> str:
    """Hash key pk (S)."""
    return make_table()


@pytest.fixture
def sorted_table(make_table: Callable[..., str]) -> str:
    """Hash key pk (S), range key sk (N)."""
    return make_table(range_key="N")


def put_get(ddb: Any, table: str, item: dict[str, Any]) -> dict[str, Any]:
    ddb.put_item(TableName=table, Item=item)
    stored: dict[str, Any] = ddb.get_item(TableName=table, Key={"pk": item["pk"]})["Item"]
    return stored


# -- round trips -----------------------------------------------------------------------------


def test_every_attribute_type_round_trips(ddb: Any, table: str) -> None:
    item = {
        "pk": {"S": "every-type"},
        "s": {"S": "héllo ✓ \U0001f600"},
        "empty_s": {"S": ""},
        "n": {"N": "-12.5"},
        "b": {"B": b"\x00\x01\xfe\xff"},
        "empty_b": {"B": b""},
        "ss": {"SS": ["a", "b", "c"]},
        "ns": {"NS": ["1", "2.5", "-3"]},
        "bs": {"BS": [b"\x00", b"\x01\x02"]},
        "m": {"M": {"inner": {"S": "x"}, "deeper": {"M": {"l": {"L": [{"N": "1"}]}}}}},
        "empty_m": {"M": {}},
        "l": {"L": [{"S": "a"}, {"N": "1"}, {"BOOL": False}, {"NULL": True}, {"L": []}]},
        "empty_l": {"L": []},
        "null": {"NULL": True},
        "t": {"BOOL": True},
        "f": {"BOOL": False},
    }
    stored = put_get(ddb, table, item)
    assert stored == item


def test_raw_wire_form_of_binary_is_base64(endpoint: str, table: str) -> None:
    data = base64.b64encode(b"\x00\xff binary").decode()
    status, _ = raw(
        endpoint,
        "PutItem",
        {"TableName": table, "Item": {"pk": {"S": "bin"}, "b": {"B": data}, "bs": {"BS": [data]}}},
    )
    assert status == 200
    status, body = raw(endpoint, "GetItem", {"TableName": table, "Key": {"pk": {"S": "bin"}}})
    assert (status, body) == (
        200,
        {"Item": {"pk": {"S": "bin"}, "b": {"B": data}, "bs": {"BS": [data]}}},
    )


def test_nested_documents(ddb: Any, table: str) -> None:
    nested: dict[str, Any] = {"S": "leaf"}
    for depth in range(15):
        sibling = {"L": [{"NS": ["1", "2"]}, {"BS": [b"\x00"]}]} if depth % 2 else {"SS": ["s"]}
        nested = {"M": {f"level{depth}": {"L": [nested]}, "sibling": sibling}}
    item = {"pk": {"S": "nested"}, "doc": nested}
    assert put_get(ddb, table, item) == item


def test_nesting_limit(ddb: Any, table: str) -> None:
    deep: dict[str, Any] = {"S": "leaf"}
    for _ in range(32):
        deep = {"M": {"m": deep}}
    put_get(ddb, table, {"pk": {"S": "deep"}, "d": deep})
    too_deep = {"L": [deep]}
    error = error_of(ddb.put_item, TableName=table, Item={"pk": {"S": "deep"}, "d": too_deep})
    assert error["Code"] == "ValidationException"
    assert "Nesting Levels have exceeded supported limits" in error["Message"]


def test_put_replaces_the_whole_item(ddb: Any, table: str) -> None:
    ddb.put_item(TableName=table, Item={"pk": {"S": "r"}, "a": {"S": "1"}, "b": {"S": "2"}})
    ddb.put_item(TableName=table, Item={"pk": {"S": "r"}, "c": {"S": "3"}})
    assert ddb.get_item(TableName=table, Key={"pk": {"S": "r"}})["Item"] == {
        "pk": {"S": "r"},
        "c": {"S": "3"},
    }


def test_null_false_is_stored_as_null_true(ddb: Any, table: str) -> None:
    stored = put_get(ddb, table, {"pk": {"S": "n"}, "x": {"NULL": False}})
    assert stored["x"] == {"NULL": True}


def test_range_key_round_trip(ddb: Any, sorted_table: str) -> None:
    for sk in ("1", "-1", "0", "3.25"):
        ddb.put_item(
            TableName=sorted_table, Item={"pk": {"S": "p"}, "sk": {"N": sk}, "v": {"S": sk}}
        )
    for sk in ("1", "-1", "0", "3.25"):
        got = ddb.get_item(TableName=sorted_table, Key={"pk": {"S": "p"}, "sk": {"N": sk}})
        assert got["Item"]["v"] == {"S": sk}


def test_binary_keys(ddb: Any, make_table: Callable[..., str]) -> None:
    name = make_table(hash_type="B")
    key = {"pk": {"B": b"\x00\xff\x00"}}
    ddb.put_item(TableName=name, Item={**key, "v": {"S": "x"}})
    assert ddb.get_item(TableName=name, Key=key)["Item"] == {**key, "v": {"S": "x"}}
    assert "Item" not in ddb.get_item(TableName=name, Key={"pk": {"B": b"\x00\xff"}})


# -- numbers ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "read"),
    [
        ("1.50", "1.5"),
        ("1e3", "1000"),
        ("-0", "0"),
        ("0.000", "0"),
        ("+5", "5"),
        ("00012", "12"),
        ("-1.2300e-2", "-0.0123"),
        ("1E+2", "100"),
        (".5", "0.5"),
        ("5.", "5"),
        ("1" + "0" * 40, "1" + "0" * 40),
        ("1" * 38, "1" * 38),
        ("1e125", "1" + "0" * 125),
        ("9.9999999999999999999999999999999999999E+125", "9" * 38 + "0" * 88),
        ("-9.9999999999999999999999999999999999999E+125", "-" + "9" * 38 + "0" * 88),
        ("1e-130", "0." + "0" * 129 + "1"),
        ("-1e-130", "-0." + "0" * 129 + "1"),
        ("0.1" + "0" * 60, "0.1"),
    ],
)
def test_number_normalisation(ddb: Any, table: str, written: str, read: str) -> None:
    stored = put_get(ddb, table, {"pk": {"S": "num"}, "n": {"N": written}})
    assert stored["n"] == {"N": read}


def test_number_set_normalisation(ddb: Any, table: str) -> None:
    stored = put_get(ddb, table, {"pk": {"S": "ns"}, "ns": {"NS": ["1.50", "1e3", "-0"]}})
    assert sorted(stored["ns"]["NS"]) == sorted(["1.5", "1000", "0"])


def test_numbers_in_documents_are_normalised(ddb: Any, table: str) -> None:
    stored = put_get(
        ddb,
        table,
        {"pk": {"S": "doc"}, "m": {"M": {"a": {"N": "2.0"}, "l": {"L": [{"N": "1e1"}]}}}},
    )
    assert stored["m"] == {"M": {"a": {"N": "2"}, "l": {"L": [{"N": "10"}]}}}


def test_number_key_is_normalised(ddb: Any, sorted_table: str) -> None:
    ddb.put_item(TableName=sorted_table, Item={"pk": {"S": "k"}, "sk": {"N": "1.50"}})
    for spelling in ("1.5", "15e-1", "1.500", "+1.5"):
        got = ddb.get_item(TableName=sorted_table, Key={"pk": {"S": "k"}, "sk": {"N": spelling}})
        assert got["Item"] == {"pk": {"S": "k"}, "sk": {"N": "1.5"}}
    # Same number, other spelling: the same item, overwritten.
    ddb.put_item(
        TableName=sorted_table, Item={"pk": {"S": "k"}, "sk": {"N": "15E-1"}, "x": {"S": "y"}}
    )
    got = ddb.get_item(TableName=sorted_table, Key={"pk": {"S": "k"}, "sk": {"N": "1.5"}})
    assert got["Item"] == {"pk": {"S": "k"}, "sk": {"N": "1.5"}, "x": {"S": "y"}}
    assert ddb.describe_table(TableName=sorted_table)["Table"]["ItemCount"] == 1


@pytest.mark.parametrize(
    ("number", "message"),
    [
        ("1" * 39, "Attempting to store more than 38 significant digits in a Number"),
        (
            "1.00000000000000000000000000000000000001",
            "Attempting to store more than 38 significant digits in a Number",
        ),
        (
            "1e126",
            "Number overflow. Attempting to store a number with magnitude larger than "
            "supported range",
        ),
        (
            "-1e126",
            "Number overflow. Attempting to store a number with magnitude larger than "
            "supported range",
        ),
        (
            "1e-131",
            "Number underflow. Attempting to store a number with magnitude smaller than "
            "supported range",
        ),
        (
            "-1e-131",
            "Number underflow. Attempting to store a number with magnitude smaller than "
            "supported range",
        ),
        ("abc", "The parameter cannot be converted to a numeric value: abc"),
        ("1e", "The parameter cannot be converted to a numeric value: 1e"),
        ("--1", "The parameter cannot be converted to a numeric value: --1"),
        ("0x10", "The parameter cannot be converted to a numeric value: 0x10"),
        ("1.2.3", "The parameter cannot be converted to a numeric value: 1.2.3"),
        ("NaN", "The parameter cannot be converted to a numeric value: NaN"),
        ("Infinity", "The parameter cannot be converted to a numeric value: Infinity"),
    ],
)
def test_bad_numbers(ddb: Any, table: str, number: str, message: str) -> None:
    for item in (
        {"pk": {"S": "bad"}, "n": {"N": number}},
        {"pk": {"S": "bad"}, "ns": {"NS": ["1", number]}},
        {"pk": {"S": "bad"}, "m": {"M": {"x": {"L": [{"N": number}]}}}},
    ):
        assert error_of(ddb.put_item, TableName=table, Item=item) == validation(message)
    assert "Item" not in ddb.get_item(TableName=table, Key={"pk": {"S": "bad"}})


def test_bad_number_in_key(ddb: Any, sorted_table: str) -> None:
    assert error_of(
        ddb.get_item, TableName=sorted_table, Key={"pk": {"S": "a"}, "sk": {"N": "x1"}}
    ) == validation("The parameter cannot be converted to a numeric value: x1")


# -- sets and attribute values ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"SS": []}, INVALID + "An string set  may not be empty"),
        ({"NS": []}, INVALID + "An number set  may not be empty"),
        ({"BS": []}, INVALID + "Binary sets should not be empty"),
        ({"SS": ["a", "b", "a"]}, INVALID + "Input collection [a, b, a] contains duplicates."),
    ],
)
def test_bad_sets(ddb: Any, table: str, value: dict[str, Any], message: str) -> None:
    assert error_of(
        ddb.put_item, TableName=table, Item={"pk": {"S": "set"}, "x": value}
    ) == validation(message)


@pytest.mark.parametrize(
    "numbers", [["1", "1"], ["1", "1.0"], ["10", "1e1"], ["-0", "0"], ["0.5", "5E-1", "2"]]
)
def test_numerically_equal_numbers_are_duplicates(ddb: Any, table: str, numbers: list[str]) -> None:
    error = error_of(ddb.put_item, TableName=table, Item={"pk": {"S": "ns"}, "x": {"NS": numbers}})
    assert error["Code"] == "ValidationException"
    assert error["Message"].startswith(INVALID + "Input collection [")
    assert error["Message"].endswith("] contains duplicates.")


def test_binary_set_duplicates(ddb: Any, table: str) -> None:
    error = error_of(
        ddb.put_item, TableName=table, Item={"pk": {"S": "bs"}, "x": {"BS": [b"a", b"a"]}}
    )
    assert error["Code"] == "ValidationException"
    assert error["Message"].endswith("] contains duplicates.")


def test_empty_attribute_value(endpoint: str, table: str) -> None:
    status, body = raw(
        endpoint, "PutItem", {"TableName": table, "Item": {"pk": {"S": "e"}, "x": {}}}
    )
    assert (status, body) == (
        400,
        {
            "__type": "com.amazon.coral.validate#ValidationException",
            "message": "Supplied AttributeValue is empty, must contain exactly one of the "
            "supported datatypes",
        },
    )


@pytest.mark.parametrize(
    "value",
    [
        {"S": "a", "N": "1"},
        {"BOOL": True, "NULL": True},
        {"M": {}, "L": []},
        {"SS": ["a"], "S": "a"},
    ],
)
def test_several_types_in_one_value(endpoint: str, table: str, value: dict[str, Any]) -> None:
    status, body = raw(
        endpoint, "PutItem", {"TableName": table, "Item": {"pk": {"S": "e"}, "x": value}}
    )
    assert (status, body) == (
        400,
        {
            "__type": "com.amazon.coral.validate#ValidationException",
            "message": "Supplied AttributeValue has more than one datatypes set, must contain "
            "exactly one of the supported datatypes",
        },
    )


def test_several_types_nested(endpoint: str, table: str) -> None:
    status, body = raw(
        endpoint,
        "PutItem",
        {"TableName": table, "Item": {"pk": {"S": "e"}, "x": {"L": [{"M": {"y": {}}}]}}},
    )
    assert status == 400
    assert body["message"] == (
        "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"
    )


@pytest.mark.parametrize(
    "value",
    [{"S": 5}, {"N": 5}, {"BOOL": "true"}, {"L": {}}, {"M": []}, {"SS": "a"}, {"B": "%%%"}],
)
def test_wrong_json_type_in_value(endpoint: str, table: str, value: dict[str, Any]) -> None:
    status, body = raw(
        endpoint, "PutItem", {"TableName": table, "Item": {"pk": {"S": "w"}, "x": value}}
    )
    assert status == 400
    assert body["__type"] == "com.amazon.coral.service#SerializationException"
    status, body = raw(endpoint, "GetItem", {"TableName": table, "Key": {"pk": {"S": "w"}}})
    assert (status, body) == (200, {})


# -- keys ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key",
    [
        {"pk": {"S": "a"}},  # range key missing
        {"sk": {"N": "1"}},  # hash key missing
        {"pk": {"S": "a"}, "sk": {"S": "1"}},  # wrong type
        {"pk": {"N": "1"}, "sk": {"N": "1"}},  # wrong type
        {"pk": {"S": "a"}, "sk": {"N": "1"}, "extra": {"S": "x"}},  # extra attribute
        {"pk": {"S": "a"}, "other": {"N": "1"}},  # wrong name
        {},
    ],
)
def test_key_does_not_match_schema(ddb: Any, sorted_table: str, key: dict[str, Any]) -> None:
    assert error_of(ddb.get_item, TableName=sorted_table, Key=key) == validation(KEY_SCHEMA)
    assert error_of(ddb.delete_item, TableName=sorted_table, Key=key) == validation(KEY_SCHEMA)


def test_key_of_non_scalar_type(ddb: Any, table: str) -> None:
    for value in ({"SS": ["a"]}, {"M": {}}, {"L": []}, {"BOOL": True}, {"NULL": True}):
        assert error_of(ddb.get_item, TableName=table, Key={"pk": value}) == validation(KEY_SCHEMA)


def test_put_item_missing_key(ddb: Any, sorted_table: str) -> None:
    assert error_of(
        ddb.put_item, TableName=sorted_table, Item={"pk": {"S": "a"}, "x": {"S": "y"}}
    ) == validation(INVALID + "Missing the key sk in the item")
    assert error_of(ddb.put_item, TableName=sorted_table, Item={"sk": {"N": "1"}}) == validation(
        INVALID + "Missing the key pk in the item"
    )


def test_put_item_key_type_mismatch(ddb: Any, sorted_table: str) -> None:
    assert error_of(
        ddb.put_item, TableName=sorted_table, Item={"pk": {"N": "1"}, "sk": {"N": "1"}}
    ) == validation(INVALID + "Type mismatch for key pk expected: S actual: N")
    assert error_of(
        ddb.put_item, TableName=sorted_table, Item={"pk": {"S": "a"}, "sk": {"SS": ["1"]}}
    ) == validation(INVALID + "Type mismatch for key sk expected: N actual: SS")


def test_empty_string_key(ddb: Any, make_table: Callable[..., str]) -> None:
    name = make_table(range_key="S")
    message = (
        "One or more parameter values are not valid. The AttributeValue for a key attribute "
        "cannot contain an empty string value. Key: {}"
    )
    assert error_of(
        ddb.put_item, TableName=name, Item={"pk": {"S": ""}, "sk": {"S": "a"}}
    ) == validation(message.format("pk"))
    assert error_of(
        ddb.put_item, TableName=name, Item={"pk": {"S": "a"}, "sk": {"S": ""}}
    ) == validation(message.format("sk"))
    assert error_of(
        ddb.get_item, TableName=name, Key={"pk": {"S": ""}, "sk": {"S": "a"}}
    ) == validation(message.format("pk"))
    assert error_of(
        ddb.delete_item, TableName=name, Key={"pk": {"S": "a"}, "sk": {"S": ""}}
    ) == validation(message.format("sk"))


def test_empty_binary_key(ddb: Any, make_table: Callable[..., str]) -> None:
    name = make_table(hash_type="B")
    message = (
        "One or more parameter values are not valid. The AttributeValue for a key attribute "
        "cannot contain an empty binary value. Key: pk"
    )
    assert error_of(ddb.put_item, TableName=name, Item={"pk": {"B": b""}}) == validation(message)
    assert error_of(ddb.get_item, TableName=name, Key={"pk": {"B": b""}}) == validation(message)


HASH_TOO_BIG = INVALID + "Size of hashkey has exceeded the maximum size limit of2048 bytes"
RANGE_TOO_BIG = (
    INVALID + "Aggregated size of all range keys has exceeded the size limit of 1024 bytes"
)


def test_hash_key_size_limit(ddb: Any, make_table: Callable[..., str]) -> None:
    name = make_table(range_key="S")
    ok = {"pk": {"S": "a" * 2048}, "sk": {"S": "s"}}
    ddb.put_item(TableName=name, Item=ok)
    assert ddb.get_item(TableName=name, Key=ok)["Item"] == ok
    # Multi-byte characters count in UTF-8 bytes: 683 * 3 = 2049.
    for big in ("a" * 2049, "€" * 683):
        item = {"pk": {"S": big}, "sk": {"S": "s"}}
        assert error_of(ddb.put_item, TableName=name, Item=item) == validation(HASH_TOO_BIG)
        assert error_of(ddb.get_item, TableName=name, Key=item) == validation(HASH_TOO_BIG)


def test_binary_hash_key_size_limit(ddb: Any, make_table: Callable[..., str]) -> None:
    name = make_table(hash_type="B")
    ddb.put_item(TableName=name, Item={"pk": {"B": b"\x01" * 2048}})
    assert error_of(ddb.put_item, TableName=name, Item={"pk": {"B": b"\x01" * 2049}}) == validation(
        HASH_TOO_BIG
    )


def test_range_key_size_limit(ddb: Any, make_table: Callable[..., str]) -> None:
    name = make_table(range_key="S")
    ok = {"pk": {"S": "p"}, "sk": {"S": "b" * 1024}}
    ddb.put_item(TableName=name, Item=ok)
    assert ddb.get_item(TableName=name, Key=ok)["Item"] == ok
    item = {"pk": {"S": "p"}, "sk": {"S": "b" * 1025}}
    assert error_of(ddb.put_item, TableName=name, Item=item) == validation(RANGE_TOO_BIG)
    assert error_of(ddb.get_item, TableName=name, Key=item) == validation(RANGE_TOO_BIG)


# -- item size -------------------------------------------------------------------------------

LIMIT = 400 * 1024
TOO_BIG = validation("Item size has exceeded the maximum allowed size")


def test_item_size_limit_string(ddb: Any, table: str) -> None:
    # size = len("pk") + len("big") + len("data") + len(value)
    overhead = len("pk") + len("big") + len("data")
    ddb.put_item(
        TableName=table, Item={"pk": {"S": "big"}, "data": {"S": "x" * (LIMIT - overhead)}}
    )
    assert ddb.get_item(TableName=table, Key={"pk": {"S": "big"}})["Item"]["data"]["S"] == (
        "x" * (LIMIT - overhead)
    )
    assert (
        error_of(
            ddb.put_item,
            TableName=table,
            Item={"pk": {"S": "big"}, "data": {"S": "x" * (LIMIT - overhead + 1)}},
        )
        == TOO_BIG
    )
    # The failed write left the stored item alone.
    stored = ddb.get_item(TableName=table, Key={"pk": {"S": "big"}})["Item"]
    assert len(stored["data"]["S"]) == LIMIT - overhead


def test_item_size_counts_attribute_names(ddb: Any, table: str) -> None:
    name = "n" * 1000
    overhead = len("pk") + len("big") + len(name)
    ddb.put_item(TableName=table, Item={"pk": {"S": "big"}, name: {"S": "x" * (LIMIT - overhead)}})
    assert (
        error_of(
            ddb.put_item,
            TableName=table,
            Item={"pk": {"S": "big"}, name + "n": {"S": "x" * (LIMIT - overhead)}},
        )
        == TOO_BIG
    )


def test_item_size_of_documents(ddb: Any, table: str) -> None:
    # M: 3 bytes + 1 per element + names + values; L: 3 bytes + 1 per element + values.
    def item(n: int) -> dict[str, Any]:
        return {
            "pk": {"S": "doc"},
            "m": {"M": {"k": {"L": [{"S": "x" * n}, {"BOOL": True}]}}},
        }

    fixed = len("pk") + len("doc") + len("m") + (3 + 1 + len("k")) + (3 + 2) + 1
    ddb.put_item(TableName=table, Item=item(LIMIT - fixed))
    assert error_of(ddb.put_item, TableName=table, Item=item(LIMIT - fixed + 1)) == TOO_BIG


def test_item_size_of_binary_counts_raw_bytes(ddb: Any, table: str) -> None:
    overhead = len("pk") + len("bin") + len("b")
    ddb.put_item(
        TableName=table, Item={"pk": {"S": "bin"}, "b": {"B": b"\x00" * (LIMIT - overhead)}}
    )
    assert (
        error_of(
            ddb.put_item,
            TableName=table,
            Item={"pk": {"S": "bin"}, "b": {"B": b"\x00" * (LIMIT - overhead + 1)}},
        )
        == TOO_BIG
    )


# -- ReturnValues, GetItem options, capacity -------------------------------------------------


def test_put_return_values(ddb: Any, table: str) -> None:
    first = {"pk": {"S": "rv"}, "v": {"N": "1"}}
    second = {"pk": {"S": "rv"}, "v": {"N": "2"}}
    response = ddb.put_item(TableName=table, Item=first, ReturnValues="ALL_OLD")
    assert "Attributes" not in response
    response = ddb.put_item(TableName=table, Item=second, ReturnValues="NONE")
    assert "Attributes" not in response
    response = ddb.put_item(TableName=table, Item=first, ReturnValues="ALL_OLD")
    assert response["Attributes"] == second


def test_put_return_values_raw_body(endpoint: str, table: str) -> None:
    item = {"pk": {"S": "raw"}, "n": {"N": "1.50"}}
    assert raw(endpoint, "PutItem", {"TableName": table, "Item": item}) == (200, {})
    assert raw(
        endpoint, "PutItem", {"TableName": table, "Item": item, "ReturnValues": "ALL_OLD"}
    ) == (200, {"Attributes": {"pk": {"S": "raw"}, "n": {"N": "1.5"}}})


@pytest.mark.parametrize("return_values", ["ALL_NEW", "UPDATED_OLD", "UPDATED_NEW"])
def test_put_and_delete_invalid_return_values(ddb: Any, table: str, return_values: str) -> None:
    item = {"pk": {"S": "rv"}}
    message = validation(INVALID + "Return values set to invalid value")
    assert error_of(ddb.put_item, TableName=table, Item=item, ReturnValues=return_values) == message
    assert error_of(ddb.delete_item, TableName=table, Key=item, ReturnValues=return_values) == (
        message
    )
    assert "Item" not in ddb.get_item(TableName=table, Key=item)


def test_return_values_not_in_enum(endpoint: str, table: str) -> None:
    status, body = raw(
        endpoint,
        "PutItem",
        {"TableName": table, "Item": {"pk": {"S": "x"}}, "ReturnValues": "EVERYTHING"},
    )
    assert (status, body) == (
        400,
        {
            "__type": "com.amazon.coral.validate#ValidationException",
            "message": "1 validation error detected: Value 'EVERYTHING' at 'returnValues' failed "
            "to satisfy constraint: Member must satisfy enum value set: "
            "[ALL_NEW, UPDATED_OLD, ALL_OLD, NONE, UPDATED_NEW]",
        },
    )


def test_delete_item(ddb: Any, table: str) -> None:
    item = {"pk": {"S": "del"}, "a": {"SS": ["x"]}}
    ddb.put_item(TableName=table, Item=item)
    response = ddb.delete_item(TableName=table, Key={"pk": {"S": "del"}}, ReturnValues="ALL_OLD")
    assert response["Attributes"] == item
    assert "Item" not in ddb.get_item(TableName=table, Key={"pk": {"S": "del"}})
    # Deleting a missing item is fine and returns nothing.
    response = ddb.delete_item(TableName=table, Key={"pk": {"S": "del"}}, ReturnValues="ALL_OLD")
    assert "Attributes" not in response
    ddb.put_item(TableName=table, Item=item)
    response = ddb.delete_item(TableName=table, Key={"pk": {"S": "del"}})
    assert "Attributes" not in response
    assert "Item" not in ddb.get_item(TableName=table, Key={"pk": {"S": "del"}})


def test_delete_item_raw_body(endpoint: str, table: str) -> None:
    assert raw(endpoint, "DeleteItem", {"TableName": table, "Key": {"pk": {"S": "none"}}}) == (
        200,
        {},
    )


def test_get_missing_item_has_no_item_member(endpoint: str, ddb: Any, table: str) -> None:
    assert raw(endpoint, "GetItem", {"TableName": table, "Key": {"pk": {"S": "nope"}}}) == (200, {})
    response = ddb.get_item(TableName=table, Key={"pk": {"S": "nope"}}, ConsistentRead=True)
    assert "Item" not in response


def test_consistent_read(ddb: Any, table: str) -> None:
    item = {"pk": {"S": "cr"}, "v": {"S": "x"}}
    ddb.put_item(TableName=table, Item=item)
    for consistent in (True, False):
        assert (
            ddb.get_item(TableName=table, Key={"pk": {"S": "cr"}}, ConsistentRead=consistent)[
                "Item"
            ]
            == item
        )


def test_attributes_to_get(ddb: Any, table: str) -> None:
    ddb.put_item(
        TableName=table,
        Item={"pk": {"S": "atg"}, "a": {"S": "1"}, "b": {"S": "2"}, "c": {"N": "3"}},
    )
    response = ddb.get_item(
        TableName=table, Key={"pk": {"S": "atg"}}, AttributesToGet=["a", "c", "zz"]
    )
    assert response["Item"] == {"a": {"S": "1"}, "c": {"N": "3"}}


def test_return_consumed_capacity(ddb: Any, table: str) -> None:
    item = {"pk": {"S": "cap"}, "v": {"S": "x" * 100}}
    put = ddb.put_item(TableName=table, Item=item, ReturnConsumedCapacity="TOTAL")
    assert put["ConsumedCapacity"] == {"TableName": table, "CapacityUnits": 1.0}
    get = ddb.get_item(TableName=table, Key={"pk": {"S": "cap"}}, ReturnConsumedCapacity="TOTAL")
    assert get["ConsumedCapacity"] == {"TableName": table, "CapacityUnits": 0.5}
    assert get["Item"] == item
    get = ddb.get_item(
        TableName=table,
        Key={"pk": {"S": "cap"}},
        ReturnConsumedCapacity="TOTAL",
        ConsistentRead=True,
    )
    assert get["ConsumedCapacity"] == {"TableName": table, "CapacityUnits": 1.0}
    delete = ddb.delete_item(
        TableName=table, Key={"pk": {"S": "cap"}}, ReturnConsumedCapacity="TOTAL"
    )
    assert delete["ConsumedCapacity"] == {"TableName": table, "CapacityUnits": 1.0}
    none = ddb.get_item(TableName=table, Key={"pk": {"S": "cap"}}, ReturnConsumedCapacity="NONE")
    assert "ConsumedCapacity" not in none


def test_consumed_capacity_grows_with_size(ddb: Any, table: str) -> None:
    item = {"pk": {"S": "big"}, "v": {"S": "x" * 5000}}
    put = ddb.put_item(TableName=table, Item=item, ReturnConsumedCapacity="TOTAL")
    assert put["ConsumedCapacity"]["CapacityUnits"] == 5.0  # 5008 bytes / 1 KB, rounded up
    get = ddb.get_item(
        TableName=table,
        Key={"pk": {"S": "big"}},
        ReturnConsumedCapacity="TOTAL",
        ConsistentRead=True,
    )
    assert get["ConsumedCapacity"]["CapacityUnits"] == 2.0  # / 4 KB, rounded up


def test_consumed_capacity_indexes(ddb: Any, table: str) -> None:
    put = ddb.put_item(TableName=table, Item={"pk": {"S": "ix"}}, ReturnConsumedCapacity="INDEXES")
    assert put["ConsumedCapacity"] == {
        "TableName": table,
        "CapacityUnits": 1.0,
        "Table": {"CapacityUnits": 1.0},
    }


@pytest.mark.parametrize("operation", ["put_item", "get_item", "delete_item"])
def test_missing_table(ddb: Any, table_name: str, operation: str) -> None:
    kwargs: dict[str, Any] = {"TableName": table_name}
    if operation == "put_item":
        kwargs["Item"] = {"pk": {"S": "a"}}
    else:
        kwargs["Key"] = {"pk": {"S": "a"}}
    assert error_of(getattr(ddb, operation), **kwargs) == NOT_FOUND


def test_missing_table_raw_shape(endpoint: str, table_name: str) -> None:
    status, body = raw(endpoint, "GetItem", {"TableName": table_name, "Key": {"pk": {"S": "a"}}})
    assert (status, body) == (
        400,
        {
            "__type": "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException",
            "message": "Requested resource not found",
        },
    )


def test_table_by_arn(ddb: Any, table: str) -> None:
    arn = f"arn:aws:dynamodb:us-east-1:000000000000:table/{table}"
    ddb.put_item(TableName=arn, Item={"pk": {"S": "arn"}})
    assert ddb.get_item(TableName=table, Key={"pk": {"S": "arn"}})["Item"] == {"pk": {"S": "arn"}}
    assert ddb.get_item(TableName=arn, Key={"pk": {"S": "arn"}})["Item"] == {"pk": {"S": "arn"}}


def test_item_count_follows_writes(ddb: Any, table: str) -> None:
    for i in range(3):
        ddb.put_item(TableName=table, Item={"pk": {"S": f"c{i}"}})
    ddb.put_item(TableName=table, Item={"pk": {"S": "c0"}, "x": {"S": "y"}})
    ddb.delete_item(TableName=table, Key={"pk": {"S": "c1"}})
    ddb.delete_item(TableName=table, Key={"pk": {"S": "never"}})
    assert ddb.describe_table(TableName=table)["Table"]["ItemCount"] == 2


# -- boto3 resource API ----------------------------------------------------------------------


def test_resource_api(endpoint: str, make_table: Callable[..., str]) -> None:
    name = make_table(range_key="N")
    resource = boto3.resource(
        "dynamodb",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    table = resource.Table(name)
    assert table.key_schema == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    item = {
        "pk": "user#1",
        "sk": Decimal("1.5"),
        "name": "Ada",
        "age": 36,
        "score": Decimal("99.99"),
        "big": Decimal("12345678901234567890123456789012345678"),
        "tags": {"a", "b"},
        "nums": {Decimal("1"), Decimal("2.5")},
        "blob": Binary(b"\x00\x01"),
        "flag": True,
        "nothing": None,
        "profile": {"langs": ["en", "fr"], "nested": {"deep": Decimal("-0.001")}},
        "list": [1, "two", {"three": 3}],
    }
    table.put_item(Item=item)
    stored = table.get_item(Key={"pk": "user#1", "sk": Decimal("1.50")})["Item"]
    assert stored == {
        **item,
        "age": Decimal(36),
        "list": [Decimal(1), "two", {"three": Decimal(3)}],
    }
    assert isinstance(stored["sk"], Decimal)
    old = table.put_item(Item={"pk": "user#1", "sk": Decimal("1.5")}, ReturnValues="ALL_OLD")
    assert old["Attributes"]["name"] == "Ada"
    assert table.get_item(Key={"pk": "user#1", "sk": Decimal("1.5")})["Item"] == {
        "pk": "user#1",
        "sk": Decimal("1.5"),
    }
    table.delete_item(Key={"pk": "user#1", "sk": Decimal("1.5")})
    assert "Item" not in table.get_item(Key={"pk": "user#1", "sk": Decimal("1.5")})
    assert table.item_count == 0
