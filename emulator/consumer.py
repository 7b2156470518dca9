"""A reference DynamoDB Streams consumer: reads a whole stream the way AWS's adapters do.

- Lineage order: a child shard is read only after its parent has been read to its end
  (or the parent is gone, trimmed away), so every item's records come in order.
- Checkpoints by sequence number: after a record is handed out, the shard's checkpoint
  is its sequence number; a new iterator always resumes AFTER_SEQUENCE_NUMBER of it.
- Recovery: an ExpiredIteratorException (iterators live 15 minutes) is answered with a
  fresh iterator after the checkpoint; a TrimmedDataAccessException (the reader fell more
  than 24 hours behind) restarts the shard at TRIM_HORIZON and is counted in `trimmed`; a
  shard that left the stream meanwhile (closed, every record trimmed: ResourceNotFound)
  counts as read to its end and is counted in `trimmed` too.

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
    #: Open when a LATEST reader started: its first iterator is LATEST.
    latest: bool = False
    iterator: str | None = None
    finished: bool = False


@dataclass
class StreamReader:
    """Reads every shard of one stream in lineage order; call `poll()` repeatedly."""

    client: Any
    stream_arn: str
    #: Where a shard without a checkpoint starts: TRIM_HORIZON, or LATEST for the shards
    #: open when the reader starts (shards already closed then are skipped; children
    #: always start at TRIM_HORIZON).
    start: str = "TRIM_HORIZON"
    limit: int = 1000
    shards: dict[str, ShardProgress] = field(default_factory=dict)
    trimmed: int = 0
    expired: int = 0
    _discovered_once: bool = False

    def discover(self) -> set[str]:
        """Learn about new shards (DescribeStream, all pages); returns the ids listed."""
        kwargs: dict[str, Any] = {"StreamArn": self.stream_arn}
        at_start = not self._discovered_once and self.start == "LATEST"
        listed: set[str] = set()
        while True:
            description = self.client.describe_stream(**kwargs)["StreamDescription"]
            for shard in description["Shards"]:
                listed.add(shard["ShardId"])
                if shard["ShardId"] not in self.shards:
                    progress = ShardProgress(shard["ShardId"], shard.get("ParentShardId"))
                    if at_start:
                        closed = "EndingSequenceNumber" in shard["SequenceNumberRange"]
                        progress.finished = closed
                        progress.latest = not closed
                    self.shards[shard["ShardId"]] = progress
            last = description.get("LastEvaluatedShardId")
            if not last:
                break
            kwargs["ExclusiveStartShardId"] = last
        self._discovered_once = True
        return listed

    def _ready(self, progress: ShardProgress) -> bool:
        parent = self.shards.get(progress.parent_shard_id or "")
        return not progress.finished and (parent is None or parent.finished)

    def _new_iterator(self, progress: ShardProgress) -> str:
        kwargs: dict[str, Any] = {"StreamArn": self.stream_arn, "ShardId": progress.shard_id}
        if progress.checkpoint is not None:
            kwargs["ShardIteratorType"] = "AFTER_SEQUENCE_NUMBER"
            kwargs["SequenceNumber"] = progress.checkpoint
        elif progress.latest:
            # Until the shard yields a record. An iterator left unused past its expiry
            # before that resumes at LATEST again: writes made during such a long pause
            # are skipped, where TRIM_HORIZON would replay the history before the start.
            kwargs["ShardIteratorType"] = "LATEST"
        else:
            kwargs["ShardIteratorType"] = "TRIM_HORIZON"
        return str(self.client.get_shard_iterator(**kwargs)["ShardIterator"])

    def _gone(self, progress: ShardProgress, error: Exception) -> bool:
        """A ResourceNotFoundException for a shard the stream no longer lists (it closed
        and every record aged out while the reader was away): the shard is done."""
        if _error_code(error) != "ResourceNotFoundException":
            return False
        if progress.shard_id in self.discover():  # raises if the stream itself is gone
            return False
        self.trimmed += 1
        progress.finished = True
        progress.iterator = None
        return True

    def _read_shard(self, progress: ShardProgress) -> list[dict[str, Any]]:
        try:
            return self._read_page(progress)
        except Exception as error:
            if not self._gone(progress, error):
                raise
            return []

    def _read_page(self, progress: ShardProgress) -> list[dict[str, Any]]:
        if progress.iterator is None:
            try:
                progress.iterator = self._new_iterator(progress)
            except Exception as error:
                if _error_code(error) != "TrimmedDataAccessException":
                    raise
                self.trimmed += 1
                progress.checkpoint = None
                progress.latest = False
                progress.iterator = self._new_iterator(progress)
        try:
            page = self.client.get_records(ShardIterator=progress.iterator, Limit=self.limit)
        except Exception as error:
            code = _error_code(error)
            if code == "ExpiredIteratorException":
                self.expired += 1
            elif code == "TrimmedDataAccessException":
                self.trimmed += 1
                progress.checkpoint = None
                progress.latest = False
            else:
                raise
            progress.iterator = None
            return []
        records: list[dict[str, Any]] = page["Records"]
        if records:
            progress.checkpoint = records[-1]["dynamodb"]["SequenceNumber"]
            progress.latest = False
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
