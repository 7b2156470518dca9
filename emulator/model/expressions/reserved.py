"""DynamoDB's reserved words (AWS developer guide), matched case-insensitively.

Kept as a data file beside the code so the list can be diffed against AWS's page.
"""

from __future__ import annotations

from pathlib import Path

RESERVED_WORDS: frozenset[str] = frozenset(
    line.strip().upper()
    for line in (Path(__file__).with_name("reserved_words.txt")).read_text("ascii").splitlines()
    if line.strip()
)


def is_reserved(word: str) -> bool:
    return word.upper() in RESERVED_WORDS
