"""The command line: --help, the banner, debug request logs, graceful SIGTERM / SIGINT."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, make_client

from emulator.config import Config, env_name, flag_name

BANNER = re.compile(
    r"INFO emulator: ddb-streams-emulator \S+ listening on (http://\S+) \((.+), region (\S+)\)"
)


class Cli:
    """`python -m emulator` with stderr collected, for reading the banner and the logs."""

    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "emulator", "--port", "0", *args],
            cwd=ROOT,
            env={**os.environ, **(env or {})},
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []
        assert self.process.stderr is not None
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            line = self.process.stderr.readline()
            if not line:
                break
            self.lines.append(line)
            match = BANNER.search(line)
            if match:
                self.url, self.storage, self.region = match.groups()
                return
        self.process.kill()
        raise AssertionError("no banner:\n" + "".join(self.lines))

    def stop(self, signum: int = signal.SIGTERM) -> tuple[int, str]:
        self.process.send_signal(signum)
        _, rest = self.process.communicate(timeout=20)
        return self.process.returncode, "".join(self.lines) + rest

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.communicate()


@pytest.fixture
def cli() -> Iterator[list[Cli]]:
    started: list[Cli] = []
    yield started
    for running in started:
        running.kill()


def start(started: list[Cli], *args: str, env: dict[str, str] | None = None) -> Cli:
    running = Cli(*args, env=env)
    started.append(running)
    return running


def create_table(ddb: Any, name: str) -> None:
    ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


def test_help_lists_every_flag_and_its_environment_variable() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "emulator", "--help"], capture_output=True, text=True, cwd=ROOT
    )
    assert result.returncode == 0
    assert result.stdout.startswith("usage: ddb-emulator")
    flat = " ".join(result.stdout.split())
    for f in fields(Config):
        assert flag_name(f.name) + " " in flat
        assert env_name(f.name) in flat
    assert "AWS_ENDPOINT_URL" in flat


def test_the_readme_flag_table_lists_every_flag() -> None:
    readme = (ROOT / "README.md").read_text()
    for f in fields(Config):
        flag = flag_name(f.name)
        assert f"| `{flag}` | `{env_name(f.name)}` |" in readme, flag


def test_bad_values_are_usage_errors() -> None:
    for args, env in (
        (["--log-level", "loud"], {}),
        (["--port", "x"], {}),
        ([], {"EMULATOR_PORT": "eighty"}),
    ):
        result = subprocess.run(
            [sys.executable, "-m", "emulator", *args],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env={**os.environ, **env},
        )
        assert result.returncode == 2, (args, env, result.stderr)
        assert "usage: ddb-emulator" in result.stderr
        assert "Traceback" not in result.stderr


def test_banner_is_one_line_with_real_url_storage_and_region(cli: list[Cli]) -> None:
    running = start(cli, env={"EMULATOR_REGION": "eu-west-1"})
    assert running.lines == [running.lines[-1]]  # nothing before the banner at info level
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", running.url)
    assert not running.url.endswith(":0")
    assert running.storage == "in-memory"
    assert running.region == "eu-west-1"
    assert make_client(running.url).list_tables()["TableNames"] == []
    code, output = running.stop()
    assert code == 0
    assert "Traceback" not in output


def test_port_in_use_is_a_clear_error(cli: list[Cli]) -> None:
    running = start(cli)
    port = running.url.rpartition(":")[2]
    result = subprocess.run(
        [sys.executable, "-m", "emulator", "--port", port],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=20,
    )
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr


def test_debug_logs_one_structured_line_per_request(cli: list[Cli]) -> None:
    running = start(cli, "--log-level", "debug")
    ddb = make_client(running.url, region="eu-west-2")
    create_table(ddb, "logged")
    with pytest.raises(ddb.exceptions.ResourceNotFoundException):
        ddb.describe_table(TableName="missing")
    _, output = running.stop()
    requests = [line for line in output.splitlines() if "emulator.requests" in line]
    assert len(requests) == 2, output
    ok, failed = requests
    assert "op=DynamoDB_20120810.CreateTable status=200 " in ok
    assert "region=eu-west-2" in ok
    assert re.search(r" ms=[\d.]+ ", ok) and re.search(r" request_id=[A-Z0-9]{52}\b", ok)
    assert "op=DynamoDB_20120810.DescribeTable status=400 " in failed
    assert failed.rstrip().endswith("error=ResourceNotFoundException")


def test_info_level_logs_no_requests(cli: list[Cli]) -> None:
    running = start(cli)
    create_table(make_client(running.url), "quiet")
    _, output = running.stop()
    assert "emulator.requests" not in output
    assert "uvicorn" not in output


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_signal_stops_cleanly_and_closes_the_database(
    cli: list[Cli], tmp_path: Path, signum: signal.Signals
) -> None:
    running = start(cli, "--data-dir", str(tmp_path))
    assert running.storage == f"persistent in {tmp_path}"
    ddb = make_client(running.url)
    create_table(ddb, "durable")
    ddb.put_item(TableName="durable", Item={"pk": {"S": "k"}, "v": {"N": "7"}})
    assert (tmp_path / "emulator.sqlite3-wal").exists()
    code, output = running.stop(signum)
    assert code == 0, output
    assert "Traceback" not in output
    assert f"stopped on {signum.name}" in output
    # The engine was closed: SQLite checkpointed and removed the write-ahead log (the
    # lock file stays: removing it could let two processes lock two different files).
    assert sorted(p.name for p in tmp_path.iterdir()) == ["emulator.lock", "emulator.sqlite3"]

    again = start(cli, "--data-dir", str(tmp_path))
    item = make_client(again.url).get_item(TableName="durable", Key={"pk": {"S": "k"}})
    assert item["Item"] == {"pk": {"S": "k"}, "v": {"N": "7"}}
    assert again.stop()[0] == 0


def test_a_request_in_flight_at_sigterm_is_answered(cli: list[Cli]) -> None:
    running = start(cli)
    host, _, port = running.url.removeprefix("http://").rpartition(":")
    body = b'{"Limit": 5}'
    head = (
        f"POST / HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/x-amz-json-1.0\r\n"
        f"X-Amz-Target: DynamoDB_20120810.ListTables\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(head + body[:5])  # the request has started, its body is not complete
        time.sleep(0.2)
        running.process.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        assert running.process.poll() is None  # still waiting for the request to finish
        sock.sendall(body[5:])
        response = b""
        while chunk := sock.recv(65536):
            response += chunk
    assert response.startswith(b"HTTP/1.1 200 ")
    assert response.endswith(b'{"TableNames":[]}')
    code, output = running.stop()
    assert code == 0, output


# -- issue 12, defect 4: data directories, flag ranges, --version ------------------------


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "emulator", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        timeout=30,
    )


def test_version() -> None:
    from emulator import __version__

    result = run_cli("--version")
    assert (result.returncode, result.stdout) == (0, f"ddb-streams-emulator {__version__}\n")


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["--port", "70000"], {}, "--port must be at least 0 and at most 65535, not 70000"),
        (["--port", "-1"], {}, "--port must be at least 0 and at most 65535, not -1"),
        ([], {"EMULATOR_PORT": "65536"}, "--port must be at least 0 and at most 65535"),
        (["--stream-shards", "0"], {}, "--stream-shards must be at least 1"),
        (["--stream-shards", "-3"], {}, "--stream-shards must be at least 1"),
        (["--iterator-ttl-seconds", "0"], {}, "--iterator-ttl-seconds must be greater than 0"),
        (["--stream-retention-seconds", "-5"], {}, "--stream-retention-seconds must be greater"),
        (["--ttl-sweep-seconds", "0"], {}, "--ttl-sweep-seconds must be greater than 0"),
        (["--shard-rollover-seconds", "-1"], {}, "--shard-rollover-seconds must be at least 0"),
        (["--stream-retention-seconds", "nan"], {}, "must be a finite number, not nan"),
        (["--iterator-ttl-seconds", "inf"], {}, "must be a finite number, not inf"),
    ],
)
def test_numeric_flags_are_range_checked(
    args: list[str], env: dict[str, str], message: str
) -> None:
    result = run_cli(*args, env=env)
    assert result.returncode == 2, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("ddb-emulator: error: ") and message in last, last
    assert "Traceback" not in result.stderr


def test_zero_rollover_still_means_never(cli: list[Cli]) -> None:
    running = start(cli, "--shard-rollover-seconds", "0")
    assert running.stop()[0] == 0


def _one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert " ERROR emulator: " in lines[0]
    return lines[0].partition(" ERROR emulator: ")[2]


def test_bad_data_dirs_are_one_line_errors(tmp_path: Path) -> None:
    a_file = tmp_path / "a-file"
    a_file.write_text("not a directory")
    assert _one_error_line(run_cli("--port", "0", "--data-dir", str(a_file))) == (
        f"data directory {a_file} is not a directory"
    )
    under_a_file = a_file / "db"
    assert _one_error_line(run_cli("--port", "0", "--data-dir", str(under_a_file))) == (
        f"cannot create data directory {under_a_file}: Not a directory"
    )
    corrupt = tmp_path / "corrupt"
    corrupt.mkdir()
    (corrupt / "emulator.sqlite3").write_bytes(b"this is no SQLite database, " * 100)
    assert _one_error_line(run_cli("--port", "0", "--data-dir", str(corrupt))) == (
        f"{corrupt / 'emulator.sqlite3'} is not a usable emulator database (file is not a database)"
    )


def test_a_second_process_on_one_data_dir_is_refused(cli: list[Cli], tmp_path: Path) -> None:
    first = start(cli, "--data-dir", str(tmp_path))
    create_table(make_client(first.url), "held")
    message = _one_error_line(run_cli("--port", "0", "--data-dir", str(tmp_path)))
    assert message == (
        f"data directory {tmp_path} is in use by another emulator process (pid {first.process.pid})"
    )
    assert make_client(first.url).list_tables()["TableNames"] == ["held"]
    assert first.stop()[0] == 0
    second = start(cli, "--data-dir", str(tmp_path))  # the lock went with the first
    assert make_client(second.url).list_tables()["TableNames"] == ["held"]


def test_the_lock_goes_with_a_killed_process(cli: list[Cli], tmp_path: Path) -> None:
    first = start(cli, "--data-dir", str(tmp_path))
    first.process.kill()
    first.process.communicate()
    second = start(cli, "--data-dir", str(tmp_path))
    assert make_client(second.url).list_tables()["TableNames"] == []
