"""DynamoDB's expression language: tokenizer -> parser (cached) -> AST -> evaluator.

Typical request flow (one :class:`ExpressionContext` per request)::

    ctx = ExpressionContext(request.get("ExpressionAttributeNames"),
                            request.get("ExpressionAttributeValues"))
    update = parse_update(text);            ctx.prepare_update(update, key_names)
    condition = parse_condition(cond_text); ctx.prepare_condition(condition)
    ctx.check_unused()                      # after *all* expressions of the request
    if not evaluate_condition(condition, old_item, ctx): raise ConditionalCheckFailed
    result = apply_update(update, old_item, ctx, key_names)
"""

from __future__ import annotations

from emulator.model.expressions.condition import evaluate_condition, size_of
from emulator.model.expressions.context import ExpressionContext
from emulator.model.expressions.key_condition import (
    KeyCondition,
    KeyTerm,
    ResolvedKeyCondition,
    parse_key_condition,
)
from emulator.model.expressions.messages import (
    CONDITION,
    FILTER,
    KEY_CONDITION,
    PROJECTION,
    UPDATE,
)
from emulator.model.expressions.nodes import (
    AddAction,
    And,
    Arithmetic,
    Between,
    Comparison,
    Condition,
    DeleteAction,
    Function,
    In,
    Node,
    Not,
    Operand,
    Or,
    Path,
    RemoveAction,
    SetAction,
    UpdateAst,
    ValueRef,
)
from emulator.model.expressions.parser import parse_condition, parse_projection, parse_update
from emulator.model.expressions.paths import DocPath, apply_projection_resolved, get_path
from emulator.model.expressions.projection import apply_projection
from emulator.model.expressions.reserved import RESERVED_WORDS, is_reserved
from emulator.model.expressions.update import UpdateResult, apply_update

__all__ = [
    "CONDITION",
    "FILTER",
    "KEY_CONDITION",
    "PROJECTION",
    "RESERVED_WORDS",
    "UPDATE",
    "AddAction",
    "And",
    "Arithmetic",
    "Between",
    "Comparison",
    "Condition",
    "DeleteAction",
    "DocPath",
    "ExpressionContext",
    "Function",
    "In",
    "KeyCondition",
    "KeyTerm",
    "Node",
    "Not",
    "Operand",
    "Or",
    "Path",
    "RemoveAction",
    "ResolvedKeyCondition",
    "SetAction",
    "UpdateAst",
    "UpdateResult",
    "ValueRef",
    "apply_projection",
    "apply_projection_resolved",
    "apply_update",
    "evaluate_condition",
    "get_path",
    "is_reserved",
    "parse_condition",
    "parse_key_condition",
    "parse_projection",
    "parse_update",
    "size_of",
]
