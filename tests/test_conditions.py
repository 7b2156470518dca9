"""ConditionExpression on PutItem / UpdateItem / DeleteItem through boto3 and the real
server: every comparator and function, precedence, type rules, ConditionalCheckFailed
with ReturnValuesOnConditionCheckFailure, and the condition errors (SPEC 5.6, 5.7)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError
from conftest import raw_call

KEY = {"pk": {"S": "k"}}
ITEM = {
    **KEY,
    "n": {"N": "5"},
    "s": {"S": "hello world"},
    "b": {"B": b"\x01\x02\x03"},
    "ss": {"SS": ["a", "b"]},
    "ns": {"NS": ["1", "2", "3"]},
    "bs": {"BS": [b"\x01", b"\x02"]},
    "l": {"L": [{"S": "x"}, {"N": "1"}, {"M": {"q": {"S": "r"}}}]},
    "m": {"M": {"deep": {"N": "7"}, "lst": {"L": [{"N": "0"}, {"N": "10"}]}}},
    "t": {"BOOL": True},
    "z": {"NULL": True},
    "blank": {"S": ""},
}


@pytest.fixture
def table(ddb: Any, make_table: Callable[..., str]) -> str:
    name = make_table()
    ddb.put_item(TableName=name, Item=ITEM)
    return name


def _arguments(values: dict[str, Any] | None, names: dict[str, str] | None) -> dict[str, Any]:
    kwargs: dict[str, Any] = {}
    if values:
        kwargs["ExpressionAttributeValues"] = values
    if names:
        kwargs["ExpressionAttributeNames"] = names
    return kwargs


def holds(
    ddb: Any,
    table: str,
    condition: str,
    values: dict[str, Any] | None = None,
    names: dict[str, str] | None = None,
    operation: str = "update",
) -> bool:
    """Whether `condition` holds for ITEM, tried through `operation` (which restores it)."""
    kwargs = _arguments(values, names)
    try:
        if operation == "update":
            ddb.update_item(TableName=table, Key=KEY, ConditionExpression=condition, **kwargs)
        elif operation == "put":
            ddb.put_item(TableName=table, Item=ITEM, ConditionExpression=condition, **kwargs)
        else:
            ddb.delete_item(TableName=table, Key=KEY, ConditionExpression=condition, **kwargs)
            ddb.put_item(TableName=table, Item=ITEM)
    except ddb.exceptions.ConditionalCheckFailedException:
        assert ddb.get_item(TableName=table, Key=KEY)["Item"] == ITEM
        return False
    return True


def error_of(
    ddb: Any,
    table: str,
    condition: str,
    values: dict[str, Any] | None = None,
    names: dict[str, str] | None = None,
) -> str:
    with pytest.raises(ClientError) as info:
        ddb.update_item(
            TableName=table, Key=KEY, ConditionExpression=condition, **_arguments(values, names)
        )
    assert info.value.response["Error"]["Code"] == "ValidationException"
    return str(info.value.response["Error"]["Message"])


def N(value: int | str) -> dict[str, str]:
    return {"N": str(value)}


def S(value: str) -> dict[str, str]:
    return {"S": value}


# -- comparators ----------------------------------------------------------------------------

COMPARISONS = [
    # (condition, values, expected)
    ("n = :v", {":v": N("5.0")}, True),
    ("n = :v", {":v": N(6)}, False),
    ("n <> :v", {":v": N(6)}, True),
    ("n <> :v", {":v": N(5)}, False),
    ("n < :v", {":v": N(6)}, True),
    ("n < :v", {":v": N(5)}, False),
    ("n <= :v", {":v": N(5)}, True),
    ("n <= :v", {":v": N("4.99")}, False),
    ("n > :v", {":v": N(-10)}, True),
    ("n > :v", {":v": N(5)}, False),
    ("n >= :v", {":v": N(5)}, True),
    ("n >= :v", {":v": N(50)}, False),
    ("s < :v", {":v": S("hellp")}, True),
    ("s > :v", {":v": S("Hello")}, True),  # code-point order: 'h' > 'H'
    ("b < :v", {":v": {"B": b"\x01\x03"}}, True),
    ("b > :v", {":v": {"B": b"\x01\x02"}}, True),
    ("ss = :v", {":v": {"SS": ["b", "a"]}}, True),
    ("ns = :v", {":v": {"NS": ["3", "2.0", "1"]}}, True),
    ("l = :v", {":v": ITEM["l"]}, True),
    ("m = :v", {":v": {"M": {"lst": ITEM["m"]["M"]["lst"], "deep": N(7)}}}, True),
    ("t = :v", {":v": {"BOOL": True}}, True),
    ("z = :v", {":v": {"NULL": True}}, True),
    ("blank = :v", {":v": S("")}, True),
    ("m.deep = :v", {":v": N(7)}, True),
    ("m.lst[1] > m.deep", None, True),
    ("l[2].q = :v", {":v": S("r")}, True),
    ("#weird = :v", {":v": N(5)}, True),
    # different types: false, never an error
    ("n = :v", {":v": S("5")}, False),
    ("n <> :v", {":v": S("5")}, True),
    ("n < :v", {":v": S("9")}, False),
    ("n >= :v", {":v": S("0")}, False),
    ("s > n", None, False),
    ("b < :v", {":v": S("x")}, False),
    # missing attributes
    ("absent = :v", {":v": N(5)}, False),
    ("absent <> :v", {":v": N(5)}, True),
    ("absent < :v", {":v": N(5)}, False),
    ("m.nope.deeper = :v", {":v": N(5)}, False),
    ("l[10] = :v", {":v": N(5)}, False),
    ("n[0] = :v", {":v": N(5)}, False),
]


@pytest.mark.parametrize(("condition", "values", "expected"), COMPARISONS)
def test_comparisons(
    ddb: Any, table: str, condition: str, values: dict[str, Any] | None, expected: bool
) -> None:
    names = {"#weird": "n"} if "#weird" in condition else None
    assert holds(ddb, table, condition, values, names) is expected


@pytest.mark.parametrize("operation", ["put", "update", "delete"])
def test_every_write_checks_its_condition(ddb: Any, table: str, operation: str) -> None:
    assert holds(ddb, table, "n = :v", {":v": N(5)}, operation=operation)
    assert not holds(ddb, table, "n = :v", {":v": N(4)}, operation=operation)
    assert holds(ddb, table, "attribute_exists(pk)", operation=operation)
    assert not holds(ddb, table, "attribute_not_exists(pk)", operation=operation)


def test_conditions_on_a_missing_item(ddb: Any, table: str) -> None:
    other = {"pk": S("other")}
    with pytest.raises(ddb.exceptions.ConditionalCheckFailedException):
        ddb.update_item(
            TableName=table,
            Key=other,
            UpdateExpression="SET a = :v",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues={":v": N(1)},
        )
    with pytest.raises(ddb.exceptions.ConditionalCheckFailedException):
        ddb.delete_item(TableName=table, Key=other, ConditionExpression="attribute_exists(pk)")
    assert "Item" not in ddb.get_item(TableName=table, Key=other)
    ddb.put_item(
        TableName=table, Item={**other, "a": N(1)}, ConditionExpression="attribute_not_exists(pk)"
    )
    ddb.update_item(
        TableName=table,
        Key={"pk": S("third")},
        UpdateExpression="SET a = :v",
        ConditionExpression="attribute_not_exists(pk) AND NOT a = :v",
        ExpressionAttributeValues={":v": N(1)},
    )
    assert ddb.get_item(TableName=table, Key={"pk": S("third")})["Item"]["a"] == N(1)


# -- BETWEEN / IN ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("condition", "values", "expected"),
    [
        ("n BETWEEN :a AND :b", {":a": N(1), ":b": N(9)}, True),
        ("n BETWEEN :a AND :b", {":a": N(5), ":b": N(5)}, True),
        ("n BETWEEN :a AND :b", {":a": N(6), ":b": N(9)}, False),
        ("s BETWEEN :a AND :b", {":a": S("h"), ":b": S("i")}, True),
        ("b BETWEEN :a AND :b", {":a": {"B": b"\x01"}, ":b": {"B": b"\x02"}}, True),
        ("n BETWEEN :a AND :b", {":a": S("a"), ":b": S("z")}, False),
        ("absent BETWEEN :a AND :b", {":a": N(1), ":b": N(9)}, False),
        ("n between :a and :b", {":a": N(1), ":b": N(9)}, True),
        ("n IN (:a, :b, :c)", {":a": N(1), ":b": N(5), ":c": S("5")}, True),
        ("n IN (:a)", {":a": S("5")}, False),
        ("s IN (:a, :b)", {":a": S("hello"), ":b": S("hello world")}, True),
        ("absent IN (:a)", {":a": N(5)}, False),
        ("ss IN (:a)", {":a": {"SS": ["b", "a"]}}, True),
        ("n IN (m.deep, :a)", {":a": N(5)}, True),
        ("n in (:a)", {":a": N(5)}, True),
    ],
)
def test_between_and_in(
    ddb: Any, table: str, condition: str, values: dict[str, Any], expected: bool
) -> None:
    assert holds(ddb, table, condition, values) is expected


def test_in_accepts_up_to_100_operands(ddb: Any, table: str) -> None:
    values = {f":v{i}": N(i) for i in range(100)}
    assert holds(ddb, table, f"n IN ({', '.join(values)})", values)
    values[":v100"] = N(100)
    assert error_of(ddb, table, f"n IN ({', '.join(values)})", values) == (
        "Invalid ConditionExpression: The IN operator is provided with too many operands; "
        "number of operands: 101"
    )


def test_between_bounds_errors(ddb: Any, table: str) -> None:
    assert error_of(ddb, table, "n BETWEEN :a AND :b", {":a": N(9), ":b": N(1)}) == (
        "Invalid ConditionExpression: The BETWEEN operator requires upper bound to be greater "
        "than or equal to lower bound; lower bound operand: AttributeValue: {N:9}, upper bound "
        "operand: AttributeValue: {N:1}"
    )
    assert error_of(ddb, table, "n BETWEEN :a AND :b", {":a": N(1), ":b": S("x")}) == (
        "Invalid ConditionExpression: The BETWEEN operator requires same data type for lower "
        "and upper bounds; lower bound operand: AttributeValue: {N:1}, upper bound operand: "
        "AttributeValue: {S:x}"
    )


# -- AND / OR / NOT -------------------------------------------------------------------------

TRUE = "n = :five"
FALSE = "n = :six"
LOGIC_VALUES = {":five": N(5), ":six": N(6)}


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        (f"{TRUE} AND {TRUE}", True),
        (f"{TRUE} AND {FALSE}", False),
        (f"{FALSE} OR {TRUE}", True),
        (f"{FALSE} OR {FALSE}", False),
        (f"NOT {FALSE}", True),
        (f"NOT {TRUE}", False),
        (f"NOT NOT {TRUE}", True),
        # AND binds tighter than OR
        (f"{TRUE} OR {TRUE} AND {FALSE}", True),
        (f"{FALSE} AND {FALSE} OR {TRUE}", True),
        (f"({TRUE} OR {TRUE}) AND {FALSE}", False),
        (f"{FALSE} AND ({FALSE} OR {TRUE})", False),
        # NOT binds tighter than AND / OR
        (f"NOT {TRUE} AND {FALSE}", False),
        (f"NOT {FALSE} AND {TRUE}", True),
        (f"NOT ({TRUE} AND {FALSE})", True),
        (f"NOT {TRUE} OR {TRUE}", True),
        (f"NOT ({TRUE} OR {TRUE})", False),
        (f"({TRUE})", True),
        (f"(({TRUE}) AND ({FALSE})) OR ({TRUE})", True),
        (f"{TRUE} and {TRUE} or {FALSE}", True),
        (f"not {TRUE}", False),
    ],
)
def test_logic_and_precedence(ddb: Any, table: str, condition: str, expected: bool) -> None:
    values = {k: v for k, v in LOGIC_VALUES.items() if k in condition}
    assert holds(ddb, table, condition, values) is expected


# -- functions ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("condition", "values", "expected"),
    [
        ("attribute_exists(n)", None, True),
        ("attribute_exists(absent)", None, False),
        ("attribute_exists(m.deep)", None, True),
        ("attribute_exists(m.lst[1])", None, True),
        ("attribute_exists(m.lst[2])", None, False),
        ("attribute_exists(z)", None, True),  # NULL exists
        ("attribute_not_exists(absent)", None, True),
        ("attribute_not_exists(l[2].q)", None, False),
        ("attribute_type(n, :t)", {":t": S("N")}, True),
        ("attribute_type(n, :t)", {":t": S("S")}, False),
        ("attribute_type(ss, :t)", {":t": S("SS")}, True),
        ("attribute_type(ns, :t)", {":t": S("NS")}, True),
        ("attribute_type(bs, :t)", {":t": S("BS")}, True),
        ("attribute_type(b, :t)", {":t": S("B")}, True),
        ("attribute_type(l, :t)", {":t": S("L")}, True),
        ("attribute_type(m, :t)", {":t": S("M")}, True),
        ("attribute_type(t, :t)", {":t": S("BOOL")}, True),
        ("attribute_type(z, :t)", {":t": S("NULL")}, True),
        ("attribute_type(absent, :t)", {":t": S("NULL")}, False),
        ("begins_with(s, :p)", {":p": S("hello")}, True),
        ("begins_with(s, :p)", {":p": S("world")}, False),
        ("begins_with(s, :p)", {":p": S("")}, True),
        ("begins_with(b, :p)", {":p": {"B": b"\x01\x02"}}, True),
        ("begins_with(b, :p)", {":p": {"B": b"\x02"}}, False),
        ("begins_with(n, :p)", {":p": S("5")}, False),
        ("begins_with(absent, :p)", {":p": S("h")}, False),
        ("contains(s, :v)", {":v": S("lo wo")}, True),
        ("contains(s, :v)", {":v": S("xyz")}, False),
        ("contains(b, :v)", {":v": {"B": b"\x02\x03"}}, True),
        ("contains(ss, :v)", {":v": S("a")}, True),
        ("contains(ss, :v)", {":v": S("c")}, False),
        ("contains(ns, :v)", {":v": N("2.0")}, True),
        ("contains(ns, :v)", {":v": S("2")}, False),
        ("contains(bs, :v)", {":v": {"B": b"\x02"}}, True),
        ("contains(l, :v)", {":v": S("x")}, True),
        ("contains(l, :v)", {":v": {"M": {"q": S("r")}}}, True),
        ("contains(l, :v)", {":v": N(2)}, False),
        ("contains(m, :v)", {":v": S("deep")}, False),
        ("contains(n, :v)", {":v": N(5)}, False),
        ("contains(absent, :v)", {":v": S("a")}, False),
        ("contains(s, m.nope)", None, False),
        ("size(s) = :v", {":v": N(11)}, True),
        ("size(blank) = :v", {":v": N(0)}, True),
        ("size(b) = :v", {":v": N(3)}, True),
        ("size(ss) = :v", {":v": N(2)}, True),
        ("size(ns) = :v", {":v": N(3)}, True),
        ("size(bs) = :v", {":v": N(2)}, True),
        ("size(l) = :v", {":v": N(3)}, True),
        ("size(m) = :v", {":v": N(2)}, True),
        ("size(m.lst) < size(l)", None, True),
        ("size(l) BETWEEN :a AND :b", {":a": N(1), ":b": N(3)}, True),
        ("size(l) IN (:a, :b)", {":a": N(1), ":b": N(3)}, True),
        ("size(n) = :v", {":v": N(1)}, False),
        ("size(n) <> :v", {":v": N(1)}, True),
        ("size(t) >= :v", {":v": N(0)}, False),
        ("size(absent) >= :v", {":v": N(0)}, False),
        ("size(s) > n", None, True),
    ],
)
def test_functions(
    ddb: Any, table: str, condition: str, values: dict[str, Any] | None, expected: bool
) -> None:
    assert holds(ddb, table, condition, values) is expected


def test_size_of_a_unicode_string(ddb: Any, table: str) -> None:
    ddb.update_item(
        TableName=table,
        Key=KEY,
        UpdateExpression="SET u = :u",
        ExpressionAttributeValues={":u": S("héé")},
    )
    ddb.update_item(
        TableName=table,
        Key=KEY,
        UpdateExpression="REMOVE u",
        ConditionExpression="size(u) = :three",
        ExpressionAttributeValues={":three": N(3)},
    )


# -- ConditionalCheckFailedException ----------------------------------------------------------


@pytest.mark.parametrize("operation", ["put", "update", "delete"])
def test_failed_condition_returns_the_item_for_all_old(
    ddb: Any, table: str, operation: str
) -> None:
    common = {
        "TableName": table,
        "ConditionExpression": "attribute_not_exists(pk)",
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }
    with pytest.raises(ddb.exceptions.ConditionalCheckFailedException) as info:
        if operation == "put":
            ddb.put_item(Item={**KEY, "other": N(1)}, **common)
        elif operation == "update":
            ddb.update_item(Key=KEY, UpdateExpression="REMOVE n", **common)
        else:
            ddb.delete_item(Key=KEY, **common)
    response = info.value.response
    assert response["Item"] == ITEM
    assert response["Error"]["Message"] == "The conditional request failed"
    assert ddb.get_item(TableName=table, Key=KEY)["Item"] == ITEM


@pytest.mark.parametrize("operation", ["put", "update", "delete"])
def test_failed_condition_without_item(ddb: Any, table: str, operation: str) -> None:
    other = {"pk": S("nobody")}
    common = {
        "TableName": table,
        "ConditionExpression": "attribute_exists(pk)",
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }
    with pytest.raises(ddb.exceptions.ConditionalCheckFailedException) as info:
        if operation == "put":
            ddb.put_item(Item=other, **common)
        elif operation == "update":
            ddb.update_item(Key=other, **common)
        else:
            ddb.delete_item(Key=other, **common)
    assert "Item" not in info.value.response
    assert info.value.response["Error"]["Message"] == "The conditional request failed"


def test_failed_condition_wire_shape(endpoint: str, table: str) -> None:
    target = "DynamoDB_20120810.DeleteItem"
    body = {
        "TableName": table,
        "Key": KEY,
        "ConditionExpression": "attribute_not_exists(pk)",
    }
    status, _, payload = raw_call(endpoint, target, json.dumps(body))
    assert status == 400
    assert json.loads(payload) == {
        "__type": "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException",
        "message": "The conditional request failed",
    }
    body["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
    status, _, payload = raw_call(endpoint, target, json.dumps(body))
    parsed = json.loads(payload)
    assert status == 400
    assert parsed["__type"].endswith("#ConditionalCheckFailedException")
    assert parsed["Message"] == "The conditional request failed"
    assert parsed["Item"]["pk"] == KEY["pk"]
    assert parsed["Item"]["b"] == {"B": "AQID"}


def test_return_values_on_failure_none(ddb: Any, table: str) -> None:
    with pytest.raises(ddb.exceptions.ConditionalCheckFailedException) as info:
        ddb.delete_item(
            TableName=table,
            Key=KEY,
            ConditionExpression="attribute_not_exists(pk)",
            ReturnValuesOnConditionCheckFailure="NONE",
        )
    assert "Item" not in info.value.response


# -- condition errors -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        ("", "The expression can not be empty;"),
        (" ", "The expression can not be empty;"),
        ("attribute_exists(", 'Syntax error; token: "<EOF>", near: "("'),
        ("n = ", 'Syntax error; token: "<EOF>", near: "= "'),
        ("n == :v", 'Syntax error; token: "=", near: "== :v"'),
        ("n = :v AND", 'Syntax error; token: "<EOF>", near: "AND"'),
        ("n BETWEEN :v", 'Syntax error; token: "<EOF>", near: ":v"'),
        ("n IN :v", 'Syntax error; token: ":v", near: "IN :v"'),
        ("n != :v", 'Syntax error; token: "!", near: "n !="'),
        ("(n = :v", 'Syntax error; token: "<EOF>", near: ":v"'),
        ("n = :v)", 'Syntax error; token: ")", near: ":v)"'),
        ("n", 'Syntax error; token: "<EOF>", near: "n"'),
        ("((n = :v))", "The expression has redundant parentheses;"),
        ("name = :v", "Attribute name is a reserved keyword; reserved keyword: name"),
        ("m.size = :v", "Attribute name is a reserved keyword; reserved keyword: size"),
        ("nope(n)", "Invalid function name; function: nope"),
        ("Attribute_Exists(n)", "Invalid function name; function: Attribute_Exists"),
        (
            "if_not_exists(n, :v)",
            "The function is not allowed to be used this way in an expression; "
            "function: if_not_exists",
        ),
        (
            "size(n)",
            "The function is not allowed to be used this way in an expression; function: size",
        ),
        (
            "attribute_exists(n) = :v",
            "The function is not allowed to be used this way in an expression; "
            "function: attribute_exists",
        ),
        (
            "attribute_exists(:v)",
            "Operator or function requires a document path; operator or function: attribute_exists",
        ),
        (
            "begins_with(s)",
            "Incorrect number of operands for operator or function; operator or function: "
            "begins_with, number of operands: 1",
        ),
        (
            "contains(s, s)",
            "The first operand must be distinct from the remaining operands for this operator "
            "or function; operator: contains, first operand: [s]",
        ),
        (
            "m.deep = m.deep",
            "The first operand must be distinct from the remaining operands for this operator "
            "or function; operator: =, first operand: [m, deep]",
        ),
        (
            "n IN (:v, n)",
            "The first operand must be distinct from the remaining operands for this operator "
            "or function; operator: IN, first operand: [n]",
        ),
        (
            "attribute_type(n, :bad)",
            "Invalid attribute type name found; type: X, valid types: "
            "{ B,NULL,SS,BOOL,L,BS,N,NS,S,M }",
        ),
        (
            "attribute_type(n, :v)",
            "Incorrect operand type for operator or function; operator or function: "
            "attribute_type, operand type: N",
        ),
        (
            "begins_with(s, :v)",
            "Incorrect operand type for operator or function; operator or function: "
            "begins_with, operand type: N",
        ),
        (
            "n < :l",
            "Incorrect operand type for operator or function; operator or function: <, "
            "operand type: L",
        ),
        (
            "size(:v) = :v",
            "Incorrect operand type for operator or function; operator or function: size, "
            "operand type: N",
        ),
    ],
)
def test_condition_errors(ddb: Any, table: str, condition: str, message: str) -> None:
    values: dict[str, Any] = {}
    for placeholder, value in ((":v", N(1)), (":bad", S("X")), (":l", {"L": []})):
        if placeholder in condition:
            values[placeholder] = value
    assert error_of(ddb, table, condition, values) == f"Invalid ConditionExpression: {message}"


def test_condition_placeholder_errors(ddb: Any, table: str) -> None:
    assert error_of(ddb, table, "n = :v", {":w": N(1)}) == (
        "Invalid ConditionExpression: An expression attribute value used in expression is not "
        "defined; attribute value: :v"
    )
    assert error_of(ddb, table, "#n = :v", {":v": N(1)}) == (
        "Invalid ConditionExpression: An expression attribute name used in the document path "
        "is not defined; attribute name: #n"
    )
    assert error_of(ddb, table, "n = :v", {":v": N(1), ":x": N(2)}) == (
        "Value provided in ExpressionAttributeValues unused in expressions: keys: {:x}"
    )
    assert error_of(ddb, table, "n = :v", {":v": N(1)}, {"#x": "x"}) == (
        "Value provided in ExpressionAttributeNames unused in expressions: keys: {#x}"
    )


def test_static_errors_win_over_a_missing_item(ddb: Any, table: str) -> None:
    with pytest.raises(ClientError) as info:
        ddb.delete_item(
            TableName=table,
            Key={"pk": S("nobody")},
            ConditionExpression="name = :v",
            ExpressionAttributeValues={":v": N(1)},
        )
    assert info.value.response["Error"]["Code"] == "ValidationException"


def test_too_many_operators(ddb: Any, table: str) -> None:
    condition = " AND ".join(["n = :v"] * 151)  # 151 comparisons + 150 ANDs = 301
    assert error_of(ddb, table, condition, {":v": N(5)}) == (
        "Invalid ConditionExpression: The expression contains too many operators; "
        "operator count: 301, limit: 300"
    )
    assert holds(ddb, table, " AND ".join(["n = :v"] * 150), {":v": N(5)})


def test_expression_size_limit(ddb: Any, table: str) -> None:
    condition = "attribute_exists(" + "a" * 4100 + ")"
    assert error_of(ddb, table, condition) == (
        "Invalid ConditionExpression: Expression size has exceeded the maximum allowed size; "
        f"expression size: {len(condition)}, limit: 4096"
    )
