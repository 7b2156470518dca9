"""Applying an UpdateExpression to an item.

Every operand is evaluated against the item *before* the update (``SET a = b, b = a``
swaps), and every list index refers to the original list: SET, ADD and DELETE run
first (in text order), then all removals (REMOVE actions and sets emptied by DELETE)
run from the highest list index down, so removing ``l[0], l[1]`` removes the first two
original elements.
"""

from __future__ import annotations

import decimal
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from emulator.errors import ValidationException
from emulator.model.expressions import messages as msg
from emulator.model.expressions.context import ExpressionContext
from emulator.model.expressions.nodes import (
    Arithmetic,
    Function,
    Operand,
    Path,
    UpdateAst,
    ValueRef,
)
from emulator.model.expressions.paths import DocPath, apply_projection_resolved, get_path
from emulator.model.values import (
    AttributeValue,
    Item,
    decode_binary,
    normalize_number,
    number_value,
)

# Exact for any two in-range DynamoDB numbers (1E-130 .. 1E126, 38 digits).
_EXACT = decimal.Context(prec=400, Emin=-999999, Emax=999999)
#: Canonical integer text (what stored numbers look like): integer arithmetic is exact.
_INTEGER = re.compile(r"-?[1-9][0-9]{0,37}|0")


@dataclass(slots=True)
class UpdateResult:
    """The new item and which paths the update touched (for ReturnValues)."""

    item: Item
    #: Every path the update targeted, as resolved (UPDATED_OLD projects these).
    old_paths: tuple[DocPath, ...] = field(default=())
    #: Paths that hold a value after the update (UPDATED_NEW projects these).
    new_paths: tuple[DocPath, ...] = field(default=())
    #: True when the expression only REMOVEs: a missing item must not be created.
    removes_only: bool = False

    def updated_old(self, old_item: Item | None) -> Item:
        """ReturnValues=UPDATED_OLD: the updated parts of the old item, nesting kept."""
        return apply_projection_resolved(old_item or {}, self.old_paths)

    def updated_new(self, new_item: Item | None = None) -> Item:
        """ReturnValues=UPDATED_NEW: the updated parts of the new item, nesting kept."""
        return apply_projection_resolved(
            self.item if new_item is None else new_item, self.new_paths
        )


def apply_update(
    ast: UpdateAst, item: Item | None, ctx: ExpressionContext, key_names: Iterable[str] = ()
) -> UpdateResult:
    """Apply ``ast`` to ``item`` (None or {} for a missing item) and return a new item.

    ``item`` is never mutated. ``key_names`` are the table's key attributes, which an
    update may not touch.
    """
    original: Item = item or {}
    keys = key_names if type(key_names) is tuple else tuple(key_names)
    plan = ctx.derived(ast, _top_level_plan)
    if plan is not None:
        if plan.checked_keys != keys:
            ctx.prepare_update(ast, keys)
            plan.checked_keys = keys
        return _apply_top_level_sets(plan, original)
    ctx.prepare_update(ast, keys)
    kind = msg.UPDATE
    # Copy on write: a top-level attribute is deep-copied before its first nested change.
    new_item: Item = dict(original)
    owned: set[str] = set()

    # Evaluate every SET value against the original item before writing anything.
    set_values = [
        (ctx.resolve_path(action.path, kind), _evaluate(action.value, original, ctx))
        for action in ast.sets
    ]
    old_paths: list[DocPath] = []
    new_paths: list[DocPath] = []
    removals: list[DocPath] = []

    for path, value in _appends_last(original, set_values):
        old_paths.append(path)
        _own(new_item, path, owned)
        new_paths.append(_assign(new_item, path, value))

    for add in ast.adds:
        path = ctx.resolve_path(add.path, kind)
        operand = ctx.value(add.value.name, kind)
        old_paths.append(path)
        _own(new_item, path, owned)
        new_paths.append(_assign(new_item, path, _add(get_path(new_item, path), operand)))

    for delete in ast.deletes:
        path = ctx.resolve_path(delete.path, kind)
        operand = ctx.value(delete.value.name, kind)
        old_paths.append(path)
        current = get_path(new_item, path)
        if current is None:
            _check_parent(new_item, path)
            continue
        remaining = _subtract(current, operand)
        if remaining is None:
            removals.append(path)
        else:
            _own(new_item, path, owned)
            new_paths.append(_assign(new_item, path, remaining))

    for remove in ast.removes:
        path = ctx.resolve_path(remove.path, kind)
        old_paths.append(path)
        removals.append(path)
    for path in sorted(removals, key=_removal_order, reverse=True):
        _own(new_item, path, owned)
        _remove(new_item, path)

    return UpdateResult(
        item=new_item,
        old_paths=tuple(old_paths),
        new_paths=tuple(_shift_for_removals(p, removals) for p in new_paths)
        if removals
        else tuple(new_paths),
        removes_only=ast.removes_only,
    )


def _appends_last(
    item: Item, set_values: list[tuple[DocPath, AttributeValue]]
) -> list[tuple[DocPath, AttributeValue]]:
    """SET actions in the order they are applied: text order, except that those setting a
    list index past the list's end (which append) come last, in index order, as on AWS:
    ``SET l[11] = :y, l[10] = :x`` on a two-element list gives ``[.., .., x, y]``.

    Paths cannot overlap, so no other action changes the length of such a list, and
    "past the end" can be judged on the original item.
    """
    appends = []
    for position, (path, _value) in enumerate(set_values):
        index = path[-1]
        if len(path) > 1 and isinstance(index, int):
            parent = get_path(item, path[:-1])
            if parent is not None and "L" in parent and index >= len(parent["L"]):
                appends.append((path[:-1], index, position))
    if len(appends) < 2:
        return set_values
    last = {position for _, _, position in appends}
    ordered = [entry for position, entry in enumerate(set_values) if position not in last]
    ordered.extend(set_values[position] for _, _, position in sorted(appends, key=_append_key))
    return ordered


def _append_key(append: tuple[DocPath, int, int]) -> tuple[str, int]:
    parent, index, _position = append
    return repr(parent), index


# ------------------------------------------------------------------------- compiled

#: An operand compiled against one context: the item before the update -> the value,
#: and whether that value is freshly built (no copy needed before storing it).
Evaluator = Callable[[Item], AttributeValue]


@dataclass(slots=True)
class _TopLevelPlan:
    """An update made only of SETs of top-level attributes (``SET a = a + :one``): the
    most common shape, applied without any path walking."""

    targets: tuple[tuple[str, Evaluator, bool], ...]
    paths: tuple[DocPath, ...]
    #: The key attributes the update was last checked against (it must not touch them).
    checked_keys: tuple[str, ...] | None = None


def _top_level_plan(ast: UpdateAst, ctx: ExpressionContext) -> _TopLevelPlan | None:
    """None unless the update is only top-level SETs; compiled once it is prepared."""
    if ast.removes or ast.adds or ast.deletes:
        return None
    ctx.prepare_update(ast)
    targets = []
    for action in ast.sets:
        path = ctx.resolve_path(action.path, msg.UPDATE)
        if len(path) != 1:
            return None
        evaluate, fresh = _compile(action.value, ctx)
        targets.append((str(path[0]), evaluate, fresh))
    return _TopLevelPlan(tuple(targets), tuple((name,) for name, _, _ in targets))


def _apply_top_level_sets(plan: _TopLevelPlan, original: Item) -> UpdateResult:
    """What the general path does for such an update: every value is evaluated against
    the original item first, then assigned (a copy, unless freshly built)."""
    values = [(name, evaluate(original), fresh) for name, evaluate, fresh in plan.targets]
    new_item = dict(original)
    for name, value, fresh in values:
        new_item[name] = value if fresh else _copy(value)
    return UpdateResult(new_item, plan.paths, plan.paths, False)


def _compile(node: Operand, ctx: ExpressionContext) -> tuple[Evaluator, bool]:
    """An evaluator with the same results and errors as :func:`_evaluate`."""
    if isinstance(node, Arithmetic):
        counter = _compile_counter(node, ctx)
        if counter is not None:
            return counter, True
        left, _ = _compile(node.left, ctx)
        right, _ = _compile(node.right, ctx)
        op = node.op

        def arithmetic(item: Item) -> AttributeValue:
            a = left(item)
            b = right(item)
            if "N" not in a or "N" not in b:
                raise ValidationException(msg.INCORRECT_DATA_TYPE)
            return {"N": _arithmetic(op, a["N"], b["N"])}

        return arithmetic, True
    if isinstance(node, ValueRef):
        value = ctx.value(node.name, msg.UPDATE)
        return (lambda item: value), False
    if isinstance(node, Path):
        path = ctx.resolve_path(node, msg.UPDATE)
        if len(path) == 1 and isinstance(path[0], str):
            name = path[0]

            def attribute(item: Item) -> AttributeValue:
                found = item.get(name)
                if found is None:
                    raise ValidationException(msg.MISSING_OPERAND)
                return found

            return attribute, False
    return (lambda item: _evaluate(node, item, ctx)), False


def _compile_counter(node: Arithmetic, ctx: ExpressionContext) -> Evaluator | None:
    """``a + :n`` / ``a - :n`` with a top-level ``a`` and an integer ``:n``: a counter."""
    left, right = node.left, node.right
    if not (isinstance(left, Path) and isinstance(right, ValueRef)):
        return None
    path = ctx.resolve_path(left, msg.UPDATE)
    constant = ctx.value(right.name, msg.UPDATE).get("N")
    if len(path) != 1 or not isinstance(path[0], str) or constant is None:
        return None
    if not _INTEGER.fullmatch(constant):
        return None
    name = path[0]
    step = int(constant) if node.op == "+" else -int(constant)
    fullmatch = _INTEGER.fullmatch

    def counter(item: Item) -> AttributeValue:
        current = item.get(name)
        if current is None:
            raise ValidationException(msg.MISSING_OPERAND)
        number = current.get("N")
        if number is None:
            raise ValidationException(msg.INCORRECT_DATA_TYPE)
        if not fullmatch(number):
            return {"N": _arithmetic(node.op, number, constant)}
        return {"N": _integer_text(int(number) + step)}

    return counter


# ------------------------------------------------------------------------- operands


def _evaluate(node: Operand, item: Item, ctx: ExpressionContext) -> AttributeValue:
    kind = msg.UPDATE
    if isinstance(node, ValueRef):
        return ctx.value(node.name, kind)
    if isinstance(node, Path):
        value = get_path(item, ctx.resolve_path(node, kind))
        if value is None:
            raise ValidationException(msg.MISSING_OPERAND)
        return value
    if isinstance(node, Arithmetic):
        left = _evaluate(node.left, item, ctx)
        right = _evaluate(node.right, item, ctx)
        if "N" not in left or "N" not in right:
            raise ValidationException(msg.INCORRECT_DATA_TYPE)
        return {"N": _arithmetic(node.op, left["N"], right["N"])}
    if isinstance(node, Function):
        if node.name == "if_not_exists":
            first = node.args[0]
            assert isinstance(first, Path)
            existing = get_path(item, ctx.resolve_path(first, kind))
            return existing if existing is not None else _evaluate(node.args[1], item, ctx)
        if node.name == "list_append":
            head = _evaluate(node.args[0], item, ctx)
            tail = _evaluate(node.args[1], item, ctx)
            if "L" not in head or "L" not in tail:
                raise ValidationException(msg.INCORRECT_DATA_TYPE)
            return {"L": [*head["L"], *tail["L"]]}
    raise ValidationException(msg.INCORRECT_DATA_TYPE)  # unreachable after parsing


def _arithmetic(op: str, left: str, right: str) -> str:
    """``left op right`` of two stored (canonical) numbers, exactly, as canonical text."""
    if _INTEGER.fullmatch(left) and _INTEGER.fullmatch(right):
        return _integer_text(int(left) + int(right) if op == "+" else int(left) - int(right))
    a, b = number_value(left), number_value(right)
    result = _EXACT.add(a, b) if op == "+" else _EXACT.subtract(a, b)
    return normalize_number(str(result))


def _integer_text(value: int) -> str:
    """An integer result as a stored number; up to 38 characters is at most 38 digits,
    canonical and in range as it is (longer ones get the limit checks)."""
    text = str(value)
    return text if len(text) <= 38 else normalize_number(text)


def _add(current: AttributeValue | None, operand: AttributeValue) -> AttributeValue:
    """ADD: numbers sum (missing counts as 0), sets union (same set type only)."""
    if "N" in operand:
        if current is None:
            return {"N": normalize_number(operand["N"])}
        if "N" not in current:
            raise ValidationException(msg.INCORRECT_DATA_TYPE)
        return {"N": _arithmetic("+", current["N"], operand["N"])}
    set_type = msg.type_of(operand)
    if current is None:
        return {set_type: list(operand[set_type])}
    if set_type not in current:
        raise ValidationException(msg.INCORRECT_DATA_TYPE)
    members = list(current[set_type])
    seen = {_set_key(set_type, m) for m in members}
    for element in operand[set_type]:
        key = _set_key(set_type, element)
        if key not in seen:
            seen.add(key)
            members.append(element)
    return {set_type: members}


def _subtract(current: AttributeValue, operand: AttributeValue) -> AttributeValue | None:
    """DELETE: set difference; None when nothing is left (the attribute is removed)."""
    set_type = msg.type_of(operand)
    if set_type not in current:
        raise ValidationException(msg.INCORRECT_DATA_TYPE)
    unwanted = {_set_key(set_type, e) for e in operand[set_type]}
    members = [m for m in current[set_type] if _set_key(set_type, m) not in unwanted]
    return {set_type: members} if members else None


def _set_key(set_type: str, element: str) -> Any:
    """Identity of a set element: numbers numerically, binaries by bytes."""
    if set_type == "NS":
        return number_value(element).normalize()
    if set_type == "BS":
        return decode_binary(element)
    return element


# ------------------------------------------------------------------------- paths


def _copy(value: Any) -> Any:
    """Deep copy of JSON-native data (faster than copy.deepcopy, no memo needed)."""
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def _own(item: Item, path: DocPath, owned: set[str]) -> None:
    """Deep-copy the top-level attribute ``path`` changes inside, once per update, so the
    caller's item is never mutated (a top-level write replaces the value instead)."""
    head = str(path[0])
    if len(path) > 1 and head not in owned:
        owned.add(head)
        if head in item:
            item[head] = _copy(item[head])


def _parent(item: Item, path: DocPath) -> AttributeValue | None:
    """The container holding the last element of ``path`` (the item itself at top level)."""
    if len(path) == 1:
        return {"M": item}
    return get_path(item, path[:-1])


def _check_parent(item: Item, path: DocPath) -> dict[str, Any] | list[Any]:
    """The parent map members or list elements, or AWS's invalid-path error."""
    parent = _parent(item, path)
    last = path[-1]
    if parent is not None:
        if isinstance(last, int) and "L" in parent:
            elements: list[Any] = parent["L"]
            return elements
        if isinstance(last, str) and "M" in parent:
            members: dict[str, Any] = parent["M"]
            return members
    raise ValidationException(msg.INVALID_UPDATE_PATH)


def _assign(item: Item, path: DocPath, value: AttributeValue) -> DocPath:
    """Write ``value`` at ``path``; returns the path actually written.

    Setting a list index past the end appends, so the written index can be smaller.
    """
    container = _check_parent(item, path)
    last = path[-1]
    value = _copy(value)
    if isinstance(container, list):
        assert isinstance(last, int)
        if last < len(container):
            container[last] = value
            return path
        container.append(value)
        return (*path[:-1], len(container) - 1)
    assert isinstance(last, str)
    container[last] = value
    return path


def _remove(item: Item, path: DocPath) -> None:
    """REMOVE: missing leaves are a no-op; a missing or wrong-typed parent is an error."""
    if len(path) == 1:
        item.pop(str(path[0]), None)
        return
    container = _check_parent(item, path)
    last = path[-1]
    if isinstance(container, list):
        assert isinstance(last, int)
        if last < len(container):
            del container[last]
    else:
        container.pop(str(last), None)


def _shift_for_removals(path: DocPath, removals: list[DocPath]) -> DocPath:
    """Where ``path`` (written before the removals) points once list elements are gone."""
    shifted = list(path)
    for removed in removals:
        depth = len(removed) - 1
        index = removed[-1]
        if (
            isinstance(index, int)
            and depth < len(path)
            and tuple(path[:depth]) == removed[:-1]
            and isinstance(path[depth], int)
            and path[depth] > index  # type: ignore[operator]
        ):
            shifted[depth] = int(shifted[depth]) - 1
    return tuple(shifted)


def _removal_order(path: DocPath) -> tuple[tuple[int, int | str], ...]:
    """Sort key placing higher list indexes later (removals run in reverse order)."""
    return tuple((1, e) if isinstance(e, int) else (0, e) for e in path)
