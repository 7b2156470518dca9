"""Writing exports' objects, off the event loop: to a local folder standing in for S3
(`--export-dir`), or to a real S3-compatible endpoint (`--export-s3-endpoint`) with
botocore. As on AWS an export is asynchronous: ExportTableToPointInTime answers
IN_PROGRESS, then the export becomes COMPLETED, or FAILED with a FailureCode and a
FailureMessage (e.g. `S3NoSuchBucket` when the bucket does not exist); settling waits
for every export in progress.

The objects are built on the event loop (they are read from the database, which only
that thread uses) and written by a worker thread, in AWS's order: `_started` first (it
shows the bucket is writable), the manifests last.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import Callable
from typing import Any

from emulator.config import Config

#: What a finished write reports: (FailureCode, FailureMessage), both None on success.
Outcome = tuple[str | None, str | None]


_TEMPORARY_ROOT: str | None = None


def local_export_root(config: Config) -> str:
    """The folder standing in for S3 (`--export-dir`; else DATA_DIR/exports, or one
    temporary folder per process in memory mode)."""
    if config.export_dir:
        return config.export_dir
    if config.data_dir:
        return os.path.join(config.data_dir, "exports")
    global _TEMPORARY_ROOT
    if _TEMPORARY_ROOT is None:
        _TEMPORARY_ROOT = tempfile.mkdtemp(prefix="ddb-emulator-exports-")
    return _TEMPORARY_ROOT


class ExportWriter:
    __slots__ = ("_client", "_local_root", "_tasks", "endpoint", "pending", "region")

    def __init__(self, config: Config) -> None:
        self._local_root = lambda: local_export_root(config)
        self.endpoint = config.export_s3_endpoint
        self.region = config.region
        self._client: Any = None
        #: ARNs of the exports being written.
        self.pending: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    def settled(self) -> bool:
        """Exports: an export still being written"""
        return not self.pending

    def start(
        self,
        arn: str,
        bucket: str,
        objects: list[tuple[str, bytes]],
        finished: Callable[[Outcome], None],
    ) -> None:
        """Write `objects` ((key, body) pairs) into `bucket` in a worker thread, then call
        `finished(outcome)` on the event loop. Without a running loop (a script calling
        the API directly) the write is done now."""
        self.pending.add(arn)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            try:
                finished(self.write(bucket, objects))
            finally:
                self.pending.discard(arn)
            return
        task = loop.create_task(self._run(arn, bucket, objects, finished))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(
        self,
        arn: str,
        bucket: str,
        objects: list[tuple[str, bytes]],
        finished: Callable[[Outcome], None],
    ) -> None:
        try:
            outcome = await asyncio.to_thread(self.write, bucket, objects)
            finished(outcome)
        finally:
            self.pending.discard(arn)

    def write(self, bucket: str, objects: list[tuple[str, bytes]]) -> Outcome:
        """Write every object, stopping at the first failure (runs in a worker thread)."""
        if self.endpoint is None:
            return self._write_local(bucket, objects)
        return self._write_s3(bucket, objects)

    def _write_local(self, bucket: str, objects: list[tuple[str, bytes]]) -> Outcome:
        root = os.path.join(self._local_root(), bucket)
        try:
            for key, body in objects:
                path = os.path.join(root, *key.split("/"))
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, "wb") as handle:
                    handle.write(body)
        except OSError as error:
            return "UNKNOWN", f"Could not write the export: {error}"
        return None, None

    def _s3(self) -> Any:
        if self._client is None:
            import botocore.session
            from botocore.config import Config as BotoConfig

            session = botocore.session.get_session()
            credentials: dict[str, str] = {}
            if not os.environ.get("AWS_ACCESS_KEY_ID") and session.get_credentials() is None:
                credentials = {"aws_access_key_id": "test", "aws_secret_access_key": "test"}
            self._client = session.create_client(
                "s3",
                region_name=self.region,
                endpoint_url=self.endpoint,
                config=BotoConfig(
                    retries={"max_attempts": 2},
                    connect_timeout=5,
                    read_timeout=60,
                    s3={"addressing_style": "path"},
                ),
                **credentials,
            )
        return self._client

    def _write_s3(self, bucket: str, objects: list[tuple[str, bytes]]) -> Outcome:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            client = self._s3()
            for key, body in objects:
                client.put_object(Bucket=bucket, Key=key, Body=body)
        except ClientError as error:
            details = error.response.get("Error", {})
            code = str(details.get("Code", "")) or "Unknown"
            if code == "NoSuchBucket":
                return "S3NoSuchBucket", "The specified bucket does not exist"
            if code in ("AccessDenied", "403"):
                return "S3AccessDenied", str(details.get("Message") or "Access Denied")
            return f"S3{code}", str(details.get("Message") or error)
        except (BotoCoreError, OSError) as error:
            return "UNKNOWN", f"Could not write to S3: {error}"
        return None, None
