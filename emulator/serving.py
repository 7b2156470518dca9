"""Running the emulator under uvicorn: the CLI's foreground server and `emulator.serve()`,
the in-process server in a background thread for scripts and test suites.

Both bind the listening socket themselves before uvicorn starts, so that port 0 works
(the real port is known before the first request) and a port already in use raises an
ordinary `OSError` in the caller instead of uvicorn's `sys.exit(1)`.

The module is called `serving`, not `serve`: a submodule named like the package's
`serve()` function would replace that function on the package as soon as it is imported.
"""

from __future__ import annotations

import dataclasses
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import uvicorn

from emulator.config import Config
from emulator.http_protocol import protocol_options
from emulator.server import EmulatorApp, create_app

if TYPE_CHECKING:
    from emulator.triggers.runners import TargetRegistry

START_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 15.0

#: URL -> function registry of each `serve()` running in this process (the pytest
#: plugin registers callables through it).
_running: dict[str, TargetRegistry] = {}
_running_lock = threading.Lock()


def function_registry(url: str) -> TargetRegistry | None:
    """The function registry of the emulator `serve()` runs at `url` in this process, or
    None (another process, or stopped)."""
    with _running_lock:
        return _running.get(url.rstrip("/"))


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket on host:port (port 0: a free one)."""
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(2048)
    except BaseException:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def listening_url(sock: socket.socket, *, connectable: bool) -> str:
    """`http://host:port` of a bound socket. With `connectable`, a wildcard address is
    replaced by the loopback one, so that the URL can be handed to a client."""
    host, port = sock.getsockname()[:2]
    if connectable and host in ("0.0.0.0", "::"):
        host = "127.0.0.1" if host == "0.0.0.0" else "::1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


class EmulatorServer(uvicorn.Server):
    """uvicorn's Server, calling `on_started` once the socket listens and the app's
    lifespan has started (storage open, background tasks running)."""

    def __init__(
        self, config: uvicorn.Config, on_started: Callable[[], None], app: EmulatorApp
    ) -> None:
        super().__init__(config)
        self._on_started = on_started
        self.app = app

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started and not self.should_exit:
            self._on_started()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        # Open console event streams never finish by themselves: end them first, or
        # uvicorn would wait for them until its graceful-shutdown timeout.
        self.app.console.close()
        await super().shutdown(sockets=sockets)


def make_server(
    config: Config,
    on_started: Callable[[], None],
    *,
    uvicorn_log_level: str | None,
    graceful_seconds: int,
    callables: Mapping[str, Callable[..., Any]] | None = None,
) -> EmulatorServer:
    """The app for `config` (storage opened now) under a uvicorn server that leaves the
    process's logging configuration alone (`log_config=None`); `callables` run as the
    functions of those names."""
    app = create_app(config)
    for name, fn in (callables or {}).items():
        app.backend.targets.register_callable(name, fn)
    return EmulatorServer(
        uvicorn.Config(
            app,
            log_config=None,
            log_level=uvicorn_log_level,
            access_log=False,
            lifespan="on",
            ws="none",  # no websockets: skips importing them, which start-up time pays for
            # No X-Forwarded-* rewriting: nothing here reads the client address, and the
            # middleware costs every request.
            proxy_headers=False,
            timeout_graceful_shutdown=graceful_seconds,
            **protocol_options(config, app),
        ),
        on_started,
        app,
    )


def split_functions(
    functions: Mapping[str, Callable[..., Any] | str] | None,
) -> tuple[dict[str, Callable[..., Any]], tuple[tuple[str, str], ...]]:
    """`serve(functions=...)`: callables, and endpoint URLs (strings)."""
    callables: dict[str, Callable[..., Any]] = {}
    urls: list[tuple[str, str]] = []
    for name, value in (functions or {}).items():
        if isinstance(value, str):
            urls.append((name, value))
        elif callable(value):
            callables[name] = value
        else:
            raise TypeError(f"function {name!r}: expected a callable or an endpoint URL")
    return callables, tuple(urls)


@contextmanager
def serve(
    port: int = 0,
    *,
    host: str = "127.0.0.1",
    config: Config | None = None,
    functions: Mapping[str, Callable[..., Any] | str] | None = None,
    **options: Any,
) -> Iterator[str]:
    """Run an emulator in a background thread of this process; yield its URL.

    ```python
    with emulator.serve(port=0) as url:  # e.g. "http://127.0.0.1:43117"
        boto3.client("dynamodb", endpoint_url=url, ...)
    ```

    `options` are any `Config` fields (`data_dir=...`, `region=...`, `stream_shards=...`);
    `config` gives a whole Config to start from. In memory unless `data_dir` is given.

    `functions` maps Lambda function names to what runs them instead of their code: a
    callable `fn(event, context)` (plain or async) runs in this process; a string is an
    Invoke API endpoint URL, like `--function NAME=URL`.

    On exit the server stops accepting connections, lets in-flight requests finish,
    closes the storage engine and its thread ends. The process's logging configuration
    and signal handlers are not touched.
    """
    base = config if config is not None else Config()
    callables, urls = split_functions(functions)
    if urls:
        options["functions"] = tuple(
            dict((*options.get("functions", base.functions), *urls)).items()
        )
    settings = dataclasses.replace(base, host=host, port=port, **options)
    sock = bind_socket(settings.host, settings.port)
    started = threading.Event()
    try:
        server = make_server(
            settings, started.set, uvicorn_log_level=None, graceful_seconds=5, callables=callables
        )
    except BaseException:
        sock.close()
        raise
    url = listening_url(sock, connectable=True)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name=f"ddb-emulator {url}", daemon=True
    )
    with _running_lock:
        _running[url] = server.app.backend.targets
    try:
        thread.start()
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not started.wait(0.01):
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the in-process emulator on {url} did not start")
        yield url
    finally:
        with _running_lock:
            _running.pop(url, None)
        server.should_exit = True
        thread.join(STOP_TIMEOUT_SECONDS)
        sock.close()
        if thread.is_alive():  # pragma: no cover - only if a request hangs
            server.force_exit = True
            thread.join(STOP_TIMEOUT_SECONDS)
