"""Table status phases (opt-in ``--table-delay-ms``) and the two halves of deleting a table.

With a delay, CreateTable, UpdateTable and DeleteTable leave the table CREATING, UPDATING
or DELETING (see `StatusTransition`) until the emulator's clock passes the phase's end, so
code that polls (boto3's ``table_exists`` / ``table_not_exists`` waiters, a deployment
tool) sees what it sees on AWS; a manual clock holds a phase until it is advanced. A phase
ends lazily, when the table is next looked up (`settle_table`), or at the scheduler's next
tick (`settle_tables`), whichever comes first: no timer runs per table.

Deleting is two steps so that a DELETING table can still be described: `retire_table`
(at DeleteTable: its stream, change log and replica group go) and `remove_table` (when
the phase ends, or at once without a delay: its items, index entries and row go).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from emulator.storage.engine import TableRow

if TYPE_CHECKING:
    from emulator.runtime.backend import Backend


def settle_table(backend: Backend, row: TableRow) -> TableRow | None:
    """The table after every phase change that is due; None when it is gone (its
    DELETING phase ended)."""
    transition = row.state.transition
    if transition is None:
        return row
    now = backend.clock.now()
    if now < transition.next_due():
        return row
    description = row.description
    with backend.engine.transaction():
        if transition.status == "DELETING" and now >= transition.until:
            remove_table(backend, row)
            return None
        table_settles = transition.status is not None and now >= transition.until
        creating = []
        for entry in transition.creating:
            name, backfilling, active = entry
            for index in description.get("GlobalSecondaryIndexes", []):
                if index["IndexName"] != name:
                    continue
                if now >= active:
                    index["IndexStatus"] = "ACTIVE"
                    index.pop("Backfilling", None)
                elif now >= backfilling:
                    index["Backfilling"] = True
            if now < active:
                creating.append(entry)
        status = transition.status
        deleting = transition.deleting
        if table_settles:
            if status == "CREATING":
                for index in description.get("GlobalSecondaryIndexes", []):
                    index["IndexStatus"] = "ACTIVE"
            description["TableStatus"] = "ACTIVE"
            if deleting and "GlobalSecondaryIndexes" in description:
                kept = [
                    index
                    for index in description["GlobalSecondaryIndexes"]
                    if index["IndexName"] not in deleting
                ]
                if kept:
                    description["GlobalSecondaryIndexes"] = kept
                else:
                    del description["GlobalSecondaryIndexes"]
            status, deleting = None, ()
        remaining = None
        if status is not None or creating:
            remaining = dataclasses.replace(
                transition, status=status, creating=tuple(creating), deleting=deleting
            )
        row.state = dataclasses.replace(row.state, transition=remaining)
        backend.engine.catalog.save_table(row)
    return row


def settle_tables(backend: Backend) -> None:
    """Every due phase change of every table (the scheduler's tick, the settle call)."""
    for row in list(backend.engine.catalog.tables.values()):
        if row.state.transition is not None:
            settle_table(backend, row)


def retire_table(backend: Backend, row: TableRow) -> None:
    """What DeleteTable ends at once: the change log, the replica group and the stream
    (its records stay readable, DISABLED, as on AWS)."""
    backend.engine.change_log.drop_table(row.table_id)
    if row.state.replicas:
        backend.replication.table_deleted(row)
    disable_stream(backend, row)


def remove_table(backend: Backend, row: TableRow) -> None:
    """The table is gone: its index entries, its items and its row."""
    engine = backend.engine
    for index_id in row.state.index_ids.values():
        engine.indexes.drop(index_id)
    engine.items.drop_table(row.table_id)
    engine.catalog.delete_table(row)


def disable_stream(backend: Backend, row: TableRow) -> None:
    stream = row.state.stream
    row.description.pop("StreamSpecification", None)
    if stream is not None:
        row.state = dataclasses.replace(row.state, stream=None)
        backend.streams.disable_stream(stream.stream_id)
