"""A reference DynamoDB Streams consumer: reads a whole stream the way AWS's adapters do.

- Lineage order: a child shard is read only after its parent has been read to its end
  (or the parent is gone, trimmed away), so every item's records come in order.
- Checkpoints by sequence number: after a record is handed out, the shard's checkpoint
  is its sequence number; a new iterator always resumes AFTER_SEQUENCE_NUMBER of it.
- Recovery: an ExpiredIteratorException (iterators live 15 minutes) is answered with a
  fresh iterator after the checkpoint; a TrimmedDataAccessException (the reader fell more
  than 24 hours behind) restarts the shard at TRIM_HORIZON and is counted in `trimmed`.

It takes any DynamoDB Streams client with boto3's method names (`describe_stream`,
`get_shard_iterator`, `get_records`), so it works against this emulator and against AWS
unchanged. The test suite uses it; it is also meant as an example.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any


def _error_code(error: Exception) -> str | None:
    response = getattr(error, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code"))
    return None


@dataclass
class ShardProgress:
    shard_id: str
    parent_shard_id: str | None
    checkpoint: str | None = None
    iterator: str | None = None
    finished: bool = False


@dataclass
class StreamReader:
    """Reads every shard of one stream in lineage order; call `poll()` repeatedly."""

    client: Any
    stream_arn: str
    #: Where a shard without a checkpoint starts: TRIM_HORIZON, or LATEST for the shards
    #: open when the reader starts (their children always start at TRIM_HORIZON).
    start: str = "TRIM_HORIZON"
    limit: int = 1000
    shards: dict[str, ShardProgress] = field(default_factory=dict)
    trimmed: int = 0
    expired: int = 0
    _discovered_once: bool = False
    _started: bool = False

    def discover(self) -> None:
        """Learn about new shards (DescribeStream, all pages)."""
        kwargs: dict[str, Any] = {"StreamArn": self.stream_arn}
        while True:
            description = self.client.describe_stream(**kwargs)["StreamDescription"]
            for shard in description["Shards"]:
                if shard["ShardId"] not in self.shards:
                    self.shards[shard["ShardId"]] = ShardProgress(
                        shard["ShardId"], shard.get("ParentShardId")
                    )
            last = description.get("LastEvaluatedShardId")
            if not last:
                break
            kwargs["ExclusiveStartShardId"] = last
        self._discovered_once = True

    def _ready(self, progress: ShardProgress) -> bool:
        parent = self.shards.get(progress.parent_shard_id or "")
        return not progress.finished and (parent is None or parent.finished)

    def _new_iterator(self, progress: ShardProgress, first_pass: bool) -> str:
        kwargs: dict[str, Any] = {"StreamArn": self.stream_arn, "ShardId": progress.shard_id}
        if progress.checkpoint is not None:
            kwargs["ShardIteratorType"] = "AFTER_SEQUENCE_NUMBER"
            kwargs["SequenceNumber"] = progress.checkpoint
        elif first_pass and self.start == "LATEST" and progress.parent_shard_id is None:
            kwargs["ShardIteratorType"] = "LATEST"
        else:
            kwargs["ShardIteratorType"] = "TRIM_HORIZON"
        return str(self.client.get_shard_iterator(**kwargs)["ShardIterator"])

    def _read_shard(self, progress: ShardProgress) -> list[dict[str, Any]]:
        if progress.iterator is None:
            try:
                progress.iterator = self._new_iterator(progress, not self._started)
            except Exception as error:
                if _error_code(error) != "TrimmedDataAccessException":
                    raise
                self.trimmed += 1
                progress.checkpoint = None
                progress.iterator = self._new_iterator(progress, False)
        try:
            page = self.client.get_records(ShardIterator=progress.iterator, Limit=self.limit)
        except Exception as error:
            code = _error_code(error)
            if code == "ExpiredIteratorException":
                self.expired += 1
            elif code == "TrimmedDataAccessException":
                self.trimmed += 1
                progress.checkpoint = None
            else:
                raise
            progress.iterator = None
            return []
        records: list[dict[str, Any]] = page["Records"]
        if records:
            progress.checkpoint = records[-1]["dynamodb"]["SequenceNumber"]
        next_iterator = page.get("NextShardIterator")
        if next_iterator is None:
            progress.finished = True
        progress.iterator = next_iterator
        return records

    def poll(self) -> list[dict[str, Any]]:
        """One pass: every shard that may be read now, once. Returns the records read."""
        if not self._discovered_once or any(p.finished for p in self.shards.values()):
            self.discover()
        records: list[dict[str, Any]] = []
        for progress in sorted(self.shards.values(), key=lambda p: p.shard_id):
            if self._ready(progress):
                records.extend(self._read_shard(progress))
        self._started = True
        return records

    def drain(self, max_polls: int = 10_000) -> list[dict[str, Any]]:
        """Poll until a pass reads nothing and every shard that may be read has been."""
        collected: list[dict[str, Any]] = []
        for _ in range(max_polls):
            batch = self.poll()
            collected.extend(batch)
            if not batch and not any(
                self._ready(p) and p.iterator is None for p in self.shards.values()
            ):
                break
        return collected

    def __iter__(self) -> Iterator[dict[str, Any]]:
        yield from self.drain()
