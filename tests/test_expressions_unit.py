"""Unit tests for the expression language (emulator.model.expressions).

Pure domain tests: no server. The moto differential test at the end runs the same
UpdateItem expressions in-process against moto and compares the resulting items.
"""

from __future__ import annotations

import base64
import contextlib
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emulator.errors import ValidationException
from emulator.model.expressions import (
    ExpressionContext,
    Path,
    apply_projection,
    apply_update,
    evaluate_condition,
    parse_condition,
    parse_key_condition,
    parse_projection,
    parse_update,
)

AV = dict[str, Any]


OVERFLOW = (
    "Number overflow. Attempting to store a number with magnitude larger than supported range"
)
KEY_UPDATE = (
    "One or more parameter values were invalid: Cannot update attribute pk. "
    "This attribute is part of the key"
)
KEY_NESTED = (
    "Key attributes must be scalars; list random access '[]' and map lookup '.' are not "
    "allowed: Key: pk"
)
KEY_TYPE = (
    "One or more parameter values were invalid: Condition parameter type does not match schema type"
)
KEY_BETWEEN = (
    "Invalid KeyConditionExpression: The BETWEEN operator requires upper bound to be greater "
    "than or equal to lower bound; lower bound operand: AttributeValue: {N:5}, upper bound "
    "operand: AttributeValue: {N:1}"
)
KEY_UNDEFINED = (
    "Invalid KeyConditionExpression: An expression attribute value used in expression is not "
    "defined; attribute value: :undefined"
)
KEY_NESTED_CONDITION = (
    "Invalid KeyConditionExpression: KeyConditionExpressions cannot have conditions on nested "
    "attributes"
)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def error_of(fn: Any, *args: Any, **kwargs: Any) -> str:
    with pytest.raises(ValidationException) as info:
        fn(*args, **kwargs)
    assert info.value.message is not None
    return info.value.message


ITEM: dict[str, AV] = {
    "pk": {"S": "key"},
    "name": {"S": "hello world"},
    "n": {"N": "1.5"},
    "zero": {"N": "0"},
    "t": {"BOOL": True},
    "z": {"NULL": True},
    "b": {"B": b64(b"\x01\x02\x03")},
    "ss": {"SS": ["a", "b"]},
    "ns": {"NS": ["1", "2.5"]},
    "bs": {"BS": [b64(b"\x01"), b64(b"\x02")]},
    "l": {"L": [{"S": "x"}, {"N": "2"}, {"M": {"deep": {"S": "d"}}}]},
    "m": {"M": {"a": {"N": "1"}, "b": {"M": {"c": {"S": "cc"}}}, "lst": {"L": [{"N": "7"}]}}},
    "emoji": {"S": "h\u00e9\U0001f600"},
}

VALUES: dict[str, AV] = {
    ":s": {"S": "hello world"},
    ":hello": {"S": "hello"},
    ":world": {"S": "world"},
    ":x": {"S": "x"},
    ":a": {"S": "a"},
    ":c": {"S": "c"},
    ":n": {"N": "1.50"},
    ":one": {"N": "1"},
    ":two": {"N": "2"},
    ":three": {"N": "3"},
    ":big": {"N": "100"},
    ":t": {"BOOL": True},
    ":null": {"NULL": True},
    ":b": {"B": b64(b"\x01\x02\x03")},
    ":b1": {"B": b64(b"\x01")},
    ":b2": {"B": b64(b"\x02\x03")},
    ":typeS": {"S": "S"},
    ":typeN": {"S": "N"},
    ":typeM": {"S": "M"},
    ":typeL": {"S": "L"},
    ":typeSS": {"S": "SS"},
    ":typeNULL": {"S": "NULL"},
    ":typeBOOL": {"S": "BOOL"},
    ":ss": {"SS": ["b", "a"]},
    ":lst": {"L": [{"S": "x"}, {"N": "2"}, {"M": {"deep": {"S": "d"}}}]},
    ":map": {"M": {"deep": {"S": "d"}}},
}
NAMES = {"#name": "name", "#m": "m", "#a": "a", "#dotted": "m.a"}


def check(expression: str, item: dict[str, AV] | None = ITEM, kind: str | None = None) -> bool:
    """Evaluate with the shared names/values (unused ones are fine here)."""
    ctx = ExpressionContext(NAMES, VALUES)
    node = parse_condition(expression, kind or "ConditionExpression")
    return evaluate_condition(node, item, ctx, kind)


# ------------------------------------------------------------------- syntax errors


@pytest.mark.parametrize(
    ("kind", "text", "message"),
    [
        (
            "UpdateExpression",
            "INVALID SYNTAX",
            'Invalid UpdateExpression: Syntax error; token: "INVALID", near: "INVALID SYNTAX"',
        ),
        (
            "ConditionExpression",
            "(",
            'Invalid ConditionExpression: Syntax error; token: "<EOF>", near: "("',
        ),
        (
            "ProjectionExpression",
            "!!",
            'Invalid ProjectionExpression: Syntax error; token: "!", near: "!!"',
        ),
        (
            "ConditionExpression",
            "user-id = :v",
            'Invalid ConditionExpression: Syntax error; token: "-", near: "user-id"',
        ),
        (
            "FilterExpression",
            "a = :v AND",
            'Invalid FilterExpression: Syntax error; token: "<EOF>", near: "AND"',
        ),
        (
            "ConditionExpression",
            "a",
            'Invalid ConditionExpression: Syntax error; token: "<EOF>", near: "a"',
        ),
        (
            "ConditionExpression",
            "a == :v",
            'Invalid ConditionExpression: Syntax error; token: "=", near: "== :v"',
        ),
        (
            "ConditionExpression",
            "a != :v",
            'Invalid ConditionExpression: Syntax error; token: "!", near: "a !="',
        ),
        (
            "ConditionExpression",
            "a IN :v",
            'Invalid ConditionExpression: Syntax error; token: ":v", near: "IN :v"',
        ),
        (
            "ConditionExpression",
            "a BETWEEN :a OR :b",
            'Invalid ConditionExpression: Syntax error; token: "OR", near: ":a OR :b"',
        ),
        (
            "ConditionExpression",
            "a[x] = :v",
            'Invalid ConditionExpression: Syntax error; token: "x", near: "[x]"',
        ),
        (
            "ConditionExpression",
            "a[-1] = :v",
            'Invalid ConditionExpression: Syntax error; token: "-", near: "[-1"',
        ),
        (
            "ConditionExpression",
            "a = :v OR AND b = :w",
            'Invalid ConditionExpression: Syntax error; token: "AND", near: "OR AND b"',
        ),
        (
            "ConditionExpression",
            "# = :v",
            'Invalid ConditionExpression: Syntax error; token: "#", near: "# ="',
        ),
        (
            "UpdateExpression",
            "SET a = :v,",
            'Invalid UpdateExpression: Syntax error; token: "<EOF>", near: ","',
        ),
        (
            "UpdateExpression",
            "SET a :v",
            'Invalid UpdateExpression: Syntax error; token: ":v", near: "a :v"',
        ),
        (
            "UpdateExpression",
            "SET a = b + c + d",
            'Invalid UpdateExpression: Syntax error; token: "+", near: "c + d"',
        ),
        (
            "UpdateExpression",
            "ADD a b",
            'Invalid UpdateExpression: Syntax error; token: "b", near: "a b"',
        ),
        (
            "UpdateExpression",
            "REMOVE a = :v",
            'Invalid UpdateExpression: Syntax error; token: "=", near: "a = :v"',
        ),
        (
            "UpdateExpression",
            "SET remove = :v",
            'Invalid UpdateExpression: Syntax error; token: "remove", near: "SET remove ="',
        ),
        (
            "ProjectionExpression",
            "a, :v",
            'Invalid ProjectionExpression: Syntax error; token: ":v", near: ", :v"',
        ),
        (
            "ProjectionExpression",
            "a,,b",
            'Invalid ProjectionExpression: Syntax error; token: ",", near: ",,b"',
        ),
        (
            "ProjectionExpression",
            "a.",
            'Invalid ProjectionExpression: Syntax error; token: "<EOF>", near: "."',
        ),
    ],
)
def test_syntax_errors(kind: str, text: str, message: str) -> None:
    parser = {
        "UpdateExpression": parse_update,
        "ProjectionExpression": parse_projection,
    }.get(kind)
    if parser is None:
        assert error_of(parse_condition, text, kind) == message
    else:
        assert error_of(parser, text) == message


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_empty_expression(text: str) -> None:
    assert (
        error_of(parse_condition, text)
        == "Invalid ConditionExpression: The expression can not be empty;"
    )
    assert (
        error_of(parse_update, text) == "Invalid UpdateExpression: The expression can not be empty;"
    )
    assert (
        error_of(parse_projection, text)
        == "Invalid ProjectionExpression: The expression can not be empty;"
    )


def test_expression_size_limit() -> None:
    text = "a = :v OR " * 410 + "a = :v"
    assert len(text) > 4096
    assert "Expression size has exceeded the maximum allowed size" in error_of(
        parse_condition, text
    )


def test_operator_count_limit() -> None:
    text = " OR ".join(["a=:v"] * 151)  # 151 comparisons + 150 ORs
    assert "too many operators" in error_of(parse_condition, text)
    parse_condition(" OR ".join(["a=:v"] * 150))  # 299 operators: fine


# ------------------------------------------------------------------- static errors


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("((a = :v))", "The expression has redundant parentheses;"),
        ("a = :v AND ((b = :v))", "The expression has redundant parentheses;"),
        ("NOT ((a = :v))", "The expression has redundant parentheses;"),
        ("foo(a)", "Invalid function name; function: foo"),
        ("Attribute_Exists(a)", "Invalid function name; function: Attribute_Exists"),
        (
            "size(a)",
            "The function is not allowed to be used this way in an expression; function: size",
        ),
        (
            "if_not_exists(a, :v) = :v",
            "The function is not allowed to be used this way in an expression; "
            "function: if_not_exists",
        ),
        (
            "attribute_exists(a) = :v",
            "The function is not allowed to be used this way in an expression; "
            "function: attribute_exists",
        ),
        (
            "attribute_exists(a, b)",
            "Incorrect number of operands for operator or function; "
            "operator or function: attribute_exists, number of operands: 2",
        ),
        (
            "begins_with(a)",
            "Incorrect number of operands for operator or function; "
            "operator or function: begins_with, number of operands: 1",
        ),
        (
            "size(a, b) = :v",
            "Incorrect number of operands for operator or function; "
            "operator or function: size, number of operands: 2",
        ),
        (
            "attribute_not_exists(:v)",
            "Operator or function requires a document path; "
            "operator or function: attribute_not_exists",
        ),
        (
            "a IN (" + ", ".join(f":v{i}" for i in range(101)) + ")",
            "The IN operator is provided with too many operands; number of operands: 101",
        ),
    ],
)
def test_static_condition_errors(text: str, message: str) -> None:
    assert error_of(parse_condition, text) == f"Invalid ConditionExpression: {message}"


def test_parentheses_that_are_not_redundant() -> None:
    for text in ["(a = :v)", "(a = :v) AND (b = :v)", "((a = :v) OR b = :v) AND c = :v"]:
        parse_condition(text)
    parse_condition("a IN (" + ", ".join(f":v{i}" for i in range(100)) + ")")


@pytest.mark.parametrize(
    ("kind", "text", "word"),
    [
        ("ConditionExpression", "name = :v", "name"),
        ("ConditionExpression", "a.Status = :v", "Status"),
        ("ConditionExpression", "attribute_exists(DATA)", "DATA"),
        ("UpdateExpression", "SET a = :v, name = :w", "name"),
        ("UpdateExpression", "SET a = size", "size"),
        ("ProjectionExpression", "a, b.c, date", "date"),
        ("ProjectionExpression", "and", "and"),
        ("KeyConditionExpression", "year = :y", "year"),
    ],
)
def test_reserved_words(kind: str, text: str, word: str) -> None:
    if kind == "UpdateExpression":
        message = error_of(parse_update, text)
    elif kind == "ProjectionExpression":
        message = error_of(parse_projection, text)
    else:
        message = error_of(parse_condition, text, kind)
    assert (
        message == f"Invalid {kind}: Attribute name is a reserved keyword; reserved keyword: {word}"
    )


def test_reserved_words_allowed_through_placeholders_and_as_functions() -> None:
    parse_condition("#name = :v AND size(#data) > :n")
    parse_projection("#name, a.#status")


def test_syntax_error_beats_reserved_word() -> None:
    message = error_of(parse_condition, "name = :v AND")
    assert "Syntax error" in message


def test_parse_is_cached_by_kind_and_text() -> None:
    assert parse_condition("a = :v") is parse_condition("a = :v")
    assert parse_update("SET a = :v") is parse_update("SET a = :v")
    assert parse_projection("a, b") == parse_projection("a, b")
    assert parse_key_condition("pk = :v") is parse_key_condition("pk = :v")


def test_keywords_are_case_insensitive_functions_are_not() -> None:
    assert check("n = :n and not (n < :one) Or n between :one aNd :two")
    assert check("n in (:one, :n)")
    parse_update("set a = :v remove b add c :n delete d :s")


def test_path_rendering() -> None:
    (path,) = parse_projection("a.#b[3].c")
    assert isinstance(path, Path)
    assert str(path) == "a.#b[3].c"
    assert path.elements == ("a", "#b", 3, "c")


# ------------------------------------------------------------------- placeholders


def test_undefined_value_and_name_messages() -> None:
    ctx = ExpressionContext({}, {})
    assert error_of(ctx.prepare_condition, parse_condition("a = :v")) == (
        "Invalid ConditionExpression: An expression attribute value used in expression is "
        "not defined; attribute value: :v"
    )
    assert error_of(
        ctx.prepare_condition, parse_condition("#n = :v", "FilterExpression"), "FilterExpression"
    ) == (
        "Invalid FilterExpression: An expression attribute name used in the document path is "
        "not defined; attribute name: #n"
    )
    assert error_of(ctx.prepare_update, parse_update("SET a = :v")) == (
        "Invalid UpdateExpression: An expression attribute value used in expression is not "
        "defined; attribute value: :v"
    )
    assert error_of(ctx.resolve_projection, parse_projection("a.#x")) == (
        "Invalid ProjectionExpression: An expression attribute name used in the document "
        "path is not defined; attribute name: #x"
    )


def test_undefined_placeholder_raises_even_for_missing_item() -> None:
    ctx = ExpressionContext(None, None)
    with pytest.raises(ValidationException):
        evaluate_condition(parse_condition("attribute_not_exists(a) OR a = :v"), None, ctx)


def test_unused_placeholders_across_expressions() -> None:
    ctx = ExpressionContext(
        {"#a": "a", "#unused": "x", "#b": "b"}, {":v": {"S": "1"}, ":w": {"S": "2"}}
    )
    ctx.prepare_condition(parse_condition("#a = :v"))
    assert error_of(ctx.check_unused) == (
        "Value provided in ExpressionAttributeNames unused in expressions: keys: {#b, #unused}"
    )
    ctx.resolve_projection(parse_projection("#b, #unused"))
    assert error_of(ctx.check_unused) == (
        "Value provided in ExpressionAttributeValues unused in expressions: keys: {:w}"
    )
    ctx.prepare_update(parse_update("SET q = :w"))
    ctx.check_unused()


def test_unused_single_value() -> None:
    ctx = ExpressionContext(None, {":v": {"S": "1"}})
    ctx.prepare_condition(parse_condition("attribute_exists(a)"))
    assert error_of(ctx.check_unused) == (
        "Value provided in ExpressionAttributeValues unused in expressions: keys: {:v}"
    )


def test_name_placeholder_is_one_attribute_name_even_with_dots() -> None:
    item: dict[str, AV] = {"m.a": {"S": "flat"}, "m": {"M": {"a": {"S": "nested"}}}}
    ctx = ExpressionContext({"#dotted": "m.a"}, {":v": {"S": "flat"}})
    assert evaluate_condition(parse_condition("#dotted = :v"), item, ctx)
    assert apply_projection(item, parse_projection("#dotted"), ctx) == {"m.a": {"S": "flat"}}


# ------------------------------------------------------------------- condition evaluation


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        # equality and inequality, numbers numerically
        ("n = :n", True),
        ("n <> :n", False),
        ("n = :one", False),
        ("n <> :one", True),
        (":n = n", True),
        ("#name = :s", True),
        ("name2 = :s", False),
        ("#m.#a = :one", True),
        ("m.b.c = :x", False),
        ("l[0] = :x", True),
        ("l[2].deep = :x", False),
        ("l[1] = :two", True),
        ("l[5] = :two", False),
        ("m.lst[0] > :three", True),
        ("ss = :ss", True),  # sets compare unordered
        ("l = :lst", True),
        ("l[2] = :map", True),
        ("t = :t", True),
        ("z = :null", True),
        ("b = :b", True),
        # different types are never equal, never ordered
        ("n = :s", False),
        ("n <> :s", True),
        ("n < :s", False),
        ("n >= :s", False),
        # absent attributes: false, except <>
        ("absent = :one", False),
        ("absent <> :one", True),
        ("absent < :one", False),
        ("absent >= :one", False),
        ("m.nope.deeper = :one", False),
        ("n[0] = :one", False),
        ("l.x = :one", False),
        # ordering on S, N, B
        ("n < :two", True),
        ("n <= :n", True),
        ("n > :one", True),
        ("n >= :two", False),
        ("#name > :hello", True),
        ("#name < :world", True),
        ("b > :b1", True),
        ("b < :b2", True),
        # BETWEEN (inclusive)
        ("n BETWEEN :one AND :two", True),
        ("n BETWEEN :n AND :n", True),
        ("n BETWEEN :two AND :three", False),
        ("absent BETWEEN :one AND :two", False),
        ("#name BETWEEN :hello AND :world", True),
        # IN
        ("n IN (:one, :n)", True),
        ("n IN (:one, :two)", False),
        ("absent IN (:one)", False),
        ("ss IN (:ss)", True),
        # boolean structure and precedence: NOT > AND > OR
        ("n = :one OR n = :n AND t = :t", True),
        ("n = :n OR n = :one AND t = :null", True),
        ("(n = :n OR n = :one) AND t = :null", False),
        ("NOT n = :one AND n = :n", True),
        ("NOT (n = :n AND t = :t)", False),
        ("NOT NOT n = :n", True),
        # functions
        ("attribute_exists(n)", True),
        ("attribute_exists(absent)", False),
        ("attribute_exists(m.b.c)", True),
        ("attribute_exists(l[2].deep)", True),
        ("attribute_exists(l[3])", False),
        ("attribute_not_exists(absent)", True),
        ("attribute_not_exists(#m.#a)", False),
        ("attribute_type(n, :typeN)", True),
        ("attribute_type(n, :typeS)", False),
        ("attribute_type(m, :typeM)", True),
        ("attribute_type(l, :typeL)", True),
        ("attribute_type(ss, :typeSS)", True),
        ("attribute_type(z, :typeNULL)", True),
        ("attribute_type(t, :typeBOOL)", True),
        ("attribute_type(absent, :typeS)", False),
        ("begins_with(#name, :hello)", True),
        ("begins_with(#name, :world)", False),
        ("begins_with(b, :b1)", True),
        ("begins_with(b, :b2)", False),
        ("begins_with(n, :hello)", False),
        ("begins_with(absent, :hello)", False),
        ("contains(#name, :world)", True),
        ("contains(#name, :x)", False),
        ("contains(b, :b2)", True),
        ("contains(ss, :a)", True),
        ("contains(ss, :c)", False),
        ("contains(ns, :n)", False),
        ("contains(ns, :one)", True),
        ("contains(bs, :b1)", True),
        ("contains(l, :x)", True),
        ("contains(l, :two)", True),
        ("contains(l, :map)", True),
        ("contains(l, :a)", False),
        ("contains(n, :one)", False),
        ("contains(absent, :a)", False),
        ("contains(ss, #name)", False),
        # size(): S length, B bytes, collections element counts
        ("size(#name) = :big", False),
        ("size(ss) = :two", True),
        ("size(l) = :three", True),
        ("size(m) = :three", True),
        ("size(b) = :three", True),
        ("size(#name) > :three", True),
        ("size(emoji) = :three", True),
        ("size(n) = :one", False),
        ("size(absent) < :big", False),
        ("size(m.lst) = :one", True),
        ("size(l) > size(ss)", True),
    ],
)
def test_condition_evaluation(expression: str, expected: bool) -> None:
    assert check(expression) is expected


def test_condition_on_missing_item() -> None:
    assert check("attribute_not_exists(pk)", None)
    assert not check("attribute_exists(pk)", None)
    assert not check("n = :n", {})
    assert check("NOT n = :n", None)


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        (
            "n BETWEEN :three AND :one",
            "The BETWEEN operator requires upper bound to be greater than or equal to lower "
            "bound; lower bound operand: AttributeValue: {N:3}, upper bound operand: "
            "AttributeValue: {N:1}",
        ),
        (
            "n BETWEEN :one AND :s",
            "The BETWEEN operator requires same data type for lower and upper bounds; "
            "lower bound operand: AttributeValue: {N:1}, upper bound operand: "
            "AttributeValue: {S:hello world}",
        ),
        (
            "n BETWEEN :t AND :t",
            "Incorrect operand type for operator or function; operator or function: BETWEEN, "
            "operand type: BOOL",
        ),
        (
            "n < :ss",
            "Incorrect operand type for operator or function; operator or function: <, "
            "operand type: SS",
        ),
        (
            "contains(ss, ss)",
            "The first operand must be distinct from the remaining operands for this operator "
            "or function; operator: contains, first operand: [ss]",
        ),
        (
            "#m.#a = m.a",
            "The first operand must be distinct from the remaining operands for this operator "
            "or function; operator: =, first operand: [m, a]",
        ),
        (
            "l[0] IN (:x, l[0])",
            "The first operand must be distinct from the remaining operands for this operator "
            "or function; operator: IN, first operand: [l, [0]]",
        ),
        (
            "attribute_type(n, :hello)",
            "Invalid attribute type name found; type: hello, valid types: "
            "{ B,NULL,SS,BOOL,L,BS,N,NS,S,M }",
        ),
        (
            "attribute_type(n, :one)",
            "Incorrect operand type for operator or function; operator or function: "
            "attribute_type, operand type: N",
        ),
        (
            "begins_with(#name, :one)",
            "Incorrect operand type for operator or function; operator or function: "
            "begins_with, operand type: N",
        ),
        (
            "size(:one) > :one",
            "Incorrect operand type for operator or function; operator or function: size, "
            "operand type: N",
        ),
    ],
)
def test_value_dependent_condition_errors(expression: str, message: str) -> None:
    assert error_of(check, expression, None) == f"Invalid ConditionExpression: {message}"


def test_between_with_bounds_from_item_in_descending_order() -> None:
    """Only request values are checked for order; item bounds just make it false."""
    item = {"lo": {"N": "5"}, "hi": {"N": "1"}, "x": {"N": "3"}}
    ctx = ExpressionContext(None, None)
    assert evaluate_condition(parse_condition("x BETWEEN lo AND hi"), item, ctx) is False


def test_filter_kind_prefix_in_evaluation_errors() -> None:
    message = error_of(check, "n BETWEEN :two AND :one", ITEM, "FilterExpression")
    assert message.startswith("Invalid FilterExpression: The BETWEEN operator")


# ------------------------------------------------------------------- updates


def update(
    expression: str,
    item: dict[str, AV] | None,
    values: dict[str, AV] | None = None,
    names: dict[str, str] | None = None,
    keys: tuple[str, ...] = ("pk",),
) -> dict[str, AV]:
    ctx = ExpressionContext(names, values)
    return apply_update(parse_update(expression), item, ctx, set(keys)).item


BASE: dict[str, AV] = {
    "pk": {"S": "k"},
    "n": {"N": "5"},
    "s": {"S": "str"},
    "ss": {"SS": ["a", "b"]},
    "ns": {"NS": ["1", "2"]},
    "bs": {"BS": [b64(b"\x01"), b64(b"\x02")]},
    "l": {"L": [{"N": "0"}, {"N": "1"}, {"N": "2"}, {"N": "3"}]},
    "m": {"M": {"x": {"N": "1"}, "inr": {"M": {"y": {"S": "y"}}}, "ll": {"L": [{"S": "q"}]}}},
}


@pytest.mark.parametrize(
    ("expression", "values", "names", "changes"),
    [
        ("SET a = :v", {":v": {"S": "new"}}, None, {"a": {"S": "new"}}),
        ("SET #a = :v", {":v": {"S": "new"}}, {"#a": "a b"}, {"a b": {"S": "new"}}),
        ("SET s = n", None, None, {"s": {"N": "5"}}),
        ("SET n = s, s = n", None, None, {"n": {"S": "str"}, "s": {"N": "5"}}),
        ("SET n = n + :v", {":v": {"N": "1.25"}}, None, {"n": {"N": "6.25"}}),
        ("SET n = n - :v", {":v": {"N": "10"}}, None, {"n": {"N": "-5"}}),
        ("SET n = :v - n", {":v": {"N": "5"}}, None, {"n": {"N": "0"}}),
        (
            "SET n = n + :v",
            {":v": {"N": "0.0000000000000000000000000000000000001"}},
            None,
            {"n": {"N": "5.0000000000000000000000000000000000001"}},
        ),
        (
            "SET c = if_not_exists(c, :z) + :one",
            {":z": {"N": "0"}, ":one": {"N": "1"}},
            None,
            {"c": {"N": "1"}},
        ),
        ("SET n = if_not_exists(n, :z)", {":z": {"N": "0"}}, None, {}),
        (
            "SET l = list_append(l, :v)",
            {":v": {"L": [{"N": "4"}]}},
            None,
            {"l": {"L": [{"N": "0"}, {"N": "1"}, {"N": "2"}, {"N": "3"}, {"N": "4"}]}},
        ),
        (
            "SET l = list_append(:v, l)",
            {":v": {"L": [{"N": "9"}]}},
            None,
            {"l": {"L": [{"N": "9"}, {"N": "0"}, {"N": "1"}, {"N": "2"}, {"N": "3"}]}},
        ),
        (
            "SET nl = list_append(if_not_exists(nl, :e), :v)",
            {":e": {"L": []}, ":v": {"L": [{"S": "a"}]}},
            None,
            {"nl": {"L": [{"S": "a"}]}},
        ),
        (
            "SET m.x = :v",
            {":v": {"N": "2"}},
            None,
            {
                "m": {
                    "M": {
                        "x": {"N": "2"},
                        "inr": {"M": {"y": {"S": "y"}}},
                        "ll": {"L": [{"S": "q"}]},
                    }
                }
            },
        ),
        (
            "SET m.inr.z = :v",
            {":v": {"N": "2"}},
            None,
            {
                "m": {
                    "M": {
                        "x": {"N": "1"},
                        "inr": {"M": {"y": {"S": "y"}, "z": {"N": "2"}}},
                        "ll": {"L": [{"S": "q"}]},
                    }
                }
            },
        ),
        (
            "SET m.ll[0] = :v",
            {":v": {"N": "2"}},
            None,
            {
                "m": {
                    "M": {
                        "x": {"N": "1"},
                        "inr": {"M": {"y": {"S": "y"}}},
                        "ll": {"L": [{"N": "2"}]},
                    }
                }
            },
        ),
        (
            "SET l[1] = :v",
            {":v": {"S": "one"}},
            None,
            {"l": {"L": [{"N": "0"}, {"S": "one"}, {"N": "2"}, {"N": "3"}]}},
        ),
        (
            "SET l[99] = :v",
            {":v": {"S": "end"}},
            None,
            {"l": {"L": [{"N": "0"}, {"N": "1"}, {"N": "2"}, {"N": "3"}, {"S": "end"}]}},
        ),
        ("SET dup = m.inr", None, None, {"dup": {"M": {"y": {"S": "y"}}}}),
        (
            "SET l[0] = l[3], l[3] = l[0]",
            None,
            None,
            {"l": {"L": [{"N": "3"}, {"N": "1"}, {"N": "2"}, {"N": "0"}]}},
        ),
        ("REMOVE s", None, None, {"s": None}),
        ("REMOVE s, n, absent", None, None, {"s": None, "n": None}),
        (
            "REMOVE m.x, m.inr.y",
            None,
            None,
            {"m": {"M": {"inr": {"M": {}}, "ll": {"L": [{"S": "q"}]}}}},
        ),
        ("REMOVE m.nothing", None, None, {}),
        ("REMOVE l[1], l[2]", None, None, {"l": {"L": [{"N": "0"}, {"N": "3"}]}}),
        ("REMOVE l[2], l[0]", None, None, {"l": {"L": [{"N": "1"}, {"N": "3"}]}}),
        ("REMOVE l[10]", None, None, {}),
        (
            "REMOVE l[0] SET l[1] = :v",
            {":v": {"S": "x"}},
            None,
            {"l": {"L": [{"S": "x"}, {"N": "2"}, {"N": "3"}]}},
        ),
        ("ADD n :v", {":v": {"N": "-5"}}, None, {"n": {"N": "0"}}),
        ("ADD newnum :v", {":v": {"N": "3.10"}}, None, {"newnum": {"N": "3.1"}}),
        ("ADD ss :v", {":v": {"SS": ["b", "c"]}}, None, {"ss": {"SS": ["a", "b", "c"]}}),
        ("ADD ns :v", {":v": {"NS": ["2", "3"]}}, None, {"ns": {"NS": ["1", "2", "3"]}}),
        (
            "ADD bs :v",
            {":v": {"BS": [b64(b"\x02"), b64(b"\x03")]}},
            None,
            {"bs": {"BS": [b64(b"\x01"), b64(b"\x02"), b64(b"\x03")]}},
        ),
        ("ADD newset :v", {":v": {"SS": ["z"]}}, None, {"newset": {"SS": ["z"]}}),
        (
            "ADD m.x :v",
            {":v": {"N": "1"}},
            None,
            {
                "m": {
                    "M": {
                        "x": {"N": "2"},
                        "inr": {"M": {"y": {"S": "y"}}},
                        "ll": {"L": [{"S": "q"}]},
                    }
                }
            },
        ),
        ("DELETE ss :v", {":v": {"SS": ["a", "zz"]}}, None, {"ss": {"SS": ["b"]}}),
        ("DELETE ss :v", {":v": {"SS": ["a", "b"]}}, None, {"ss": None}),
        ("DELETE ns :v", {":v": {"NS": ["1.0"]}}, None, {"ns": {"NS": ["2"]}}),
        ("DELETE bs :v", {":v": {"BS": [b64(b"\x01")]}}, None, {"bs": {"BS": [b64(b"\x02")]}}),
        ("DELETE absent :v", {":v": {"SS": ["a"]}}, None, {}),
        (
            "SET a = :v REMOVE s ADD n :one DELETE ss :d",
            {":v": {"BOOL": False}, ":one": {"N": "1"}, ":d": {"SS": ["a"]}},
            None,
            {"a": {"BOOL": False}, "s": None, "n": {"N": "6"}, "ss": {"SS": ["b"]}},
        ),
    ],
)
def test_update_semantics(
    expression: str,
    values: dict[str, AV] | None,
    names: dict[str, str] | None,
    changes: dict[str, AV | None],
) -> None:
    before = {k: v for k, v in BASE.items()}
    result = update(expression, BASE, values, names)
    expected = {k: v for k, v in BASE.items()}
    for name, value in changes.items():
        if value is None:
            expected.pop(name, None)
        else:
            expected[name] = value
    assert result == expected
    assert before == BASE  # the input item is never mutated


def test_update_creates_from_missing_item() -> None:
    ctx = ExpressionContext(None, {":v": {"N": "1"}, ":s": {"SS": ["a"]}})
    result = apply_update(parse_update("SET a = :v ADD c :v, s :s"), None, ctx, {"pk"})
    assert result.item == {"a": {"N": "1"}, "c": {"N": "1"}, "s": {"SS": ["a"]}}
    assert not result.removes_only


def test_removes_only_flag() -> None:
    assert parse_update("REMOVE a, b").removes_only
    assert not parse_update("REMOVE a SET b = :v").removes_only
    assert not parse_update("DELETE s :v").removes_only
    ctx = ExpressionContext(None, None)
    result = apply_update(parse_update("REMOVE a"), {}, ctx, {"pk"})
    assert result.removes_only
    assert result.item == {}


@pytest.mark.parametrize(
    ("expression", "values", "message"),
    [
        (
            "SET absent.x = :v",
            {":v": {"N": "1"}},
            "The document path provided in the update expression is invalid for update",
        ),
        (
            "SET s.x = :v",
            {":v": {"N": "1"}},
            "The document path provided in the update expression is invalid for update",
        ),
        (
            "SET m[0] = :v",
            {":v": {"N": "1"}},
            "The document path provided in the update expression is invalid for update",
        ),
        (
            "SET l.x = :v",
            {":v": {"N": "1"}},
            "The document path provided in the update expression is invalid for update",
        ),
        (
            "SET m.nx.x = :v",
            {":v": {"N": "1"}},
            "The document path provided in the update expression is invalid for update",
        ),
        (
            "REMOVE absent.x",
            None,
            "The document path provided in the update expression is invalid for update",
        ),
        (
            "REMOVE m.nx.x",
            None,
            "The document path provided in the update expression is invalid for update",
        ),
        (
            "ADD absent.x :v",
            {":v": {"N": "1"}},
            "The document path provided in the update expression is invalid for update",
        ),
        (
            "SET a = absent",
            None,
            "The provided expression refers to an attribute that does not exist in the item",
        ),
        (
            "SET a = if_not_exists(b, absent)",
            None,
            "The provided expression refers to an attribute that does not exist in the item",
        ),
        (
            "SET a = s + :v",
            {":v": {"N": "1"}},
            "An operand in the update expression has an incorrect data type",
        ),
        (
            "SET a = :v + :w",
            {":v": {"N": "1"}, ":w": {"S": "1"}},
            "An operand in the update expression has an incorrect data type",
        ),
        (
            "SET a = list_append(s, l)",
            None,
            "An operand in the update expression has an incorrect data type",
        ),
        (
            "ADD s :v",
            {":v": {"N": "1"}},
            "An operand in the update expression has an incorrect data type",
        ),
        (
            "ADD ss :v",
            {":v": {"NS": ["1"]}},
            "An operand in the update expression has an incorrect data type",
        ),
        (
            "ADD n :v",
            {":v": {"SS": ["1"]}},
            "An operand in the update expression has an incorrect data type",
        ),
        (
            "DELETE s :v",
            {":v": {"SS": ["a"]}},
            "An operand in the update expression has an incorrect data type",
        ),
        (
            "DELETE ss :v",
            {":v": {"NS": ["1"]}},
            "An operand in the update expression has an incorrect data type",
        ),
        (
            "SET n = :v + :v",
            {":v": {"N": "5E+125"}},
            OVERFLOW,
        ),
        (
            "SET n = n + :v",
            {":v": {"N": "1E+38"}},
            "Attempting to store more than 38 significant digits in a Number",
        ),
        (
            "ADD pk :v",
            {":v": {"N": "1"}},
            KEY_UPDATE,
        ),
        (
            "REMOVE pk",
            None,
            KEY_UPDATE,
        ),
        (
            "SET #k = :v",
            {":v": {"N": "1"}},
            KEY_UPDATE,
        ),
        (
            "SET pk.x = :v",
            {":v": {"N": "1"}},
            KEY_NESTED,
        ),
    ],
)
def test_update_runtime_errors(expression: str, values: dict[str, AV] | None, message: str) -> None:
    assert (
        error_of(update, expression, BASE, values, {"#k": "pk"} if "#k" in expression else None)
        == message
    )


@pytest.mark.parametrize(
    ("expression", "values", "message"),
    [
        (
            "SET a = :v REMOVE a",
            {":v": {"N": "1"}},
            "Two document paths overlap with each other; must remove or rewrite one of these "
            "paths; path one: [a], path two: [a]",
        ),
        (
            "SET a = :v, a.b = :v",
            {":v": {"N": "1"}},
            "Two document paths overlap with each other; must remove or rewrite one of these "
            "paths; path one: [a], path two: [a, b]",
        ),
        (
            "SET #x.b = :v REMOVE x",
            {":v": {"N": "1"}},
            "Two document paths overlap with each other; must remove or rewrite one of these "
            "paths; path one: [x, b], path two: [x]",
        ),
        (
            "SET a[0].b = :v REMOVE a[0]",
            {":v": {"N": "1"}},
            "Two document paths overlap with each other; must remove or rewrite one of these "
            "paths; path one: [a, [0], b], path two: [a, [0]]",
        ),
        (
            "SET a.b = :v REMOVE a[0]",
            {":v": {"N": "1"}},
            "Two document paths conflict with each other; must remove or rewrite one of these "
            "paths; path one: [a, b], path two: [a, [0]]",
        ),
        (
            "ADD s :v",
            {":v": {"S": "x"}},
            "Incorrect operand type for operator or function; operator: ADD, operand type: STRING",
        ),
        (
            "ADD s :v",
            {":v": {"M": {}}},
            "Incorrect operand type for operator or function; operator: ADD, operand type: MAP",
        ),
        (
            "DELETE s :v",
            {":v": {"N": "1"}},
            "Incorrect operand type for operator or function; operator: DELETE, operand type: "
            "NUMBER",
        ),
        (
            "SET l = list_append(l, :v)",
            {":v": {"S": "x"}},
            "Incorrect operand type for operator or function; operator or function: "
            "list_append, operand type: S",
        ),
        (
            "SET a = :v SET b = :v",
            {":v": {"N": "1"}},
            'The "SET" section can only be used once in an update expression;',
        ),
        (
            "REMOVE a ADD b :v remove c",
            {":v": {"N": "1"}},
            'The "REMOVE" section can only be used once in an update expression;',
        ),
        (
            "SET a = size(b)",
            {":v": {"N": "1"}},
            "The function is not allowed to be used this way in an expression; function: size",
        ),
        (
            "SET a = nope(b)",
            {":v": {"N": "1"}},
            "Invalid function name; function: nope",
        ),
        (
            "SET a = if_not_exists(:v, b)",
            {":v": {"N": "1"}},
            "Operator or function requires a document path; operator or function: if_not_exists",
        ),
        (
            "SET a = list_append(:v)",
            {":v": {"N": "1"}},
            "Incorrect number of operands for operator or function; operator or function: "
            "list_append, number of operands: 1",
        ),
    ],
)
def test_update_static_errors(expression: str, values: dict[str, AV], message: str) -> None:
    def run() -> None:
        ctx = ExpressionContext({"#x": "x"} if "#x" in expression else None, values)
        ctx.prepare_update(parse_update(expression))

    assert error_of(run) == f"Invalid UpdateExpression: {message}"


def test_key_check_can_run_at_prepare_time() -> None:
    ctx = ExpressionContext(None, {":v": {"S": "x"}})
    message = error_of(ctx.prepare_update, parse_update("SET sk = :v"), {"pk", "sk"})
    assert message.endswith("Cannot update attribute sk. This attribute is part of the key")


def test_updated_old_and_new_projections() -> None:
    ctx = ExpressionContext(None, {":v": {"N": "9"}, ":s": {"SS": ["z"]}})
    ast = parse_update("SET m.x = :v, l[1] = :v, top = :v REMOVE s, m.inr.y ADD ss :s")
    result = apply_update(ast, BASE, ctx, {"pk"})
    assert result.updated_old(BASE) == {
        "m": {"M": {"x": {"N": "1"}, "inr": {"M": {"y": {"S": "y"}}}}},
        "l": {"L": [{"N": "1"}]},
        "s": {"S": "str"},
        "ss": {"SS": ["a", "b"]},
    }
    assert result.updated_new() == {
        "m": {"M": {"x": {"N": "9"}}},
        "l": {"L": [{"N": "9"}]},
        "top": {"N": "9"},
        "ss": {"SS": ["a", "b", "z"]},
    }


def test_updated_new_after_list_shift() -> None:
    ctx = ExpressionContext(None, {":v": {"S": "end"}})
    result = apply_update(parse_update("SET l[9] = :v REMOVE l[0]"), BASE, ctx, {"pk"})
    assert result.item["l"]["L"][-1] == {"S": "end"}
    assert result.updated_new() == {"l": {"L": [{"S": "end"}]}}


def test_update_result_does_not_share_values_with_context() -> None:
    value = {"M": {"k": {"S": "v"}}}
    ctx = ExpressionContext(None, {":v": value})
    result = apply_update(parse_update("SET a = :v, b = :v"), {}, ctx, ())
    result.item["a"]["M"]["k"] = {"S": "changed"}
    assert value == {"M": {"k": {"S": "v"}}}
    assert result.item["b"] == {"M": {"k": {"S": "v"}}}


# ------------------------------------------------------------------- projections


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("pk", {"pk": {"S": "k"}}),
        ("pk, n, absent", {"pk": {"S": "k"}, "n": {"N": "5"}}),
        ("m.x", {"m": {"M": {"x": {"N": "1"}}}}),
        ("m.x, m.inr.y", {"m": {"M": {"x": {"N": "1"}, "inr": {"M": {"y": {"S": "y"}}}}}}),
        ("l[1]", {"l": {"L": [{"N": "1"}]}}),
        ("l[3], l[1]", {"l": {"L": [{"N": "1"}, {"N": "3"}]}}),
        ("l[9]", {}),
        ("m.nope", {}),
        ("s.x", {}),
        ("m.ll[0]", {"m": {"M": {"ll": {"L": [{"S": "q"}]}}}}),
        ("#m.#x", {"m": {"M": {"x": {"N": "1"}}}}),
    ],
)
def test_projection(expression: str, expected: dict[str, AV]) -> None:
    ctx = ExpressionContext({"#m": "m", "#x": "x"} if "#" in expression else None, None)
    paths = ctx.resolve_projection(parse_projection(expression))
    assert apply_projection(BASE, paths) == expected
    assert apply_projection(BASE, parse_projection(expression), ctx) == expected


def test_projection_overlap_errors() -> None:
    ctx = ExpressionContext(None, None)
    assert error_of(ctx.resolve_projection, parse_projection("a, a.b")) == (
        "Invalid ProjectionExpression: Two document paths overlap with each other; must remove "
        "or rewrite one of these paths; path one: [a], path two: [a, b]"
    )
    assert error_of(ctx.resolve_projection, parse_projection("a[0], a.b")) == (
        "Invalid ProjectionExpression: Two document paths conflict with each other; must "
        "remove or rewrite one of these paths; path one: [a, [0]], path two: [a, b]"
    )


# ------------------------------------------------------------------- key conditions


def resolve_key(
    text: str,
    values: dict[str, AV],
    sort_key: str | None = "sk",
    names: dict[str, str] | None = None,
) -> Any:
    ctx = ExpressionContext(names, values)
    return parse_key_condition(text).resolve(ctx, "pk", sort_key, {"pk": "S", "sk": "N"})


KV = {":p": {"S": "p"}, ":a": {"N": "1"}, ":b": {"N": "5"}, ":s": {"S": "x"}}


@pytest.mark.parametrize(
    ("text", "op", "matches", "misses"),
    [
        ("pk = :p", None, ["1"], []),
        ("pk = :p AND sk = :a", "=", ["1"], ["2"]),
        ("sk < :b AND pk = :p", "<", ["1", "4.9"], ["5", "6"]),
        ("pk = :p AND sk <= :b", "<=", ["5"], ["6"]),
        ("pk = :p AND sk > :a", ">", ["2"], ["1"]),
        ("pk = :p AND sk >= :a", ">=", ["1"], ["0"]),
        ("pk = :p AND sk BETWEEN :a AND :b", "BETWEEN", ["1", "3", "5"], ["0.9", "5.1"]),
        ("(pk = :p) AND (sk BETWEEN :a AND :b)", "BETWEEN", ["2"], ["7"]),
        (":p = pk AND :a < sk", ">", ["2"], ["1"]),
    ],
)
def test_key_conditions(text: str, op: str | None, matches: list[str], misses: list[str]) -> None:
    resolved = resolve_key(text, {k: v for k, v in KV.items() if k in text})
    assert resolved.partition_key == "pk"
    assert resolved.partition_value == {"S": "p"}
    assert resolved.sort_op == op
    for value in matches:
        assert resolved.sort_matches({"N": value})
    for value in misses:
        assert not resolved.sort_matches({"N": value})


def test_key_condition_begins_with_and_names() -> None:
    ctx = ExpressionContext({"#p": "pk", "#s": "sk"}, {":p": {"S": "p"}, ":s": {"S": "ab"}})
    resolved = parse_key_condition("#p = :p AND begins_with(#s, :s)").resolve(ctx, "pk", "sk")
    assert resolved.sort_op == "begins_with"
    assert resolved.sort_matches({"S": "abc"})
    assert not resolved.sort_matches({"S": "b"})
    ctx.check_unused()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("pk = :p OR sk = :a", "Invalid operator used in KeyConditionExpression: OR"),
        ("NOT pk = :p", "Invalid operator used in KeyConditionExpression: NOT"),
        ("pk IN (:p)", "Invalid operator used in KeyConditionExpression: IN"),
        ("pk <> :p", "Invalid operator used in KeyConditionExpression: <>"),
        (
            "pk = :p AND attribute_exists(sk)",
            "Invalid operator used in KeyConditionExpression: attribute_exists",
        ),
        (
            "pk = :p AND contains(sk, :a)",
            "Invalid operator used in KeyConditionExpression: contains",
        ),
        ("pk = :p AND size(sk) = :a", "Invalid operator used in KeyConditionExpression: size"),
        (
            "pk = :p AND sk = :a AND sk = :b",
            "Invalid KeyConditionExpression: Conditions can be of length 1 or 2 only",
        ),
        ("pk < :p", "Query key condition not supported"),
        ("begins_with(pk, :p)", "Query key condition not supported"),
        ("sk = :a", "Query condition missed key schema element: pk"),
        ("pk = :p AND attr2 = :a", "Query condition missed key schema element: sk"),
        ("pk = :p AND pk = :p", "KeyConditionExpressions must only contain one condition per key"),
        (
            "pk = :p AND sk = :s",
            KEY_TYPE,
        ),
        (
            "pk = :a",
            KEY_TYPE,
        ),
        (
            "pk = :p AND sk BETWEEN :b AND :a",
            KEY_BETWEEN,
        ),
        (
            "pk = :p AND sk = :undefined",
            KEY_UNDEFINED,
        ),
        (
            "pk = :p AND sk.x = :a",
            KEY_NESTED_CONDITION,
        ),
        ("pk = :p AND sk = sk", "Query key condition not supported"),
    ],
)
def test_key_condition_errors(text: str, message: str) -> None:
    assert error_of(resolve_key, text, KV) == message


# ------------------------------------------------------------------- hypothesis


_paths = st.sampled_from(
    ["n", "#name", "#m.#a", "m.b.c", "l[0]", "l[2].deep", "ss", "absent", "b", "t", "z", "l"]
)
_values = st.sampled_from(sorted(VALUES))
_operands = st.one_of(_paths, _values, _paths.map(lambda p: f"size({p})"))


@st.composite
def _conditions(draw: st.DrawFn, depth: int = 0) -> str:
    choice = draw(st.integers(0, 9 if depth < 3 else 5))
    if choice == 0:
        op = draw(st.sampled_from(["=", "<>", "<", "<=", ">", ">="]))
        return f"{draw(_operands)} {op} {draw(_operands)}"
    if choice == 1:
        return f"{draw(_operands)} BETWEEN {draw(_operands)} AND {draw(_operands)}"
    if choice == 2:
        choices = draw(st.lists(_operands, min_size=1, max_size=4))
        return f"{draw(_operands)} IN ({', '.join(choices)})"
    if choice == 3:
        fn = draw(st.sampled_from(["attribute_exists", "attribute_not_exists"]))
        return f"{fn}({draw(_paths)})"
    if choice == 4:
        fn = draw(st.sampled_from(["begins_with", "contains", "attribute_type"]))
        return f"{fn}({draw(_paths)}, {draw(_operands)})"
    if choice == 5:
        return f"{draw(_paths)} = {draw(_values)}"
    if choice == 6:
        return f"NOT {draw(_conditions(depth + 1))}"
    if choice == 7:
        return f"({draw(_conditions(depth + 1))})"
    op = "AND" if choice == 8 else "OR"
    return f"{draw(_conditions(depth + 1))} {op} {draw(_conditions(depth + 1))}"


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expression=_conditions(), item_is_missing=st.booleans())
def test_random_conditions_never_crash(expression: str, item_is_missing: bool) -> None:
    try:
        result = check(expression, None if item_is_missing else ITEM)
    except ValidationException as error:
        assert error.message and error.message.startswith("Invalid ConditionExpression: ")
        return
    assert isinstance(result, bool)


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet="ab#:.[]()0123 =<>,+-!NOTANDSETREMOVEsize_", max_size=30))
def test_random_text_only_validation_errors(text: str) -> None:
    for parse in (parse_condition, parse_update, parse_projection, parse_key_condition):
        with contextlib.suppress(ValidationException):
            parse(text)


# ------------------------------------------------------------------- moto differential


MOTO_BASE: dict[str, AV] = {
    "pk": {"S": "k"},
    "n": {"N": "5"},
    "s": {"S": "str"},
    "ss": {"SS": ["a", "b"]},
    "ns": {"NS": ["1", "2"]},
    "l": {"L": [{"N": "0"}, {"N": "1"}, {"N": "2"}, {"N": "3"}]},
    "m": {"M": {"x": {"N": "1"}, "inr": {"M": {"y": {"S": "y"}}}}},
}

MOTO_CASES: list[tuple[str, dict[str, AV] | None]] = [
    ("SET a = :v", {":v": {"S": "new"}}),
    ("SET n = n + :v", {":v": {"N": "1.25"}}),
    ("SET n = n - :v", {":v": {"N": "10"}}),
    ("SET n = s, s = n", None),
    ("SET c = if_not_exists(c, :z) + :one", {":z": {"N": "0"}, ":one": {"N": "1"}}),
    ("SET n = if_not_exists(n, :z)", {":z": {"N": "0"}}),
    ("SET l = list_append(l, :v)", {":v": {"L": [{"N": "4"}]}}),
    ("SET l = list_append(:v, l)", {":v": {"L": [{"N": "9"}]}}),
    ("SET m.x = :v", {":v": {"N": "2"}}),
    ("SET m.inr.z = :v", {":v": {"N": "2"}}),
    ("SET l[1] = :v", {":v": {"S": "one"}}),
    ("SET l[99] = :v", {":v": {"S": "end"}}),
    ("SET dup = m.inr", None),
    ("REMOVE s, n, absent", None),
    ("REMOVE m.x, m.inr.y", None),
    ("REMOVE l[1], l[2]", None),
    ("REMOVE l[2], l[0]", None),
    ("REMOVE l[10]", None),
    ("ADD n :v", {":v": {"N": "-5"}}),
    ("ADD newnum :v", {":v": {"N": "3.5"}}),
    ("ADD ss :v", {":v": {"SS": ["b", "c"]}}),
    ("ADD ns :v", {":v": {"NS": ["2", "3"]}}),
    ("ADD newset :v", {":v": {"SS": ["z"]}}),
    ("DELETE ss :v", {":v": {"SS": ["a", "zz"]}}),
    ("DELETE ss :v", {":v": {"SS": ["a", "b"]}}),
    ("DELETE absent :v", {":v": {"SS": ["a"]}}),
    (
        "SET a = :v REMOVE s ADD n :one DELETE ss :d",
        {":v": {"BOOL": False}, ":one": {"N": "1"}, ":d": {"SS": ["a"]}},
    ),
    ("SET absent.x = :v", {":v": {"N": "1"}}),
    ("SET a = absent", None),
    ("SET a = s + :v", {":v": {"N": "1"}}),
    ("ADD s :v", {":v": {"N": "1"}}),
    ("SET a = :v REMOVE a", {":v": {"N": "1"}}),
    ("SET a = :v, a.b = :v", {":v": {"N": "1"}}),
    ("ADD m.x :v", {":v": {"N": "1"}}),
    ("SET m.x = m.x + :v", {":v": {"N": "1"}}),
    ("REMOVE m.nothing", None),
    ("REMOVE absent.x", None),
    ("DELETE ns :v", {":v": {"NS": ["1"]}}),
    ("SET l[0] = l[3], l[3] = l[0]", None),
    # Not compared: "REMOVE l[0] SET l[1] = :v". moto applies clauses in text order
    # (-> [1, x, 3]); we let every index refer to the original list (-> [x, 2, 3]).
    ("SET a = list_append(s, l)", None),
    ("ADD ss :v", {":v": {"NS": ["1"]}}),
    ("DELETE ss :v", {":v": {"NS": ["1"]}}),
    ("SET m.inner.z = :v, m.x = :v", {":v": {"N": "7"}}),
    ("SET pk = :v", {":v": {"S": "other"}}),
]


def _canonical(value: Any) -> Any:
    """Order-insensitive form for set members, so moto and we compare semantically."""
    if isinstance(value, dict):
        out = {}
        for key, member in value.items():
            if key in ("SS", "NS", "BS"):
                out[key] = sorted(member)
            else:
                out[key] = _canonical(member)
        return out
    if isinstance(value, list):
        return [_canonical(v) for v in value]
    return value


@pytest.fixture(scope="module")
def moto_table() -> Any:
    moto = pytest.importorskip("moto")
    boto3 = pytest.importorskip("boto3")
    import os

    for var, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        os.environ.setdefault(var, value)
    with moto.mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName="t",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        yield client


@pytest.mark.parametrize(("expression", "values"), MOTO_CASES)
def test_update_matches_moto(
    moto_table: Any, expression: str, values: dict[str, AV] | None
) -> None:
    from botocore.exceptions import ClientError

    client = moto_table
    client.put_item(TableName="t", Item=MOTO_BASE)
    kwargs: dict[str, Any] = {
        "TableName": "t",
        "Key": {"pk": {"S": "k"}},
        "UpdateExpression": expression,
    }
    if values:
        kwargs["ExpressionAttributeValues"] = values
    try:
        client.update_item(**kwargs)
        moto_item: dict[str, AV] | None = client.get_item(TableName="t", Key={"pk": {"S": "k"}})[
            "Item"
        ]
    except ClientError as error:
        assert error.response["Error"]["Code"] == "ValidationException"
        moto_item = None

    try:
        ours: dict[str, AV] | None = update(expression, MOTO_BASE, values)
    except ValidationException:
        ours = None
    assert _canonical(ours) == _canonical(moto_item)
