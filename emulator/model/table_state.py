"""What the emulator knows of a table beyond its AWS description: parsed key schema and
indexes, where its index entries and stream live, TTL, tags, and room for the Kinesis
destinations and replicas of later features.

Stored beside the description (storage keeps the document, `TableStateCodec` turns it
into a `TableState` and back); the description itself holds only AWS wire fields. A
state is immutable: a change makes a new one (`dataclasses.replace`, `with_indexes`),
which is also how the write pipeline notices that a table's sinks must be rebuilt.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from emulator.model.indexes import IndexSchema
from emulator.model.keys import KeySchema

#: ENABLING / DISABLING last this long before the TTL status settles.
TTL_TRANSITION_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class StreamState:
    """The table's enabled stream (a disabled one is no longer the table's)."""

    stream_id: int
    view_type: str


@dataclass(frozen=True, slots=True)
class TtlState:
    attribute: str
    enabled: bool
    changed_at: float

    def status(self, now: float) -> tuple[str, str | None]:
        """(TimeToLiveStatus, AttributeName or None)."""
        # AWS reports ENABLED as soon as UpdateTimeToLive returns (Scylla's suite, run
        # against AWS), though expiry starts later (`expiring`); disabling takes a while.
        if self.enabled:
            return "ENABLED", self.attribute
        settled = now - self.changed_at >= TTL_TRANSITION_SECONDS
        return ("DISABLED", None) if settled else ("DISABLING", self.attribute)

    def expiring(self, now: float) -> bool:
        """Whether expired items are deleted now (only once ENABLED, as on AWS)."""
        return self.enabled and now - self.changed_at >= TTL_TRANSITION_SECONDS


@dataclass(frozen=True, slots=True)
class PitrState:
    """Point-in-time recovery, on since `enabled_at` (the change log covers the table from
    then), keeping `recovery_days` of history."""

    enabled_at: float
    recovery_days: int = 35


@dataclass(frozen=True, slots=True)
class StatusTransition:
    """A table status that is not ACTIVE yet (opt-in ``--table-delay-ms``): CreateTable,
    UpdateTable and DeleteTable leave the table CREATING / UPDATING / DELETING until
    `until` on the emulator's clock; a GSI that UpdateTable creates is CREATING, then
    backfilling, then ACTIVE, as on AWS (where the table is UPDATING while the index's
    resources are allocated, then ACTIVE while it backfills).
    """

    #: CREATING / UPDATING / DELETING; None once the table is ACTIVE again while a new
    #: index still backfills.
    status: str | None
    until: float
    #: GSIs being created: (name, backfilling from, ACTIVE from).
    creating: tuple[tuple[str, float, float], ...] = ()
    #: GSIs being deleted: described DELETING until `until` (their entries are gone).
    deleting: tuple[str, ...] = ()

    def next_due(self) -> float:
        """The first instant at which something changes."""
        instants = [self.until] if self.status is not None else []
        for _name, backfilling, active in self.creating:
            instants.append(active)
            instants.append(backfilling)
        return min(instants, default=self.until)

    def creates(self, index_name: str) -> bool:
        return any(name == index_name for name, _, _ in self.creating)

    def to_document(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "until": self.until,
            "creating": [list(entry) for entry in self.creating],
            "deleting": list(self.deleting),
        }

    @classmethod
    def from_document(cls, document: dict[str, Any]) -> StatusTransition:
        return cls(
            document.get("status"),
            float(document["until"]),
            tuple((str(n), float(b), float(a)) for n, b, a in document.get("creating") or ()),
            tuple(document.get("deleting") or ()),
        )


@dataclass(frozen=True, slots=True)
class TableState:
    key_schema: KeySchema
    #: LSIs first, then GSIs, each with the id of its entries' storage.
    indexes: tuple[IndexSchema, ...] = ()
    index_ids: dict[str, int] = field(default_factory=dict)
    stream: StreamState | None = None
    ttl: TtlState | None = None
    tags: dict[str, str] = field(default_factory=dict)
    #: Kinesis Data Streams destinations (the Kinesis destination feature's documents).
    kinesis_destinations: tuple[dict[str, Any], ...] = ()
    #: Global-table replicas (the global-tables feature's documents).
    replicas: tuple[dict[str, Any], ...] = ()
    #: Point-in-time recovery (UpdateContinuousBackups), which turns the change log on.
    pitr: PitrState | None = None
    #: A CREATING / UPDATING / DELETING phase still running (``--table-delay-ms``).
    transition: StatusTransition | None = None

    @classmethod
    def from_document(cls, description: dict[str, Any], document: dict[str, Any]) -> TableState:
        key_schema = KeySchema.from_definitions(
            description["KeySchema"], description["AttributeDefinitions"]
        )
        stream = document.get("stream")
        ttl = document.get("ttl")
        pitr = document.get("pitr")
        transition = document.get("transition")
        index_ids = dict(document.get("index_ids") or {})
        return cls(
            key_schema=key_schema,
            indexes=_indexes(description, index_ids, key_schema),
            index_ids=index_ids,
            stream=None if stream is None else StreamState(stream["id"], stream["view_type"]),
            ttl=None
            if ttl is None
            else TtlState(ttl["attribute"], bool(ttl["enabled"]), float(ttl["changed_at"])),
            tags=dict(document.get("tags") or {}),
            kinesis_destinations=tuple(document.get("kinesis") or ()),
            replicas=tuple(document.get("replicas") or ()),
            pitr=None
            if pitr is None
            else PitrState(float(pitr["enabled_at"]), int(pitr["recovery_days"])),
            transition=None if transition is None else StatusTransition.from_document(transition),
        )

    def to_document(self) -> dict[str, Any]:
        document: dict[str, Any] = {"index_ids": self.index_ids, "tags": self.tags}
        if self.stream is not None:
            document["stream"] = {"id": self.stream.stream_id, "view_type": self.stream.view_type}
        if self.ttl is not None:
            document["ttl"] = {
                "attribute": self.ttl.attribute,
                "enabled": self.ttl.enabled,
                "changed_at": self.ttl.changed_at,
            }
        if self.kinesis_destinations:
            document["kinesis"] = list(self.kinesis_destinations)
        if self.replicas:
            document["replicas"] = list(self.replicas)
        if self.pitr is not None:
            document["pitr"] = {
                "enabled_at": self.pitr.enabled_at,
                "recovery_days": self.pitr.recovery_days,
            }
        if self.transition is not None:
            document["transition"] = self.transition.to_document()
        return document

    def with_indexes(self, description: dict[str, Any], index_ids: dict[str, int]) -> TableState:
        """The state after the description's index set changed (UpdateTable)."""
        return dataclasses.replace(
            self,
            indexes=_indexes(description, index_ids, self.key_schema),
            index_ids=dict(index_ids),
        )

    def find_index(self, name: str) -> IndexSchema | None:
        for index in self.indexes:
            if index.name == name:
                return index
        return None

    def ttl_attribute(self) -> str | None:
        """The attribute whose Number gives an item's TTL instant, while TTL is on."""
        ttl = self.ttl
        return ttl.attribute if ttl is not None and ttl.enabled else None


def _indexes(
    description: dict[str, Any], index_ids: dict[str, int], table_key: KeySchema
) -> tuple[IndexSchema, ...]:
    definitions = description["AttributeDefinitions"]
    return tuple(
        IndexSchema.from_description(
            index, index_ids[index["IndexName"]], is_global, definitions, table_key
        )
        for member, is_global in (
            ("LocalSecondaryIndexes", False),
            ("GlobalSecondaryIndexes", True),
        )
        for index in description.get(member, [])
        if index["IndexName"] in index_ids
    )


class TableStateCodec:
    """The storage codec for `TableState` (see storage/catalog.py `StateCodec`)."""

    def decode(self, description: dict[str, Any], document: dict[str, Any]) -> TableState:
        return TableState.from_document(description, document)

    def encode(self, state: TableState) -> dict[str, Any]:
        return state.to_document()

    def migrate(self, description: dict[str, Any]) -> dict[str, Any]:
        """Tables stored before states existed kept their internals in the description
        under `_` keys: move them out."""
        document: dict[str, Any] = {
            "index_ids": description.pop("_index_ids", None) or {},
            "tags": description.pop("_tags", None) or {},
        }
        stream_id = description.pop("_stream_id", None)
        if stream_id is not None:
            view_type = description["StreamSpecification"]["StreamViewType"]
            document["stream"] = {"id": stream_id, "view_type": view_type}
        ttl = description.pop("_ttl", None)
        if ttl is not None:
            document["ttl"] = {
                "attribute": ttl["AttributeName"],
                "enabled": ttl["Enabled"],
                "changed_at": ttl["ChangedAt"],
            }
        for key in [key for key in description if key.startswith("_")]:
            del description[key]
        return document
