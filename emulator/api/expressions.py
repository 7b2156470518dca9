"""The expression parameters of one request: which are present, the checks AWS makes on
them as a whole, and their parsed, prepared ASTs (parsing itself is cached by text)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from emulator.errors import ValidationException
from emulator.model.expressions import (
    CONDITION,
    FILTER,
    Condition,
    DocPath,
    ExpressionContext,
    KeyCondition,
    UpdateAst,
    parse_condition,
    parse_key_condition,
    parse_projection,
    parse_update,
)
from emulator.model.values import validate_value

#: Expression members in the order AWS names them in the "both kinds" error.
_EXPRESSION_MEMBERS = (
    "ProjectionExpression",
    "KeyConditionExpression",
    "FilterExpression",
    "UpdateExpression",
    "ConditionExpression",
)
#: Legacy members, likewise.
_LEGACY_MEMBERS = (
    "AttributesToGet",
    "KeyConditions",
    "QueryFilter",
    "ScanFilter",
    "AttributeUpdates",
    "Expected",
    "ConditionalOperator",
)


@dataclass(slots=True)
class RequestExpressions:
    ctx: ExpressionContext
    condition: Condition | None = None
    update: UpdateAst | None = None
    projection: list[DocPath] | None = None
    filter: Condition | None = None
    key_condition: KeyCondition | None = None


#: Shared by every request without expressions; nothing ever writes to it.
_NO_EXPRESSIONS = RequestExpressions(ExpressionContext())


def _check_mixing(request: dict[str, Any], expression_members: Iterable[str]) -> bool:
    """AWS refuses a request mixing expressions with legacy parameters."""
    expressions = [m for m in _EXPRESSION_MEMBERS if m in expression_members and m in request]
    # Query's legacy KeyConditions go with a FilterExpression or ProjectionExpression
    # (Scylla's suite, run against AWS, queries that way); only KeyConditionExpression
    # excludes them.
    legacy = [
        m
        for m in _LEGACY_MEMBERS
        if request.get(m) is not None
        and (m != "KeyConditions" or "KeyConditionExpression" in expressions)
    ]
    if expressions and legacy:
        raise ValidationException(
            "Can not use both expression and non-expression parameters in the same request: "
            f"Non-expression parameters: {{{', '.join(legacy)}}} "
            f"Expression parameters: {{{', '.join(expressions)}}}"
        )
    return bool(expressions)


def _checked_names(names: Any) -> dict[str, str]:
    if not names:
        raise ValidationException("ExpressionAttributeNames must not be empty")
    for key in names:
        if not key.startswith("#") or len(key) < 2:
            raise ValidationException(
                f'ExpressionAttributeNames contains invalid key: Syntax error; key: "{key}"'
            )
        if names[key] == "":
            # AWS's text, as reported by applications that hit it.
            raise ValidationException(
                "ExpressionAttributeNames contains invalid value: "
                f"Empty attribute name for key {key}"
            )
    return dict(names)


def _checked_values(values: Any) -> dict[str, Any]:
    if not values:
        raise ValidationException("ExpressionAttributeValues must not be empty")
    checked: dict[str, Any] = {}
    for key, value in values.items():
        if not key.startswith(":") or len(key) < 2:
            raise ValidationException(
                f'ExpressionAttributeValues contains invalid key: Syntax error; key: "{key}"'
            )
        try:
            checked[key] = validate_value(value)
        except ValidationException as error:
            raise ValidationException(
                f"ExpressionAttributeValues contains invalid value: {error.message} for key {key}"
            ) from None
    return checked


def prepare_expressions(
    request: dict[str, Any],
    *,
    condition: str | None = None,
    update: bool = False,
    projection: bool = False,
    filter_member: str | None = None,
    key_condition: bool = False,
    key_names: tuple[str, ...] = (),
) -> RequestExpressions:
    """Parse and prepare every expression the operation accepts, then check placeholders.

    `condition` names the member holding a condition ("ConditionExpression"); AWS
    reports unused placeholders only once all expressions of the request were resolved.
    """
    cache_key = None
    if not (projection or filter_member or key_condition):
        # Writes: the whole preparation is cached (see _WRITE_CACHE).
        cache_key = _write_cache_key(request, condition, update, key_names)
        if cache_key is not None:
            cached = _WRITE_CACHE.get(cache_key)
            if (
                cached is not None
                and cached[0] == request.get("ExpressionAttributeNames")
                and cached[1] == request.get("ExpressionAttributeValues")
            ):
                return cached[2]
    members = []
    if condition:
        members.append(condition)
    if update:
        members.append("UpdateExpression")
    if projection:
        members.append("ProjectionExpression")
    if filter_member:
        members.append(filter_member)
    if key_condition:
        members.append("KeyConditionExpression")
    if (
        "ExpressionAttributeNames" not in request
        and "ExpressionAttributeValues" not in request
        and not any(member in request for member in members)
    ):
        return _NO_EXPRESSIONS  # the common case of a plain write, on the hot path
    uses_expressions = _check_mixing(request, members)
    raw_names = request.get("ExpressionAttributeNames")
    raw_values = request.get("ExpressionAttributeValues")
    if not uses_expressions:
        if raw_names is not None:
            raise ValidationException(
                "ExpressionAttributeNames can only be specified when using expressions"
            )
        if raw_values is not None:
            raise ValidationException(
                "ExpressionAttributeValues can only be specified when using expressions"
            )
        return RequestExpressions(ExpressionContext())
    names = _checked_names(raw_names) if raw_names is not None else None
    values = _checked_values(raw_values) if raw_values is not None else None
    ctx = ExpressionContext(names, values)
    prepared = RequestExpressions(ctx)
    if projection and "ProjectionExpression" in request:
        prepared.projection = ctx.resolve_projection(
            parse_projection(request["ProjectionExpression"])
        )
    if key_condition and "KeyConditionExpression" in request:
        prepared.key_condition = parse_key_condition(request["KeyConditionExpression"])
    if filter_member and filter_member in request:
        prepared.filter = parse_condition(request[filter_member], FILTER)
        ctx.prepare_condition(prepared.filter, FILTER)
    if update and "UpdateExpression" in request:
        prepared.update = parse_update(request["UpdateExpression"])
        ctx.prepare_update(prepared.update, key_names)
    if condition and condition in request:
        prepared.condition = parse_condition(request[condition], CONDITION)
        ctx.prepare_condition(prepared.condition, CONDITION)
    if prepared.key_condition is None:
        # With a key condition, Query checks this once the condition is resolved.
        ctx.check_unused()
    if cache_key is not None:
        if len(_WRITE_CACHE) >= _WRITE_CACHE_SIZE:
            _WRITE_CACHE.clear()
        _WRITE_CACHE[cache_key] = (raw_names, raw_values, prepared)
    return prepared


#: Prepared Condition/UpdateExpressions of writes, by expression texts, with the
#: placeholders they were prepared with (a hit must have equal ones: comparing two small
#: dicts costs less than encoding them into the key). Parsing is cached by text already;
#: this also skips resolving placeholders and the static checks for requests that repeat
#: their expressions *and* their values (a counter's ``SET a = a + :one``). Only
#: successful preparations are stored; a cached context is only read afterwards (its
#: used-placeholder sets are already complete).
_WRITE_CACHE: dict[tuple[Any, ...], tuple[Any, Any, RequestExpressions]] = {}
_WRITE_CACHE_SIZE = 1024
_LEGACY_SET = frozenset(_LEGACY_MEMBERS)


def _write_cache_key(
    request: dict[str, Any], condition: str | None, update: bool, key_names: tuple[str, ...]
) -> tuple[Any, ...] | None:
    condition_text = request.get(condition) if condition else None
    update_text = request.get("UpdateExpression") if update else None
    if (condition_text is None and update_text is None) or not _LEGACY_SET.isdisjoint(request):
        return None  # nothing to cache, or (maybe) the mixing error to raise
    return (condition, condition_text, update_text, key_names)
