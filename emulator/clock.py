"""The one clock behind every timestamp and time-based decision, so tests can move time."""

from __future__ import annotations

import time
from typing import Any

#: 9999-12-31T23:59:59Z: the last second a stream label (`YYYY-MM-DDTHH:MM:SS.mmm`) and
#: a shard id's 20-digit millisecond stamp can express. Time never moves past it.
MAX_EPOCH_SECONDS = 253402300799.0


class Clock:
    """Real time by default; in manual mode time stands still until advanced or set.

    Time never goes backwards: returning to real time after manual time ran ahead keeps
    the lead as an offset, so stored timestamps, sequence numbers and labels stay ordered.
    Only `reset` (all data dropped) returns to plain real time.
    """

    def __init__(self) -> None:
        self._manual_now: float | None = None
        self._offset = 0.0

    @property
    def mode(self) -> str:
        return "real" if self._manual_now is None else "manual"

    def now(self) -> float:
        if self._manual_now is None:
            return time.time() + self._offset
        return self._manual_now

    def advance(self, seconds: float) -> float:
        """Switch to manual mode (if needed) and move forward."""
        if seconds < 0:
            raise ValueError("the clock cannot go backwards")
        return self._stand_at(self.now() + seconds)

    def set(self, epoch_seconds: float) -> float:
        if epoch_seconds < self.now():
            raise ValueError("the clock cannot go backwards")
        return self._stand_at(epoch_seconds)

    def _stand_at(self, epoch_seconds: float) -> float:
        if epoch_seconds > MAX_EPOCH_SECONDS:
            raise ValueError("the clock cannot go past 9999-12-31T23:59:59Z")
        self._manual_now = float(epoch_seconds)
        return self._manual_now

    def use_real_time(self) -> None:
        if self._manual_now is not None:
            self._offset = max(0.0, self._manual_now - time.time())
            self._manual_now = None

    def reset(self) -> None:
        """Plain real time again: for when every stored timestamp was dropped."""
        self._manual_now = None
        self._offset = 0.0

    # -- persistence (a --data-dir keeps the clock with the data it stamped) -------------

    def state(self) -> dict[str, Any]:
        if self._manual_now is not None:
            return {"mode": "manual", "now": self._manual_now}
        return {"mode": "real", "offset": self._offset}

    def restore(self, state: dict[str, Any]) -> None:
        """Take a saved `state` back. Real time resumes with its saved lead, so a clock
        that ran ahead before the restart does not fall behind what it stamped."""
        if state.get("mode") == "manual":
            self._manual_now = min(float(state["now"]), MAX_EPOCH_SECONDS)
            self._offset = 0.0
        else:
            self._manual_now = None
            self._offset = max(0.0, float(state.get("offset", 0.0)))
