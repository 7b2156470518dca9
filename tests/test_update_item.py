"""UpdateItem through boto3 and the real server: every UpdateExpression construct, upsert
semantics, ReturnValues and every expression error AWS reports (SPEC 5.5, 5.9)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

KEY = {"pk": {"S": "k"}}
INVALID = "One or more parameter values were invalid: "
INVALID_PATH = "The document path provided in the update expression is invalid for update"
INCORRECT_TYPE = "An operand in the update expression has an incorrect data type"
MISSING_OPERAND = "The provided expression refers to an attribute that does not exist in the item"


@pytest.fixture
def table(make_table: Callable[..., str]) -> str:
    return make_table()


def update(
    ddb: Any,
    table: str,
    expression: str | None,
    values: dict[str, Any] | None = None,
    names: dict[str, str] | None = None,
    key: dict[str, Any] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"TableName": table, "Key": key or KEY, **extra}
    if expression is not None:
        kwargs["UpdateExpression"] = expression
    if values is not None:
        kwargs["ExpressionAttributeValues"] = values
    if names is not None:
        kwargs["ExpressionAttributeNames"] = names
    response: dict[str, Any] = ddb.update_item(**kwargs)
    return response


def error_of(
    ddb: Any,
    table: str,
    expression: str | None,
    values: dict[str, Any] | None = None,
    names: dict[str, str] | None = None,
    **extra: Any,
) -> tuple[str, str]:
    with pytest.raises(ClientError) as info:
        update(ddb, table, expression, values, names, **extra)
    error = info.value.response["Error"]
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    return error["Code"], error["Message"]


def validation(message: str) -> tuple[str, str]:
    return "ValidationException", message


def get(ddb: Any, table: str, key: dict[str, Any] | None = None) -> dict[str, Any] | None:
    item: dict[str, Any] | None = ddb.get_item(TableName=table, Key=key or KEY).get("Item")
    return item


def put(ddb: Any, table: str, **attributes: Any) -> dict[str, Any]:
    item = {**KEY, **attributes}
    ddb.put_item(TableName=table, Item=item)
    return item


def N(value: int | str) -> dict[str, str]:
    return {"N": str(value)}


def S(value: str) -> dict[str, str]:
    return {"S": value}


# -- SET ------------------------------------------------------------------------------------


def test_set_values_of_every_type(ddb: Any, table: str) -> None:
    values = {
        ":s": S("x"),
        ":n": N("1.50"),
        ":b": {"B": b"\x00\x01"},
        ":ss": {"SS": ["a", "b"]},
        ":ns": {"NS": ["1", "2"]},
        ":bs": {"BS": [b"\x01"]},
        ":m": {"M": {"x": N(1)}},
        ":l": {"L": [S("a"), N(2)]},
        ":null": {"NULL": True},
        ":bool": {"BOOL": False},
    }
    expression = "SET " + ", ".join(f"v_{name[1:]} = {name}" for name in values)
    update(ddb, table, expression, values)
    item = get(ddb, table)
    assert item is not None
    assert item["v_n"] == N("1.5")
    assert {k: v for k, v in item.items() if k not in ("pk", "v_n", "v_ss", "v_ns")} == {
        f"v_{name[1:]}": value for name, value in values.items() if name not in (":n", ":ss", ":ns")
    }
    assert sorted(item["v_ss"]["SS"]) == ["a", "b"]
    assert sorted(item["v_ns"]["NS"]) == ["1", "2"]


def test_set_from_other_paths_uses_the_old_item(ddb: Any, table: str) -> None:
    put(ddb, table, a=N(1), b=N(2), m={"M": {"x": {"L": [S("deep")]}}})
    update(ddb, table, "SET a = b, b = a, c = m.x[0]")
    assert get(ddb, table) == {
        **KEY,
        "a": N(2),
        "b": N(1),
        "c": S("deep"),
        "m": {"M": {"x": {"L": [S("deep")]}}},
    }


def test_set_plus_and_minus(ddb: Any, table: str) -> None:
    put(ddb, table, a=N(10), b=N("0.5"))
    update(
        ddb,
        table,
        "SET a = a + :one, b = b - :big, c = :one + :one, d = a - b",
        {":one": N(1), ":big": N("100.25")},
    )
    item = get(ddb, table)
    assert item is not None
    assert (item["a"], item["b"], item["c"], item["d"]) == (N(11), N("-99.75"), N(2), N("9.5"))


def test_arithmetic_is_exact_to_38_digits(ddb: Any, table: str) -> None:
    put(ddb, table, a=N("99999999999999999999999999999999999998"))
    update(ddb, table, "SET a = a + :one", {":one": N(1)})
    assert get(ddb, table) == {**KEY, "a": N("99999999999999999999999999999999999999")}
    put(ddb, table, a=N("0.1"))
    update(ddb, table, "SET a = a + :v", {":v": N("0.2")})
    assert get(ddb, table) == {**KEY, "a": N("0.3")}


def test_arithmetic_on_a_missing_attribute(ddb: Any, table: str) -> None:
    put(ddb, table)
    assert error_of(ddb, table, "SET a = a + :one", {":one": N(1)}) == validation(MISSING_OPERAND)
    assert error_of(ddb, table, "SET a = b", None) == validation(MISSING_OPERAND)


@pytest.mark.parametrize(
    "expression",
    ["SET a = s + :one", "SET a = :one + s", "SET a = :str - :one", "SET a = l + :one"],
)
def test_arithmetic_on_non_numbers(ddb: Any, table: str, expression: str) -> None:
    put(ddb, table, s=S("x"), l={"L": []})
    values = {":one": N(1)}
    if ":str" in expression:
        values[":str"] = S("x")
    assert error_of(ddb, table, expression, values) == validation(INCORRECT_TYPE)


def test_if_not_exists(ddb: Any, table: str) -> None:
    put(ddb, table, a=N(5))
    update(
        ddb,
        table,
        "SET a = if_not_exists(a, :zero), b = if_not_exists(b, :zero), "
        "c = if_not_exists(c, :zero) + :one, m = if_not_exists(a, b)",
        {":zero": N(0), ":one": N(1)},
    )
    assert get(ddb, table) == {**KEY, "a": N(5), "b": N(0), "c": N(1), "m": N(5)}


def test_if_not_exists_on_a_missing_item_creates_it(ddb: Any, table: str) -> None:
    update(
        ddb, table, "SET hits = if_not_exists(hits, :zero) + :one", {":zero": N(0), ":one": N(1)}
    )
    update(
        ddb, table, "SET hits = if_not_exists(hits, :zero) + :one", {":zero": N(0), ":one": N(1)}
    )
    assert get(ddb, table) == {**KEY, "hits": N(2)}


def test_list_append_both_orders(ddb: Any, table: str) -> None:
    put(ddb, table, l={"L": [N(1), N(2)]})
    update(
        ddb,
        table,
        "SET l = list_append(l, :tail), p = list_append(:head, l)",
        {":tail": {"L": [N(3)]}, ":head": {"L": [N(0)]}},
    )
    assert get(ddb, table) == {
        **KEY,
        "l": {"L": [N(1), N(2), N(3)]},
        "p": {"L": [N(0), N(1), N(2)]},
    }


def test_list_append_with_if_not_exists(ddb: Any, table: str) -> None:
    expression = "SET l = list_append(if_not_exists(l, :empty), :new)"
    values = {":empty": {"L": []}, ":new": {"L": [S("x")]}}
    update(ddb, table, expression, values)
    update(ddb, table, expression, values)
    assert get(ddb, table) == {**KEY, "l": {"L": [S("x"), S("x")]}}


def test_list_append_wrong_types(ddb: Any, table: str) -> None:
    put(ddb, table, s=S("x"), l={"L": []})
    assert error_of(ddb, table, "SET l = list_append(l, :v)", {":v": S("x")}) == validation(
        "Invalid UpdateExpression: Incorrect operand type for operator or function; "
        "operator or function: list_append, operand type: S"
    )
    assert error_of(ddb, table, "SET l = list_append(l, s)") == validation(INCORRECT_TYPE)
    assert error_of(ddb, table, "SET l = list_append(l, absent)") == validation(MISSING_OPERAND)


def test_nested_paths_with_placeholders(ddb: Any, table: str) -> None:
    put(ddb, table, a={"M": {"b": {"L": [N(0), N(1), N(2), {"M": {"c": N(3)}}]}}})
    update(
        ddb,
        table,
        "SET #a.#b[3].#c = :v, #a.#b[0] = :w, a.fresh = :w",
        {":v": S("deep"), ":w": N(9)},
        {"#a": "a", "#b": "b", "#c": "c"},
    )
    assert get(ddb, table) == {
        **KEY,
        "a": {"M": {"b": {"L": [N(9), N(1), N(2), {"M": {"c": S("deep")}}]}, "fresh": N(9)}},
    }


def test_names_with_dots_and_reserved_words_via_placeholders(ddb: Any, table: str) -> None:
    update(
        ddb,
        table,
        "SET #dotted = :v, #name = :v",
        {":v": N(1)},
        {"#dotted": "a.b", "#name": "name"},
    )
    assert get(ddb, table) == {**KEY, "a.b": N(1), "name": N(1)}


def test_set_list_index_beyond_the_end_appends(ddb: Any, table: str) -> None:
    put(ddb, table, l={"L": [N(0), N(1)]})
    response = update(ddb, table, "SET l[10] = :v", {":v": S("x")}, ReturnValues="UPDATED_NEW")
    assert get(ddb, table) == {**KEY, "l": {"L": [N(0), N(1), S("x")]}}
    assert response["Attributes"] == {"l": {"L": [S("x")]}}


def test_set_through_a_missing_parent(ddb: Any, table: str) -> None:
    put(ddb, table, m={"M": {}}, s=S("x"), l={"L": []})
    for expression in (
        "SET nope.x = :v",
        "SET m.a.b = :v",
        "SET s.x = :v",
        "SET m[0] = :v",
        "SET nope[0] = :v",
        "SET l.x = :v",
    ):
        assert error_of(ddb, table, expression, {":v": N(1)}) == validation(INVALID_PATH), (
            expression
        )


def test_set_nested_on_a_missing_item(ddb: Any, table: str) -> None:
    assert error_of(ddb, table, "SET m.a = :v", {":v": N(1)}) == validation(INVALID_PATH)
    assert get(ddb, table) is None


# -- REMOVE ---------------------------------------------------------------------------------


def test_remove_top_level_nested_and_list_elements(ddb: Any, table: str) -> None:
    put(
        ddb,
        table,
        a=N(1),
        b=N(2),
        m={"M": {"x": N(1), "y": {"M": {"z": N(2)}}}},
        l={"L": [N(0), N(1), N(2), N(3)]},
    )
    update(ddb, table, "REMOVE a, m.y.z, l[0], l[2], nothing, m.nothing, l[99]")
    assert get(ddb, table) == {
        **KEY,
        "b": N(2),
        "m": {"M": {"x": N(1), "y": {"M": {}}}},
        "l": {"L": [N(1), N(3)]},
    }


def test_remove_through_a_missing_parent(ddb: Any, table: str) -> None:
    put(ddb, table, m={"M": {}})
    assert error_of(ddb, table, "REMOVE nope.x") == validation(INVALID_PATH)
    assert error_of(ddb, table, "REMOVE m.a.b") == validation(INVALID_PATH)


def test_remove_only_on_a_missing_item_creates_nothing(ddb: Any, table: str) -> None:
    response = update(ddb, table, "REMOVE a, b", ReturnValues="ALL_NEW")
    assert "Attributes" not in response
    assert get(ddb, table) is None


def test_remove_everything_leaves_the_key(ddb: Any, table: str) -> None:
    put(ddb, table, a=N(1))
    update(ddb, table, "REMOVE a")
    assert get(ddb, table) == KEY


# -- ADD / DELETE ---------------------------------------------------------------------------


def test_add_numbers(ddb: Any, table: str) -> None:
    update(ddb, table, "ADD n :five, m :minus", {":five": N(5), ":minus": N("-1.5")})
    assert get(ddb, table) == {**KEY, "n": N(5), "m": N("-1.5")}
    update(ddb, table, "ADD n :five, m :minus", {":five": N(5), ":minus": N("-1.5")})
    assert get(ddb, table) == {**KEY, "n": N(10), "m": N(-3)}


def test_add_sets(ddb: Any, table: str) -> None:
    update(
        ddb,
        table,
        "ADD ss :ss, ns :ns, bs :bs",
        {":ss": {"SS": ["a"]}, ":ns": {"NS": ["1"]}, ":bs": {"BS": [b"\x01"]}},
    )
    update(
        ddb,
        table,
        "ADD ss :ss, ns :ns, bs :bs",
        {":ss": {"SS": ["a", "b"]}, ":ns": {"NS": ["1.0", "2"]}, ":bs": {"BS": [b"\x02"]}},
    )
    item = get(ddb, table)
    assert item is not None
    assert sorted(item["ss"]["SS"]) == ["a", "b"]
    assert sorted(item["ns"]["NS"]) == ["1", "2"]
    assert sorted(item["bs"]["BS"]) == [b"\x01", b"\x02"]


def test_add_nested_path(ddb: Any, table: str) -> None:
    put(ddb, table, m={"M": {"n": N(1)}})
    update(ddb, table, "ADD m.n :one", {":one": N(1)})
    assert get(ddb, table) == {**KEY, "m": {"M": {"n": N(2)}}}


@pytest.mark.parametrize(
    ("value", "type_name"),
    [
        (S("x"), "STRING"),
        ({"L": []}, "LIST"),
        ({"M": {}}, "MAP"),
        ({"BOOL": True}, "BOOLEAN"),
        ({"NULL": True}, "NULL"),
        ({"B": b"x"}, "BINARY"),
    ],
)
def test_add_wrong_operand_type(ddb: Any, table: str, value: Any, type_name: str) -> None:
    assert error_of(ddb, table, "ADD a :v", {":v": value}) == validation(
        "Invalid UpdateExpression: Incorrect operand type for operator or function; "
        f"operator: ADD, operand type: {type_name}"
    )


@pytest.mark.parametrize(("value", "type_name"), [(S("x"), "STRING"), (N(1), "NUMBER")])
def test_delete_wrong_operand_type(ddb: Any, table: str, value: Any, type_name: str) -> None:
    assert error_of(ddb, table, "DELETE a :v", {":v": value}) == validation(
        "Invalid UpdateExpression: Incorrect operand type for operator or function; "
        f"operator: DELETE, operand type: {type_name}"
    )


def test_add_to_an_attribute_of_another_type(ddb: Any, table: str) -> None:
    put(ddb, table, s=S("x"), ss={"SS": ["a"]}, n=N(1))
    assert error_of(ddb, table, "ADD s :one", {":one": N(1)}) == validation(INCORRECT_TYPE)
    assert error_of(ddb, table, "ADD ss :ns", {":ns": {"NS": ["1"]}}) == validation(INCORRECT_TYPE)
    assert error_of(ddb, table, "ADD n :ss", {":ss": {"SS": ["a"]}}) == validation(INCORRECT_TYPE)
    assert error_of(ddb, table, "DELETE ss :ns", {":ns": {"NS": ["1"]}}) == validation(
        INCORRECT_TYPE
    )
    assert error_of(ddb, table, "DELETE n :ns", {":ns": {"NS": ["1"]}}) == validation(
        INCORRECT_TYPE
    )


def test_delete_set_elements(ddb: Any, table: str) -> None:
    put(ddb, table, ss={"SS": ["a", "b", "c"]}, ns={"NS": ["1", "2"]})
    update(
        ddb,
        table,
        "DELETE ss :ss, ns :ns",
        {":ss": {"SS": ["a", "zz"]}, ":ns": {"NS": ["1.0"]}},
    )
    item = get(ddb, table)
    assert item is not None
    assert sorted(item["ss"]["SS"]) == ["b", "c"]
    assert item["ns"] == {"NS": ["2"]}


def test_delete_last_element_removes_the_attribute(ddb: Any, table: str) -> None:
    put(ddb, table, ss={"SS": ["a", "b"]})
    update(ddb, table, "DELETE ss :ss", {":ss": {"SS": ["a", "b"]}})
    assert get(ddb, table) == KEY


def test_delete_from_a_missing_attribute_is_a_no_op(ddb: Any, table: str) -> None:
    put(ddb, table, a=N(1))
    update(ddb, table, "DELETE ss :ss", {":ss": {"SS": ["a"]}})
    assert get(ddb, table) == {**KEY, "a": N(1)}


def test_delete_only_on_a_missing_item(ddb: Any, table: str) -> None:
    """DELETE of set elements on a missing item succeeds. Whether AWS then stores the
    key-only item is not captured anywhere (Scylla #5862 covers REMOVE only; the legacy
    AttributeUpdates DELETE documents "nothing happens"); this only pins that no element
    is ever stored."""
    update(ddb, table, "DELETE ss :ss", {":ss": {"SS": ["a"]}})
    assert get(ddb, table) in (None, KEY)


# -- upsert ---------------------------------------------------------------------------------


def test_update_creates_a_missing_item(ddb: Any, table: str) -> None:
    response = update(ddb, table, "SET a = :v", {":v": N(1)}, ReturnValues="ALL_OLD")
    assert "Attributes" not in response
    assert get(ddb, table) == {**KEY, "a": N(1)}


def test_update_without_expression_creates_a_key_only_item(ddb: Any, table: str) -> None:
    response = update(ddb, table, None, ReturnValues="ALL_NEW")
    assert response["Attributes"] == KEY
    assert get(ddb, table) == KEY
    put(ddb, table, a=N(1))
    update(ddb, table, None)
    assert get(ddb, table) == {**KEY, "a": N(1)}


def test_update_with_range_key(ddb: Any, make_table: Callable[..., str]) -> None:
    table = make_table(range_key="N")
    key = {"pk": S("h"), "sk": N("1.0")}
    update(ddb, table, "SET a = :v", {":v": N(1)}, key=key)
    assert get(ddb, table, {"pk": S("h"), "sk": N(1)}) == {"pk": S("h"), "sk": N(1), "a": N(1)}


# -- static errors --------------------------------------------------------------------------


def test_updating_a_key_attribute(ddb: Any, make_table: Callable[..., str]) -> None:
    table = make_table(range_key="S")
    key = {"pk": S("h"), "sk": S("r")}
    for expression, name in (
        ("SET pk = :v", "pk"),
        ("SET sk = :v", "sk"),
        ("REMOVE pk", "pk"),
        ("ADD sk :n", "sk"),
    ):
        values = {":v": S("x")} if ":v" in expression else {":n": N(1)}
        with pytest.raises(ClientError) as info:
            update(ddb, table, expression, values, key=key)
        assert info.value.response["Error"]["Message"] == (
            f"{INVALID}Cannot update attribute {name}. This attribute is part of the key"
        )
    with pytest.raises(ClientError) as info:
        update(ddb, table, "SET #k = :v", {":v": S("x")}, {"#k": "pk"}, key=key)
    assert "Cannot update attribute pk" in info.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as info:
        update(ddb, table, "SET pk.x = :v", {":v": S("x")}, key=key)
    assert info.value.response["Error"]["Message"] == (
        "Key attributes must be scalars; list random access '[]' and map lookup '.' "
        "are not allowed: Key: pk"
    )
    assert get(ddb, table, key) is None


@pytest.mark.parametrize(
    ("expression", "one", "two", "verb"),
    [
        ("SET a = :v REMOVE a.b", "[a]", "[a, b]", "overlap"),
        ("SET a.b = :v, a = :v", "[a, b]", "[a]", "overlap"),
        ("SET a = :v, a = :v", "[a]", "[a]", "overlap"),
        ("SET l[0] = :v REMOVE l[0]", "[l, [0]]", "[l, [0]]", "overlap"),
        ("SET a[0] = :v, a.b = :v", "[a, [0]]", "[a, b]", "conflict"),
        ("SET #x = :v, #y.c = :v", "[a]", "[a, c]", "overlap"),
    ],
)
def test_overlapping_and_conflicting_paths(
    ddb: Any, table: str, expression: str, one: str, two: str, verb: str
) -> None:
    names = {"#x": "a", "#y": "a"} if "#x" in expression else None
    assert error_of(ddb, table, expression, {":v": N(1)}, names) == validation(
        f"Invalid UpdateExpression: Two document paths {verb} with each other; must remove "
        f"or rewrite one of these paths; path one: {one}, path two: {two}"
    )


def test_sibling_paths_do_not_overlap(ddb: Any, table: str) -> None:
    put(ddb, table, m={"M": {"a": N(0), "b": N(0)}}, l={"L": [N(0), N(0)]})
    update(ddb, table, "SET m.a = :v, m.b = :v, l[0] = :v, l[1] = :v", {":v": N(1)})
    assert get(ddb, table) == {
        **KEY,
        "m": {"M": {"a": N(1), "b": N(1)}},
        "l": {"L": [N(1), N(1)]},
    }


@pytest.mark.parametrize("clause", ["SET", "REMOVE", "ADD", "DELETE"])
def test_clause_used_twice(ddb: Any, table: str, clause: str) -> None:
    action = {"SET": "a = :v", "REMOVE": "a", "ADD": "a :v", "DELETE": "a :v"}[clause]
    other = {"SET": "b = :v", "REMOVE": "b", "ADD": "b :v", "DELETE": "b :v"}[clause]
    expression = f"{clause} {action} {clause.lower()} {other}"
    values = None if clause == "REMOVE" else {":v": {"NS": ["1"]}}
    assert error_of(ddb, table, expression, values) == validation(
        f'Invalid UpdateExpression: The "{clause}" section can only be used once in an '
        "update expression;"
    )


def test_clauses_in_any_order_and_case(ddb: Any, table: str) -> None:
    put(ddb, table, r=N(1), ss={"SS": ["a", "b"]})
    update(
        ddb,
        table,
        "delete ss :d add n :one remove r set s = :s",
        {":d": {"SS": ["a"]}, ":one": N(1), ":s": S("x")},
    )
    assert get(ddb, table) == {**KEY, "ss": {"SS": ["b"]}, "n": N(1), "s": S("x")}


@pytest.mark.parametrize(
    ("expression", "token", "near"),
    [
        ("INVALID SYNTAX", "INVALID", "INVALID SYNTAX"),
        ("SET a = ", "<EOF>", "= "),
        ("SET a :v", ":v", "a :v"),
        ("SET a = :v,", "<EOF>", ","),
        ("REMOVE a b", "b", "a b"),
        ("SET a = :v + :v + :v", "+", ":v + :v"),
        ("SET a = :v REMOVE", "<EOF>", "REMOVE"),
        ("SET a[x] = :v", "x", "[x]"),
        ("SET a = :v;", ";", ":v;"),
        ("ADD a", "<EOF>", "a"),
    ],
)
def test_syntax_errors(ddb: Any, table: str, expression: str, token: str, near: str) -> None:
    assert error_of(ddb, table, expression, {":v": N(1)}) == validation(
        f'Invalid UpdateExpression: Syntax error; token: "{token}", near: "{near}"'
    )


@pytest.mark.parametrize("expression", ["", "   "])
def test_empty_update_expression(ddb: Any, table: str, expression: str) -> None:
    assert error_of(ddb, table, expression) == validation(
        "Invalid UpdateExpression: The expression can not be empty;"
    )


@pytest.mark.parametrize("word", ["name", "size", "DATA", "Status", "timestamp"])
def test_reserved_words(ddb: Any, table: str, word: str) -> None:
    assert error_of(ddb, table, f"SET {word} = :v", {":v": N(1)}) == validation(
        f"Invalid UpdateExpression: Attribute name is a reserved keyword; reserved keyword: {word}"
    )
    assert error_of(ddb, table, f"SET m.{word} = :v", {":v": N(1)}) == validation(
        f"Invalid UpdateExpression: Attribute name is a reserved keyword; reserved keyword: {word}"
    )


def test_undefined_placeholders(ddb: Any, table: str) -> None:
    assert error_of(ddb, table, "SET a = :v", {":w": N(1)}) == validation(
        "Invalid UpdateExpression: An expression attribute value used in expression is not "
        "defined; attribute value: :v"
    )
    assert error_of(ddb, table, "SET a = :v") == validation(
        "Invalid UpdateExpression: An expression attribute value used in expression is not "
        "defined; attribute value: :v"
    )
    assert error_of(ddb, table, "SET #a = :v", {":v": N(1)}) == validation(
        "Invalid UpdateExpression: An expression attribute name used in the document path is "
        "not defined; attribute name: #a"
    )


def test_unused_placeholders(ddb: Any, table: str) -> None:
    assert error_of(ddb, table, "SET a = :v", {":v": N(1), ":unused": N(2)}) == validation(
        "Value provided in ExpressionAttributeValues unused in expressions: keys: {:unused}"
    )
    assert error_of(
        ddb, table, "SET a = :v", {":v": N(1)}, {"#unused": "x", "#b": "y"}
    ) == validation(
        "Value provided in ExpressionAttributeNames unused in expressions: keys: {#b, #unused}"
    )


def test_placeholders_used_only_by_the_condition_count(ddb: Any, table: str) -> None:
    update(
        ddb,
        table,
        "SET a = :v",
        {":v": N(1), ":c": N(5)},
        {"#c": "c"},
        ConditionExpression="attribute_not_exists(#c) OR #c = :c",
    )
    assert get(ddb, table) == {**KEY, "a": N(1)}


def test_placeholders_without_expression(ddb: Any, table: str) -> None:
    assert error_of(ddb, table, None, {":v": N(1)}) == validation(
        "ExpressionAttributeValues can only be specified when using expressions"
    )
    assert error_of(ddb, table, None, None, {"#n": "x"}) == validation(
        "ExpressionAttributeNames can only be specified when using expressions"
    )


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("SET a = IF_NOT_EXISTS(a, :v)", "Invalid function name; function: IF_NOT_EXISTS"),
        ("SET a = nope(a)", "Invalid function name; function: nope"),
        (
            "SET a = if_not_exists(:v, :v)",
            "Operator or function requires a document path; operator or function: if_not_exists",
        ),
        (
            "SET a = if_not_exists(a)",
            "Incorrect number of operands for operator or function; operator or function: "
            "if_not_exists, number of operands: 1",
        ),
        (
            "SET a = list_append(a, :v, :v)",
            "Incorrect number of operands for operator or function; operator or function: "
            "list_append, number of operands: 3",
        ),
        (
            "SET a = size(a)",
            "The function is not allowed to be used this way in an expression; function: size",
        ),
        (
            "SET a = attribute_exists(a)",
            "The function is not allowed to be used this way in an expression; "
            "function: attribute_exists",
        ),
    ],
)
def test_function_errors(ddb: Any, table: str, expression: str, message: str) -> None:
    assert error_of(ddb, table, expression, {":v": {"L": []}}) == validation(
        "Invalid UpdateExpression: " + message
    )


def test_invalid_expression_attribute_value(ddb: Any, table: str) -> None:
    code, message = error_of(ddb, table, "SET a = :v", {":v": {"SS": []}})
    assert code == "ValidationException"
    assert message.startswith("ExpressionAttributeValues contains invalid value: ")
    assert message.endswith("for key :v")


def test_item_size_limit_on_update(ddb: Any, table: str) -> None:
    put(ddb, table, a=S("x" * 300_000))
    assert error_of(ddb, table, "SET b = :v", {":v": S("y" * 200_000)}) == validation(
        "Item size to update has exceeded the maximum allowed size"
    )


def test_errors_write_nothing(ddb: Any, table: str) -> None:
    put(ddb, table, a=N(1), s=S("x"))
    error_of(ddb, table, "SET a = :two, b = s + :two", {":two": N(2)})
    assert get(ddb, table) == {**KEY, "a": N(1), "s": S("x")}


# -- ReturnValues ---------------------------------------------------------------------------


@pytest.fixture
def doc(ddb: Any, table: str) -> dict[str, Any]:
    return put(
        ddb,
        table,
        a=N(1),
        b=S("keep"),
        m={"M": {"x": N(1), "y": N(2), "z": {"M": {"deep": N(3)}}}},
        l={"L": [N(0), N(1), N(2)]},
        ss={"SS": ["a", "b"]},
    )


def test_return_values_none(ddb: Any, table: str, doc: dict[str, Any]) -> None:
    response = update(ddb, table, "SET a = :v", {":v": N(2)}, ReturnValues="NONE")
    assert "Attributes" not in response
    response = update(ddb, table, "SET a = :v", {":v": N(3)})
    assert "Attributes" not in response


def test_return_values_all_old_and_all_new(ddb: Any, table: str, doc: dict[str, Any]) -> None:
    response = update(ddb, table, "SET a = :v REMOVE b", {":v": N(2)}, ReturnValues="ALL_OLD")
    assert response["Attributes"] == doc
    response = update(ddb, table, "SET a = :v", {":v": N(3)}, ReturnValues="ALL_NEW")
    expected = {**doc, "a": N(3)}
    del expected["b"]
    assert response["Attributes"] == expected


def test_return_values_updated_top_level(ddb: Any, table: str, doc: dict[str, Any]) -> None:
    expression = "SET a = a + :one, c = :one REMOVE b ADD n :one DELETE ss :a"
    values = {":one": N(1), ":a": {"SS": ["a"]}}
    put(ddb, table, **{k: v for k, v in doc.items() if k != "pk"})
    old = update(ddb, table, expression, values, ReturnValues="UPDATED_OLD")
    assert old["Attributes"] == {"a": N(1), "b": S("keep"), "ss": {"SS": ["a", "b"]}}
    put(ddb, table, **{k: v for k, v in doc.items() if k != "pk"})
    new = update(ddb, table, expression, values, ReturnValues="UPDATED_NEW")
    assert new["Attributes"] == {"a": N(2), "c": N(1), "n": N(1), "ss": {"SS": ["b"]}}


def test_return_values_updated_nested(ddb: Any, table: str, doc: dict[str, Any]) -> None:
    expression = "SET m.x = :v, m.z.deep = :v, l[1] = :v"
    old = update(ddb, table, expression, {":v": N(9)}, ReturnValues="UPDATED_OLD")
    assert old["Attributes"] == {
        "m": {"M": {"x": N(1), "z": {"M": {"deep": N(3)}}}},
        "l": {"L": [N(1)]},
    }
    new = update(
        ddb,
        table,
        "SET m.x = :w, m.z.deep = :w, l[2] = :w",
        {":w": N(7)},
        ReturnValues="UPDATED_NEW",
    )
    assert new["Attributes"] == {
        "m": {"M": {"x": N(7), "z": {"M": {"deep": N(7)}}}},
        "l": {"L": [N(7)]},
    }


def test_return_values_updated_new_after_list_removals(
    ddb: Any, table: str, doc: dict[str, Any]
) -> None:
    new = update(
        ddb, table, "SET l[2] = :v REMOVE l[0]", {":v": S("x")}, ReturnValues="UPDATED_NEW"
    )
    assert get(ddb, table)["l"] == {"L": [N(1), S("x")]}  # type: ignore[index]
    assert new["Attributes"] == {"l": {"L": [S("x")]}}


def test_return_values_updated_of_new_attributes(ddb: Any, table: str) -> None:
    old = update(ddb, table, "SET a = :v", {":v": N(1)}, ReturnValues="UPDATED_OLD")
    assert "Attributes" not in old
    new = update(ddb, table, "REMOVE a", ReturnValues="UPDATED_NEW")
    assert "Attributes" not in new
    old = update(ddb, table, "REMOVE absent", ReturnValues="UPDATED_OLD")
    assert "Attributes" not in old


@pytest.mark.parametrize("bad", ["ALL", "updated_new", "NOTHING"])
def test_invalid_return_values(ddb: Any, table: str, bad: str) -> None:
    code, message = error_of(ddb, table, "SET a = :v", {":v": N(1)}, ReturnValues=bad)
    assert code == "ValidationException"
    assert "eturn" in message  # enum failure (Coral) or "Return values set to invalid value"
