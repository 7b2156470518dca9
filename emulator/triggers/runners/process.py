"""Functions whose code runs in worker processes (Python, Node.js): a warm pool per
function version, spoken to asynchronously, with Lambda's timeout, crash and log rules.

Each worker is a child process in its own session, started in the function's task root
with the function's environment. Three pipes: requests on its stdin, replies on a
result pipe (its fd given on the command line), and its stdout and stderr together as
the function's log. Both ends exchange length-prefixed JSON frames (`python_worker`
describes them). Nothing a handler does reaches the event loop: a hang is cut by the
parent's timer, a crash is an EOF on the result pipe, and the log is read as it comes.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import itertools
import os
import secrets
import shutil
import signal
import struct
import tempfile
import time
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from emulator.triggers.runners import output
from emulator.triggers.runners.python_worker import MARKER
from emulator.triggers.targets import FunctionSpec, Invocation, InvokeResult, Outcome

_LENGTH = struct.Struct(">I")
#: Lambda's init phase may take 10 s before the invocation's own timeout starts.
INIT_SECONDS = 10.0
#: A reply frame is read only up to this size (Lambda's response limit is 6 MB; a larger
#: frame is a too-large response, not something to hold in memory).
MAX_FRAME_BYTES = 4 * output.MAX_RESPONSE_BYTES
#: How long to wait for the log of a phase once its result is in (it was written first).
LOG_WAIT_SECONDS = 2.0
#: How long to wait for the rest of a dead worker's log (a grandchild may hold the pipe).
EXIT_LOG_WAIT_SECONDS = 0.5


class WorkerDied(Exception):
    """The worker's result pipe closed: the process is gone (or going)."""


class FrameTooLarge(Exception):
    """The worker announced a reply larger than any the emulator reads."""

    def __init__(self, size: int) -> None:
        super().__init__(size)
        self.size = size


class PrepareError(Exception):
    """The function's code cannot be laid out (not a zip, folder missing)."""


@dataclass(frozen=True, slots=True)
class Launcher:
    """The runtime-specific part of a process target."""

    #: argv for a worker, given the fd number of its result pipe.
    command: Callable[[int], list[str]]
    #: Folder Lambda would call LAMBDA_RUNTIME_DIR (where the bootstrap lives).
    runtime_dir: str


class LogCollector:
    """Reads a worker's log pipe and cuts it at the markers the worker writes after each
    phase (`init`, then each request's sequence number)."""

    def __init__(self, reader: asyncio.StreamReader) -> None:
        self._reader = reader
        self._buffer = bytearray()
        self._dropped = 0
        self._done: dict[str, bytes] = {}
        self._waiters: dict[str, asyncio.Future[bytes]] = {}
        self._eof = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        try:
            while chunk := await self._reader.read(65536):
                self._buffer += chunk
                self._scan()
        except (OSError, ValueError):
            pass
        finally:
            self._eof.set()

    def _scan(self) -> None:
        while (at := self._buffer.find(MARKER)) >= 0:
            end = self._buffer.find(b"\n", at)
            if end < 0:
                break
            key = self._buffer[at + len(MARKER) : end].decode("ascii", "replace")
            segment = self._cut(at)
            del self._buffer[: end + 1 - at]
            waiter = self._waiters.pop(key, None)
            if waiter is not None and not waiter.done():
                waiter.set_result(segment)
            else:
                self._done[key] = segment
        excess = len(self._buffer) - output.MAX_LOG_BYTES
        if excess > 0:  # keep the end of a long log (a partial marker stays intact)
            del self._buffer[:excess]
            self._dropped += excess

    def _cut(self, at: int) -> bytes:
        segment = bytes(self._buffer[:at])
        del self._buffer[:at]
        if self._dropped:
            segment = f"[... {self._dropped} bytes of log not kept ...]\n".encode() + segment
            self._dropped = 0
        return segment

    def pending(self) -> str:
        """Everything read so far that no marker closed."""
        return self._cut(len(self._buffer)).decode("utf-8", "replace")

    async def take(self, key: str, timeout: float = LOG_WAIT_SECONDS) -> str:
        """The log of phase `key` (waits for its marker, then gives what is there)."""
        segment = self._done.pop(key, None)
        self._done.clear()  # a worker runs one phase at a time: anything else is stale
        if segment is None:
            waiter: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
            self._waiters[key] = waiter
            try:
                segment = await asyncio.wait_for(waiter, timeout)
            except TimeoutError:
                self._waiters.pop(key, None)
                return self.pending()
        return segment.decode("utf-8", "replace")

    async def rest(self, timeout: float = EXIT_LOG_WAIT_SECONDS) -> str:
        """What a dead worker wrote after its last marker."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._eof.wait(), timeout)
        return self.pending()

    def close(self) -> None:
        self._task.cancel()


class Worker:
    """One warm worker process."""

    def __init__(
        self,
        process: asyncio.subprocess.Process,
        results: asyncio.StreamReader,
        results_transport: asyncio.BaseTransport,
        logs: LogCollector,
    ) -> None:
        self.process = process
        self.results = results
        self.results_transport = results_transport
        self.logs = logs
        self.invocations = 0

    @classmethod
    async def spawn(cls, launcher: Launcher, task_root: str, env: dict[str, str]) -> Worker:
        read_fd, write_fd = os.pipe()
        try:
            process = await asyncio.create_subprocess_exec(
                *launcher.command(write_fd),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                cwd=task_root,
                env=env,
                pass_fds=(write_fd,),
                start_new_session=True,
            )
        except BaseException:
            os.close(read_fd)
            raise
        finally:
            os.close(write_fd)
        loop = asyncio.get_running_loop()
        results = asyncio.StreamReader(limit=1 << 30)
        transport, _ = await loop.connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(results), io.FileIO(read_fd, "rb")
        )
        assert process.stdout is not None
        return cls(process, results, transport, LogCollector(process.stdout))

    @property
    def alive(self) -> bool:
        return self.process.returncode is None and not self.results.at_eof()

    async def read_frame(self) -> dict[str, Any]:
        try:
            head = await self.results.readexactly(_LENGTH.size)
            size = _LENGTH.unpack(head)[0]
            if size > MAX_FRAME_BYTES:
                raise FrameTooLarge(size)
            body = await self.results.readexactly(size)
        except asyncio.IncompleteReadError:
            raise WorkerDied from None
        message: dict[str, Any] = orjson.loads(body)
        return message

    async def call(self, message: dict[str, Any]) -> dict[str, Any]:
        data = orjson.dumps(message)
        stdin = self.process.stdin
        assert stdin is not None
        try:
            stdin.write(_LENGTH.pack(len(data)) + data)
            await stdin.drain()
        except (BrokenPipeError, ConnectionResetError):
            raise WorkerDied from None
        return await self.read_frame()

    async def exit_code(self, timeout: float = 2.0) -> int | None:
        """The worker's exit status once it is gone (killed if it lingers)."""
        try:
            return await asyncio.wait_for(self.process.wait(), timeout)
        except TimeoutError:
            await self.kill()
            return self.process.returncode

    async def kill(self) -> None:
        """SIGKILL the worker's whole process group (whatever the handler started too)."""
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signal.SIGKILL)
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()
        with contextlib.suppress(Exception):
            await self.process.wait()
        self.results_transport.close()
        if self.process.stdin is not None:
            self.process.stdin.close()

    async def discard(self) -> None:
        """Kill the worker and stop reading its log: it is dropped for good."""
        await self.kill()
        self.logs.close()


def extract_zip(data: bytes) -> str:
    """Unzip a deployment package into a fresh folder; keeps the files' modes."""
    folder = tempfile.mkdtemp(prefix="emulator-function-")
    root = Path(folder).resolve()
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for member in archive.infolist():
                target = (root / member.filename).resolve()
                if not target.is_relative_to(root):
                    raise PrepareError(
                        f"the deployment package has an unsafe path: {member.filename}"
                    )
                archive.extract(member, root)
                mode = (member.external_attr >> 16) & 0o777
                if mode and not member.is_dir():
                    os.chmod(target, mode | 0o400)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError) as error:
        shutil.rmtree(folder, ignore_errors=True)
        raise PrepareError(f"the deployment package is not a valid zip file: {error}") from None
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return folder


def lambda_environment(
    spec: FunctionSpec, task_root: str, runtime_dir: str, log_stream: str
) -> dict[str, str]:
    """The emulator's environment, the function's `Environment.Variables`, then Lambda's
    reserved variables (which a function cannot override on AWS either)."""
    env = dict(os.environ)
    if "AWS_ACCESS_KEY_ID" not in env and "AWS_PROFILE" not in env:
        # Lambda gives every function its role's credentials; any key works here.
        env.update(AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_SESSION_TOKEN="test")
    env.setdefault("TZ", ":UTC")
    env.update(spec.environment)
    env.update(
        {
            "_HANDLER": spec.handler or "",
            "AWS_REGION": spec.region,
            "AWS_DEFAULT_REGION": spec.region,
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{spec.runtime or 'unknown'}",
            "AWS_LAMBDA_FUNCTION_NAME": spec.name,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
            "AWS_LAMBDA_FUNCTION_TIMEOUT": str(int(spec.timeout_seconds)),
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": log_stream,
            "LAMBDA_TASK_ROOT": task_root,
            "LAMBDA_RUNTIME_DIR": runtime_dir,
        }
    )
    env.pop("_X_AMZN_TRACE_ID", None)
    return env


def log_stream_name() -> str:
    """`2024/01/31/[$LATEST]<32 hex>`: one log stream per worker, as per sandbox."""
    return time.strftime("%Y/%m/%d/", time.gmtime()) + "[$LATEST]" + secrets.token_hex(16)


def trace_id() -> str:
    return (
        f"Root=1-{int(time.time()):08x}-{secrets.token_hex(12)};"
        f"Parent={secrets.token_hex(8)};Sampled=0"
    )


class ProcessTarget:
    """One function version run by warm worker processes: up to `max_workers` invocations
    at once, each on its own worker; a worker is reused until it times out or dies."""

    def __init__(self, spec: FunctionSpec, launcher: Launcher, *, max_workers: int = 8) -> None:
        self.spec = spec
        self.launcher = launcher
        self._slots = asyncio.Semaphore(max_workers)
        self._idle: list[Worker] = []
        self._busy: set[Worker] = set()
        self._seq = itertools.count(1)
        self._task_root: str | None = None
        self._temporary_root: str | None = None
        self._prepare_lock = asyncio.Lock()
        self._closed = False
        self._aborted = False
        self._drained = asyncio.Event()
        self._drained.set()

    @property
    def workers(self) -> int:
        """Worker processes alive now (idle and busy)."""
        return len(self._idle) + len(self._busy)

    async def invoke(self, invocation: Invocation) -> InvokeResult:
        if self._closed:
            return output.service_error(
                f"function {self.spec.name}: this version's target is closed"
            )
        try:
            task_root = await self._prepare()
        except PrepareError as error:
            return output.service_error(f"function {self.spec.name}: {error}")
        async with self._slots:
            if self._closed:
                return output.service_error(
                    f"function {self.spec.name}: this version's target is closed"
                )
            worker = None
            while self._idle:
                candidate = self._idle.pop()
                if candidate.alive:
                    worker = candidate
                    break
                await candidate.discard()
            init: tuple[str, float] | None = None
            if worker is None:
                started = await self._start_worker(task_root, invocation)
                if isinstance(started, InvokeResult):
                    return started
                worker, init = started
            self._busy.add(worker)
            self._drained.clear()
            reusable = False
            try:
                result, reusable = await self._run(worker, invocation, init)
            finally:
                self._busy.discard(worker)
                if reusable and not self._closed:
                    self._idle.append(worker)
                else:
                    await worker.discard()
                if not self._busy:
                    self._drained.set()
            if self._aborted and result.outcome is Outcome.FUNCTION_ERROR and not reusable:
                return output.service_error(f"function {self.spec.name}: the emulator is stopping")
            return result

    async def _prepare(self) -> str:
        if self._task_root is not None:
            return self._task_root
        async with self._prepare_lock:
            if self._task_root is None:
                if self.spec.code_dir is not None:
                    if not os.path.isdir(self.spec.code_dir):
                        raise PrepareError(f"the code folder {self.spec.code_dir} does not exist")
                    self._task_root = os.path.abspath(self.spec.code_dir)
                elif self.spec.code_zip is not None:
                    self._temporary_root = await asyncio.to_thread(extract_zip, self.spec.code_zip)
                    self._task_root = self._temporary_root
                else:
                    raise PrepareError("the function has no code (no zip file and no folder)")
            return self._task_root

    async def _start_worker(
        self, task_root: str, invocation: Invocation
    ) -> tuple[Worker, tuple[str, float]] | InvokeResult:
        """A new worker with its handler imported, and its init log and duration; or the
        invocation's result if the init phase failed."""
        spec = self.spec
        request_id = invocation.request_id
        env = lambda_environment(spec, task_root, self.launcher.runtime_dir, log_stream_name())
        started = time.perf_counter()
        try:
            worker = await Worker.spawn(self.launcher, task_root, env)
        except OSError as error:
            return output.service_error(f"function {spec.name}: cannot start the runtime: {error}")
        try:
            ready = await asyncio.wait_for(worker.read_frame(), INIT_SECONDS + spec.timeout_seconds)
        except TimeoutError:
            await worker.kill()
            logs = await worker.logs.rest()
            await worker.discard()
            logs += output.timeout_log_line(request_id, spec.timeout_seconds)
            init_ms = (time.perf_counter() - started) * 1000
            return output.function_error(
                output.timeout_document(request_id, spec.timeout_seconds),
                output.framed_log(
                    request_id,
                    "",
                    0.0,
                    spec.memory_mb,
                    before=logs,
                    init_ms=init_ms,
                    status="timeout",
                ),
                0.0,
            )
        except (WorkerDied, FrameTooLarge):
            code = await worker.exit_code()
            logs = await worker.logs.rest()
            await worker.discard()
            if self._aborted:
                return output.service_error(f"function {spec.name}: the emulator is stopping")
            document = output.exit_document(request_id, code)
            return output.function_error(
                document,
                output.framed_log(
                    request_id,
                    document["errorMessage"] + "\nRuntime.ExitError\n",
                    0.0,
                    spec.memory_mb,
                    before=logs,
                    init_ms=(time.perf_counter() - started) * 1000,
                    status="error",
                    error_type="Runtime.ExitError",
                ),
                0.0,
            )
        except BaseException:
            await worker.discard()
            raise
        init_ms = (time.perf_counter() - started) * 1000
        init_logs = await worker.logs.take("init")
        if ready.get("type") == "init_error":
            await worker.discard()
            document = ready.get("error") or {}
            return output.function_error(
                document,
                output.framed_log(
                    request_id,
                    "",
                    0.0,
                    spec.memory_mb,
                    before=init_logs,
                    init_ms=init_ms,
                    status="error",
                    error_type=str(document.get("errorType") or "Runtime.Unknown"),
                ),
                0.0,
            )
        return worker, (init_logs, init_ms)

    async def _run(
        self, worker: Worker, invocation: Invocation, init: tuple[str, float] | None
    ) -> tuple[InvokeResult, bool]:
        """One invocation on `worker`: the result, and whether the worker can be reused."""
        spec = self.spec
        request_id = invocation.request_id
        before, init_ms = init if init is not None else ("", None)
        seq = next(self._seq)
        message = {
            "type": "invoke",
            "seq": seq,
            "request_id": request_id,
            "payload": invocation.payload.decode("utf-8", "replace"),
            "deadline_ms": time.time() * 1000 + spec.timeout_seconds * 1000,
            "function_arn": spec.arn,
            "client_context": invocation.client_context,
            "trace_id": trace_id(),
        }
        started = time.perf_counter()
        try:
            reply = await asyncio.wait_for(worker.call(message), spec.timeout_seconds)
        except TimeoutError:
            duration = (time.perf_counter() - started) * 1000
            await worker.kill()
            logs = await worker.logs.rest()
            logs += output.timeout_log_line(request_id, spec.timeout_seconds)
            return (
                output.function_error(
                    output.timeout_document(request_id, spec.timeout_seconds),
                    output.framed_log(
                        request_id,
                        logs,
                        duration,
                        spec.memory_mb,
                        before=before,
                        init_ms=init_ms,
                        status="timeout",
                    ),
                    duration,
                ),
                False,
            )
        except FrameTooLarge as error:
            duration = (time.perf_counter() - started) * 1000
            await worker.kill()
            logs = await worker.logs.rest()
            return (
                output.function_error(
                    output.too_large_document(error.size),
                    output.framed_log(
                        request_id, logs, duration, spec.memory_mb, before=before, init_ms=init_ms
                    ),
                    duration,
                ),
                False,
            )
        except WorkerDied:
            duration = (time.perf_counter() - started) * 1000
            code = await worker.exit_code()
            logs = await worker.logs.rest()
            document = output.exit_document(request_id, code)
            logs += document["errorMessage"] + "\nRuntime.ExitError\n"
            return (
                output.function_error(
                    document,
                    output.framed_log(
                        request_id,
                        logs,
                        duration,
                        spec.memory_mb,
                        before=before,
                        init_ms=init_ms,
                        status="error",
                        error_type="Runtime.ExitError",
                    ),
                    duration,
                ),
                False,
            )
        duration = (time.perf_counter() - started) * 1000
        worker.invocations += 1
        logs = await worker.logs.take(str(seq))
        max_memory = int(reply.get("max_rss_kb") or 0) // 1024 or None
        body = str(reply.get("body", "null")).encode()
        if reply.get("ok") and len(body) > output.MAX_RESPONSE_BYTES:
            document = output.too_large_document(len(body))
            return (
                output.function_error(
                    document,
                    output.framed_log(
                        request_id,
                        logs,
                        duration,
                        spec.memory_mb,
                        max_memory,
                        before=before,
                        init_ms=init_ms,
                    ),
                    duration,
                ),
                True,
            )
        framed = output.framed_log(
            request_id,
            logs,
            duration,
            spec.memory_mb,
            max_memory,
            before=before,
            init_ms=init_ms,
        )
        if reply.get("ok"):
            return InvokeResult(Outcome.SUCCESS, body, logs=framed, duration_ms=duration), True
        return (
            InvokeResult(
                Outcome.FUNCTION_ERROR,
                body,
                function_error="Unhandled",
                logs=framed,
                duration_ms=duration,
            ),
            True,
        )

    async def close(self) -> None:
        """No new invocations; those running finish (their timeout bounds the wait), then
        every worker stops and an unzipped package is removed."""
        self._closed = True
        await self._stop_idle()
        await self._drained.wait()
        await self._stop_idle()
        self._remove_package()

    async def abort(self) -> None:
        """Stop every worker now (the emulator is stopping): running invocations end as
        service errors."""
        self._closed = True
        self._aborted = True
        for worker in list(self._busy):
            await worker.discard()
        await self._stop_idle()
        self._remove_package()

    async def _stop_idle(self) -> None:
        idle, self._idle = self._idle, []
        for worker in idle:
            await worker.discard()

    def _remove_package(self) -> None:
        if self._temporary_root is not None and not self._busy:
            shutil.rmtree(self._temporary_root, ignore_errors=True)
            self._temporary_root = None


def new_request_id() -> str:
    return str(uuid.uuid4())
