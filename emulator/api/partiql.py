"""ExecuteStatement, BatchExecuteStatement, ExecuteTransaction: DynamoDB's PartiQL.

A statement is parsed (cached by text), planned against the table's key schema and run
as the equivalent item operation, through the same functions the JSON API uses - so
conditions, item checks, capacity, index entries and stream records are exactly those
of that operation:

- SELECT with equality on the whole primary key -> GetItem; with equality on the
  (index) partition key -> Query (one sort-key condition becomes the key condition,
  further conditions on key attributes are applied to the items read, the rest is the
  filter); otherwise -> Scan with the WHERE clause as the filter.
- INSERT -> PutItem with `attribute_not_exists(<hash key>)` (DuplicateItemException).
- UPDATE -> UpdateItem with `attribute_exists(<hash key>)` and the rest of WHERE as the
  condition (PartiQL's UPDATE never creates an item).
- DELETE -> DeleteItem with the rest of WHERE as the condition.
- EXISTS(SELECT ...) in ExecuteTransaction -> a ConditionCheck.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

import orjson

from emulator.api import items, read, transact
from emulator.api.common import Staged, find_table
from emulator.errors import (
    AwsError,
    ConditionalCheckFailedException,
    DuplicateItemException,
    ResourceNotFoundException,
    TransactionCanceledException,
    ValidationException,
)
from emulator.model.expressions import (
    FILTER,
    Condition,
    ExpressionContext,
    evaluate_condition,
    get_path,
    parse_condition,
)
from emulator.model.indexes import IndexSchema
from emulator.model.keys import KeySchema
from emulator.model.partiql import messages as msg
from emulator.model.partiql import parse_statement
from emulator.model.partiql.nodes import (
    BetweenExpr,
    Binary,
    Call,
    Delete,
    Exists,
    Expr,
    Insert,
    NotExpr,
    PathRef,
    Select,
    Statement,
    Update,
)
from emulator.model.partiql.render import Renderer
from emulator.model.values import Item
from emulator.runtime.backend import Backend
from emulator.storage.engine import TableRow

_SORT_OPERATORS = frozenset({"=", "<", "<=", ">", ">="})
#: Expression-language prefixes a PartiQL client never sees (it sent no such member).
_EXPRESSION_PREFIXES = (
    "Invalid ConditionExpression: ",
    "Invalid FilterExpression: ",
    "Invalid KeyConditionExpression: ",
    "Invalid UpdateExpression: ",
)
#: AWS error code -> BatchStatementError Code.
_BATCH_CODES = {
    "ValidationException": "ValidationError",
    "ConditionalCheckFailedException": "ConditionalCheckFailed",
    "DuplicateItemException": "DuplicateItem",
    "ResourceNotFoundException": "ResourceNotFound",
    "TransactionConflictException": "TransactionConflict",
    "ProvisionedThroughputExceededException": "ProvisionedThroughputExceeded",
    "RequestLimitExceeded": "RequestLimitExceeded",
    "ItemCollectionSizeLimitExceededException": "ItemCollectionSizeLimitExceeded",
}


@dataclass(slots=True)
class _Plan:
    """One statement as the item operation that runs it."""

    operation: str  # GetItem, Query, Scan, PutItem, UpdateItem, DeleteItem, ConditionCheck
    request: dict[str, Any]
    row: TableRow
    statement: Statement
    projection: tuple[PathRef, ...] | None = None
    #: A SELECT reading exactly one item by its full primary key, nothing else.
    point_read: bool = False
    #: Conditions on key attributes a Query applies to the items it read.
    key_filter: tuple[Condition, ExpressionContext] | None = None


# ----------------------------------------------------------------------- planning


def _conjuncts(where: Expr | None) -> list[Expr]:
    if where is None:
        return []
    if isinstance(where, Binary) and where.op == "AND":
        return _conjuncts(where.left) + _conjuncts(where.right)
    return [where]


def _is_value(expr: Expr) -> bool:
    return not isinstance(expr, (PathRef, Call, Binary, NotExpr, BetweenExpr))


def _key_equality(expr: Expr, names: tuple[str, ...]) -> tuple[str, Expr] | None:
    """(key name, value) when `expr` is `key = value` (either way round)."""
    if not (isinstance(expr, Binary) and expr.op == "="):
        return None
    for path, value in ((expr.left, expr.right), (expr.right, expr.left)):
        if (
            isinstance(path, PathRef)
            and len(path.steps) == 1
            and path.name in names
            and _is_value(value)
        ):
            return path.name, value
    return None


def _split_key(where: Expr | None, names: tuple[str, ...]) -> tuple[dict[str, Expr], list[Expr]]:
    """The key equalities among WHERE's conjuncts (first one per key) and the rest."""
    keys: dict[str, Expr] = {}
    rest: list[Expr] = []
    for conjunct in _conjuncts(where):
        found = _key_equality(conjunct, names)
        if found is not None and found[0] not in keys:
            keys[found[0]] = found[1]
        else:
            rest.append(conjunct)
    return keys, rest


def _and(renderer: Renderer, parts: list[Expr]) -> str | None:
    if not parts:
        return None
    return " AND ".join(renderer.condition(part) for part in parts)


def _mentions(expr: Expr, names: tuple[str, ...]) -> bool:
    """Whether a condition reads one of `names` (a Query filter may not)."""
    if isinstance(expr, PathRef):
        return expr.name in names
    return any(_mentions(child, names) for child in _children(expr))


def _children(expr: Expr) -> list[Expr]:
    if isinstance(expr, Binary):
        return [expr.left, expr.right]
    if isinstance(expr, NotExpr):
        return [expr.operand]
    if isinstance(expr, BetweenExpr):
        return [expr.operand, expr.low, expr.high]
    if isinstance(expr, Call):
        return list(expr.args)
    inner = getattr(expr, "operand", None)
    choices = list(getattr(expr, "choices", ()))
    return ([inner] if inner is not None else []) + choices


def _sort_condition(renderer: Renderer, expr: Expr, range_name: str) -> str | None:
    """`expr` as a key condition on the sort key, if it is one."""
    if (
        isinstance(expr, Binary)
        and expr.op in _SORT_OPERATORS
        and isinstance(expr.left, PathRef)
        and expr.left.steps == (range_name,)
        and _is_value(expr.right)
    ):
        return renderer.condition(expr)
    if (
        isinstance(expr, BetweenExpr)
        and isinstance(expr.operand, PathRef)
        and expr.operand.steps == (range_name,)
        and _is_value(expr.low)
        and _is_value(expr.high)
    ):
        return renderer.condition(expr)
    if (
        isinstance(expr, Call)
        and expr.name == "begins_with"
        and len(expr.args) == 2
        and isinstance(expr.args[0], PathRef)
        and expr.args[0].steps == (range_name,)
        and _is_value(expr.args[1])
    ):
        return renderer.condition(expr)
    return None


def _table(backend: Backend, region: str, name: str) -> TableRow:
    try:
        return find_table(backend, region, name)
    except ValidationException:
        # A name no table can have is simply not found (it is a PartiQL identifier).
        raise ResourceNotFoundException() from None


def _index(row: TableRow, name: str | None) -> IndexSchema | None:
    if name is None:
        return None
    index = row.state.find_index(name)
    if index is None:
        raise ValidationException(f"The table does not have the specified index: {name}")
    return index


def _key_of(renderer: Renderer, schema: KeySchema, keys: dict[str, Expr]) -> Item:
    if any(name not in keys for name in schema.names):
        raise ValidationException(msg.INCOMPLETE_KEY)
    return {name: renderer.value(keys[name]) for name in schema.names}


def _plan(
    backend: Backend,
    region: str,
    text: str,
    parameters: list[Any] | None,
    options: dict[str, Any],
) -> _Plan:
    """Parse `text` and plan it as one item operation. `options` carries the request
    members that pass through (ConsistentRead, ReturnConsumedCapacity, ...)."""
    statement = parse_statement(text)
    given = len(parameters or ())
    if given != statement.parameters:
        raise ValidationException(msg.PARAMETER_COUNT)
    renderer = Renderer(text, parameters or [])
    if isinstance(statement, Select):
        return _plan_select(backend, region, statement, renderer, options)
    if isinstance(statement, Exists):
        return _plan_exists(backend, region, statement, renderer)
    row = _table(backend, region, statement.source.table)
    if statement.source.index is not None:
        _index(row, statement.source.index)
        raise ValidationException(msg.NOT_ON_INDEX)
    schema = row.state.key_schema
    base: dict[str, Any] = {"TableName": row.name}
    capacity = options.get("ReturnConsumedCapacity")
    if capacity is not None:
        base["ReturnConsumedCapacity"] = capacity
    if isinstance(statement, Insert):
        request = {
            **base,
            "Item": renderer.item(statement.item),
            "ConditionExpression": f"attribute_not_exists({renderer.name(schema.hash_name)})",
        }
        request.update(renderer.members())
        return _Plan("PutItem", request, row, statement)
    keys, rest = _split_key(statement.where, schema.names)
    key = _key_of(renderer, schema, keys)
    request = {**base, "Key": key}
    failure = options.get("ReturnValuesOnConditionCheckFailure")
    if failure is not None:
        request["ReturnValuesOnConditionCheckFailure"] = failure
    if statement.returning != "NONE":
        request["ReturnValues"] = statement.returning
    if isinstance(statement, Update):
        request["UpdateExpression"] = renderer.update(statement.actions)
        exists = f"attribute_exists({renderer.name(schema.hash_name)})"
        condition = _and(renderer, rest)
        request["ConditionExpression"] = (
            exists if condition is None else f"{exists} AND {condition}"
        )
        request.update(renderer.members())
        return _Plan("UpdateItem", request, row, statement)
    assert isinstance(statement, Delete)
    condition = _and(renderer, rest)
    if condition is not None:
        request["ConditionExpression"] = condition
    request.update(renderer.members())
    return _Plan("DeleteItem", request, row, statement)


def _plan_exists(backend: Backend, region: str, statement: Exists, renderer: Renderer) -> _Plan:
    select = statement.select
    row = _table(backend, region, select.source.table)
    if select.source.index is not None:
        raise ValidationException("Operations on indices are not supported in transactions")
    schema = row.state.key_schema
    keys, rest = _split_key(select.where, schema.names)
    if any(name not in keys for name in schema.names) or not rest:
        raise ValidationException(msg.EXISTS_SHAPE)
    key = _key_of(renderer, schema, keys)
    exists = f"attribute_exists({renderer.name(schema.hash_name)})"
    condition = f"{exists} AND {_and(renderer, rest)}"
    request: dict[str, Any] = {"TableName": row.name, "Key": key, "ConditionExpression": condition}
    request.update(renderer.members())
    return _Plan("ConditionCheck", request, row, statement)


def _plan_select(
    backend: Backend,
    region: str,
    statement: Select,
    renderer: Renderer,
    options: dict[str, Any],
) -> _Plan:
    row = _table(backend, region, statement.source.table)
    index = _index(row, statement.source.index)
    schema = index.key if index is not None else row.state.key_schema
    _check_projection(statement, index)
    request: dict[str, Any] = {"TableName": row.name}
    for member in ("ReturnConsumedCapacity", "ConsistentRead", "Limit", "ExclusiveStartKey"):
        if options.get(member) is not None:
            request[member] = options[member]
    if index is not None:
        if index.is_global and options.get("ConsistentRead"):
            raise ValidationException(msg.CONSISTENT_READ_ON_GSI)
        request["IndexName"] = index.name
        if not index.is_global:
            request["Select"] = "ALL_ATTRIBUTES"  # an LSI read reaches the table's item
    projection = statement.projection
    keys, rest = _split_key(statement.where, schema.names)
    order_by = statement.order_by
    if order_by is not None:
        if statement.where is None:
            raise ValidationException(msg.ORDER_BY_NO_WHERE)
        if schema.hash_name not in keys:
            raise ValidationException(msg.ORDER_BY_NO_HASH)
        if order_by[0] not in schema.names:
            raise ValidationException(
                f"Variable reference {order_by[0]} in ORDER BY clause must be part of the "
                "primary key"
            )
    complete = all(name in keys for name in schema.names)
    if index is None and complete and not rest:
        get: dict[str, Any] = {
            "TableName": row.name,
            "Key": _key_of(renderer, schema, keys),
        }
        for member in ("ReturnConsumedCapacity", "ConsistentRead"):
            if options.get(member) is not None:
                get[member] = options[member]
        return _Plan("GetItem", get, row, statement, projection, point_read=True)
    hash_names = [name for name, _ in schema.hash_attributes]
    range_names = [name for name, _ in schema.range_attributes]
    # A multi-attribute GSI key is queried with equality on every HASH attribute and on a
    # leading run of RANGE attributes; a key equality outside that run makes it a Scan.
    leading = 0
    while leading < len(range_names) and range_names[leading] in keys:
        leading += 1
    queryable = all(name in keys for name in hash_names) and all(
        name not in keys for name in range_names[leading:]
    )
    if queryable:
        key_condition = " AND ".join(
            f"{renderer.name(name)} = {renderer.value_ref(renderer.value(keys[name]))}"
            for name in hash_names + range_names[:leading]
        )
        filters = list(rest)
        if leading < len(range_names):
            for i, conjunct in enumerate(filters):
                sort = _sort_condition(renderer, conjunct, range_names[leading])
                if sort is not None:
                    key_condition += f" AND {sort}"
                    del filters[i]
                    break
        request["KeyConditionExpression"] = key_condition
        plain = [part for part in filters if not _mentions(part, schema.names)]
        on_keys = [part for part in filters if _mentions(part, schema.names)]
        condition = _and(renderer, plain)
        if condition is not None:
            request["FilterExpression"] = condition
        if order_by is not None and order_by[1]:
            request["ScanIndexForward"] = False
        request.update(renderer.members())
        plan = _Plan("Query", request, row, statement, projection)
        if on_keys:
            plan.key_filter = _key_filter(renderer, on_keys)
        return plan
    if order_by is not None:
        raise ValidationException(msg.ORDER_BY_NO_HASH)
    if statement.where is not None:
        request["FilterExpression"] = renderer.condition(statement.where)
    request.update(renderer.members())
    return _Plan("Scan", request, row, statement, projection)


def _key_filter(renderer: Renderer, parts: list[Expr]) -> tuple[Condition, ExpressionContext]:
    """Conditions on key attributes beside the key condition (`sk > 1 AND sk < 5`): a
    Query filter may not read keys, so they are applied to the items the Query read
    (which keeps its order and its Limit: Limit counts items read)."""
    own = Renderer(renderer.text, renderer.parameters)
    text = " AND ".join(own.condition(part) for part in parts)
    condition = parse_condition(text, FILTER)
    ctx = ExpressionContext(own.names or None, own.values or None)
    try:
        ctx.prepare_condition(condition, FILTER)
    except ValidationException as error:
        raise _plain_message(error) from None
    return condition, ctx


def _check_projection(statement: Select, index: IndexSchema | None) -> None:
    projection = statement.projection
    if projection is None:
        return
    seen: set[str] = set()
    for path in projection:
        column = path.display()
        if column in seen:
            raise ValidationException(f"Duplicate identifiers in select clause: {column}")
        seen.add(column)
    if index is not None and index.is_global and index.projection_type != "ALL":
        outside = [
            path.name
            for path in projection
            if path.name not in index.key_names and not index.projects(path.name)
        ]
        if outside:
            raise ValidationException(
                "One or more parameter values were invalid: Global secondary index "
                f"{index.name} does not project [{', '.join(outside)}]"
            )


def _project(item: Item, projection: tuple[PathRef, ...] | None) -> Item:
    """The columns of a SELECT: each path under its last named step."""
    if projection is None:
        return item
    out: Item = {}
    for path in projection:
        value = get_path(item, path.steps)
        if value is not None:
            out[path.display()] = value
    return out


# ---------------------------------------------------------------------- running


def _as_dict(result: dict[str, Any] | bytes) -> dict[str, Any]:
    if isinstance(result, bytes):
        loaded: dict[str, Any] = orjson.loads(result)
        return loaded
    return result


def _plain_message(error: ValidationException) -> ValidationException:
    text = str(error.message or "")
    for prefix in _EXPRESSION_PREFIXES:
        if text.startswith(prefix):
            return ValidationException(text[len(prefix) :], **error.extra)
    return error


def _run(backend: Backend, region: str, plan: _Plan) -> dict[str, Any]:
    """Run a planned statement; answers the operation's output (Items not yet built)."""
    request = plan.request
    try:
        if plan.operation == "GetItem":
            return _as_dict(items.get_item(backend, region, request))
        if plan.operation == "Query":
            return _as_dict(read.query(backend, region, request))
        if plan.operation == "Scan":
            return _as_dict(read.scan(backend, region, request))
        if plan.operation == "PutItem":
            try:
                return items.put_item(backend, region, request)
            except ConditionalCheckFailedException:
                raise DuplicateItemException(msg.DUPLICATE_ITEM) from None
        if plan.operation == "UpdateItem":
            return items.update_item(backend, region, request)
        if plan.operation == "DeleteItem":
            return items.delete_item(backend, region, request)
    except ValidationException as error:
        raise _plain_message(error) from None
    raise ValidationException(msg.EXISTS_OUTSIDE)


def _next_token(text: str, parameters: Any, last_key: Item) -> str:
    digest = _statement_digest(text, parameters)
    payload = orjson.dumps({"s": digest, "k": last_key})
    return base64.urlsafe_b64encode(payload).decode()


def _statement_digest(text: str, parameters: Any) -> str:
    body = orjson.dumps([text, parameters], option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(body).hexdigest()[:32]


def _start_key(text: str, parameters: Any, token: str) -> Item:
    try:
        decoded = orjson.loads(base64.urlsafe_b64decode(token.encode()))
        digest, key = decoded["s"], decoded["k"]
    except (ValueError, TypeError, KeyError, orjson.JSONDecodeError):
        raise ValidationException(msg.INVALID_NEXT_TOKEN) from None
    if digest != _statement_digest(text, parameters) or not isinstance(key, dict):
        raise ValidationException(msg.OTHER_STATEMENT_TOKEN)
    return key


def execute_statement(backend: Backend, region: str, request: dict[str, Any]) -> dict[str, Any]:
    text = request["Statement"]
    parameters = request.get("Parameters")
    options = dict(request)
    token = request.get("NextToken")
    if token is not None:
        options["ExclusiveStartKey"] = _start_key(text, parameters, token)
    plan = _plan(backend, region, text, parameters, options)
    if plan.operation == "ConditionCheck":
        raise ValidationException(msg.EXISTS_OUTSIDE)
    output = _run(backend, region, plan)
    result: dict[str, Any] = {}
    if plan.operation == "GetItem":
        found = output.get("Item")
        result["Items"] = [] if found is None else [_project(found, plan.projection)]
    elif plan.operation in ("Query", "Scan"):
        found_items = output.get("Items", [])
        if plan.key_filter is not None:
            condition, ctx = plan.key_filter
            found_items = [i for i in found_items if evaluate_condition(condition, i, ctx)]
        result["Items"] = [_project(item, plan.projection) for item in found_items]
        if "LastEvaluatedKey" in output:
            result["NextToken"] = _next_token(text, parameters, output["LastEvaluatedKey"])
    else:
        attributes = output.get("Attributes")
        result["Items"] = [attributes] if attributes else []
    if "ConsumedCapacity" in output:
        result["ConsumedCapacity"] = output["ConsumedCapacity"]
    return result


def _batch_error(error: AwsError) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "Code": _BATCH_CODES.get(error.code, "InternalServerError"),
        "Message": str(error.message or error.extra.get("Message") or ""),
    }
    if "Item" in error.extra:
        entry["Item"] = error.extra["Item"]
    return {"Error": entry}


def batch_execute_statement(
    backend: Backend, region: str, request: dict[str, Any]
) -> dict[str, Any]:
    """Each statement on its own: a failing one gets its Error entry, the others run.
    A SELECT must read one item by its full primary key.

    AWS refuses a batch mixing reads and writes; its wording for that is not known, so
    the message here is the documentation's sentence."""
    kinds = set()
    for entry in request["Statements"]:
        try:
            kinds.add(isinstance(parse_statement(entry["Statement"]), Select))
        except ValidationException:
            continue
    if len(kinds) > 1:
        raise ValidationException(msg.BATCH_MIXED)
    capacity = request.get("ReturnConsumedCapacity")
    units: dict[str, float] = {}
    responses: list[dict[str, Any]] = []
    for entry in request["Statements"]:
        options: dict[str, Any] = {"ConsistentRead": entry.get("ConsistentRead")}
        if capacity is not None:
            options["ReturnConsumedCapacity"] = capacity
        failure = entry.get("ReturnValuesOnConditionCheckFailure")
        if failure is not None:
            options["ReturnValuesOnConditionCheckFailure"] = failure
        try:
            plan = _plan(backend, region, entry["Statement"], entry.get("Parameters"), options)
            if isinstance(plan.statement, Select) and not plan.point_read:
                raise ValidationException(msg.BATCH_KEY)
            if plan.operation == "ConditionCheck":
                raise ValidationException(msg.EXISTS_OUTSIDE)
            output = _run(backend, region, plan)
        except AwsError as error:
            responses.append(_batch_error(error))
            continue
        response: dict[str, Any] = {"TableName": plan.row.name}
        if plan.operation == "GetItem" and "Item" in output:
            response["Item"] = _project(output["Item"], plan.projection)
        responses.append(response)
        consumed = output.get("ConsumedCapacity")
        if consumed is not None:
            name = consumed["TableName"]
            units[name] = units.get(name, 0.0) + consumed["CapacityUnits"]
    result: dict[str, Any] = {"Responses": responses}
    if capacity is not None and capacity != "NONE":
        result["ConsumedCapacity"] = [
            {"TableName": name, "CapacityUnits": value} for name, value in units.items()
        ]
    return result


def _prefixed(index: int, error: ValidationException) -> ValidationException:
    return ValidationException(f"Validation failed in TransactStatements[{index}]: {error.message}")


def execute_transaction(backend: Backend, region: str, request: dict[str, Any]) -> Staged:
    """All reads -> TransactGetItems; otherwise every statement a write (or EXISTS
    condition check) -> TransactWriteItems, staged as it is."""
    entries = request["TransactStatements"]
    plans: list[_Plan] = []
    for i, entry in enumerate(entries):
        options: dict[str, Any] = {}
        failure = entry.get("ReturnValuesOnConditionCheckFailure")
        if failure is not None:
            options["ReturnValuesOnConditionCheckFailure"] = failure
        try:
            plan = _plan(backend, region, entry["Statement"], entry.get("Parameters"), options)
        except ValidationException as error:
            if error.message in (msg.EXISTS_SHAPE, msg.INCOMPLETE_KEY):
                raise _prefixed(i, error) from None
            raise
        if isinstance(plan.statement, Select):
            if plan.statement.source.index is not None:
                raise _prefixed(i, ValidationException(msg.TRANSACTION_INDEX))
            if not plan.point_read:
                raise _prefixed(i, ValidationException(msg.TRANSACTION_KEY))
        plans.append(plan)
    capacity = request.get("ReturnConsumedCapacity")
    reads = [isinstance(plan.statement, Select) for plan in plans]
    if all(reads):
        return _read_transaction(backend, region, plans, capacity)
    if any(reads):
        index = reads.index(True)
        raise _prefixed(index, ValidationException("Unsupported operation in transaction."))
    return (yield from _write_transaction(backend, region, request, plans, capacity))


def _read_transaction(
    backend: Backend, region: str, plans: list[_Plan], capacity: str | None
) -> dict[str, Any]:
    gets = [
        {"Get": {"TableName": plan.request["TableName"], "Key": plan.request["Key"]}}
        for plan in plans
    ]
    get_request: dict[str, Any] = {"TransactItems": gets}
    if capacity is not None:
        get_request["ReturnConsumedCapacity"] = capacity
    output = transact.transact_get_items(backend, region, get_request)
    responses = []
    for plan, response in zip(plans, output["Responses"], strict=True):
        if "Item" in response:
            responses.append({"Item": _project(response["Item"], plan.projection)})
        else:
            responses.append({})
    result: dict[str, Any] = {"Responses": responses}
    if "ConsumedCapacity" in output:
        result["ConsumedCapacity"] = output["ConsumedCapacity"]
    return result


_TRANSACT_KINDS = {
    "PutItem": "Put",
    "UpdateItem": "Update",
    "DeleteItem": "Delete",
    "ConditionCheck": "ConditionCheck",
}


def _write_transaction(
    backend: Backend,
    region: str,
    request: dict[str, Any],
    plans: list[_Plan],
    capacity: str | None,
) -> Generator[None, None, dict[str, Any] | bytes]:
    actions = []
    for plan in plans:
        spec = {k: v for k, v in plan.request.items() if k not in ("ReturnConsumedCapacity",)}
        if plan.operation == "UpdateItem" or plan.operation == "DeleteItem":
            spec.pop("ReturnValues", None)
        actions.append({_TRANSACT_KINDS[plan.operation]: spec})
    write_request: dict[str, Any] = {"TransactItems": actions}
    if capacity is not None:
        write_request["ReturnConsumedCapacity"] = capacity
    token = request.get("ClientRequestToken")
    if token is not None:
        write_request["ClientRequestToken"] = token
    try:
        output = yield from transact.transact_write_items(backend, region, write_request)
    except TransactionCanceledException as error:
        raise _with_duplicates(error, plans) from None
    except ValidationException as error:
        raise _plain_message(error) from None
    result: dict[str, Any] = {"Responses": []}
    result.update(_as_dict(output))
    return result


def _with_duplicates(
    error: TransactionCanceledException, plans: list[_Plan]
) -> TransactionCanceledException:
    """An INSERT whose key exists is cancelled as DuplicateItem, not a failed condition."""
    reasons = [dict(reason) for reason in error.extra.get("CancellationReasons", [])]
    for plan, reason in zip(plans, reasons, strict=False):
        if plan.operation == "PutItem" and reason.get("Code") == "ConditionalCheckFailed":
            reason.clear()
            reason.update({"Code": "DuplicateItem", "Message": msg.DUPLICATE_ITEM})
    codes = ", ".join(reason["Code"] for reason in reasons)
    return TransactionCanceledException(
        None,
        Message="Transaction cancelled, please refer cancellation reasons for specific reasons "
        f"[{codes}]",
        CancellationReasons=reasons,
    )
