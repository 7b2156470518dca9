"""ExpressionAttributeNames/Values of one request, and the checks that need them.

One context serves all expressions of a request. Each expression is *prepared* once
(every placeholder resolved, value-dependent static checks run), which records the
placeholders it uses; after all of them the caller calls :meth:`check_unused`, because
AWS reports unused placeholders only for the request as a whole.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

from emulator.errors import ValidationException
from emulator.model.expressions import messages as msg
from emulator.model.expressions.nodes import (
    And,
    Arithmetic,
    Between,
    Comparison,
    Condition,
    Function,
    In,
    Node,
    Not,
    Operand,
    Or,
    Path,
    UpdateAst,
    ValueRef,
)
from emulator.model.expressions.paths import DocPath, paths_overlap_or_conflict
from emulator.model.values import AttributeValue, compare_scalars

_Node = TypeVar("_Node")
_T = TypeVar("_T")

#: attribute_type's valid type names, in the order AWS lists them.
VALID_TYPES = ("B", "NULL", "SS", "BOOL", "L", "BS", "N", "NS", "S", "M")
ORDERED_TYPES = frozenset({"S", "N", "B"})
ADD_TYPES = frozenset({"N", "SS", "NS", "BS"})
SET_TYPES = frozenset({"SS", "NS", "BS"})
SIZED_TYPES = frozenset({"S", "B", "SS", "NS", "BS", "L", "M"})
SUBSTRING_TYPES = frozenset({"S", "B"})


class ExpressionContext:
    """Placeholder resolution plus usage bookkeeping for one request."""

    def __init__(
        self,
        names: Mapping[str, str] | None = None,
        values: Mapping[str, AttributeValue] | None = None,
    ) -> None:
        self.names: Mapping[str, str] = names or {}
        self.values: Mapping[str, AttributeValue] = values or {}
        self.used_names: set[str] = set()
        self.used_values: set[str] = set()
        # id(node) -> (node, kind); the node is held so its id stays unique.
        self._prepared: dict[int, tuple[object, str]] = {}
        # id(path) -> (path, resolved): paths are resolved again at evaluation time.
        self._resolved: dict[int, tuple[Path, DocPath]] = {}
        # (id(ast), key names) whose key-attribute check passed; the ast is held.
        self._key_checked: dict[tuple[int, tuple[str, ...]], UpdateAst] = {}
        # id(node) -> (node, what `derived` built from it).
        self._derived: dict[int, tuple[object, Any]] = {}

    # ---------------------------------------------------------------- resolution

    def name(self, placeholder: str, kind: str) -> str:
        """The attribute name behind ``#n``."""
        try:
            resolved = self.names[placeholder]
        except KeyError:
            raise msg.invalid(
                kind,
                "An expression attribute name used in the document path is not defined; "
                f"attribute name: {placeholder}",
            ) from None
        self.used_names.add(placeholder)
        return resolved

    def value(self, placeholder: str, kind: str) -> AttributeValue:
        """The AttributeValue behind ``:v``."""
        try:
            resolved = self.values[placeholder]
        except KeyError:
            raise msg.invalid(
                kind,
                "An expression attribute value used in expression is not defined; "
                f"attribute value: {placeholder}",
            ) from None
        self.used_values.add(placeholder)
        return resolved

    def resolve_path(self, path: Path, kind: str) -> DocPath:
        """Substitute ``#n`` placeholders; indexes and bare names stay as they are."""
        entry = self._resolved.get(id(path))
        if entry is not None and entry[0] is path:
            return entry[1]
        resolved = tuple(
            self.name(e, kind) if isinstance(e, str) and e.startswith("#") else e
            for e in path.elements
        )
        self._resolved[id(path)] = (path, resolved)
        return resolved

    def check_unused(self) -> None:
        """Raise for placeholders no prepared expression used (names first)."""
        unused_names = sorted(set(self.names) - self.used_names)
        if unused_names:
            raise ValidationException(
                "Value provided in ExpressionAttributeNames unused in expressions: "
                "keys: {" + ", ".join(unused_names) + "}"
            )
        unused_values = sorted(set(self.values) - self.used_values)
        if unused_values:
            raise ValidationException(
                "Value provided in ExpressionAttributeValues unused in expressions: "
                "keys: {" + ", ".join(unused_values) + "}"
            )

    def derived(self, node: _Node, build: Callable[[_Node, ExpressionContext], _T]) -> _T:
        """`build(node, self)`, computed once per node: what an AST compiles to under
        these placeholders (the context of a cached write is reused across requests)."""
        entry = self._derived.get(id(node))
        if entry is not None and entry[0] is node:
            return entry[1]
        result = build(node, self)
        self._derived[id(node)] = (node, result)
        return result

    def kind_of(self, node: object) -> str | None:
        """The kind an AST was prepared as, or None if it was not prepared here."""
        entry = self._prepared.get(id(node))
        return entry[1] if entry is not None and entry[0] is node else None

    def _remember(self, node: object, kind: str) -> None:
        """Remember a successfully prepared AST, so preparing again is free."""
        self._prepared[id(node)] = (node, kind)

    # ---------------------------------------------------------------- conditions

    def prepare_condition(self, node: Condition, kind: str = msg.CONDITION) -> None:
        """Resolve every placeholder of a condition, then run value-dependent checks."""
        if self.kind_of(node) == kind:
            return
        for child in walk_nodes(node):
            if isinstance(child, Path):
                self.resolve_path(child, kind)
            elif isinstance(child, ValueRef):
                self.value(child.name, kind)
        for child in walk_nodes(node):
            self._check_condition_node(child, kind)
        self._remember(node, kind)

    def _literal(self, operand: Operand, kind: str) -> AttributeValue | None:
        return self.value(operand.name, kind) if isinstance(operand, ValueRef) else None

    def _check_distinct(
        self, operator: str, first: Operand, rest: Sequence[Operand], kind: str
    ) -> None:
        if not isinstance(first, Path):
            return
        resolved = self.resolve_path(first, kind)
        for other in rest:
            if isinstance(other, Path) and self.resolve_path(other, kind) == resolved:
                raise msg.invalid(
                    kind,
                    "The first operand must be distinct from the remaining operands for this "
                    f"operator or function; operator: {operator}, first operand: "
                    f"{msg.render_path(resolved)}",
                )

    def _check_condition_node(self, node: Node, kind: str) -> None:
        if isinstance(node, Comparison):
            self._check_distinct(node.op, node.left, [node.right], kind)
            if node.op not in ("=", "<>"):
                for operand in (node.left, node.right):
                    literal = self._literal(operand, kind)
                    if literal is not None and msg.type_of(literal) not in ORDERED_TYPES:
                        raise msg.incorrect_operand(kind, node.op, msg.type_of(literal))
        elif isinstance(node, Between):
            self._check_distinct("BETWEEN", node.operand, [node.low, node.high], kind)
            for operand in (node.operand, node.low, node.high):
                literal = self._literal(operand, kind)
                if literal is not None and msg.type_of(literal) not in ORDERED_TYPES:
                    raise msg.incorrect_operand(kind, "BETWEEN", msg.type_of(literal))
            low = self._literal(node.low, kind)
            high = self._literal(node.high, kind)
            if low is not None and high is not None:
                check_between_bounds(low, high, kind)
        elif isinstance(node, In):
            self._check_distinct("IN", node.operand, node.choices, kind)
        elif isinstance(node, Function):
            self._check_function(node, kind)

    def _check_function(self, node: Function, kind: str) -> None:
        name = node.name
        literals = [self._literal(arg, kind) for arg in node.args]
        if name == "attribute_type" and literals[1] is not None:
            type_value = literals[1]
            if msg.type_of(type_value) != "S":
                raise msg.incorrect_operand(kind, name, msg.type_of(type_value))
            if type_value["S"] not in VALID_TYPES:
                raise msg.invalid(
                    kind,
                    f"Invalid attribute type name found; type: {type_value['S']}, "
                    "valid types: { " + ",".join(VALID_TYPES) + " }",
                )
        elif name == "begins_with":
            for literal in literals:
                if literal is not None and msg.type_of(literal) not in SUBSTRING_TYPES:
                    raise msg.incorrect_operand(kind, name, msg.type_of(literal))
        elif name == "contains":
            self._check_distinct(name, node.args[0], node.args[1:], kind)
        elif name == "size":
            literal = literals[0]
            if literal is not None and msg.type_of(literal) not in SIZED_TYPES:
                raise msg.incorrect_operand(kind, name, msg.type_of(literal))

    # ---------------------------------------------------------------- updates

    def prepare_update(self, ast: UpdateAst, key_names: Iterable[str] | None = None) -> None:
        """Resolve an UpdateExpression; check overlaps, literal operand types and keys.

        ``key_names`` (the table's key attributes) is optional so the check can also run
        later in :func:`apply_update`; passing it here fails the request before any
        ConditionExpression is evaluated, as AWS does.
        """
        kind = msg.UPDATE
        if self.kind_of(ast) != kind:
            for child in _walk_update(ast):
                if isinstance(child, Path):
                    self.resolve_path(child, kind)
                elif isinstance(child, ValueRef):
                    self.value(child.name, kind)
            self._check_overlaps([self.resolve_path(p, kind) for p in ast.target_paths()], kind)
            for add in ast.adds:
                literal = self.value(add.value.name, kind)
                if msg.type_of(literal) not in ADD_TYPES:
                    raise _incorrect_clause_operand("ADD", literal)
            for delete in ast.deletes:
                literal = self.value(delete.value.name, kind)
                if msg.type_of(literal) not in SET_TYPES:
                    raise _incorrect_clause_operand("DELETE", literal)
            for child in _walk_update(ast):
                if isinstance(child, Function) and child.name == "list_append":
                    for arg in child.args:
                        element = self._literal(arg, kind)
                        if element is not None and msg.type_of(element) != "L":
                            raise msg.incorrect_operand(kind, "list_append", msg.type_of(element))
            self._remember(ast, kind)
        if key_names is not None:
            keys = tuple(key_names)
            if self._key_checked.get((id(ast), keys)) is not ast:
                check_key_updates(self, ast, keys)
                self._key_checked[(id(ast), keys)] = ast

    def _check_overlaps(self, paths: Sequence[DocPath], kind: str) -> None:
        for i, one in enumerate(paths):
            for two in paths[i + 1 :]:
                relation = paths_overlap_or_conflict(one, two)
                if relation is None:
                    continue
                verb = "overlap" if relation == "overlap" else "conflict"
                raise msg.invalid(
                    kind,
                    f"Two document paths {verb} with each other; must remove or rewrite one of "
                    f"these paths; path one: {msg.render_path(one)}, "
                    f"path two: {msg.render_path(two)}",
                )

    # ---------------------------------------------------------------- projections

    def resolve_projection(self, paths: Sequence[Path]) -> list[DocPath]:
        """Resolve a ProjectionExpression's paths (also for AttributesToGet-free reads)."""
        kind = msg.PROJECTION
        resolved = [self.resolve_path(p, kind) for p in paths]
        self._check_overlaps(resolved, kind)
        return resolved


def check_between_bounds(low: AttributeValue, high: AttributeValue, kind: str) -> None:
    """AWS rejects BETWEEN bounds of different types or in descending order."""
    order = compare_scalars(low, high)
    if order is None:
        raise msg.invalid(
            kind,
            "The BETWEEN operator requires same data type for lower and upper bounds; "
            f"lower bound operand: AttributeValue: {msg.render_value(low)}, "
            f"upper bound operand: AttributeValue: {msg.render_value(high)}",
        )
    if order > 0:
        raise msg.invalid(
            kind,
            "The BETWEEN operator requires upper bound to be greater than or equal to lower "
            f"bound; lower bound operand: AttributeValue: {msg.render_value(low)}, "
            f"upper bound operand: AttributeValue: {msg.render_value(high)}",
        )


def _incorrect_clause_operand(clause: str, literal: AttributeValue) -> ValidationException:
    type_name = msg.LONG_TYPE_NAMES.get(msg.type_of(literal), msg.type_of(literal))
    return msg.invalid(
        msg.UPDATE,
        "Incorrect operand type for operator or function; "
        f"operator: {clause}, operand type: {type_name}",
    )


def check_key_updates(ctx: ExpressionContext, ast: UpdateAst, key_names: Iterable[str]) -> None:
    """Key attributes can be neither updated nor used as a document-path parent."""
    keys = set(key_names)
    for path in ast.target_paths():
        resolved = ctx.resolve_path(path, msg.UPDATE)
        head = resolved[0]
        if head not in keys:
            continue
        if len(resolved) > 1:
            raise ValidationException(
                "Key attributes must be scalars; list random access '[]' and map lookup '.' "
                f"are not allowed: Key: {head}"
            )
        raise ValidationException(
            "One or more parameter values were invalid: Cannot update attribute "
            f"{head}. This attribute is part of the key"
        )


def walk_nodes(node: Any) -> Iterable[Node]:
    """All nodes of a condition or operand tree, parents before children, text order."""
    yield node
    if isinstance(node, (And, Or)):
        yield from walk_nodes(node.left)
        yield from walk_nodes(node.right)
    elif isinstance(node, Not):
        yield from walk_nodes(node.operand)
    elif isinstance(node, (Comparison, Arithmetic)):
        yield from walk_nodes(node.left)
        yield from walk_nodes(node.right)
    elif isinstance(node, Between):
        yield from walk_nodes(node.operand)
        yield from walk_nodes(node.low)
        yield from walk_nodes(node.high)
    elif isinstance(node, In):
        yield from walk_nodes(node.operand)
        for choice in node.choices:
            yield from walk_nodes(choice)
    elif isinstance(node, Function):
        for arg in node.args:
            yield from walk_nodes(arg)


def _walk_update(ast: UpdateAst) -> Iterable[Node]:
    for set_action in ast.sets:
        yield set_action.path
        yield from walk_nodes(set_action.value)
    for remove in ast.removes:
        yield remove.path
    for add in ast.adds:
        yield add.path
        yield add.value
    for delete in ast.deletes:
        yield delete.path
        yield delete.value
