"""KeyConditionExpression for Query: one partition-key equality, at most one sort-key term
(or, on a GSI with a multi-attribute key, one equality per HASH attribute and terms on the
leading RANGE attributes).

Parsing uses the condition grammar, then keeps only the shapes Query can serve as an
index range; everything else gets AWS's KeyConditionExpression errors. Resolution
against the key schema happens in :meth:`KeyCondition.resolve` because the parsed form
is cached by text and shared between tables.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
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
    #: Multi-attribute keys: the value of every HASH attribute, in key-schema order ...
    partition_values: tuple[AttributeValue, ...] = ()
    #: ... and the equality values of the RANGE attributes before `sort_key`.
    sort_prefix: tuple[AttributeValue, ...] = ()

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
        if len(self.terms) > 2:
            raise msg.invalid(kind, "Conditions can be of length 1 or 2 only")
        by_name = self._terms_by_name(ctx)
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
            _check_types(checks, key_types)
        return ResolvedKeyCondition(
            partition_key=partition_key,
            partition_value=partition_value,
            sort_key=sort_key if sort else None,
            sort_op=sort.op if sort else None,
            sort_values=sort_values,
        )

    def resolve_multi(
        self,
        ctx: ExpressionContext,
        hash_attributes: Sequence[tuple[str, str]],
        range_attributes: Sequence[tuple[str, str]],
    ) -> ResolvedKeyCondition:
        """Bind to a GSI's multi-attribute key ((name, type) of each HASH / RANGE
        attribute, in key-schema order).

        AWS's rules (developer guide, GSI.DesignPattern.MultiAttributeKeys): "All
        partition key attributes must be specified with equality conditions"; "Sort key
        attributes must be queried left-to-right in the order they're defined ... You
        cannot skip attributes in the middle"; "Inequality conditions must be the last
        condition in your query" (begins_with counts as one). A skipped sort attribute
        answers "Query key condition not supported" (the guide's example output); a
        missing partition attribute names it, as for a one-attribute key. The terms may
        be written in any order: AND does not order them.
        """
        kind = msg.KEY_CONDITION
        by_name = self._terms_by_name(ctx)
        partition: list[KeyTerm] = []
        for name, _ in hash_attributes:
            term = by_name.pop(name, None)
            if term is None:
                raise ValidationException(f"Query condition missed key schema element: {name}")
            if term.op != "=":
                raise ValidationException(NOT_SUPPORTED)
            partition.append(term)
        sort: list[tuple[str, KeyTerm]] = []
        skipped = False
        for name, _ in range_attributes:
            term = by_name.pop(name, None)
            if term is None:
                skipped = True
            elif skipped:
                raise ValidationException(NOT_SUPPORTED)
            else:
                sort.append((name, term))
        if by_name:
            if range_attributes and not sort:
                raise ValidationException(
                    f"Query condition missed key schema element: {range_attributes[0][0]}"
                )
            raise ValidationException(NOT_SUPPORTED)
        if any(term.op != "=" for _, term in sort[:-1]):
            raise ValidationException(NOT_SUPPORTED)
        partition_values = tuple(ctx.value(term.values[0].name, kind) for term in partition)
        resolved = [(name, tuple(ctx.value(v.name, kind) for v in t.values)) for name, t in sort]
        types = dict(hash_attributes) | dict(range_attributes)
        checks = [
            (name, value)
            for (name, _), value in zip(hash_attributes, partition_values, strict=True)
        ]
        checks += [(name, value) for name, values in resolved for value in values]
        _check_types(checks, types)
        last = sort[-1] if sort else None
        return ResolvedKeyCondition(
            partition_key=hash_attributes[0][0],
            partition_value=partition_values[0],
            sort_key=last[0] if last else None,
            sort_op=last[1].op if last else None,
            sort_values=resolved[-1][1] if resolved else (),
            partition_values=partition_values,
            sort_prefix=tuple(values[0] for _, values in resolved[:-1]),
        )

    def _terms_by_name(self, ctx: ExpressionContext) -> dict[str, KeyTerm]:
        """The terms by the top-level attribute each constrains (one term per key)."""
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
        return by_name


def _check_types(
    checks: Iterable[tuple[str, AttributeValue]], key_types: Mapping[str, str]
) -> None:
    for name, value in checks:
        expected = key_types.get(name)
        if expected is not None and msg.type_of(value) != expected:
            raise ValidationException(
                "One or more parameter values were invalid: "
                "Condition parameter type does not match schema type"
            )


def parse_key_condition(text: str) -> KeyCondition:
    """Parse a KeyConditionExpression (cached by text) into its key terms."""
    return _parse_key_condition(text)


@functools.lru_cache(maxsize=1024)
def _parse_key_condition(text: str) -> KeyCondition:
    node = parse_condition(text, msg.KEY_CONDITION)
    terms: list[KeyTerm] = []
    _collect_terms(node, terms)
    # The number of terms is checked against the key schema (`resolve`): a GSI with a
    # multi-attribute key takes up to 8.
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
