"""AST of a PartiQL statement: frozen, so parsed statements are cached by text.

Values stay as written (`?` parameters are `Parameter` nodes): an AST depends on the
statement's text alone, and is bound to a request's Parameters when it is planned.
"""

from __future__ import annotations

from dataclasses import dataclass

from emulator.model.values import AttributeValue

#: One step of a path: an attribute or map key name, or a list index.
PathStep = str | int


@dataclass(frozen=True, slots=True)
class Literal:
    """A scalar literal ('s', 1.5, TRUE, NULL), already as an AttributeValue."""

    value: AttributeValue
    start: int


@dataclass(frozen=True, slots=True)
class Missing:
    start: int


@dataclass(frozen=True, slots=True)
class Parameter:
    """The `index`-th `?` of the statement (0-based)."""

    index: int
    start: int


@dataclass(frozen=True, slots=True)
class ListValue:
    items: tuple[Expr, ...]
    start: int


@dataclass(frozen=True, slots=True)
class MapValue:
    entries: tuple[tuple[str, Expr], ...]
    start: int


@dataclass(frozen=True, slots=True)
class BagValue:
    """`<<...>>`: a string or number set."""

    items: tuple[Expr, ...]
    start: int


@dataclass(frozen=True, slots=True)
class PathRef:
    steps: tuple[PathStep, ...]
    start: int

    @property
    def name(self) -> str:
        return str(self.steps[0])

    def display(self) -> str:
        """The path as AWS names a projected column: from its last named step on."""
        last = max(i for i, step in enumerate(self.steps) if isinstance(step, str))
        out = str(self.steps[last])
        for step in self.steps[last + 1 :]:
            out += f"[{step}]"
        return out


@dataclass(frozen=True, slots=True)
class Call:
    """A function call; `name` in lower case."""

    name: str
    args: tuple[Expr, ...]
    start: int
    length: int


@dataclass(frozen=True, slots=True)
class Binary:
    """`op` one of = <> < <= > >= + - AND OR."""

    op: str
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class NotExpr:
    operand: Expr


@dataclass(frozen=True, slots=True)
class BetweenExpr:
    operand: Expr
    low: Expr
    high: Expr


@dataclass(frozen=True, slots=True)
class InExpr:
    operand: Expr
    choices: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class IsExpr:
    """`operand IS [NOT] MISSING | NULL | <type>`."""

    operand: Expr
    type_name: str
    negated: bool


Expr = (
    Literal
    | Missing
    | Parameter
    | ListValue
    | MapValue
    | BagValue
    | PathRef
    | Call
    | Binary
    | NotExpr
    | BetweenExpr
    | InExpr
    | IsExpr
)


@dataclass(frozen=True, slots=True)
class Source:
    """`"table"` or `"table"."index"`."""

    table: str
    index: str | None


@dataclass(frozen=True, slots=True)
class Select:
    source: Source
    #: None for `*`.
    projection: tuple[PathRef, ...] | None
    where: Expr | None
    #: (attribute, descending) of ORDER BY.
    order_by: tuple[str, bool] | None
    parameters: int


@dataclass(frozen=True, slots=True)
class Insert:
    source: Source
    item: Expr
    parameters: int


@dataclass(frozen=True, slots=True)
class SetAssign:
    path: PathRef
    value: Expr


@dataclass(frozen=True, slots=True)
class RemovePath:
    path: PathRef


@dataclass(frozen=True, slots=True)
class Update:
    source: Source
    actions: tuple[SetAssign | RemovePath, ...]
    where: Expr | None
    #: ReturnValues: NONE, ALL_OLD, UPDATED_OLD, ALL_NEW, UPDATED_NEW.
    returning: str
    parameters: int


@dataclass(frozen=True, slots=True)
class Delete:
    source: Source
    where: Expr | None
    returning: str
    parameters: int


@dataclass(frozen=True, slots=True)
class Exists:
    """`EXISTS(SELECT ...)`: a condition check of ExecuteTransaction."""

    select: Select
    parameters: int


Statement = Select | Insert | Update | Delete | Exists
