"""The AWS SDK for JavaScript v3 Kinesis client (tests/kinesis, pinned in its
package-lock.json) against the built-in Kinesis endpoint (SPEC-STREAM-APPS 5.1: JSON 1.1).

`.ci/run` installs the packages (`npm ci` in tests/kinesis); when they are missing the
test installs them itself. Skipped only when `node` or `npm` is not installed.
"""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from conftest import ROOT

PARTNERS = ROOT / "tests" / "kinesis"


@pytest.fixture(scope="module")
def node() -> str:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("the JavaScript SDK test needs `node` and `npm` on PATH")
    if not (PARTNERS / "node_modules" / "@aws-sdk" / "client-kinesis" / "package.json").exists():
        installed = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"],
            cwd=PARTNERS,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert installed.returncode == 0, f"npm ci in tests/kinesis failed:\n{installed.stderr}"
    return node


def test_js_sdk_v3_kinesis_client(node: str, endpoint: str) -> None:
    pinned = json.loads((PARTNERS / "package.json").read_text())["dependencies"]
    installed = json.loads(
        (PARTNERS / "node_modules" / "@aws-sdk" / "client-kinesis" / "package.json").read_text()
    )
    assert installed["version"] == pinned["@aws-sdk/client-kinesis"]
    result = subprocess.run(
        [node, "kinesis_roundtrip.mjs", endpoint, "js-sdk-stream"],
        cwd=PARTNERS,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "NODE_NO_WARNINGS": "1"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome["records"] == sorted(["one", *(f"batch-{i}" for i in range(9))])
    assert outcome["notFound"] == {
        "name": "ResourceNotFoundException",
        "message": "Stream js-sdk-stream-missing under account 000000000000 not found.",
    }
