"""Where each in-process consumer of a log (a trigger's poller, a forwarder, a replicator)
has got to, per shard: kept in SQLite, so a restart with --data-dir resumes there."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from emulator.storage.engine import Engine

_SCHEMA = """
CREATE TABLE IF NOT EXISTS consumer_checkpoints (
    consumer TEXT NOT NULL,
    shard_pk INTEGER NOT NULL,
    sequence INTEGER NOT NULL,
    finished INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (consumer, shard_pk)
) WITHOUT ROWID;
"""


class CheckpointStore:
    __slots__ = ("connection",)

    def __init__(self, engine: Engine) -> None:
        self.connection = engine.connection
        self.connection.executescript(_SCHEMA)

    def clear(self) -> None:
        self.connection.execute("DELETE FROM consumer_checkpoints")

    def load(self, consumer: str) -> dict[int, tuple[int, bool]]:
        """shard_pk -> (last sequence handled, whether the shard is finished)."""
        return {
            shard_pk: (sequence, bool(finished))
            for shard_pk, sequence, finished in self.connection.execute(
                "SELECT shard_pk, sequence, finished FROM consumer_checkpoints WHERE consumer = ?",
                (consumer,),
            )
        }

    def save(self, consumer: str, shard_pk: int, sequence: int, finished: bool = False) -> None:
        self.connection.execute(
            "INSERT INTO consumer_checkpoints (consumer, shard_pk, sequence, finished) "
            "VALUES (?, ?, ?, ?) ON CONFLICT (consumer, shard_pk) DO UPDATE SET "
            "sequence = excluded.sequence, finished = excluded.finished",
            (consumer, shard_pk, sequence, int(finished)),
        )

    def forget_shards(self, consumer: str, shard_pks: list[int]) -> None:
        self.connection.executemany(
            "DELETE FROM consumer_checkpoints WHERE consumer = ? AND shard_pk = ?",
            [(consumer, pk) for pk in shard_pks],
        )

    def drop(self, consumer: str) -> None:
        self.connection.execute("DELETE FROM consumer_checkpoints WHERE consumer = ?", (consumer,))
