"""DynamoDB's PartiQL dialect: tokenizer -> recursive-descent parser -> AST (cached by text).

The AST says what a statement asks; `emulator.api.partiql` plans it against the table's
key schema and runs it as the equivalent item operation (GetItem, Query, Scan, PutItem,
UpdateItem, DeleteItem, TransactWriteItems), rendering WHERE and SET clauses into the
expression language through `render`.
"""

from __future__ import annotations

from emulator.model.partiql.nodes import (
    Delete,
    Exists,
    Insert,
    Select,
    Statement,
    Update,
)
from emulator.model.partiql.parser import parse_statement

__all__ = ["Delete", "Exists", "Insert", "Select", "Statement", "Update", "parse_statement"]
