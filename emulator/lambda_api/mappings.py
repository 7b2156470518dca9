"""Event source mappings: Create, Get, List, Update, DeleteEventSourceMapping
(SPEC-STREAM-APPS 2.4-2.7).

The API stores the mapping's AWS description (`documents`, kind `MAPPING_KIND`, name =
UUID) with the state the client is answered with — Creating, Enabling, Disabling,
Updating, Deleting — and where that transition ends (`_DesiredState`). The poller's
supervisor completes the transitions; every change here is followed, once committed, by
a `MAPPINGS_TOPIC` signal so that it looks at once. A new mapping's starting position is
anchored in the same transaction that stores it, so `LATEST` means "after the last
record written before CreateEventSourceMapping returned".
"""

from __future__ import annotations

import copy
import uuid
from typing import Any

from emulator.lambda_api.common import (
    LambdaRequest,
    Reply,
    decode_marker,
    encode_marker,
    integer_parameter,
    validate,
)
from emulator.lambda_api.errors import (
    InvalidParameterValueException,
    ResourceConflictException,
    ResourceInUseException,
    ResourceNotFoundException,
    ValidationException,
)
from emulator.lambda_api.functions import overridden_names
from emulator.runtime.backend import Backend
from emulator.streams.reader import CheckpointedReader, LogSource
from emulator.triggers.filters import FilterCriteriaError, compile_criteria
from emulator.triggers.functions import LATEST, function_arn, load_function, parse_function_name
from emulator.triggers.kinesis_source import KinesisSource
from emulator.triggers.mapping import (
    CREATING,
    DELETING,
    DESIRED_STATE_KEY,
    DISABLED,
    DISABLING,
    ENABLED,
    ENABLING,
    MAPPING_KIND,
    MAPPINGS_TOPIC,
    TAGS_KEY,
    UPDATING,
    checkpoint_consumer,
    wire_description,
)

MAPPINGS_PER_PAGE = 100
USER_ACTION = "User action"
NOT_FOUND = "The resource you requested does not exist."
STREAM_SOURCES = ("dynamodb", "kinesis")

#: Members UpdateEventSourceMapping copies as given (FunctionName, Enabled,
#: FilterCriteria and DestinationConfig have rules of their own).
_SETTINGS = (
    "BatchSize",
    "MaximumBatchingWindowInSeconds",
    "ParallelizationFactor",
    "MaximumRecordAgeInSeconds",
    "BisectBatchOnFunctionError",
    "MaximumRetryAttempts",
    "TumblingWindowInSeconds",
    "FunctionResponseTypes",
    "KMSKeyArn",
    "MetricsConfig",
    "ScalingConfig",
    "ProvisionedPollerConfig",
    "LoggingConfig",
)


# -- checks shared by Create and Update ----------------------------------------------


def _check_destination(members: dict[str, Any]) -> None:
    """Stream sources have no OnSuccess destination (checked first, as on AWS)."""
    destination = members.get("DestinationConfig") or {}
    if destination.get("OnSuccess") is not None:
        raise InvalidParameterValueException(
            "Unsupported DestinationConfig parameter for given event source mapping type."
        )


def _check_settings(members: dict[str, Any]) -> None:
    age = members.get("MaximumRecordAgeInSeconds")
    if age is not None and 0 <= age < 60:
        raise InvalidParameterValueException(
            f"Invalid value {age} for MaximumRecordAgeInSeconds: it must be -1 (infinite) "
            "or between 60 and 604800 seconds."
        )
    if members.get("FilterCriteria") is not None:
        try:
            compile_criteria(members["FilterCriteria"])
        except FilterCriteriaError as error:
            if error.code == "ValidationException":
                raise ValidationException(error.message) from None
            raise InvalidParameterValueException(error.message) from None


def _function_arn(backend: Backend, region: str, value: str) -> str:
    """The FunctionArn a mapping's FunctionName resolves to (Lambda's 400 if none)."""
    account = backend.config.account_id
    ref = parse_function_name(value)
    if (
        ref is None
        or (ref.region or region) != region
        or (ref.account or account) != account
        or ref.qualifier not in (None, LATEST)
        or (
            load_function(backend.engine.documents, region, ref.name) is None
            and ref.name not in overridden_names(backend)
        )
    ):
        raise InvalidParameterValueException("Function does not exist")
    return function_arn(region, account, ref.name, ref.qualifier)


def _check_duplicate(
    backend: Backend,
    region: str,
    source_arn: str,
    arn: str,
    function_name: str,
    own_uuid: str | None = None,
) -> None:
    for _, name, stored in backend.engine.documents.list(MAPPING_KIND, region):
        if (
            name != own_uuid
            and stored["EventSourceArn"] == source_arn
            and stored["FunctionArn"] == arn
            and stored["State"] != DELETING
        ):
            raise ResourceConflictException(
                f'The event source arn (" {source_arn} ") and function (" {function_name} ") '
                "provided mapping already exists. Please update or delete the existing "
                f"mapping with UUID {name}"
            )


def _stream(backend: Backend, region: str, source_arn: str) -> tuple[int, LogSource | None]:
    """The log a mapping reads — a DynamoDB stream or a built-in Kinesis stream — as
    (stream id, source for the reader; None: the DynamoDB stream's own), with
    SPEC-STREAM-APPS 2.6's answer for a missing one."""
    service = _service_of(source_arn)
    if service not in STREAM_SOURCES:
        raise InvalidParameterValueException(
            f"Unsupported event source for the emulator: {source_arn}. Event source "
            "mappings read DynamoDB streams and Kinesis streams."
        )
    if service == "kinesis":
        kinesis_stream = backend.kinesis.by_arn.get(source_arn)
        if kinesis_stream is None or kinesis_stream.region != region:
            raise InvalidParameterValueException(f"Stream not found: {source_arn}")
        return 0, KinesisSource(backend.kinesis, source_arn, "")
    row = backend.streams.stream_by_arn(source_arn)
    if row is None or row.region != region:
        raise InvalidParameterValueException(f"Stream not found: {source_arn}")
    return row.stream_id, None


def _service_of(arn: str) -> str:
    parts = arn.split(":", 5)
    return parts[2] if len(parts) > 2 else ""


def _filter_criteria(criteria: dict[str, Any]) -> dict[str, Any] | None:
    """FilterCriteria as stored: None when it holds no filter (removes it)."""
    filters = criteria.get("Filters") or []
    if not filters:
        return None
    return {"Filters": [{"Pattern": f["Pattern"]} if "Pattern" in f else {} for f in filters]}


def _destination(config: dict[str, Any]) -> dict[str, Any]:
    """DestinationConfig as AWS shows it: `{"OnFailure": {}}` when unset, never absent."""
    target = (config.get("OnFailure") or {}).get("Destination")
    return {"OnFailure": {"Destination": target} if target else {}}


# -- storing -------------------------------------------------------------------------


def _load(backend: Backend, request: LambdaRequest) -> dict[str, Any]:
    stored = backend.engine.documents.get(MAPPING_KIND, request.region, request.resource or "")
    if stored is None:
        raise ResourceNotFoundException(NOT_FOUND)
    return stored


def _store(backend: Backend, region: str, stored: dict[str, Any]) -> None:
    """Write a mapping (inside the caller's transaction) and wake the poller once it
    is committed."""
    engine = backend.engine
    engine.documents.put(MAPPING_KIND, region, stored["UUID"], stored)
    engine.after_commit(backend.signals.notify, MAPPINGS_TOPIC)


def _now(backend: Backend) -> float:
    """ESM LastModified: epoch seconds, whole (AWS shows e.g. 1764085660.0)."""
    return float(int(backend.clock.now()))


# -- operations ----------------------------------------------------------------------


def create_event_source_mapping(backend: Backend, request: LambdaRequest) -> Reply:
    members = request.body
    validate("CreateEventSourceMapping", members)
    region = request.region
    _check_destination(members)
    source_arn = members.get("EventSourceArn")
    if source_arn is None:
        raise InvalidParameterValueException("Unrecognized event source.")
    position = members.get("StartingPosition")
    if _service_of(source_arn) in STREAM_SOURCES:
        if position is None:
            raise InvalidParameterValueException(
                "1 validation error detected: Value null at 'startingPosition' failed to "
                "satisfy constraint: Member must not be null."
            )
        if members.get("StartingPositionTimestamp") is not None and position != "AT_TIMESTAMP":
            raise InvalidParameterValueException(
                "Timestamp only valid with StartingPosition AT_TIMESTAMP"
            )
        if position == "AT_TIMESTAMP" and _service_of(source_arn) == "dynamodb":
            raise InvalidParameterValueException(
                f"Unsupported starting position for arn type: {source_arn}"
            )
    _check_settings(members)
    arn = _function_arn(backend, region, members["FunctionName"])
    stream_id, source = _stream(backend, region, source_arn)
    _check_duplicate(backend, region, source_arn, arn, members["FunctionName"])
    mapping_uuid = str(uuid.uuid4())
    enabled = members.get("Enabled", True) is not False
    account = backend.config.account_id
    stored: dict[str, Any] = {
        "UUID": mapping_uuid,
        "StartingPosition": position,
        "BatchSize": members.get("BatchSize", 100),
        "MaximumBatchingWindowInSeconds": members.get("MaximumBatchingWindowInSeconds", 0),
        "ParallelizationFactor": members.get("ParallelizationFactor", 1),
        "EventSourceArn": source_arn,
    }
    criteria = _filter_criteria(members.get("FilterCriteria") or {})
    if criteria is not None:
        stored["FilterCriteria"] = criteria
    stored.update(
        {
            "FunctionArn": arn,
            "LastModified": _now(backend),
            "LastProcessingResult": "No records processed",
            "State": CREATING,
            "StateTransitionReason": USER_ACTION,
            "DestinationConfig": _destination(members.get("DestinationConfig") or {}),
            "MaximumRecordAgeInSeconds": members.get("MaximumRecordAgeInSeconds", -1),
            "BisectBatchOnFunctionError": members.get("BisectBatchOnFunctionError", False),
            "MaximumRetryAttempts": members.get("MaximumRetryAttempts", -1),
            "TumblingWindowInSeconds": members.get("TumblingWindowInSeconds", 0),
            "FunctionResponseTypes": list(members.get("FunctionResponseTypes") or []),
            "EventSourceMappingArn": (
                f"arn:aws:lambda:{region}:{account}:event-source-mapping:{mapping_uuid}"
            ),
        }
    )
    for key in ("KMSKeyArn", "MetricsConfig", "ScalingConfig", "ProvisionedPollerConfig"):
        if members.get(key) is not None:
            stored[key] = members[key]
    stored[DESIRED_STATE_KEY] = ENABLED if enabled else DISABLED
    if members.get("Tags"):
        stored[TAGS_KEY] = dict(members["Tags"])
    engine = backend.engine
    with engine.transaction():
        reader = CheckpointedReader(
            engine, backend.streams, checkpoint_consumer(mapping_uuid), stream_id, source
        )
        reader.anchor(str(position), members.get("StartingPositionTimestamp"))
        _store(backend, region, stored)
    return Reply(202, wire_description(stored))


def get_event_source_mapping(backend: Backend, request: LambdaRequest) -> Reply:
    validate("GetEventSourceMapping", {"UUID": request.resource})
    return Reply(200, wire_description(_load(backend, request)))


def list_event_source_mappings(backend: Backend, request: LambdaRequest) -> Reply:
    max_items = integer_parameter(request, "MaxItems")
    source_arn = request.query.get("EventSourceArn")
    function_name = request.query.get("FunctionName")
    marker = request.query.get("Marker")
    members = {
        "EventSourceArn": source_arn,
        "FunctionName": function_name,
        "Marker": marker,
        "MaxItems": max_items,
    }
    validate("ListEventSourceMappings", {k: v for k, v in members.items() if v is not None})
    after = decode_marker(marker)
    limit = min(max_items or MAPPINGS_PER_PAGE, MAPPINGS_PER_PAGE)
    wanted = parse_function_name(function_name) if function_name is not None else None
    matching = []
    for _, name, stored in backend.engine.documents.list(MAPPING_KIND, request.region):
        if after is not None and name <= after:
            continue
        if source_arn is not None and stored["EventSourceArn"] != source_arn:
            continue
        if function_name is not None and not _names_function(
            wanted, stored["FunctionArn"], request.region, backend.config.account_id
        ):
            continue
        matching.append(stored)
    page = matching[:limit]
    answer: dict[str, Any] = {"EventSourceMappings": [wire_description(s) for s in page]}
    if len(matching) > limit:
        answer["NextMarker"] = encode_marker(page[-1]["UUID"])
    return Reply(200, answer)


def _names_function(wanted: Any, arn: str, region: str, account: str) -> bool:
    """Whether a ListEventSourceMappings FunctionName filter matches a FunctionArn."""
    have = parse_function_name(arn)
    if wanted is None or have is None or wanted.name != have.name:
        return False
    if (wanted.region or region) != region or (wanted.account or account) != account:
        return False
    return wanted.qualifier is None or wanted.qualifier == have.qualifier


def update_event_source_mapping(backend: Backend, request: LambdaRequest) -> Reply:
    members = request.body
    validate("UpdateEventSourceMapping", {**members, "UUID": request.resource})
    region = request.region
    stored = copy.deepcopy(_load(backend, request))
    if stored["State"] in (CREATING, DELETING):
        raise ResourceInUseException("Cannot update the event source mapping because it is in use.")
    _check_destination(members)
    _check_settings(members)
    if members.get("FunctionName") is not None:
        arn = _function_arn(backend, region, members["FunctionName"])
        _check_duplicate(
            backend, region, stored["EventSourceArn"], arn, members["FunctionName"], stored["UUID"]
        )
        stored["FunctionArn"] = arn
    for key in _SETTINGS:
        if members.get(key) is not None:
            stored[key] = members[key]
    if members.get("FilterCriteria") is not None:
        criteria = _filter_criteria(members["FilterCriteria"])
        if criteria is None:
            stored.pop("FilterCriteria", None)
        else:
            stored["FilterCriteria"] = criteria
    if members.get("DestinationConfig") is not None:
        stored["DestinationConfig"] = _destination(members["DestinationConfig"])
    enabled = members.get("Enabled")
    desired = stored.get(DESIRED_STATE_KEY, ENABLED)
    if enabled is not None and (ENABLED if enabled else DISABLED) != desired:
        stored[DESIRED_STATE_KEY] = ENABLED if enabled else DISABLED
        stored["State"] = ENABLING if enabled else DISABLING
    else:
        stored["State"] = UPDATING
    stored["StateTransitionReason"] = USER_ACTION
    stored["LastModified"] = _now(backend)
    with backend.engine.transaction():
        _store(backend, region, stored)
    return Reply(202, wire_description(stored))


def delete_event_source_mapping(backend: Backend, request: LambdaRequest) -> Reply:
    validate("DeleteEventSourceMapping", {"UUID": request.resource})
    stored = copy.deepcopy(_load(backend, request))
    if stored["State"] == UPDATING:
        raise ResourceInUseException("Cannot delete the event source mapping because it is in use.")
    if stored["State"] != DELETING:
        stored["State"] = DELETING
        stored["StateTransitionReason"] = USER_ACTION
        stored["LastModified"] = _now(backend)
        with backend.engine.transaction():
            _store(backend, request.region, stored)
    return Reply(202, wire_description(stored))
