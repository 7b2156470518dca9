"""One item change, as every sink of the write pipeline sees it."""

from __future__ import annotations

import math
from typing import Any

from emulator.model.values import Item
from emulator.storage.engine import TableRow
from emulator.streams.records import event_name

#: Who made a change: a client's request, the TTL sweep, or a replica's replicator
#: (`replication_origin(region)`), so a replicator never echoes its own writes.
USER = "user"
TTL = "ttl"
_REPLICATION = "replication:"
#: `Change._event` before it is computed.
_UNKNOWN = "?"


def micros(seconds: float) -> int:
    """Epoch seconds as whole microseconds, rounded the way `datetime.fromtimestamp`
    rounds (on the fraction alone), so that an instant a client sends back as a datetime
    lands on the same microsecond as the change it names."""
    fraction, whole = math.modf(seconds)
    return int(whole) * 1_000_000 + round(fraction * 1_000_000)


def replication_origin(region: str) -> str:
    return _REPLICATION + region


def replicated_from(origin: str) -> str | None:
    """The region a replicated change came from, or None for any other origin."""
    return origin[len(_REPLICATION) :] if origin.startswith(_REPLICATION) else None


class Change:
    """The item before and after one write of one item, with who made it and when.

    `old_size` / `new_size` are the stored sizes (sizes are never recomputed), `new_blob`
    the new item's stored JSON bytes. Built once per write, on the write's hot path:
    slotted, positional.
    """

    __slots__ = (
        "_event",
        "hash_key",
        "key",
        "new_blob",
        "new_item",
        "new_size",
        "old_item",
        "old_size",
        "origin",
        "range_key",
        "table",
        "time",
        "user_identity",
    )

    def __init__(
        self,
        table: TableRow,
        key: Item,
        hash_key: bytes,
        range_key: bytes,
        old_item: Item | None,
        old_size: int,
        new_item: Item | None,
        new_size: int,
        new_blob: bytes | None,
        origin: str,
        user_identity: dict[str, Any] | None,
        time: float,
    ) -> None:
        self.table = table
        self.key = key
        self.hash_key = hash_key
        self.range_key = range_key
        self.old_item = old_item
        self.old_size = old_size
        self.new_item = new_item
        self.new_size = new_size
        self.new_blob = new_blob
        self.origin = origin
        self.user_identity = user_identity
        self.time = time
        self._event: str | None = _UNKNOWN

    @property
    def region(self) -> str:
        return str(self.table.region)

    @property
    def event(self) -> str | None:
        """INSERT / MODIFY / REMOVE, or None when the write changed nothing (then no log
        records it); computed once."""
        event = self._event
        if event is _UNKNOWN:
            if self.old_item is None:
                event = None if self.new_item is None else "INSERT"
            else:
                event = event_name(self.old_item, self.new_item)
            self._event = event
        return event

    def __repr__(self) -> str:
        return f"Change({self.table.name!r}, {self.key!r}, {self.event}, origin={self.origin!r})"
