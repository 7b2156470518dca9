"""Tokenizer shared by every expression kind.

The lexer never fails: characters it does not know become one-character ``ERROR``
tokens, so the parser reports them with the same ``Syntax error; token: ..., near: ...``
message (and the same "near" window) as any other unexpected token, which is what AWS
does for e.g. ``!!`` in a ProjectionExpression.
"""

from __future__ import annotations

from dataclasses import dataclass

# Token kinds.
NAME = "NAME"  # bare attribute name, keyword or function name
NAME_REF = "NAME_REF"  # '#name' placeholder
VALUE_REF = "VALUE_REF"  # ':value' placeholder
NUMBER = "NUMBER"  # list index digits
OP = "OP"  # punctuation and comparators
ERROR = "ERROR"  # a character no token starts with
EOF = "EOF"

_WORD_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
#: A bare name starts with a letter: ``_a`` and ``1a`` are syntax errors on AWS (the
#: lone ``_`` becomes an ERROR token, the digits a NUMBER one).
_WORD_START = _WORD_CHARS - frozenset("0123456789_")
_DIGITS = frozenset("0123456789")
_WHITESPACE = frozenset(" \t\r\n\f\v")
_TWO_CHAR_OPS = ("<>", "<=", ">=")
_ONE_CHAR_OPS = frozenset("=<>(),.[]+-")


@dataclass(frozen=True, slots=True)
class Token:
    """One lexeme with its source span, kept for AWS's "near" error window."""

    kind: str
    text: str
    start: int
    end: int

    @property
    def display(self) -> str:
        """How AWS names the token in a syntax error."""
        return "<EOF>" if self.kind == EOF else self.text


def tokenize(text: str) -> list[Token]:
    """Split an expression into tokens, always ending with one EOF token."""
    tokens: list[Token] = []
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch in _WHITESPACE:
            i += 1
            continue
        start = i
        if ch in _WORD_START:
            i += 1
            while i < n and text[i] in _WORD_CHARS:
                i += 1
            tokens.append(Token(NAME, text[start:i], start, i))
        elif ch in _DIGITS:
            i += 1
            while i < n and text[i] in _DIGITS:
                i += 1
            tokens.append(Token(NUMBER, text[start:i], start, i))
        elif ch == "#" or ch == ":":
            i += 1
            while i < n and text[i] in _WORD_CHARS:
                i += 1
            if i == start + 1:  # a lone '#' or ':' is not a placeholder
                tokens.append(Token(ERROR, ch, start, i))
            else:
                kind = NAME_REF if ch == "#" else VALUE_REF
                tokens.append(Token(kind, text[start:i], start, i))
        elif text.startswith(_TWO_CHAR_OPS, i):
            i += 2
            tokens.append(Token(OP, text[start:i], start, i))
        elif ch in _ONE_CHAR_OPS:
            i += 1
            tokens.append(Token(OP, ch, start, i))
        else:
            i += 1
            tokens.append(Token(ERROR, ch, start, i))
    tokens.append(Token(EOF, "", n, n))
    return tokens
