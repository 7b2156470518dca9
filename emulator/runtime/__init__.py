"""The composition root (`Backend`) and the scheduler of time-driven background work."""

from emulator.runtime.backend import Backend

__all__ = ["Backend"]
