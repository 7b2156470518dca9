"""The storage engine's range reads over the order-preserving key encoding, directly (no
server): the one `Cursor` over a table's items or an index's entries, for a partition
within bounds (Query) or every partition (Scan), with keys from `encode_key_value` for S,
N and B, including negative numbers, exponents and bytes 0x00 / 0xFF (issue 6 item 1:
sort order read from the engine, not sorted in Python)."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from emulator.model.keys import decode_key_value, encode_key_value, prefix_upper_bound
from emulator.storage.engine import Engine
from emulator.storage.items import KeyRange

ALL = 10_000

NUMBERS = [
    "-9.9999999999999999999999999999999999999E+125",
    "-1E+100",
    "-123456789",
    "-100",
    "-99.99",
    "-10",
    "-2",
    "-1.01",
    "-1",
    "-0.99",
    "-0.1",
    "-0.01",
    "-1E-130",
    "0",
    "1E-130",
    "0.01",
    "0.1",
    "0.99",
    "1",
    "1.01",
    "2",
    "10",
    "99.99",
    "100",
    "123456789",
    "1E+100",
    "9.9999999999999999999999999999999999999E+125",
]
STRINGS = ["A", "Z", "a", "ab", "b", "z", "\x7f", "\u00e9", "\u4e2d", "\uffe0", "\U0001f600"]
BINARIES = [
    b"\x00",
    b"\x00\x00",
    b"\x00\xff",
    b"\x01",
    b"\x7f",
    b"\x80",
    b"\xfe\xff",
    b"\xff",
    b"\xff\x00",
    b"\xff\xff",
    b"\xff\xff\xff",
]


def wire(kind: str, value: Any) -> str:
    return base64.b64encode(value).decode() if kind == "B" else str(value)


def encoded(kind: str, value: Any) -> bytes:
    return encode_key_value(kind, wire(kind, value))


VALUES = {"N": NUMBERS, "S": STRINGS, "B": BINARIES}


@pytest.fixture
def engine() -> Iterator[Engine]:
    engine = Engine.open(None)
    try:
        yield engine
    finally:
        engine.close()


def range_read(
    engine: Engine,
    table_id: int,
    hash_key: bytes,
    lower: bytes | None = None,
    upper: bytes | None = None,
    *,
    lower_inclusive: bool = True,
    upper_inclusive: bool = True,
    forward: bool = True,
    after: bytes | None = None,
    limit: int = ALL,
) -> list[tuple[bytes, int, bytes]]:
    """One partition's `(range_key, size, item)` rows through the items cursor."""
    bounds = KeyRange(hash_key, lower, upper, lower_inclusive, upper_inclusive, forward)
    cursor = engine.items.cursor(table_id, bounds)
    if after is not None:
        cursor.after = (hash_key, after)
    return [tuple(row[1:]) for row in cursor.fetch(limit)]  # type: ignore[misc]


def index_range_read(
    engine: Engine,
    index_id: int,
    hash_key: bytes,
    lower: bytes | None = None,
    upper: bytes | None = None,
    *,
    lower_inclusive: bool = True,
    forward: bool = True,
    after: tuple[bytes, bytes] | None = None,
    limit: int = ALL,
) -> list[tuple[Any, ...]]:
    """One index partition's `(range_key, table_key, size, item)` rows."""
    bounds = KeyRange(hash_key, lower, upper, lower_inclusive, True, forward)
    cursor = engine.indexes.cursor(index_id, bounds)
    if after is not None:
        cursor.after = (hash_key, *after)
    return [row[1:] for row in cursor.fetch(limit)]


def scan(engine: Engine, table_id: int, after: Any = None, limit: int = ALL) -> list[Any]:
    cursor = engine.items.cursor(table_id)
    cursor.after = after
    return cursor.fetch(limit)


def index_scan(engine: Engine, index_id: int, after: Any = None) -> list[Any]:
    cursor = engine.indexes.cursor(index_id)
    cursor.after = after
    return cursor.fetch(ALL)


def fill(engine: Engine, kind: str, table_id: int = 1, hash_key: bytes = b"h") -> list[bytes]:
    """Store every value of `kind` (in reverse, so insertion order proves nothing)."""
    keys = [encoded(kind, v) for v in VALUES[kind]]
    with engine.transaction():
        for position, key in reversed(list(enumerate(keys))):
            engine.items.put(table_id, hash_key, key, 10, b'{"i": %d}' % position)
        engine.items.put(table_id, b"other", keys[0], 10, b"{}")
        engine.items.put(table_id + 1, hash_key, keys[0], 10, b"{}")
    return keys


def positions(rows: list[tuple[bytes, int, bytes]], keys: list[bytes]) -> list[int]:
    return [keys.index(row[0]) for row in rows]


@pytest.mark.parametrize("kind", ["N", "S", "B"])
def test_encoding_order_is_dynamodb_order(kind: str) -> None:
    keys = [encoded(kind, v) for v in VALUES[kind]]
    assert keys == sorted(keys)
    assert len(set(keys)) == len(keys)
    for value, key in zip(VALUES[kind], keys, strict=True):
        back = decode_key_value(kind, key)
        if kind == "N":
            assert Decimal(back) == Decimal(value)
        else:
            assert back == wire(kind, value)


def test_number_encoding_normalises() -> None:
    assert encode_key_value("N", "1") == encode_key_value("N", "1.0")
    assert encode_key_value("N", "100") == encode_key_value("N", "1E+2")
    assert encode_key_value("N", "-0.5") == encode_key_value("N", "-5E-1")
    assert encode_key_value("N", "0") == encode_key_value("N", "-0")
    assert encode_key_value("N", "10") > encode_key_value("N", "9.99999")
    assert encode_key_value("N", "-10") < encode_key_value("N", "-9.99999")
    assert (
        encode_key_value("N", "-1.5") < encode_key_value("N", "-1.05") < encode_key_value("N", "-1")
    )


@pytest.mark.parametrize("kind", ["N", "S", "B"])
def test_range_read_whole_partition_both_directions(engine: Engine, kind: str) -> None:
    keys = fill(engine, kind)
    forward = range_read(engine, 1, b"h")
    assert positions(forward, keys) == list(range(len(keys)))
    assert [row[2] for row in forward][:1] == [b'{"i": 0}']
    backward = range_read(engine, 1, b"h", forward=False)
    assert positions(backward, keys) == list(range(len(keys)))[::-1]
    assert range_read(engine, 1, b"nobody") == []


@pytest.mark.parametrize("kind", ["N", "S", "B"])
def test_range_read_bounds(engine: Engine, kind: str) -> None:
    keys = fill(engine, kind)
    n = len(keys)
    lo, hi = 2, n - 3
    cases = [
        ({"lower": keys[lo]}, list(range(lo, n))),
        ({"lower": keys[lo], "lower_inclusive": False}, list(range(lo + 1, n))),
        ({"upper": keys[hi]}, list(range(hi + 1))),
        ({"upper": keys[hi], "upper_inclusive": False}, list(range(hi))),
        ({"lower": keys[lo], "upper": keys[hi]}, list(range(lo, hi + 1))),
        ({"lower": keys[lo], "upper": keys[lo]}, [lo]),
        ({"lower": keys[hi], "upper": keys[lo]}, []),
    ]
    for bounds, expected in cases:
        assert positions(range_read(engine, 1, b"h", **bounds), keys) == expected, bounds
        backward = range_read(engine, 1, b"h", forward=False, **bounds)
        assert positions(backward, keys) == expected[::-1], bounds


@pytest.mark.parametrize("kind", ["N", "S", "B"])
def test_range_read_resumes_after_a_key_with_limit(engine: Engine, kind: str) -> None:
    keys = fill(engine, kind)
    for forward in (True, False):
        seen: list[int] = []
        after = None
        while True:
            rows = range_read(engine, 1, b"h", forward=forward, after=after, limit=4)
            seen.extend(positions(rows, keys))
            if len(rows) < 4:
                break
            after = rows[-1][0]
        expected = list(range(len(keys)))
        assert seen == (expected if forward else expected[::-1])
    # `after` need not be a stored key: it is a position.
    middle = encode_key_value("N", "0.5") if kind == "N" else keys[5] + b"\x00"
    rows = range_read(engine, 1, b"h", after=middle)
    assert all(row[0] > middle for row in rows)
    assert len(rows) == sum(1 for k in keys if k > middle)


def test_begins_with_ranges_on_bytes(engine: Engine) -> None:
    keys = fill(engine, "B")
    for prefix in (b"\x00", b"\xff", b"\xff\xff", b"\x7f", b"\xfe"):
        upper = prefix_upper_bound(prefix)
        rows = (
            range_read(engine, 1, b"h", prefix, upper, upper_inclusive=False)
            if upper is not None
            else range_read(engine, 1, b"h", prefix)
        )
        expected = [i for i, k in enumerate(keys) if k.startswith(prefix)]
        assert positions(rows, keys) == expected, prefix
    assert prefix_upper_bound(b"ab") == b"ac"
    assert prefix_upper_bound(b"a\xff") == b"b"
    assert prefix_upper_bound(b"\xff\xff") is None


def test_begins_with_ranges_on_strings(engine: Engine) -> None:
    keys = fill(engine, "S")
    for prefix in ("a", "\U0001f600", "\u4e2d", "Z"):
        low = prefix.encode()
        rows = range_read(engine, 1, b"h", low, prefix_upper_bound(low), upper_inclusive=False)
        expected = [i for i, v in enumerate(STRINGS) if v.startswith(prefix)]
        assert positions(rows, keys) == expected


def test_scan_items_in_key_order_and_resume(engine: Engine) -> None:
    with engine.transaction():
        for h in (b"\xff", b"\x00", b"m"):
            for r in (encoded("N", "-1"), encoded("N", "1E+5"), encoded("N", "0")):
                engine.items.put(7, h, r, 1, b"{}")
    rows = scan(engine, 7)
    order = [(row[0], row[1]) for row in rows]
    assert order == sorted(order)
    assert len(order) == 9
    resumed = scan(engine, 7, after=order[3], limit=2)
    assert [(row[0], row[1]) for row in resumed] == order[4:6]


def test_index_range_read_orders_ties_by_table_key(engine: Engine) -> None:
    with engine.transaction():
        for n, table_key in [("-2.5", b"t3"), ("-2.5", b"t1"), ("1E+3", b"t0"), ("0", b"t2")]:
            engine.indexes.put(5, b"g", encoded("N", n), table_key, 1, b"{}")
        engine.indexes.put(6, b"g", encoded("N", "0"), b"other-index", 1, b"{}")
    rows = index_range_read(engine, 5, b"g")
    assert [row[1] for row in rows] == [b"t1", b"t3", b"t2", b"t0"]
    backward = index_range_read(engine, 5, b"g", forward=False)
    assert [row[1] for row in backward] == [b"t0", b"t2", b"t3", b"t1"]
    after = index_range_read(engine, 5, b"g", after=(encoded("N", "-2.5"), b"t1"), limit=2)
    assert [row[1] for row in after] == [b"t3", b"t2"]
    before = index_range_read(engine, 5, b"g", forward=False, after=(encoded("N", "-2.5"), b"t3"))
    assert [row[1] for row in before] == [b"t1"]
    bounded = index_range_read(
        engine, 5, b"g", encoded("N", "-2.5"), encoded("N", "0"), lower_inclusive=False
    )
    assert [row[1] for row in bounded] == [b"t2"]
    assert engine.indexes.usage(5) == (4, 4)
    with engine.transaction():
        engine.indexes.delete(5, b"g", encoded("N", "0"), b"t2")
    assert engine.indexes.usage(5) == (3, 3)
    entries = index_scan(engine, 5)
    assert [e[2] for e in entries] == [b"t1", b"t3", b"t0"]
    assert [e[2] for e in index_scan(engine, 5, after=entries[0][:3])] == [b"t3", b"t0"]
    with engine.transaction():
        engine.indexes.drop(5)
    assert engine.indexes.usage(5) == (0, 0) and engine.indexes.usage(6) == (1, 1)


def test_hash_only_keys_use_an_empty_range_key(engine: Engine) -> None:
    with engine.transaction():
        engine.items.put(3, encoded("B", b"\x00"), b"", 5, b'{"a": 1}')
        engine.items.put(3, encoded("B", b"\xff"), b"", 6, b'{"a": 2}')
    assert range_read(engine, 3, encoded("B", b"\x00")) == [(b"", 5, b'{"a": 1}')]
    assert engine.items.get(3, encoded("B", b"\xff"), b"") == (b'{"a": 2}', 6)
    assert engine.items.usage(3) == (2, 11)


# --------------------------------------------------------------------------- item cache


def _fresh_read(engine: Engine, key: tuple[int, bytes, bytes]) -> tuple[bytes, int] | None:
    """What SQLite itself holds, bypassing the engine's item cache."""
    row = engine.connection.execute(
        "SELECT item, size FROM items WHERE table_id = ? AND hash_key = ? AND range_key = ?", key
    ).fetchone()
    return None if row is None else (bytes(row[0]), int(row[1]))


def test_item_cache_follows_every_change_and_forgets_on_rollback() -> None:
    """Reads served from the engine's cache of hot items always equal what is stored:
    after a replace, a delete, a rolled-back transaction and a table deletion."""
    engine = Engine.open(None)
    row = engine.catalog.create_table("us-east-1", "cached", {}, lambda _: {})
    key = (row.table_id, b"hot", b"")

    def read() -> tuple[bytes, int] | None:
        found = engine.items.get(*key)
        assert found == _fresh_read(engine, key)
        return found

    engine.items.put(*key, 3, b'{"v":1}')
    assert read() == (b'{"v":1}', 3)  # now cached
    engine.items.put(*key, 4, b'{"v":22}')
    assert read() == (b'{"v":22}', 4)
    assert (engine.items.get(*key) or (b"", 0))[0] == b'{"v":22}'

    with pytest.raises(RuntimeError), engine.transaction():
        engine.items.put(*key, 5, b'{"v":333}')
        assert read() == (b'{"v":333}', 5)
        raise RuntimeError("roll back")
    assert read() == (b'{"v":22}', 4)

    engine.items.delete(*key)
    assert read() is None
    assert engine.items.insert(*key, 3, b'{"v":1}')
    assert read() == (b'{"v":1}', 3)
    with engine.transaction():
        engine.items.drop_table(row.table_id)
        engine.catalog.delete_table(row)
    assert read() is None


def test_item_cache_keeps_large_items_out() -> None:
    engine = Engine.open(None)
    row = engine.catalog.create_table("us-east-1", "large", {}, lambda _: {})
    key = (row.table_id, b"big", b"")
    blob = b'{"v":"' + b"x" * 10_000 + b'"}'
    engine.items.put(*key, len(blob), blob)
    assert engine.items.get(*key) == (blob, len(blob))
    engine.connection.execute("DELETE FROM items")  # behind the engine's back
    assert engine.items.get(*key) is None  # so it was read from SQLite
