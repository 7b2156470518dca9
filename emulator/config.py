"""One Config: command-line flags, each also settable as an EMULATOR_* environment variable."""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields


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
    ttl_sweep_seconds: float = 60.0


_HELP = {
    "host": "address to listen on",
    "port": "port to listen on (0 picks a free one)",
    "data_dir": "keep tables and streams in a SQLite file in this folder (default: in memory)",
    "region": "region used when a request carries no SigV4 credential scope",
    "account_id": "the account id in every ARN",
    "log_level": "critical, error, warning, info or debug",
    "stream_shards": "open shards per stream",
    "shard_rollover_seconds": "close open shards and open children this often (0 = never)",
    "stream_retention_seconds": "trim stream records older than this",
    "ttl_sweep_seconds": "how often expired TTL items are deleted",
}


def env_name(field_name: str) -> str:
    return "EMULATOR_" + field_name.upper()


def parse_config(
    argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None
) -> Config:
    """Flags win over environment variables, which win over defaults."""
    environ = os.environ if environ is None else environ
    defaults = Config()
    parser = argparse.ArgumentParser(
        prog="ddb-emulator",
        description="Local DynamoDB + DynamoDB Streams emulator (AWS JSON protocol on one port).",
        epilog="Every flag can also be set as an EMULATOR_* environment variable, "
        "e.g. EMULATOR_PORT=8001.",
    )
    for f in fields(Config):
        default = getattr(defaults, f.name)
        env_value = environ.get(env_name(f.name))
        kind = type(default) if default is not None else str
        if env_value is not None:
            default = kind(env_value)
        parser.add_argument(
            "--" + f.name.replace("_", "-"),
            dest=f.name,
            type=kind,
            default=default,
            metavar=f.name.upper(),
            help=f"{_HELP[f.name]} [env {env_name(f.name)}; default {default}]",
        )
    args = parser.parse_args(argv)
    return Config(**vars(args))
