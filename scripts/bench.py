#!/usr/bin/env python3
"""PutItem throughput of the emulator over raw HTTP, next to a bare Starlette "ceiling".

What is measured
    For concurrency 1, 8 and 32, N PutItem requests (``--requests``, default 20000 per level),
    each with a unique key, are sent by that many workers.  Each worker owns one keep-alive
    HTTP/1.1 connection and sends one request at a time (no pipelining).  Request bytes are
    built before timing; the client is a minimal asyncio HTTP/1.1 client (status line, headers,
    Content-Length or chunked body), not httpx, so that the client costs as little CPU as it can.

    The same requests are sent to a bare Starlette app (one POST "/" route that reads the body
    and answers ``{}``) run by uvicorn with the emulator's settings (loop auto, http auto, access
    log off, log level warning).  That app is the ceiling: what Starlette + uvicorn can do on
    this machine with no DynamoDB work at all.

    With ``--stream`` a second table with a NEW_AND_OLD_IMAGES stream is measured at every
    level too, to show what writing stream records costs (and its ratio to the ceiling).

How to read the numbers
    req/s      completed requests per second of wall time for that level.
    p50 / p99  per-request latency (send to full response) in milliseconds.
    ratio      emulator req/s / ceiling req/s at the same concurrency: 1.0 means the emulator
               adds nothing over the framework; 0.5 means half of the framework's throughput.
    cpu        client cpu is this process's CPU time / wall time (1.00 = one full core); server
               cpu is the same for the server process (only when this script started it).
    The client (one process, one asyncio event loop) and the server share the machine's cores
    (2 on the reference machine), so absolute numbers are lower than on a bigger box; when the
    client cpu nears 1.00 the client, not the server, is the bottleneck, and ratios are then
    compressed towards 1.0.  When client + server cpu stays well under the core count, something
    else on the machine is taking CPU: numbers then vary from run to run.  Use ``--rounds 3``
    (or more) for ratios you mean to compare; each level's targets run back to back, so the
    ratios are steadier than the absolute req/s.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shlex
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import orjson

HOST = "127.0.0.1"
REPO = Path(__file__).resolve().parent.parent
DDB = "DynamoDB_20120810"
STREAMS = "DynamoDBStreams_20120810"
CONCURRENCY_LEVELS = (1, 8, 32)
PAYLOAD = "some payload text"

CEILING_SRC = """
import sys

import uvicorn
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route


async def root(request):
    await request.body()
    return Response(b"{}", media_type="application/x-amz-json-1.0")


app = Starlette(routes=[Route("/", root, methods=["POST"])])
uvicorn.run(
    app,
    host="127.0.0.1",
    port=int(sys.argv[1]),
    loop="auto",
    http="auto",
    access_log=False,
    log_level="warning",
)
"""


# --------------------------------------------------------------------------- raw HTTP client


class HttpError(Exception):
    """The server answered something this client cannot parse, or closed the connection."""


class RawConn:
    """One keep-alive HTTP/1.1 connection; one request in flight at a time."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def connect(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        sock = self.writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with suppress(OSError):
                await self.writer.wait_closed()
        self.reader = self.writer = None

    async def request(self, raw: bytes) -> tuple[int, bytes]:
        """Send pre-built request bytes; return (status, body)."""
        if self.writer is None:
            await self.connect()
        assert self.reader is not None and self.writer is not None
        self.writer.write(raw)
        reader = self.reader
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError as exc:
            await self.close()
            raise HttpError("connection closed before a response") from exc
        lines = head[:-4].split(b"\r\n")
        status_line = lines[0]
        if not status_line.startswith(b"HTTP/1."):
            raise HttpError(f"bad status line {status_line!r}")
        status = int(status_line[9:12])
        length = -1
        chunked = False
        close = status_line.startswith(b"HTTP/1.0")
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding":
                chunked = b"chunked" in value.lower()
            elif name == b"connection":
                close = value.strip().lower() == b"close"
        if chunked:
            body = await self._read_chunked(reader)
        elif length >= 0:
            body = await reader.readexactly(length)
        else:
            body = await reader.read()
            close = True
        if close:
            await self.close()
        return status, body

    @staticmethod
    async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
        parts: list[bytes] = []
        while True:
            size_line = await reader.readuntil(b"\r\n")
            size = int(size_line.split(b";", 1)[0].strip(), 16)
            if size == 0:
                while (await reader.readuntil(b"\r\n")) != b"\r\n":
                    pass
                return b"".join(parts)
            parts.append(await reader.readexactly(size))
            await reader.readexactly(2)


def build_request(port: int, target: str, body: bytes | dict[str, Any]) -> bytes:
    """HTTP/1.1 request bytes for one AWS JSON 1.0 call."""
    if not isinstance(body, bytes):
        body = orjson.dumps(body)
    head = (
        f"POST / HTTP/1.1\r\n"
        f"Host: {HOST}:{port}\r\n"
        f"X-Amz-Target: {target}\r\n"
        f"Content-Type: application/x-amz-json-1.0\r\n"
        f"Content-Length: {len(body)}\r\n"
        f"\r\n"
    )
    return head.encode() + body


class ApiError(Exception):
    def __init__(self, op: str, status: int, body: bytes) -> None:
        super().__init__(f"{op}: HTTP {status}: {body[:500]!r}")
        self.status = status
        self.body = body


async def call(conn: RawConn, target: str, payload: dict[str, Any]) -> dict[str, Any]:
    """One API call; raise ApiError unless the answer is 200."""
    status, body = await conn.request(build_request(conn.port, target, payload))
    if status != 200:
        raise ApiError(target, status, body)
    return orjson.loads(body) if body else {}


# --------------------------------------------------------------------------- servers


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def python_exe() -> str:
    venv = REPO / ".venv" / "bin" / "python"
    return str(venv) if venv.exists() else sys.executable


async def http_get_status(port: int) -> int | None:
    """Status of GET / on 127.0.0.1:port, or None when nothing answers."""
    conn = RawConn(HOST, port)
    try:
        await asyncio.wait_for(conn.connect(), 1.0)
        req = f"GET / HTTP/1.1\r\nHost: {HOST}:{port}\r\nConnection: close\r\n\r\n".encode()
        status, _ = await asyncio.wait_for(conn.request(req), 2.0)
        return status
    except (TimeoutError, OSError, HttpError, asyncio.IncompleteReadError):
        return None
    finally:
        try:
            await conn.close()
        except asyncio.CancelledError:
            # Closing a connection whose request timed out (a slow first answer, e.g.
            # under valgrind) can raise this; a real cancellation is raised on.
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise


async def wait_ready(
    port: int, proc: subprocess.Popen[bytes] | None, need_200: bool, timeout: float = 30.0
) -> None:
    """Poll GET / until the server answers (200 when need_200), bounded by timeout."""
    deadline = time.monotonic() + timeout
    last: int | None = None
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server on port {port} exited with code {proc.returncode}")
        last = await http_get_status(port)
        if last is not None and (last == 200 or not need_200):
            return
        await asyncio.sleep(0.1)
    raise RuntimeError(f"server on port {port} not ready after {timeout:.0f}s (last GET /: {last})")


@dataclass
class Server:
    name: str
    port: int
    proc: subprocess.Popen[bytes] | None
    log: IO[bytes] | None

    def cpu_seconds(self) -> float | None:
        """utime + stime of the server process, when we started it (Linux /proc)."""
        if self.proc is None:
            return None
        try:
            fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def log_tail(self, n: int = 2000) -> str:
        if self.log is None:
            return ""
        self.log.flush()
        self.log.seek(0)
        return self.log.read().decode(errors="replace")[-n:]


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


@contextmanager
def spawned(argv: Sequence[str]) -> Iterator[tuple[subprocess.Popen[bytes], IO[bytes]]]:
    """Start a subprocess with its output in a temp file; always stop it."""
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(
            list(argv), cwd=REPO, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            yield proc, log
        finally:
            _stop(proc)


@contextmanager
def emulator_server(url: str | None, extra_args: str = "") -> Iterator[Server]:
    """The emulator at --url, or one started here as `python -m emulator --port <free>`."""
    if url:
        host_port = url.split("://", 1)[-1].split("/", 1)[0]
        host, _, given = host_port.rpartition(":")
        if host not in (HOST, "localhost") or not given.isdigit():
            raise SystemExit(f"--url must be http://{HOST}:PORT, got {url}")
        yield Server("emulator", int(given), None, None)
        return
    port = free_port()
    argv = [python_exe(), "-m", "emulator", "--port", str(port), *shlex.split(extra_args)]
    with spawned(argv) as (proc, log):
        yield Server("emulator", port, proc, log)


@contextmanager
def ceiling_server() -> Iterator[Server]:
    port = free_port()
    with spawned([python_exe(), "-c", CEILING_SRC, str(port)]) as (proc, log):
        yield Server("ceiling", port, proc, log)


async def ready(server: Server, need_200: bool) -> None:
    try:
        await wait_ready(server.port, server.proc, need_200)
    except RuntimeError as exc:
        tail = server.log_tail()
        raise SystemExit(f"{server.name}: {exc}\n--- server output ---\n{tail}") from exc


# --------------------------------------------------------------------------- tables


def unique_table(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


async def create_table(port: int, name: str, stream: bool) -> dict[str, Any]:
    """CreateTable (pk HASH, S, on demand), wait until ACTIVE; return the TableDescription."""
    conn = RawConn(HOST, port)
    try:
        payload: dict[str, Any] = {
            "TableName": name,
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
            "BillingMode": "PAY_PER_REQUEST",
        }
        if stream:
            payload["StreamSpecification"] = {
                "StreamEnabled": True,
                "StreamViewType": "NEW_AND_OLD_IMAGES",
            }
        desc: dict[str, Any] = (await call(conn, f"{DDB}.CreateTable", payload))["TableDescription"]
        for _ in range(200):
            if desc.get("TableStatus", "ACTIVE") == "ACTIVE":
                return desc
            await asyncio.sleep(0.05)
            desc = (await call(conn, f"{DDB}.DescribeTable", {"TableName": name}))["Table"]
        raise RuntimeError(f"table {name} not ACTIVE after 10s")
    finally:
        await conn.close()


async def delete_table(port: int, name: str) -> None:
    conn = RawConn(HOST, port)
    try:
        await call(conn, f"{DDB}.DeleteTable", {"TableName": name})
    except (ApiError, OSError, HttpError):
        pass
    finally:
        await conn.close()


def put_item_bodies(table: str, prefix: str, n: int, version: int = 0) -> list[bytes]:
    """n PutItem bodies, each with its own key (another `version` of the same keys has
    other values: putting it over the first is a change)."""
    return [
        orjson.dumps(
            {
                "TableName": table,
                "Item": {
                    "pk": {"S": f"{prefix}{i:07d}"},
                    "v": {"N": str(version * 10_000_000 + i)},
                    "s": {"S": PAYLOAD},
                },
            }
        )
        for i in range(n)
    ]


def put_item_requests(port: int, table: str, prefix: str, n: int, version: int = 0) -> list[bytes]:
    target = f"{DDB}.PutItem"
    return [build_request(port, target, b) for b in put_item_bodies(table, prefix, n, version)]


# --------------------------------------------------------------------------- load


@dataclass
class Result:
    target: str
    concurrency: int
    requests: int
    errors: int
    seconds: float
    latencies_ns: list[int]
    client_cpu: float
    server_cpu: float | None
    first_error: str = ""

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else 0.0

    def pct_ms(self, q: float) -> float:
        lat = self.latencies_ns
        if not lat:
            return float("nan")
        return lat[min(len(lat) - 1, int(q * len(lat)))] / 1e6


async def run_load(
    port: int,
    requests: list[bytes],
    concurrency: int,
    target: str = "",
    server: Server | None = None,
) -> Result:
    """Send every request once, `concurrency` workers, each on its own keep-alive connection."""
    conns = [RawConn(HOST, port) for _ in range(concurrency)]
    await asyncio.gather(*(c.connect() for c in conns))
    it = iter(requests)
    latencies: list[int] = []
    errors = 0
    first_error = ""
    clock = time.perf_counter_ns

    async def worker(conn: RawConn) -> None:
        nonlocal errors, first_error
        append = latencies.append
        for raw in it:
            t0 = clock()
            status, body = await conn.request(raw)
            append(clock() - t0)
            if status != 200:
                errors += 1
                if not first_error:
                    first_error = f"HTTP {status}: {body[:300]!r}"

    srv0 = server.cpu_seconds() if server else None
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    try:
        await asyncio.gather(*(worker(c) for c in conns))
    finally:
        seconds = time.perf_counter() - t0
        cpu = time.process_time() - cpu0
        srv1 = server.cpu_seconds() if server else None
        await asyncio.gather(*(c.close() for c in conns))
    latencies.sort()
    server_cpu = (srv1 - srv0) / seconds if srv0 is not None and srv1 is not None else None
    return Result(
        target,
        concurrency,
        len(requests),
        errors,
        seconds,
        latencies,
        cpu / seconds,
        server_cpu,
        first_error,
    )


def client_note() -> str:
    return (
        f"client: 1 process, 1 asyncio event loop ({type(asyncio.get_running_loop()).__name__}), "
        f"one keep-alive HTTP/1.1 connection per worker, no pipelining; "
        f"client and server share {os.cpu_count()} CPU cores on {HOST}"
    )


HEADER = (
    f"{'target':<16}{'conc':>5}{'requests':>10}{'errors':>8}{'req/s':>10}"
    f"{'p50 ms':>9}{'p99 ms':>9}{'client cpu':>12}{'server cpu':>12}"
)


def fmt(r: Result) -> str:
    srv = f"{r.server_cpu:.2f}" if r.server_cpu is not None else "n/a"
    line = (
        f"{r.target:<16}{r.concurrency:>5}{r.requests:>10}{r.errors:>8}{r.rps:>10.0f}"
        f"{r.pct_ms(0.50):>9.2f}{r.pct_ms(0.99):>9.2f}{r.client_cpu:>12.2f}{srv:>12}"
    )
    if r.first_error:
        line += f"\n    first error: {r.first_error}"
    return line


# --------------------------------------------------------------------------- main


async def bench(args: argparse.Namespace) -> int:
    with ceiling_server() as ceiling:
        await ready(ceiling, need_200=False)
        if args.ceiling_only:
            print(client_note())
            print(f"ceiling only: bare Starlette + uvicorn on port {ceiling.port}")
            print(f"{args.requests} PutItem requests per concurrency level, unique keys\n")
            await measure(args, ceiling, None)
            return 0
        with emulator_server(args.url, args.emulator_args) as emu:
            await ready(emu, need_200=True)
            print(client_note())
            how = " (given --url)" if args.url else " (started here)"
            print(f"emulator on port {emu.port}{how}")
            print(f"ceiling: bare Starlette + uvicorn on port {ceiling.port}")
            print(f"{args.requests} PutItem requests per concurrency level, unique keys\n")
            return await measure(args, ceiling, emu)


async def measure(args: argparse.Namespace, ceiling: Server, emu: Server | None) -> int:
    """Warm up, then each concurrency level: ceiling, emulator (and the stream table at 8)."""
    levels: list[int] = args.concurrency
    table = unique_table("bench")
    stream_table = unique_table("bench_stream")
    streams = args.stream and emu is not None
    if emu is not None:
        await create_table(emu.port, table, stream=False)
        if streams:
            await create_table(emu.port, stream_table, stream=True)
    try:
        if args.warmup:
            reqs = put_item_requests(ceiling.port, table, "w", args.warmup)
            await run_load(ceiling.port, reqs, 8)
            if emu is not None:
                reqs = put_item_requests(emu.port, table, "w", args.warmup)
                warm = await run_load(emu.port, reqs, 8)
                if warm.errors:
                    print(f"warm-up errors on emulator: {warm.errors}; first: {warm.first_error}")
            if streams and emu is not None:
                reqs = put_item_requests(emu.port, stream_table, "w", args.warmup)
                await run_load(emu.port, reqs, 8)

        print(HEADER)
        results: dict[tuple[str, int], list[Result]] = {}
        runs: list[tuple[str, Server, str, int]] = []
        for c in levels:
            runs.append(("ceiling", ceiling, table, c))
            if emu is not None:
                runs.append(("emulator", emu, table, c))
                if streams:
                    runs.append(("emulator+stream", emu, stream_table, c))
        for rnd in range(args.rounds):
            for name, server, tbl, c in runs:
                reqs = put_item_requests(server.port, tbl, f"r{rnd}c{c}-", args.requests)
                r = await run_load(server.port, reqs, c, name, server)
                results.setdefault((name, c), []).append(r)
                del reqs
                print(fmt(r), flush=True)

        def ratios(a: str, b: str, c: int) -> str:
            # Each round's ratio compares two runs made back to back; with several rounds the
            # median of those is printed, then every round's.
            each = [x.rps / y.rps for x, y in zip(results[a, c], results[b, c], strict=True)]
            text = f"{statistics.median(each):.2f}"
            if len(each) > 1:
                text += "  (rounds: " + " ".join(f"{v:.2f}" for v in each) + ")"
            return text

        def cpu_ratios(a: str, b: str, c: int) -> str | None:
            # Requests per server CPU-second, a over b: the throughput ratio of a saturated
            # server, and much steadier than req/s on a machine whose speed wanders.
            def per_request(r: Result) -> float | None:
                if r.server_cpu is None or not r.requests:
                    return None
                return r.server_cpu * r.seconds / r.requests

            pairs = [
                (per_request(x), per_request(y))
                for x, y in zip(results[a, c], results[b, c], strict=True)
            ]
            each = [y / x for x, y in pairs if x and y]
            if not each:
                return None
            text = f"{statistics.median(each):.2f}"
            if len(each) > 1:
                text += "  (rounds: " + " ".join(f"{v:.2f}" for v in each) + ")"
            return text

        def report(title: str, a: str, b: str, c: int, indent: str = "") -> None:
            print(f"{indent}{title}: {ratios(a, b, c)}")
            by_cpu = cpu_ratios(a, b, c)
            if by_cpu is not None:
                print(f"{indent}  per server CPU-second: {by_cpu}")

        if emu is not None:
            print("\nemulator / ceiling (req/s):")
            for c in levels:
                report(f"concurrency {c:>2}", "emulator", "ceiling", c, indent="  ")
        if streams:
            print("\nemulator with a stream / ceiling (req/s):")
            for c in levels:
                report(f"concurrency {c:>2}", "emulator+stream", "ceiling", c, indent="  ")
            print("\nstreams / no-stream (req/s):")
            for c in levels:
                report(f"concurrency {c:>2}", "emulator+stream", "emulator", c, indent="  ")
        errors = sum(r.errors for rs in results.values() for r in rs)
        if errors:
            print(f"\nWARNING: {errors} requests did not answer 200")
            return 1
        return 0
    finally:
        if emu is not None and emu.proc is None:
            await delete_table(emu.port, table)
            if streams:
                await delete_table(emu.port, stream_table)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description="PutItem throughput of the emulator vs a bare Starlette+uvicorn ceiling.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__,
    )
    p.add_argument(
        "--url",
        help="an emulator already running on 127.0.0.1, e.g. http://127.0.0.1:8000 "
        "(default: start `python -m emulator --port <free>` and stop it at the end)",
    )
    p.add_argument(
        "--requests", type=int, default=20000, help="requests per concurrency level (default 20000)"
    )
    p.add_argument(
        "--concurrency",
        type=int,
        nargs="+",
        default=list(CONCURRENCY_LEVELS),
        help="concurrency levels (default: 1 8 32)",
    )
    p.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="repeat every level this many times (default 1); ratios are then the median "
        "of the per-round ratios, each from two runs made back to back",
    )
    p.add_argument(
        "--warmup", type=int, default=1000, help="warm-up requests per target (default 1000)"
    )
    p.add_argument(
        "--stream",
        action="store_true",
        help="also measure a NEW_AND_OLD_IMAGES stream table at every level",
    )
    p.add_argument(
        "--emulator-args",
        default="",
        help="extra arguments for the emulator this script starts, e.g. '--log-level warning'",
    )
    p.add_argument(
        "--ceiling-only",
        action="store_true",
        help="measure only the bare Starlette ceiling (no emulator needed)",
    )
    args = p.parse_args(argv)
    if args.requests < 1 or args.rounds < 1:
        p.error("--requests and --rounds must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    return asyncio.run(bench(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
