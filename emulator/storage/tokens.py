"""Idempotency tokens of TransactWriteItems (ClientRequestToken): what a token's request
was and what it answered, kept in the write's own transaction, so a replay after a
restart with `--data-dir` is recognised and not applied twice.

Bounded: entries older than the idempotency window are pruned by the background tick,
and at most `MAX_TOKENS` are kept whatever the clock does (a manual clock that never
moves would otherwise let them pile up); the oldest go first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from emulator.storage.engine import Engine

#: How long a token is remembered (AWS: 10 minutes).
WINDOW_SECONDS = 600.0
#: About 100 bytes plus the response each: tens of megabytes at most.
MAX_TOKENS = 100_000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS idempotency_tokens (
    region TEXT NOT NULL,
    token TEXT NOT NULL,
    created REAL NOT NULL,
    digest TEXT NOT NULL,
    response BLOB NOT NULL,
    PRIMARY KEY (region, token)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS idempotency_tokens_by_age ON idempotency_tokens (created);
"""


class TokenStore:
    __slots__ = ("connection", "limit")

    def __init__(self, engine: Engine) -> None:
        self.connection = engine.connection
        #: At most this many tokens are kept (`prune`).
        self.limit = MAX_TOKENS
        self.connection.executescript(_SCHEMA)

    def clear(self) -> None:
        self.connection.execute("DELETE FROM idempotency_tokens")

    def get(self, region: str, token: str, now: float) -> tuple[str, bytes] | None:
        """(request digest, response) of a token used less than the window before `now`."""
        row = self.connection.execute(
            "SELECT digest, response FROM idempotency_tokens "
            "WHERE region = ? AND token = ? AND created > ?",
            (region, token, now - WINDOW_SECONDS),
        ).fetchone()
        return None if row is None else (str(row[0]), bytes(row[1]))

    def put(self, region: str, token: str, created: float, digest: str, response: bytes) -> None:
        self.connection.execute(
            "INSERT INTO idempotency_tokens (region, token, created, digest, response) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (region, token) DO UPDATE SET "
            "created = excluded.created, digest = excluded.digest, response = excluded.response",
            (region, token, created, digest, response),
        )

    def prune(self, now: float) -> int:
        """Drop tokens past the window, then the oldest beyond `limit`; how many went."""
        connection = self.connection
        removed = connection.execute(
            "DELETE FROM idempotency_tokens WHERE created <= ?", (now - WINDOW_SECONDS,)
        ).rowcount
        excess = self.count() - self.limit
        if excess > 0:
            removed += connection.execute(
                "DELETE FROM idempotency_tokens WHERE (region, token) IN (SELECT region, token "
                "FROM idempotency_tokens ORDER BY created LIMIT ?)",
                (excess,),
            ).rowcount
        return int(removed)

    def count(self) -> int:
        return int(self.connection.execute("SELECT count(*) FROM idempotency_tokens").fetchone()[0])
