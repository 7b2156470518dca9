#!/usr/bin/env python3
"""Restore at any second, checked against a model over 10,000 random writes.

What is checked
    On an emulator started here (``python -m emulator --port <free>``, in memory, its clock
    put in manual mode), a table (pk HASH S, sk RANGE S, a GSI on ``g``) with
    point-in-time recovery gets ``--writes`` random item writes (default 10,000: PutItem,
    UpdateItem ADD/SET, DeleteItem, BatchWriteItem, TransactWriteItems over 48 keys) while
    the clock moves forward by 0.25 to 3 seconds every few writes. A model keeps the table
    after each instant. Then ``--restores`` RestoreTableToPointInTime calls (default 40) at
    random instants — whole seconds and millisecond fractions, anywhere in the window —
    each into a new table whose Scan (and GSI Scan) must equal the model at that instant
    exactly. The same check, smaller, runs in CI (tests/test_restore_property.py).

    python scripts/restore_property.py [--writes N] [--restores N] [--seed N]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.conftest import make_client, start_server  # noqa: E402
from tests.restore_model import run  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writes", type=int, default=10_000)
    parser.add_argument("--restores", type=int, default=40)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    server = start_server()
    try:
        client = make_client(server.url)
        started = time.perf_counter()
        checked = run(server.url, client, args.writes, args.restores, args.seed, "model")
        print(
            f"{args.writes} writes, {checked} restores at random instants: all equal to the "
            f"model ({time.perf_counter() - started:.1f} s)"
        )
    finally:
        server.stop()


if __name__ == "__main__":
    main()
