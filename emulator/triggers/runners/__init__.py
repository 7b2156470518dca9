"""Function runners: what a Lambda function is locally (`TargetRegistry` picks one).

- `ProcessTarget`: a python3.x or nodejs* zip (or folder) in warm worker processes.
- `HttpTarget`: an endpoint speaking Lambda's Invoke API (another emulator, RIE, SAM).
- `CallableTarget`: a Python callable in the emulator's process (tests).
"""

from __future__ import annotations

from emulator.triggers.runners.registry import TargetRegistry

__all__ = ["TargetRegistry"]
