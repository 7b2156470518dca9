"""DynamoDB's legacy (pre-expression) request parameters.

Older SDKs and tools still send ``Expected`` + ``ConditionalOperator`` (PutItem,
UpdateItem, DeleteItem), ``QueryFilter`` / ``ScanFilter``, ``KeyConditions`` (Query),
``AttributeUpdates`` (UpdateItem) and ``AttributesToGet`` (GetItem, Query, Scan, ...).
AWS still serves them, with their own error texts, so this module gives each one:

* a ``validate_*`` function for the static errors AWS raises before it reads any item,
* an evaluator / applier working on wire-form items (see :mod:`emulator.model.values`).

The semantics reuse the expression evaluator's helpers (``contains``, ``begins_with``,
ADD/DELETE set arithmetic) so the two APIs cannot drift apart where AWS defines them the
same way. Texts marked "unsure" in comments are the emulator's best knowledge of AWS's
wording; no capture of them was available.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from emulator.errors import ValidationException
from emulator.model.expressions.condition import begins_with, contains
from emulator.model.expressions.update import _add, _copy, _subtract
from emulator.model.values import (
    AttributeValue,
    Item,
    compare_scalars,
    validate_value,
    values_equal,
)

__all__ = [
    "KEY_OPERATORS",
    "OPERATORS",
    "apply_attribute_updates",
    "evaluate_condition_entry",
    "evaluate_expected",
    "evaluate_filter",
    "project_attributes",
    "validate_attribute_updates",
    "validate_attributes_to_get",
    "validate_expected",
    "validate_filter",
    "validate_key_conditions",
    "validate_multi_key_conditions",
]

_INVALID = "One or more parameter values were invalid: "

_SCALARS = frozenset({"S", "N", "B"})
_SETS = frozenset({"SS", "NS", "BS"})
_ALL_TYPES = frozenset({"S", "N", "B", "SS", "NS", "BS", "M", "L", "NULL", "BOOL"})

#: ComparisonOperator -> (minimum, maximum) number of AttributeValueList entries
#: (maximum None: unbounded) and the AttributeValue types the entries may have. From the
#: API reference of ``Condition``: EQ/NE take any type (lists and maps included),
#: ordering operators and BETWEEN take scalars, BEGINS_WITH only S and B.
OPERATORS: dict[str, tuple[int, int | None, frozenset[str]]] = {
    "EQ": (1, 1, _ALL_TYPES),
    "NE": (1, 1, _ALL_TYPES),
    "LE": (1, 1, _SCALARS),
    "LT": (1, 1, _SCALARS),
    "GE": (1, 1, _SCALARS),
    "GT": (1, 1, _SCALARS),
    "NOT_NULL": (0, 0, frozenset()),
    "NULL": (0, 0, frozenset()),
    "CONTAINS": (1, 1, _SCALARS),
    "NOT_CONTAINS": (1, 1, _SCALARS),
    "BEGINS_WITH": (1, 1, frozenset({"S", "B"})),
    "IN": (1, None, _SCALARS),
    "BETWEEN": (2, 2, _SCALARS),
}

#: Operators Query can serve from the sort-key index, mapped to the expression vocabulary
#: used by :class:`emulator.model.expressions.ResolvedKeyCondition`.
KEY_OPERATORS: dict[str, str] = {
    "EQ": "=",
    "LT": "<",
    "LE": "<=",
    "GT": ">",
    "GE": ">=",
    "BETWEEN": "BETWEEN",
    "BEGINS_WITH": "begins_with",
}

_CONDITIONAL_OPERATORS = ("AND", "OR")
_ACTIONS = ("PUT", "ADD", "DELETE")


def _type_of(av: AttributeValue) -> str:
    for kind in av:
        return kind
    return ""


# --------------------------------------------------------------------------- checks


def _check_conditional_operator(conditional_operator: str | None) -> None:
    """AND/OR only. The request-shape validator normally rejects others first (enum)."""
    if conditional_operator is not None and conditional_operator not in _CONDITIONAL_OPERATORS:
        raise ValidationException(
            "1 validation error detected: Value '"
            + str(conditional_operator)
            + "' at 'conditionalOperator' failed to satisfy constraint: "
            "Member must satisfy enum value set: [AND, OR]"
        )


def _check_operator(operator: Any, values: list[Any]) -> list[AttributeValue]:
    """Argument count and types for one ComparisonOperator; returns the normalised values.

    Values are validated first (numbers, sets) because AWS deserialises and checks every
    AttributeValue before it looks at what the operator does with them.
    """
    normalised = [validate_value(v) for v in values]
    rule = OPERATORS.get(operator) if isinstance(operator, str) else None
    if rule is None:
        # Normally unreachable: botocore's model has ComparisonOperator as an enum.
        raise ValidationException(f"{_INVALID}Unsupported ComparisonOperator: {operator}")
    low, high, allowed = rule
    if len(normalised) < low or (high is not None and len(normalised) > high):
        raise ValidationException(
            f"{_INVALID}Invalid number of argument(s) for the {operator} ComparisonOperator"
        )
    first_kind = _type_of(normalised[0]) if normalised else None
    for value in normalised:
        kind = _type_of(value)
        if kind not in allowed:
            raise ValidationException(
                f"{_INVALID}ComparisonOperator {operator} is not valid for {kind} "
                "AttributeValue type"
            )
        if kind != first_kind:
            # Any operator with several values (IN, BETWEEN): one type (dynalite's suite,
            # run against AWS, pins this text for IN).
            raise ValidationException(
                f"{_INVALID}AttributeValues inside AttributeValueList must be of same type"
            )
    if operator == "BETWEEN":
        order = compare_scalars(normalised[0], normalised[1])
        if order is None:
            # unsure: wording of the mixed-type BETWEEN error.
            raise ValidationException(
                f"{_INVALID}AttributeValues inside AttributeValueList must be of same type"
            )
        if order > 0:
            # unsure: wording of the descending-range error.
            raise ValidationException(
                "The BETWEEN condition was provided a range where the lower bound is "
                "greater than the upper bound"
            )
    return normalised


def _check_expected_entry(name: str, entry: Mapping[str, Any]) -> None:
    """One ``ExpectedAttributeValue``: the Exists/Value form or the operator form."""
    value = entry.get("Value")
    value_list = entry.get("AttributeValueList")
    exists = entry.get("Exists")
    operator = entry.get("ComparisonOperator")
    if value is not None and value_list is not None:
        raise ValidationException(
            f"{_INVALID}Value and AttributeValueList cannot be used together for Attribute: {name}"
        )
    if operator is None:
        if value_list is not None:
            raise ValidationException(
                f"{_INVALID}AttributeValueList can only be used with a ComparisonOperator "
                f"for Attribute: {name}"
            )
        if exists is None or exists:
            if value is None:
                # AWS prints the Exists flag as given: "true", or "null" when omitted.
                shown = "null" if exists is None else "true"
                raise ValidationException(
                    f"{_INVALID}Value must be provided when Exists is {shown} for Attribute: {name}"
                )
            validate_value(value)
        elif value is not None:
            raise ValidationException(
                f"{_INVALID}Value cannot be used when Exists is false for Attribute: {name}"
            )
        return
    if exists is not None:
        # unsure: wording (the API reference only says the two are incompatible).
        raise ValidationException(
            f"{_INVALID}Exists and ComparisonOperator cannot be used together for Attribute: {name}"
        )
    # {ComparisonOperator, Value} is accepted as a one-element AttributeValueList.
    values = value_list if value_list is not None else ([] if value is None else [value])
    _check_operator(operator, list(values))


def validate_expected(expected: Mapping[str, Any], conditional_operator: str | None) -> None:
    """Raise AWS's ValidationException for a malformed ``Expected`` map.

    Runs before the item is read, so a bad request fails even when the item is missing.
    A ``ConditionalOperator`` with a single condition is accepted (not known to fail).
    """
    _check_conditional_operator(conditional_operator)
    for name, entry in expected.items():
        _check_expected_entry(name, entry)


def validate_filter(conditions: Mapping[str, Any], conditional_operator: str | None) -> None:
    """Raise AWS's ValidationException for a malformed QueryFilter / ScanFilter."""
    _check_conditional_operator(conditional_operator)
    for condition in conditions.values():
        _check_operator(condition.get("ComparisonOperator"), _value_list(condition))


def _value_list(condition: Mapping[str, Any]) -> list[Any]:
    values = condition.get("AttributeValueList")
    return list(values) if values is not None else []


# --------------------------------------------------------------------------- evaluation


def evaluate_condition_entry(
    operator: str, values: list[AttributeValue], actual: AttributeValue | None
) -> bool:
    """One ``attribute <operator> values`` test; ``actual`` None means the attribute is absent.

    Different types never compare (the result is false, or true for NE), as in AWS.
    """
    if operator == "NULL":
        return actual is None
    if operator == "NOT_NULL":
        return actual is not None
    if operator == "NE":
        return actual is None or not values_equal(actual, values[0])
    if actual is None:
        return False
    if operator == "EQ":
        return values_equal(actual, values[0])
    if operator == "IN":
        return any(values_equal(actual, v) for v in values)
    if operator == "CONTAINS":
        return contains(actual, values[0])
    if operator == "NOT_CONTAINS":
        return not contains(actual, values[0])
    if operator == "BEGINS_WITH":
        return begins_with(actual, values[0])
    if operator == "BETWEEN":
        above = compare_scalars(actual, values[0])
        below = compare_scalars(actual, values[1])
        return above is not None and below is not None and above >= 0 and below <= 0
    order = compare_scalars(actual, values[0])
    if order is None:
        return False
    if operator == "LT":
        return order < 0
    if operator == "LE":
        return order <= 0
    if operator == "GT":
        return order > 0
    if operator == "GE":
        return order >= 0
    raise ValidationException(f"{_INVALID}Unsupported ComparisonOperator: {operator}")


def _combine(results: Iterable[bool], conditional_operator: str | None) -> bool:
    """AND (the default) or OR over the per-attribute results; lazy like AWS's doc says."""
    if conditional_operator == "OR":
        return any(results)
    return all(results)


def _expected_holds(name: str, entry: Mapping[str, Any], item: Item) -> bool:
    actual = item.get(name)
    operator = entry.get("ComparisonOperator")
    if operator is None:
        exists = entry.get("Exists")
        if exists is None or exists:
            value = entry.get("Value")
            return actual is not None and value is not None and values_equal(actual, value)
        return actual is None
    value_list = entry.get("AttributeValueList")
    if value_list is None:
        value = entry.get("Value")
        value_list = [] if value is None else [value]
    return evaluate_condition_entry(operator, list(value_list), actual)


def evaluate_expected(
    expected: Mapping[str, Any], conditional_operator: str | None, item: Item | None
) -> bool:
    """Whether ``item`` (None or {} when missing) satisfies ``Expected``.

    Call :func:`validate_expected` first; this assumes a well-formed map.
    """
    current = item or {}
    return _combine(
        (_expected_holds(name, entry, current) for name, entry in expected.items()),
        conditional_operator,
    )


def evaluate_filter(
    conditions: Mapping[str, Any], conditional_operator: str | None, item: Item
) -> bool:
    """Whether ``item`` passes a QueryFilter / ScanFilter (validated beforehand)."""
    return _combine(
        (
            evaluate_condition_entry(
                condition["ComparisonOperator"], _value_list(condition), item.get(name)
            )
            for name, condition in conditions.items()
        ),
        conditional_operator,
    )


# --------------------------------------------------------------------------- KeyConditions


def validate_key_conditions(
    key_conditions: Mapping[str, Any],
    hash_name: str,
    range_name: str | None,
    key_types: Mapping[str, str],
) -> tuple[AttributeValue, tuple[str, list[AttributeValue]] | None]:
    """Check Query's ``KeyConditions`` against a key schema and return the key range.

    Returns the partition-key value and, when the sort key is constrained, the operator
    in expression vocabulary (``= < <= > >= BETWEEN begins_with``) with its values, so
    Query runs the same index range code for both APIs. ``key_types`` maps key name to
    S/N/B.
    """
    if len(key_conditions) > 2:
        raise ValidationException("Conditions can be of length 1 or 2 only")
    checked: dict[str, tuple[str, list[AttributeValue]]] = {}
    for name, condition in key_conditions.items():
        operator = condition.get("ComparisonOperator")
        checked[name] = (operator, _check_operator(operator, _value_list(condition)))
    for operator, _ in checked.values():
        if operator not in KEY_OPERATORS:
            raise ValidationException(
                "Attempted conditional constraint is not an indexable operation"
            )
    partition = checked.pop(hash_name, None)
    if partition is None:
        raise ValidationException(f"Query condition missed key schema element: {hash_name}")
    if partition[0] != "EQ":
        raise ValidationException("Query key condition not supported")
    sort = checked.pop(range_name, None) if range_name is not None else None
    if checked:
        if range_name is not None and sort is None:
            raise ValidationException(f"Query condition missed key schema element: {range_name}")
        raise ValidationException("Query key condition not supported")
    typed = [(hash_name, partition[1][0])]
    if sort is not None and range_name is not None:
        typed += [(range_name, v) for v in sort[1]]
    for name, value in typed:
        wanted = key_types.get(name)
        if wanted is not None and _type_of(value) != wanted:
            raise ValidationException(
                f"{_INVALID}Condition parameter type does not match schema type"
            )
    sort_range = (KEY_OPERATORS[sort[0]], sort[1]) if sort is not None else None
    return partition[1][0], sort_range


def validate_multi_key_conditions(
    key_conditions: Mapping[str, Any],
    hash_attributes: Sequence[tuple[str, str]],
    range_attributes: Sequence[tuple[str, str]],
) -> tuple[list[AttributeValue], list[AttributeValue], tuple[str, list[AttributeValue]] | None]:
    """``KeyConditions`` on a GSI with a multi-attribute key: the same rules as the
    expression (every HASH attribute EQ; RANGE attributes left to right, all but the last
    EQ). AWS accepts the legacy parameter on such an index as on a one-attribute one
    (scylladb/scylladb issue 31393, observed on DynamoDB).

    Returns the HASH values in key-schema order, the EQ values of the leading RANGE
    attributes, and the last RANGE attribute's operator (expression vocabulary) with its
    values, or None when no RANGE attribute is constrained.
    """
    checked: dict[str, tuple[str, list[AttributeValue]]] = {}
    for name, condition in key_conditions.items():
        operator = condition.get("ComparisonOperator")
        checked[name] = (operator, _check_operator(operator, _value_list(condition)))
    for operator, _ in checked.values():
        if operator not in KEY_OPERATORS:
            raise ValidationException(
                "Attempted conditional constraint is not an indexable operation"
            )
    partition: list[AttributeValue] = []
    typed: list[tuple[str, str, AttributeValue]] = []
    for name, kind in hash_attributes:
        found = checked.pop(name, None)
        if found is None:
            raise ValidationException(f"Query condition missed key schema element: {name}")
        if found[0] != "EQ":
            raise ValidationException("Query key condition not supported")
        partition.append(found[1][0])
        typed.append((name, kind, found[1][0]))
    sort: list[tuple[str, list[AttributeValue]]] = []
    skipped = False
    for name, kind in range_attributes:
        found = checked.pop(name, None)
        if found is None:
            skipped = True
            continue
        if skipped:
            raise ValidationException("Query key condition not supported")
        sort.append(found)
        typed.extend((name, kind, value) for value in found[1])
    if checked:
        if range_attributes and not sort:
            raise ValidationException(
                f"Query condition missed key schema element: {range_attributes[0][0]}"
            )
        raise ValidationException("Query key condition not supported")
    if any(operator != "EQ" for operator, _ in sort[:-1]):
        raise ValidationException("Query key condition not supported")
    for _name, kind, value in typed:
        if _type_of(value) != kind:
            raise ValidationException(
                f"{_INVALID}Condition parameter type does not match schema type"
            )
    prefix = [values[0] for _, values in sort[:-1]]
    last = (KEY_OPERATORS[sort[-1][0]], sort[-1][1]) if sort else None
    return partition, prefix, last


# --------------------------------------------------------------------------- AttributeUpdates


def validate_attribute_updates(updates: Mapping[str, Any], key_names: Iterable[str]) -> None:
    """Static AttributeUpdates errors, raised before the item is read.

    Each entry is ``{Action?, Value?}``; Action defaults to PUT. Only DELETE may omit the
    value; DELETE with a value needs a set; ADD needs a number, a set or a list.
    """
    keys = set(key_names)
    for name, update in updates.items():
        action = update.get("Action") or "PUT"
        value = update.get("Value")
        if action not in _ACTIONS:
            # Normally unreachable: botocore's model has Action as an enum.
            raise ValidationException(f"{_INVALID}Unsupported Action: {action}")
        if value is not None:
            value = validate_value(value)
        if name in keys:
            raise ValidationException(
                f"{_INVALID}Cannot update attribute {name}. This attribute is part of the key"
            )
        if value is None:
            if action != "DELETE":
                raise ValidationException(
                    f"{_INVALID}Only DELETE action is allowed when no attribute value is specified"
                )
            continue
        kind = _type_of(value)
        if action == "DELETE" and kind not in _SETS:
            # unsure: wording.
            raise ValidationException(
                f"{_INVALID}DELETE action with value is not supported for the type {kind}"
            )
        if action == "ADD" and kind not in _SETS and kind not in ("N", "L"):
            # unsure: wording.
            raise ValidationException(f"{_INVALID}ADD action is not supported for the type {kind}")


def _type_mismatch() -> ValidationException:
    # unsure: wording (widely reported AWS text for ADD/DELETE against another type).
    return ValidationException(f"{_INVALID}Type mismatch for attribute to update")


def apply_attribute_updates(
    updates: Mapping[str, Any],
    item: Item | None,
    key: Item,
    key_names: Iterable[str],
) -> tuple[Item | None, list[str]]:
    """Apply ``AttributeUpdates`` to ``item`` (None when missing); never mutates it.

    Returns the new item (None when the item is missing and every action is DELETE, as
    AWS then creates nothing) and the names the request updated, in request order, for
    ReturnValues UPDATED_OLD / UPDATED_NEW.
    """
    validate_attribute_updates(updates, key_names)
    if item is None and updates and all(u.get("Action") == "DELETE" for u in updates.values()):
        return None, list(updates)
    new_item: Item = (
        {name: _copy(value) for name, value in item.items()}
        if item is not None
        else {name: _copy(value) for name, value in key.items()}
    )
    for name, update in updates.items():
        action = update.get("Action") or "PUT"
        raw = update.get("Value")
        value = validate_value(raw) if raw is not None else None
        current = new_item.get(name)
        if action == "PUT":
            assert value is not None
            new_item[name] = _copy(value)
        elif action == "DELETE":
            if value is None:
                new_item.pop(name, None)
            elif current is not None:
                if _type_of(current) != _type_of(value):
                    raise _type_mismatch()
                remaining = _subtract(current, value)
                if remaining is None:
                    del new_item[name]
                else:
                    new_item[name] = remaining
        else:  # ADD
            assert value is not None
            kind = _type_of(value)
            if current is not None and _type_of(current) != kind:
                raise _type_mismatch()
            if kind == "L":
                existing = current["L"] if current is not None else []
                new_item[name] = {"L": [*_copy(existing), *_copy(value["L"])]}
            else:
                new_item[name] = _add(current, value)
    return new_item, list(updates)


# --------------------------------------------------------------------------- AttributesToGet


def validate_attributes_to_get(attributes_to_get: Iterable[str]) -> None:
    """Duplicate names are rejected before any item is read (also for Query / Scan)."""
    seen: set[str] = set()
    for name in attributes_to_get:
        if name in seen:
            # unsure: wording.
            raise ValidationException(f"{_INVALID}Duplicate value in attribute name: {name}")
        seen.add(name)


def project_attributes(item: Item, attributes_to_get: list[str]) -> Item:
    """The top-level attributes named in ``AttributesToGet`` that the item has.

    Names are plain attribute names (no document paths, no placeholders).
    """
    validate_attributes_to_get(attributes_to_get)
    return {name: item[name] for name in attributes_to_get if name in item}
