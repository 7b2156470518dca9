"""The pytest plugin (`emulator.pytest_plugin`, entry point `pytest11`), run by pytester on
small test files the way a user's suite would use it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import emulator

pytest_plugins = ["pytester"]

USER_TESTS = """
import pytest

KEY = [{"AttributeName": "pk", "KeyType": "HASH"}]
ATTRS = [{"AttributeName": "pk", "AttributeType": "S"}]
seen = []


def test_write_and_read_stream(ddb_client, ddb_streams_client, ddb_endpoint):
    seen.append(ddb_endpoint)
    table = ddb_client.create_table(
        TableName="orders", KeySchema=KEY, AttributeDefinitions=ATTRS,
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )["TableDescription"]
    ddb_client.put_item(TableName="orders", Item={"pk": {"S": "o-1"}})
    arn = table["LatestStreamArn"]
    shard = ddb_streams_client.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]
    iterator = ddb_streams_client.get_shard_iterator(
        StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    records = ddb_streams_client.get_records(ShardIterator=iterator)["Records"]
    assert [r["eventName"] for r in records] == ["INSERT"]
    assert records[0]["dynamodb"]["NewImage"] == {"pk": {"S": "o-1"}}


def test_each_test_starts_empty(ddb_client, ddb_endpoint):
    seen.append(ddb_endpoint)
    assert ddb_client.list_tables()["TableNames"] == []
    ddb_client.create_table(
        TableName="orders", KeySchema=KEY, AttributeDefinitions=ATTRS,
        BillingMode="PAY_PER_REQUEST",
    )


def test_streams_client_alone_also_resets(ddb_streams_client):
    assert ddb_streams_client.list_streams()["Streams"] == []


def test_one_emulator_per_session(ddb_endpoint):
    assert ddb_endpoint.startswith("http://127.0.0.1:")
    assert set(seen) == {ddb_endpoint}
"""


def test_fixtures_in_a_fresh_pytest_process(pytester: pytest.Pytester) -> None:
    """Loaded through the installed entry point in a new interpreter, as for a user."""
    pytester.makepyfile(test_user=USER_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=4)


def test_fixtures_inline(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user=USER_TESTS)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=4)


def test_ddb_endpoint_option_uses_a_running_emulator(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_external="""
        def test_points_at_the_given_emulator(ddb_endpoint, ddb_client, pytestconfig):
            assert ddb_endpoint == pytestconfig.getoption("ddb_endpoint").rstrip("/")
            assert ddb_client.meta.endpoint_url == ddb_endpoint
            ddb_client.create_table(
                TableName="kept",
                KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                BillingMode="PAY_PER_REQUEST",
            )
        """
    )
    with emulator.serve(port=0) as url:
        result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "--ddb-endpoint", url + "/")
        result.assert_outcomes(passed=1)
        import boto3

        client = boto3.client(
            "dynamodb",
            endpoint_url=url,
            region_name="us-east-1",
            aws_access_key_id="x",
            aws_secret_access_key="x",
        )
        assert client.list_tables()["TableNames"] == ["kept"]


def test_plugin_is_registered_and_listed(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_inprocess("--help")
    result.stdout.fnmatch_lines(["*--ddb-endpoint=URL*"])
    fixtures = pytester.runpytest_subprocess("--fixtures")
    # pytest lists them sorted by "file:line" as text, so each is looked for on its own.
    for name in (
        "ddb_endpoint",
        "ddb_client",
        "ddb_streams_client",
        "ddb_reset",
        "ddb_function",
        "ddb_lambda_client",
        "ddb_settle",
    ):
        fixtures.stdout.fnmatch_lines([f"{name} *"])


def test_loading_the_plugin_imports_neither_boto3_nor_the_server() -> None:
    code = (
        "import sys, emulator.pytest_plugin\n"
        "heavy = {'boto3', 'botocore', 'uvicorn', 'starlette', 'emulator.server'}\n"
        "print(sorted(heavy & set(sys.modules)))\n"
    )
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert output.strip() == "[]"


def readme_example(marker: str) -> str:
    """The fenced code block that follows `<!-- example: MARKER -->` in the README."""
    text = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    after = text.split(f"<!-- example: {marker} -->", 1)[1]
    return after.split("```python\n", 1)[1].split("```", 1)[0]


def test_the_readme_example_passes(pytester: pytest.Pytester) -> None:
    example = readme_example("pytest plugin")
    assert len(example.splitlines()) <= 12
    pytester.makepyfile(test_readme=example)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def _readme_trigger_example() -> str:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    section = readme[readme.index("## Testing a stream trigger") :]
    return section[section.index("```python\n") + len("```python\n") : section.index("```\n")]


def test_the_readme_trigger_example_runs(pytester: pytest.Pytester) -> None:
    """The README's "Testing a stream trigger" example, as a user would run it."""
    pytester.makepyfile(test_trigger=_readme_trigger_example())
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_ddb_admin_token_option_resets_a_guarded_emulator(pytester: pytest.Pytester) -> None:
    """An emulator started with --admin-token: the reset before each test carries it."""
    pytester.makepyfile(
        test_guarded="""
        def test_first(ddb_client):
            ddb_client.create_table(
                TableName="guarded",
                KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                BillingMode="PAY_PER_REQUEST",
            )

        def test_second_starts_empty(ddb_client):
            assert ddb_client.list_tables()["TableNames"] == []
        """
    )
    with emulator.serve(port=0, admin_token="sesame") as url:
        result = pytester.runpytest_inprocess(
            "-p", "no:cacheprovider", "--ddb-endpoint", url, "--ddb-admin-token", "sesame"
        )
        result.assert_outcomes(passed=2)
        refused = pytester.runpytest_inprocess("-p", "no:cacheprovider", "--ddb-endpoint", url)
        refused.assert_outcomes(errors=2)  # the reset is refused without the token
