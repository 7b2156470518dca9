"""Property: Query over random items and random key conditions returns exactly the items,
in exactly the order, that a brute-force filter + sort in Python with DynamoDB's ordering
gives (S by UTF-8 bytes, N numerically, B by unsigned bytes), in both directions and with
small Limits and pagination (issue 6 item 8)."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

OPERATORS = ("=", "<", "<=", ">", ">=", "BETWEEN", "begins_with", None)
_partitions = itertools.count()


def _number() -> st.SearchStrategy[str]:
    mantissa = st.integers(min_value=-(10**12), max_value=10**12)
    exponent = st.integers(min_value=-12, max_value=12)
    plain = st.integers(min_value=-1000, max_value=1000).map(str)
    fraction = st.tuples(mantissa, exponent).map(lambda t: f"{t[0]}E{t[1]}")
    extreme = st.sampled_from(["1E+125", "-1E+125", "1E-130", "-1E-130", "0", "-0.0"])
    return st.one_of(plain, fraction, extreme)


VALUES: dict[str, st.SearchStrategy[Any]] = {
    "S": st.text(
        alphabet=st.one_of(
            st.sampled_from("aAbBzZ09 _~\x7f"),
            st.characters(min_codepoint=0x80, max_codepoint=0x10FFFF, exclude_categories=("Cs",)),
        ),
        min_size=1,
        max_size=5,
    ),
    "N": _number(),
    "B": st.binary(min_size=1, max_size=4),
}


def order_key(kind: str, value: Any) -> Any:
    """DynamoDB's order for a sort-key value as Python compares it."""
    if kind == "S":
        return value.encode("utf-8")
    if kind == "N":
        return Decimal(value)
    return bytes(value)


def attribute(kind: str, value: Any) -> dict[str, Any]:
    return {kind: value}


@st.composite
def scenario(draw: Callable[..., Any], kind: str) -> dict[str, Any]:
    raw_values = draw(st.lists(VALUES[kind], min_size=0, max_size=25))
    unique: dict[Any, Any] = {}
    for value in raw_values:
        unique.setdefault(order_key(kind, value), value)
    values = list(unique.values())
    operand = st.one_of(st.sampled_from(values), VALUES[kind]) if values else VALUES[kind]
    operators = [op for op in OPERATORS if kind != "N" or op != "begins_with"]
    op = draw(st.sampled_from(operators))
    operands: list[Any] = []
    if op == "BETWEEN":
        low, high = sorted([draw(operand), draw(operand)], key=lambda v: order_key(kind, v))
        operands = [low, high]
    elif op == "begins_with":
        whole = draw(operand)
        cut = draw(st.integers(min_value=1, max_value=len(whole)))
        operands = [whole[:cut]]
    elif op is not None:
        operands = [draw(operand)]
    return {
        "values": values,
        "op": op,
        "operands": operands,
        "forward": draw(st.booleans()),
        "limit": draw(st.one_of(st.none(), st.integers(min_value=1, max_value=6))),
    }


def matches(kind: str, op: str | None, operands: list[Any], value: Any) -> bool:
    key = order_key(kind, value)
    bounds = [order_key(kind, o) for o in operands]
    if op is None:
        return True
    if op == "=":
        return bool(key == bounds[0])
    if op == "<":
        return bool(key < bounds[0])
    if op == "<=":
        return bool(key <= bounds[0])
    if op == ">":
        return bool(key > bounds[0])
    if op == ">=":
        return bool(key >= bounds[0])
    if op == "BETWEEN":
        return bool(bounds[0] <= key <= bounds[1])
    return bool(key.startswith(bounds[0]))


@pytest.fixture(scope="module")
def tables(ddb: Any) -> Iterator[dict[str, str]]:
    names = {}
    for kind in ("S", "N", "B"):
        name = f"property-{kind}-{next(_partitions)}-{id(ddb)}"
        ddb.create_table(
            TableName=name,
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": kind},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        names[kind] = name
    yield names
    for name in names.values():
        ddb.delete_table(TableName=name)


def check(ddb: Any, table: str, kind: str, case: dict[str, Any]) -> None:
    partition = f"p{next(_partitions)}"  # a fresh partition per example
    values = case["values"]
    for start in range(0, len(values), 25):
        ddb.batch_write_item(
            RequestItems={
                table: [
                    {
                        "PutRequest": {
                            "Item": {
                                "pk": {"S": partition},
                                "sk": attribute(kind, v),
                                "i": {"N": str(values.index(v))},
                            }
                        }
                    }
                    for v in values[start : start + 25]
                ]
            }
        )
    op, operands = case["op"], case["operands"]
    names = {":p": {"S": partition}}
    condition = "pk = :p"
    if op == "BETWEEN":
        condition += " AND sk BETWEEN :a AND :b"
        names |= {":a": attribute(kind, operands[0]), ":b": attribute(kind, operands[1])}
    elif op == "begins_with":
        condition += " AND begins_with(sk, :a)"
        names[":a"] = attribute(kind, operands[0])
    elif op is not None:
        condition += f" AND sk {op} :a"
        names[":a"] = attribute(kind, operands[0])
    kwargs: dict[str, Any] = {
        "TableName": table,
        "KeyConditionExpression": condition,
        "ExpressionAttributeValues": names,
        "ScanIndexForward": case["forward"],
    }
    if case["limit"] is not None:
        kwargs["Limit"] = case["limit"]
    got: list[int] = []
    pages = 0
    while True:
        page = ddb.query(**kwargs)
        pages += 1
        if case["limit"] is not None:
            assert page["ScannedCount"] <= case["limit"]
        got.extend(int(item["i"]["N"]) for item in page["Items"])
        if "LastEvaluatedKey" not in page:
            break
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        assert pages <= len(values) + 2
    expected = sorted(
        (i for i, v in enumerate(values) if matches(kind, op, operands, v)),
        key=lambda i: order_key(kind, values[i]),
        reverse=not case["forward"],
    )
    assert got == expected, (condition, operands)


@pytest.mark.parametrize("kind", ["S", "N", "B"])
def test_query_matches_brute_force(ddb: Any, tables: dict[str, str], kind: str) -> None:
    @settings(
        max_examples=100,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        database=None,
    )
    @given(case=scenario(kind))
    def run(case: dict[str, Any]) -> None:
        check(ddb, tables[kind], kind, case)

    run()
