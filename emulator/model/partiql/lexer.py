"""Tokenizer of DynamoDB's PartiQL.

Comments (`-- ...` to the end of the line, `/* ... */`) are whitespace. A character no
token starts with, an unterminated string, quoted name or block comment, and a number
whose exponent does not fit a 32-bit integer make the statement not well formed with
nothing after the colon, as AWS answers them.
"""

from __future__ import annotations

from dataclasses import dataclass

from emulator.model.partiql.messages import not_well_formed

IDENT = "IDENT"  # a bare name or keyword
QUOTED = "QUOTED"  # a "double quoted" name
STRING = "STRING"  # a 'single quoted' string
NUMBER = "NUMBER"
PARAM = "PARAM"  # ?
OP = "OP"
EOF = "EOF"

_WORD_START = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_")
_WORD = _WORD_START | frozenset("0123456789$")
_DIGITS = frozenset("0123456789")
_WHITESPACE = frozenset(" \t\r\n\f\v")
_TWO = ("<<", ">>", "<=", ">=", "<>", "!=")
_ONE = frozenset("=<>()[]{},.:*+-;")
_INT32 = 2**31


@dataclass(frozen=True, slots=True)
class Token:
    kind: str
    text: str
    #: Offset in the statement (0-based); AWS positions are `line:column:length`.
    start: int

    def keyword(self, *words: str) -> bool:
        """A bare word equal (ignoring case) to one of `words`."""
        return self.kind == IDENT and self.text.upper() in words


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch in _WHITESPACE:
            i += 1
        elif text.startswith("--", i):
            end = text.find("\n", i)
            i = n if end < 0 else end + 1
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end < 0:
                raise not_well_formed("")
            i = end + 2
        elif ch in _WORD_START:
            start = i
            while i < n and text[i] in _WORD:
                i += 1
            tokens.append(Token(IDENT, text[start:i], start))
        elif ch == '"' or ch == "'":
            start = i
            value, i = _quoted(text, i, ch)
            tokens.append(Token(QUOTED if ch == '"' else STRING, value, start))
        elif ch in _DIGITS or (ch == "." and i + 1 < n and text[i + 1] in _DIGITS):
            start = i
            i = _number_end(text, i)
            tokens.append(Token(NUMBER, _number_text(text[start:i]), start))
        elif ch == "?":
            tokens.append(Token(PARAM, "?", i))
            i += 1
        elif text.startswith(_TWO, i):
            tokens.append(Token(OP, text[i : i + 2], i))
            i += 2
        elif ch in _ONE:
            tokens.append(Token(OP, ch, i))
            i += 1
        else:
            raise not_well_formed("")
    tokens.append(Token(EOF, "", n))
    return tokens


def _quoted(text: str, i: int, quote: str) -> tuple[str, int]:
    """The value of a quoted token starting at `i` (a doubled quote is one quote)."""
    parts: list[str] = []
    i += 1
    while True:
        end = text.find(quote, i)
        if end < 0:
            raise not_well_formed("")
        parts.append(text[i:end])
        if text.startswith(quote * 2, end):
            parts.append(quote)
            i = end + 2
            continue
        return "".join(parts), end + 1


def _number_end(text: str, i: int) -> int:
    n = len(text)
    while i < n and text[i] in _DIGITS:
        i += 1
    if i < n and text[i] == ".":
        i += 1
        while i < n and text[i] in _DIGITS:
            i += 1
    if i < n and text[i] in "eE":
        j = i + 1
        if j < n and text[j] in "+-":
            j += 1
        if j < n and text[j] in _DIGITS:
            while j < n and text[j] in _DIGITS:
                j += 1
            i = j
    return i


def _number_text(literal: str) -> str:
    """The literal as DynamoDB number text; an exponent or scale beyond 32 bits cannot
    be read at all."""
    mantissa, _, exponent = literal.lower().partition("e")
    if exponent:
        value = int(exponent)
        scale = len(mantissa.partition(".")[2]) - value
        if not -_INT32 <= value < _INT32 or not -_INT32 <= scale < _INT32:
            raise not_well_formed("")
    if mantissa.startswith("."):
        literal = "0" + literal
    return literal
