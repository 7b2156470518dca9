"""AST of DynamoDB expressions: frozen, hashable, placeholder-preserving.

ASTs are cached by expression text and shared between requests, so they never hold
resolved names or values: ``#n`` and ``:v`` stay as written and are looked up through an
:class:`~emulator.model.expressions.context.ExpressionContext` at evaluation time.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: One step of a document path as written: a bare name ``"a"``, a name placeholder
#: ``"#n"`` (bare names can never start with '#'), or a list index ``3``.
PathElement = str | int


@dataclass(frozen=True, slots=True)
class Path:
    """A document path such as ``a.#b[3].c``."""

    elements: tuple[PathElement, ...]

    def __str__(self) -> str:
        out: list[str] = []
        for element in self.elements:
            if isinstance(element, int):
                out.append(f"[{element}]")
            else:
                out.append(("." if out else "") + element)
        return "".join(out)


@dataclass(frozen=True, slots=True)
class ValueRef:
    """An ``:value`` placeholder."""

    name: str


@dataclass(frozen=True, slots=True)
class Function:
    """A function call; whether it is a condition or an operand depends on its name."""

    name: str
    args: tuple[Operand, ...]


@dataclass(frozen=True, slots=True)
class Arithmetic:
    """``a + b`` / ``a - b`` in a SET action (at most one operator per value)."""

    op: str
    left: Operand
    right: Operand


Operand = Path | ValueRef | Function | Arithmetic


@dataclass(frozen=True, slots=True)
class Comparison:
    """``left <op> right`` with op one of ``= <> < <= > >=``."""

    op: str
    left: Operand
    right: Operand


@dataclass(frozen=True, slots=True)
class Between:
    operand: Operand
    low: Operand
    high: Operand


@dataclass(frozen=True, slots=True)
class In:
    operand: Operand
    choices: tuple[Operand, ...]


@dataclass(frozen=True, slots=True)
class And:
    left: Condition
    right: Condition


@dataclass(frozen=True, slots=True)
class Or:
    left: Condition
    right: Condition


@dataclass(frozen=True, slots=True)
class Not:
    operand: Condition


#: Condition functions are :class:`Function` nodes too (attribute_exists, contains, ...).
Condition = Comparison | Between | In | And | Or | Not | Function
Node = Condition | Operand


@dataclass(frozen=True, slots=True)
class SetAction:
    path: Path
    value: Operand


@dataclass(frozen=True, slots=True)
class RemoveAction:
    path: Path


@dataclass(frozen=True, slots=True)
class AddAction:
    path: Path
    value: ValueRef


@dataclass(frozen=True, slots=True)
class DeleteAction:
    path: Path
    value: ValueRef


@dataclass(frozen=True, slots=True)
class UpdateAst:
    """A parsed UpdateExpression; each clause appears at most once, actions in text order."""

    sets: tuple[SetAction, ...] = field(default=())
    removes: tuple[RemoveAction, ...] = field(default=())
    adds: tuple[AddAction, ...] = field(default=())
    deletes: tuple[DeleteAction, ...] = field(default=())

    @property
    def removes_only(self) -> bool:
        """True when the update only REMOVEs: it must not create a missing item."""
        return not (self.sets or self.adds or self.deletes)

    def target_paths(self) -> list[Path]:
        """Every path the update writes, in clause order (for overlap checks)."""
        paths: list[Path] = [a.path for a in self.sets]
        paths += [a.path for a in self.removes]
        paths += [a.path for a in self.adds]
        paths += [a.path for a in self.deletes]
        return paths
