"""KeyConditionExpression for Query: one partition-key equality, at most one sort-key term.

Parsing uses the condition grammar, then keeps only the shapes Query can serve as an
index range; everything else gets AWS's KeyConditionExpression errors. Resolution
against the key schema happens in :meth:`KeyCondition.resolve` because the parsed form
is cached by text and shared between tables.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass

from emulator.errors import ValidationException
from emulator.model.expressions import messages as msg
from emulator.model.expressions.condition import begins_with
from emulator.model.expressions.context import ExpressionContext
from emulator.model.expressions.nodes import (
    And,
    Between,
    Comparison,
    Condition,
    Function,
    In,
    Not,
    Operand,
    Or,
    Path,
    ValueRef,
)
from emulator.model.expressions.parser import parse_condition
from emulator.model.values import AttributeValue, compare_scalars

#: Comparator as seen from the attribute when the value is written on the left.
_FLIPPED = {"=": "=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
SORT_KEY_OPERATORS = frozenset({"=", "<", "<=", ">", ">=", "BETWEEN", "begins_with"})
NOT_SUPPORTED = "Query key condition not supported"


@dataclass(frozen=True, slots=True)
class KeyTerm:
    """``path <op> values``; op is one of :data:`SORT_KEY_OPERATORS`."""

    op: str
    path: Path
    values: tuple[ValueRef, ...]


@dataclass(frozen=True, slots=True)
class ResolvedKeyCondition:
    """A key condition bound to a key schema and to the request's values."""

    partition_key: str
    partition_value: AttributeValue
    sort_key: str | None = None
    sort_op: str | None = None
    sort_values: tuple[AttributeValue, ...] = ()

    def sort_matches(self, value: AttributeValue | None) -> bool:
        """Whether an item's sort-key value satisfies the sort-key term (if any)."""
        if self.sort_op is None:
            return True
        if value is None:
            return False
        if self.sort_op == "begins_with":
            return begins_with(value, self.sort_values[0])
        order = compare_scalars(value, self.sort_values[0])
        if order is None:
            return False
        if self.sort_op == "=":
            return order == 0
        if self.sort_op == "<":
            return order < 0
        if self.sort_op == "<=":
            return order <= 0
        if self.sort_op == ">":
            return order > 0
        if self.sort_op == ">=":
            return order >= 0
        upper = compare_scalars(value, self.sort_values[1])  # BETWEEN
        return order >= 0 and upper is not None and upper <= 0


@dataclass(frozen=True, slots=True)
class KeyCondition:
    """A parsed KeyConditionExpression: the condition AST and its 1 or 2 terms."""

    node: Condition
    terms: tuple[KeyTerm, ...]

    def resolve(
        self,
        ctx: ExpressionContext,
        partition_key: str,
        sort_key: str | None = None,
        key_types: Mapping[str, str] | None = None,
    ) -> ResolvedKeyCondition:
        """Bind to a table's (or index's) key schema; ``key_types`` maps key name to S/N/B."""
        kind = msg.KEY_CONDITION
        ctx.prepare_condition(self.node, kind)
        by_name: dict[str, KeyTerm] = {}
        for term in self.terms:
            resolved = ctx.resolve_path(term.path, kind)
            if len(resolved) != 1:
                raise msg.invalid(
                    kind, "KeyConditionExpressions cannot have conditions on nested attributes"
                )
            name = str(resolved[0])
            if name in by_name:
                raise ValidationException(
                    "KeyConditionExpressions must only contain one condition per key"
                )
            by_name[name] = term
        partition = by_name.pop(partition_key, None)
        if partition is None:
            raise ValidationException(f"Query condition missed key schema element: {partition_key}")
        if partition.op != "=":
            raise ValidationException(NOT_SUPPORTED)
        sort = by_name.pop(sort_key, None) if sort_key is not None else None
        if by_name:
            if sort_key is not None and sort is None:
                raise ValidationException(f"Query condition missed key schema element: {sort_key}")
            raise ValidationException(NOT_SUPPORTED)
        partition_value = ctx.value(partition.values[0].name, kind)
        sort_values = tuple(ctx.value(v.name, kind) for v in sort.values) if sort else ()
        if key_types is not None:
            checks = [(partition_key, partition_value)]
            checks += [(str(sort_key), v) for v in sort_values]
            for name, value in checks:
                expected = key_types.get(name)
                if expected is not None and msg.type_of(value) != expected:
                    raise ValidationException(
                        "One or more parameter values were invalid: "
                        "Condition parameter type does not match schema type"
                    )
        return ResolvedKeyCondition(
            partition_key=partition_key,
            partition_value=partition_value,
            sort_key=sort_key if sort else None,
            sort_op=sort.op if sort else None,
            sort_values=sort_values,
        )


def parse_key_condition(text: str) -> KeyCondition:
    """Parse a KeyConditionExpression (cached by text) into its key terms."""
    return _parse_key_condition(text)


@functools.lru_cache(maxsize=1024)
def _parse_key_condition(text: str) -> KeyCondition:
    node = parse_condition(text, msg.KEY_CONDITION)
    terms: list[KeyTerm] = []
    _collect_terms(node, terms)
    if len(terms) > 2:
        raise msg.invalid(msg.KEY_CONDITION, "Conditions can be of length 1 or 2 only")
    return KeyCondition(node, tuple(terms))


def _unsupported_operator(operator: str) -> ValidationException:
    return ValidationException(f"Invalid operator used in KeyConditionExpression: {operator}")


def _collect_terms(node: Condition, terms: list[KeyTerm]) -> None:
    if isinstance(node, And):
        _collect_terms(node.left, terms)
        _collect_terms(node.right, terms)
    elif isinstance(node, Or):
        raise _unsupported_operator("OR")
    elif isinstance(node, Not):
        raise _unsupported_operator("NOT")
    elif isinstance(node, In):
        raise _unsupported_operator("IN")
    elif isinstance(node, Comparison):
        if node.op not in _FLIPPED:
            raise _unsupported_operator(node.op)
        for side in (node.left, node.right):
            if isinstance(side, Function):
                raise _unsupported_operator(side.name)
        path, value, op = node.left, node.right, node.op
        if not isinstance(path, Path):
            path, value, op = node.right, node.left, _FLIPPED[node.op]
        terms.append(KeyTerm(op, _key_path(path), (_key_value(value),)))
    elif isinstance(node, Between):
        terms.append(
            KeyTerm(
                "BETWEEN", _key_path(node.operand), (_key_value(node.low), _key_value(node.high))
            )
        )
    elif isinstance(node, Function):
        if node.name != "begins_with":
            raise _unsupported_operator(node.name)
        terms.append(KeyTerm("begins_with", _key_path(node.args[0]), (_key_value(node.args[1]),)))
    else:  # pragma: no cover - the parser produces no other condition nodes
        raise ValidationException(NOT_SUPPORTED)


def _key_path(operand: Operand) -> Path:
    if not isinstance(operand, Path):
        if isinstance(operand, Function):
            raise _unsupported_operator(operand.name)
        raise ValidationException(NOT_SUPPORTED)
    return operand


def _key_value(operand: Operand) -> ValueRef:
    if not isinstance(operand, ValueRef):
        if isinstance(operand, Function):
            raise _unsupported_operator(operand.name)
        raise ValidationException(NOT_SUPPORTED)
    return operand
