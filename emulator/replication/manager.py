"""Global tables (version 2019.11.21): replica groups, their lifecycle, and the in-process
replicators between the members.

A replica is a real table of the same name in another region namespace of this emulator.
Every member forwards the writes made in its own region (its outbox, filled by the
replication sink in the write's transaction) to every other member over a *link*
(source table → destination table) with a stored position, so a restart with --data-dir
resumes where it stopped. A new replica is first backfilled from the member that created
it (key order, position stored), then tailed. The applier writes through the write
pipeline with origin `replication:<region>` (the destination's index, stream and later
sinks run; the record carries no userIdentity and no aws:rep:* attribute), only when the
incoming stamp is newer than the item's stored one: last writer wins, equal stamps by the
higher region name; the losing write is not reported (SPEC-STREAM-APPS 6.5).

Lifecycle (SPEC-STREAM-APPS 6.2, each transition on the replicator's next pass): Create →
caller UPDATING, its entry CREATING, the replica table CREATING (only DescribeTable
answers) → backfilled: replica ACTIVE with its stream, entries ACTIVE → caller ACTIVE.
Delete → caller UPDATING, entry DELETING, table DELETING → table dropped, entries gone,
and the group's keys dropped from a member left alone.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import logging
import time
import uuid
from collections.abc import Callable
from typing import Any

import orjson

from emulator.changes.change import replication_origin
from emulator.changes.pipeline import WritePipeline
from emulator.clock import Clock
from emulator.model.keys import key_of
from emulator.model.table_state import StreamState, TableState
from emulator.replication.sink import Stamper, outbox_topic, replication_sink_factory
from emulator.storage.engine import Engine, TableRow
from emulator.storage.replication import LinkProgress, ReplicationStore
from emulator.streams.shards import StreamManager
from emulator.streams.signals import CommitSignals

logger = logging.getLogger("emulator")

GLOBAL_TABLE_VERSION = "2019.11.21"
SETTINGS_MODE = "ENABLED_WITH_OVERRIDES"
#: Keys only a member of a replica group describes (dropped when it is alone again).
GROUP_KEYS = ("GlobalTableVersion", "GlobalTableSettingsReplicationMode")
#: The wake-up of the replicators when a group changes.
CONTROL_TOPIC = ("replication", "control")
#: Outbox entries applied per transaction, items copied per backfill transaction.
APPLY_BATCH = 2000
BACKFILL_BATCH = 1000
#: How long a replicator with nothing to do sleeps before it looks again (seconds).
IDLE_SECONDS = 1.0
#: Under load (the last pass applied writes), passes are at least this far apart (real
#: seconds), so writes arriving together are applied together; a write after a quiet
#: spell is applied at once.
PASS_INTERVAL_SECONDS = 0.002
#: While writes keep coming, applied outbox entries are dropped at most this often.
TRIM_SECONDS = 0.5
#: A replica entry's record of when its member last sourced a new replica (clock seconds).
SOURCED_AT = "_SourcedAt"
#: Statuses in which a table answers only DescribeTable.
HIDDEN_STATUSES = frozenset(("CREATING", "DELETING"))


def is_global(row: TableRow) -> bool:
    return "GlobalTableVersion" in row.description


def replica_entries(row: TableRow) -> list[dict[str, Any]]:
    """The table's entries for the other members of its group (external links excluded)."""
    return [doc for doc in row.state.replicas if "RegionName" in doc and "Endpoint" not in doc]


def link_name(source_id: int, destination_id: int) -> str:
    return f"{source_id}>{destination_id}"


def public_entry(doc: dict[str, Any]) -> dict[str, Any]:
    """A replica entry as DescribeTable shows it (internal keys start with `_`)."""
    return {key: value for key, value in doc.items() if not key.startswith("_")}


class ReplicationManager:
    """The replica groups of this emulator and the replicators between their members."""

    def __init__(
        self,
        engine: Engine,
        pipeline: WritePipeline,
        streams: StreamManager,
        signals: CommitSignals,
        clock: Clock,
        account_id: str,
        lag_ms: float,
    ) -> None:
        self.engine = engine
        self.pipeline = pipeline
        self.streams = streams
        self.signals = signals
        self.clock = clock
        self.account_id = account_id
        self.lag_us = int(lag_ms * 1000)
        self.store = ReplicationStore(engine)
        self.stamper = Stamper(self.store.highest_stamp())
        pipeline.register(replication_sink_factory(engine, self.store, self.stamper, signals))
        # A rolled-back group change (UpdateTable, DeleteTable) leaves no cached position.
        engine.on_metadata_rollback(self.store.forget_counters)
        #: External replicators (replication/external.py) add their own links' checks.
        self.extra_pending: list[Callable[[], bool]] = []
        #: Fault injection: while paused, nothing is replicated and no replica transition
        #: happens (writes queue up in the outboxes; not kept across a restart).
        self.paused = False
        #: Commit → applied delays (ms) of the latest replicated writes, for the status.
        self.recent_lags: collections.deque[float] = collections.deque(maxlen=10_000)
        self._trimmed_at = 0.0
        #: Writes the latest pass applied.
        self._applied_in_pass = 0
        #: What each table's outbox was trimmed to already.
        self._trimmed: dict[int, int] = {}

    def pause(self, paused: bool) -> None:
        self.paused = paused
        self.signals.notify(CONTROL_TOPIC)

    def reset(self) -> None:
        """After the engine dropped everything (the tables, the store's rows)."""
        self.store.forget_counters()
        self.stamper.last = 0
        self._trimmed.clear()
        self.recent_lags.clear()

    # -- groups ---------------------------------------------------------------------------

    def members(self, row: TableRow) -> list[TableRow]:
        """The table and the tables of the other regions its group lists."""
        found = [row]
        for doc in replica_entries(row):
            other = self.engine.get_table(doc["RegionName"], row.name)
            if other is not None:
                found.append(other)
        return found

    def in_transition(self, row: TableRow) -> bool:
        """Whether a replica of the table's group is being created or deleted."""
        for member in self.members(row):
            if member.description.get("TableStatus") != "ACTIVE" and is_global(member):
                return True
            if any(
                doc.get("ReplicaStatus") in ("CREATING", "DELETING")
                for doc in replica_entries(member)
            ):
                return True
        return False

    def create_replica(self, row: TableRow, region: str, action: dict[str, Any]) -> None:
        """Add `region` to the table's group, sourced from the table (in the caller's
        transaction; the table already has its stream)."""
        engine = self.engine
        catalog = engine.catalog
        now = self.clock.now()
        members = self.members(row)
        description = copy_description(row.description, region, self.account_id, row.name, now)
        ids = {name: catalog.allocate_id("index") for name in row.state.index_ids}
        # Each member's entry for the caller remembers when it last sourced a new replica
        # (the 24-hour rule of --strict-global-tables); the new replica's entries for the
        # others copy what the caller's say.
        sourced = {"RegionName": row.region, "ReplicaStatus": "ACTIVE", SOURCED_AT: now}
        entries = [sourced] + [
            {
                "RegionName": member.region,
                "ReplicaStatus": "ACTIVE",
                **_private(_entry_for(row, member.region)),
            }
            for member in members[1:]
        ]
        ttl = row.state.ttl

        def make_state(_table_id: int) -> TableState:
            state = TableState.from_document(description, {"index_ids": ids, "tags": {}})
            return dataclasses.replace(state, ttl=ttl, replicas=tuple(entries))

        replica = catalog.create_table(region, row.name, description, make_state)
        entry = {"RegionName": region, "ReplicaStatus": "CREATING", **_overrides(action)}
        for member in members:
            member.description["GlobalTableVersion"] = GLOBAL_TABLE_VERSION
            member.description["GlobalTableSettingsReplicationMode"] = SETTINGS_MODE
            doc = (
                dict(entry)
                if member is row
                else {"RegionName": region, "ReplicaStatus": "CREATING"}
            )
            kept = member.state.replicas
            if member is not row:
                kept = tuple(
                    {**other, SOURCED_AT: now} if _names(other, row.region) else other
                    for other in kept
                )
            member.state = dataclasses.replace(member.state, replicas=(*kept, doc))
            catalog.save_table(member)
            source = member is row
            self.store.save_link(
                LinkProgress(
                    link_name(member.table_id, replica.table_id),
                    self.store.tip(member.table_id),
                    None,
                    None,
                    source,
                )
            )
            self.store.save_link(
                LinkProgress(link_name(replica.table_id, member.table_id), 0, None, None, False)
            )
        row.description["TableStatus"] = "UPDATING"
        catalog.save_table(row)
        engine.after_commit(self.signals.notify, CONTROL_TOPIC)

    def update_replica(self, row: TableRow, region: str, action: dict[str, Any]) -> None:
        replicas = []
        for doc in row.state.replicas:
            if _names(doc, region):
                doc = {"RegionName": region, "ReplicaStatus": doc["ReplicaStatus"], **_private(doc)}
                doc.update(_overrides(action))
            replicas.append(doc)
        row.state = dataclasses.replace(row.state, replicas=tuple(replicas))
        self.engine.catalog.save_table(row)

    def sourced_at(self, row: TableRow, region: str) -> float | None:
        """When the member in `region` last sourced a new replica, as the table's entry
        for it says (None: never, as far as this group remembers)."""
        doc = _entry_for(row, region)
        return None if doc is None else doc.get(SOURCED_AT)

    def delete_replica(self, row: TableRow, region: str) -> None:
        """Start removing `region` from the table's group (in the caller's transaction)."""
        catalog = self.engine.catalog
        replica = self.engine.get_table(region, row.name)
        for member in self.members(row):
            if member.region == region:
                continue
            member.state = dataclasses.replace(
                member.state,
                replicas=tuple(
                    {**doc, "ReplicaStatus": "DELETING"}
                    if doc.get("RegionName") == region and "Endpoint" not in doc
                    else doc
                    for doc in member.state.replicas
                ),
            )
            if replica is not None:
                self.store.drop_link(link_name(member.table_id, replica.table_id))
                self.store.drop_link(link_name(replica.table_id, member.table_id))
            catalog.save_table(member)
        if replica is not None:
            replica.description["TableStatus"] = "DELETING"
            catalog.save_table(replica)
        row.description["TableStatus"] = "UPDATING"
        catalog.save_table(row)
        self.engine.after_commit(self.signals.notify, CONTROL_TOPIC)

    def leave_group(self, row: TableRow) -> None:
        """DeleteTable of a member: the others forget it (in the caller's transaction)."""
        catalog = self.engine.catalog
        for member in self.members(row)[1:]:
            self.store.drop_link(link_name(member.table_id, row.table_id))
            self.store.drop_link(link_name(row.table_id, member.table_id))
            member.state = dataclasses.replace(
                member.state,
                replicas=tuple(
                    doc
                    for doc in member.state.replicas
                    if not (doc.get("RegionName") == row.region and "Endpoint" not in doc)
                ),
            )
            _leave_if_alone(member)
            catalog.save_table(member)
            self._forget_if_unreplicated(member)
        self.store.drop_table(row.table_id)

    def table_deleted(self, row: TableRow) -> None:
        """DeleteTable: the group forgets the table, and every link from or to it ends
        (in the caller's transaction)."""
        if replica_entries(row):
            self.leave_group(row)
        for name in self.store.links():
            source_id, _, destination_id = name.partition(">")
            if str(row.table_id) in (source_id, destination_id):
                self.store.drop_link(name)
        self.store.drop_table(row.table_id)

    def _forget_if_unreplicated(self, row: TableRow) -> None:
        if not row.state.replicas:
            self.store.drop_table(row.table_id)

    # -- the replicators ------------------------------------------------------------------

    async def run_forever(self) -> None:
        last_pass = 0.0
        while True:
            # Writes keep coming (the last pass applied some): let them gather for a
            # moment, so one pass applies many in one transaction (a pass and its wake-up
            # cost about as much as a few writes); a write after a quiet spell is applied
            # at once.
            since = time.monotonic() - last_pass
            if self._applied_in_pass and since < PASS_INTERVAL_SECONDS:
                await asyncio.sleep(PASS_INTERVAL_SECONDS - since)
            last_pass = time.monotonic()
            try:
                busy = await self.step()
            except Exception:
                logger.exception("replication failed")
                self.store.forget_counters()
                busy = False
            if busy:
                continue
            if not self._applied_in_pass:
                # Idle: drop what every link applied (under load, `step` does it now and
                # then, so a pass does not pay a DELETE for a few writes).
                self.trim()
            topics: list[Any] = [CONTROL_TOPIC]
            if not self.paused:  # (while paused, writes need not wake it)
                topics += [outbox_topic(row.table_id) for row in self._sources()]
            await self.signals.wait(topics, self._idle_timeout())

    def _sources(self) -> list[TableRow]:
        return [row for row in self.engine.catalog.tables.values() if row.state.replicas]

    def _idle_timeout(self) -> float:
        """Until the next outbox entry falls due (with a lag), or a while."""
        if not self.lag_us or self.clock.mode != "real":
            return IDLE_SECONDS
        first = None
        for source, _destination, progress in self._links():
            entries = self.store.read(source.table_id, progress.applied, 1)
            if entries:
                due = entries[0][3] + self.lag_us
                first = due if first is None else min(first, due)
        if first is None:
            return IDLE_SECONDS
        wait = first / 1_000_000 - self.clock.now()
        return min(IDLE_SECONDS, max(0.0005, wait))

    def _links(self) -> list[tuple[TableRow, TableRow, LinkProgress]]:
        by_id = {row.table_id: row for row in self.engine.catalog.tables.values()}
        found = []
        for name in self.store.links():
            source_id, _, destination_id = name.partition(">")
            if not destination_id.isdigit():
                continue  # an external link (replication/external.py)
            source = by_id.get(int(source_id))
            destination = by_id.get(int(destination_id))
            progress = self.store.link(name)
            if source is not None and destination is not None and progress is not None:
                found.append((source, destination, progress))
        return found

    async def step(self) -> bool:
        """One pass: due transitions, then every link's due work. Whether work remains
        that can be done now."""
        self._applied_in_pass = 0
        if self.paused:
            return False
        self.transitions()
        busy = False
        for source, destination, progress in self._links():
            if progress.backfilling:
                busy |= self.backfill(source, destination, progress)
            elif destination.description.get("TableStatus") not in HIDDEN_STATUSES:
                busy |= self.apply(source, destination, progress)
            await asyncio.sleep(0)
        if time.monotonic() - self._trimmed_at > TRIM_SECONDS:
            self.trim()
        return busy

    def backfill(self, source: TableRow, destination: TableRow, progress: LinkProgress) -> bool:
        """Copy the next items of the source in key order."""
        store = self.store
        rows = store.items_after(
            source.table_id, progress.backfill_hash, progress.backfill_range, BACKFILL_BATCH
        )
        # The replica is new and hidden, so nothing but the backfill wrote to it: each item
        # is inserted as it is, with the source's stamp when the source has one.
        versions = (
            store.versions_between(source.table_id, rows[0][:2], rows[-1][:2]) if rows else {}
        )
        schema = destination.state.key_schema
        write = self.pipeline.write
        origin = replication_origin(source.region)
        with self.engine.transaction():
            for hash_key, range_key, size, blob in rows:
                item = orjson.loads(blob)
                version = versions.get((hash_key, range_key))
                write(
                    destination,
                    key_of(schema, item),
                    hash_key,
                    range_key,
                    None,
                    0,
                    item,
                    size,
                    origin=origin if version is None else replication_origin(version[1]),
                )
                if version is not None:
                    store.set_version(destination.table_id, hash_key, range_key, *version)
            if rows:
                progress.backfill_hash, progress.backfill_range = rows[-1][0], rows[-1][1]
            if len(rows) < BACKFILL_BATCH:
                progress.backfilling = False
            self.store.save_link(progress)
        return True  # more to copy, or the replica just became ready: look again

    def apply(self, source: TableRow, destination: TableRow, progress: LinkProgress) -> bool:
        """Apply the source's due outbox entries; whether more are due now.

        One query reads a batch with the destination's stamp and item for each key, the
        batch is applied in one transaction, and the stamps it wins are stored together
        (`set_versions`): no lookup per entry."""
        store = self.store
        entries = store.read_for(
            source.table_id, progress.applied, APPLY_BATCH, destination.table_id
        )
        if not entries:
            return False
        horizon = int(self.clock.now() * 1_000_000) - self.lag_us
        region = source.region
        origin = replication_origin(region)
        destination_id = destination.table_id
        schema = destination.state.key_schema
        pipeline = self.pipeline
        applied = 0
        #: What this batch wrote so far, per key: (stamp, region, item bytes, size).
        written: dict[tuple[bytes, bytes], tuple[int, str, bytes | None, int]] = {}
        versions: list[tuple[int, bytes, bytes, int, str]] = []
        # An applied write's stamp is kept only where a later write with an older stamp can
        # still arrive: from another member. The only member of a two-region group sends
        # its writes in stamp order (one stamper serves every region), and this region's
        # own writes keep their stamps (the outbox does), so a pair keeps none: a new
        # member's writes are stamped after it joined, later than anything applied here.
        keep_stamps = len(replica_entries(destination)) > 1
        with self.engine.transaction():
            for entry in entries:
                sequence, hash_key, range_key, stamp, size, blob = entry[:6]
                if self.lag_us and stamp > horizon:
                    break
                progress.applied = sequence
                progress.last_applied_stamp = stamp
                applied += 1
                key = (hash_key, range_key)
                mine = written.get(key)
                if mine is not None:
                    current: tuple[int, str] | None = (mine[0], mine[1])
                    old_blob, old_size = mine[2], mine[3]
                else:
                    current = None if entry[6] is None else (entry[6], entry[7] or "")
                    old_blob, old_size = entry[9], entry[8] or 0
                # Last writer wins: only a newer stamp is written.
                if current is not None and current >= (stamp, region):
                    continue
                written[key] = (stamp, region, blob, size)
                if keep_stamps:
                    versions.append((destination_id, hash_key, range_key, stamp, region))
                if blob is not None:
                    item = orjson.loads(blob)
                    item_key = key_of(schema, item)
                    if old_blob is None:
                        # A new item: its record (and the item) in one statement.
                        pipeline.put(
                            destination, item_key, hash_key, range_key, item, size, origin, blob
                        )
                    else:
                        pipeline.write(
                            destination,
                            item_key,
                            hash_key,
                            range_key,
                            orjson.loads(old_blob),
                            old_size,
                            item,
                            size,
                            origin,
                        )
                elif old_blob is not None:  # a delete (of an item the destination has)
                    old_item = orjson.loads(old_blob)
                    pipeline.write(
                        destination,
                        key_of(schema, old_item),
                        hash_key,
                        range_key,
                        old_item,
                        old_size,
                        None,
                        origin=origin,
                    )
            if versions:
                store.set_versions(versions)
            if applied:
                self._applied_in_pass += applied
                progress.applied_count += applied
                store.save_link(progress)
        if applied:
            now_us = self.clock.now() * 1_000_000
            self.recent_lags.extend(
                (now_us - entry[3]) / 1000 for entry in entries[max(0, applied - 100) : applied]
            )
        return applied == len(entries) == APPLY_BATCH

    def trim(self) -> None:
        """Drop outbox entries every link of their table has applied."""
        self._trimmed_at = time.monotonic()
        lowest: dict[int, int] = {}
        for name in self.store.links():
            source_id, _, _ = name.partition(">")
            progress = self.store.link(name)
            if progress is not None:
                key = int(source_id)
                lowest[key] = min(lowest.get(key, progress.applied), progress.applied)
        due = {
            table_id: through
            for table_id, through in lowest.items()
            if through and self._trimmed.get(table_id) != through
        }
        if not due:
            return
        with self.engine.transaction():
            for table_id, through in due.items():
                self.store.trim(table_id, through)
        self._trimmed.update(due)

    # -- transitions ----------------------------------------------------------------------

    def transitions(self) -> None:
        """Every replica transition that is due (all of them: each takes one pass)."""
        tables = [
            row
            for row in self.engine.catalog.tables.values()
            if is_global(row) and row.description.get("TableStatus") != "ACTIVE"
        ]
        if not tables:
            return
        with self.engine.transaction():
            for row in tables:
                if not is_global(row):
                    continue
                status = row.description.get("TableStatus")
                if status == "CREATING" and not self._backfilling_into(row):
                    self._activate(row)
                elif status == "DELETING":
                    self._drop(row)
            for row in tables:
                if (
                    is_global(row)
                    and row.description.get("TableStatus") == "UPDATING"
                    and not any(
                        doc.get("ReplicaStatus") == "CREATING" for doc in replica_entries(row)
                    )
                ):
                    row.description["TableStatus"] = "ACTIVE"
                    self.engine.catalog.save_table(row)

    def _backfilling_into(self, row: TableRow) -> bool:
        suffix = f">{row.table_id}"
        for name in self.store.links():
            if name.endswith(suffix):
                progress = self.store.link(name)
                if progress is not None and progress.backfilling:
                    return True
        return False

    def _activate(self, row: TableRow) -> None:
        """A backfilled replica: ACTIVE with its stream (the group's view type)."""
        catalog = self.engine.catalog
        members = self.members(row)
        view_type = next(
            (m.state.stream.view_type for m in members if m.state.stream is not None),
            "NEW_AND_OLD_IMAGES",
        )
        if row.state.stream is None:
            stream = self.streams.create_stream(
                row.region, row.name, row.description["KeySchema"], view_type
            )
            row.description["StreamSpecification"] = {
                "StreamEnabled": True,
                "StreamViewType": view_type,
            }
            row.description["LatestStreamLabel"] = stream.description["StreamLabel"]
            row.description["LatestStreamArn"] = stream.arn
            row.state = dataclasses.replace(
                row.state, stream=StreamState(stream.stream_id, view_type)
            )
        row.description["TableStatus"] = "ACTIVE"
        catalog.save_table(row)
        for member in members[1:]:
            member.state = dataclasses.replace(
                member.state,
                replicas=tuple(
                    {**doc, "ReplicaStatus": "ACTIVE"}
                    if doc.get("RegionName") == row.region and "Endpoint" not in doc
                    else doc
                    for doc in member.state.replicas
                ),
            )
            catalog.save_table(member)

    def _drop(self, row: TableRow) -> None:
        """A DELETING replica is gone: its table, and its entry in every member."""
        engine = self.engine
        others = [
            other
            for other in engine.catalog.tables.values()
            if other.name == row.name and other.region != row.region
        ]
        for member in others:
            kept = tuple(
                doc
                for doc in member.state.replicas
                if not (doc.get("RegionName") == row.region and "Endpoint" not in doc)
            )
            if len(kept) != len(member.state.replicas):
                member.state = dataclasses.replace(member.state, replicas=kept)
                _leave_if_alone(member)
                engine.catalog.save_table(member)
                self._forget_if_unreplicated(member)
        for name in self.store.links():
            source_id, _, destination_id = name.partition(">")
            if str(row.table_id) in (source_id, destination_id):
                self.store.drop_link(name)
        stream = row.state.stream
        if stream is not None:
            row.state = dataclasses.replace(row.state, stream=None)
            self.streams.disable_stream(stream.stream_id)
        for index_id in row.state.index_ids.values():
            engine.indexes.drop(index_id)
        engine.items.drop_table(row.table_id)
        engine.catalog.delete_table(row)
        self.store.drop_table(row.table_id)

    def sweeps_ttl(self, row: TableRow) -> bool:
        """Whether this table's TTL sweep deletes its expired items. One member of a group
        does (the oldest ACTIVE one); the others get its deletes as replicated writes, so
        each replica's stream shows one REMOVE per expired item (Emulator rule)."""
        if not is_global(row):
            return True
        if row.description.get("TableStatus") in HIDDEN_STATUSES:
            return False
        active = [
            member
            for member in self.members(row)
            if member.description.get("TableStatus") not in HIDDEN_STATUSES
        ]
        owner = min(active, key=lambda member: member.table_id)  # ids only grow
        return owner is row

    # -- settling -------------------------------------------------------------------------

    def settled(self) -> bool:
        """Replicators drained and no replica transition pending"""
        for row in self.engine.catalog.tables.values():
            if is_global(row) and row.description.get("TableStatus") != "ACTIVE":
                return False
        for source, destination, progress in self._links():
            if progress.backfilling:
                return False
            if destination.description.get("TableStatus") in HIDDEN_STATUSES:
                continue
            if self.store.read(source.table_id, progress.applied, 1):
                return False
        if self.paused:
            return True  # (nothing is pending)
        return all(check() for check in self.extra_pending)

    def waits_for_clock(self) -> bool:
        """Whether what is pending only waits for a manual clock to pass the lag."""
        if not self.lag_us or self.clock.mode == "real":
            return False
        horizon = int(self.clock.now() * 1_000_000) - self.lag_us
        for source, _destination, progress in self._links():
            if progress.backfilling:
                return False
            entries = self.store.read(source.table_id, progress.applied, 1)
            if entries and entries[0][3] <= horizon:
                return False
        return True

    def lag_percentiles(self) -> dict[str, float]:
        """p50 / p99 of the commit → applied delay of the latest replicated writes (ms)."""
        lags = sorted(self.recent_lags)
        if not lags:
            return {}
        return {
            "P50": lags[len(lags) // 2],
            "P99": lags[min(len(lags) - 1, int(len(lags) * 0.99))],
            "Samples": float(len(lags)),
        }

    def status(self) -> list[dict[str, Any]]:
        """Every link, for the admin endpoint."""
        now_us = int(self.clock.now() * 1_000_000)
        found = []
        for source, destination, progress in self._links():
            pending = self.store.pending(source.table_id, progress.applied)
            entries = self.store.read(source.table_id, progress.applied, 1)
            found.append(
                {
                    "TableName": source.name,
                    "SourceRegion": source.region,
                    "DestinationRegion": destination.region,
                    "State": "BACKFILLING" if progress.backfilling else "TAILING",
                    "PendingWrites": pending,
                    "AppliedWrites": progress.applied_count,
                    "LagMillis": 0.0 if not entries else (now_us - entries[0][3]) / 1000,
                }
            )
        return found


def _names(doc: dict[str, Any], region: str) -> bool:
    """Whether a replica entry is the one of the member in `region`."""
    return doc.get("RegionName") == region and "Endpoint" not in doc


def _entry_for(row: TableRow, region: str) -> dict[str, Any] | None:
    return next((doc for doc in row.state.replicas if _names(doc, region)), None)


def _private(doc: dict[str, Any] | None) -> dict[str, Any]:
    """The emulator's own keys of a replica entry (never described)."""
    return {} if doc is None else {k: v for k, v in doc.items() if k.startswith("_")}


def _leave_if_alone(row: TableRow) -> None:
    """A member whose last replica is gone is a regional table again."""
    if not replica_entries(row):
        for key in GROUP_KEYS:
            row.description.pop(key, None)
        if row.description.get("TableStatus") == "UPDATING":
            row.description["TableStatus"] = "ACTIVE"


def _overrides(action: dict[str, Any]) -> dict[str, Any]:
    """The per-replica settings of a Create / Update action, as ReplicaDescription names them."""
    doc: dict[str, Any] = {}
    for member in (
        "KMSMasterKeyId",
        "ProvisionedThroughputOverride",
        "OnDemandThroughputOverride",
        "GlobalSecondaryIndexes",
    ):
        if action.get(member) is not None:
            doc[member] = action[member]
    if action.get("TableClassOverride"):
        doc["ReplicaTableClassSummary"] = {"TableClass": action["TableClassOverride"]}
    return doc


def copy_description(
    description: dict[str, Any], region: str, account_id: str, name: str, now: float
) -> dict[str, Any]:
    """A new replica's description: the source's schema, indexes and settings, its own
    ARN, TableId and creation time, no stream fields yet (SPEC-STREAM-APPS 6.2)."""
    copied = orjson.loads(orjson.dumps(description))
    arn = f"arn:aws:dynamodb:{region}:{account_id}:table/{name}"
    for key in ("StreamSpecification", "LatestStreamArn", "LatestStreamLabel"):
        copied.pop(key, None)
    copied.update(
        {
            "TableArn": arn,
            "TableId": str(uuid.uuid4()),
            "CreationDateTime": round(now, 3),
            "TableStatus": "CREATING",
            "ItemCount": 0,
            "TableSizeBytes": 0,
            "GlobalTableVersion": GLOBAL_TABLE_VERSION,
            "GlobalTableSettingsReplicationMode": SETTINGS_MODE,
            "DeletionProtectionEnabled": False,
        }
    )
    for member in ("LocalSecondaryIndexes", "GlobalSecondaryIndexes"):
        for index in copied.get(member, []):
            index["IndexArn"] = f"{arn}/index/{index['IndexName']}"
    sse = copied.get("SSEDescription")
    if sse:
        copied["SSEDescription"] = regional_sse(sse, region)
    return copied


def regional_sse(sse: dict[str, Any], region: str) -> dict[str, Any]:
    """A member's SSEDescription for the group's: the same type, its key in the member's
    own region (SSE type is group-wide; keys are regional)."""
    sse = dict(sse)
    arn = sse.get("KMSMasterKeyArn")
    if arn:
        parts = arn.split(":")
        parts[3] = region
        sse["KMSMasterKeyArn"] = ":".join(parts)
    return sse
