"""One Config: command-line flags, each also settable as an EMULATOR_* environment variable."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any


@dataclass(frozen=True, slots=True)
class Config:
    host: str = "127.0.0.1"
    port: int = 8000
    data_dir: str | None = None
    region: str = "us-east-1"
    account_id: str = "000000000000"
    log_level: str = "info"
    stream_shards: int = 1
    shard_rollover_seconds: float = 14400.0
    stream_retention_seconds: float = 86400.0
    iterator_ttl_seconds: float = 900.0
    ttl_sweep_seconds: float = 60.0
    kinesis_endpoint: str | None = None


_HELP = {
    "host": "address to listen on",
    "port": "port to listen on (0 picks a free one)",
    "data_dir": "keep tables and streams in a SQLite file in this folder; without it, "
    "everything is in memory",
    "region": "region used when a request carries no SigV4 credential scope",
    "account_id": "the account id in every ARN",
    "log_level": "critical, error, warning, info or debug",
    "stream_shards": "open shards per stream",
    "shard_rollover_seconds": "close open shards and open children this often (0 = never)",
    "stream_retention_seconds": "trim stream records older than this",
    "iterator_ttl_seconds": "shard iterators expire this long after they were issued",
    "ttl_sweep_seconds": "how often expired TTL items are deleted",
    "kinesis_endpoint": "send tables' Kinesis destination records to this Kinesis endpoint "
    "(e.g. http://127.0.0.1:4567) instead of the built-in Kinesis streams",
}


_METAVAR = {
    "host": "ADDRESS",
    "port": "PORT",
    "data_dir": "DIR",
    "region": "REGION",
    "account_id": "ID",
    "log_level": "LEVEL",
    "stream_shards": "N",
    "shard_rollover_seconds": "SECONDS",
    "stream_retention_seconds": "SECONDS",
    "iterator_ttl_seconds": "SECONDS",
    "ttl_sweep_seconds": "SECONDS",
    "kinesis_endpoint": "URL",
}


def env_name(field_name: str) -> str:
    return "EMULATOR_" + field_name.upper()


_EPILOG = """\
Every flag can also be set as an environment variable: EMULATOR_ and the flag's name in
upper case, e.g. EMULATOR_PORT=8001 or EMULATOR_DATA_DIR=/data. A flag wins over the
environment.

examples:
  ddb-emulator                            in memory on http://127.0.0.1:8000
  ddb-emulator --port 0 --data-dir ./db   persistent, on a free port (see the banner)
  ddb-emulator --log-level debug          one log line per AWS request

Point a client at it with --endpoint-url / endpoint_url, or AWS_ENDPOINT_URL=<url>.
Admin: GET /_emulator/health, POST /_emulator/reset, GET|POST /_emulator/clock.
"""

LOG_LEVELS = ("critical", "error", "warning", "info", "debug")


def parse_config(
    argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None
) -> Config:
    """Flags win over environment variables, which win over defaults."""
    environ = os.environ if environ is None else environ
    defaults = Config()
    parser = argparse.ArgumentParser(
        prog="ddb-emulator",
        description="A local DynamoDB + DynamoDB Streams emulator: both AWS JSON APIs on "
        "one HTTP port.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    for f in fields(Config):
        default = getattr(defaults, f.name)
        kind: Callable[[str], Any] = type(default) if default is not None else str
        if f.name == "log_level":
            kind = str.lower
        env_value = environ.get(env_name(f.name))
        if env_value is not None:
            try:
                default = kind(env_value)
            except ValueError:
                parser.error(f"{env_name(f.name)}: invalid value {env_value!r}")
        parser.add_argument(
            "--" + f.name.replace("_", "-"),
            dest=f.name,
            type=kind,
            default=default,
            choices=LOG_LEVELS if f.name == "log_level" else None,
            metavar=_METAVAR.get(f.name, f.name.upper()),
            help=f"{_HELP[f.name]} [{env_name(f.name)}; default: "
            f"{'none' if default is None else default}]",
        )
    args = parser.parse_args(argv)
    if args.log_level not in LOG_LEVELS:
        parser.error(f"{env_name('log_level')}: invalid value {args.log_level!r}")
    return Config(**vars(args))
