#!/usr/bin/env python3
"""Time from `python -m emulator` being started to its first answered request.

Starts the emulator N times on a free port and polls `GET /` as fast as it can; prints
each run and the median. The figure includes interpreter start-up.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def one_run() -> float:
    port = free_port()
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "emulator", "--port", str(port), "--log-level", "warning"],
        cwd=ROOT,
    )
    try:
        while True:
            try:
                body = b"{}"
                request = urllib.request.Request(
                    f"http://127.0.0.1:{port}/",
                    data=body,
                    headers={"X-Amz-Target": "DynamoDB_20120810.ListTables"},
                )
                with urllib.request.urlopen(request, timeout=1) as response:
                    response.read()
                    return time.perf_counter() - started
            except OSError:
                if process.poll() is not None:
                    raise RuntimeError("emulator exited") from None
                time.sleep(0.002)
    finally:
        process.terminate()
        process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    times = [one_run() for _ in range(args.runs)]
    for t in times:
        print(f"  {t * 1000:.0f} ms")
    print(f"median start-up to first answered ListTables: {statistics.median(times) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
