"""The "records committed" signal: in-process consumers of a log (a trigger's poller, a
Kinesis forwarder, a replicator) sleep until something they read was committed.

A topic is any hashable name of a log: `("stream", stream_id)` for a DynamoDB stream,
others for other logs. Writers call `notify` once their transaction has committed
(`Engine.after_commit`); it costs one dict lookup when nobody waits, so it can run on
every write. Waiting is level-free: a consumer always re-reads the log after a wake-up
(or a timeout) and sleeps again only when it found nothing new.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Hashable


def stream_topic(stream_id: int) -> tuple[str, int]:
    return ("stream", stream_id)


class CommitSignals:
    __slots__ = ("_waiting",)

    def __init__(self) -> None:
        self._waiting: dict[Hashable, list[asyncio.Event]] = {}

    def notify(self, topic: Hashable) -> None:
        """Wake everyone waiting on `topic` (called after the commit)."""
        events = self._waiting.pop(topic, None)
        if events is not None:
            for event in events:
                event.set()

    def notify_all(self) -> None:
        """Wake every waiter (a reset, a clock move: everyone re-reads)."""
        waiting, self._waiting = self._waiting, {}
        for events in waiting.values():
            for event in events:
                event.set()

    async def wait(self, topics: list[Hashable], timeout: float | None) -> None:
        """Sleep until one of `topics` is notified, or `timeout` seconds pass."""
        event = asyncio.Event()
        for topic in topics:
            self._waiting.setdefault(topic, []).append(event)
        try:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await event.wait()
        finally:
            for topic in topics:
                events = self._waiting.get(topic)
                if events is not None and event in events:
                    events.remove(event)
                    if not events:
                        del self._waiting[topic]
