"""Lambda functions as stored by the Lambda API, read by whatever runs them (Invoke, the
event-source-mapping poller): names and ARNs as Lambda accepts them, and the
`FunctionSpec` a target registry builds a runnable target from (a new one whenever the
spec's revision changes: an update, or an edited file of a code folder).

A function is a `documents` entry of kind `FUNCTION_KIND` keyed by region and plain
name: `{"Configuration": <FunctionConfiguration as GetFunction shows it>, "Tags"?: {...},
"CodeDir"?: <absolute folder>, "ImageUri"?: <uri>}`, its deployment package (the zip) the
document's blob. Functions handed to the emulator as in-process callables or URLs
(`overridden` names) exist in every region without a document.
"""

from __future__ import annotations

import hashlib
import os
import re
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from emulator.storage.documents import DocumentStore
from emulator.triggers.mapping import FUNCTION_KIND
from emulator.triggers.targets import FunctionSpec

LATEST = "$LATEST"

# FunctionName as Lambda takes it: a name, `name:qualifier`, a partial ARN
# (`123456789012:function:name`) or a full ARN, each optionally qualified.
_FUNCTION_NAME = re.compile(
    r"(?:arn:(?P<partition>aws[a-zA-Z-]*)?:lambda:(?P<region>[a-z0-9-]+):)?"
    r"(?:(?P<account>\d{12}):)?"
    r"(?:function:)?"
    r"(?P<name>[a-zA-Z0-9\-_.]+)"
    r"(?::(?P<qualifier>\$LATEST(?:\.PUBLISHED)?|[a-zA-Z0-9\-_]+))?"
)


@dataclass(frozen=True, slots=True)
class FunctionRef:
    """A parsed FunctionName: what it names, and the parts an ARN form pinned."""

    name: str
    qualifier: str | None = None
    region: str | None = None
    account: str | None = None

    @property
    def is_arn(self) -> bool:
        return self.account is not None


def parse_function_name(value: str) -> FunctionRef | None:
    """The parts of a FunctionName (None: not a form Lambda accepts)."""
    match = _FUNCTION_NAME.fullmatch(value)
    if match is None:
        return None
    return FunctionRef(
        name=match["name"],
        qualifier=match["qualifier"],
        region=match["region"],
        account=match["account"],
    )


def function_arn(region: str, account: str, name: str, qualifier: str | None = None) -> str:
    arn = f"arn:aws:lambda:{region}:{account}:function:{name}"
    return f"{arn}:{qualifier}" if qualifier else arn


def override_revision(name: str) -> str:
    """The (stable) RevisionId of a function that exists only as an override."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"ddb-streams-emulator:function:{name}"))


def load_function(documents: DocumentStore, region: str, name: str) -> dict[str, Any] | None:
    """The stored function document of a plain name, or None."""
    return documents.get(FUNCTION_KIND, region, name)


def function_spec(
    documents: DocumentStore,
    region: str,
    name_or_arn: str,
    *,
    overridden: Collection[str] = (),
    account_id: str = "000000000000",
) -> FunctionSpec | None:
    """What runs `name_or_arn` in `region`: the stored function's configuration and
    code, or (for a name only given as a callable or URL) a spec naming it. None when
    there is no such function, or when the name points at another region or account, or
    at a version other than $LATEST (the emulator has no published versions)."""
    ref = parse_function_name(name_or_arn)
    if ref is None or (ref.region is not None and ref.region != region):
        return None
    if ref.qualifier not in (None, LATEST):
        return None
    document = load_function(documents, region, ref.name)
    if document is None:
        if ref.name not in overridden:
            return None
        if ref.account is not None and ref.account != account_id:
            return None
        return FunctionSpec(
            name=ref.name,
            arn=function_arn(region, account_id, ref.name),
            runtime=None,
            handler=None,
            revision=override_revision(ref.name),
            region=region,
        )
    configuration = document["Configuration"]
    arn: str = configuration["FunctionArn"]
    if ref.account is not None and arn.split(":")[4] != ref.account:
        return None
    code_dir = document.get("CodeDir")
    return FunctionSpec(
        name=ref.name,
        arn=arn,
        runtime=configuration.get("Runtime"),
        handler=configuration.get("Handler"),
        timeout_seconds=float(configuration.get("Timeout", 3)),
        memory_mb=int(configuration.get("MemorySize", 128)),
        environment=dict((configuration.get("Environment") or {}).get("Variables") or {}),
        code_zip=None if code_dir else documents.get_blob(FUNCTION_KIND, region, ref.name),
        code_dir=code_dir,
        revision=configuration.get("RevisionId", "")
        + (f":{folder_fingerprint(code_dir)}" if code_dir else ""),
        region=region,
    )


#: Folders a code folder's fingerprint leaves out: caches and dependency trees.
_UNWATCHED = frozenset({"__pycache__", "node_modules"})


def folder_fingerprint(folder: str) -> str:
    """What a code folder holds now (names, sizes, modification times): part of the
    revision of a function whose code is a folder, so an edited file gives the next
    invocation a fresh worker (hot reload). Hidden entries, `__pycache__` and
    `node_modules` are not looked at."""
    digest = hashlib.sha256()
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if d not in _UNWATCHED and not d.startswith("."))
        for name in sorted(files):
            if name.startswith("."):
                continue
            path = os.path.join(root, name)
            try:
                info = os.stat(path)
            except OSError:
                continue
            entry = f"{os.path.relpath(path, folder)}\0{info.st_size}\0{info.st_mtime_ns}\n"
            digest.update(entry.encode("utf-8", "surrogateescape"))
    return digest.hexdigest()[:16]
