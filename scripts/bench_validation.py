"""Request-shape validation speed: microseconds per PutItem body checked against
botocore's model (emulator/validation.py). Moved here from the unit tests (issue 12,
item 10): speed is measured by scripts, never asserted by tests.

    .venv/bin/python scripts/bench_validation.py [--rounds N]
"""

from __future__ import annotations

import argparse
import time

from emulator.validation import validate_request

BODY = {
    "TableName": "my-table",
    "Item": {
        "pk": {"S": "user#1"},
        "sk": {"N": "42"},
        "name": {"S": "Ada"},
        "active": {"BOOL": True},
        "tags": {"SS": ["a", "b"]},
    },
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=200_000)
    rounds = parser.parse_args().rounds
    validate_request("dynamodb", "PutItem", BODY)  # compiles the operation's checks
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(rounds):
            validate_request("dynamodb", "PutItem", BODY)
        best = min(best, time.perf_counter() - start)
    print(f"PutItem validation: {best / rounds * 1e6:.2f} µs/call (best of 5 x {rounds})")


if __name__ == "__main__":
    main()
