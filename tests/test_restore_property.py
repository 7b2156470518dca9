"""Restore at any second gives exactly the table as it was (a model over random writes;
scripts/restore_property.py runs the same with 10,000 writes)."""

from __future__ import annotations

from tests.conftest import make_client, start_server
from tests.restore_model import run


def test_restore_at_any_second_matches_the_model() -> None:
    server = start_server()
    try:
        client = make_client(server.url)
        assert run(server.url, client, writes=400, restores=12, seed=17, table="model") == 12
    finally:
        server.stop()
