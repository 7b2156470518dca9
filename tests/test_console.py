"""The web console (issue 19), driven through a real headless Chromium (Debian's
`chromium`, installed by `.ci/run`) with Playwright, against a real emulator process.

Each flow saves a screenshot under $CONSOLE_SCREENSHOTS (default tests/artifacts/console/).
Skipped, saying why, only where no browser is installed.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, RunningServer, make_client, start_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SHOTS = Path(os.environ.get("CONSOLE_SCREENSHOTS") or ROOT / "tests" / "artifacts" / "console")
ACCOUNT = "000000000000"
TIMEOUT_MS = 10_000

FAILING_HANDLER = """
def handler(event, context):
    print("looking at", len(event["Records"]), "record(s)")
    raise ValueError("cannot handle " + event["Records"][0]["dynamodb"]["Keys"]["pk"]["S"])
"""


def _browser_missing() -> str | None:
    if shutil.which(CHROMIUM) is None and not Path(CHROMIUM).exists():
        return f"no Chromium at {CHROMIUM} (apt-get install chromium chromium-driver)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -e '.[test]')"
    return None


@pytest.fixture(scope="module")
def console_server() -> Iterator[RunningServer]:
    running = start_server("--change-log")  # item history for every table
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    missing = _browser_missing()
    if missing:
        pytest.skip(missing)
    from playwright.sync_api import sync_playwright

    profile = tempfile.mkdtemp(prefix="console-chromium-")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            profile,
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport={"width": 1360, "height": 860},
        )
        try:
            yield context
        finally:
            context.close()
            shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    page = browser.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        yield page
    finally:
        page.close()  # closes its event streams: nothing stays open on the server
    assert errors == [], errors


def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def admin_post(url: str, path: str, body: dict[str, Any]) -> Any:
    request = urllib.request.Request(
        url + path,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def stream_table(ddb: Any, name: str) -> str:
    ddb.create_table(
        TableName=name,
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "N"},
        ],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    return str(ddb.describe_table(TableName=name)["Table"]["LatestStreamArn"])


def test_tables_page_and_table_detail(console_server: RunningServer, page: Any) -> None:
    ddb = make_client(console_server.url)
    stream_table(ddb, "console-orders")
    for n in range(3):
        ddb.put_item(
            TableName="console-orders",
            Item={"pk": {"S": f"order#{n}"}, "sk": {"N": str(n)}, "total": {"N": "9.5"}},
        )
    page.goto(console_server.url + "/_emulator/console")
    row = page.locator("#tables tr", has_text="console-orders")
    row.wait_for()
    assert "pk (HASH), sk (RANGE)" in row.inner_text()
    assert row.locator("td.num").inner_text() == "3"
    # Counts follow writes (the status event stream).
    ddb.put_item(TableName="console-orders", Item={"pk": {"S": "order#9"}, "sk": {"N": "9"}})
    page.locator("#tables tr", has_text="console-orders").locator("td.num", has_text="4").wait_for()
    shot(page, "tables")

    row.get_by_role("link", name="console-orders").click()
    page.get_by_role("heading", name="console-orders").wait_for()
    text = page.locator("main").inner_text()
    assert "pk: S (partition), sk: N (sort)" in text
    assert "NEW_AND_OLD_IMAGES" in text
    shot(page, "table-detail")


def test_put_item_appears_live_in_the_stream(console_server: RunningServer, page: Any) -> None:
    ddb = make_client(console_server.url)
    arn = stream_table(ddb, "console-live")
    ddb.put_item(TableName="console-live", Item={"pk": {"S": "before"}, "sk": {"N": "1"}})
    page.goto(console_server.url + "/_emulator/console#/stream/" + urllib.parse.quote(arn, ""))
    page.locator("#records tr", has_text="pk=before").wait_for()  # RECENT: written before
    page.locator("#live.on").wait_for()

    ddb.put_item(TableName="console-live", Item={"pk": {"S": "live-1"}, "sk": {"N": "2"}})
    ddb.update_item(
        TableName="console-live",
        Key={"pk": {"S": "live-1"}, "sk": {"N": "2"}},
        UpdateExpression="SET colour = :c",
        ExpressionAttributeValues={":c": {"S": "blue"}},
    )
    modify = page.locator("#records tr", has_text="pk=live-1 sk=2").filter(has_text="MODIFY")
    modify.wait_for()
    insert = page.locator("#records tr", has_text="pk=live-1 sk=2").filter(has_text="INSERT")
    assert insert.count() == 1
    modify.click()
    detail = page.locator("main pre")
    assert '"colour"' in detail.inner_text()
    shot(page, "stream-live")

    # The event filter: only REMOVE records now.
    page.select_option("#event-filter", "REMOVE")
    page.get_by_role("button", name="Apply").click()
    ddb.put_item(TableName="console-live", Item={"pk": {"S": "other"}, "sk": {"N": "3"}})
    ddb.delete_item(TableName="console-live", Key={"pk": {"S": "live-1"}, "sk": {"N": "2"}})
    page.locator("#records tr", has_text="REMOVE").wait_for()
    assert page.locator("#records tbody tr").count() == 1

    # The key filter (over the recent records the page is sent again when it reconnects).
    page.select_option("#event-filter", "")
    page.fill("#key-filter", "other")
    page.get_by_role("button", name="Apply").click()
    page.locator("#records tr", has_text="pk=other sk=3").wait_for()
    page.wait_for_timeout(300)
    assert page.locator("#records tbody tr").all_inner_texts() == [
        page.locator("#records tr", has_text="pk=other").inner_text()
    ]


def test_rollover_shows_in_the_lineage_graph(console_server: RunningServer, page: Any) -> None:
    ddb = make_client(console_server.url)
    arn = stream_table(ddb, "console-lineage")
    ddb.put_item(TableName="console-lineage", Item={"pk": {"S": "a"}, "sk": {"N": "1"}})
    page.goto(console_server.url + "/_emulator/console#/stream/" + urllib.parse.quote(arn, ""))
    shards = page.locator("#lineage g.shard")
    shards.first.wait_for()
    assert shards.count() == 1
    (root,) = ddb_shards(console_server.url, arn)

    # A rollover made by someone else arrives through the event stream.
    answer = admin_post(console_server.url, "/_emulator/streams/rollover", {"StreamArn": arn})
    assert answer["ClosedShardIds"] == [root]
    (child,) = answer["NewShardIds"]
    page.locator(f'#lineage g.shard[data-shard="{child}"][data-open="true"]').wait_for()
    page.locator(f'#lineage g.shard[data-shard="{root}"][data-open="false"]').wait_for()

    # The page's own button, splitting the open shard in two.
    page.check("#split")
    page.click("#rollover")
    page.locator("#lineage g.shard").nth(3).wait_for()
    assert page.locator('#lineage g.shard[data-open="true"]').count() == 2
    assert page.locator("#lineage path").count() == 3  # root→child, child→two grandchildren
    ddb.put_item(TableName="console-lineage", Item={"pk": {"S": "b"}, "sk": {"N": "2"}})
    page.locator("#records tr", has_text="pk=b").wait_for()
    # The open shard that took it counts it (a `counts` event, at most once a second).
    page.locator('#lineage g.shard[data-open="true"]', has_text="OPEN · 1 record(s)").wait_for()
    shot(page, "stream-lineage")


def ddb_shards(url: str, arn: str) -> list[str]:
    streams = make_client(url, "dynamodbstreams")
    described = streams.describe_stream(StreamArn=arn)["StreamDescription"]
    return [shard["ShardId"] for shard in described["Shards"]]


def test_failing_trigger_shows_its_failures(console_server: RunningServer, page: Any) -> None:
    ddb = make_client(console_server.url)
    lam = make_client(console_server.url, "lambda")
    package = io.BytesIO()
    with zipfile.ZipFile(package, "w") as archive:
        archive.writestr("app.py", FAILING_HANDLER)
    lam.create_function(
        FunctionName="console-failing",
        Runtime="python3.12",
        Role=f"arn:aws:iam::{ACCOUNT}:role/r",
        Handler="app.handler",
        Code={"ZipFile": package.getvalue()},
    )
    arn = stream_table(ddb, "console-trigger")
    uuid = lam.create_event_source_mapping(
        FunctionName="console-failing",
        EventSourceArn=arn,
        StartingPosition="TRIM_HORIZON",
        MaximumRetryAttempts=1,
        DestinationConfig={
            "OnFailure": {"Destination": "arn:aws:sqs:us-east-1:000000000000:console-dlq"}
        },
    )["UUID"]
    ddb.put_item(TableName="console-trigger", Item={"pk": {"S": "poison"}, "sk": {"N": "1"}})
    page.goto(console_server.url + "/_emulator/console#/triggers")
    page.locator("#triggers tr", has_text="console-failing").wait_for()

    page.goto(console_server.url + "/_emulator/console#/trigger/" + uuid)
    # Two attempts (the first and one retry), each an unhandled function error...
    page.locator("#invocations tbody tr").nth(1).wait_for(timeout=30_000)
    log = page.locator("#invocations").inner_text()
    assert "Unhandled" in log
    assert "cannot handle poison" in page.locator("#invocations").inner_html()
    # ...then the batch is discarded with a failure document.
    failure = page.locator("#failures pre").first
    failure.wait_for(timeout=30_000)
    document = json.loads(failure.inner_text())
    assert document["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert document["DDBStreamBatchInfo"]["batchSize"] == 1
    assert page.locator("#trigger-shards td.num").first.inner_text() == "0"  # nothing left
    # The newest batch's function log and response, shown as it comes; any batch on a click.
    page.locator("#invocations tbody tr").nth(1).click()
    logs = page.locator("#invocation pre.logs").inner_text()
    assert "START RequestId:" in logs and "looking at 1 record(s)" in logs
    assert "cannot handle poison" in page.locator("#invocation").inner_text()
    shot(page, "trigger-failing")


def test_items_browse_edit_and_delete(console_server: RunningServer, page: Any) -> None:
    ddb = make_client(console_server.url)
    stream_table(ddb, "console-items")
    ddb.put_item(
        TableName="console-items",
        Item={"pk": {"S": "user#1"}, "sk": {"N": "1"}, "name": {"S": "Ada"}},
    )
    ddb.put_item(
        TableName="console-items",
        Item={"pk": {"S": "user#2"}, "sk": {"N": "1"}, "name": {"S": "Grace"}},
    )
    page.goto(console_server.url + "/_emulator/console#/items/us-east-1/console-items")
    page.locator("#items tbody tr").nth(1).wait_for()

    # Query with a key condition and a filter.
    page.select_option("#mode", "Query")
    page.fill("#key-condition", "pk = :pk")
    page.fill("#filter", "#n = :n")
    page.fill("#values", '{":pk": "user#2", ":n": "Grace"}')
    page.fill("#names", '{"#n": "name"}')
    page.click("#run")
    page.wait_for_function("document.querySelectorAll('#items tbody tr').length === 1")
    row = page.locator("#items tbody tr").first
    assert "Grace" in row.inner_text()

    # Edit it as plain JSON and save.
    row.click()
    page.select_option("#item-format", "plain")
    edited = json.loads(page.input_value("#item-json"))
    assert edited == {"pk": "user#2", "sk": 1, "name": "Grace"}
    edited["age"] = 36
    page.fill("#item-json", json.dumps(edited))
    page.click("#save-item")
    page.get_by_text("Saved.").wait_for()
    item = ddb.get_item(TableName="console-items", Key={"pk": {"S": "user#2"}, "sk": {"N": "1"}})
    assert item["Item"]["age"] == {"N": "36"}
    page.select_option("#item-format", "ddb")
    assert json.loads(page.input_value("#item-json"))["age"] == {"N": "36"}
    shot(page, "items")

    page.on("dialog", lambda dialog: dialog.accept())
    page.click("#delete-item")
    page.wait_for_function("!document.querySelector('#item-json')")
    assert "Item" not in ddb.get_item(
        TableName="console-items", Key={"pk": {"S": "user#2"}, "sk": {"N": "1"}}
    )


def test_clock_page_moves_the_clock(console_server: RunningServer, page: Any) -> None:
    page.goto(console_server.url + "/_emulator/console#/clock")
    page.click("#clock-manual")
    page.get_by_text("manual (moves only when told)").wait_for()
    before = admin_clock(console_server.url)
    page.fill("#advance-seconds", "3600")
    page.click("#clock-advance")
    page.get_by_text("Done.").wait_for()
    after = admin_clock(console_server.url)
    assert after["mode"] == "manual" and 3600 <= after["now"] - before["now"] < 3601
    assert "MANUAL clock" in page.locator("#clock").inner_text()
    shot(page, "clock")
    page.click("#clock-real")
    page.get_by_text("real time").first.wait_for()
    assert admin_clock(console_server.url)["mode"] == "real"


def admin_clock(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url + "/_emulator/clock", timeout=10) as response:
        return dict(json.loads(response.read()))


def test_history_kinesis_and_replication_pages(console_server: RunningServer, page: Any) -> None:
    url = console_server.url
    ddb = make_client(url)
    stream_table(ddb, "console-global")
    key = {"pk": {"S": "doc"}, "sk": {"N": "7"}}
    ddb.put_item(TableName="console-global", Item={**key, "v": {"N": "1"}})
    ddb.put_item(TableName="console-global", Item={**key, "v": {"N": "2"}})
    ddb.delete_item(TableName="console-global", Key=key)

    # An item's history, from the change log: newest first.
    address = "#/history/us-east-1/console-global/" + urllib.parse.quote(json.dumps(key), "")
    page.goto(url + "/_emulator/console" + address)
    page.locator("#history tbody tr").nth(2).wait_for()
    rows = page.locator("#history tbody tr").all_inner_texts()
    assert [row.split("\t")[1].strip() for row in rows] == ["REMOVE", "MODIFY", "INSERT"]
    assert '{"pk":"doc","sk":7,"v":2}' in rows[1]
    shot(page, "history")

    # A replica in another region: the link and its lag.
    ddb.update_table(
        TableName="console-global", ReplicaUpdates=[{"Create": {"RegionName": "eu-west-1"}}]
    )
    admin_post(url, "/_emulator/triggers/settle", {"timeout": 20})
    page.goto(url + "/_emulator/console#/replication")
    link = page.locator("#replication tr", has_text="eu-west-1").first
    link.wait_for()
    assert "console-global" in link.inner_text() and "TAILING" in link.inner_text()
    shot(page, "replication")
    # The replica table, in its region.
    page.goto(url + "/_emulator/console#/tables")
    page.select_option("#region", "eu-west-1")
    page.locator("#tables tr", has_text="console-global").wait_for()
    assert "us-east-1" in page.locator("#tables tr", has_text="console-global").inner_text()
    page.select_option("#region", "us-east-1")

    # A Kinesis stream of the built-in Kinesis service.
    kinesis = make_client(url, "kinesis")
    kinesis.create_stream(StreamName="console-kinesis", ShardCount=2)
    kinesis.get_waiter("stream_exists").wait(
        StreamName="console-kinesis", WaiterConfig={"Delay": 0.2, "MaxAttempts": 50}
    )
    page.goto(url + "/_emulator/console#/kinesis")
    panel = page.locator(".panel", has_text="console-kinesis")
    panel.wait_for()
    assert "ACTIVE" in panel.inner_text()
    assert panel.locator("tbody tr").count() == 2
    shot(page, "kinesis")


def test_console_api_refuses_what_it_does_not_offer(console_server: RunningServer) -> None:
    """Plain HTTP: the call endpoint runs only its listed operations, through validation."""

    def call(body: dict[str, Any]) -> tuple[int, Any]:
        request = urllib.request.Request(
            console_server.url + "/_emulator/console/api/call",
            data=json.dumps(body).encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    assert call({"Target": "DynamoDB_20120810.DeleteTable", "Request": {"TableName": "x"}}) == (
        400,
        {"error": "the console does not call 'DynamoDB_20120810.DeleteTable'"},
    )
    assert call({"Target": "DynamoDB_20120810.Scan", "Request": {"TableName": "no-such"}}) == (
        400,
        {
            "__type": "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException",
            "message": "Requested resource not found",
        },
    )


def test_console_follows_admin_off() -> None:
    running = start_server("--admin", "off")
    try:
        for path in ("/_emulator/console", "/_emulator/console/api/overview"):
            with pytest.raises(urllib.error.HTTPError) as info:
                urllib.request.urlopen(running.url + path, timeout=10)
            assert info.value.code == 404
            assert json.loads(info.value.read()) == {"error": "the admin API is off (--admin off)"}
    finally:
        running.stop()


def test_console_with_an_admin_token(page: Any) -> None:
    """The page opens without the token, asks for it, then sends it with every request
    (JSON and event streams); the data endpoints refuse requests without it."""
    running = start_server("--admin-token", "s3cret")
    try:
        with urllib.request.urlopen(running.url + "/_emulator/console", timeout=10) as answer:
            assert answer.status == 200 and b"console.js" in answer.read()
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(running.url + "/_emulator/console/api/overview", timeout=10)
        assert info.value.code == 401
        make_client(running.url).create_table(
            TableName="console-token",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        asked: list[str] = []

        def answer_prompt(dialog: Any) -> None:
            asked.append(dialog.message)
            dialog.accept("s3cret")

        page.on("dialog", answer_prompt)
        page.goto(running.url + "/_emulator/console")
        page.locator("#tables tr", has_text="console-token").wait_for()
        page.locator("#live.on").wait_for()  # the status event stream carries it too
        assert asked == ["This emulator's admin API needs its token (--admin-token):"]
        page.close()  # its event stream ends before the server stops
    finally:
        running.stop()


def test_open_event_stream_does_not_hold_up_shutdown(tmp_path: Path) -> None:
    """SIGTERM with a console following a stream: the event stream ends and the process
    exits at once (no wait for uvicorn's graceful-shutdown timeout)."""
    import time

    running = start_server()
    try:
        ddb = make_client(running.url)
        arn = stream_table(ddb, "console-shutdown")
        events = urllib.request.urlopen(
            running.url + "/_emulator/console/api/stream/events?StreamArn=" + arn, timeout=10
        )
        assert events.readline() == b"retry: 2000\n"
        started = time.monotonic()
        running.process.terminate()
        assert running.process.wait(timeout=10) == 0
        assert time.monotonic() - started < 5
        events.close()
    finally:
        running.stop()
