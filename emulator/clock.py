"""The one clock behind every timestamp and time-based decision, so tests can move time."""

from __future__ import annotations

import time


class Clock:
    """Real time by default; in manual mode time stands still until advanced or set.

    Time never goes backwards: returning to real time after manual time ran ahead keeps
    the lead as an offset, so stored timestamps, sequence numbers and labels stay ordered.
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
        self._manual_now = self.now() + seconds
        return self._manual_now

    def set(self, epoch_seconds: float) -> float:
        if epoch_seconds < self.now():
            raise ValueError("the clock cannot go backwards")
        self._manual_now = float(epoch_seconds)
        return self._manual_now

    def use_real_time(self) -> None:
        if self._manual_now is not None:
            self._offset = max(0.0, self._manual_now - time.time())
            self._manual_now = None
