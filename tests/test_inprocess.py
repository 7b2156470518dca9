"""`emulator.serve()`: the emulator in a background thread of the calling process."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import boto3
import pytest

import emulator
from emulator.config import Config

KEY = [{"AttributeName": "pk", "KeyType": "HASH"}]
ATTRS = [{"AttributeName": "pk", "AttributeType": "S"}]


def client(url: str, service: str = "dynamodb") -> Any:
    return boto3.client(
        service,
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
    )


def emulator_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("ddb-emulator ")]


def test_serve_on_a_free_port_then_stop() -> None:
    with emulator.serve(port=0) as url:
        host, _, port = url.removeprefix("http://").rpartition(":")
        assert host == "127.0.0.1" and int(port) > 0
        with urllib.request.urlopen(url + "/_emulator/health", timeout=5) as response:
            assert response.status == 200
        ddb = client(url)
        ddb.create_table(
            TableName="orders",
            KeySchema=KEY,
            AttributeDefinitions=ATTRS,
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"},
        )
        ddb.put_item(TableName="orders", Item={"pk": {"S": "a"}})
        streams = client(url, "dynamodbstreams")
        arn = streams.list_streams(TableName="orders")["Streams"][0]["StreamArn"]
        shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]
        iterator = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        records = streams.get_records(ShardIterator=iterator)["Records"]
        assert [r["dynamodb"]["Keys"] for r in records] == [{"pk": {"S": "a"}}]
        assert len(emulator_threads()) == 1
    assert emulator_threads() == []
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(url + "/_emulator/health", timeout=2)


def test_serve_on_a_given_port_and_twice_in_a_row() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    for _ in range(2):  # the port is free again after a clean stop
        with emulator.serve(port=port) as url:
            assert url == f"http://127.0.0.1:{port}"
            assert client(url).list_tables()["TableNames"] == []


def test_two_servers_at_once_are_independent() -> None:
    with emulator.serve() as first, emulator.serve() as second:
        assert first != second
        client(first).create_table(
            TableName="only-in-first",
            KeySchema=KEY,
            AttributeDefinitions=ATTRS,
            BillingMode="PAY_PER_REQUEST",
        )
        assert client(second).list_tables()["TableNames"] == []


def test_data_dir_survives_a_restart(tmp_path: Path) -> None:
    with emulator.serve(data_dir=str(tmp_path)) as url:
        ddb = client(url)
        ddb.create_table(
            TableName="kept",
            KeySchema=KEY,
            AttributeDefinitions=ATTRS,
            BillingMode="PAY_PER_REQUEST",
        )
        ddb.put_item(TableName="kept", Item={"pk": {"S": "a"}, "n": {"N": "1"}})
    # A clean close checkpoints the WAL: only the database file (and the lock file) is left.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["emulator.lock", "emulator.sqlite3"]
    with emulator.serve(data_dir=str(tmp_path)) as url:
        item = client(url).get_item(TableName="kept", Key={"pk": {"S": "a"}})["Item"]
        assert item == {"pk": {"S": "a"}, "n": {"N": "1"}}


def test_config_and_options() -> None:
    with emulator.serve(config=Config(account_id="123456789012"), region="eu-west-1") as url:
        arn = client(url).create_table(
            TableName="arned",
            KeySchema=KEY,
            AttributeDefinitions=ATTRS,
            BillingMode="PAY_PER_REQUEST",
        )["TableDescription"]["TableArn"]
        # the client's region (us-east-1) is in its credential scope, so it wins
        assert arn == "arn:aws:dynamodb:us-east-1:123456789012:table/arned"
    with pytest.raises(TypeError):
        emulator.serve(no_such_option=1).__enter__()


def test_a_port_in_use_raises_oserror_in_the_caller() -> None:
    with emulator.serve() as url:
        port = int(url.rpartition(":")[2])
        with pytest.raises(OSError), emulator.serve(port=port):
            pass  # pragma: no cover
    assert emulator_threads() == []


def test_an_error_in_the_block_still_stops_the_server() -> None:
    with pytest.raises(ZeroDivisionError), emulator.serve():
        1 / 0  # noqa: B018
    assert emulator_threads() == []


def test_aws_endpoint_url_points_both_clients_at_it(monkeypatch: pytest.MonkeyPatch) -> None:
    with emulator.serve() as url:
        monkeypatch.setenv("AWS_ENDPOINT_URL", url)
        session = boto3.Session(
            region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
        )
        ddb, streams = session.client("dynamodb"), session.client("dynamodbstreams")
        assert ddb.meta.endpoint_url == url and streams.meta.endpoint_url == url
        ddb.create_table(
            TableName="via-env",
            KeySchema=KEY,
            AttributeDefinitions=ATTRS,
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"},
        )
        assert [s["TableName"] for s in streams.list_streams()["Streams"]] == ["via-env"]


def test_import_emulator_stays_cheap() -> None:
    """`emulator.serve` is imported on first use; `import emulator` loads nothing heavy."""
    code = (
        "import sys, emulator\n"
        "assert callable(emulator.serve)\n"
        "print(sorted(m for m in sys.modules if m.startswith("
        "('emulator', 'uvicorn', 'starlette', 'botocore', 'orjson'))))\n"
    )
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert output.strip() == "['emulator']"


def test_the_readme_example_runs() -> None:
    from test_plugin import readme_example

    code = readme_example("in-process")
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_one_data_dir_serves_one_emulator_at_a_time(tmp_path: Path) -> None:
    from emulator.storage.engine import DataDirError

    with (
        emulator.serve(data_dir=str(tmp_path)),
        pytest.raises(DataDirError, match="in use by another emulator process"),
        emulator.serve(data_dir=str(tmp_path)),
    ):
        pass  # pragma: no cover - never reached
    with emulator.serve(data_dir=str(tmp_path)) as url:  # released on exit
        assert client(url).list_tables()["TableNames"] == []
