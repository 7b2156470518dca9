"""Shared by the runner tests: function specs, a handler module with one behaviour per
`action`, and running a scenario against a fresh TargetRegistry on its own event loop."""

from __future__ import annotations

import asyncio
import io
import json
import os
import time
import uuid
import zipfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from emulator.triggers.runners import TargetRegistry
from emulator.triggers.targets import FunctionSpec, Invocation, InvokeResult, Target

T = TypeVar("T")
ACCOUNT = "000000000000"

#: A Python handler module: `handler(event, context)` does what `event["action"]` says.
PYTHON_APP = r"""
import decimal
import json
import logging
import os
import signal
import subprocess
import sys
import time

print("init output of app")
COUNT = 0


def wait_for(path, seconds=20.0):
    deadline = time.monotonic() + seconds
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


def handler(event, context):
    global COUNT
    COUNT += 1
    action = event.get("action")
    if action == "echo":
        return event
    if action == "context":
        client = context.client_context
        return {
            "aws_request_id": context.aws_request_id,
            "function_name": context.function_name,
            "function_version": context.function_version,
            "invoked_function_arn": context.invoked_function_arn,
            "memory_limit_in_mb": context.memory_limit_in_mb,
            "log_group_name": context.log_group_name,
            "log_stream_name": context.log_stream_name,
            "remaining": context.get_remaining_time_in_millis(),
            "identity": [context.identity.cognito_identity_id,
                         context.identity.cognito_identity_pool_id],
            "client_context": None if client is None else {
                "custom": client.custom, "env": client.env,
                "installation_id": client.client.installation_id if client.client else None,
            },
        }
    if action == "env":
        return {"env": dict(os.environ), "cwd": os.getcwd(), "path0": sys.path[0],
                "executable": sys.executable}
    if action == "count":
        return {"count": COUNT, "pid": os.getpid()}
    if action == "raise":
        raise ValueError("boom")
    if action == "exit":
        os._exit(event["code"])
    if action == "sys_exit":
        sys.exit(2)
    if action == "signal":
        os.kill(os.getpid(), event["signal"])
        time.sleep(10)
    if action == "hang":
        pids = [os.getpid()]
        if event.get("child"):
            pids.append(subprocess.Popen(["sleep", "60"]).pid)
        with open(event["pid_file"], "w") as f:
            json.dump(pids, f)
        print("about to hang")
        time.sleep(60)
    if action == "log":
        print("to stdout")
        sys.stderr.write("to stderr\n")
        logging.warning("a warning %s", 1)
        logging.info("an info line the root logger drops")
        os.write(1, b"raw fd write\n")
        subprocess.run(["echo", "from a child process"], check=True)
        return "logged"
    if action == "big_log":
        sys.stdout.write("x" * (3 << 20) + "\n")
        print("the end")
        return None
    if action == "rendezvous":
        folder = event["folder"]
        open(os.path.join(folder, str(os.getpid())), "w").close()
        deadline = time.monotonic() + 20
        while len(os.listdir(folder)) < event["n"] and time.monotonic() < deadline:
            time.sleep(0.005)
        return {"pid": os.getpid(), "saw": len(os.listdir(folder))}
    if action == "wait_for_file":
        return {"appeared": wait_for(event["path"])}
    if action == "sleep":
        time.sleep(event["seconds"])
        return {"slept": event["seconds"], "pid": os.getpid()}
    if action == "decimal":
        return {"d": decimal.Decimal("1.5"), "i": decimal.Decimal("3")}
    if action == "unmarshalable":
        return {"s": {1, 2}}
    if action == "huge":
        return "x" * 7_000_000
    if action == "enormous":
        return "x" * 30_000_000
    if action == "none":
        return None
    if action == "boto3":
        import boto3
        client = boto3.client("dynamodb", endpoint_url=event["endpoint"])
        client.put_item(TableName=event["table"], Item={"pk": {"S": event["key"]}})
        return client.get_item(TableName=event["table"], Key={"pk": {"S": event["key"]}})["Item"]
    return {"unknown action": action}
"""


def write_app(folder: Path, source: str = PYTHON_APP, name: str = "app.py") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(source)
    return folder


def zip_of(files: dict[str, str | bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def spec(
    name: str = "f",
    *,
    handler: str = "app.handler",
    runtime: str = "python3.12",
    code_dir: str | Path | None = None,
    code_zip: bytes | None = None,
    timeout: float = 3.0,
    memory: int = 128,
    environment: dict[str, str] | None = None,
    revision: str = "r1",
    region: str = "us-east-1",
) -> FunctionSpec:
    return FunctionSpec(
        name=name,
        arn=f"arn:aws:lambda:{region}:{ACCOUNT}:function:{name}",
        runtime=runtime,
        handler=handler,
        timeout_seconds=timeout,
        memory_mb=memory,
        environment=environment or {},
        code_zip=code_zip,
        code_dir=None if code_dir is None else str(code_dir),
        revision=revision,
        region=region,
    )


def invocation(event: Any, *, request_id: str | None = None, **options: Any) -> Invocation:
    return Invocation(json.dumps(event).encode(), request_id or str(uuid.uuid4()), **options)


async def call(target: Target, event: Any, **options: Any) -> InvokeResult:
    return await target.invoke(invocation(event, **options))


def payload(result: InvokeResult) -> Any:
    return json.loads(result.payload)


def run(scenario: Callable[[TargetRegistry], Awaitable[T]], **options: Any) -> T:
    """`scenario(registry)` on a fresh event loop; the registry is closed after."""

    async def main() -> T:
        registry = TargetRegistry(**options)
        try:
            return await scenario(registry)
        finally:
            await registry.close()

    return asyncio.run(main())


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0): look at its state.
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


def eventually(condition: Callable[[], bool], seconds: float = 10.0) -> bool:
    """Wait (without a fixed sleep) until `condition()` holds, or give up."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


async def eventually_async(condition: Callable[[], bool], seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.01)
    return True
