"""Evaluation of Condition / Filter expressions against an item.

An operand evaluates to an AttributeValue or to None ("absent": a path that does not
resolve). Type mismatches at evaluation time make a comparison false rather than fail,
as in DynamoDB; only the static checks done when the expression is prepared raise.
"""

from __future__ import annotations

from emulator.model.expressions import messages as msg
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
from emulator.model.expressions.paths import get_path
from emulator.model.values import (
    AttributeValue,
    Item,
    compare_scalars,
    decode_binary,
    number_value,
    values_equal,
)


def evaluate_condition(
    node: Condition, item: Item | None, ctx: ExpressionContext, kind: str | None = None
) -> bool:
    """True if ``item`` (None or {} for a missing item) satisfies the condition.

    The node is prepared on ``ctx`` first if the caller has not done so (as
    ``kind``, default ConditionExpression); preparing is idempotent and cheap after the
    first time, so a Scan can call this once per item.
    """
    prepared_kind = ctx.kind_of(node)
    if prepared_kind is None or (kind is not None and kind != prepared_kind):
        prepared_kind = kind or msg.CONDITION
        ctx.prepare_condition(node, prepared_kind)
    return _Evaluator(item or {}, ctx, prepared_kind).condition(node)


class _Evaluator:
    __slots__ = ("ctx", "item", "kind")

    def __init__(self, item: Item, ctx: ExpressionContext, kind: str) -> None:
        self.item = item
        self.ctx = ctx
        self.kind = kind

    def condition(self, node: Condition) -> bool:
        if isinstance(node, Comparison):
            return self.comparison(node)
        if isinstance(node, And):
            return self.condition(node.left) and self.condition(node.right)
        if isinstance(node, Or):
            return self.condition(node.left) or self.condition(node.right)
        if isinstance(node, Not):
            return not self.condition(node.operand)
        if isinstance(node, Between):
            return self.between(node)
        if isinstance(node, In):
            value = self.operand(node.operand)
            if value is None:
                return False
            for choice in node.choices:
                candidate = self.operand(choice)
                if candidate is not None and values_equal(value, candidate):
                    return True
            return False
        return self.function(node)

    def operand(self, node: Operand) -> AttributeValue | None:
        if isinstance(node, Path):
            return get_path(self.item, self.ctx.resolve_path(node, self.kind))
        if isinstance(node, ValueRef):
            return self.ctx.value(node.name, self.kind)
        if isinstance(node, Function) and node.name == "size":
            return size_of(self.operand(node.args[0]))
        return None  # the parser rejects every other operand in conditions

    def comparison(self, node: Comparison) -> bool:
        left = self.operand(node.left)
        right = self.operand(node.right)
        if node.op == "=":
            return left is not None and right is not None and values_equal(left, right)
        if node.op == "<>":
            # A missing attribute is "not equal" to any value (DynamoDB filters such as
            # `status <> :deleted` keep items without `status`).
            return left is None or right is None or not values_equal(left, right)
        if left is None or right is None:
            return False
        order = compare_scalars(left, right)
        if order is None:
            return False
        if node.op == "<":
            return order < 0
        if node.op == "<=":
            return order <= 0
        if node.op == ">":
            return order > 0
        return order >= 0

    def between(self, node: Between) -> bool:
        """Bounds in descending order are an error only when both are request values
        (checked when the expression is prepared); bounds read from the item in that
        order just make the condition false, as on AWS."""
        value = self.operand(node.operand)
        low = self.operand(node.low)
        high = self.operand(node.high)
        if value is None or low is None or high is None:
            return False
        above = compare_scalars(value, low)
        below = compare_scalars(value, high)
        return above is not None and below is not None and above >= 0 and below <= 0

    def function(self, node: Function) -> bool:
        name = node.name
        if name == "attribute_exists":
            return self.operand(node.args[0]) is not None
        if name == "attribute_not_exists":
            return self.operand(node.args[0]) is None
        target = self.operand(node.args[0])
        argument = self.operand(node.args[1]) if len(node.args) > 1 else None
        if target is None or argument is None:
            return False
        if name == "attribute_type":
            return argument.get("S") == msg.type_of(target)
        if name == "begins_with":
            return begins_with(target, argument)
        if name == "contains":
            return contains(target, argument)
        return False


def size_of(value: AttributeValue | None) -> AttributeValue | None:
    """DynamoDB's size(): S -> length, B -> bytes, sets/L/M -> element count.

    The AWS guide says a String's size is its *length* ("Brand is less than or equal to
    20 characters"), not its UTF-8 byte count, so a String counts Unicode code points.
    (DynamoDB runs on Java, whose String.length() would count UTF-16 units for
    characters outside the BMP; we have no capture either way.) N, BOOL and NULL have no
    size: the result is absent, so any comparison with it is false.
    """
    if value is None:
        return None
    for kind, content in value.items():
        if kind == "S":
            return {"N": str(len(content))}
        if kind == "B":
            return {"N": str(len(decode_binary(content)))}
        if kind in ("SS", "NS", "BS", "L", "M"):
            return {"N": str(len(content))}
    return None


def begins_with(target: AttributeValue, prefix: AttributeValue) -> bool:
    if "S" in target and "S" in prefix:
        return bool(target["S"].startswith(prefix["S"]))
    if "B" in target and "B" in prefix:
        return decode_binary(target["B"]).startswith(decode_binary(prefix["B"]))
    return False


def contains(target: AttributeValue, operand: AttributeValue) -> bool:
    """Substring of S, byte subsequence of B, member of a set, element of a list."""
    if "S" in target:
        return "S" in operand and operand["S"] in target["S"]
    if "B" in target:
        return "B" in operand and decode_binary(operand["B"]) in decode_binary(target["B"])
    if "SS" in target:
        return "S" in operand and operand["S"] in target["SS"]
    if "NS" in target:
        if "N" not in operand:
            return False
        wanted = number_value(operand["N"])
        return any(number_value(n) == wanted for n in target["NS"])
    if "BS" in target:
        if "B" not in operand:
            return False
        wanted_bytes = decode_binary(operand["B"])
        return any(decode_binary(b) == wanted_bytes for b in target["BS"])
    if "L" in target:
        return any(values_equal(element, operand) for element in target["L"])
    return False
