"""Request-shape validation compiled from botocore's own service model.

AWS runs every request through a generic ("Coral") validator before any operation code:
JSON types first (a mismatch is a ``SerializationException``), then the model's
constraints - required members, lengths, ranges, enums, patterns - reported together as
``N validation error(s) detected: ...`` (a ``ValidationException``). This module derives
the same checks from the JSON model shipped inside botocore, so the emulator follows
the model exactly without hand-written per-operation specs.

Start-up speed matters (first answer < 0.3 s after process start), so ``botocore`` is
never imported: its data directory is located with ``importlib.util.find_spec``, a
service model is read only when first needed, and each operation's validator is
compiled into closures on its first request and cached. Validating a request is then
a walk over the request's own members with precomputed checks.

A JSON ``null`` member of a structure counts as absent, as on AWS: the validator removes
it from the request, so operations see only members that carry a value.

Recursive shapes (``AttributeValue`` and the lists/maps inside it) are deliberately
checked only shallowly (``must be a JSON object``): the domain layer validates attribute
values itself, with DynamoDB's own messages, and a deep walk would be both slow and
reported with the wrong wording.
"""

from __future__ import annotations

import binascii
import gzip
import importlib.util
import os
import re
import sys
from collections.abc import Callable, Iterable, Sequence
from functools import cache
from typing import Any

import orjson

from emulator.errors import (
    SerializationException,
    UnknownOperationException,
    ValidationException,
    type_mismatch,
)

__all__ = [
    "operation_names",
    "render_value",
    "validate_request",
    "validation_message",
]

# One constraint violation: (member path relative to the checked value, rendered value,
# constraint text). Paths are joined upwards only when an error exists, so the fast
# path never builds strings.
Violation = tuple[str, str, str]
# A compiled check: returns the violations found in the value, or None when it is valid.
# Type mismatches raise SerializationException instead (AWS rejects those while parsing).
Check = Callable[[Any], "list[Violation] | None"]

#: service -> (botocore data directory, API version).
_SERVICE_DIRS = {
    "dynamodb": ("dynamodb", "2012-08-10"),
    "dynamodbstreams": ("dynamodbstreams", "2012-08-10"),
    "lambda": ("lambda", "2015-03-31"),
    "kinesis": ("kinesis", "2013-12-02"),
}

_INT32 = (-(2**31), 2**31 - 1)
_INT64 = (-(2**63), 2**63 - 1)

# Constraints AWS enforces that botocore's model does not carry, keyed by
# (service, structure shape, member). Data only: the validator stays generic.
# * Streams Limit maxima: the model says only ``min: 1`` but AWS rejects GetRecords
#   Limit > 1000 and ListStreams Limit > 100 with a ValidationException (SPEC 2.2, 2.5);
#   DescribeStream documents the same 100 maximum (SPEC 2.3).
# * CreateTable takes a table *name* (3..255, ``[a-zA-Z0-9_.-]+``); botocore models it as
#   ``TableArn`` (1..1024, no pattern) because most operations also accept an ARN. Being
#   strict here follows ARCHITECTURE decision 5 ("where unknown, be strict").
# * Lambda prints the StartingPosition enum in its own order (recorded on AWS,
#   SPEC-STREAM-APPS 2.6), and caps a function's Timeout at 900 s (SPEC-STREAM-APPS 2.3;
#   the model's 5400 is for durable functions).
_LAMBDA_POSITIONS = {"enum": ["LATEST", "AT_TIMESTAMP", "TRIM_HORIZON"]}
_MEMBER_OVERRIDES: dict[tuple[str, str, str], dict[str, Any]] = {
    ("lambda", "CreateEventSourceMappingRequest", "StartingPosition"): _LAMBDA_POSITIONS,
    ("lambda", "CreateFunctionRequest", "Timeout"): {"max": 900},
    ("lambda", "UpdateFunctionConfigurationRequest", "Timeout"): {"max": 900},
    ("dynamodbstreams", "GetRecordsInput", "Limit"): {"max": 1000},
    ("dynamodbstreams", "ListStreamsInput", "Limit"): {"max": 100},
    ("dynamodbstreams", "DescribeStreamInput", "Limit"): {"max": 100},
    ("dynamodb", "CreateTableInput", "TableName"): {"shape": "TableName"},
    # Kinesis GetRecords: "If you specify a value that is greater than 10,000, GetRecords
    # throws InvalidArgumentException" (the model's doc), not a ValidationException.
    ("kinesis", "GetRecordsInput", "Limit"): {"max": None},
}

#: Enum sets DynamoDB prints in an order of its own, not the model's (recorded on
#: DynamoDB). Used only while the model's values are exactly these.
_ENUM_ORDER: dict[tuple[str, str], list[str]] = {
    ("dynamodb", "ScalarAttributeType"): ["B", "N", "S"],
    ("dynamodb", "Select"): [
        "SPECIFIC_ATTRIBUTES",
        "COUNT",
        "ALL_ATTRIBUTES",
        "ALL_PROJECTED_ATTRIBUTES",
    ],
    ("dynamodb", "ReturnValue"): ["ALL_NEW", "UPDATED_OLD", "ALL_OLD", "NONE", "UPDATED_NEW"],
    ("dynamodb", "ConditionalOperator"): ["OR", "AND"],
    ("dynamodb", "ComparisonOperator"): [
        "IN",
        "NULL",
        "BETWEEN",
        "LT",
        "NOT_CONTAINS",
        "EQ",
        "GT",
        "NOT_NULL",
        "NE",
        "LE",
        "BEGINS_WITH",
        "GE",
        "CONTAINS",
    ],
}


# --------------------------------------------------------------------------- public API


def validate_request(service: str, operation: str, body: dict[str, Any]) -> None:
    """Check ``body`` against the operation's input shape, raising AWS's exception.

    Raises SerializationException for JSON type mismatches, ValidationException for
    constraint violations (all of them, in model order), and UnknownOperationException
    when the model does not define ``operation``.
    """
    check = _service(service).operation_check(operation)
    violations = check(body)
    if violations:
        raise ValidationException(validation_message(violations))


def operation_names(service: str) -> frozenset[str]:
    """The operations the service model defines (used to answer UnknownOperation)."""
    return _service(service).operation_names


def validation_message(violations: Sequence[Violation]) -> str:
    """Format violations as Coral does: ``N validation error(s) detected: a; b``.

    Public so the domain layer can word its own model-like checks identically.
    """
    n = len(violations)
    parts = "; ".join(
        f"Value {value} at '{path}' failed to satisfy constraint: {constraint}"
        for path, value, constraint in violations
    )
    return f"{n} validation error{'s' if n != 1 else ''} detected: {parts}"


def render_value(value: Any) -> str:
    """Render a value the way AWS echoes it: ``null`` bare, anything else quoted.

    AWS prints a Java ``toString``; clients must not parse it, it only needs to read well.
    """
    if value is None:
        return "null"
    return f"'{_java_str(value)}'"


# --------------------------------------------------------------------------- rendering


def _java_str(value: Any) -> str:
    """Java-ish toString: ``true``, ``5``, ``1.0E20``, ``[a, b]``, ``{k=v}``."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return value
    if isinstance(value, float):
        return _java_double(value)
    if isinstance(value, list):
        return "[" + ", ".join(_java_str(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={_java_str(v)}" for k, v in value.items()) + "}"
    return str(value)


def _java_double(value: float) -> str:
    """Double.toString look-alike so echoed numbers read like AWS's (``1.0``, ``1.0E20``)."""
    text = repr(value)
    if "e" in text:
        mantissa, exponent = text.split("e")
        if "." not in mantissa:
            mantissa += ".0"
        return f"{mantissa}E{int(exponent)}"
    return text


# --------------------------------------------------------------------------- type errors

#: The Java class of each scalar shape type, as type-mismatch messages name it.
_JAVA_SCALARS = {
    "string": "java.lang.String",
    "integer": "java.lang.Integer",
    "long": "java.lang.Long",
    "double": "java.lang.Double",
    "float": "java.lang.Float",
    "boolean": "java.lang.Boolean",
    "blob": "java.nio.ByteBuffer",
    "timestamp": "java.util.Date",
}
#: The service's Java package, in which AWS's messages name structure shapes.
_JAVA_PACKAGES = {
    "dynamodb": "com.amazonaws.dynamodb.v20120810",
    "dynamodbstreams": "com.amazonaws.dynamodb.v20120810",
    "kinesis": "com.amazonaws.kinesis.v20131202",
    "lambda": "com.amazonaws.lambda.v20150331",
}


def _type_error(
    value: Any, shape_type: str, java: str = "", field: bool = True
) -> SerializationException:
    """See `errors.type_mismatch` (the one wording of these messages)."""
    return type_mismatch(value, shape_type, java, field)


# --------------------------------------------------------------------------- patterns

_SURROGATE_PAIR = re.compile(r"\\u(D[89AB][0-9A-F]{2})\\u(D[C-F][0-9A-F]{2})", re.IGNORECASE)


def _python_pattern(java: str) -> re.Pattern[str] | None:
    """Translate the few Java regex features the models use; None if untranslatable.

    ``\\p{Print}`` is POSIX printable ASCII in Java; ``\\uD800\\uDC00`` style surrogate
    pairs denote one supplementary code point in Java but are two (invalid) code units
    in Python.
    """

    def pair(match: re.Match[str]) -> str:
        high, low = int(match.group(1), 16), int(match.group(2), 16)
        return f"\\U{0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00):08X}"

    text = _SURROGATE_PAIR.sub(pair, java)
    text = text.replace(r"\p{Print}", r"[\x20-\x7E]")
    try:
        return re.compile(text)
    except re.error:
        return None


# --------------------------------------------------------------------------- compiler


def _prefixed(prefix: str, violations: Iterable[Violation]) -> list[Violation]:
    """Re-root child violations under ``prefix`` (only runs when errors exist)."""
    return [(f"{prefix}.{path}" if path else prefix, value, c) for path, value, c in violations]


def _lower_camel(name: str) -> str:
    """Coral member paths are the member name with its first letter lower-cased."""
    return name[:1].lower() + name[1:]


def _length_violations(n: int, lo: int | None, hi: int | None) -> list[str]:
    """Length constraint texts broken by a length ``n`` (strings, lists, maps alike)."""
    out = []
    if hi is not None and n > hi:
        out.append(f"Member must have length less than or equal to {hi}")
    if lo is not None and n < lo:
        out.append(f"Member must have length greater than or equal to {lo}")
    return out


class _Compiler:
    """Turns model shapes into Check closures, caching one closure per shape."""

    def __init__(self, service: str, shapes: dict[str, dict[str, Any]]) -> None:
        self.service = service
        self.shapes = shapes
        self.package = _JAVA_PACKAGES.get(service, service)
        #: (shape, is a structure member) -> check: type messages depend on the position.
        self.checks: dict[tuple[str, bool], Check] = {}
        self.recursive: dict[str, bool] = {}

    # -- helpers

    def _children(self, shape: dict[str, Any]) -> list[str]:
        t = shape["type"]
        if t == "structure":
            return [m["shape"] for m in shape.get("members", {}).values()]
        if t == "list":
            return [shape["member"]["shape"]]
        if t == "map":
            return [shape["key"]["shape"], shape["value"]["shape"]]
        return []

    def is_recursive(self, name: str) -> bool:
        """True when ``name`` can reach itself (AttributeValue and its containers)."""
        known = self.recursive.get(name)
        if known is not None:
            return known
        seen: set[str] = set()
        stack = self._children(self.shapes[name])
        found = False
        while stack:
            child = stack.pop()
            if child == name:
                found = True
                break
            if child not in seen:
                seen.add(child)
                stack.extend(self._children(self.shapes[child]))
        self.recursive[name] = found
        return found

    def java(self, name: str) -> str:
        """The Java type AWS's messages give the shape ``name``."""
        shape = self.shapes[name]
        t = shape["type"]
        if t == "structure":
            return f"{self.package}.{name}"
        if t == "list":
            return f"java.util.List<{self.java(shape['member']['shape'])}>"
        if t == "map":
            return f"java.util.Map<java.lang.String, {self.java(shape['value']['shape'])}>"
        return _JAVA_SCALARS.get(t, t)

    # -- entry points

    def shape_check(self, name: str, field: bool = True) -> Check:
        """The check of shape ``name`` as a structure member (``field``), or as an
        element of a list or a value of a map."""
        check = self.checks.get((name, field))
        if check is None:
            check = self._compile(name, self.shapes[name], field)
            self.checks[(name, field)] = check
        return check

    def member_check(self, owner: str, member: str, ref: dict[str, Any]) -> Check:
        """The check for one structure member, with any override from the table above."""
        override = _MEMBER_OVERRIDES.get((self.service, owner, member))
        if override is None:
            if self.service == "dynamodb" and member == "TableName" and ref["shape"] == "TableArn":
                # A name is checked as a table name; an ARN only as TableArn.
                arn = self.shapes["TableArn"]
                return _string(self.shapes["TableName"], arn_max=arn.get("max"))
            return self.shape_check(ref["shape"])
        name = override.get("shape", ref["shape"])
        shape = {**self.shapes[name], **{k: v for k, v in override.items() if k != "shape"}}
        return self._compile(name, shape, True)

    def _compile(self, name: str, shape: dict[str, Any], field: bool) -> Check:
        t = shape["type"]
        if t == "structure":
            if self.is_recursive(name):
                return _Shallow(dict, t, self.java(name), field)
            return self._structure(name, shape, field)
        if t == "list":
            if self.is_recursive(name):
                return _Shallow(list, t, self.java(name), field)
            return self._list(name, shape, field)
        if t == "map":
            if self.is_recursive(name):
                return _Shallow(dict, t, self.java(name), field)
            return self._map(name, shape, field)
        if t == "string":
            order = _ENUM_ORDER.get((self.service, name))
            if order is not None and set(order) == set(shape.get("enum", ())):
                shape = {**shape, "enum": order}
            return _string(shape)
        if t in ("integer", "long"):
            return _integer(shape)
        if t in ("double", "float"):
            return _number(shape, t)
        if t == "timestamp":
            return _number({"type": t}, t)
        if t == "boolean":
            return _boolean
        if t == "blob":
            return _blob
        raise ValueError(f"unsupported shape type {t!r} for {name}")  # pragma: no cover

    # -- containers

    def _structure(self, name: str, shape: dict[str, Any], field: bool) -> Check:
        members: dict[str, tuple[int, str, Check]] = {}
        for index, (member, ref) in enumerate(shape.get("members", {}).items()):
            members[member] = (index, _lower_camel(member), self.member_check(name, member, ref))
        order = list(shape.get("members", {}))
        required = [
            (order.index(m) if m in order else -1, m, _lower_camel(m))
            for m in shape.get("required", ())
        ]
        lookup = members.get
        java = self.java(name)

        def check_structure(value: Any) -> list[Violation] | None:
            if type(value) is not dict:
                raise _type_error(value, "structure", java, field)
            found: list[tuple[int, list[Violation]]] | None = None
            nulls: list[str] | None = None
            for key, item in value.items():
                spec = lookup(key)
                if spec is None:  # unknown members are ignored
                    continue
                if item is None:
                    nulls = [key] if nulls is None else [*nulls, key]
                    continue
                errs = spec[2](item)
                if errs:
                    if found is None:
                        found = []
                    found.append((spec[0], _prefixed(spec[1], errs)))
            if nulls is not None:
                # JSON null is an absent member (AWS's and botocore's reading): dropped
                # here, so no operation ever sees a None where it expects a value.
                for key in nulls:
                    del value[key]
            for index, member, camel in required:
                if value.get(member) is None:
                    if found is None:
                        found = []
                    found.append((index, [(camel, "null", "Member must not be null")]))
            if found is None:
                return None
            found.sort(key=lambda pair: pair[0])  # model order, as AWS reports them
            return [v for _, errs in found for v in errs]

        return check_structure

    def _list(self, name: str, shape: dict[str, Any], field: bool) -> Check:
        element = self.shape_check(shape["member"]["shape"], field=False)
        lo, hi = shape.get("min"), shape.get("max")
        java = self.java(name)

        def check_list(value: Any) -> list[Violation] | None:
            if type(value) is not list:
                raise _type_error(value, "list", java, field)
            out: list[Violation] | None = None
            n = len(value)
            if (lo is not None and n < lo) or (hi is not None and n > hi):
                rendered = render_value(value)
                out = [("", rendered, c) for c in _length_violations(n, lo, hi)]
            for i, item in enumerate(value, 1):
                if item is None:
                    errs: list[Violation] | None = [("", "null", "Member must not be null")]
                else:
                    errs = element(item)
                if errs:
                    if out is None:
                        out = []
                    out.extend(_prefixed(f"{i}.member", errs))
            return out

        return check_list

    def _map(self, name: str, shape: dict[str, Any], field: bool) -> Check:
        key_name = shape["key"]["shape"]
        if self.service == "dynamodb" and key_name == "TableArn":
            key_name = "TableName"  # RequestItems: table names (an ARN key is let through)
        key_shape = self.shapes[key_name]
        key_check = self.shape_check(key_name) if _has_constraints(key_shape) else None
        keys_text = _map_keys_text(_all_constraints(key_shape))
        value_shape = self.shapes[shape["value"]["shape"]]
        value_check = self.shape_check(shape["value"]["shape"], field=False)
        # A map value's own length limits are reported once, at the map (Coral's form).
        value_sized = value_shape["type"] in ("list", "map") and _has_constraints(value_shape)
        values_text = (
            f"Map value must satisfy constraint: [{', '.join(_all_constraints(value_shape))}]"
        )
        java = self.java(name)
        lo, hi = shape.get("min"), shape.get("max")
        # Fast path for the hot maps (Item, Key, ExpressionAttributeValues): keys with at
        # most a length range, values only kind-checked. Anything odd takes the full walk.
        key_lo: int = key_shape.get("min", 0)
        key_hi: int = key_shape.get("max", sys.maxsize)
        simple_keys = "pattern" not in key_shape and "enum" not in key_shape
        value_kind = value_check.kind if isinstance(value_check, _Shallow) else None
        fast = simple_keys and value_kind is not None and lo is None and hi is None

        def check_map_fully(value: dict[str, Any]) -> list[Violation] | None:
            out: list[Violation] | None = None
            n = len(value)
            if (lo is not None and n < lo) or (hi is not None and n > hi):
                rendered = render_value(value)
                out = [("", rendered, c) for c in _length_violations(n, lo, hi)]
            bad_keys = bad_values = False
            for key, item in value.items():
                if key_check is not None and not key.startswith("arn:") and key_check(key):
                    bad_keys = True
                if item is None:
                    errs: list[Violation] | None = [("", "null", "Member must not be null")]
                else:
                    errs = value_check(item)
                if errs and value_sized:
                    own = [e for e in errs if not e[0]]
                    if own:
                        bad_values = True
                        errs = [e for e in errs if e[0]]
                if errs:
                    if out is None:
                        out = []
                    out.extend(_prefixed(f"{key}.member", errs))
            if bad_keys or bad_values:
                rendered = render_value(value)
                front = [("", rendered, keys_text)] if bad_keys else []
                if bad_values:
                    front.append(("", rendered, values_text))
                out = front + (out or [])
            return out

        def check_map(value: Any) -> list[Violation] | None:
            if type(value) is not dict:
                raise _type_error(value, "map", java, field)
            if fast:
                for key, item in value.items():
                    if type(item) is not value_kind or not key_lo <= len(key) <= key_hi:
                        return check_map_fully(value)
                return None
            return check_map_fully(value)

        return check_map


def _has_constraints(shape: dict[str, Any]) -> bool:
    return any(k in shape for k in ("min", "max", "pattern", "enum"))


def _map_keys_text(constraints: list[str]) -> str:
    """How Coral words broken key constraints: one entry at the map's own path."""
    return f"Map keys must satisfy constraint: [{', '.join(constraints)}]"


def _all_constraints(shape: dict[str, Any]) -> list[str]:
    """Every constraint of a map's key or value shape, in the order Coral lists them
    when one is broken (maximum, minimum, pattern; recorded on BatchWriteItem)."""
    out = []
    if "max" in shape:
        out.append(f"Member must have length less than or equal to {shape['max']}")
    if "min" in shape:
        out.append(f"Member must have length greater than or equal to {shape['min']}")
    if "pattern" in shape:
        out.append(f"Member must satisfy regular expression pattern: {shape['pattern']}")
    return out


# --------------------------------------------------------------------------- scalars


class _Shallow:
    """Only the JSON kind is checked (recursive shapes; the domain layer goes deeper).

    A class rather than a closure so containers can see ``kind`` and inline the test.
    """

    __slots__ = ("field", "java", "kind", "shape_type")

    def __init__(self, kind: type, shape_type: str, java: str, field: bool) -> None:
        self.kind = kind
        self.shape_type = shape_type
        self.java = java
        self.field = field

    def __call__(self, value: Any) -> list[Violation] | None:
        if type(value) is not self.kind:
            raise _type_error(value, self.shape_type, self.java, self.field)
        return None


def _string_constraints(shape: dict[str, Any]) -> Callable[[str], list[str]] | None:
    """Constraint texts a string breaks, in Coral's order (pattern, length, enum).

    None when the shape has no constraint at all, so callers can skip the call.
    """
    java_pattern: str | None = shape.get("pattern")
    pattern = _python_pattern(java_pattern) if java_pattern is not None else None
    lo, hi = shape.get("min"), shape.get("max")
    enum: list[str] | None = shape.get("enum")
    if pattern is None and lo is None and hi is None and enum is None:
        return None
    allowed = frozenset(enum) if enum is not None else None
    pattern_text = f"Member must satisfy regular expression pattern: {java_pattern}"
    enum_text = f"Member must satisfy enum value set: [{', '.join(enum or ())}]"
    fullmatch = pattern.fullmatch if pattern is not None else None

    def violations(value: str) -> list[str]:
        out: list[str] = []
        if fullmatch is not None and fullmatch(value) is None:
            out.append(pattern_text)
        if lo is not None or hi is not None:
            n = len(value)
            if (lo is not None and n < lo) or (hi is not None and n > hi):
                out.extend(_length_violations(n, lo, hi))
        if allowed is not None and value not in allowed:
            out.append(enum_text)
        return out

    return violations


def _string(shape: dict[str, Any], arn_max: int | None = None) -> Check:
    """With `arn_max`, a value starting with "arn:" is held only to that length: a
    data-plane TableName, which the model calls "TableArn" (1..1024 characters) because
    an ARN is accepted too, while a name is still checked as a table name (pattern,
    3..255 characters) - what DynamoDB reports for one."""
    constraints = _string_constraints(shape)
    if constraints is None:

        def check_plain_string(value: Any) -> list[Violation] | None:
            if type(value) is not str:
                raise _type_error(value, "string", "java.lang.String")
            return None

        return check_plain_string

    # Valid values repeat constantly (table names, enum values): remember them.
    known_good: dict[str, None] = {}

    def check_string(value: Any) -> list[Violation] | None:
        if type(value) is not str:
            raise _type_error(value, "string", "java.lang.String")
        if value in known_good:
            return None
        if arn_max is not None and value.startswith("arn:"):
            broken = _length_violations(len(value), None, arn_max)
        else:
            broken = constraints(value)
        if not broken:
            if len(known_good) >= 4096:
                known_good.clear()
            known_good[value] = None
            return None
        rendered = render_value(value)
        return [("", rendered, text) for text in broken]

    return check_string


def _integer(shape: dict[str, Any]) -> Check:
    shape_type = shape["type"]
    floor, ceiling = _INT32 if shape_type == "integer" else _INT64
    lo, hi = shape.get("min"), shape.get("max")
    java = _JAVA_SCALARS[shape_type]

    def check_integer(value: Any) -> list[Violation] | None:
        if type(value) is not int or not floor <= value <= ceiling:
            raise _type_error(value, shape_type, java)
        if lo is not None and value < lo:
            return [
                ("", render_value(value), f"Member must have value greater than or equal to {lo}")
            ]
        if hi is not None and value > hi:
            return [("", render_value(value), f"Member must have value less than or equal to {hi}")]
        return None

    return check_integer


def _number(shape: dict[str, Any], shape_type: str) -> Check:
    """Doubles and timestamps: any JSON number (timestamps are epoch seconds on the wire)."""
    lo, hi = shape.get("min"), shape.get("max")
    java = _JAVA_SCALARS[shape_type]

    def check_number(value: Any) -> list[Violation] | None:
        kind = type(value)
        if kind is not int and kind is not float:
            raise _type_error(value, shape_type, java)
        if lo is not None and value < lo:
            return [
                ("", render_value(value), f"Member must have value greater than or equal to {lo}")
            ]
        if hi is not None and value > hi:
            return [("", render_value(value), f"Member must have value less than or equal to {hi}")]
        return None

    return check_number


def _boolean(value: Any) -> list[Violation] | None:
    if type(value) is not bool:
        raise _type_error(value, "boolean", "java.lang.Boolean")
    return None


def _blob(value: Any) -> list[Violation] | None:
    """Blobs travel as base64 text in JSON (undecodable text fails while parsing, like
    AWS) and as byte strings in CBOR."""
    if type(value) is bytes:
        return None
    if type(value) is not str:
        raise _type_error(value, "blob", "java.nio.ByteBuffer")
    if len(value) % 4:
        raise SerializationException(
            f"Base64 encoded length is expected a multiple of 4 bytes but found: {len(value)}"
        )
    try:
        binascii.a2b_base64(value, strict_mode=True)
    except binascii.Error:
        raise SerializationException("Invalid Base64 character in payload") from None
    return None


# --------------------------------------------------------------------------- services


class _ServiceModel:
    """One service's model, with per-operation checks compiled on first use."""

    def __init__(self, service: str, model: dict[str, Any]) -> None:
        self.operations: dict[str, dict[str, Any]] = model["operations"]
        self.operation_names = frozenset(self.operations)
        self.compiler = _Compiler(service, model["shapes"])
        self.compiled: dict[str, Check] = {}

    def operation_check(self, operation: str) -> Check:
        check = self.compiled.get(operation)
        if check is None:
            spec = self.operations.get(operation)
            if spec is None:
                raise UnknownOperationException()
            input_ref = spec.get("input")
            check = (
                self.compiler.shape_check(input_ref["shape"], field=False)
                if input_ref
                else _empty_input
            )
            if (self.compiler.service, operation) in _TABLE_NAME_FIRST:
                check = _table_name_first(check)
            self.compiled[operation] = check
        return check


#: Table operations whose TableName DynamoDB checks on its own before the other
#: members (recorded: DescribeTable, CreateTable, DeleteTable, UpdateTable and the TTL
#: pair), with their own two messages; the data plane reports it in the list.
_TABLE_NAME_FIRST = {
    ("dynamodb", name)
    for name in (
        "CreateTable",
        "DescribeTable",
        "DeleteTable",
        "UpdateTable",
        "DescribeTimeToLive",
        "UpdateTimeToLive",
    )
}
TABLE_NAME_REQUIRED = "The parameter 'TableName' is required but was not present in the request"
TABLE_NAME_LENGTH = "TableName must be at least 3 characters long and at most 255 characters long"


def _table_name_first(check: Check) -> Check:
    """`check`, then - before its list of violations - a missing TableName or a name
    outside 3..255 characters reported alone (type errors still come first: they are
    found while parsing)."""

    def checked(value: Any) -> list[Violation] | None:
        violations = check(value)
        name = value.get("TableName")
        if name is None:
            raise ValidationException(TABLE_NAME_REQUIRED)
        if not name.startswith("arn:") and not 3 <= len(name) <= 255:
            raise ValidationException(TABLE_NAME_LENGTH)
        return violations

    return checked


def _empty_input(value: Any) -> list[Violation] | None:
    """Operations without an input shape still need a JSON object body."""
    if type(value) is not dict:
        raise _type_error(value, "structure", "java.lang.Object", False)
    return None


def _data_dir() -> str:
    """botocore's data directory, found without importing botocore (it is slow)."""
    spec = importlib.util.find_spec("botocore")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("botocore is not installed; its service models are required")
    return os.path.join(next(iter(spec.submodule_search_locations)), "data")


@cache
def _service(service: str) -> _ServiceModel:
    """Load a service model on first use (a few ms), then keep it."""
    location = _SERVICE_DIRS.get(service)
    if location is None:
        raise ValueError(f"unknown service {service!r}")
    directory, api_version = location
    path = os.path.join(_data_dir(), directory, api_version, "service-2.json.gz")
    with gzip.open(path, "rb") as handle:
        model = orjson.loads(handle.read())
    return _ServiceModel(service, model)
