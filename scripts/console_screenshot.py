#!/usr/bin/env python3
"""Regenerate docs/console.png, the README's console screenshot: a stream page after a
split rollover, with inserts, updates and deletes arriving live. Needs Debian's chromium
and the test extra (playwright).

    .venv/bin/python scripts/console_screenshot.py [docs/console.png]
"""

from __future__ import annotations

import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "tests"))

from conftest import make_client, start_server  # type: ignore[import-not-found]  # noqa: E402
from test_console import CHROMIUM, CHROMIUM_FLAGS, admin_post, stream_table  # noqa: E402


def main() -> int:
    from playwright.sync_api import sync_playwright

    target = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "console.png"
    running = start_server()
    try:
        ddb = make_client(running.url)
        arn = stream_table(ddb, "orders")
        for n in range(3):
            ddb.put_item(TableName="orders", Item={"pk": {"S": f"customer#{n}"}, "sk": {"N": "1"}})
        admin_post(running.url, "/_emulator/streams/rollover", {"StreamArn": arn})
        with tempfile.TemporaryDirectory() as profile, sync_playwright() as playwright:
            context = playwright.chromium.launch_persistent_context(
                profile,
                executable_path=CHROMIUM,
                headless=True,
                args=CHROMIUM_FLAGS,
                viewport={"width": 1200, "height": 760},
            )
            page = context.new_page()
            page.goto(running.url + "/_emulator/console#/stream/" + urllib.parse.quote(arn, ""))
            page.locator("#live.on").wait_for()
            admin_post(
                running.url, "/_emulator/streams/rollover", {"StreamArn": arn, "Split": True}
            )
            for n in range(3, 7):
                key = {"pk": {"S": f"customer#{n}"}, "sk": {"N": "1"}}
                ddb.put_item(TableName="orders", Item={**key, "total": {"N": str(10 * n)}})
                ddb.update_item(
                    TableName="orders",
                    Key=key,
                    UpdateExpression="SET shipped = :t",
                    ExpressionAttributeValues={":t": {"BOOL": True}},
                )
            ddb.delete_item(TableName="orders", Key={"pk": {"S": "customer#0"}, "sk": {"N": "1"}})
            page.locator("#records tr", has_text="REMOVE").wait_for()
            page.locator("#lineage g.shard").nth(3).wait_for()
            time.sleep(2.5)  # the shards' record counts (sent at most once a second)
            page.locator("#records tbody tr").nth(1).click()
            target.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(target))
            context.close()
    finally:
        running.stop()
    print(target)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
