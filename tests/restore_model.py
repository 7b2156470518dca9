"""A restore-at-any-second property check against a model: random writes (PutItem,
UpdateItem, DeleteItem, BatchWriteItem, TransactWriteItems) on a manual clock, a record
of the table after each second, then restores at random seconds compared with it. Used by
tests/test_restore_property.py (small) and scripts/restore_property.py (10,000 writes)."""

from __future__ import annotations

import json
import random
import urllib.request
from typing import Any

Key = tuple[str, str]


def _clock(url: str, **command: float) -> float:
    request = urllib.request.Request(
        url + "/_emulator/clock",
        data=json.dumps(command).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return float(json.loads(response.read())["now"])


def _item(key: Key, value: int) -> dict[str, Any]:
    return {
        "pk": {"S": key[0]},
        "sk": {"S": key[1]},
        "v": {"N": str(value)},
        "g": {"S": f"g{value % 3}"},
    }


def run(url: str, client: Any, writes: int, restores: int, seed: int, table: str) -> int:
    """Make `writes` random writes, then `restores` restores at random whole and
    fractional seconds; raises AssertionError at the first difference. Returns the number
    of restores checked."""
    import datetime

    rng = random.Random(seed)
    client.create_table(
        TableName=table,
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
            {"AttributeName": "g", "AttributeType": "S"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by-g",
                "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    client.update_continuous_backups(
        TableName=table, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
    )
    keys: list[Key] = [(f"p{p}", f"s{s}") for p in range(8) for s in range(6)]
    model: dict[Key, dict[str, Any]] = {}
    # (instant, model) after the last write at each instant the clock stood at.
    snapshots: list[tuple[float, dict[Key, dict[str, Any]]]] = []
    now = _clock(url, advance=0)
    start = now
    done = 0
    while done < writes:
        choice = rng.random()
        if choice < 0.35:
            key = rng.choice(keys)
            item = _item(key, rng.randrange(1000))
            client.put_item(TableName=table, Item=item)
            model[key] = item
            done += 1
        elif choice < 0.55:
            key = rng.choice(keys)
            delta = rng.randrange(1, 5)
            client.update_item(
                TableName=table,
                Key={"pk": {"S": key[0]}, "sk": {"S": key[1]}},
                UpdateExpression="ADD v :d SET g = :g",
                ExpressionAttributeValues={":d": {"N": str(delta)}, ":g": {"S": "gu"}},
            )
            old = int(model[key]["v"]["N"]) if key in model else 0
            model[key] = {**_item(key, old + delta), "g": {"S": "gu"}}
            done += 1
        elif choice < 0.75:
            key = rng.choice(keys)
            client.delete_item(TableName=table, Key={"pk": {"S": key[0]}, "sk": {"S": key[1]}})
            model.pop(key, None)
            done += 1
        elif choice < 0.9:
            chosen = rng.sample(keys, rng.randrange(1, 6))
            requests = []
            for key in chosen:
                if rng.random() < 0.7:
                    item = _item(key, rng.randrange(1000))
                    requests.append({"PutRequest": {"Item": item}})
                    model[key] = item
                else:
                    requests.append(
                        {"DeleteRequest": {"Key": {"pk": {"S": key[0]}, "sk": {"S": key[1]}}}}
                    )
                    model.pop(key, None)
            client.batch_write_item(RequestItems={table: requests})
            done += len(chosen)
        else:
            chosen = rng.sample(keys, rng.randrange(1, 4))
            actions = []
            for key in chosen:
                item = _item(key, rng.randrange(1000))
                actions.append({"Put": {"TableName": table, "Item": item}})
                model[key] = item
            client.transact_write_items(TransactItems=actions)
            done += len(chosen)
        if rng.random() < 0.4:
            snapshots.append((now, dict(model)))
            now = _clock(url, advance=rng.choice((0.25, 0.5, 1, 1, 2, 3)))
    snapshots.append((now, dict(model)))
    end = now
    for number in range(restores):
        instant = (
            rng.uniform(start, end)
            if number % 2
            else float(rng.randrange(int(start) + 1, int(end) + 1))
        )
        instant = round(instant, 3)  # what a client sends (milliseconds)
        expected: dict[Key, dict[str, Any]] = {}
        for stamp, state in snapshots:
            if stamp <= instant:
                expected = state
        target = f"{table}-r{number}"
        client.restore_table_to_point_in_time(
            SourceTableName=table,
            TargetTableName=target,
            RestoreDateTime=datetime.datetime.fromtimestamp(instant, datetime.UTC),
        )
        found: dict[Key, dict[str, Any]] = {}
        for page in client.get_paginator("scan").paginate(TableName=target):
            for item in page["Items"]:
                found[(item["pk"]["S"], item["sk"]["S"])] = item
        assert found == expected, (instant, start, end)
        indexed = sum(
            page["Count"]
            for page in client.get_paginator("scan").paginate(TableName=target, IndexName="by-g")
        )
        assert indexed == len(expected), instant
        client.delete_table(TableName=target)
    return restores
