"""Settling: wait until everything delivered in the background is delivered — every
trigger has an empty backlog and nothing in flight, every state transition is done, and
every other feature's check (Kinesis forwarders, replicators) holds (SPEC-STREAM-APPS 8).

Returns at once, unsettled, when what is pending only waits for a manual clock to move
(a batching or tumbling window): waiting longer could not help.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from emulator.runtime.backend import Backend

#: How often settling looks again (real seconds): at first often, so a put → settle loop
#: is fast, then less and less, so a long wait leaves the CPU to the delivery.
FIRST_POLL_SECONDS = 0.0005
LAST_POLL_SECONDS = 0.02


def unsettled(backend: Backend, detail: bool = True) -> list[dict[str, Any]]:
    pending = backend.triggers.pending(detail)
    for check in backend.settle_checks:
        if not check():
            pending.append({"Reason": getattr(check, "__doc__", None) or repr(check)})
    return pending


async def settle(backend: Backend, timeout: float) -> tuple[bool, list[dict[str, Any]]]:
    """(settled, what is still pending)."""
    deadline = time.monotonic() + timeout
    pause = FIRST_POLL_SECONDS
    while True:
        backend.triggers.reconcile()
        # What the next tick would complete (ENABLING → ACTIVE and the like) is done now.
        backend.complete_transitions()
        if not unsettled(backend, detail=False):
            return True, []
        if _blocked_on_clock(backend) or time.monotonic() >= deadline:
            return False, unsettled(backend)
        await asyncio.sleep(pause)
        pause = min(LAST_POLL_SECONDS, pause * 1.5)


def _blocked_on_clock(backend: Backend) -> bool:
    """Whether everything pending waits for the manual clock (a batching window, a
    replication lag): waiting in real time could not help."""
    triggers = backend.triggers
    replication = backend.replication
    triggers_wait = triggers.blocked_on_clock()
    replication_waits = replication.waits_for_clock() and not replication.settled()
    if triggers_wait:
        return replication.settled() or replication_waits
    return replication_waits and not triggers.pending(detail=False)
