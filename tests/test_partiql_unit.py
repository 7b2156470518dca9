"""The PartiQL grammar on its own: tokens, ASTs, the parse cache, rendering."""

from __future__ import annotations

import pytest

from emulator.errors import ValidationException
from emulator.model.partiql import parse_statement
from emulator.model.partiql.lexer import NUMBER, QUOTED, STRING, tokenize
from emulator.model.partiql.nodes import (
    Binary,
    Delete,
    Insert,
    Literal,
    MapValue,
    Parameter,
    PathRef,
    Select,
    Source,
    Update,
)
from emulator.model.partiql.render import Renderer


def test_tokens_quotes_numbers_and_comments() -> None:
    tokens = tokenize("SELECT \"a\"\"b\" -- note\n FROM 'it''s' /* x */ .5e1 7.31E+6")
    kinds = [(t.kind, t.text) for t in tokens[:-1]]
    assert kinds == [
        ("IDENT", "SELECT"),
        (QUOTED, 'a"b'),
        ("IDENT", "FROM"),
        (STRING, "it's"),
        (NUMBER, "0.5e1"),
        (NUMBER, "7.31E+6"),
    ]


def test_select_ast_and_cache() -> None:
    text = 'select a.b[2], "c" from "T"."i" where pk = ? and sk > -1 order by sk desc'
    statement = parse_statement(text)
    assert statement is parse_statement(text)
    assert isinstance(statement, Select)
    assert statement.source == Source("T", "i")
    assert statement.projection is not None
    assert [p.steps for p in statement.projection] == [("a", "b", 2), ("c",)]
    assert statement.order_by == ("sk", True)
    assert statement.parameters == 1
    assert isinstance(statement.where, Binary) and statement.where.op == "AND"
    left = statement.where.left
    assert isinstance(left, Binary) and isinstance(left.right, Parameter)
    right = statement.where.right
    assert isinstance(right, Binary) and right.right == Literal({"N": "-1"}, right.right.start)  # type: ignore[union-attr]


def test_write_asts() -> None:
    insert = parse_statement("INSERT INTO t VALUE {'pk': 'a', 'n': ?}")
    assert isinstance(insert, Insert) and isinstance(insert.item, MapValue)
    assert insert.parameters == 1
    update = parse_statement(
        "UPDATE t SET a = a + 1, b = 2 REMOVE c WHERE pk = 'a' RETURNING ALL NEW *"
    )
    assert isinstance(update, Update)
    assert update.returning == "ALL_NEW"
    assert len(update.actions) == 3
    delete = parse_statement("DELETE FROM t WHERE pk = 'a'")
    assert isinstance(delete, Delete) and delete.returning == "NONE"


@pytest.mark.parametrize(
    "text",
    ["SELECT * FROM t WHERE", "SELECT * FROM t x", "INSERT INTO t VALUE {'a': 1} z", "DROP t"],
)
def test_malformed(text: str) -> None:
    with pytest.raises(ValidationException):
        parse_statement(text)


def test_render_condition_and_update() -> None:
    statement = parse_statement(
        "UPDATE t SET ss = set_add(ss, <<'x'>>) SET n = n + ? REMOVE \"select\" "
        "WHERE pk = 'a' AND (v IS MISSING OR begins_with(s, 'p'))"
    )
    assert isinstance(statement, Update) and statement.where is not None
    renderer = Renderer("", [{"N": "2"}])
    assert renderer.update(statement.actions) == "SET #n1 = #n1 + :v1 REMOVE #n2 ADD #n0 :v0"
    assert isinstance(statement.where, Binary)
    condition = renderer.condition(statement.where.right)
    assert condition == "(attribute_not_exists(#n3) OR begins_with(#n4, :v2))"
    assert renderer.names == {"#n0": "ss", "#n1": "n", "#n2": "select", "#n3": "v", "#n4": "s"}
    assert renderer.values == {":v0": {"SS": ["x"]}, ":v1": {"N": "2"}, ":v2": {"S": "p"}}


def test_projection_column_names() -> None:
    assert PathRef(("m", "k", 1), 0).display() == "k[1]"
    assert PathRef(("l", 0), 0).display() == "l[0]"
