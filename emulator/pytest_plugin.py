"""pytest fixtures for code that uses DynamoDB and DynamoDB Streams.

Installed with the package and loaded by pytest through the `pytest11` entry point
(`ddb_emulator`); nothing to import or configure:

- `ddb_endpoint` (session): the URL of an emulator started in-process on a free port for
  the test session (in memory), or the one given with `--ddb-endpoint URL` (e.g. a
  container started by docker compose).
- `ddb_reset`: drops every table and stream (`POST /_emulator/reset`) before the test
  (with `--ddb-admin-token TOKEN` or EMULATOR_ADMIN_TOKEN for an emulator started with
  `--admin-token`).
- `ddb_client` / `ddb_streams_client`: boto3 `dynamodb` / `dynamodbstreams` clients for
  `ddb_endpoint` (region us-east-1, dummy credentials). Both use `ddb_reset`, so every
  test that asks for a client starts with no tables. boto3 must be installed.
- `ddb_function`: `ddb_function("name", handler)` runs `handler(event, context)` in the
  test's process as Lambda function `name` (Invoke, event source mappings) instead of the
  function's code, until the test ends. Needs the in-process emulator (not
  `--ddb-endpoint`).
- `ddb_lambda_client`: a boto3 `lambda` client for `ddb_endpoint` (functions, event source
  mappings, Invoke).
- `ddb_settle`: `ddb_settle(timeout=10)` returns once every trigger has delivered everything
  it has and nothing is in flight (`POST /_emulator/triggers/settle`); it fails the test,
  saying what is pending, when that cannot happen (e.g. a window waits for the clock).

Nothing here is autouse and the module imports neither boto3 nor the server until a
fixture is used, so a test suite that does not use the fixtures does not pay for them.
"""

from __future__ import annotations

import os
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import pytest

REGION = "us-east-1"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("ddb-emulator", "DynamoDB + Streams emulator fixtures")
    group.addoption(
        "--ddb-endpoint",
        dest="ddb_endpoint",
        default=None,
        metavar="URL",
        help="use the emulator at URL for the ddb_* fixtures instead of starting one "
        "in-process (its tables are reset before every test that uses a client)",
    )
    group.addoption(
        "--ddb-admin-token",
        dest="ddb_admin_token",
        default=os.environ.get("EMULATOR_ADMIN_TOKEN"),
        metavar="TOKEN",
        help="the --admin-token of the emulator given with --ddb-endpoint, for the reset "
        "before each test [EMULATOR_ADMIN_TOKEN]",
    )


@pytest.fixture(scope="session")
def ddb_endpoint(request: pytest.FixtureRequest) -> Iterator[str]:
    """URL of the emulator for this test session."""
    external = request.config.getoption("ddb_endpoint")
    if external:
        yield str(external).rstrip("/")
        return
    from emulator.serving import serve

    with serve(port=0) as url:
        yield url


def _admin_headers(request: pytest.FixtureRequest) -> dict[str, str]:
    """What an admin POST carries: the JSON content type the admin API's CSRF guard wants,
    and the `--ddb-admin-token` when one is given."""
    headers = {"Content-Type": "application/json"}
    token = request.config.getoption("ddb_admin_token")
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return headers


@pytest.fixture
def ddb_reset(ddb_endpoint: str, request: pytest.FixtureRequest) -> None:
    """Drop every table and stream of the emulator and put its clock back to real time, so
    the test starts from nothing."""
    headers = _admin_headers(request)
    reset = urllib.request.Request(
        ddb_endpoint + "/_emulator/reset", data=b"{}", method="POST", headers=headers
    )
    with urllib.request.urlopen(reset, timeout=30) as response:
        response.read()


class _Clients:
    """boto3 clients made once per session (making one costs tens of milliseconds)."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        self._made: dict[str, Any] = {}

    def get(self, service: str) -> Any:
        if service not in self._made:
            try:
                import boto3
                from botocore.config import Config
            except ImportError:  # pragma: no cover - depends on the environment
                pytest.fail("the ddb_client / ddb_streams_client fixtures need boto3")
            self._made[service] = boto3.client(
                service,
                endpoint_url=self.endpoint,
                region_name=REGION,
                aws_access_key_id="test",
                aws_secret_access_key="test",
                config=Config(retries={"max_attempts": 1}),
            )
        return self._made[service]


@pytest.fixture(scope="session")
def _ddb_emulator_clients(ddb_endpoint: str) -> _Clients:
    return _Clients(ddb_endpoint)


@pytest.fixture
def ddb_client(_ddb_emulator_clients: _Clients, ddb_reset: None) -> Any:
    """A boto3 DynamoDB client for the emulator, which has no tables when the test starts."""
    return _ddb_emulator_clients.get("dynamodb")


@pytest.fixture
def ddb_streams_client(_ddb_emulator_clients: _Clients, ddb_reset: None) -> Any:
    """A boto3 DynamoDB Streams client for the emulator (reset like `ddb_client`)."""
    return _ddb_emulator_clients.get("dynamodbstreams")


@pytest.fixture
def ddb_lambda_client(_ddb_emulator_clients: _Clients, ddb_reset: None) -> Any:
    """A boto3 Lambda client for the emulator (reset like `ddb_client`)."""
    return _ddb_emulator_clients.get("lambda")


@pytest.fixture
def ddb_settle(ddb_endpoint: str, request: pytest.FixtureRequest) -> Callable[..., None]:
    """`ddb_settle(timeout=10)`: wait until every trigger has delivered what was written."""
    import json
    import urllib.error

    headers = _admin_headers(request)

    def settle(timeout: float = 10) -> None:
        call = urllib.request.Request(
            ddb_endpoint + "/_emulator/triggers/settle",
            data=json.dumps({"timeout": timeout}).encode(),
            headers=headers,
            method="POST",
        )
        try:
            with urllib.request.urlopen(call, timeout=timeout + 30) as response:
                response.read()
        except urllib.error.HTTPError as error:
            pending = json.loads(error.read()).get("pending")
            pytest.fail(f"the emulator's triggers did not settle within {timeout} s: {pending}")

    return settle


@pytest.fixture
def ddb_function(ddb_endpoint: str) -> Iterator[Callable[[str, Callable[..., Any]], None]]:
    """`ddb_function(name, handler)`: the emulator runs `handler(event, context)` (plain or
    async) in this process whenever Lambda function `name` is invoked, for this test."""
    from emulator.serving import function_registry

    registry = function_registry(ddb_endpoint)
    if registry is None:
        pytest.fail(
            "ddb_function runs a handler in the test's process, so it needs the emulator "
            f"this pytest process started; {ddb_endpoint} (--ddb-endpoint) is another process"
        )
    names: list[str] = []

    def register(name: str, handler: Callable[..., Any]) -> None:
        registry.register_callable(name, handler)
        names.append(name)

    yield register
    for name in names:
        registry.unregister_callable(name)
