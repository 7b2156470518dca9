"""A second real client: the AWS SDK for JavaScript v3 (tests/js, versions pinned in its
package-lock.json) runs create table → write → read stream records against the emulator.

`.ci/run` installs the packages (`npm ci` in tests/js). When they are missing the test
installs them itself, so `python -m pytest` alone works on a machine with Node and npm;
it is skipped only when `node` or `npm` is not installed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest
from conftest import ROOT

JS_DIR = ROOT / "tests" / "js"
PACKAGES = ("@aws-sdk/client-dynamodb", "@aws-sdk/client-dynamodb-streams")


@pytest.fixture(scope="module")
def node() -> str:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("the AWS SDK for JavaScript test needs `node` and `npm` on PATH")
    if not all((JS_DIR / "node_modules" / name / "package.json").exists() for name in PACKAGES):
        installed = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"],
            cwd=JS_DIR,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert installed.returncode == 0, f"npm ci in tests/js failed:\n{installed.stderr}"
    return node


def test_js_sdk_v3_create_write_read_stream(node: str, endpoint: str) -> None:
    pinned = json.loads((JS_DIR / "package.json").read_text())["dependencies"]
    for name in PACKAGES:
        installed = json.loads((JS_DIR / "node_modules" / name / "package.json").read_text())
        assert installed["version"] == pinned[name], f"{name}: run `npm ci` in tests/js"
    # The endpoint goes in AWS_ENDPOINT_URL, which the SDK reads for both clients.
    result = subprocess.run(
        [node, "stream_roundtrip.mjs"],
        cwd=JS_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "AWS_ENDPOINT_URL": endpoint, "NODE_NO_WARNINGS": "1"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome["ok"] is True
    assert outcome["events"] == ["INSERT", "MODIFY", "REMOVE"]
