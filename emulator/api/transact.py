"""TransactWriteItems and TransactGetItems: all or nothing, in one SQLite transaction."""

from __future__ import annotations

import hashlib
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any

import orjson

from emulator.api.common import (
    StageClock,
    Staged,
    WriteCharge,
    consumed_capacity,
    find_table,
    item_collection_metrics,
    read_units,
    write_units,
)
from emulator.api.expressions import RequestExpressions, prepare_expressions
from emulator.api.items import check_condition
from emulator.errors import (
    ConditionalCheckFailedException,
    IdempotentParameterMismatchException,
    TransactionCanceledException,
    ValidationException,
)
from emulator.model.expressions import apply_projection, apply_update
from emulator.model.indexes import check_index_keys
from emulator.model.keys import key_of, storage_key, validate_item_key, validate_key
from emulator.model.values import Item, check_item_size, item_size, validate_item
from emulator.runtime.backend import Backend
from emulator.storage.engine import TableRow

_ACTIONS = ("ConditionCheck", "Put", "Delete", "Update")
_SAME_ITEM = "Transaction request cannot include multiple operations on one item"


@dataclass(slots=True)
class _Action:
    kind: str
    spec: dict[str, Any]
    row: TableRow
    key: Item
    storage: tuple[bytes, bytes]
    prepared: RequestExpressions
    item: Item | None = None
    size: int = 0
    invalid: str | None = None
    reason: dict[str, Any] = field(default_factory=lambda: {"Code": "None"})


def _plan_action(backend: Backend, region: str, entry: dict[str, Any]) -> _Action:
    present = [name for name in _ACTIONS if entry.get(name) is not None]
    if len(present) != 1:
        raise ValidationException(
            "TransactItems can only contain one of Check, Put, Update or Delete"
        )
    kind = present[0]
    spec: dict[str, Any] = entry[kind]
    row = find_table(backend, region, spec["TableName"])
    schema = row.state.key_schema
    prepared = prepare_expressions(
        spec,
        condition="ConditionExpression",
        update=kind == "Update",
        key_names=schema.names,
    )
    if kind == "ConditionCheck" and prepared.condition is None:
        raise ValidationException(
            "1 validation error detected: Value null at 'conditionExpression' failed to satisfy "
            "constraint: Member must not be null"
        )
    invalid = None
    item = None
    size = 0
    if kind == "Put":
        item = validate_item(spec["Item"])
        try:
            validate_item_key(schema, item)
        except ValidationException as error:
            if "empty" in str(error.message):
                raise
            invalid = str(error.message)
        if invalid is None:
            check_index_keys(row.state.indexes, item)
            size = check_item_size(item)
            key = key_of(schema, item)
        else:
            key = {}
    else:
        try:
            key = validate_key(schema, spec["Key"])
        except ValidationException as error:
            if "empty" in str(error.message):
                raise
            invalid, key = str(error.message), {}
    storage = storage_key(schema, key) if invalid is None else (b"", b"")
    return _Action(kind, spec, row, key, storage, prepared, item, size, invalid)


#: AWS's quota on a transaction's payload (the items and keys it carries, not the size of
#: the items it deletes or updates).
MAX_TRANSACTION_BYTES = 4 * 1024 * 1024


def _check_payload(actions: list[_Action]) -> None:
    """Puts' items and the others' keys, measured as items are, at most 4 MB.

    Scylla's suite, run against AWS, sees a ValidationException matching "size cannot
    exceed" that speaks of the transaction payload; the exact text is our reading of it.
    """
    total = sum(a.size if a.kind == "Put" else item_size(a.key) for a in actions)
    if total > MAX_TRANSACTION_BYTES:
        raise ValidationException("Transaction payload size cannot exceed 4 MB")


def _cancel(actions: list[_Action] | list[dict[str, Any]]) -> TransactionCanceledException:
    reasons = [a if isinstance(a, dict) else a.reason for a in actions]
    codes = ", ".join(reason["Code"] for reason in reasons)
    return TransactionCanceledException(
        None,
        Message="Transaction cancelled, please refer cancellation reasons for specific reasons "
        f"[{codes}]",
        CancellationReasons=reasons,
    )


def _request_digest(request: dict[str, Any]) -> str:
    payload = {k: v for k, v in request.items() if k != "ClientRequestToken"}
    return hashlib.sha256(orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)).hexdigest()


def _remembered(
    backend: Backend, region: str, token: str, digest: str, now: float
) -> dict[str, Any] | None:
    """The answer of an earlier request with this token (within 10 minutes), if any."""
    remembered = backend.engine.tokens.get(region, token, now)
    if remembered is None:
        return None
    if remembered[0] != digest:
        raise IdempotentParameterMismatchException(
            "Parameters for the request do not match the previous request with the "
            "same idempotency token"
        )
    answer: dict[str, Any] = orjson.loads(remembered[1])
    return answer


def _plan_all(
    backend: Backend, region: str, request: dict[str, Any], stage: StageClock | None
) -> Generator[None, None, list[_Action]]:
    """Every action planned (tables found, items and expressions checked), pausing
    between actions when `stage` says so."""
    actions = []
    for entry in request["TransactItems"]:
        actions.append(_plan_action(backend, region, entry))
        if stage is not None:
            yield from stage.pause()
    return actions


def transact_write_items(backend: Backend, region: str, request: dict[str, Any]) -> Staged:
    """Staged (see `Staged`) while the actions are planned; applied in one transaction.
    A table deleted or replaced while it paused is looked up again, as if the request
    had arrived then."""
    stage = StageClock()
    token = request.get("ClientRequestToken")
    now = backend.clock.now()
    digest = None
    if token is not None:
        digest = _request_digest(request)
        answer = _remembered(backend, region, token, digest, now)
        if answer is not None:
            return answer
    actions = yield from _plan_all(backend, region, request, stage)
    engine = backend.engine
    if any(engine.get_table(a.row.region, a.row.name) is not a.row for a in actions):
        actions = yield from _plan_all(backend, region, request, None)
    _check_payload(actions)
    seen: set[tuple[int, bytes, bytes]] = set()
    for action in actions:
        if action.invalid is not None:
            continue
        identity = (action.row.table_id, *action.storage)
        if identity in seen:
            raise ValidationException(_SAME_ITEM)
        seen.add(identity)

    if token is not None and digest is not None:
        # The same token may have been used by a request that ran while this one paused.
        answer = _remembered(backend, region, token, digest, now)
        if answer is not None:
            return answer
    charges: dict[str, WriteCharge] = {}
    collections: dict[str, list[dict[str, Any]]] = {}
    first_invalid = next((a for a in actions if a.invalid is not None), None)
    if first_invalid is not None:
        # Actions are validated before any runs: the first invalid one is the only reason
        # given, every other action (even one whose condition is false) says None.
        first_invalid.reason = {"Code": "ValidationError", "Message": first_invalid.invalid}
        raise _cancel(actions)
    with backend.engine.transaction():
        failed = False
        olds: list[tuple[Item | None, int]] = []
        for action in actions:
            old_item, old_size = backend.pipeline.load(action.row, *action.storage)
            olds.append((old_item, old_size))
            try:
                check_condition(action.spec, action.prepared, old_item)
            except ConditionalCheckFailedException:
                reason: dict[str, Any] = {
                    "Code": "ConditionalCheckFailed",
                    "Message": "The conditional request failed",
                }
                if (
                    action.spec.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD"
                    and old_item is not None
                ):
                    reason["Item"] = old_item
                action.reason = reason
                failed = True
        if failed:
            raise _cancel(actions)
        wants_metrics = request.get("ReturnItemCollectionMetrics") == "SIZE"
        for action, (old_item, old_size) in zip(actions, olds, strict=True):
            _apply(backend, region, action, old_item, old_size, charges)
            if wants_metrics and action.kind != "ConditionCheck":
                metrics = item_collection_metrics(
                    backend, action.row, action.key, action.storage[0]
                )
                if metrics is not None:
                    collections.setdefault(action.row.name, []).append(metrics)
        result: dict[str, Any] = {}
        if request.get("ReturnConsumedCapacity", "NONE") != "NONE":
            result["ConsumedCapacity"] = [
                charge.capacity(request, name) for name, charge in charges.items()
            ]
        if collections:
            result["ItemCollectionMetrics"] = collections
        if token is not None and digest is not None:
            # In the writes' transaction: the token is remembered exactly when they are.
            backend.engine.tokens.put(region, token, now, digest, orjson.dumps(result))
    return result


def _apply(
    backend: Backend,
    region: str,
    action: _Action,
    old_item: Item | None,
    old_size: int,
    charges: dict[str, WriteCharge],
) -> None:
    """Write one action's change; its units (twice a plain write's, as transactional
    writes cost) go to `charges`."""
    schema = action.row.state.key_schema
    charge = charges.setdefault(action.row.name, WriteCharge())
    new_item: Item | None
    if action.kind == "ConditionCheck":
        charge.add(action.row, write_units(old_size), None, None, factor=2)
        return
    size = 0
    if action.kind == "Put":
        new_item, size = action.item, action.size
    elif action.kind == "Delete":
        new_item = None
    else:
        ast = action.prepared.update
        if ast is None:
            new_item = old_item if old_item is not None else dict(action.key)
        elif old_item is None and ast.removes_only:
            new_item = None
        else:
            new_item = apply_update(
                ast, old_item or dict(action.key), action.prepared.ctx, schema.names
            ).item
        if new_item is not None:
            size = check_item_size(
                new_item, "Item size to update has exceeded the maximum allowed size"
            )
            check_index_keys(action.row.state.indexes, new_item)
    backend.pipeline.write(
        action.row,
        action.key,
        *action.storage,
        old_item,
        old_size,
        new_item,
        size if new_item is not None else None,
    )
    charge.add(action.row, write_units(max(size, old_size)), old_item, new_item, factor=2)


def transact_get_items(backend: Backend, region: str, request: dict[str, Any]) -> dict[str, Any]:
    plans: list[tuple[TableRow, tuple[bytes, bytes], RequestExpressions]] = []
    invalid: list[tuple[int, str]] = []
    seen: set[tuple[int, bytes, bytes]] = set()
    for entry in request["TransactItems"]:
        spec = entry.get("Get")
        if spec is None:
            raise ValidationException(
                "1 validation error detected: Value null at 'transactItems.1.member.get' failed "
                "to satisfy constraint: Member must not be null"
            )
        row = find_table(backend, region, spec["TableName"])
        schema = row.state.key_schema
        prepared = prepare_expressions(spec, projection=True)
        try:
            key = validate_key(schema, spec["Key"])
        except ValidationException as error:
            if "empty" in str(error.message):
                raise
            # As in TransactWriteItems: a key that does not match the schema (an empty
            # Key too) cancels the transaction with that reason, the others None.
            invalid.append((len(plans), str(error.message)))
            plans.append((row, (b"", b""), prepared))
            continue
        storage = storage_key(schema, key)
        identity = (row.table_id, *storage)
        if identity in seen:
            raise ValidationException(_SAME_ITEM)
        seen.add(identity)
        plans.append((row, storage, prepared))
    if invalid:
        reasons: list[dict[str, Any]] = [{"Code": "None"} for _ in plans]
        position, message = invalid[0]
        reasons[position] = {"Code": "ValidationError", "Message": message}
        raise _cancel(reasons)
    responses: list[dict[str, Any]] = []
    units: dict[str, float] = {}
    for row, (hash_key, range_key), prepared in plans:
        stored = backend.engine.items.get(row.table_id, hash_key, range_key)
        if stored is None:
            responses.append({})
            units[row.name] = units.get(row.name, 0.0) + 2 * read_units(0, True)
            continue
        item: Item = orjson.loads(stored[0])
        units[row.name] = units.get(row.name, 0.0) + 2 * read_units(stored[1], True)
        if prepared.projection is not None:
            item = apply_projection(item, prepared.projection)
        responses.append({"Item": item})
    result: dict[str, Any] = {"Responses": responses}
    if request.get("ReturnConsumedCapacity", "NONE") != "NONE":
        result["ConsumedCapacity"] = [
            consumed_capacity(request, name, value) for name, value in units.items()
        ]
    return result
