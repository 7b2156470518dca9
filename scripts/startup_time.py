#!/usr/bin/env python3
"""Time from `python -m emulator` being started to its first answered request.

Starts the emulator N times on a free port and polls `GET /` as fast as it can; prints
each run and the median. The figure includes interpreter start-up.

With `--instructions` each run is made under valgrind (cachegrind, no cache simulation)
instead, and the server's instruction count from start to exit (SIGINT right after its
first answer) is printed: the same measure without the machine's noise.
"""

from __future__ import annotations

import argparse
import re
import signal
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


def one_run(valgrind: bool = False) -> float:
    """Seconds to the first answer (with `valgrind`: the server's instructions)."""
    port = free_port()
    started = time.perf_counter()
    command = [sys.executable, "-m", "emulator", "--port", str(port), "--log-level", "warning"]
    if valgrind:
        counter = ["valgrind", "--tool=cachegrind", "--cache-sim=no"]
        command = [*counter, "--cachegrind-out-file=/dev/null", *command]
        process = subprocess.Popen(command, cwd=ROOT, stderr=subprocess.PIPE)
        try:
            wait_answered(port, process)
        finally:
            process.send_signal(signal.SIGINT)
            _, err = process.communicate(timeout=120)
        found = re.search(rb"I\s+refs:\s+([\d,]+)", err)
        if found is None:
            raise RuntimeError(f"no instruction count in valgrind's output: {err[-500:]!r}")
        return float(found.group(1).replace(b",", b""))
    process = subprocess.Popen(command, cwd=ROOT)
    try:
        wait_answered(port, process)
        return time.perf_counter() - started
    finally:
        process.terminate()
        process.wait()


def wait_answered(port: int, process: subprocess.Popen[bytes]) -> None:
    """Poll with ListTables until the server answers."""
    while True:
        try:
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/",
                data=b"{}",
                headers={"X-Amz-Target": "DynamoDB_20120810.ListTables"},
            )
            with urllib.request.urlopen(request, timeout=1) as response:
                response.read()
                return
        except OSError:
            if process.poll() is not None:
                raise RuntimeError("emulator exited") from None
            time.sleep(0.002)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--instructions", action="store_true", help="count under valgrind")
    args = parser.parse_args()
    if args.instructions:
        counts = [one_run(valgrind=True) for _ in range(args.runs)]
        for count in counts:
            print(f"  {count:,.0f} instructions")
        print(
            f"median instructions, start to exit after the first answer: "
            f"{statistics.median(counts):,.0f}"
        )
        return
    times = [one_run() for _ in range(args.runs)]
    for t in times:
        print(f"  {t * 1000:.0f} ms")
    print(f"median start-up to first answered ListTables: {statistics.median(times) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
