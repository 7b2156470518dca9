"""One Config: command-line flags, each also settable as an EMULATOR_* environment variable."""

from __future__ import annotations

import argparse
import math
import os
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

from emulator import __version__
from emulator.auth import parse_credentials


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
    #: `--function NAME=URL`: functions invoked at an Invoke API endpoint, by name.
    functions: tuple[tuple[str, str], ...] = ()
    function_python: str | None = None
    destination_endpoint: str | None = None
    kinesis_endpoint: str | None = None
    client_timeout_seconds: float = 10.0
    auth: str = "none"
    credentials: str = "test:test"
    admin: str = "on"
    admin_token: str | None = None
    admin_hosts: str = ""
    #: Keep the durable change log of every table (not only those with PITR on).
    change_log: bool = False
    change_log_retention_days: float = 35.0
    export_dir: str | None = None
    replication_lag_ms: float = 0.0
    #: CREATING / UPDATING / DELETING last this long (0: tables change status at once).
    table_delay_ms: float = 0.0

    def __post_init__(self) -> None:
        problem = next(iter(self.problems()), None)
        if problem is not None:
            raise ValueError(problem)

    def problems(self) -> list[str]:
        """What is out of range, worded with the flag's name (empty when all is well)."""
        found = []
        for name, (low, high, open_low) in _RANGES.items():
            value = getattr(self, name)
            flag = "--" + name.replace("_", "-")
            if isinstance(value, float) and not math.isfinite(value):
                found.append(f"{flag} must be a finite number, not {value}")
            elif value < low or (open_low and value == low) or value > high:
                low_text = ("greater than " if open_low else "at least ") + _number(low)
                found.append(
                    f"{flag} must be {low_text} and at most {_number(high)}, not {_number(value)}"
                )
        if self.admin not in ("on", "off"):
            found.append(f"--admin must be on or off, not {self.admin!r}")
        if self.auth not in ("none", "sigv4"):
            found.append(f"--auth must be none or sigv4, not {self.auth!r}")
        try:
            parse_credentials(self.credentials)
        except ValueError as error:
            found.append(str(error))
        return found


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


#: Numeric fields: (lowest, highest, whether the lowest itself is excluded).
_TEN_YEARS = 10 * 365 * 86400.0
_RANGES: dict[str, tuple[float, float, bool]] = {
    "port": (0, 65535, False),
    "stream_shards": (1, 1000, False),
    "shard_rollover_seconds": (0, _TEN_YEARS, False),  # 0 = never
    "stream_retention_seconds": (0, _TEN_YEARS, True),
    "iterator_ttl_seconds": (0, _TEN_YEARS, True),
    "ttl_sweep_seconds": (0, _TEN_YEARS, True),
    "client_timeout_seconds": (0, 3600, True),
    "change_log_retention_days": (0, 3650, True),
    "replication_lag_ms": (0, 86400000.0, False),
    "table_delay_ms": (0, 86400000.0, False),
}


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
    "functions": "run Lambda function NAME at the Invoke API endpoint URL (another emulator, "
    "`sam local start-lambda`, a Runtime Interface Emulator container) instead of its code; "
    "repeatable, comma-separated in the environment",
    "function_python": "the Python interpreter that runs python3.x functions "
    "(default: the emulator's own)",
    "destination_endpoint": "where triggers send failure documents to their SQS queue, SNS "
    "topic or S3 bucket (an endpoint serving those APIs, e.g. moto's server); without it "
    "they are only kept for GET /_emulator/triggers/UUID/failures",
    "kinesis_endpoint": "send tables' Kinesis destination records to this Kinesis endpoint "
    "(e.g. http://127.0.0.1:4567) instead of the built-in Kinesis streams",
    "client_timeout_seconds": "close a connection whose client sends nothing, or stops "
    "halfway through a request, for this long",
    "auth": "none: any or no credentials work; sigv4: every AWS call must carry a valid "
    "Signature Version 4 signature by one of --credentials",
    "credentials": "the access keys and secrets --auth sigv4 accepts (comma-separated)",
    "admin": "the admin API under /_emulator/ (reset, clock, ...): on or off; the health "
    "probe stays on",
    "admin_token": "require 'Authorization: Bearer TOKEN' on admin requests",
    "admin_hosts": "more Host names the admin API answers (comma-separated; * = any); "
    "IP addresses, localhost and single-label names always work",
    "change_log": "keep the durable change log (item history, GET /_emulator/history) of "
    "every table, not only of tables with point-in-time recovery enabled",
    "change_log_retention_days": "how long the change log keeps a change of a table "
    "without point-in-time recovery (with it: its RecoveryPeriodInDays)",
    "export_dir": "the local folder standing in for S3: ExportTableToPointInTime writes to "
    "DIR/<S3Bucket>/<S3Prefix>/AWSDynamoDB/<ExportId>/ (default: DATA_DIR/exports, or a "
    "temporary folder in memory mode)",
    "replication_lag_ms": "global tables: a write reaches the other replicas this long after "
    "it was committed (0 = as soon as it is committed)",
    "table_delay_ms": "CreateTable, UpdateTable and DeleteTable leave the table CREATING, "
    "UPDATING or DELETING this long on the emulator's clock (a GSI that UpdateTable creates "
    "then backfills as long again) before it is ACTIVE or gone; 0 = at once",
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
    "functions": "NAME=URL",
    "function_python": "PATH",
    "destination_endpoint": "URL",
    "kinesis_endpoint": "URL",
    "client_timeout_seconds": "SECONDS",
    "auth": "none|sigv4",
    "credentials": "AKID:SECRET,...",
    "admin": "on|off",
    "admin_token": "TOKEN",
    "admin_hosts": "NAMES",
    "change_log_retention_days": "DAYS",
    "export_dir": "DIR",
    "replication_lag_ms": "MS",
    "table_delay_ms": "MS",
}

#: Flags whose name is not the field's (a repeatable flag is singular).
_FLAG = {"functions": "--function"}


def env_name(field_name: str) -> str:
    return "EMULATOR_" + field_name.upper()


def flag_name(field_name: str) -> str:
    return _FLAG.get(field_name, "--" + field_name.replace("_", "-"))


def check_function_url(url: str) -> str:
    """`url` if it can be a function's Invoke API endpoint, else ValueError saying why."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {url!r}")
    try:
        parts.port  # noqa: B018 - raises for a bad port
    except ValueError:
        raise ValueError(f"bad port in {url!r}") from None
    return url


def parse_function(value: str) -> tuple[str, str]:
    """`NAME=URL` -> (name, url); argparse's type for `--function`."""
    name, sep, url = value.partition("=")
    name, url = name.strip(), url.strip()
    if not sep or not name or not url:
        raise argparse.ArgumentTypeError(f"expected NAME=URL, got {value!r}")
    try:
        check_function_url(url)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"{name}: {error}") from None
    return name, url


_EPILOG = """\
Every flag can also be set as an environment variable: EMULATOR_ and the flag's name in
upper case, e.g. EMULATOR_PORT=8001 or EMULATOR_DATA_DIR=/data. A flag wins over the
environment.

examples:
  ddb-emulator                            in memory on http://127.0.0.1:8000
  ddb-emulator --port 0 --data-dir ./db   persistent, on a free port (see the banner)
  ddb-emulator --log-level debug          one log line per AWS request
  ddb-emulator --function orders=http://127.0.0.1:9000/2015-03-31/functions/function/invocations
                                          function "orders" runs in a Lambda RIE container

Point a client at it with --endpoint-url / endpoint_url, or AWS_ENDPOINT_URL=<url>.
Admin: GET /_emulator/health, POST /_emulator/reset, GET|POST /_emulator/clock
(POSTs with Content-Type: application/json; see --admin, --admin-token, --admin-hosts).
"""

LOG_LEVELS = ("critical", "error", "warning", "info", "debug")
#: Fields whose value is one of a few words (matched case-insensitively).
_CHOICES = {"log_level": LOG_LEVELS, "admin": ("on", "off"), "auth": ("none", "sigv4")}


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
    parser.add_argument(
        "--version", action="version", version=f"ddb-streams-emulator {__version__}"
    )
    for f in fields(Config):
        if f.name == "functions":
            _add_functions_flag(parser, environ)
            continue
        default = getattr(defaults, f.name)
        if isinstance(default, bool):
            _add_switch(parser, environ, f.name, default)
            continue
        kind: Callable[[str], Any] = type(default) if default is not None else str
        if f.name in _CHOICES:
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
            choices=_CHOICES.get(f.name),
            metavar=_METAVAR.get(f.name, f.name.upper()),
            help=f"{_HELP[f.name]} [{env_name(f.name)}; default: "
            f"{'none' if default is None else default}]",
        )
    args = parser.parse_args(argv)
    for name, allowed in _CHOICES.items():
        if getattr(args, name) not in allowed:  # a bad environment value skips `choices`
            parser.error(f"{env_name(name)}: invalid value {getattr(args, name)!r}")
    values = vars(args)
    # One endpoint per function: a later --function NAME=URL replaces an earlier one.
    values["functions"] = tuple(dict(values["functions"] or ()).items())
    try:
        return Config(**values)
    except ValueError as error:
        parser.error(str(error))


def _add_switch(
    parser: argparse.ArgumentParser, environ: Mapping[str, str], name: str, default: bool
) -> None:
    """An on/off flag: `--NAME` turns it on; EMULATOR_NAME=1/true/yes/on (or 0/false/no/off)."""
    env_value = environ.get(env_name(name))
    if env_value is not None:
        text = env_value.strip().lower()
        if text in ("1", "true", "yes", "on"):
            default = True
        elif text in ("0", "false", "no", "off", ""):
            default = False
        else:
            parser.error(f"{env_name(name)}: invalid value {env_value!r}")
    parser.add_argument(
        flag_name(name),
        dest=name,
        action="store_true",
        default=default,
        help=f"{_HELP[name]} [{env_name(name)}; default: {'on' if default else 'off'}]",
    )


def _add_functions_flag(parser: argparse.ArgumentParser, environ: Mapping[str, str]) -> None:
    """`--function NAME=URL`, repeatable; EMULATOR_FUNCTIONS=NAME=URL,NAME=URL. Flags are
    added to the environment's list."""
    from_env: list[tuple[str, str]] = []
    for item in environ.get(env_name("functions"), "").split(","):
        if item.strip():
            try:
                from_env.append(parse_function(item))
            except argparse.ArgumentTypeError as error:
                parser.error(f"{env_name('functions')}: {error}")
    parser.add_argument(
        flag_name("functions"),
        dest="functions",
        type=parse_function,
        action="append",
        default=from_env,
        metavar=_METAVAR["functions"],
        help=f"{_HELP['functions']} [{env_name('functions')}; default: none]",
    )
