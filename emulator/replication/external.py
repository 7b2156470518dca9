"""Replication of a table here to a table at another DynamoDB-compatible endpoint (a second
emulator, DynamoDB Local, AWS): backfill in key order, then tail the table's outbox.

A link is configured through the admin API (`POST /_emulator/replication/external`) and
kept in the source table's state (so its outbox is written) with its position in the
replication store: a restart with --data-dir resumes from the last batch the endpoint
accepted. Delivery is at least once and idempotent: a batch is re-sent whole after a
failure or a restart, and a put or delete of the same item twice leaves the same item.
Writes of one item keep their order (a batch never holds one key twice). The endpoint is
called with botocore in a worker thread, never on the event loop.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import uuid
from typing import Any

import orjson

from emulator.model.keys import KeySchema, decode_key_value
from emulator.replication.manager import CONTROL_TOPIC, ReplicationManager
from emulator.replication.sink import outbox_topic
from emulator.storage.engine import TableRow
from emulator.storage.replication import LinkProgress

logger = logging.getLogger("emulator")

#: BatchWriteItem takes at most 25 requests.
BATCH_REQUESTS = 25
#: Requests sent per pass of one link (several batches, then a look at the others).
PASS_REQUESTS = 500
#: After a failed call, wait this long before trying the link again (seconds).
RETRY_SECONDS = 1.0
IDLE_SECONDS = 1.0


def external_link_name(table_id: int, link_id: str) -> str:
    return f"{table_id}>ext:{link_id}"


def _key_from_bytes(schema: KeySchema, hash_key: bytes, range_key: bytes) -> dict[str, Any]:
    key = {schema.hash_name: {schema.hash_type: decode_key_value(schema.hash_type, hash_key)}}
    if schema.range_name is not None and schema.range_type is not None:
        key[schema.range_name] = {schema.range_type: decode_key_value(schema.range_type, range_key)}
    return key


class ExternalReplicators:
    def __init__(self, manager: ReplicationManager) -> None:
        self.manager = manager
        self._clients: dict[str, Any] = {}
        #: link id -> the last error (text), while the endpoint fails.
        self.errors: dict[str, str] = {}
        manager.extra_pending.append(self.settled)

    # -- configuration --------------------------------------------------------------------

    def add(self, region: str, command: dict[str, Any]) -> dict[str, Any]:
        """Start replicating a table (admin API); the link's description."""
        engine = self.manager.engine
        name = command.get("TableName")
        endpoint = command.get("Endpoint")
        if not isinstance(name, str) or not isinstance(endpoint, str):
            raise ValueError('"TableName" and "Endpoint" (a URL) are required')
        if not endpoint.startswith(("http://", "https://")):
            raise ValueError('"Endpoint" must be an http:// or https:// URL')
        region = str(command.get("Region") or region)
        row = engine.get_table(region, name)
        if row is None:
            raise LookupError(f"Table {name} not found in {region}")
        link_id = str(uuid.uuid4())
        doc = {
            "Endpoint": endpoint,
            "Id": link_id,
            "TargetTableName": str(command.get("TargetTableName") or name),
            "TargetRegion": str(command.get("TargetRegion") or region),
            "AccessKeyId": str(command.get("AccessKeyId") or "local"),
            "SecretAccessKey": str(command.get("SecretAccessKey") or "local"),
        }
        store = self.manager.store
        with engine.transaction():
            row.state = dataclasses.replace(row.state, replicas=(*row.state.replicas, doc))
            engine.catalog.save_table(row)
            store.save_link(
                LinkProgress(
                    external_link_name(row.table_id, link_id),
                    store.tip(row.table_id),
                    None,
                    None,
                    True,
                )
            )
            engine.after_commit(self.manager.signals.notify, CONTROL_TOPIC)
        return self._describe(row, doc)

    def remove(self, link_id: str) -> bool:
        engine = self.manager.engine
        for row, doc in self._configured():
            if doc["Id"] == link_id:
                with engine.transaction():
                    row.state = dataclasses.replace(
                        row.state,
                        replicas=tuple(d for d in row.state.replicas if d.get("Id") != link_id),
                    )
                    engine.catalog.save_table(row)
                    self.manager.store.drop_link(external_link_name(row.table_id, link_id))
                    if not row.state.replicas:
                        self.manager.store.drop_table(row.table_id)
                self._clients.pop(link_id, None)
                self.errors.pop(link_id, None)
                return True
        return False

    def _configured(self) -> list[tuple[TableRow, dict[str, Any]]]:
        return [
            (row, doc)
            for row in list(self.manager.engine.catalog.tables.values())
            for doc in row.state.replicas
            if "Endpoint" in doc
        ]

    # -- status ---------------------------------------------------------------------------

    def _describe(self, row: TableRow, doc: dict[str, Any]) -> dict[str, Any]:
        store = self.manager.store
        progress = store.link(external_link_name(row.table_id, doc["Id"]))
        now_us = int(self.manager.clock.now() * 1_000_000)
        described: dict[str, Any] = {
            "Id": doc["Id"],
            "TableName": row.name,
            "Region": row.region,
            "Endpoint": doc["Endpoint"],
            "TargetTableName": doc["TargetTableName"],
            "TargetRegion": doc["TargetRegion"],
        }
        if progress is not None:
            first = store.read(row.table_id, progress.applied, 1)
            described.update(
                {
                    "State": "BACKFILLING" if progress.backfilling else "TAILING",
                    "PendingWrites": store.pending(row.table_id, progress.applied),
                    "AppliedWrites": progress.applied_count,
                    "LagMillis": 0.0 if not first else max(0.0, (now_us - first[0][3]) / 1000),
                }
            )
        if doc["Id"] in self.errors:
            described["LastError"] = self.errors[doc["Id"]]
        return described

    def status(self) -> list[dict[str, Any]]:
        return [self._describe(row, doc) for row, doc in self._configured()]

    def settled(self) -> bool:
        """External replicators caught up"""
        store = self.manager.store
        for row, doc in self._configured():
            progress = store.link(external_link_name(row.table_id, doc["Id"]))
            if progress is None:
                continue
            if progress.backfilling or store.read(row.table_id, progress.applied, 1):
                return False
        return True

    # -- delivery -------------------------------------------------------------------------

    def _client(self, doc: dict[str, Any]) -> Any:
        client = self._clients.get(doc["Id"])
        if client is None:
            # Imported here: botocore's client machinery costs start-up ~0.1 s.
            import botocore.session
            from botocore.config import Config as BotoConfig

            session = botocore.session.get_session()
            client = session.create_client(
                "dynamodb",
                region_name=doc["TargetRegion"],
                endpoint_url=doc["Endpoint"],
                aws_access_key_id=doc["AccessKeyId"],
                aws_secret_access_key=doc["SecretAccessKey"],
                # Short timeouts: a stopping emulator waits for a call in flight.
                config=BotoConfig(
                    retries={"max_attempts": 2, "mode": "standard"},
                    connect_timeout=2,
                    read_timeout=10,
                ),
            )
            self._clients[doc["Id"]] = client
        return client

    @staticmethod
    def _send(client: Any, table: str, requests: list[dict[str, Any]]) -> None:
        """One BatchWriteItem, re-sending what the endpoint left unprocessed (in a thread)."""
        pending: dict[str, Any] = {table: requests}
        while pending:
            answer = client.batch_write_item(RequestItems=pending)
            pending = answer.get("UnprocessedItems") or {}

    async def run_forever(self) -> None:
        manager = self.manager
        while True:
            busy = False
            failed = False
            if not manager.paused:
                for row, doc in self._configured():
                    try:
                        busy |= await self._pass(row, doc)
                        self.errors.pop(doc["Id"], None)
                    except Exception as error:  # the endpoint is down or refuses: retry later
                        self.errors[doc["Id"]] = f"{type(error).__name__}: {error}"
                        logger.warning("replication to %s failed: %s", doc["Endpoint"], error)
                        failed = True
            if busy:
                await asyncio.sleep(0)
                continue
            topics: list[Any] = [CONTROL_TOPIC]
            topics += [outbox_topic(row.table_id) for row, _doc in self._configured()]
            await manager.signals.wait(topics, RETRY_SECONDS if failed else IDLE_SECONDS)

    async def _pass(self, row: TableRow, doc: dict[str, Any]) -> bool:
        """Send the link's next requests; whether more are ready."""
        store = self.manager.store
        engine = self.manager.engine
        name = external_link_name(row.table_id, doc["Id"])
        progress = store.link(name)
        if progress is None:
            return False
        client = self._client(doc)
        target = doc["TargetTableName"]
        schema = row.state.key_schema
        if progress.backfilling:
            rows = store.items_after(
                row.table_id, progress.backfill_hash, progress.backfill_range, PASS_REQUESTS
            )
            for start in range(0, len(rows), BATCH_REQUESTS):
                chunk = rows[start : start + BATCH_REQUESTS]
                puts = [{"PutRequest": {"Item": orjson.loads(blob)}} for *_, blob in chunk]
                await asyncio.to_thread(self._send, client, target, puts)
                if engine.get_table(row.region, row.name) is not row:
                    return False  # the table went away meanwhile
                progress.backfill_hash, progress.backfill_range = chunk[-1][0], chunk[-1][1]
                progress.applied_count += len(chunk)
                with engine.transaction():
                    store.save_link(progress)
            if len(rows) < PASS_REQUESTS:
                progress.backfilling = False
                with engine.transaction():
                    store.save_link(progress)
            return True
        entries = store.read(row.table_id, progress.applied, PASS_REQUESTS)
        if not entries:
            return False
        batches: list[tuple[list[dict[str, Any]], int, int]] = []
        requests: list[dict[str, Any]] = []
        keys: set[tuple[bytes, bytes]] = set()
        for sequence, hash_key, range_key, stamp, _size, blob in entries:
            if (hash_key, range_key) in keys or len(requests) == BATCH_REQUESTS:
                batches.append((requests, sequence - 1, stamp))
                requests, keys = [], set()
            keys.add((hash_key, range_key))
            if blob is None:
                requests.append(
                    {"DeleteRequest": {"Key": _key_from_bytes(schema, hash_key, range_key)}}
                )
            else:
                requests.append({"PutRequest": {"Item": orjson.loads(blob)}})
        batches.append((requests, entries[-1][0], entries[-1][3]))
        sent_through = progress.applied
        for batch, through, stamp in batches:
            if not batch:
                continue
            await asyncio.to_thread(self._send, client, target, batch)
            sent_through = max(sent_through, through)
            progress.applied = sent_through
            progress.applied_count += len(batch)
            progress.last_applied_stamp = stamp
            with engine.transaction():
                store.save_link(progress)
        return len(entries) == PASS_REQUESTS


__all__ = ["ExternalReplicators", "external_link_name"]
