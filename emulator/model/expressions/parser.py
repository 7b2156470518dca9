"""Parsers for condition, update and projection expressions.

Descent follows the grammar below, except where a text can nest: parentheses, NOT and
function calls are parsed with explicit stacks, never Python recursion, so every text
under the 4 KB quota parses to the end and gets AWS's own answer (a thousand NOTs: too
many operators; two thousand parentheses: redundant parentheses). An AST that passes
`finish` has at most 300 operators, hence a depth of at most 301 nodes: that is the
depth limit every later walk over it (context checks, evaluation) relies on.

Errors come in the order AWS reports them: the whole text is parsed first (syntax
errors win), then reserved words used as bare names, then the other static problems
(unknown functions, arity, redundant parentheses, ...) in text order. Everything that
depends on ExpressionAttributeNames/Values is checked later by the context, so parsed
ASTs depend on the text alone and are cached by ``(kind, text)``.

Grammar (keywords case-insensitive, function names case-sensitive)::

    condition  := or
    or         := and ("OR" and)*
    and        := not ("AND" not)*
    not        := "NOT" not | primary
    primary    := "(" condition ")" | function | operand comparator operand
                | operand "BETWEEN" operand "AND" operand
                | operand "IN" "(" operand ("," operand)* ")"
    operand    := path | ":v" | function | "(" operand ")"     (in conditions)
    path       := name ("." name | "[" digits "]")*        name := bare | "#n"
                  (at most 32 levels; bare names start with a letter)

    update     := (("SET" set ("," set)*) | ("REMOVE" path ("," path)*)
                  | ("ADD" path ":v" ("," path ":v")*) | ("DELETE" path ":v" (...)*))+
    set        := path "=" value
    value      := setop (("+" | "-") setop)?
    setop      := path | ":v" | function      (function arguments are setops)

    projection := path ("," path)*
"""

from __future__ import annotations

import functools

from emulator.errors import ValidationException
from emulator.model.expressions import messages as msg
from emulator.model.expressions.lexer import (
    EOF,
    NAME,
    NAME_REF,
    NUMBER,
    OP,
    VALUE_REF,
    Token,
    tokenize,
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
    Not,
    Operand,
    Or,
    Path,
    PathElement,
    RemoveAction,
    SetAction,
    UpdateAst,
    ValueRef,
)
from emulator.model.expressions.reserved import is_reserved

#: Functions that are conditions, with their number of operands.
CONDITION_FUNCTIONS = {
    "attribute_exists": 1,
    "attribute_not_exists": 1,
    "attribute_type": 2,
    "begins_with": 2,
    "contains": 2,
}
#: Functions that yield a value inside a condition.
CONDITION_OPERAND_FUNCTIONS = {"size": 1}
#: Functions that yield a value inside a SET action.
UPDATE_FUNCTIONS = {"if_not_exists": 2, "list_append": 2}
ALL_FUNCTIONS = {**CONDITION_FUNCTIONS, **CONDITION_OPERAND_FUNCTIONS, **UPDATE_FUNCTIONS}
_CONDITION_OPERAND_ALLOWED = {**CONDITION_FUNCTIONS, **CONDITION_OPERAND_FUNCTIONS}
#: Functions whose first operand must be a document path.
PATH_FIRST_FUNCTIONS = frozenset(
    {"attribute_exists", "attribute_not_exists", "attribute_type", "if_not_exists"}
)

COMPARATORS = frozenset({"=", "<>", "<", "<=", ">", ">="})
CONDITION_KEYWORDS = frozenset({"AND", "OR", "NOT", "BETWEEN", "IN"})
UPDATE_KEYWORDS = frozenset({"SET", "REMOVE", "ADD", "DELETE"})

MAX_EXPRESSION_BYTES = 4096  # AWS quota: 4 KB per expression string
MAX_OPERATORS = 300  # AWS quota: operators + functions per expression
MAX_IN_OPERANDS = 100  # AWS quota: operands of one IN
MAX_PATH_DEPTH = 32  # AWS quota: nesting levels of a document path (observed message)
#: The largest list index AWS's (Java int) parser can hold; see `_Parser.path`.
MAX_LIST_INDEX = 2**31 - 1
#: attribute_type's second operand when it is a document path: AWS names the set of
#: every internal type it could be (a third-party capture of AWS's text; unconfirmed).
ANY_TYPE = (
    "{S,SS,N,NS,B,BS,BOOL,NULL,L,M,HD,DOUBLE,FLOAT,HDS,FS,DOUBLESET,DICT,DECIMAL,INT,"
    "DECIMALSET,INTSET}"
)


class _Level:
    """One parenthesis level of a condition being parsed (see `_Parser.condition`)."""

    __slots__ = ("conjunction", "disjunction", "nots")

    def __init__(self) -> None:
        self.disjunction: Condition | None = None  # the OR chain before the current AND chain
        self.conjunction: Condition | None = None  # the AND chain being built
        self.nots = 0  # NOTs read before the next term

    def add(self, term: Condition) -> None:
        for _ in range(self.nots):
            term = Not(term)
        self.nots = 0
        self.conjunction = term if self.conjunction is None else And(self.conjunction, term)

    def close_conjunction(self) -> None:
        assert self.conjunction is not None
        done = self.conjunction
        self.disjunction = done if self.disjunction is None else Or(self.disjunction, done)
        self.conjunction = None

    def result(self) -> Condition:
        self.close_conjunction()
        assert self.disjunction is not None
        return self.disjunction


class _Parser:
    """One parse of one expression text; not reused."""

    def __init__(self, text: str, kind: str, keywords: frozenset[str]) -> None:
        self.text = text
        self.kind = kind
        self.keywords = keywords
        self.tokens = tokenize(text)
        self.pos = 0
        self.operators = 0
        self.reserved: list[ValidationException] = []
        self.problems: list[ValidationException] = []
        self.parenthesized: set[int] = set()
        self.keep_alive: list[object] = []  # ids in `parenthesized` must stay unique
        self.no_wrapped_operand_before = 0  # see `wrapped_operand_ahead`

    # ---------------------------------------------------------------- token helpers

    def peek(self, offset: int = 0) -> Token:
        return self.tokens[min(self.pos + offset, len(self.tokens) - 1)]

    def advance(self) -> Token:
        token = self.tokens[self.pos]
        if token.kind != EOF:
            self.pos += 1
        return token

    def at_op(self, text: str) -> bool:
        token = self.peek()
        return token.kind == OP and token.text == text

    def at_keyword(self, word: str) -> bool:
        token = self.peek()
        return token.kind == NAME and token.text.upper() == word

    def expect_op(self, text: str) -> Token:
        if not self.at_op(text):
            raise self.syntax_error()
        return self.advance()

    def syntax_error(self, token: Token | None = None) -> ValidationException:
        """AWS's syntax error: the token, and the text from the previous to the next token."""
        index = self.pos if token is None else self.tokens.index(token)
        bad = self.tokens[index]
        start = self.tokens[index - 1].start if index > 0 else bad.start
        end = self.tokens[index + 1].end if index + 1 < len(self.tokens) else bad.end
        return msg.syntax_error(self.kind, bad.display, self.text[start:end])

    def finish(self) -> None:
        """After a complete parse: raise the first deferred (non-syntax) problem."""
        if self.peek().kind != EOF:
            raise self.syntax_error()
        if self.reserved:
            raise self.reserved[0]
        if self.problems:
            raise self.problems[0]
        if self.operators > MAX_OPERATORS:
            raise msg.invalid(
                self.kind,
                "The expression contains too many operators; "
                f"operator count: {self.operators}, limit: {MAX_OPERATORS}",
            )

    def problem(self, detail: str) -> None:
        self.problems.append(msg.invalid(self.kind, detail))

    # ---------------------------------------------------------------- paths

    def path_element_name(self) -> str:
        token = self.peek()
        if token.kind == NAME_REF:
            self.advance()
            return token.text
        if token.kind == NAME:
            if token.text.upper() in self.keywords:
                raise self.syntax_error()
            if is_reserved(token.text):
                self.reserved.append(
                    msg.invalid(
                        self.kind,
                        f"Attribute name is a reserved keyword; reserved keyword: {token.text}",
                    )
                )
            self.advance()
            return token.text
        raise self.syntax_error()

    def path(self) -> Path:
        """A document path; at most 32 levels (names and indexes), as AWS documents.

        A list index past a Java int (2**31 - 1) is a syntax error on its digits: AWS's
        parser cannot hold it (no capture of AWS's text for it was found; strict).
        """
        elements: list[PathElement] = [self.path_element_name()]
        while True:
            if self.at_op("."):
                self.advance()
                elements.append(self.path_element_name())
            elif self.at_op("["):
                self.advance()
                token = self.peek()
                if token.kind != NUMBER or int(token.text) > MAX_LIST_INDEX:
                    raise self.syntax_error()
                self.advance()
                self.expect_op("]")
                elements.append(int(token.text))
            else:
                if len(elements) > MAX_PATH_DEPTH:
                    self.problem(
                        "The document path has too many nesting levels; "
                        f"nesting levels: {len(elements)}"
                    )
                return Path(tuple(elements))

    # ---------------------------------------------------------------- functions

    def operand(self, allowed: dict[str, int]) -> Operand:
        """A path, a ``:value`` or a call of one of the `allowed` functions, whose
        arguments are operands again.

        Nested calls (``size(size(...))``, ``list_append(list_append(...))``) are kept on
        an explicit stack, not in Python frames: like the conditions around them, any
        nesting a 4 KB text can hold parses to the end and gets AWS's answer.
        """
        calls: list[tuple[Token, list[Operand]]] = []
        while True:
            token = self.peek()
            value: Operand
            if token.kind == VALUE_REF:
                self.advance()
                value = ValueRef(token.text)
            elif self.at_function():
                self.advance()  # the name
                self.advance()  # "("
                calls.append((token, []))
                continue
            else:
                value = self.path()
            while calls:
                name, args = calls[-1]
                args.append(value)
                if self.at_op(","):
                    self.advance()
                    break
                self.expect_op(")")
                calls.pop()
                node = Function(name.text, tuple(args))
                self.operators += 1
                self.check_function(node, allowed)
                value = node
            else:
                return value

    def check_function(self, node: Function, allowed: dict[str, int]) -> None:
        name = node.name
        if name not in ALL_FUNCTIONS:
            self.problem(f"Invalid function name; function: {name}")
        elif name not in allowed:
            self.problem(
                "The function is not allowed to be used this way in an expression; "
                f"function: {name}"
            )
        elif len(node.args) != allowed[name]:
            self.problem(
                "Incorrect number of operands for operator or function; "
                f"operator or function: {name}, number of operands: {len(node.args)}"
            )
        elif name in PATH_FIRST_FUNCTIONS and not isinstance(node.args[0], Path):
            self.problem(
                f"Operator or function requires a document path; operator or function: {name}"
            )
        elif name == "attribute_type" and not isinstance(node.args[1], ValueRef):
            # The type must be a literal: a path's type is unknown (ANY_TYPE), size() is N.
            operand = node.args[1]
            self.problems.append(
                msg.incorrect_operand(self.kind, name, "N" if _is_size(operand) else ANY_TYPE)
            )
        elif name == "size" and _is_size(node.args[0]):
            # size() is a Number, which has no size.
            self.problems.append(msg.incorrect_operand(self.kind, name, "N"))

    def at_function(self) -> bool:
        return self.peek().kind == NAME and self.peek(1).kind == OP and self.peek(1).text == "("

    # ---------------------------------------------------------------- conditions

    def condition(self) -> Condition:
        """``or``/``and``/``not`` and parentheses, with explicit stacks instead of
        recursion: a 4 KB text can open ~2,000 parentheses or chain ~1,000 NOTs, and the
        parse must complete to give AWS's answer (redundant parentheses, too many
        operators) rather than overflow Python's stack.

        Each open parenthesis pushes a level: the OR chain built so far, the AND chain
        being built and the NOTs waiting for the next term; ``)`` closes the level and
        its condition becomes a term of the level below (after that level's NOTs).
        """
        levels: list[_Level] = []
        level = _Level()
        while True:
            # A term: NOT*, then a parenthesised condition or an atom.
            while self.at_keyword("NOT"):
                self.advance()
                self.operators += 1
                level.nots += 1
            if self.at_op("(") and not self.wrapped_operand_ahead():
                self.advance()
                levels.append(level)
                level = _Level()
                continue
            term: Condition = self.atom()
            while True:
                level.add(term)
                if self.at_keyword("AND"):
                    self.advance()
                    self.operators += 1
                    break
                if self.at_keyword("OR"):
                    self.advance()
                    self.operators += 1
                    level.close_conjunction()
                    break
                if not levels:
                    return level.result()
                self.expect_op(")")
                inner = level.result()
                if id(inner) in self.parenthesized:
                    self.problem("The expression has redundant parentheses;")
                self.parenthesized.add(id(inner))
                self.keep_alive.append(inner)
                level = levels.pop()
                term = inner

    def wrapped_operand_ahead(self) -> bool:
        """Whether the first of the ``(`` here wraps an operand, as in ``(size(b)) = :v``
        (AWS accepts parenthesised operands), rather than opening a condition.

        A lookahead: read the run of ``(``, one operand and as many ``)`` as there were
        ``(``, and see whether a comparator, BETWEEN or IN follows; then rewind. The
        parentheses of the run beyond those closed around the operand open conditions,
        and when none wraps an operand, none does from inside the run either: the run is
        looked at once, so 2,000 parentheses still parse in linear time.
        """
        if self.pos < self.no_wrapped_operand_before:
            return False
        start = self.pos
        saved = (self.operators, len(self.reserved), len(self.problems))
        opens = closes = 0
        while self.at_op("("):
            self.advance()
            opens += 1
        run_end = self.pos
        follows = False
        try:
            self.operand(_CONDITION_OPERAND_ALLOWED)
            while closes < opens and self.at_op(")"):
                self.advance()
                closes += 1
            token = self.peek()
            follows = closes > 0 and (
                (token.kind == OP and token.text in COMPARATORS)
                or self.at_keyword("BETWEEN")
                or self.at_keyword("IN")
            )
        except ValidationException:
            pass
        self.pos = start
        self.operators = saved[0]
        del self.reserved[saved[1] :]
        del self.problems[saved[2] :]
        if not follows:
            self.no_wrapped_operand_before = run_end
            return False
        if closes == opens:
            return True
        # Only the last `closes` of the run wrap the operand: the others open conditions.
        self.no_wrapped_operand_before = start + opens - closes
        return False

    def atom(self) -> Condition:
        """A comparison, BETWEEN, IN or a condition function; its operands may be in
        parentheses (`condition_operand`), the whole atom is not (`condition` reads those)."""
        left = self.condition_operand()
        token = self.peek()
        if token.kind == OP and token.text in COMPARATORS:
            self.advance()
            self.operators += 1
            right = self.condition_operand()
            self.check_value_function(left)
            self.check_value_function(right)
            return Comparison(token.text, left, right)
        if self.at_keyword("BETWEEN"):
            self.advance()
            self.operators += 1
            low = self.condition_operand()
            if not self.at_keyword("AND"):
                raise self.syntax_error()
            self.advance()
            high = self.condition_operand()
            for operand in (left, low, high):
                self.check_value_function(operand)
            return Between(left, low, high)
        if self.at_keyword("IN"):
            self.advance()
            self.operators += 1
            self.expect_op("(")
            choices = [self.condition_operand()]
            while self.at_op(","):
                self.advance()
                choices.append(self.condition_operand())
            self.expect_op(")")
            for operand in (left, *choices):
                self.check_value_function(operand)
            if len(choices) > MAX_IN_OPERANDS:
                self.problem(
                    "The IN operator is provided with too many operands; "
                    f"number of operands: {len(choices)}"
                )
            return In(left, tuple(choices))
        if isinstance(left, Function):
            if left.name in CONDITION_OPERAND_FUNCTIONS:
                self.problem(
                    "The function is not allowed to be used this way in an expression; "
                    f"function: {left.name}"
                )
            return left
        raise self.syntax_error()

    def check_value_function(self, operand: Operand) -> None:
        """Condition functions (attribute_exists, ...) are not values."""
        if isinstance(operand, Function) and operand.name in CONDITION_FUNCTIONS:
            self.problem(
                "The function is not allowed to be used this way in an expression; "
                f"function: {operand.name}"
            )

    def condition_operand(self) -> Operand:
        """An operand, possibly in parentheses: ``(size(b))``."""
        opens = 0
        while self.at_op("("):
            self.advance()
            opens += 1
        operand = self.operand(_CONDITION_OPERAND_ALLOWED)
        for _ in range(opens):
            self.expect_op(")")
        return operand

    # ---------------------------------------------------------------- updates

    def update(self) -> UpdateAst:
        clauses: dict[str, list[object]] = {}
        while self.peek().kind != EOF:
            token = self.peek()
            word = token.text.upper() if token.kind == NAME else ""
            if word not in UPDATE_KEYWORDS:
                raise self.syntax_error()
            if word in clauses:
                raise msg.invalid(
                    self.kind,
                    f'The "{word}" section can only be used once in an update expression;',
                )
            self.advance()
            actions: list[object] = [self.update_action(word)]
            while self.at_op(","):
                self.advance()
                actions.append(self.update_action(word))
            clauses[word] = actions
        return UpdateAst(
            sets=tuple(a for a in clauses.get("SET", ()) if isinstance(a, SetAction)),
            removes=tuple(a for a in clauses.get("REMOVE", ()) if isinstance(a, RemoveAction)),
            adds=tuple(a for a in clauses.get("ADD", ()) if isinstance(a, AddAction)),
            deletes=tuple(a for a in clauses.get("DELETE", ()) if isinstance(a, DeleteAction)),
        )

    def update_action(self, clause: str) -> object:
        path = self.path()
        if clause == "SET":
            self.expect_op("=")
            return SetAction(path, self.set_value())
        if clause == "REMOVE":
            return RemoveAction(path)
        token = self.peek()
        if token.kind != VALUE_REF:
            raise self.syntax_error()
        self.advance()
        if clause == "ADD":
            return AddAction(path, ValueRef(token.text))
        return DeleteAction(path, ValueRef(token.text))

    def set_value(self) -> Operand:
        left = self.set_operand()
        token = self.peek()
        if token.kind == OP and token.text in ("+", "-"):
            self.advance()
            self.operators += 1
            return Arithmetic(token.text, left, self.set_operand())
        return left

    def set_operand(self) -> Operand:
        return self.operand(UPDATE_FUNCTIONS)

    # ---------------------------------------------------------------- projections

    def projection(self) -> list[Path]:
        paths = [self.path()]
        while self.at_op(","):
            self.advance()
            paths.append(self.path())
        return paths


def _is_size(operand: Operand) -> bool:
    return isinstance(operand, Function) and operand.name == "size"


def _start(text: str, kind: str, keywords: frozenset[str]) -> _Parser:
    """Checks that precede parsing: empty text and the 4 KB size quota."""
    if not text.strip():
        raise msg.invalid(kind, "The expression can not be empty;")
    size = len(text.encode("utf-8"))
    if size > MAX_EXPRESSION_BYTES:
        raise msg.invalid(
            kind,
            "Expression size has exceeded the maximum allowed size; "
            f"expression size: {size}, limit: {MAX_EXPRESSION_BYTES}",
        )
    return _Parser(text, kind, keywords)


@functools.lru_cache(maxsize=4096)
def _parse_cached(kind: str, text: str) -> Condition | UpdateAst | tuple[Path, ...]:
    """The one cached entry point; exceptions are not cached, results are immutable."""
    if kind == msg.UPDATE:
        parser = _start(text, kind, UPDATE_KEYWORDS)
        update = parser.update()
        parser.finish()
        return update
    if kind == msg.PROJECTION:
        parser = _start(text, kind, frozenset())
        paths = parser.projection()
        parser.finish()
        return tuple(paths)
    parser = _start(text, kind, CONDITION_KEYWORDS)
    condition = parser.condition()
    parser.finish()
    return condition


def parse_condition(text: str, kind: str = msg.CONDITION) -> Condition:
    """Parse a Condition/Filter/KeyCondition expression (``kind`` names it in errors)."""
    if kind in (msg.UPDATE, msg.PROJECTION):
        raise ValueError(f"not a condition kind: {kind}")
    result = _parse_cached(kind, text)
    assert not isinstance(result, (UpdateAst, tuple))
    return result


def parse_update(text: str) -> UpdateAst:
    """Parse an UpdateExpression."""
    result = _parse_cached(msg.UPDATE, text)
    assert isinstance(result, UpdateAst)
    return result


def parse_projection(text: str) -> list[Path]:
    """Parse a ProjectionExpression into its paths (a fresh list; the paths are shared)."""
    result = _parse_cached(msg.PROJECTION, text)
    assert isinstance(result, tuple)
    return list(result)
