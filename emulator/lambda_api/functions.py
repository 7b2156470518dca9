"""Lambda functions: CreateFunction, GetFunction, GetFunctionConfiguration, ListFunctions,
UpdateFunctionConfiguration, UpdateFunctionCode, DeleteFunction (SPEC-STREAM-APPS 2.3).

Creation and updates complete at once: the stored configuration is the settled one
(`State: Active`, `LastUpdateStatus: Successful`), and the Create/Update answers show the
transient state AWS answers with. A function's code is a zip (the document's blob), a
local folder (`Code={"S3Bucket": "hot-reload", "S3Key": "/abs/folder"}`, read afresh on
every cold start) or a container image URI (kept, not run).
"""

from __future__ import annotations

import base64
import binascii
import copy
import hashlib
import io
import os
import uuid
import zipfile
from dataclasses import dataclass
from typing import Any

from emulator.lambda_api.common import (
    LambdaRequest,
    Reply,
    decode_marker,
    encode_marker,
    integer_parameter,
    iso_timestamp,
    validate,
)
from emulator.lambda_api.errors import (
    InvalidParameterValueException,
    PreconditionFailedException,
    ResourceConflictException,
    ResourceNotFoundException,
    ValidationException,
)
from emulator.runtime.backend import Backend
from emulator.triggers.functions import (
    LATEST,
    function_arn,
    load_function,
    override_revision,
    parse_function_name,
)
from emulator.triggers.mapping import FUNCTION_KIND

#: The S3 bucket name that marks `S3Key` as a local folder holding the code.
HOT_RELOAD_BUCKET = "hot-reload"
FUNCTIONS_PER_PAGE = 50
MAX_NAME_LENGTH = 64
MAX_UNZIPPED_BYTES = 262_144_000
PENDING_REASON = "The function is being created."

#: Environment variables Lambda sets itself and refuses in a configuration.
RESERVED_VARIABLES = frozenset(
    {
        "_HANDLER",
        "_X_AMZN_TRACE_ID",
        "AWS_DEFAULT_REGION",
        "AWS_REGION",
        "AWS_EXECUTION_ENV",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_INITIALIZATION_TYPE",
        "AWS_LAMBDA_LOG_GROUP_NAME",
        "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_ACCESS_KEY",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_LAMBDA_RUNTIME_API",
        "LAMBDA_TASK_ROOT",
        "LAMBDA_RUNTIME_DIR",
    }
)

#: Keys ListFunctions leaves out of each configuration (the model's ListFunctions doc).
_NOT_LISTED = (
    "State",
    "StateReason",
    "StateReasonCode",
    "LastUpdateStatus",
    "LastUpdateStatusReason",
    "LastUpdateStatusReasonCode",
    "RuntimeVersionConfig",
)

#: When the API first showed an override-only function (its synthetic LastModified).
_first_seen: dict[str, float] = {}


def overridden_names(backend: Backend) -> set[str]:
    """Functions given as in-process callables or `--function name=URL`: they exist in
    every region without CreateFunction."""
    return backend.targets.overridden_names()


# -- finding a function ---------------------------------------------------------------


@dataclass
class FoundFunction:
    name: str
    arn: str
    #: The stored document; None for a function that exists only as an override.
    document: dict[str, Any] | None


def not_found(region: str, account: str, name: str, qualifier: str | None) -> Exception:
    arn = function_arn(region, account, name, qualifier)
    return ResourceNotFoundException(f"Function not found: {arn}")


def find_function(
    backend: Backend, region: str, value: str, qualifier: str | None = None
) -> FoundFunction:
    """The function a FunctionName (+ Qualifier) names, or Lambda's 404."""
    account = backend.config.account_id
    ref = parse_function_name(value)
    if ref is None:
        raise not_found(region, account, value, qualifier)
    if ref.qualifier is not None and qualifier is not None and ref.qualifier != qualifier:
        raise InvalidParameterValueException(
            "The derived qualifier from the function name does not match the specified qualifier."
        )
    qualifier = ref.qualifier or qualifier
    arn_region, arn_account = ref.region or region, ref.account or account
    if arn_region != region or arn_account != account or qualifier not in (None, LATEST):
        raise not_found(arn_region, arn_account, ref.name, qualifier)
    document = load_function(backend.engine.documents, region, ref.name)
    if document is None and ref.name not in overridden_names(backend):
        raise not_found(region, account, ref.name, qualifier)
    return FoundFunction(ref.name, function_arn(region, account, ref.name), document)


def configuration_of(backend: Backend, found: FoundFunction) -> dict[str, Any]:
    if found.document is not None:
        configuration: dict[str, Any] = found.document["Configuration"]
        return configuration
    return synthetic_configuration(backend, found.name, found.arn)


def synthetic_configuration(backend: Backend, name: str, arn: str) -> dict[str, Any]:
    """What the API shows for a function given as a callable or URL (no CreateFunction)."""
    account = backend.config.account_id
    seen = _first_seen.setdefault(name, backend.clock.now())
    return {
        "FunctionName": name,
        "FunctionArn": arn,
        "Role": f"arn:aws:iam::{account}:role/emulator-function",
        "CodeSize": 0,
        "Description": "Provided to the emulator as an in-process callable or a URL.",
        "Timeout": 3,
        "MemorySize": 128,
        "LastModified": iso_timestamp(seen),
        "CodeSha256": _sha256(name.encode()),
        "Version": LATEST,
        "Environment": {"Variables": {}},
        "TracingConfig": {"Mode": "PassThrough"},
        "RevisionId": override_revision(name),
        "State": "Active",
        "LastUpdateStatus": "Successful",
        "PackageType": "Zip",
        "Architectures": ["x86_64"],
        "EphemeralStorage": {"Size": 512},
        "SnapStart": {"ApplyOn": "None", "OptimizationStatus": "Off"},
        "LoggingConfig": {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{name}"},
    }


def _require_stored(found: FoundFunction) -> dict[str, Any]:
    if found.document is None:
        raise ResourceConflictException(
            f"Function {found.name} is provided to the emulator as an in-process callable "
            "or a URL; it cannot be changed or deleted through the Lambda API."
        )
    return found.document


# -- code ----------------------------------------------------------------------------


@dataclass
class Code:
    zip: bytes | None = None
    folder: str | None = None
    image_uri: str | None = None

    @property
    def size(self) -> int:
        return len(self.zip) if self.zip is not None else 0

    @property
    def sha256(self) -> str:
        if self.zip is not None:
            return _sha256(self.zip)
        return _sha256((self.folder or self.image_uri or "").encode())


def _sha256(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def read_code(members: dict[str, Any], package_type: str) -> Code:
    """The code a `Code` structure (or UpdateFunctionCode's members) points at."""
    zip_text = members.get("ZipFile")
    bucket, key = members.get("S3Bucket"), members.get("S3Key")
    image_uri = members.get("ImageUri")
    if package_type == "Image":
        if image_uri is None:
            raise InvalidParameterValueException(
                "Please provide ImageUri when PackageType is Image."
            )
        if zip_text is not None or bucket is not None:
            raise InvalidParameterValueException(
                "Please don't provide ZipFile or S3 code parameters when PackageType is Image."
            )
        return Code(image_uri=image_uri)
    if image_uri is not None:
        raise InvalidParameterValueException(
            "Please don't provide ImageUri when PackageType is Zip."
        )
    if zip_text is not None:
        if bucket is not None or key is not None:
            raise InvalidParameterValueException(
                "Please do not provide other FunctionCode parameters when providing a ZipFile."
            )
        return Code(zip=_checked_zip(zip_text))
    if bucket is None or key is None:
        raise InvalidParameterValueException(
            "Please provide the function code: a ZipFile, or an S3Bucket and S3Key."
        )
    if bucket != HOT_RELOAD_BUCKET:
        raise InvalidParameterValueException(
            "Error occurred while GetObject. S3 Error Code: NoSuchBucket. S3 Error Message: "
            "The specified bucket does not exist"
        )
    if not os.path.isabs(key) or not os.path.isdir(key):
        raise InvalidParameterValueException(
            f"The code folder {key} (S3Bucket {HOT_RELOAD_BUCKET}) must be an absolute path "
            "to an existing folder."
        )
    return Code(folder=os.path.normpath(key))


def _checked_zip(text: str) -> bytes:
    try:
        data = base64.b64decode(text, validate=True)
    except binascii.Error:
        raise InvalidParameterValueException(
            "Could not unzip uploaded file. Please check your file, then try to upload again."
        ) from None
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unzipped = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError):
        raise InvalidParameterValueException(
            "Could not unzip uploaded file. Please check your file, then try to upload again."
        ) from None
    if unzipped > MAX_UNZIPPED_BYTES:
        raise InvalidParameterValueException(
            f"Unzipped size must be smaller than {MAX_UNZIPPED_BYTES} bytes"
        )
    return data


def code_location(request: LambdaRequest, name: str) -> str:
    """Where GetFunction says the deployment package can be downloaded."""
    return f"{request.base_url}/2015-03-31/functions/{name}/code?region={request.region}"


# -- configuration -------------------------------------------------------------------


def _check_environment(members: dict[str, Any]) -> None:
    variables = (members.get("Environment") or {}).get("Variables") or {}
    reserved = [key for key in variables if key in RESERVED_VARIABLES]
    if reserved:
        raise InvalidParameterValueException(
            "Lambda was unable to configure your environment variables because the "
            "environment variables you have provided contains reserved keys that are "
            f"currently not supported for modification. Reserved keys used in this request: "
            f"{', '.join(reserved)}"
        )


def _apply_settings(configuration: dict[str, Any], members: dict[str, Any]) -> None:
    """Copy the settings CreateFunction and UpdateFunctionConfiguration share."""
    for key in ("Role", "Description", "Timeout", "MemorySize", "KMSKeyArn"):
        if members.get(key) is not None:
            configuration[key] = members[key]
    if configuration.get("PackageType") != "Image":
        for key in ("Runtime", "Handler"):
            if members.get(key) is not None:
                configuration[key] = members[key]
    if members.get("Environment") is not None:
        variables = members["Environment"].get("Variables") or {}
        configuration["Environment"] = {"Variables": dict(variables)}
    if members.get("TracingConfig") is not None:
        configuration["TracingConfig"] = {
            "Mode": members["TracingConfig"].get("Mode") or "PassThrough"
        }
    if members.get("EphemeralStorage") is not None:
        configuration["EphemeralStorage"] = {"Size": members["EphemeralStorage"]["Size"]}
    if members.get("SnapStart") is not None:
        configuration["SnapStart"] = {
            "ApplyOn": members["SnapStart"].get("ApplyOn") or "None",
            "OptimizationStatus": "Off",
        }
    if members.get("LoggingConfig") is not None:
        logging = {**configuration.get("LoggingConfig", {}), **members["LoggingConfig"]}
        configuration["LoggingConfig"] = logging
    if members.get("VpcConfig") is not None:
        vpc = members["VpcConfig"]
        configuration["VpcConfig"] = {
            "SubnetIds": list(vpc.get("SubnetIds") or []),
            "SecurityGroupIds": list(vpc.get("SecurityGroupIds") or []),
            "Ipv6AllowedForDualStack": bool(vpc.get("Ipv6AllowedForDualStack", False)),
            "VpcId": "",
        }
    if members.get("DeadLetterConfig") is not None:
        configuration["DeadLetterConfig"] = dict(members["DeadLetterConfig"])
    if members.get("Layers") is not None:
        configuration["Layers"] = [{"Arn": arn, "CodeSize": 0} for arn in members["Layers"]]
    if members.get("FileSystemConfigs") is not None:
        configuration["FileSystemConfigs"] = list(members["FileSystemConfigs"])
    if members.get("ImageConfig") is not None:
        configuration["ImageConfigResponse"] = {"ImageConfig": dict(members["ImageConfig"])}


def _set_code(configuration: dict[str, Any], document: dict[str, Any], code: Code) -> None:
    configuration["CodeSize"] = code.size
    configuration["CodeSha256"] = code.sha256
    document.pop("CodeDir", None)
    document.pop("ImageUri", None)
    if code.folder is not None:
        document["CodeDir"] = code.folder
    if code.image_uri is not None:
        document["ImageUri"] = code.image_uri


def _blob_of(code: Code) -> bytes:
    """The document's blob: the zip, or empty (folder and image functions)."""
    return code.zip if code.zip is not None else b""


def _pending(configuration: dict[str, Any]) -> dict[str, Any]:
    """CreateFunction's answer: the function is still being created."""
    answer = {k: v for k, v in configuration.items() if not k.startswith("LastUpdateStatus")}
    answer.update(State="Pending", StateReason=PENDING_REASON, StateReasonCode="Creating")
    return answer


def _updating(configuration: dict[str, Any]) -> dict[str, Any]:
    """An update's answer: the update is still in progress."""
    return {
        **configuration,
        "LastUpdateStatus": "InProgress",
        "LastUpdateStatusReason": PENDING_REASON,
        "LastUpdateStatusReasonCode": "Creating",
    }


def _check_revision(configuration: dict[str, Any], members: dict[str, Any]) -> None:
    revision = members.get("RevisionId")
    if revision is not None and revision != configuration.get("RevisionId"):
        raise PreconditionFailedException(
            "The Revision Id provided does not match the latest Revision Id. Call the "
            "GetFunction/GetAlias API to retrieve the latest Revision Id"
        )


# -- operations ----------------------------------------------------------------------


def create_function(backend: Backend, request: LambdaRequest) -> Reply:
    members = request.body
    validate("CreateFunction", members)
    region, account = request.region, backend.config.account_id
    ref = parse_function_name(members["FunctionName"])
    if ref is None:  # the model's pattern already refused anything unparsable
        raise InvalidParameterValueException(f"Invalid function name: {members['FunctionName']}")
    if len(ref.name) > MAX_NAME_LENGTH:
        raise ValidationException(
            f"1 validation error detected: Value '{ref.name}' at 'functionName' failed to "
            f"satisfy constraint: Member must have length less than or equal to "
            f"{MAX_NAME_LENGTH}"
        )
    if (ref.region or region) != region or (ref.account or account) != account:
        raise InvalidParameterValueException(
            f"The function ARN {members['FunctionName']} is not in this account and region "
            f"({account}, {region})."
        )
    if ref.qualifier is not None:
        raise InvalidParameterValueException(
            f"A function name cannot carry a qualifier here: {members['FunctionName']}"
        )
    package_type = members.get("PackageType") or "Zip"
    code = read_code(members["Code"], package_type)
    if package_type == "Zip" and (members.get("Runtime") is None or not members.get("Handler")):
        raise InvalidParameterValueException(
            "Runtime and Handler are mandatory parameters for functions created with "
            "deployment packages."
        )
    _check_environment(members)
    name = ref.name
    documents = backend.engine.documents
    if load_function(documents, region, name) is not None:
        raise ResourceConflictException(f"Function already exist: {name}")
    configuration: dict[str, Any] = {
        "FunctionName": name,
        "FunctionArn": function_arn(region, account, name),
        "Description": "",
        "Timeout": 3,
        "MemorySize": 128,
        "Version": LATEST,
        "Environment": {"Variables": {}},
        "TracingConfig": {"Mode": "PassThrough"},
        "PackageType": package_type,
        "Architectures": list(members.get("Architectures") or ["x86_64"]),
        "EphemeralStorage": {"Size": 512},
        "SnapStart": {"ApplyOn": "None", "OptimizationStatus": "Off"},
        "LoggingConfig": {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{name}"},
    }
    _apply_settings(configuration, members)
    document: dict[str, Any] = {"Configuration": configuration}
    _set_code(configuration, document, code)
    configuration.update(
        LastModified=iso_timestamp(backend.clock.now()),
        RevisionId=str(uuid.uuid4()),
        State="Active",
        LastUpdateStatus="Successful",
    )
    if members.get("Tags"):
        document["Tags"] = dict(members["Tags"])
    with backend.engine.transaction():
        documents.put(FUNCTION_KIND, region, name, document, _blob_of(code))
    return Reply(201, _pending(configuration))


def get_function(backend: Backend, request: LambdaRequest) -> Reply:
    qualifier = request.query.get("Qualifier")
    validate("GetFunction", _named(request, Qualifier=qualifier))
    found = find_function(backend, request.region, request.resource or "", qualifier)
    answer: dict[str, Any] = {"Configuration": configuration_of(backend, found)}
    document = found.document
    if document is not None:
        if document.get("ImageUri"):
            uri = document["ImageUri"]
            answer["Code"] = {"RepositoryType": "ECR", "ImageUri": uri, "ResolvedImageUri": uri}
        else:
            answer["Code"] = {
                "RepositoryType": "S3",
                "Location": code_location(request, found.name),
            }
        if document.get("Tags"):
            answer["Tags"] = document["Tags"]
    return Reply(200, answer)


def get_function_configuration(backend: Backend, request: LambdaRequest) -> Reply:
    qualifier = request.query.get("Qualifier")
    validate("GetFunctionConfiguration", _named(request, Qualifier=qualifier))
    found = find_function(backend, request.region, request.resource or "", qualifier)
    return Reply(200, configuration_of(backend, found))


def list_functions(backend: Backend, request: LambdaRequest) -> Reply:
    max_items = integer_parameter(request, "MaxItems")
    validate(
        "ListFunctions",
        _present(
            MasterRegion=request.query.get("MasterRegion"),
            FunctionVersion=request.query.get("FunctionVersion"),
            Marker=request.query.get("Marker"),
            MaxItems=max_items,
        ),
    )
    after = decode_marker(request.query.get("Marker"))
    limit = min(max_items or FUNCTIONS_PER_PAGE, FUNCTIONS_PER_PAGE)
    region, account = request.region, backend.config.account_id
    configurations = {
        name: document["Configuration"]
        for _, name, document in backend.engine.documents.list(FUNCTION_KIND, region)
    }
    for name in overridden_names(backend):
        if name not in configurations:
            arn = function_arn(region, account, name)
            configurations[name] = synthetic_configuration(backend, name, arn)
    names = sorted(name for name in configurations if after is None or name > after)
    page = names[:limit]
    answer: dict[str, Any] = {
        "Functions": [
            {k: v for k, v in configurations[name].items() if k not in _NOT_LISTED} for name in page
        ]
    }
    if len(names) > limit:
        answer["NextMarker"] = encode_marker(page[-1])
    return Reply(200, answer)


def update_function_configuration(backend: Backend, request: LambdaRequest) -> Reply:
    members = request.body
    validate("UpdateFunctionConfiguration", {**members, "FunctionName": request.resource})
    found = find_function(backend, request.region, request.resource or "")
    document = copy.deepcopy(_require_stored(found))
    configuration = document["Configuration"]
    _check_revision(configuration, members)
    _check_environment(members)
    _apply_settings(configuration, members)
    configuration.update(
        LastModified=iso_timestamp(backend.clock.now()), RevisionId=str(uuid.uuid4())
    )
    with backend.engine.transaction():
        backend.engine.documents.put(FUNCTION_KIND, request.region, found.name, document)
    return Reply(200, _updating(configuration))


def update_function_code(backend: Backend, request: LambdaRequest) -> Reply:
    members = request.body
    validate("UpdateFunctionCode", {**members, "FunctionName": request.resource})
    found = find_function(backend, request.region, request.resource or "")
    document = copy.deepcopy(_require_stored(found))
    configuration = document["Configuration"]
    _check_revision(configuration, members)
    code = read_code(members, configuration.get("PackageType", "Zip"))
    _set_code(configuration, document, code)
    if members.get("Architectures"):
        configuration["Architectures"] = list(members["Architectures"])
    if members.get("DryRun"):
        return Reply(200, _updating(configuration))
    configuration.update(
        LastModified=iso_timestamp(backend.clock.now()), RevisionId=str(uuid.uuid4())
    )
    with backend.engine.transaction():
        backend.engine.documents.put(
            FUNCTION_KIND, request.region, found.name, document, _blob_of(code)
        )
    return Reply(200, _updating(configuration))


def delete_function(backend: Backend, request: LambdaRequest) -> Reply:
    qualifier = request.query.get("Qualifier")
    validate("DeleteFunction", _named(request, Qualifier=qualifier))
    ref = parse_function_name(request.resource or "")
    if LATEST in (qualifier, ref.qualifier if ref else None):
        raise InvalidParameterValueException(
            "$LATEST version cannot be deleted without deleting the function."
        )
    found = find_function(backend, request.region, request.resource or "", qualifier)
    _require_stored(found)
    with backend.engine.transaction():
        backend.engine.documents.delete(FUNCTION_KIND, request.region, found.name)
    backend.targets.discard(found.arn)
    return Reply(204)


def download_code(backend: Backend, request: LambdaRequest) -> Reply:
    """The deployment package behind GetFunction's `Code.Location` (a zip; a code folder
    is zipped on the fly)."""
    found = find_function(backend, request.region, request.resource or "")
    document = _require_stored(found)
    folder = document.get("CodeDir")
    if folder is not None:
        return Reply(200, _zip_folder(folder), {"content-type": "application/zip"})
    blob = backend.engine.documents.get_blob(FUNCTION_KIND, request.region, found.name)
    return Reply(200, blob or b"", {"content-type": "application/zip"})


def _zip_folder(folder: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for root, _, files in os.walk(folder):
            for file in sorted(files):
                path = os.path.join(root, file)
                archive.write(path, os.path.relpath(path, folder))
    return buffer.getvalue()


def _named(request: LambdaRequest, **members: Any) -> dict[str, Any]:
    return _present(FunctionName=request.resource, **members)


def _present(**members: Any) -> dict[str, Any]:
    return {key: value for key, value in members.items() if value is not None}
