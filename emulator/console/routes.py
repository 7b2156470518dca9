"""The console's routes: its static files, its JSON endpoints, its event streams.

The JSON endpoints answer what the pages show and the admin API does not already serve
(the pages use `/_emulator/clock`, `/_emulator/streams/rollover`, `/_emulator/history`,
`/_emulator/replication` and `/_emulator/kinesis/destinations` as they are). Reads and
item edits go through the AWS operations themselves (`POST .../api/call`, a fixed list
of operations), so the console shows exactly what an SDK would get.
"""

from __future__ import annotations

import time
from importlib import resources
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from emulator import __version__, wire
from emulator.api.tables import describe as describe_table
from emulator.changes.sinks import change_log_enabled
from emulator.console.live import LiveStreams, shard_summary
from emulator.runtime.backend import Backend
from emulator.streams.records import encode_sequence_number

#: What `POST /_emulator/console/api/call` runs: the reads the pages make and the item
#: edits the item view offers. Nothing that creates or drops a table or a stream.
CALLABLE = frozenset(
    {
        "DynamoDB_20120810.ListTables",
        "DynamoDB_20120810.DescribeTable",
        "DynamoDB_20120810.DescribeTimeToLive",
        "DynamoDB_20120810.DescribeKinesisStreamingDestination",
        "DynamoDB_20120810.DescribeContinuousBackups",
        "DynamoDB_20120810.Scan",
        "DynamoDB_20120810.Query",
        "DynamoDB_20120810.GetItem",
        "DynamoDB_20120810.PutItem",
        "DynamoDB_20120810.DeleteItem",
        "DynamoDBStreams_20120810.ListStreams",
        "DynamoDBStreams_20120810.DescribeStream",
        "Kinesis_20131202.ListStreams",
        "Kinesis_20131202.DescribeStreamSummary",
        "Kinesis_20131202.ListShards",
        "Kinesis_20131202.ListStreamConsumers",
    }
)

STATIC_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".png": "image/png",
    ".svg": "image/svg+xml",
}
EVENT_STREAM_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def _static(name: str) -> bytes | None:
    """A file of `emulator/console/static/` (None for any other name)."""
    if "/" in name or "\\" in name or name.startswith("."):
        return None
    try:
        return (resources.files("emulator.console") / "static" / name).read_bytes()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None


async def call_operation(
    backend: Backend, target: str, region: str, request: Any
) -> tuple[int, Any]:
    """Run one AWS operation as a client would (validation included): (status, answer)."""
    body = orjson.dumps(request)
    if target.startswith("Kinesis_"):
        from emulator.kinesis import wire as kinesis_wire

        status, payload, _ = kinesis_wire.handle_call(
            backend, target, b"application/x-amz-json-1.1", region, body
        )
    else:
        status, payload = wire.handle_call(backend, target, region, body)
        if status == wire.STAGED:
            status, payload = await wire.finish_staged(target, payload)
    return status, orjson.loads(payload)


class Console:
    """The console of one backend; `close()` ends its open event streams (shutdown)."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.live = LiveStreams(backend)

    def close(self) -> None:
        self.live.close()

    def routes(self) -> list[Route]:
        base = "/_emulator/console"
        return [
            Route(base, self.page, methods=["GET"]),
            Route(base + "/", self.page, methods=["GET"]),
            Route(base + "/static/{name}", self.static_file, methods=["GET"]),
            Route(base + "/api/overview", self.overview, methods=["GET"]),
            Route(base + "/api/call", self.call, methods=["POST"]),
            Route(base + "/api/table", self.table, methods=["GET"]),
            Route(base + "/api/stream", self.stream, methods=["GET"]),
            Route(base + "/api/stream/events", self.stream_events, methods=["GET"]),
            Route(base + "/api/triggers", self.triggers, methods=["GET"]),
            Route(base + "/api/triggers/{uuid}", self.trigger, methods=["GET"]),
            Route(base + "/api/kinesis", self.kinesis, methods=["GET"]),
            Route(base + "/api/events", self.events, methods=["GET"]),
        ]

    # -- static files ----------------------------------------------------------------------

    async def page(self, request: Request) -> Response:
        return await self._file("index.html")

    async def static_file(self, request: Request) -> Response:
        return await self._file(request.path_params["name"])

    async def _file(self, name: str) -> Response:
        content = _static(name)
        suffix = name[name.rfind(".") :] if "." in name else ""
        if content is None or suffix not in STATIC_TYPES:
            return JSONResponse({"error": f"no console file {name!r}"}, status_code=404)
        return Response(
            content, media_type=STATIC_TYPES[suffix], headers={"Cache-Control": "no-cache"}
        )

    # -- JSON ------------------------------------------------------------------------------

    def _region(self, request: Request) -> str:
        return request.query_params.get("Region") or self.backend.config.region

    async def overview(self, request: Request) -> Response:
        """Regions, the clock, and every table with its stream and item count."""
        backend = self.backend
        regions = {backend.config.region}
        tables = []
        for row in sorted(backend.engine.catalog.all_tables(), key=lambda r: (r.region, r.name)):
            regions.add(row.region)
            description = describe_table(backend, row)
            tables.append(
                {
                    "Region": row.region,
                    "TableName": row.name,
                    "TableStatus": description.get("TableStatus"),
                    "ItemCount": description.get("ItemCount"),
                    "KeySchema": description.get("KeySchema"),
                    "LatestStreamArn": description.get("LatestStreamArn"),
                    "StreamEnabled": bool(
                        description.get("StreamSpecification", {}).get("StreamEnabled")
                    ),
                    "Replicas": [r.get("RegionName") for r in description.get("Replicas", [])],
                    "ChangeLog": change_log_enabled(row, backend.config.change_log),
                }
            )
        regions.update(region for region, _ in backend.kinesis.streams)
        return JSONResponse(
            {
                "Version": __version__,
                "Region": backend.config.region,
                "Regions": sorted(regions),
                "Clock": {
                    "now": backend.clock.now(),
                    "mode": backend.clock.mode,
                    "offset": backend.clock.now() - time.time(),
                },
                "ChangeLogEverywhere": backend.config.change_log,
                "Tables": tables,
            }
        )

    async def call(self, request: Request) -> Response:
        """`{"Target": "DynamoDB_20120810.Scan", "Region": R, "Request": {...}}`: the
        operation's own answer and status."""
        try:
            command: Any = orjson.loads(await request.body())
            if not isinstance(command, dict):
                raise ValueError("expected a JSON object")
            target = command.get("Target")
            if target not in CALLABLE:
                raise ValueError(f"the console does not call {target!r}")
            region = command.get("Region") or self.backend.config.region
            if not isinstance(region, str):
                raise ValueError('"Region" must be a string')
        except (ValueError, orjson.JSONDecodeError) as error:
            return JSONResponse({"error": str(error)}, status_code=400)
        status, answer = await call_operation(
            self.backend, target, region, command.get("Request", {})
        )
        return JSONResponse(answer, status_code=status)

    async def table(self, request: Request) -> Response:
        """DescribeTable, TTL, Kinesis destinations, backups and the table's streams."""
        backend = self.backend
        region = self._region(request)
        name = request.query_params.get("TableName", "")
        row = backend.engine.get_table(region, name)
        if row is None:
            return JSONResponse({"error": f"Table not found: {name}"}, status_code=404)
        answer: dict[str, Any] = {}
        for key, operation in (
            ("Table", "DescribeTable"),
            ("TimeToLive", "DescribeTimeToLive"),
            ("KinesisDestinations", "DescribeKinesisStreamingDestination"),
            ("Backups", "DescribeContinuousBackups"),
        ):
            _, result = await call_operation(
                backend, "DynamoDB_20120810." + operation, region, {"TableName": name}
            )
            answer[key] = result
        answer["ChangeLog"] = change_log_enabled(row, backend.config.change_log)
        answer["Streams"] = [
            {"StreamArn": s.arn, "StreamStatus": s.description.get("StreamStatus")}
            for s in backend.streams.all_streams()
            if s.region == region and s.table_name == name
        ]
        return JSONResponse(answer)

    async def stream(self, request: Request) -> Response:
        """A DynamoDB stream and its shards with lineage, ranges and record counts."""
        backend = self.backend
        arn = request.query_params.get("StreamArn", "")
        row = backend.streams.stream_by_arn(arn)
        if row is None:
            return JSONResponse({"error": f"Stream {arn} not found"}, status_code=404)
        description = row.description
        return JSONResponse(
            {
                "StreamArn": row.arn,
                "Region": row.region,
                "TableName": row.table_name,
                "StreamStatus": description.get("StreamStatus"),
                "StreamViewType": description.get("StreamViewType"),
                "StreamLabel": description.get("StreamLabel"),
                "Shards": shard_summary(backend, row.stream_id),
            }
        )

    async def stream_events(self, request: Request) -> Response:
        """Server-sent events of one stream: `shards` when its shards change, `counts`
        (records kept per shard) at most once a second, `records` as records are written
        (`EventName`, `Key` filter them), `skipped` when the writers outran the page."""
        query = request.query_params
        row = self.backend.streams.stream_by_arn(query.get("StreamArn", ""))
        if row is None:
            return JSONResponse({"error": "Stream not found"}, status_code=404)
        start = query.get("Start", "LATEST")
        if start not in ("LATEST", "TRIM_HORIZON", "RECENT"):
            return JSONResponse({"error": "Start is LATEST, RECENT or TRIM_HORIZON"}, 400)
        events = self.live.follow_stream(
            row.stream_id, start, query.get("EventName") or None, query.get("Key") or None
        )
        return StreamingResponse(
            events, media_type="text/event-stream", headers=EVENT_STREAM_HEADERS
        )

    async def triggers(self, request: Request) -> Response:
        return JSONResponse({"EventSourceMappings": self.backend.triggers.status()})

    async def trigger(self, request: Request) -> Response:
        """One mapping: its status, each shard's position and backlog, its invocation
        log (newest last) and its failure documents."""
        triggers = self.backend.triggers
        uuid = request.path_params["uuid"]
        status = next((s for s in triggers.status() if s["UUID"] == uuid), None)
        if status is None:
            return JSONResponse({"error": f"no event source mapping {uuid}"}, status_code=404)
        shards = []
        running = triggers.running.get(uuid)
        if running is not None:
            reader = running.run.reader
            kinesis = running.run.context.binding.kinesis
            for shard in reader.source.shards():
                position = reader.next_sequence(shard)
                shards.append(
                    {
                        "ShardId": shard.shard_id,
                        "ParentShardIds": reader.source.parents(shard),
                        "Open": shard.ending_sequence is None,
                        "NextSequence": str(position)
                        if kinesis
                        else encode_sequence_number(position),
                        "Finished": reader.is_finished(shard),
                        "Backlog": reader.backlog(shard),
                    }
                )
        return JSONResponse(
            {
                "Mapping": status,
                "Shards": shards,
                "Invocations": triggers.invocations(uuid) or [],
                "Failures": triggers.destinations.documents(uuid),
            }
        )

    async def kinesis(self, request: Request) -> Response:
        """The built-in Kinesis streams of a region, each with its shards."""
        backend = self.backend
        region = self._region(request)
        streams = []
        for (stream_region, _name), stream in sorted(backend.kinesis.streams.items()):
            if stream_region != region:
                continue
            _, summary = await call_operation(
                backend,
                "Kinesis_20131202.DescribeStreamSummary",
                region,
                {"StreamARN": stream.arn},
            )
            _, shards = await call_operation(
                backend, "Kinesis_20131202.ListShards", region, {"StreamARN": stream.arn}
            )
            streams.append(
                {
                    "Summary": summary.get("StreamDescriptionSummary", summary),
                    "Shards": shards.get("Shards", []),
                }
            )
        return JSONResponse({"Streams": streams})

    async def events(self, request: Request) -> Response:
        """Server-sent `status` events: the clock, table counts, trigger states and
        replication, sent when they change (looked at about once a second)."""
        return StreamingResponse(
            self.live.follow_status(), media_type="text/event-stream", headers=EVENT_STREAM_HEADERS
        )
