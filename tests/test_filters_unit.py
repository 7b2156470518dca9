"""Unit tests for the FilterCriteria pattern language (emulator.triggers.filters).

Pure domain tests: no server. Records are built by the emulator's own stream-record
encoder (emulator.streams.records) plus `eventSourceARN`, i.e. exactly the Lambda event
record the poller filters (SPEC-STREAM-APPS 3.3).
"""

from __future__ import annotations

import json
import string
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emulator.streams.records import build_record, event_name
from emulator.triggers.filters import (
    INVALID_PATTERN_MESSAGE,
    MAX_FILTERS,
    FilterCriteriaError,
    FilterPatternError,
    FilterPatternLengthError,
    FilterQuotaError,
    Pattern,
    compile_criteria,
    compile_pattern,
    matches_any,
)

STREAM_ARN = "arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/2024-01-01T00:00:00.000"
Item = dict[str, Any]


def lambda_record(
    old: Item | None,
    new: Item | None,
    *,
    view: str = "NEW_AND_OLD_IMAGES",
    created: float = 1_700_000_000.0,
    sequence: int = 1,
) -> dict[str, Any] | None:
    """The Lambda event record a write produces, or None when the write emits none."""
    event = event_name(old, new)
    if event is None:
        return None
    item = new if new is not None else old
    assert item is not None
    keys = {"id": item["id"]}
    wire = build_record(event, view, "us-east-1", keys, old, new, sequence, created)
    record: dict[str, Any] = orjson.loads(wire)
    record["eventSourceARN"] = STREAM_ARN
    return record


def writes_to_records(writes: list[tuple[Item | None, Item | None]]) -> list[dict[str, Any]]:
    records = []
    for sequence, (old, new) in enumerate(writes, start=1):
        record = lambda_record(old, new, sequence=sequence)
        if record is not None:
            records.append(record)
    return records


def matches(pattern: Any, record: Any) -> bool:
    text = pattern if isinstance(pattern, str) else json.dumps(pattern)
    return compile_pattern(text).matches(record)


def invalid(pattern: Any, **options: Any) -> None:
    text = pattern if isinstance(pattern, str) else json.dumps(pattern)
    with pytest.raises(FilterPatternError) as caught:
        compile_pattern(text, **options)
    assert caught.value.message == INVALID_PATTERN_MESSAGE
    assert caught.value.code == "InvalidParameterValueException"


# --- the nine AWS-observed DynamoDB cases (SPEC-STREAM-APPS 3.9) ---------------------------

ID1 = {"id": {"S": "1"}}
ID2 = {"id": {"S": "2"}}

DYNAMODB_CASES = [
    pytest.param(
        {"eventName": ["INSERT"]},
        [(None, ID1), (ID1, dict(ID1))],  # the identical put emits no record
        1,
        id="eventName-insert",
    ),
    pytest.param(
        {"eventName": ["INSERT", "MODIFY"]},
        [(None, ID1), (ID1, {**ID1, "a": {"S": "x"}})],
        2,
        id="eventName-insert-or-modify",
    ),
    pytest.param(
        {"eventName": ["INSERT"], "eventSource": ["aws:dynamodb"]},
        [(None, ID1), (ID1, {**ID1, "a": {"S": "x"}})],
        1,
        id="top-level-metadata",
    ),
    pytest.param(
        {"dynamodb": {"NewImage": {"presentKey": {"S": ["presentValue"]}}}},
        [(None, {**ID1, "presentKey": {"S": "presentValue"}}), (None, ID2)],
        1,
        id="new-image-exact",
    ),
    pytest.param(
        {"dynamodb": {"NewImage": {"presentKey": {"S": [{"exists": True}]}}}},
        [(None, {**ID1, "presentKey": {"S": "presentValue"}}), (None, ID2)],
        1,
        id="exists-true",
    ),
    pytest.param(
        {"dynamodb": {"NewImage": {"presentKey": [{"exists": False}]}}},
        [(None, ID1), (None, {**ID2, "presentKey": {"S": "presentValue"}})],
        2,
        id="exists-false-on-a-map",
    ),
    pytest.param(
        {
            "dynamodb": {
                "NewImage": {
                    "numericFilter": {"N": [{"numeric": [">", 100]}, {"anything-but": "101"}]}
                }
            }
        },
        [
            (None, {**ID1, "numericFilter": {"N": "42"}}),
            (None, {**ID2, "numericFilter": {"N": "101"}}),
        ],
        1,
        id="numeric-vs-N-string",
    ),
    pytest.param(
        {"dynamodb": {"NewImage": {"prefix": {"S": [{"prefix": "us-1"}]}}}},
        [(None, {**ID1, "prefix": {"S": "us-1-abc"}}), (None, {**ID2, "prefix": {"S": "other"}})],
        1,
        id="prefix",
    ),
    pytest.param(
        {"dynamodb": {"ApproximateCreationDateTime": [{"numeric": [">", 0]}]}},
        [(None, ID1), (None, ID2)],
        2,
        id="creation-time-numeric",
    ),
]


@pytest.mark.parametrize(("pattern", "writes", "expected"), DYNAMODB_CASES)
def test_dynamodb_cases(pattern: dict[str, Any], writes: list[Any], expected: int) -> None:
    compiled = compile_criteria({"Filters": [{"Pattern": json.dumps(pattern)}]})
    records = writes_to_records(writes)
    assert sum(matches_any(compiled, record) for record in records) == expected


def test_dynamodb_case_which_record_matched() -> None:
    """The counts above, pinned to the record that should pass."""
    records = writes_to_records(
        [
            (None, {**ID1, "numericFilter": {"N": "42"}}),
            (None, {**ID2, "numericFilter": {"N": "101"}}),
        ]
    )
    pattern = compile_pattern(
        '{"dynamodb":{"NewImage":{"numericFilter":{"N":'
        '[{"numeric":[">",100]},{"anything-but":"101"}]}}}}'
    )
    assert [pattern.matches(r) for r in records] == [True, False]


def test_type_descriptor_is_required() -> None:
    """Without the `"S"` level nothing matches: the attribute's value is a map."""
    record = lambda_record(None, {**ID1, "presentKey": {"S": "presentValue"}})
    assert not matches({"dynamodb": {"NewImage": {"presentKey": ["presentValue"]}}}, record)
    assert matches({"dynamodb": {"NewImage": {"presentKey": {"S": ["presentValue"]}}}}, record)


@pytest.mark.parametrize("created", [1_700_000_000, 1_691_160_110.0])
def test_creation_time_is_a_number_int_or_float(created: float) -> None:
    record = lambda_record(None, ID1)
    assert record is not None
    record["dynamodb"]["ApproximateCreationDateTime"] = created
    assert matches({"dynamodb": {"ApproximateCreationDateTime": [{"numeric": [">", 0]}]}}, record)
    assert not matches(
        {"dynamodb": {"ApproximateCreationDateTime": [{"numeric": ["<", 1000]}]}}, record
    )


def test_keys_old_image_and_metadata() -> None:
    old = {**ID1, "state": {"S": "open"}, "n": {"N": "3"}}
    new = {**ID1, "state": {"S": "closed"}, "n": {"N": "4"}}
    record = lambda_record(old, new)
    assert matches({"dynamodb": {"Keys": {"id": {"S": ["1"]}}}}, record)
    assert matches({"dynamodb": {"OldImage": {"state": {"S": ["open"]}}}}, record)
    assert not matches({"dynamodb": {"OldImage": {"state": {"S": ["closed"]}}}}, record)
    assert matches({"dynamodb": {"StreamViewType": ["NEW_AND_OLD_IMAGES"]}}, record)
    assert matches({"eventVersion": ["1.1"], "awsRegion": ["us-east-1"]}, record)
    assert matches({"eventSourceARN": [{"suffix": "2024-01-01T00:00:00.000"}]}, record)
    # AND across fields: one failing field fails the pattern.
    assert not matches(
        {"eventName": ["MODIFY"], "dynamodb": {"NewImage": {"state": {"S": ["open"]}}}}, record
    )
    assert matches(
        {"eventName": ["MODIFY"], "dynamodb": {"NewImage": {"state": {"S": ["closed"]}}}}, record
    )


def test_keys_only_record_has_no_images() -> None:
    record = lambda_record(None, {**ID1, "a": {"S": "x"}}, view="KEYS_ONLY")
    assert not matches({"dynamodb": {"NewImage": {"a": {"S": ["x"]}}}}, record)
    assert matches({"dynamodb": {"NewImage": [{"exists": False}]}}, record)
    assert matches({"dynamodb": {"NewImage": {"a": {"S": [{"exists": False}]}}}}, record)


def test_remove_and_ttl_identity() -> None:
    old = {**ID1, "a": {"S": "x"}}
    wire = build_record(
        "REMOVE",
        "NEW_AND_OLD_IMAGES",
        "us-east-1",
        ID1,
        old,
        None,
        7,
        1_700_000_000.0,
        {"type": "Service", "principalId": "dynamodb.amazonaws.com"},
    )
    record = orjson.loads(wire)
    ttl = {"userIdentity": {"type": ["Service"], "principalId": ["dynamodb.amazonaws.com"]}}
    assert matches(ttl, record)
    assert matches({"eventName": ["REMOVE"], "dynamodb": {"OldImage": {"a": {"S": ["x"]}}}}, record)
    plain = lambda_record(old, None)
    assert not matches(ttl, plain)
    assert matches({"userIdentity": [{"exists": False}]}, plain)


def test_list_and_set_attributes() -> None:
    new = {
        **ID1,
        "tags": {"SS": ["red", "blue"]},
        "nums": {"NS": ["1", "2"]},
        "items": {"L": [{"S": "a"}, {"M": {"k": {"S": "v"}}}]},
    }
    record = lambda_record(None, new)
    assert matches({"dynamodb": {"NewImage": {"tags": {"SS": ["blue"]}}}}, record)
    assert not matches({"dynamodb": {"NewImage": {"tags": {"SS": ["green"]}}}}, record)
    assert matches({"dynamodb": {"NewImage": {"nums": {"NS": ["2"]}}}}, record)
    assert matches({"dynamodb": {"NewImage": {"items": {"L": {"S": ["a"]}}}}}, record)
    assert matches({"dynamodb": {"NewImage": {"items": {"L": {"M": {"k": {"S": ["v"]}}}}}}}, record)
    assert not matches({"dynamodb": {"NewImage": {"items": {"L": {"S": ["v"]}}}}}, record)


def test_binary_and_bool_and_null_attributes() -> None:
    new = {**ID1, "b": {"B": "Zm9vYmFy"}, "flag": {"BOOL": True}, "nothing": {"NULL": True}}
    record = lambda_record(None, new)
    assert matches({"dynamodb": {"NewImage": {"b": {"B": ["Zm9vYmFy"]}}}}, record)
    assert matches({"dynamodb": {"NewImage": {"flag": {"BOOL": [True]}}}}, record)
    assert not matches({"dynamodb": {"NewImage": {"flag": {"BOOL": [False]}}}}, record)
    assert not matches({"dynamodb": {"NewImage": {"flag": {"BOOL": ["true"]}}}}, record)
    assert matches({"dynamodb": {"NewImage": {"nothing": {"NULL": [True]}}}}, record)


# --- every operator, positive and negative -------------------------------------------------

EVENT: dict[str, Any] = {
    "s": "Hello-World",
    "empty": "",
    "nul": None,
    "t": True,
    "f": False,
    "i": 300,
    "fl": 300.0,
    "neg": -2.5,
    "big": 6e9,
    "num_s": "300",
    "ip": "10.0.0.33",
    "ip6": "2001:db8::1",
    "arr": ["a", "b", 3],
    "nested": [["x"], ["y", ["z"]]],
    "objs": [{"first": "John", "last": "Doe"}, {"first": "Anna", "last": "Smith"}],
    "m": {"k": "v", "deep": {"x": 1}},
    "star": "a*b",
    "dotted.key": "dot",
}


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        # exact strings (OR within the list), case-sensitive
        ({"s": ["Hello-World"]}, True),
        ({"s": ["nope", "Hello-World"]}, True),
        ({"s": ["hello-world"]}, False),
        ({"num_s": [300]}, False),  # a number never equals a string
        ({"i": ["300"]}, False),
        # numbers as written
        ({"i": [300]}, True),
        ({"i": [300.0]}, False),
        ({"fl": [300.0]}, True),
        ({"fl": [300]}, False),
        ('{"fl": [3.0e2]}', False),
        ('{"i": [3e2]}', False),
        ('{"fl": [{"numeric": ["=", 3e2]}]}', True),
        ({"neg": [-2.5]}, True),
        # literals
        ({"nul": [None]}, True),
        ({"s": [None]}, False),
        ({"missing": [None]}, False),
        ({"t": [True]}, True),
        ({"t": [False]}, False),
        ({"f": [False]}, True),
        ({"i": [True]}, False),
        ({"empty": [""]}, True),
        ({"s": [""]}, False),
        ({"nul": [""]}, False),
        # prefix / suffix (strings only)
        ({"s": [{"prefix": "Hello"}]}, True),
        ({"s": [{"prefix": "hello"}]}, False),
        ({"s": [{"prefix": ""}]}, True),
        ({"i": [{"prefix": "3"}]}, False),
        ({"s": [{"suffix": "World"}]}, True),
        ({"s": [{"suffix": "world"}]}, False),
        ({"i": [{"suffix": "0"}]}, False),
        ({"s": [{"prefix": {"equals-ignore-case": "hELLO"}}]}, True),
        ({"s": [{"prefix": {"equals-ignore-case": "world"}}]}, False),
        ({"s": [{"suffix": {"equals-ignore-case": "WORLD"}}]}, True),
        ({"s": [{"suffix": {"equals-ignore-case": "hello"}}]}, False),
        # equals-ignore-case
        ({"s": [{"equals-ignore-case": "hello-world"}]}, True),
        ({"s": [{"equals-ignore-case": "hello"}]}, False),
        ({"num_s": [{"equals-ignore-case": "300"}]}, True),
        ({"i": [{"equals-ignore-case": "300"}]}, False),
        # exactly
        ({"s": [{"exactly": "Hello-World"}]}, True),
        ({"s": [{"exactly": "Hello"}]}, False),
        # wildcard
        ({"s": [{"wildcard": "Hello*"}]}, True),
        ({"s": [{"wildcard": "*-*"}]}, True),
        ({"s": [{"wildcard": "H*o-W*d"}]}, True),
        ({"s": [{"wildcard": "*xyz*"}]}, False),
        ({"s": [{"wildcard": "Hello"}]}, False),
        ({"star": [{"wildcard": "a\\*b"}]}, True),
        ({"s": [{"wildcard": "Hello\\*"}]}, False),
        ({"i": [{"wildcard": "*"}]}, False),
        # anything-but: single string, list, numbers, forms
        ({"s": [{"anything-but": "other"}]}, True),
        ({"s": [{"anything-but": "Hello-World"}]}, False),
        ({"s": [{"anything-but": ["a", "Hello-World"]}]}, False),
        ({"s": [{"anything-but": ["a", "b"]}]}, True),
        ({"missing": [{"anything-but": "x"}]}, False),
        ({"i": [{"anything-but": 300}]}, False),
        ({"fl": [{"anything-but": 300}]}, False),  # numeric comparison, not as written
        ({"i": [{"anything-but": [100, 200]}]}, True),
        ({"num_s": [{"anything-but": 300}]}, True),  # another type is never excluded
        ({"i": [{"anything-but": "300"}]}, True),
        ({"nul": [{"anything-but": "x"}]}, True),
        ({"s": [{"anything-but": {"prefix": "Hell"}}]}, False),
        ({"s": [{"anything-but": {"prefix": "World"}}]}, True),
        ({"s": [{"anything-but": {"prefix": ["x", "Hell"]}}]}, False),
        ({"i": [{"anything-but": {"prefix": "3"}}]}, True),
        ({"s": [{"anything-but": {"suffix": "World"}}]}, False),
        ({"s": [{"anything-but": {"suffix": "Hello"}}]}, True),
        ({"s": [{"anything-but": {"equals-ignore-case": "HELLO-WORLD"}}]}, False),
        ({"s": [{"anything-but": {"equals-ignore-case": ["x", "y"]}}]}, True),
        ({"s": [{"anything-but": {"wildcard": "*World"}}]}, False),
        ({"s": [{"anything-but": {"wildcard": ["*xyz", "q*"]}}]}, True),
        # anything-but on an array: some element outside the set is enough
        ({"arr": [{"anything-but": "a"}]}, True),
        ({"arr": [{"anything-but": ["a", "b"]}]}, True),  # 3 is a number
        # numeric (JSON numbers only)
        ({"i": [{"numeric": [">", 0, "<=", 300]}]}, True),
        ({"i": [{"numeric": [">", 0, "<", 300]}]}, False),
        ({"i": [{"numeric": [">=", 300]}]}, True),
        ({"i": [{"numeric": [">", 300]}]}, False),
        ({"i": [{"numeric": ["<", 301]}]}, True),
        ({"i": [{"numeric": ["<=", 299.999999]}]}, False),
        ({"i": [{"numeric": ["=", 300]}]}, True),
        ({"fl": [{"numeric": ["=", 3.0e2]}]}, True),
        ({"i": [{"numeric": ["=", 300.0000001]}]}, True),  # 6 decimals of precision
        ({"i": [{"numeric": ["=", 300.000001]}]}, False),
        ({"neg": [{"numeric": [">=", -2.5, "<", 0]}]}, True),
        ({"num_s": [{"numeric": [">", 0]}]}, False),
        ({"t": [{"numeric": [">", 0]}]}, False),
        ({"big": [{"numeric": [">", 0]}]}, False),  # outside +-5e9: never numeric
        ({"arr": [{"numeric": ["=", 3]}]}, True),
        # exists (leaves only)
        ({"s": [{"exists": True}]}, True),
        ({"nul": [{"exists": True}]}, True),
        ({"missing": [{"exists": True}]}, False),
        ({"m": [{"exists": True}]}, False),
        ({"m": [{"exists": False}]}, True),
        ({"missing": [{"exists": False}]}, True),
        ({"s": [{"exists": False}]}, False),
        ({"objs": [{"exists": True}]}, False),
        ({"arr": [{"exists": True}]}, True),
        ({"m": {"k": [{"exists": True}]}}, True),
        ({"m": {"zz": [{"exists": False}]}}, True),
        ({"missing": {"deeper": [{"exists": False}]}}, True),
        ({"s": {"deeper": [{"exists": False}]}}, True),
        ({"missing": {"deeper": [{"exists": True}]}}, False),
        # exists mixed with values: either alternative
        ({"missing": ["x", {"exists": False}]}, True),
        ({"s": ["x", {"exists": False}]}, False),
        # cidr
        ({"ip": [{"cidr": "10.0.0.0/24"}]}, True),
        ({"ip": [{"cidr": "10.0.1.0/24"}]}, False),
        ({"ip6": [{"cidr": "2001:db8::/32"}]}, True),
        ({"s": [{"cidr": "10.0.0.0/8"}]}, False),
        # arrays in the event: any element
        ({"arr": ["b"]}, True),
        ({"arr": [3]}, True),
        ({"arr": ["c"]}, False),
        ({"nested": ["z"]}, True),
        ({"objs": {"first": ["Anna"]}}, True),
        ({"objs": {"first": ["Anna"], "last": ["Smith"]}}, True),
        ({"objs": {"first": ["Anna"], "last": ["Doe"]}}, False),  # array-consistent
        # nesting
        ({"m": {"k": ["v"]}}, True),
        ({"m": {"deep": {"x": [1]}}}, True),
        ({"m": {"deep": {"x": [2]}}}, False),
        ({"m": ["v"]}, False),
        ({"dotted.key": ["dot"]}, True),
        # $or
        ({"$or": [{"s": ["nope"]}, {"i": [300]}]}, True),
        ({"$or": [{"s": ["nope"]}, {"i": [301]}]}, False),
        ({"s": ["Hello-World"], "$or": [{"t": [True]}, {"f": [True]}]}, True),
        ({"s": ["nope"], "$or": [{"t": [True]}, {"f": [True]}]}, False),
        ({"m": {"$or": [{"k": ["x"]}, {"deep": {"x": [1]}}]}}, True),
        (
            {
                "$or": [
                    {"s": ["nope"]},
                    {"i": [300], "$or": [{"t": [False]}, {"f": [False]}]},
                ]
            },
            True,
        ),
        # several fields AND-ed
        ({"s": ["Hello-World"], "i": [300], "t": [True]}, True),
        ({"s": ["Hello-World"], "i": [301]}, False),
        # duplicate keys: last wins
        ('{"s": ["nope"], "s": ["Hello-World"]}', True),
        ('{"s": ["Hello-World"], "s": ["nope"]}', False),
    ],
)
def test_operator(pattern: Any, expected: bool) -> None:
    assert matches(pattern, EVENT) is expected


def test_absent_field_matches_only_exists_false() -> None:
    for value in (
        ["x"],
        [None],
        [""],
        [{"prefix": ""}],
        [{"anything-but": "x"}],
        [{"numeric": [">", 0]}],
        [{"exists": True}],
    ):
        assert not matches({"absent": value}, {"other": 1}), value
    assert matches({"absent": [{"exists": False}]}, {"other": 1})


def test_empty_array_in_event_has_no_leaves() -> None:
    record = {"a": [], "b": [{"c": 1}]}
    assert matches({"a": [{"exists": False}]}, record)
    assert not matches({"a": [{"exists": True}]}, record)
    assert not matches({"a": [{"anything-but": "x"}]}, record)
    assert matches({"a": {"c": [{"exists": False}]}}, record)
    assert matches({"b": {"c": [1]}}, record)
    assert not matches({"b": {"c": [{"exists": False}]}}, record)


def test_pattern_keeps_its_text() -> None:
    text = '{"eventName": ["INSERT"]}'
    assert compile_pattern(text).text == text


# --- invalid patterns ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "",
        "not json",
        '[{"eventName": ["INSERT"=123}]',
        "null",
        "[]",
        '"eventName"',
        "42",
        "{}",
        '{"eventName": "INSERT"}',
        '{"eventName": 1}',
        '{"eventName": null}',
        '{"eventName": []}',
        '{"eventName": [["INSERT"]]}',
        '{"dynamodb": {}}',
        '{"eventName": ["INSERT"]',
        '{"eventName": ["INSERT"]} trailing',
        '{"a": [NaN]}',
        '{"a": [Infinity]}',
        '{"a": [{}]}',
        '{"a": [{"prefix": "x", "suffix": "y"}]}',
        '{"a": [{"prefix": "x", "prefix": "y"}]}',
        '{"a": [{"unknown-op": "x"}]}',
        '{"a": [{"regex": "x"}]}',
        '{"a": [{"prefix": 1}]}',
        '{"a": [{"prefix": ["x"]}]}',
        '{"a": [{"prefix": {"suffix": "x"}}]}',
        '{"a": [{"prefix": {"equals-ignore-case": 1}}]}',
        '{"a": [{"suffix": null}]}',
        '{"a": [{"suffix": {}}]}',
        '{"a": [{"equals-ignore-case": 1}]}',
        '{"a": [{"equals-ignore-case": ["x"]}]}',
        '{"a": [{"exactly": 1}]}',
        '{"a": [{"exists": "true"}]}',
        '{"a": [{"exists": 1}]}',
        '{"a": [{"exists": null}]}',
        '{"a": [{"cidr": "not-an-ip"}]}',
        '{"a": [{"cidr": 10}]}',
        '{"a": [{"cidr": "10.0.0.0/33"}]}',
        '{"a": [{"wildcard": "a**b"}]}',
        '{"a": [{"wildcard": "a\\\\b"}]}',
        '{"a": [{"wildcard": 1}]}',
        '{"a": [{"numeric": 5}]}',
        '{"a": [{"numeric": []}]}',
        '{"a": [{"numeric": [">"]}]}',
        '{"a": [{"numeric": [">", "5"]}]}',
        '{"a": [{"numeric": ["!=", 5]}]}',
        '{"a": [{"numeric": [5, ">"]}]}',
        '{"a": [{"numeric": ["=", 5, "<", 6]}]}',
        '{"a": [{"numeric": ["<", 5, ">", 1]}]}',
        '{"a": [{"numeric": [">", 5, ">", 6]}]}',
        '{"a": [{"numeric": [">", 5, "<"]}]}',
        '{"a": [{"numeric": [">", 5, "<", 6, "<", 7]}]}',
        '{"a": [{"numeric": [">", 6, "<", 5]}]}',
        '{"a": [{"numeric": [">=", 5, "<=", 5]}]}',
        '{"a": [{"numeric": [">", 5e10]}]}',
        '{"a": [{"numeric": ["<", -5.1e9]}]}',
        '{"a": [{"numeric": {"a": 1}}]}',
        '{"a": [{"anything-but": []}]}',
        '{"a": [{"anything-but": null}]}',
        '{"a": [{"anything-but": true}]}',
        '{"a": [{"anything-but": ["x", 1]}]}',
        '{"a": [{"anything-but": [null]}]}',
        '{"a": [{"anything-but": [6e9]}]}',
        '{"a": [{"anything-but": {"numeric": [">", 1]}}]}',
        '{"a": [{"anything-but": {"prefix": ""}}]}',
        '{"a": [{"anything-but": {"suffix": ["x", ""]}}]}',
        '{"a": [{"anything-but": {"prefix": 1}}]}',
        '{"a": [{"anything-but": {"prefix": "x", "suffix": "y"}}]}',
        '{"a": [{"anything-but": {"equals-ignore-case": [1]}}]}',
        '{"a": [{"anything-but": {"wildcard": "a**"}}]}',
        '{"a": [{"anything-but": {}}]}',
        '{"$or": {"a": ["x"]}}',
        '{"$or": [{"a": ["x"]}]}',
        '{"$or": []}',
        '{"$or": [{"a": ["x"]}, "b"]}',
        '{"$or": [{"a": ["x"]}, {}]}',
        '{"$or": [{"a": ["x"]}, {"prefix": ["y"]}]}',
        '{"$or": [{"a": ["x"]}, {"b": {"numeric": ["y"]}}]}',
    ],
)
def test_invalid_pattern(text: str) -> None:
    invalid(text)


def test_reserved_names_are_fine_outside_or() -> None:
    assert matches({"prefix": ["x"], "numeric": [1]}, {"prefix": "x", "numeric": 1})


def test_non_string_pattern() -> None:
    with pytest.raises(FilterPatternError):
        compile_pattern(None)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "pattern",
    [
        {"a": [{"wildcard": "x*"}]},
        {"a": [{"anything-but": {"prefix": "x"}}]},
        {"a": [{"anything-but": {"suffix": "x"}}]},
        {"a": [{"anything-but": {"equals-ignore-case": "x"}}]},
        {"a": [{"anything-but": {"wildcard": "x*"}}]},
    ],
)
def test_extended_operators_switch(pattern: dict[str, Any]) -> None:
    compile_pattern(json.dumps(pattern))
    invalid(pattern, extended=False)


def test_core_operators_survive_the_switch() -> None:
    text = json.dumps(
        {
            "a": ["x", None, "", {"prefix": "p"}, {"suffix": "s"}],
            "b": [{"equals-ignore-case": "E"}, {"anything-but": ["u", "v"]}],
            "c": [{"numeric": [">", 0, "<=", 5]}, {"exists": True}],
            "d": [{"exists": False}, {"cidr": "10.0.0.0/8"}],
        }
    )
    assert isinstance(compile_pattern(text, extended=False), Pattern)


# --- FilterCriteria and its quota ----------------------------------------------------------


def criteria(*patterns: Any) -> dict[str, Any]:
    return {"Filters": [{"Pattern": json.dumps(p)} for p in patterns]}


def test_no_criteria_passes_everything() -> None:
    record = lambda_record(None, ID1)
    assert record is not None
    for empty in (None, {}, {"Filters": []}, {"Filters": None}):
        compiled = compile_criteria(empty)
        assert compiled == ()
        assert matches_any(compiled, record)


def test_filters_are_or_ed() -> None:
    compiled = compile_criteria(criteria({"eventName": ["REMOVE"]}, {"eventName": ["INSERT"]}))
    assert len(compiled) == 2
    insert, modify = writes_to_records([(None, ID1), (ID1, {**ID1, "a": {"S": "x"}})])
    assert matches_any(compiled, insert)
    assert not matches_any(compiled, modify)


def test_five_filters_allowed_sixth_rejected() -> None:
    five = criteria(*({"eventName": [f"E{i}"]} for i in range(MAX_FILTERS)))
    assert len(compile_criteria(five)) == 5
    assert matches_any(compile_criteria(five), {"eventName": "E4"})
    six = criteria(*({"eventName": [f"E{i}"]} for i in range(MAX_FILTERS + 1)))
    with pytest.raises(FilterQuotaError) as caught:
        compile_criteria(six)
    assert caught.value.code == "InvalidParameterValueException"
    assert "5" in caught.value.message
    assert len(compile_criteria(six, max_filters=10)) == 6


def test_pattern_length_limit() -> None:
    padding = " " * (4096 - len('{"a":["x"]}'))
    at_limit = '{"a":["x"]}' + padding
    assert len(at_limit) == 4096
    assert len(compile_criteria({"Filters": [{"Pattern": at_limit}]})) == 1
    over = at_limit + " "
    with pytest.raises(FilterPatternLengthError) as caught:
        compile_criteria({"Filters": [{"Pattern": '{"a":["x"]}'}, {"Pattern": over}]})
    assert caught.value.code == "ValidationException"
    assert "filterCriteria.filters.2.member.pattern" in caught.value.message
    assert "4096" in caught.value.message


@pytest.mark.parametrize(
    "bad",
    [
        {"Filters": [{}]},
        {"Filters": [{"Pattern": None}]},
        {"Filters": [{"Pattern": 5}]},
        {"Filters": ["x"]},
        {"Filters": "x"},
        {"Filters": [{"Pattern": '{"eventName": ["INSERT"]}'}, {"Pattern": "oops"}]},
    ],
)
def test_invalid_criteria(bad: dict[str, Any]) -> None:
    with pytest.raises(FilterPatternError) as caught:
        compile_criteria(bad)
    assert caught.value.message == INVALID_PATTERN_MESSAGE


def test_all_errors_share_a_base() -> None:
    for error in (FilterPatternError, FilterQuotaError, FilterPatternLengthError):
        assert issubclass(error, FilterCriteriaError)
        assert issubclass(error, ValueError)


# --- properties ----------------------------------------------------------------------------

names = st.text(alphabet=string.ascii_letters + "-_", min_size=1, max_size=6).filter(
    lambda name: name != "$or"
)
scalars = st.one_of(
    st.text(max_size=8),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.floats(allow_nan=False, allow_infinity=False, width=64),
    st.booleans(),
    st.none(),
)
json_values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(names, children, max_size=4)
    ),
    max_leaves=20,
)
records = st.dictionaries(names, json_values, min_size=1, max_size=5)


def leaf_paths(value: Any, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    """(path, leaf) pairs, arrays crushed out as the matcher sees them."""
    if isinstance(value, dict):
        return [pair for key, sub in value.items() for pair in leaf_paths(sub, (*path, key))]
    if isinstance(value, list):
        return [pair for element in value for pair in leaf_paths(element, path)]
    return [(path, value)] if path else []


def pattern_for(path: tuple[str, ...], values: list[Any]) -> dict[str, Any]:
    pattern: Any = values
    for key in reversed(path):
        pattern = {key: pattern}
    return dict(pattern)


@settings(max_examples=300, deadline=None)
@given(records, st.data())
def test_a_pattern_of_a_records_own_leaf_matches_it(record: dict[str, Any], data: Any) -> None:
    pairs = leaf_paths(record)
    if not pairs:
        return
    path, leaf = data.draw(st.sampled_from(pairs))
    exact = pattern_for(path, [leaf])
    assert matches(json.dumps(exact), record), exact
    assert matches(pattern_for(path, [{"exists": True}]), record)
    assert not matches(pattern_for(path, [{"exists": False}]), record)
    if isinstance(leaf, str):
        assert matches(pattern_for(path, [{"prefix": leaf[:2]}]), record)
        assert matches(pattern_for(path, [{"suffix": leaf[-2:]}]), record)
        assert matches(pattern_for(path, [{"equals-ignore-case": leaf.upper()}]), record)
    if isinstance(leaf, int | float) and not isinstance(leaf, bool) and abs(leaf) <= 5e9 - 1:
        assert matches(pattern_for(path, [{"numeric": [">=", leaf, "<=", leaf + 1]}]), record)
        assert matches(pattern_for(path, [{"numeric": ["=", leaf]}]), record)


@settings(max_examples=300, deadline=None)
@given(records, st.data())
def test_a_pattern_of_several_top_level_leaves_matches(record: dict[str, Any], data: Any) -> None:
    """Fields AND-ed: one leaf from each of several top-level scalar fields."""
    scalar_fields = {
        key: value for key, value in record.items() if not isinstance(value, dict | list)
    }
    if not scalar_fields:
        return
    chosen = data.draw(st.lists(st.sampled_from(sorted(scalar_fields)), min_size=1, unique=True))
    pattern = {key: [scalar_fields[key]] for key in chosen}
    assert matches(json.dumps(pattern), record)
    if all(isinstance(scalar_fields[key], str) for key in chosen):
        negated = {key: [{"anything-but": scalar_fields[key]}] for key in chosen}
        assert not matches(negated, record)
    numbers = [key for key in chosen if type(scalar_fields[key]) in (int, float)]
    for key in numbers:
        value = scalar_fields[key]
        if abs(value) <= 5e9 - 1:
            assert not matches({key: [{"numeric": [">", value + 1]}]}, record)
            assert not matches({key: [{"numeric": ["<", value - 1]}]}, record)
            assert not matches({key: [{"anything-but": value}]}, record)


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=60))
def test_arbitrary_text_compiles_or_is_refused_cleanly(text: str) -> None:
    try:
        pattern = compile_pattern(text)
    except FilterPatternError as error:
        assert error.message == INVALID_PATTERN_MESSAGE
    else:
        assert isinstance(pattern.matches({"a": "x"}), bool)


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_arbitrary_json_compiles_or_is_refused_cleanly(value: Any) -> None:
    try:
        pattern = compile_pattern(json.dumps(value))
    except FilterPatternError:
        return
    assert isinstance(pattern.matches({"a": value}), bool)


def test_exists_false_looks_into_every_array_element() -> None:
    """Absence is checked against the whole record: another element having the field is
    enough to fail `exists: false`, while positive matches stay bound to one element."""
    record = {"A": [{}, {"A": None}], "B": [1, {"c": 2}], "C": [{"x": 1}, {"y": 2}]}
    assert not matches({"A": {"A": [{"exists": False}]}}, record)
    assert not matches({"B": {"c": [{"exists": False}]}}, record)
    assert matches({"B": {"d": [{"exists": False}]}}, record)
    assert not matches({"C": {"x": [1], "y": [{"exists": False}]}}, record)
    assert matches({"C": {"x": [1], "z": [{"exists": False}]}}, record)
    assert matches({"A": {"A": [None, {"exists": False}]}}, record)
    assert matches({"s": ["x", {"exists": False}]}, {"s": ["y", "x"]})
    assert not matches({"s": ["z", {"exists": False}]}, {"s": ["y", "x"]})
