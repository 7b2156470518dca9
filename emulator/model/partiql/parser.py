"""Recursive-descent parser of DynamoDB's PartiQL statements, cached by text.

Grammar (keywords case-insensitive)::

    statement := (select | insert | update | delete | exists) ";"? EOF
    select    := SELECT ("*" | path ("," path)*) FROM source (WHERE expr)?
                 (ORDER BY name (ASC | DESC)?)?
    insert    := INSERT INTO name VALUE value
    update    := UPDATE source (SET assign ("," assign)* | REMOVE path ("," path)*)+
                 WHERE expr (RETURNING (ALL | MODIFIED) (OLD | NEW) "*")?
    delete    := DELETE FROM source WHERE expr (RETURNING ALL OLD "*")?
    exists    := EXISTS "(" select ")"
    source    := name ("." name)?                  name := bare | "quoted"
    assign    := path "=" expr
    expr      := and (OR and)*
    and       := not (AND not)*
    not       := NOT not | predicate
    predicate := sum ((= | <> | != | < | <= | > | >=) sum | BETWEEN sum AND sum
                 | IN "[" expr ("," expr)* "]" | IS NOT? word)?
    sum       := primary (("+" | "-") primary)*
    primary   := literal | "?" | path | name "(" (expr ("," expr)*)? ")" | "(" expr ")"
                 | "[" ... "]" | "{" 'key' ":" expr, ... "}" | "<<" ... ">>" | "-" number
    path      := name ("." name | "[" number "]" | "[" 'key' "]")*

The parser checks form only; what a clause may contain (which functions, whether a
value may be a path) depends on where it is used and is checked when it is rendered.
"""

from __future__ import annotations

import functools

from emulator.errors import ValidationException
from emulator.model.partiql import messages as msg
from emulator.model.partiql.lexer import EOF, IDENT, NUMBER, OP, PARAM, QUOTED, STRING, Token
from emulator.model.partiql.lexer import tokenize as _tokenize
from emulator.model.partiql.nodes import (
    BagValue,
    BetweenExpr,
    Binary,
    Call,
    Delete,
    Exists,
    Expr,
    InExpr,
    Insert,
    IsExpr,
    ListValue,
    Literal,
    MapValue,
    Missing,
    NotExpr,
    Parameter,
    PathRef,
    PathStep,
    RemovePath,
    Select,
    SetAssign,
    Source,
    Statement,
    Update,
)

#: Words that are never a bare attribute name.
_KEYWORD_TEXT = (
    "SELECT FROM WHERE AND OR NOT BETWEEN IN IS MISSING NULL TRUE FALSE INSERT INTO "
    "VALUE VALUES UPDATE SET REMOVE DELETE RETURNING ORDER BY ASC DESC EXISTS AS LIMIT"
)
KEYWORDS = frozenset(_KEYWORD_TEXT.split())
_COMPARATORS = frozenset({"=", "<>", "!=", "<", "<=", ">", ">="})
#: How deep parentheses and nested values may go before the statement is refused
#: (a guard for the recursion; far beyond what the expression language accepts).
_MAX_DEPTH = 100
_MAX_OPERATORS = 300
_RETURNING = {
    ("ALL", "OLD"): "ALL_OLD",
    ("MODIFIED", "OLD"): "UPDATED_OLD",
    ("ALL", "NEW"): "ALL_NEW",
    ("MODIFIED", "NEW"): "UPDATED_NEW",
}


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.pos = 0
        self.parameters = 0
        self.depth = 0
        self.operators = 0

    def operator(self) -> None:
        """Count one operator or function: a statement runs as expressions, whose quota
        is 300 of them (this also bounds every later walk over the AST)."""
        self.operators += 1
        if self.operators > _MAX_OPERATORS:
            raise ValidationException(
                "The expression contains too many operators; "
                f"operator count: {self.operators}, limit: {_MAX_OPERATORS}"
            )

    # ------------------------------------------------------------------ tokens

    @property
    def peek(self) -> Token:
        return self.tokens[self.pos]

    def next(self) -> Token:
        token = self.tokens[self.pos]
        if token.kind != EOF:
            self.pos += 1
        return token

    def accept_op(self, op: str) -> bool:
        token = self.peek
        if token.kind == OP and token.text == op:
            self.pos += 1
            return True
        return False

    def expect_op(self, op: str) -> Token:
        token = self.peek
        if token.kind == OP and token.text == op:
            self.pos += 1
            return token
        raise self.unexpected()

    def accept_keyword(self, *words: str) -> bool:
        if self.peek.keyword(*words):
            self.pos += 1
            return True
        return False

    def expect_keyword(self, word: str) -> None:
        if not self.accept_keyword(word):
            raise self.unexpected()

    def unexpected(self) -> ValidationException:
        token = self.peek
        if token.kind == EOF:
            return msg.not_well_formed("Unexpected end of statement")
        return msg.not_well_formed(f"Unexpected token: {token.text}")

    # --------------------------------------------------------------- statements

    def statement(self) -> Statement:
        token = self.peek
        statement: Statement
        if token.keyword("SELECT"):
            statement = self.select()
        elif token.keyword("INSERT"):
            statement = self.insert()
        elif token.keyword("UPDATE"):
            statement = self.update()
        elif token.keyword("DELETE"):
            statement = self.delete()
        elif token.keyword("EXISTS"):
            self.next()
            self.expect_op("(")
            if not self.peek.keyword("SELECT"):
                raise self.unexpected()
            select = self.select()
            self.expect_op(")")
            statement = Exists(select, 0)
        else:
            raise self.unexpected()
        self.accept_op(";")
        if self.peek.keyword("LIMIT"):
            raise ValidationException("Unsupported clause: LIMIT")
        if self.peek.kind != EOF:
            raise msg.not_well_formed(msg.LEFTOVER)
        return statement

    def select(self) -> Select:
        self.expect_keyword("SELECT")
        projection: tuple[PathRef, ...] | None
        if self.accept_op("*"):
            projection = None
            if self.peek.kind == OP and self.peek.text == ",":
                raise ValidationException(msg.STAR_AND_OTHERS)
        else:
            paths = [self.path()]
            while self.accept_op(","):
                if self.peek.kind == OP and self.peek.text == "*":
                    raise ValidationException(msg.STAR_AND_OTHERS)
                paths.append(self.path())
            projection = tuple(paths)
        self.expect_keyword("FROM")
        source = self.source()
        self.refuse_alias()
        where = self.expr() if self.accept_keyword("WHERE") else None
        order_by = None
        if self.accept_keyword("ORDER"):
            self.expect_keyword("BY")
            name = self.name()
            descending = False
            if self.accept_keyword("DESC"):
                descending = True
            else:
                self.accept_keyword("ASC")
            order_by = (name, descending)
        return Select(source, projection, where, order_by, self.parameters)

    def insert(self) -> Insert:
        self.expect_keyword("INSERT")
        self.expect_keyword("INTO")
        source = self.source()
        if not self.accept_keyword("VALUE"):
            raise msg.not_well_formed(msg.LEFTOVER)
        item = self.expr()
        if self.peek.keyword("RETURNING"):
            raise ValidationException(msg.RETURNING_INSERT)
        return Insert(source, item, self.parameters)

    def update(self) -> Update:
        self.expect_keyword("UPDATE")
        source = self.source()
        self.refuse_alias()
        actions: list[SetAssign | RemovePath] = []
        while True:
            if self.accept_keyword("SET"):
                actions.append(self.assignment())
                while self.accept_op(","):
                    actions.append(self.assignment())
            elif self.accept_keyword("REMOVE"):
                actions.append(RemovePath(self.path()))
                while self.accept_op(","):
                    actions.append(RemovePath(self.path()))
            else:
                break
        if not actions:
            raise self.unexpected()
        where = self.expr() if self.accept_keyword("WHERE") else None
        return Update(source, tuple(actions), where, self.returning(), self.parameters)

    def delete(self) -> Delete:
        self.expect_keyword("DELETE")
        self.expect_keyword("FROM")
        source = self.source()
        self.refuse_alias()
        where = self.expr() if self.accept_keyword("WHERE") else None
        returning = self.returning()
        if returning not in ("NONE", "ALL_OLD"):
            raise ValidationException(
                "Invalid returning clause: RETURNING "
                f"{returning.replace('UPDATED', 'MODIFIED').replace('_', ' ')} *. "
                "Only RETURNING ALL OLD * is allowed in DELETE statements."
            )
        return Delete(source, where, returning, self.parameters)

    def returning(self) -> str:
        if not self.accept_keyword("RETURNING"):
            return "NONE"
        first = self.next()
        second = self.next()
        which = _RETURNING.get((first.text.upper(), second.text.upper()))
        if which is None or first.kind != IDENT or second.kind != IDENT:
            raise ValidationException(
                "Expected '*' after ( MODIFIED | ALL ) ( NEW | OLD ) in RETURNING clause"
            )
        if not self.accept_op("*"):
            raise ValidationException(
                "Expected '*' after ( MODIFIED | ALL ) ( NEW | OLD ) in RETURNING clause"
            )
        return which

    def assignment(self) -> SetAssign:
        path = self.path()
        self.expect_op("=")
        return SetAssign(path, self.expr())

    def source(self) -> Source:
        table = self.name()
        index = None
        if self.accept_op("."):
            index = self.name()
            if self.peek.kind == OP and self.peek.text == ".":
                raise ValidationException(
                    "A path may contain at most 2 components in the FROM clause"
                )
        return Source(table, index)

    def refuse_alias(self) -> None:
        token = self.peek
        if token.keyword("AS") or (token.kind in (IDENT, QUOTED) and not token.keyword(*KEYWORDS)):
            raise ValidationException(msg.ALIASING)

    def name(self) -> str:
        token = self.peek
        if token.kind == QUOTED or (token.kind == IDENT and not token.keyword(*KEYWORDS)):
            self.pos += 1
            return token.text
        raise self.unexpected()

    def path(self) -> PathRef:
        start = self.peek.start
        steps: list[PathStep] = [self.name()]
        while True:
            if self.accept_op("."):
                steps.append(self.name())
            elif self.accept_op("["):
                token = self.next()
                if token.kind == NUMBER and token.text.isdigit():
                    steps.append(int(token.text))
                elif token.kind == STRING:
                    steps.append(token.text)
                else:
                    raise msg.not_well_formed("Invalid path component")
                self.expect_op("]")
            else:
                return PathRef(tuple(steps), start)

    # -------------------------------------------------------------- expressions

    def expr(self) -> Expr:
        self.depth += 1
        if self.depth > _MAX_DEPTH:
            raise msg.not_well_formed("Expression nested too deeply")
        left = self.conjunction()
        while self.accept_keyword("OR"):
            self.operator()
            left = Binary("OR", left, self.conjunction())
        self.depth -= 1
        return left

    def conjunction(self) -> Expr:
        left = self.negation()
        while self.accept_keyword("AND"):
            self.operator()
            left = Binary("AND", left, self.negation())
        return left

    def negation(self) -> Expr:
        if self.accept_keyword("NOT"):
            self.operator()
            self.depth += 1
            if self.depth > _MAX_DEPTH:
                raise msg.not_well_formed("Expression nested too deeply")
            operand = self.negation()
            self.depth -= 1
            return NotExpr(operand)
        return self.predicate()

    def predicate(self) -> Expr:
        left = self.sum()
        token = self.peek
        if token.kind == OP and token.text in _COMPARATORS:
            self.pos += 1
            self.operator()
            op = "<>" if token.text == "!=" else token.text
            return Binary(op, left, self.sum())
        negated = False
        if token.keyword("NOT") and self.tokens[self.pos + 1].keyword("BETWEEN", "IN"):
            self.pos += 1
            negated = True
        if self.peek.keyword("BETWEEN", "IN", "IS"):
            self.operator()
        if self.accept_keyword("BETWEEN"):
            low = self.sum()
            self.expect_keyword("AND")
            result: Expr = BetweenExpr(left, low, self.sum())
            return NotExpr(result) if negated else result
        if self.accept_keyword("IN"):
            closing = "]" if self.accept_op("[") else None
            if closing is None:
                self.expect_op("(")
                closing = ")"
            choices = [self.expr()]
            while self.accept_op(","):
                choices.append(self.expr())
            self.expect_op(closing)
            result = InExpr(left, tuple(choices))
            return NotExpr(result) if negated else result
        if self.accept_keyword("IS"):
            is_not = self.accept_keyword("NOT")
            word = self.next()
            if word.kind != IDENT:
                raise msg.not_well_formed(f"Unexpected token: {word.text}")
            return IsExpr(left, word.text.upper(), is_not)
        return left

    def sum(self) -> Expr:
        left = self.primary()
        while self.peek.kind == OP and self.peek.text in ("+", "-"):
            op = self.next().text
            self.operator()
            left = Binary(op, left, self.primary())
        return left

    def primary(self) -> Expr:
        token = self.peek
        if token.kind == STRING:
            self.pos += 1
            return Literal({"S": token.text}, token.start)
        if token.kind == NUMBER:
            self.pos += 1
            return Literal({"N": token.text}, token.start)
        if token.kind == PARAM:
            self.pos += 1
            self.parameters += 1
            return Parameter(self.parameters - 1, token.start)
        if token.kind == OP:
            return self.punctuated(token)
        if token.kind == IDENT:
            word = token.text.upper()
            if word in ("TRUE", "FALSE"):
                self.pos += 1
                return Literal({"BOOL": word == "TRUE"}, token.start)
            if word == "NULL":
                self.pos += 1
                return Literal({"NULL": True}, token.start)
            if word == "MISSING":
                self.pos += 1
                return Missing(token.start)
            following = self.tokens[self.pos + 1]
            if following.kind == OP and following.text == "(":
                return self.call(token)
        if token.kind in (IDENT, QUOTED):
            return self.path()
        raise self.unexpected()

    def punctuated(self, token: Token) -> Expr:
        if token.text == "-":
            self.pos += 1
            number = self.peek
            if number.kind != NUMBER:
                raise self.unexpected()
            self.pos += 1
            return Literal({"N": "-" + number.text}, token.start)
        if token.text == "(":
            self.pos += 1
            inner = self.expr()
            self.expect_op(")")
            return inner
        if token.text == "[":
            self.pos += 1
            return ListValue(self.items("]"), token.start)
        if token.text == "<<":
            self.pos += 1
            return BagValue(self.items(">>"), token.start)
        if token.text == "{":
            self.pos += 1
            return MapValue(self.entries(), token.start)
        raise self.unexpected()

    def items(self, closing: str) -> tuple[Expr, ...]:
        self.depth += 1
        if self.depth > _MAX_DEPTH:
            raise msg.not_well_formed("Expression nested too deeply")
        items: list[Expr] = []
        if not self.accept_op(closing):
            items.append(self.expr())
            while self.accept_op(","):
                items.append(self.expr())
            self.expect_op(closing)
        self.depth -= 1
        return tuple(items)

    def entries(self) -> tuple[tuple[str, Expr], ...]:
        self.depth += 1
        if self.depth > _MAX_DEPTH:
            raise msg.not_well_formed("Expression nested too deeply")
        entries: list[tuple[str, Expr]] = []
        if not self.accept_op("}"):
            while True:
                key = self.next()
                if key.kind != STRING:
                    raise msg.not_well_formed(f"Unexpected token: {key.text or '<EOF>'}")
                self.expect_op(":")
                entries.append((key.text, self.expr()))
                if self.accept_op("}"):
                    break
                self.expect_op(",")
        self.depth -= 1
        return tuple(entries)

    def call(self, token: Token) -> Call:
        self.pos += 2  # the name and "("
        self.operator()
        args: list[Expr] = []
        if not self.accept_op(")"):
            args.append(self.expr())
            while self.accept_op(","):
                args.append(self.expr())
            self.expect_op(")")
        return Call(token.text.lower(), tuple(args), token.start, len(token.text))


@functools.lru_cache(maxsize=2048)
def parse_statement(text: str) -> Statement:
    """The AST of a statement (raises AWS's ValidationException for a malformed one)."""
    parser = _Parser(text)
    statement = parser.statement()
    count = parser.parameters
    if isinstance(statement, Select):
        return Select(
            statement.source, statement.projection, statement.where, statement.order_by, count
        )
    if isinstance(statement, Exists):
        return Exists(statement.select, count)
    return statement
