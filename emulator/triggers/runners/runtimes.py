"""The runtimes a zip function can run on here: Python (any `python3.x`, run by the
emulator's interpreter or a configured one) and Node.js (`nodejs*`, by `node` on PATH)."""

from __future__ import annotations

import functools
import shutil
from pathlib import Path

from emulator.triggers.runners import python_worker
from emulator.triggers.runners.process import Launcher

_HERE = Path(__file__).resolve().parent
NODE_WORKER = _HERE / "node_worker.js"


@functools.cache
def _python_worker_source() -> str:
    return Path(python_worker.__file__).read_text()


def python_launcher(executable: str, handler: str) -> Launcher:
    source = _python_worker_source()
    return Launcher(
        command=lambda fd: [executable, "-u", "-c", source, str(fd), handler],
        runtime_dir=str(_HERE),
    )


def node_launcher(node: str, handler: str) -> Launcher:
    return Launcher(
        command=lambda fd: [node, str(NODE_WORKER), str(fd), handler], runtime_dir=str(_HERE)
    )


def find_node() -> str | None:
    return shutil.which("node")


def runtime_family(runtime: str | None) -> str | None:
    """`python` / `nodejs` for the runtimes that run here, else None."""
    if runtime is None:
        return None
    if runtime.startswith("python"):
        return "python"
    if runtime.startswith("nodejs"):
        return "nodejs"
    return None
