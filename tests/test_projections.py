"""ProjectionExpression on GetItem through boto3 and the real server: nested paths, list
elements, placeholders, and the projection errors (SPEC 5.4, 5.6)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

KEY = {"pk": {"S": "k"}}
ITEM = {
    **KEY,
    "a": {"N": "1"},
    "b": {"S": "two"},
    "m": {
        "M": {
            "x": {"N": "1"},
            "y": {"M": {"z": {"S": "deep"}, "w": {"N": "2"}}},
            "arr": {"L": [{"N": "0"}, {"M": {"q": {"S": "r"}, "s": {"S": "t"}}}]},
        }
    },
    "l": {"L": [{"S": "l0"}, {"S": "l1"}, {"L": [{"S": "n0"}, {"S": "n1"}]}, {"S": "l3"}]},
    "a.b": {"S": "dotted"},
    "name": {"S": "reserved"},
}


@pytest.fixture
def table(ddb: Any, make_table: Callable[..., str]) -> str:
    name = make_table()
    ddb.put_item(TableName=name, Item=ITEM)
    return name


def project(
    ddb: Any, table: str, projection: str, names: dict[str, str] | None = None, **extra: Any
) -> dict[str, Any] | None:
    kwargs: dict[str, Any] = {"TableName": table, "Key": KEY, "ProjectionExpression": projection}
    if names is not None:
        kwargs["ExpressionAttributeNames"] = names
    item: dict[str, Any] | None = ddb.get_item(**kwargs, **extra).get("Item")
    return item


def error_of(ddb: Any, table: str, projection: str, **extra: Any) -> str:
    with pytest.raises(ClientError) as info:
        ddb.get_item(TableName=table, Key=KEY, ProjectionExpression=projection, **extra)
    assert info.value.response["Error"]["Code"] == "ValidationException"
    return str(info.value.response["Error"]["Message"])


@pytest.mark.parametrize(
    ("projection", "expected"),
    [
        ("a", {"a": ITEM["a"]}),
        ("a, b", {"a": ITEM["a"], "b": ITEM["b"]}),
        ("b,a", {"a": ITEM["a"], "b": ITEM["b"]}),
        ("pk", KEY),
        ("m.x", {"m": {"M": {"x": {"N": "1"}}}}),
        ("m.y.z", {"m": {"M": {"y": {"M": {"z": {"S": "deep"}}}}}}),
        (
            "m.x, m.y.w",
            {"m": {"M": {"x": {"N": "1"}, "y": {"M": {"w": {"N": "2"}}}}}},
        ),
        ("l[1]", {"l": {"L": [{"S": "l1"}]}}),
        ("l[3], l[0]", {"l": {"L": [{"S": "l0"}, {"S": "l3"}]}}),
        ("l[2][1]", {"l": {"L": [{"L": [{"S": "n1"}]}]}}),
        ("m.arr[1].q", {"m": {"M": {"arr": {"L": [{"M": {"q": {"S": "r"}}}]}}}}),
        ("m.y", {"m": {"M": {"y": ITEM["m"]["M"]["y"]}}}),
        ("a, nothing, m.nothing, l[10], b.x, m.x[0]", {"a": ITEM["a"]}),
        ("m.x.y", {}),
    ],
)
def test_projection(ddb: Any, table: str, projection: str, expected: dict[str, Any]) -> None:
    assert project(ddb, table, projection) == expected


def test_projection_with_names(ddb: Any, table: str) -> None:
    names = {"#dot": "a.b", "#n": "name", "#m": "m", "#y": "y"}
    assert project(ddb, table, "#dot, #n, #m.#y.z", names) == {
        "a.b": {"S": "dotted"},
        "name": {"S": "reserved"},
        "m": {"M": {"y": {"M": {"z": {"S": "deep"}}}}},
    }


def test_projection_on_a_missing_item(ddb: Any, table: str) -> None:
    response = ddb.get_item(TableName=table, Key={"pk": {"S": "nobody"}}, ProjectionExpression="a")
    assert "Item" not in response


def test_projection_with_consumed_capacity(ddb: Any, table: str) -> None:
    response = ddb.get_item(
        TableName=table, Key=KEY, ProjectionExpression="a", ReturnConsumedCapacity="TOTAL"
    )
    assert response["Item"] == {"a": ITEM["a"]}
    assert response["ConsumedCapacity"]["CapacityUnits"] == 0.5


@pytest.mark.parametrize(
    ("projection", "message"),
    [
        ("", "The expression can not be empty;"),
        ("!!", 'Syntax error; token: "!", near: "!!"'),
        ("a,", 'Syntax error; token: "<EOF>", near: ","'),
        ("a b", 'Syntax error; token: "b", near: "a b"'),
        ("a[x]", 'Syntax error; token: "x", near: "[x]"'),
        ("a[-1]", 'Syntax error; token: "-", near: "[-1"'),
        ("a.", 'Syntax error; token: "<EOF>", near: "."'),
        (":v", 'Syntax error; token: ":v", near: ":v"'),
        ("name", "Attribute name is a reserved keyword; reserved keyword: name"),
        ("m.Size", "Attribute name is a reserved keyword; reserved keyword: Size"),
        (
            "m, m.x",
            "Two document paths overlap with each other; must remove or rewrite one of these "
            "paths; path one: [m], path two: [m, x]",
        ),
        (
            "a, a",
            "Two document paths overlap with each other; must remove or rewrite one of these "
            "paths; path one: [a], path two: [a]",
        ),
        (
            "l[0], l.x",
            "Two document paths conflict with each other; must remove or rewrite one of these "
            "paths; path one: [l, [0]], path two: [l, x]",
        ),
    ],
)
def test_projection_errors(ddb: Any, table: str, projection: str, message: str) -> None:
    assert error_of(ddb, table, projection) == f"Invalid ProjectionExpression: {message}"


def test_projection_placeholder_errors(ddb: Any, table: str) -> None:
    assert error_of(ddb, table, "#a") == (
        "Invalid ProjectionExpression: An expression attribute name used in the document path "
        "is not defined; attribute name: #a"
    )
    assert error_of(ddb, table, "a", ExpressionAttributeNames={"#a": "a"}) == (
        "Value provided in ExpressionAttributeNames unused in expressions: keys: {#a}"
    )


def test_projection_with_attributes_to_get(ddb: Any, table: str) -> None:
    assert error_of(ddb, table, "a", AttributesToGet=["a"]) == (
        "Can not use both expression and non-expression parameters in the same request: "
        "Non-expression parameters: {AttributesToGet} Expression parameters: "
        "{ProjectionExpression}"
    )


def test_names_without_projection(ddb: Any, table: str) -> None:
    with pytest.raises(ClientError) as info:
        ddb.get_item(TableName=table, Key=KEY, ExpressionAttributeNames={"#a": "a"})
    assert info.value.response["Error"]["Message"] == (
        "ExpressionAttributeNames can only be specified when using expressions"
    )
