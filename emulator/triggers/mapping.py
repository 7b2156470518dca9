"""An event source mapping as the poller runs it: the typed view of the AWS description
the Lambda API stores (`documents` kind `MAPPING_KIND`, region, UUID).

The Lambda API owns the description (every wire field, defaults, validation) and the
state the client sees; the poller reads the knobs from here and moves `State` through
its transitions (Creating → Enabled, Disabling → Disabled, Updating → back, Deleting →
gone) and keeps `LastProcessingResult` current.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: The `documents` kind of event source mappings (name: the UUID).
MAPPING_KIND = "lambda:event-source-mapping"
#: The `documents` kind of Lambda functions (name: the function name).
FUNCTION_KIND = "lambda:function"
#: The commit-signal topic the Lambda API notifies after it stores a mapping change.
MAPPINGS_TOPIC = ("lambda", "event-source-mappings")

#: Settled states: the poller runs a mapping in ENABLED and leaves it alone in DISABLED.
ENABLED = "Enabled"
DISABLED = "Disabled"
CREATING = "Creating"
ENABLING = "Enabling"
DISABLING = "Disabling"
UPDATING = "Updating"
DELETING = "Deleting"

REPORT_BATCH_ITEM_FAILURES = "ReportBatchItemFailures"

#: Stored next to the wire members (never shown on the wire: keys starting with "_"):
#: the settled state a transition ends in — Enabled or Disabled — so the poller knows
#: where Creating and Updating go; and the mapping's tags.
DESIRED_STATE_KEY = "_DesiredState"
TAGS_KEY = "_Tags"


def wire_description(stored: dict[str, Any]) -> dict[str, Any]:
    """The AWS description of a stored mapping document (internal keys removed)."""
    return {key: value for key, value in stored.items() if not key.startswith("_")}


def desired_enabled(document: dict[str, Any]) -> bool:
    """Where a transition of the stored mapping ends: Enabled unless the client asked
    for the mapping to be disabled (`Enabled: false` on Create or Update; the Lambda API
    stores that as `_DesiredState`)."""
    desired = document.get(DESIRED_STATE_KEY)
    if desired is not None:
        return bool(desired == ENABLED)
    return bool(document.get("Enabled", True))


def checkpoint_consumer(uuid: str) -> str:
    """The `CheckpointedReader` consumer name of a mapping."""
    return f"esm:{uuid}"


@dataclass(frozen=True, slots=True)
class EventSourceMapping:
    uuid: str
    region: str
    arn: str
    function_arn: str
    event_source_arn: str
    state: str
    starting_position: str
    batch_size: int
    maximum_batching_window_seconds: int
    parallelization_factor: int
    bisect_batch_on_function_error: bool
    maximum_retry_attempts: int
    maximum_record_age_seconds: int
    tumbling_window_seconds: int
    report_batch_item_failures: bool
    #: The FilterCriteria pattern texts (OR-ed; empty: every record matches). Kept as
    #: text: numbers in a pattern compare as written.
    filter_patterns: tuple[str, ...]
    #: `DestinationConfig.OnFailure.Destination`, if any.
    on_failure_destination: str | None
    last_modified: float
    #: Where the current transition ends: ENABLED or DISABLED.
    desired_state: str = ENABLED

    @property
    def function_name(self) -> str:
        """The plain function name (the ARN's last part, without a qualifier)."""
        return self.function_arn.split(":")[6]

    @classmethod
    def from_description(cls, region: str, description: dict[str, Any]) -> EventSourceMapping:
        filters = (description.get("FilterCriteria") or {}).get("Filters") or []
        on_failure = (description.get("DestinationConfig") or {}).get("OnFailure") or {}
        return cls(
            uuid=description["UUID"],
            region=region,
            arn=description["EventSourceMappingArn"],
            function_arn=description["FunctionArn"],
            event_source_arn=description["EventSourceArn"],
            state=description["State"],
            starting_position=description.get("StartingPosition", "TRIM_HORIZON"),
            batch_size=int(description.get("BatchSize", 100)),
            maximum_batching_window_seconds=int(
                description.get("MaximumBatchingWindowInSeconds", 0)
            ),
            parallelization_factor=int(description.get("ParallelizationFactor", 1)),
            bisect_batch_on_function_error=bool(
                description.get("BisectBatchOnFunctionError", False)
            ),
            maximum_retry_attempts=int(description.get("MaximumRetryAttempts", -1)),
            maximum_record_age_seconds=int(description.get("MaximumRecordAgeInSeconds", -1)),
            tumbling_window_seconds=int(description.get("TumblingWindowInSeconds", 0)),
            report_batch_item_failures=REPORT_BATCH_ITEM_FAILURES
            in (description.get("FunctionResponseTypes") or []),
            filter_patterns=tuple(
                str(f["Pattern"]) for f in filters if f.get("Pattern") is not None
            ),
            on_failure_destination=on_failure.get("Destination"),
            last_modified=float(description.get("LastModified", 0.0)),
            desired_state=ENABLED if desired_enabled(description) else DISABLED,
        )
