"""Issue 12: the short version of scripts/crash_safety.py - five SIGKILLs of a
`--data-dir` emulator during mixed writes (items, batches, transactions with tokens, TTL
deletes, shard rollovers); every acknowledged change is in the stream exactly once, in
order, and no transaction is half applied. The long version is run by hand (see the
script's docstring)."""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import ROOT


def test_sigkill_loses_and_duplicates_nothing() -> None:
    result = subprocess.run(
        [sys.executable, "scripts/crash_safety.py", "--kills", "5", "--quick", "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.stdout.strip(), result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["kills"] == 5
    assert report["acknowledged_requests"] > 500  # the writers really were busy
    assert report["records"] > report["acknowledged_requests"]
    for name in ("lost", "duplicated", "out_of_order", "unexpected", "wrong_items"):
        assert report[name] == 0, (name, report)
    assert report["half_applied_transactions"] == 0, report
    assert result.returncode == 0, result.stderr
