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

#: How often settling looks again (real seconds): short, so a put → settle loop is fast.
POLL_SECONDS = 0.001


def unsettled(backend: Backend) -> list[dict[str, Any]]:
    pending = backend.triggers.pending()
    for check in backend.settle_checks:
        if not check():
            pending.append({"Reason": getattr(check, "__doc__", None) or repr(check)})
    return pending


async def settle(backend: Backend, timeout: float) -> tuple[bool, list[dict[str, Any]]]:
    """(settled, what is still pending)."""
    deadline = time.monotonic() + timeout
    while True:
        backend.triggers.reconcile()
        pending = unsettled(backend)
        if not pending:
            return True, []
        if backend.triggers.blocked_on_clock() or time.monotonic() >= deadline:
            return False, pending
        await asyncio.sleep(POLL_SECONDS)
