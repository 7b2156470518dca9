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

import argparse
import logging
import signal
import sys
from collections.abc import Sequence
from types import FrameType

from emulator import __version__
from emulator.config import Config, parse_config
from emulator.storage.lock import DataDirError

HISTORY_USAGE = """\
One item's history, or a table's changes between two instants, from a running
emulator's change log (GET /_emulator/history), as JSON lines: one stream record plus
eventSourceARN per change, oldest first. The table needs point-in-time recovery
(UpdateContinuousBackups) or the emulator --change-log.

examples:
  ddb-emulator history --table orders --key '{"pk": {"S": "order#1"}}'
  ddb-emulator history --table orders --from 2026-01-01T00:00:00Z --to 1767312000
"""

GRACEFUL_SHUTDOWN_SECONDS = 10
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

logger = logging.getLogger("emulator")


def storage_description(config: Config) -> str:
    if config.data_dir:
        return f"persistent in {config.data_dir}"
    return "in-memory"


def _instant(text: str) -> str:
    """Epoch seconds, or an ISO-8601 time (`Z` or an offset), as epoch seconds text."""
    try:
        return str(float(text))
    except ValueError:
        pass
    import datetime

    try:
        moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not epoch seconds or an ISO-8601 time: {text!r}"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return str(moment.timestamp())


def history_command(argv: Sequence[str]) -> int:
    """`ddb-emulator history ...`: print the change log of a running emulator."""
    import os
    import urllib.error
    import urllib.parse
    import urllib.request

    parser = argparse.ArgumentParser(
        prog="ddb-emulator history",
        description=HISTORY_USAGE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--endpoint-url",
        default=os.environ.get("AWS_ENDPOINT_URL", "http://127.0.0.1:8000"),
        help="the emulator [AWS_ENDPOINT_URL; default: http://127.0.0.1:8000]",
    )
    parser.add_argument("--table", required=True, help="table name")
    parser.add_argument("--key", help="the item's key as DynamoDB JSON (one item's history)")
    parser.add_argument("--from", dest="since", type=_instant, help="first instant (included)")
    parser.add_argument("--to", dest="until", type=_instant, help="last instant (included)")
    parser.add_argument("--region", help="the table's region (default: the emulator's)")
    options = parser.parse_args(argv)
    query = {"TableName": options.table}
    for name, value in (
        ("Key", options.key),
        ("From", options.since),
        ("To", options.until),
        ("Region", options.region),
    ):
        if value is not None:
            query[name] = value
    url = options.endpoint_url.rstrip("/") + "/_emulator/history?" + urllib.parse.urlencode(query)
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            while chunk := response.read(65536):
                sys.stdout.buffer.write(chunk)
    except urllib.error.HTTPError as error:
        print(f"ddb-emulator history: {error.read().decode(errors='replace')}", file=sys.stderr)
        return 1
    except OSError as error:
        print(
            f"ddb-emulator history: cannot reach {options.endpoint_url}: {error}",
            file=sys.stderr,
        )
        return 1
    sys.stdout.flush()
    return 0


def uvicorn_log_level(level: str) -> str:
    """uvicorn's start/stop chatter would drown the banner: at `info` it reports problems
    only; at `debug` everything."""
    return "warning" if level.lower() == "info" else level.lower()


def main(argv: Sequence[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["history"]:
        raise SystemExit(history_command(args[1:]))
    config = parse_config(args)
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
