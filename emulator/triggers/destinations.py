"""OnFailure destinations of event source mappings (SPEC-STREAM-APPS 3.10).

Every failure document is kept (the last ones per mapping, readable through the admin
API), and when the mapping names an SQS queue, an SNS topic or an S3 bucket and an
endpoint for them is configured (`--destination-endpoint`, e.g. moto's server), it is
sent there with botocore, off the event loop. A delivery that fails is logged and does
not hold the shard up (Emulator rule).
"""

from __future__ import annotations

import asyncio
import datetime
import logging
import uuid
from collections import deque
from typing import Any

import orjson

from emulator.triggers.mapping import EventSourceMapping

logger = logging.getLogger("emulator")

KEPT_PER_MAPPING = 1000


class FailureDestinations:
    def __init__(self, endpoint: str | None, region: str) -> None:
        self.endpoint = endpoint
        self.region = region
        self.kept: dict[str, deque[dict[str, Any]]] = {}
        self._sending: set[asyncio.Task[None]] = set()
        self._clients: dict[tuple[str, str], Any] = {}

    def documents(self, mapping_uuid: str) -> list[dict[str, Any]]:
        return list(self.kept.get(mapping_uuid, ()))

    def forget(self, mapping_uuid: str) -> None:
        self.kept.pop(mapping_uuid, None)

    def idle(self) -> bool:
        return not self._sending

    def send(
        self, mapping: EventSourceMapping, document: dict[str, Any], records: list[dict[str, Any]]
    ) -> None:
        self.kept.setdefault(mapping.uuid, deque(maxlen=KEPT_PER_MAPPING)).append(document)
        destination = mapping.on_failure_destination
        if destination is None or self.endpoint is None:
            return
        task = asyncio.create_task(self._deliver(mapping, destination, document, records))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _deliver(
        self,
        mapping: EventSourceMapping,
        destination: str,
        document: dict[str, Any],
        records: list[dict[str, Any]],
    ) -> None:
        try:
            await asyncio.to_thread(self._deliver_now, mapping, destination, document, records)
        except Exception as error:  # a destination that fails is logged, never fatal
            logger.warning(
                "trigger %s: could not deliver a failure document to %s: %s",
                mapping.uuid,
                destination,
                error,
            )

    def _client(self, service: str, region: str) -> Any:
        client = self._clients.get((service, region))
        if client is None:
            import botocore.session

            client = botocore.session.get_session().create_client(
                service,
                region_name=region,
                endpoint_url=self.endpoint,
                aws_access_key_id="test",
                aws_secret_access_key="test",
            )
            self._clients[(service, region)] = client
        return client

    def _deliver_now(
        self,
        mapping: EventSourceMapping,
        destination: str,
        document: dict[str, Any],
        records: list[dict[str, Any]],
    ) -> None:
        parts = destination.split(":", 5)
        service = parts[2] if len(parts) > 2 else ""
        region = parts[3] if len(parts) > 3 and parts[3] else mapping.region
        body = orjson.dumps(document).decode()
        if service == "sqs":
            client = self._client("sqs", region)
            queue_url = client.get_queue_url(QueueName=parts[5], QueueOwnerAWSAccountId=parts[4])[
                "QueueUrl"
            ]
            client.send_message(QueueUrl=queue_url, MessageBody=body)
        elif service == "sns":
            self._client("sns", region).publish(TopicArn=destination, Message=body)
        elif service == "s3":
            bucket = parts[5]
            info = document.get("DDBStreamBatchInfo", {})
            now = datetime.datetime.fromisoformat(document["timestamp"].replace("Z", "+00:00"))
            key = (
                f"aws/lambda/{mapping.uuid}/{info.get('shardId', '')}/"
                f"{now:%Y/%m/%d}/{now:%Y-%m-%dT%H.%M.%S}-{uuid.uuid4()}"
            )
            payload = dict(document)
            payload["payload"] = {"Records": records}
            self._client("s3", region).put_object(
                Bucket=bucket, Key=key, Body=orjson.dumps(payload)
            )
        else:
            raise ValueError(f"unsupported destination {destination}")
