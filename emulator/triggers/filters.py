"""FilterCriteria: the EventBridge / event-ruler pattern language Lambda applies to each
stream record before it joins a batch (SPEC-STREAM-APPS 3.9, SPEC 4.6).

A pattern is compiled once, at CreateEventSourceMapping / UpdateEventSourceMapping, into a
tree of per-field matchers; the poller then calls `matches_any` for every record, so the
matching side does no parsing and no allocation beyond walking the record.

Semantics, in short:

* A pattern is a JSON object mirroring the record's nesting. Fields are AND-ed; the values a
  field lists are OR-ed; filters of one mapping are OR-ed (`matches_any`).
* Values match leaves only. A map is not a leaf, so `{"presentKey": [{"exists": false}]}`
  matches a record whose `presentKey` is `{"S": ...}` (AWS-observed).
* An array in the record matches if any element does; an object pattern applied to an array
  must be satisfied by one element on its own (event-ruler's array-consistent matching).
* Strings match exactly (no case folding). Exact numbers match as written ("300, 300.0 and
  3.0e2 are not considered equal"): the record's number is rendered as a JSON writer renders
  it. `numeric` applies to JSON numbers only (never to DynamoDB's `N` strings), within
  +-5.0e9, compared to 6 decimal places.
* Duplicate keys in a pattern object: the last wins.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

#: What Lambda answers for any pattern it cannot compile [LS AWS-validated; SPEC 4.6].
INVALID_PATTERN_MESSAGE: Final = "Invalid filter pattern definition."
#: `FilterCriteria.Filters` per mapping (Lambda quota; raisable to 10 on AWS).
MAX_FILTERS: Final = 5
#: `Filter.Pattern` length limit in the Lambda model.
MAX_PATTERN_LENGTH: Final = 4096

#: event-ruler's numeric range and precision.
_NUMERIC_LIMIT: Final = 5.0e9
_NUMERIC_SCALE: Final = 1e6

#: Operator names event-ruler reserves: they cannot be field names inside `$or`.
_RESERVED_IN_OR: Final = frozenset(
    {
        "exactly",
        "equals-ignore-case",
        "prefix",
        "suffix",
        "anything-but",
        "exists",
        "wildcard",
        "numeric",
        "cidr",
        "=",
        "<",
        "<=",
        ">",
        ">=",
        "regex",
        "not-wildcard",
        "not-equals-ignore-case",
        "date-after",
        "date-on-or-after",
        "date-before",
        "date-on-or-before",
        "in-date-range",
        "ip-address-in-range",
        "ip-address-not-in-range",
    }
)


class FilterCriteriaError(ValueError):
    """A FilterCriteria Lambda refuses; `code` is the AWS error code to answer with."""

    code: str = "InvalidParameterValueException"

    def __init__(self, message: str, detail: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        #: Why, for logs only: AWS answers `message` alone.
        self.detail = detail


class FilterPatternError(FilterCriteriaError):
    """A `Pattern` that is not JSON, not a valid structure, or uses an unknown operator."""

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(INVALID_PATTERN_MESSAGE, detail)


class FilterQuotaError(FilterCriteriaError):
    """More filters than the quota allows. The message text is unverified (no AWS sample)."""

    def __init__(self, count: int, limit: int) -> None:
        super().__init__(
            f"The number of filters in FilterCriteria ({count}) exceeds the limit of {limit}."
        )


class FilterPatternLengthError(FilterCriteriaError):
    """A `Pattern` over the model's 4096-character limit: a model constraint, so AWS answers
    with the Coral ValidationException wording (the exact text is unverified)."""

    code = "ValidationException"

    def __init__(self, index: int) -> None:
        super().__init__(
            "1 validation error detected: Value at "
            f"'filterCriteria.filters.{index}.member.pattern' failed to satisfy constraint: "
            f"Member must have length less than or equal to {MAX_PATTERN_LENGTH}"
        )


# --- parsing -------------------------------------------------------------------------------


class _Pairs(list[tuple[str, Any]]):
    """A JSON object as its key/value pairs in order, so duplicates stay visible."""


@dataclass(frozen=True, slots=True)
class _Number:
    """A JSON number in a pattern, with the text it was written as."""

    text: str
    value: float


def _parse_int(text: str) -> _Number:
    return _Number(text, float(int(text)))


def _parse_float(text: str) -> _Number:
    return _Number(text, float(text))


def _reject_constant(text: str) -> Any:
    raise ValueError(f"{text} is not JSON")


def _load(text: str) -> Any:
    try:
        return json.loads(
            text,
            object_pairs_hook=_Pairs,
            parse_int=_parse_int,
            parse_float=_parse_float,
            parse_constant=_reject_constant,
        )
    except (ValueError, RecursionError) as error:
        raise FilterPatternError(f"not JSON: {error}") from None


def _last_wins(pairs: _Pairs) -> dict[str, Any]:
    return dict(pairs)


# --- leaf matchers -------------------------------------------------------------------------

_Leaf = str | int | float | bool | None
_Predicate = Callable[[Any], bool]


def _is_array(value: object) -> bool:
    """A JSON array of the pattern (a parsed object is a list of pairs, not an array)."""
    return isinstance(value, list) and not isinstance(value, _Pairs)


def _is_number(value: object) -> bool:
    return type(value) is int or type(value) is float


def _render_number(value: int | float) -> str:
    """The text a JSON writer gives the record's number (orjson and json agree on these)."""
    return str(value) if type(value) is int else repr(value)


def _comparable(value: float) -> int | None:
    """event-ruler's fixed-point key: in range and to 6 decimals, else None (no numeric
    match is possible)."""
    if not -_NUMERIC_LIMIT <= value <= _NUMERIC_LIMIT:
        return None
    return int(_NUMERIC_SCALE * (_NUMERIC_LIMIT + value))


def _wildcard_regex(text: str) -> re.Pattern[str]:
    """`*` is any run of characters; `\\*` and `\\\\` are literals; `**` is refused."""
    parts: list[str] = []
    index = 0
    previous_star = False
    while index < len(text):
        char = text[index]
        if char == "\\":
            following = text[index + 1 : index + 2]
            if following not in ("*", "\\"):
                raise FilterPatternError("wildcard: a backslash escapes only * or \\")
            parts.append(re.escape(following))
            index += 2
            previous_star = False
            continue
        if char == "*":
            if previous_star:
                raise FilterPatternError("wildcard: consecutive * are not allowed")
            parts.append(".*")
            previous_star = True
        else:
            parts.append(re.escape(char))
            previous_star = False
        index += 1
    return re.compile("".join(parts), re.DOTALL)


def _fold(text: str) -> str:
    return text.casefold()


@dataclass(slots=True)
class _FieldMatcher:
    """Every way one field's value list can match a leaf, grouped by the leaf's type so the
    common cases (exact strings) are one set lookup."""

    strings: frozenset[str] = frozenset()
    numbers: frozenset[str] = frozenset()
    literals: tuple[bool | None, ...] = ()
    string_tests: tuple[_Predicate, ...] = ()
    number_tests: tuple[_Predicate, ...] = ()
    leaf_tests: tuple[_Predicate, ...] = ()
    exists: bool = False
    absent: bool = False
    #: The field's path from the record's root (arrays crushed out), for `exists: false`.
    path: tuple[str, ...] = ()

    def match_leaf(self, value: _Leaf) -> bool:
        if self.exists:
            return True
        if type(value) is str:
            if value in self.strings:
                return True
            for test in self.string_tests:
                if test(value):
                    return True
        elif value is None or type(value) is bool:
            if any(value is literal for literal in self.literals):
                return True
        elif isinstance(value, int | float):
            if self.numbers and _render_number(value) in self.numbers:
                return True
            for test in self.number_tests:
                if test(value):
                    return True
        return any(test(value) for test in self.leaf_tests)

    def match(self, value: Any, root: dict[str, Any]) -> bool:
        kind = type(value)
        if kind is list:
            found = False
            for leaf in _leaves(value):
                if self.match_leaf(leaf):
                    return True
                found = True
            if found:
                return False  # a leaf is here, so the field exists
        elif kind is not dict and value is not _MISSING:
            return self.match_leaf(value)
        # No leaf here; `exists: false` also needs none in any other array element.
        return self.absent and not _has_leaf(root, self.path)


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


_MISSING: Final = _Missing()


def _leaves(values: list[Any]) -> Iterator[_Leaf]:
    """The scalars of an array, nested arrays flattened; maps are not leaves."""
    for value in values:
        kind = type(value)
        if kind is list:
            yield from _leaves(value)
        elif kind is not dict:
            yield value


def _has_leaf(value: Any, path: tuple[str, ...], depth: int = 0) -> bool:
    """Whether the record has a leaf at `path` anywhere, looking into every array element
    (event-ruler checks absence against the whole flattened event)."""
    kind = type(value)
    if kind is list:
        return any(_has_leaf(element, path, depth) for element in value)
    if depth == len(path):
        return kind is not dict
    if kind is not dict:
        return False
    sub = value.get(path[depth], _MISSING)
    return sub is not _MISSING and _has_leaf(sub, path, depth + 1)


def _elements(values: list[Any]) -> Iterator[Any]:
    for value in values:
        if type(value) is list:
            yield from _elements(value)
        else:
            yield value


class _FieldBuilder:
    """Collects one field's value list while it is being validated."""

    def __init__(self, extended: bool, path: tuple[str, ...]) -> None:
        self.extended = extended
        self.path = path
        self.strings: set[str] = set()
        self.numbers: set[str] = set()
        self.literals: list[bool | None] = []
        self.string_tests: list[_Predicate] = []
        self.number_tests: list[_Predicate] = []
        self.leaf_tests: list[_Predicate] = []
        self.exists = False
        self.absent = False

    def build(self) -> _FieldMatcher:
        return _FieldMatcher(
            strings=frozenset(self.strings),
            numbers=frozenset(self.numbers),
            literals=tuple(self.literals),
            string_tests=tuple(self.string_tests),
            number_tests=tuple(self.number_tests),
            leaf_tests=tuple(self.leaf_tests),
            exists=self.exists,
            absent=self.absent,
            path=self.path,
        )

    def add(self, value: Any) -> None:
        if isinstance(value, str):
            self.strings.add(value)
        elif isinstance(value, _Number):
            self.numbers.add(value.text)
        elif value is None or isinstance(value, bool):
            self.literals.append(value)
        elif isinstance(value, _Pairs):
            self.add_operator(value)
        else:
            raise FilterPatternError("a match value must be a string, number, boolean or null")

    def add_operator(self, pairs: _Pairs) -> None:
        if len(pairs) != 1:
            raise FilterPatternError("a match expression has exactly one key")
        name, argument = pairs[0]
        handler = _OPERATORS.get(name)
        if handler is None:
            raise FilterPatternError(f"unrecognized match type {name}")
        handler(self, argument)

    # Operators: each validates its argument and adds one test.

    def op_exactly(self, argument: Any) -> None:
        self.strings.add(_string(argument, "exactly"))

    def op_prefix(self, argument: Any) -> None:
        if isinstance(argument, _Pairs):
            folded = _fold(_ignore_case_argument(argument, "prefix"))
            self.string_tests.append(lambda value: _fold(value).startswith(folded))
            return
        prefix = _string(argument, "prefix")
        self.string_tests.append(lambda value: value.startswith(prefix))

    def op_suffix(self, argument: Any) -> None:
        if isinstance(argument, _Pairs):
            folded = _fold(_ignore_case_argument(argument, "suffix"))
            self.string_tests.append(lambda value: _fold(value).endswith(folded))
            return
        suffix = _string(argument, "suffix")
        self.string_tests.append(lambda value: value.endswith(suffix))

    def op_equals_ignore_case(self, argument: Any) -> None:
        folded = _fold(_string(argument, "equals-ignore-case"))
        self.string_tests.append(lambda value: _fold(value) == folded)

    def op_wildcard(self, argument: Any) -> None:
        if not self.extended:
            raise FilterPatternError("wildcard is switched off")
        regex = _wildcard_regex(_string(argument, "wildcard"))
        self.string_tests.append(lambda value: regex.fullmatch(value) is not None)

    def op_cidr(self, argument: Any) -> None:
        try:
            network = ipaddress.ip_network(_string(argument, "cidr"), strict=False)
        except ValueError:
            raise FilterPatternError("cidr: not an IP network") from None

        def in_network(value: str) -> bool:
            try:
                return ipaddress.ip_address(value) in network
            except ValueError:
                return False

        self.string_tests.append(in_network)

    def op_exists(self, argument: Any) -> None:
        if argument is True:
            self.exists = True
        elif argument is False:
            self.absent = True
        else:
            raise FilterPatternError("exists must be true or false")

    def op_numeric(self, argument: Any) -> None:
        self.number_tests.append(_numeric_test(argument))

    def op_anything_but(self, argument: Any) -> None:
        self.leaf_tests.append(_anything_but_test(argument, self.extended))


def _string(argument: Any, operator: str) -> str:
    if not isinstance(argument, str):
        raise FilterPatternError(f"{operator} match pattern must be a string")
    return argument


def _ignore_case_argument(argument: _Pairs, operator: str) -> str:
    """`{"prefix": {"equals-ignore-case": "..."}}` and the suffix form."""
    if len(argument) != 1 or argument[0][0] != "equals-ignore-case":
        raise FilterPatternError(f"unsupported {operator} pattern")
    return _string(argument[0][1], "equals-ignore-case")


_OPERATORS: Final[dict[str, Callable[[_FieldBuilder, Any], None]]] = {
    "exactly": _FieldBuilder.op_exactly,
    "prefix": _FieldBuilder.op_prefix,
    "suffix": _FieldBuilder.op_suffix,
    "equals-ignore-case": _FieldBuilder.op_equals_ignore_case,
    "wildcard": _FieldBuilder.op_wildcard,
    "cidr": _FieldBuilder.op_cidr,
    "exists": _FieldBuilder.op_exists,
    "numeric": _FieldBuilder.op_numeric,
    "anything-but": _FieldBuilder.op_anything_but,
}


def _bound(argument: Any, operator: str) -> float:
    if not isinstance(argument, _Number):
        raise FilterPatternError(f"value of {operator} must be numeric")
    if not -_NUMERIC_LIMIT <= argument.value <= _NUMERIC_LIMIT:
        raise FilterPatternError("numeric values must be between -5.0E9 and 5.0E9, inclusive")
    return argument.value


def _numeric_test(argument: Any) -> _Predicate:
    """`["=", x]`, `["<" | "<=", x]`, or `[">" | ">=", x]` optionally followed by an upper
    bound `"<" | "<="`; bounds compared as event-ruler's 6-decimal fixed point."""
    if not _is_array(argument) or not argument:
        raise FilterPatternError("value of numeric must be a non-empty array")
    terms = list(argument)
    operator = terms[0]
    if not isinstance(operator, str) or operator not in ("=", "<", "<=", ">", ">="):
        raise FilterPatternError(f"unrecognized numeric range operator: {operator!r}")
    if len(terms) < 2:
        raise FilterPatternError(f"value of {operator} must be numeric")
    first = _comparable(_bound(terms[1], operator))
    assert first is not None
    rest = terms[2:]
    if operator == "=":
        if rest:
            raise FilterPatternError("too many elements in numeric expression")
        return lambda value: _comparable(value) == first
    if operator in ("<", "<="):
        if rest:
            raise FilterPatternError("too many elements in numeric expression")
        if operator == "<":
            return lambda value: (key := _comparable(value)) is not None and key < first
        return lambda value: (key := _comparable(value)) is not None and key <= first
    low_open = operator == ">"
    if not rest:
        if low_open:
            return lambda value: (key := _comparable(value)) is not None and key > first
        return lambda value: (key := _comparable(value)) is not None and key >= first
    upper = rest[0]
    if not isinstance(upper, str) or upper not in ("<", "<="):
        raise FilterPatternError(f"bad numeric range operator: {upper!r}")
    if len(rest) < 2:
        raise FilterPatternError(f"value of {upper} must be numeric")
    if len(rest) > 2:
        raise FilterPatternError("too many terms in numeric range expression")
    second = _comparable(_bound(rest[1], upper))
    assert second is not None
    if second <= first:
        raise FilterPatternError("bottom must be less than top")
    high_open = upper == "<"

    def in_range(value: float) -> bool:
        key = _comparable(value)
        if key is None:
            return False
        above = key > first if low_open else key >= first
        below = key < second if high_open else key <= second
        return above and below

    return in_range


def _anything_but_test(argument: Any, extended: bool) -> _Predicate:
    """Matches every leaf except those the argument names. A leaf of another type than the
    argument's is never excluded (event-ruler: `"101"` does not exclude the number 101)."""
    if isinstance(argument, _Pairs):
        return _anything_but_form(argument, extended)
    values = argument if _is_array(argument) else [argument]
    if not values:
        raise FilterPatternError("anything-but list must not be empty")
    if all(isinstance(value, str) for value in values):
        excluded = frozenset(values)
        return lambda value: not (type(value) is str and value in excluded)
    if all(isinstance(value, _Number) for value in values):
        keys: set[int] = set()
        for value in values:
            key = _comparable(value.value)
            if key is None:
                raise FilterPatternError("anything-but numbers must be within +-5.0E9")
            keys.add(key)
        excluded_keys = frozenset(keys)
        return lambda value: not (_is_number(value) and _comparable(value) in excluded_keys)
    raise FilterPatternError(
        "anything-but takes one string or number, or a list of only strings or only numbers"
    )


def _anything_but_form(argument: _Pairs, extended: bool) -> _Predicate:
    """`{"anything-but": {"prefix" | "suffix" | "equals-ignore-case" | "wildcard": ...}}`,
    each with one string or a list of strings."""
    if len(argument) != 1:
        raise FilterPatternError("anything-but takes one expression")
    name, inner = argument[0]
    if name not in ("prefix", "suffix", "equals-ignore-case", "wildcard"):
        raise FilterPatternError(f"unsupported anything-but pattern: {name}")
    if not extended:
        raise FilterPatternError(f"anything-but {name} is switched off")
    texts = inner if _is_array(inner) else [inner]
    if not texts or not all(isinstance(text, str) for text in texts):
        raise FilterPatternError(f"anything-but {name} takes strings")
    if name in ("prefix", "suffix") and "" in texts:
        raise FilterPatternError("null prefix/suffix not allowed")
    strings: tuple[str, ...] = tuple(texts)
    if name == "prefix":
        return lambda value: not (type(value) is str and value.startswith(strings))
    if name == "suffix":
        return lambda value: not (type(value) is str and value.endswith(strings))
    if name == "equals-ignore-case":
        folded = frozenset(_fold(text) for text in strings)
        return lambda value: not (type(value) is str and _fold(value) in folded)
    regexes = tuple(_wildcard_regex(text) for text in strings)
    return lambda value: (
        not (type(value) is str and any(regex.fullmatch(value) for regex in regexes))
    )


# --- object patterns -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Node:
    """An object pattern: every field must match, and one branch of every `$or` group."""

    fields: tuple[tuple[str, _FieldMatcher | _Node], ...]
    or_groups: tuple[tuple[_Node, ...], ...]
    #: Whether the pattern can match where the record has nothing (absent, a scalar, a map
    #: without the fields): only if every field can be satisfied by `exists: false`.
    may_match_nothing: bool

    def match(self, value: Any, root: dict[str, Any]) -> bool:
        kind = type(value)
        if kind is dict:
            for key, sub in self.fields:
                if not sub.match(value.get(key, _MISSING), root):
                    return False
            return all(
                any(branch.match(value, root) for branch in group) for group in self.or_groups
            )
        if kind is list:
            # One element must satisfy the whole object on its own (array consistency).
            found = False
            for element in _elements(value):
                found = True
                if self.match(element, root):
                    return True
            if found:
                return False
        return self.may_match_nothing and self.match(_EMPTY, root)


_EMPTY: Final[dict[str, Any]] = {}


def _compile_object(
    pairs: Any, extended: bool, path: tuple[str, ...], inside_or: bool = False
) -> _Node:
    if not isinstance(pairs, _Pairs):
        raise FilterPatternError("filter is not an object")
    if not pairs:
        raise FilterPatternError("empty objects are not allowed")
    fields: dict[str, _FieldMatcher | _Node] = {}
    or_groups: list[tuple[_Node, ...]] = []
    for key, value in _last_wins(pairs).items():
        if key == "$or":
            or_groups.append(_compile_or(value, extended, path))
            continue
        if inside_or and key in _RESERVED_IN_OR:
            raise FilterPatternError(f"{key} is a reserved field name inside $or")
        if isinstance(value, _Pairs):
            fields[key] = _compile_object(value, extended, (*path, key), inside_or)
        elif isinstance(value, list):
            fields[key] = _compile_values(value, extended, (*path, key))
        else:
            raise FilterPatternError(f'"{key}" must be an object or an array')
    may_match_nothing = all(
        sub.absent if isinstance(sub, _FieldMatcher) else sub.may_match_nothing
        for sub in fields.values()
    ) and all(any(branch.may_match_nothing for branch in group) for group in or_groups)
    return _Node(tuple(fields.items()), tuple(or_groups), may_match_nothing)


def _compile_or(value: Any, extended: bool, path: tuple[str, ...]) -> tuple[_Node, ...]:
    if not isinstance(value, list):
        raise FilterPatternError("$or must be followed by an array")
    if len(value) < 2:
        raise FilterPatternError("$or needs at least 2 objects")
    if not all(isinstance(branch, _Pairs) for branch in value):
        raise FilterPatternError("only objects are allowed in a $or array")
    return tuple(_compile_object(branch, extended, path, inside_or=True) for branch in value)


def _compile_values(values: list[Any], extended: bool, path: tuple[str, ...]) -> _FieldMatcher:
    if not values:
        raise FilterPatternError("empty arrays are not allowed")
    builder = _FieldBuilder(extended, path)
    for value in values:
        builder.add(value)
    return builder.build()


# --- public API ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Pattern:
    """One compiled `FilterCriteria.Filters[].Pattern`."""

    text: str
    _root: _Node

    def matches(self, record: Mapping[str, Any]) -> bool:
        """Whether the Lambda event record (eventName, ..., dynamodb, eventSourceARN)
        matches."""
        root = record if type(record) is dict else dict(record)
        return self._root.match(root, root)


def compile_pattern(text: str, *, extended: bool = True) -> Pattern:
    """Parse and validate one pattern. `extended=False` refuses the operators whose Lambda
    acceptance is unverified (wildcard; anything-but prefix/suffix/equals-ignore-case/
    wildcard), as EventBridge Pipes does."""
    if not isinstance(text, str):
        raise FilterPatternError("a pattern is a string")
    return Pattern(text, _compile_object(_load(text), extended, ()))


def compile_criteria(
    criteria: Mapping[str, Any] | None,
    *,
    max_filters: int = MAX_FILTERS,
    extended: bool = True,
) -> tuple[Pattern, ...]:
    """The patterns of a request's `FilterCriteria`; `None`, `{}` or no `Filters` means no
    filtering (the empty tuple, which `matches_any` passes everything through)."""
    if criteria is None:
        return ()
    if not isinstance(criteria, Mapping):
        raise FilterPatternError("FilterCriteria is not an object")
    filters = criteria.get("Filters")
    if filters is None:
        return ()
    if not isinstance(filters, Sequence) or isinstance(filters, str | bytes):
        raise FilterPatternError("Filters is not a list")
    if len(filters) > max_filters:
        raise FilterQuotaError(len(filters), max_filters)
    patterns: list[Pattern] = []
    for index, entry in enumerate(filters, start=1):
        if not isinstance(entry, Mapping):
            raise FilterPatternError("a filter is not an object")
        text = entry.get("Pattern")
        if not isinstance(text, str):
            raise FilterPatternError("a filter has no Pattern")
        if len(text) > MAX_PATTERN_LENGTH:
            raise FilterPatternLengthError(index)
        patterns.append(compile_pattern(text, extended=extended))
    return tuple(patterns)


def matches_any(patterns: Iterable[Pattern], record: Mapping[str, Any]) -> bool:
    """Whether a record passes a mapping's filters: any pattern matches, or there are none."""
    matched_none = True
    for pattern in patterns:
        if pattern.matches(record):
            return True
        matched_none = False
    return matched_none
