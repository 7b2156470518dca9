"""Which target runs a function, one per function version, kept warm between calls.

By function name, an in-process callable (`register_callable`, `emulator.serve(
functions=...)`, the `ddb_function` fixture) wins over an endpoint URL (`--function
NAME=URL`, `register_url`), which wins over the function's own code: a python3.x or
nodejs* zip (or folder) runs in worker processes; other runtimes cannot run here and
answer a service error saying so. A target is built on first use and kept per function
ARN while its revision (code and configuration) and override stay the same; otherwise it
is rebuilt and the old one closed once its running invocations end.

The Lambda API's Invoke and the event-source-mapping poller call `target_for` on the
event loop; registering and unregistering are safe from any thread (a test's).
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from emulator.config import Config, check_function_url
from emulator.triggers.targets import FunctionSpec, Invocation, InvokeResult, Outcome, Target

#: `fn(event, context)`, plain or async.
Handler = Callable[[Any, Any], Any]
#: Concurrent invocations of one function version, each with its own warm worker.
DEFAULT_MAX_WORKERS = 8

#: Threads for in-process callables: enough that handlers which call the emulator back
#: (and wait for it) never starve each other.
CALLABLE_THREADS = 32


class UnavailableTarget:
    """A function that cannot run here: every invocation is a service error that says why."""

    def __init__(self, detail: str) -> None:
        self.detail = detail

    async def invoke(self, invocation: Invocation) -> InvokeResult:
        return InvokeResult(Outcome.SERVICE_ERROR, b"", status_code=0, detail=self.detail)

    async def close(self) -> None:
        pass


class TargetRegistry:
    def __init__(
        self,
        *,
        urls: Mapping[str, str] | None = None,
        python: str | None = None,
        node: str | None = None,
        max_workers: int = DEFAULT_MAX_WORKERS,
    ) -> None:
        self.python = python or sys.executable
        #: `node` to run Node.js functions with; None: looked up on PATH when needed.
        self.node = node
        self.max_workers = max_workers
        self._lock = threading.Lock()
        self._callables: dict[str, Handler] = {}
        self._urls: dict[str, str] = {
            name: check_function_url(url) for name, url in (urls or {}).items()
        }
        self._targets: dict[str, tuple[tuple[Any, ...], Target]] = {}
        self._retiring: set[Target] = set()
        self._closing: set[asyncio.Task[None]] = set()
        self._executor: ThreadPoolExecutor | None = None

    @classmethod
    def from_config(cls, config: Config) -> TargetRegistry:
        return cls(urls=dict(config.functions), python=config.function_python)

    # -- overrides ---------------------------------------------------------------------

    def register_callable(self, name: str, fn: Handler) -> None:
        """Run `fn(event, context)` in this process whenever function `name` is invoked."""
        if not isinstance(name, str) or not name:
            raise ValueError("a function name is a non-empty string")
        if not callable(fn):
            raise TypeError(f"the handler of function {name!r} is not callable: {fn!r}")
        with self._lock:
            self._callables[name] = fn

    def unregister_callable(self, name: str) -> None:
        with self._lock:
            self._callables.pop(name, None)

    def register_url(self, name: str, url: str) -> None:
        """Invoke function `name` at the Invoke API endpoint `url`."""
        if not isinstance(name, str) or not name:
            raise ValueError("a function name is a non-empty string")
        with self._lock:
            self._urls[name] = check_function_url(url)

    def unregister_url(self, name: str) -> None:
        with self._lock:
            self._urls.pop(name, None)

    def overridden_names(self) -> set[str]:
        """Functions that run as a callable or at a URL whatever their code is."""
        with self._lock:
            return set(self._callables) | set(self._urls)

    def urls(self) -> dict[str, str]:
        with self._lock:
            return dict(self._urls)

    # -- targets -----------------------------------------------------------------------

    def target_for(self, spec: FunctionSpec) -> Target:
        """The target of this function version (built now, or the warm one)."""
        with self._lock:
            fn = self._callables.get(spec.name)
            url = self._urls.get(spec.name)
            if fn is not None:
                key: tuple[Any, ...] = (spec.revision, "callable", id(fn))
            elif url is not None:
                key = (spec.revision, "url", url)
            else:
                key = (spec.revision, "code")
            cached = self._targets.get(spec.arn)
            if cached is not None and cached[0] == key:
                return cached[1]
            target = self._build(spec, fn, url)
            self._targets[spec.arn] = (key, target)
        if cached is not None:
            self._retire(cached[1])
        return target

    def _build(self, spec: FunctionSpec, fn: Handler | None, url: str | None) -> Target:
        # Imported when a function first runs: the emulator's start-up does not pay for it.
        from emulator.triggers.runners import runtimes
        from emulator.triggers.runners.http_target import HttpTarget
        from emulator.triggers.runners.inprocess import CallableTarget
        from emulator.triggers.runners.process import ProcessTarget

        if fn is not None:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(
                    CALLABLE_THREADS, thread_name_prefix="emulator-function"
                )
            return CallableTarget(spec, fn, self._executor)
        if url is not None:
            return HttpTarget(spec, url)
        family = runtimes.runtime_family(spec.runtime)
        if spec.code_zip is None and spec.code_dir is None:
            return UnavailableTarget(
                f"function {spec.name} has no code the emulator can run (a container image "
                f"or an S3 location); give it an endpoint: --function {spec.name}=URL"
            )
        if family == "python":
            launcher = runtimes.python_launcher(self.python, spec.handler or "")
            return ProcessTarget(spec, launcher, max_workers=self.max_workers)
        if family == "nodejs":
            node = self.node or runtimes.find_node()
            if node is None:
                return UnavailableTarget(
                    f"function {spec.name} has Runtime {spec.runtime}, which needs Node.js: "
                    "there is no `node` on the emulator's PATH"
                )
            launcher = runtimes.node_launcher(node, spec.handler or "")
            return ProcessTarget(spec, launcher, max_workers=self.max_workers)
        return UnavailableTarget(
            f"function {spec.name} has Runtime {spec.runtime}, which the emulator cannot "
            f"run (python3.x and nodejs* can); give it an endpoint: --function {spec.name}=URL"
        )

    def discard(self, arn: str) -> None:
        """Forget the target of a deleted function (closed once its invocations end)."""
        with self._lock:
            cached = self._targets.pop(arn, None)
        if cached is not None:
            self._retire(cached[1])

    def discard_all(self) -> None:
        """Forget every target (`POST /_emulator/reset`); the overrides stay."""
        with self._lock:
            cached = list(self._targets.values())
            self._targets.clear()
        for _, target in cached:
            self._retire(target)

    def _retire(self, target: Target) -> None:
        with self._lock:
            self._retiring.add(target)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # closed by `close()`
        task = loop.create_task(self._close_retired(target))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def _close_retired(self, target: Target) -> None:
        try:
            await target.close()
        finally:
            with self._lock:
                self._retiring.discard(target)

    async def close(self) -> None:
        """Stop every worker now (the emulator is stopping)."""
        with self._lock:
            targets = [target for _, target in self._targets.values()]
            targets += self._retiring
            self._targets.clear()
            self._retiring.clear()
            closing = list(self._closing)
        for task in closing:
            task.cancel()
        for task in closing:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for target in targets:
            abort = getattr(target, "abort", None)
            await (abort() if abort is not None else target.close())
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None
