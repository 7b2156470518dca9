"""Operations about the service endpoint and the account rather than a table."""

from __future__ import annotations

from typing import Any

from emulator.runtime.backend import Backend

#: DynamoDB's documented default quotas: 40,000 read and write units per table and
#: 80,000 per account (per region), the figures DescribeLimits answers on a new account.
TABLE_MAX_UNITS = 40_000
ACCOUNT_MAX_UNITS = 80_000


def describe_endpoints(backend: Backend, region: str, request: dict[str, Any]) -> dict[str, Any]:
    """The regional endpoint, as AWS answers it (SDKs consult it only with endpoint
    discovery on and no endpoint URL of their own, so a client pointed here stays here)."""
    return {
        "Endpoints": [{"Address": f"dynamodb.{region}.amazonaws.com", "CachePeriodInMinutes": 1440}]
    }


def describe_limits(backend: Backend, region: str, request: dict[str, Any]) -> dict[str, Any]:
    """The account's provisioned-capacity quotas (the emulator enforces none of them)."""
    return {
        "AccountMaxReadCapacityUnits": ACCOUNT_MAX_UNITS,
        "AccountMaxWriteCapacityUnits": ACCOUNT_MAX_UNITS,
        "TableMaxReadCapacityUnits": TABLE_MAX_UNITS,
        "TableMaxWriteCapacityUnits": TABLE_MAX_UNITS,
    }
