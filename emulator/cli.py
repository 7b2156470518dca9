"""`python -m emulator` / `ddb-emulator`: parse flags, start uvicorn, stop gracefully.

- One banner line once the server listens (the real URL, also with `--port 0`), the
  storage mode and the region.
- `--log-level debug` adds one structured line per AWS request (logger
  `emulator.requests`) and uvicorn's own messages; at `info` uvicorn only reports problems.
- SIGTERM / SIGINT: uvicorn stops accepting connections, lets in-flight requests finish
  (up to 10 s), then the app's lifespan shutdown closes the storage engine (a `--data-dir`
  database is closed cleanly, its WAL checkpointed). The process then exits with status 0.
"""

from __future__ import annotations

import logging
import signal
import sys
from collections.abc import Sequence
from types import FrameType

from emulator import __version__
from emulator.config import Config, parse_config
from emulator.storage.lock import DataDirError

GRACEFUL_SHUTDOWN_SECONDS = 10
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

logger = logging.getLogger("emulator")


def storage_description(config: Config) -> str:
    if config.data_dir:
        return f"persistent in {config.data_dir}"
    return "in-memory"


def uvicorn_log_level(level: str) -> str:
    """uvicorn's start/stop chatter would drown the banner: at `info` it reports problems
    only; at `debug` everything."""
    return "warning" if level.lower() == "info" else level.lower()


def main(argv: Sequence[str] | None = None) -> None:
    config = parse_config(argv)
    logging.basicConfig(level=config.log_level.upper(), format=LOG_FORMAT, stream=sys.stderr)

    from emulator.serving import bind_socket, listening_url, make_server

    try:
        sock = bind_socket(config.host, config.port)
    except OSError as error:
        logger.error("cannot listen on %s:%d: %s", config.host, config.port, error.strerror)
        raise SystemExit(1) from None
    url = listening_url(sock, connectable=False)

    def banner() -> None:
        logger.info(
            "ddb-streams-emulator %s listening on %s (%s, region %s)",
            __version__,
            url,
            storage_description(config),
            config.region,
        )

    try:
        server = make_server(
            config,
            banner,
            uvicorn_log_level=uvicorn_log_level(config.log_level),
            graceful_seconds=GRACEFUL_SHUTDOWN_SECONDS,
        )
    except DataDirError as error:
        sock.close()
        logger.error("%s", error)
        raise SystemExit(1) from None

    # uvicorn catches SIGTERM / SIGINT itself, shuts down gracefully, then re-raises the
    # signal against the handlers it found. These make that re-raise a clean exit(0),
    # instead of death by SIGTERM or a KeyboardInterrupt traceback.
    received: list[str] = []

    def note_signal(signum: int, frame: FrameType | None) -> None:
        received.append(signal.Signals(signum).name)
        server.should_exit = True  # for a signal that comes before uvicorn's handlers

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, note_signal)
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
        # Stopped: a repeated signal during interpreter teardown (when Python would put
        # back the default, fatal disposition) must not turn a clean stop into a kill.
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, signal.SIG_IGN)
    if received:
        logger.info("stopped on %s", received[0])
    if not server.started:
        raise SystemExit(1)
