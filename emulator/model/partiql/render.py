"""PartiQL clauses rendered into DynamoDB's expression language.

A statement runs as the equivalent item operation, so its WHERE and SET clauses become
a ConditionExpression / FilterExpression / KeyConditionExpression / UpdateExpression
with generated `#nN` / `:vN` placeholders: every attribute name goes through a name
placeholder (no reserved-word clash), every literal and `?` parameter through a value
placeholder. The expression language's own parser and evaluator then do the work.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from emulator.errors import ValidationException
from emulator.model.partiql import messages as msg
from emulator.model.partiql.nodes import (
    BagValue,
    BetweenExpr,
    Binary,
    Call,
    Expr,
    InExpr,
    IsExpr,
    ListValue,
    Literal,
    MapValue,
    Missing,
    NotExpr,
    Parameter,
    PathRef,
    RemovePath,
    SetAssign,
)
from emulator.model.values import AttributeValue, validate_value

_COMPARISONS = frozenset({"=", "<>", "<", "<=", ">", ">="})
#: `IS <type>` -> the attribute_type name.
_IS_TYPES = {
    "BOOLEAN": "BOOL",
    "STRING": "S",
    "NUMERIC": "N",
    "BLOB": "B",
    "STRUCT": "M",
    "TUPLE": "M",
    "LIST": "L",
}
_PATH_FUNCTIONS = frozenset({"attribute_exists", "attribute_not_exists"})
_CONDITION_FUNCTIONS = frozenset({"attribute_type", "begins_with", "contains"})
_NUMBER_LIMITS = ("Number overflow", "Number underflow", "Attempting to store more than 38")


class Renderer:
    """The placeholders of one statement bound to one request's Parameters."""

    def __init__(self, text: str, parameters: Sequence[AttributeValue]) -> None:
        self.text = text
        self.parameters = parameters
        self.names: dict[str, str] = {}
        self._name_refs: dict[str, str] = {}
        self.values: dict[str, AttributeValue] = {}

    # ------------------------------------------------------------ placeholders

    def name(self, name: str) -> str:
        ref = self._name_refs.get(name)
        if ref is None:
            ref = f"#n{len(self._name_refs)}"
            self._name_refs[name] = ref
            self.names[ref] = name
        return ref

    def value_ref(self, value: AttributeValue) -> str:
        ref = f":v{len(self.values)}"
        self.values[ref] = value
        return ref

    def path(self, path: PathRef) -> str:
        out = self.name(path.name)
        for step in path.steps[1:]:
            out += f"[{step}]" if isinstance(step, int) else "." + self.name(step)
        return out

    def members(self) -> dict[str, Any]:
        """ExpressionAttributeNames / Values for the request (absent when empty)."""
        members: dict[str, Any] = {}
        if self.names:
            members["ExpressionAttributeNames"] = dict(self.names)
        if self.values:
            members["ExpressionAttributeValues"] = dict(self.values)
        return members

    # ------------------------------------------------------------------ values

    def value(self, expr: Expr, where: str = "") -> AttributeValue:
        """The AttributeValue a value expression denotes (`where`: its path in the value,
        for AWS's `under root...` messages)."""
        if isinstance(expr, Literal):
            if "N" in expr.value:
                try:
                    return validate_value(expr.value)
                except ValidationException as error:
                    text = str(error.message)
                    if text.startswith(_NUMBER_LIMITS):
                        raise ValidationException(f"{text} under root{where}") from None
                    raise
            return expr.value
        if isinstance(expr, Parameter):
            if expr.index >= len(self.parameters):
                raise ValidationException(msg.PARAMETER_COUNT)
            parameter = self.parameters[expr.index]
            _check_parameter_numbers(parameter)
            return validate_value(parameter)
        if isinstance(expr, ListValue):
            return {"L": [self.value(item, f"{where}[{i}]") for i, item in enumerate(expr.items)]}
        if isinstance(expr, MapValue):
            return {"M": {key: self.value(item, f"{where}.{key}") for key, item in expr.entries}}
        if isinstance(expr, BagValue):
            return self.bag(expr, where)
        if isinstance(expr, Missing):
            raise ValidationException(msg.MISSING_COMPARED)
        if isinstance(expr, Call):
            raise msg.at(
                f"Unsupported data type: {expr.name} under key root{where}",
                self.text,
                expr.start,
                expr.length,
            )
        raise ValidationException(f"Unsupported data type: path under key root{where}")

    def bag(self, expr: BagValue, where: str) -> AttributeValue:
        if not expr.items:
            raise ValidationException(msg.EMPTY_BAG)
        members = [self.value(item, where) for item in expr.items]
        kinds = {next(iter(member)) for member in members}
        if kinds == {"S"}:
            return validate_value({"SS": [m["S"] for m in members]})
        if kinds == {"N"}:
            return validate_value({"NS": [m["N"] for m in members]})
        raise ValidationException(
            "Unsupported data type in Bag. DynamoDB only supports either numbers or strings in bags"
        )

    def item(self, expr: Expr) -> dict[str, AttributeValue]:
        """The item of an INSERT's VALUE."""
        if not isinstance(expr, MapValue):
            raise ValidationException(msg.ITEM_FORMAT)
        value = self.value(expr)
        return dict(value["M"])

    # -------------------------------------------------------------- conditions

    def operand(self, expr: Expr) -> str:
        if isinstance(expr, PathRef):
            return self.path(expr)
        if isinstance(expr, Call):
            if expr.name != "size":
                raise self.unrecognized(expr)
            if len(expr.args) != 1:
                raise ValidationException(
                    "Incorrect number of operands for operator or function; operator or "
                    f"function: size, number of operands: {len(expr.args)}"
                )
            return f"size({self.operand(expr.args[0])})"
        if isinstance(expr, (Binary, NotExpr, BetweenExpr, InExpr, IsExpr)):
            raise msg.not_well_formed("Unexpected operand")
        return self.value_ref(self.value(expr))

    def condition(self, expr: Expr) -> str:
        if isinstance(expr, Binary):
            if expr.op in ("AND", "OR"):
                return f"({self.condition(expr.left)} {expr.op} {self.condition(expr.right)})"
            if expr.op in _COMPARISONS:
                return f"{self.operand(expr.left)} {expr.op} {self.operand(expr.right)}"
            raise ValidationException(
                f"Unsupported operator in Condition Expression. Operator: {expr.op}"
            )
        if isinstance(expr, NotExpr):
            return f"(NOT {self.condition(expr.operand)})"
        if isinstance(expr, BetweenExpr):
            return (
                f"{self.operand(expr.operand)} BETWEEN {self.operand(expr.low)} "
                f"AND {self.operand(expr.high)}"
            )
        if isinstance(expr, InExpr):
            choices = list(expr.choices)
            if len(choices) == 1 and isinstance(choices[0], ListValue):
                choices = list(choices[0].items)
            rendered = ", ".join(self.operand(choice) for choice in choices)
            return f"{self.operand(expr.operand)} IN ({rendered})"
        if isinstance(expr, IsExpr):
            return self.is_check(expr)
        if isinstance(expr, Call):
            return self.function(expr)
        raise ValidationException(
            "WHERE clause must contain an expression that resolves to a boolean"
        )

    def is_check(self, expr: IsExpr) -> str:
        if not isinstance(expr.operand, PathRef):
            raise ValidationException(
                "The left hand side argument to IS must be a Variable Reference, Literal, or Path"
            )
        path = self.path(expr.operand)
        if expr.type_name == "MISSING":
            return f"attribute_exists({path})" if expr.negated else f"attribute_not_exists({path})"
        if expr.type_name == "NULL":
            # PartiQL: a missing attribute IS NULL too.
            null = self.value_ref({"S": "NULL"})
            text = f"(attribute_not_exists({path}) OR attribute_type({path}, {null}))"
            return f"(NOT {text})" if expr.negated else text
        type_code = _IS_TYPES.get(expr.type_name)
        if type_code is None:
            raise ValidationException(
                f"Unsupported data type for IS operator: {expr.type_name}. Supported data types "
                "are [MISSING, NULL, BOOLEAN, BLOB, STRING, NUMERIC, STRUCT, TUPLE, LIST]"
            )
        text = f"attribute_type({path}, {self.value_ref({'S': type_code})})"
        return f"(NOT {text})" if expr.negated else text

    def function(self, expr: Call) -> str:
        if expr.name in _PATH_FUNCTIONS:
            if len(expr.args) != 1:
                raise ValidationException(
                    "Incorrect number of operands for operator or function; operator or "
                    f"function: {expr.name}, number of operands: {len(expr.args)}"
                )
            if not isinstance(expr.args[0], PathRef):
                raise ValidationException(
                    "Operator or function requires a document path; operator or function: "
                    f"{expr.name}"
                )
            return f"{expr.name}({self.path(expr.args[0])})"
        if expr.name in _CONDITION_FUNCTIONS:
            args = ", ".join(self.operand(arg) for arg in expr.args)
            return f"{expr.name}({args})"
        raise self.unrecognized(expr)

    def unrecognized(self, expr: Call) -> ValidationException:
        return msg.at(f"Unrecognized function: {expr.name}", self.text, expr.start, expr.length)

    # ------------------------------------------------------------------ update

    def update(self, actions: Sequence[SetAssign | RemovePath]) -> str:
        """SET / REMOVE actions as an UpdateExpression (set_add -> ADD, set_delete -> DELETE)."""
        sets: list[str] = []
        removes: list[str] = []
        adds: list[str] = []
        deletes: list[str] = []
        for action in actions:
            if isinstance(action, RemovePath):
                removes.append(self.path(action.path))
                continue
            value = action.value
            if isinstance(value, Call) and value.name in ("set_add", "set_delete"):
                clause = adds if value.name == "set_add" else deletes
                clause.append(self.set_function(action.path, value))
            else:
                sets.append(f"{self.path(action.path)} = {self.set_value(value)}")
        parts = []
        for keyword, clause in (("SET", sets), ("REMOVE", removes), ("ADD", adds)):
            if clause:
                parts.append(f"{keyword} {', '.join(clause)}")
        if deletes:
            parts.append(f"DELETE {', '.join(deletes)}")
        return " ".join(parts)

    def set_function(self, target: PathRef, call: Call) -> str:
        which = call.name.upper()
        if len(call.args) != 2:
            raise msg.at(
                f"{which} must have exactly two arguments", self.text, call.start, call.length
            )
        first, second = call.args
        if not isinstance(first, PathRef) or first.steps != target.steps:
            raise msg.at(
                f"The first argument to {which} must equal the assignment value",
                self.text,
                call.start,
                call.length,
            )
        value = self.value(second) if not isinstance(second, PathRef) else None
        if value is None or next(iter(value)) not in ("SS", "NS", "BS"):
            raise msg.at(
                f"The second argument to {which} must be a value with type SET",
                self.text,
                first.start,
                len(first.name),
            )
        return f"{self.path(target)} {self.value_ref(value)}"

    def set_value(self, expr: Expr) -> str:
        if isinstance(expr, Binary) and expr.op in ("+", "-"):
            return f"{self.set_operand(expr.left)} {expr.op} {self.set_operand(expr.right)}"
        if isinstance(expr, IsExpr):
            raise ValidationException(msg.IS_IN_UPDATE)
        return self.set_operand(expr)

    def set_operand(self, expr: Expr) -> str:
        if isinstance(expr, PathRef):
            return self.path(expr)
        if isinstance(expr, Call):
            if expr.name not in ("list_append", "if_not_exists"):
                raise self.unrecognized(expr)
            args = ", ".join(self.set_operand(arg) for arg in expr.args)
            return f"{expr.name}({args})"
        if isinstance(expr, (Binary, NotExpr, BetweenExpr, InExpr, IsExpr)):
            raise ValidationException(
                "Unsupported operator in Update Expression. Operator: "
                f"{getattr(expr, 'op', type(expr).__name__)}"
            )
        return self.value_ref(self.value(expr))


def _check_parameter_numbers(value: object) -> None:
    """A parameter's number is read as Java's BigDecimal reads text: an exponent beyond
    32 bits cannot be converted at all (AWS echoes the text)."""
    if not isinstance(value, dict):
        return
    for kind, inner in value.items():
        if kind == "N" and isinstance(inner, str):
            _check_exponent(inner)
        elif kind == "NS" and isinstance(inner, list):
            for member in inner:
                if isinstance(member, str):
                    _check_exponent(member)
        elif kind == "L" and isinstance(inner, list):
            for member in inner:
                _check_parameter_numbers(member)
        elif kind == "M" and isinstance(inner, dict):
            for member in inner.values():
                _check_parameter_numbers(member)


def _check_exponent(text: str) -> None:
    _, _, exponent = text.lower().partition("e")
    digits = exponent.lstrip("+-")
    if digits.isdigit() and not -(2**31) <= int(exponent) < 2**31:
        raise ValidationException(f"The parameter cannot be converted to a numeric value: {text}")
