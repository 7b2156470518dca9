"""Resources that are not tables — Lambda functions and event source mappings, Kinesis
streams, exports — kept as JSON documents by kind, region and name, with an optional blob
(a function's deployment package). Each feature owns its kinds; everything shares the
engine's connection and transaction, so a resource and what it implies commit together."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:
    from emulator.storage.engine import Engine

_SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    kind TEXT NOT NULL,
    region TEXT NOT NULL,
    name TEXT NOT NULL,
    document BLOB NOT NULL,
    blob BLOB,
    PRIMARY KEY (kind, region, name)
) WITHOUT ROWID;
"""


class DocumentStore:
    __slots__ = ("connection", "version")

    def __init__(self, engine: Engine) -> None:
        self.connection = engine.connection
        self.connection.executescript(_SCHEMA)
        #: Bumped by every change (also one later rolled back): readers that cache what
        #: they derived from documents re-read when it moved.
        self.version = 0

    def clear(self) -> None:
        self.version += 1
        self.connection.execute("DELETE FROM documents")

    def get(self, kind: str, region: str, name: str) -> dict[str, Any] | None:
        row = self.connection.execute(
            "SELECT document FROM documents WHERE kind = ? AND region = ? AND name = ?",
            (kind, region, name),
        ).fetchone()
        return None if row is None else orjson.loads(row[0])

    def get_blob(self, kind: str, region: str, name: str) -> bytes | None:
        row = self.connection.execute(
            "SELECT blob FROM documents WHERE kind = ? AND region = ? AND name = ?",
            (kind, region, name),
        ).fetchone()
        return None if row is None or row[0] is None else bytes(row[0])

    def put(
        self, kind: str, region: str, name: str, document: dict[str, Any], blob: bytes | None = None
    ) -> None:
        """Store (or replace) a document; its blob is kept unless a new one is given."""
        self.version += 1
        self.connection.execute(
            "INSERT INTO documents (kind, region, name, document, blob) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (kind, region, name) DO UPDATE SET document = excluded.document, "
            "blob = coalesce(excluded.blob, documents.blob)",
            (kind, region, name, orjson.dumps(document), blob),
        )

    def delete(self, kind: str, region: str, name: str) -> bool:
        self.version += 1
        cursor = self.connection.execute(
            "DELETE FROM documents WHERE kind = ? AND region = ? AND name = ?",
            (kind, region, name),
        )
        return cursor.rowcount > 0

    def list(self, kind: str, region: str | None = None) -> list[tuple[str, str, dict[str, Any]]]:
        """(region, name, document) of a kind, in region then name order."""
        if region is None:
            rows = self.connection.execute(
                "SELECT region, name, document FROM documents WHERE kind = ? ORDER BY region, name",
                (kind,),
            )
        else:
            rows = self.connection.execute(
                "SELECT region, name, document FROM documents WHERE kind = ? AND region = ? "
                "ORDER BY name",
                (kind, region),
            )
        return [(region, name, orjson.loads(document)) for region, name, document in rows]
