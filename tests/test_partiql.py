"""PartiQL (ExecuteStatement, BatchExecuteStatement, ExecuteTransaction) through boto3,
the AWS CLI and raw HTTP against the real server: results, paging, parameters, stream
records of PartiQL writes, and AWS's errors with their exact messages."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from conftest import error_of, raw_dynamodb, read_table_stream
from test_awscli import aws, ok  # noqa: F401  (the `aws` fixture)

NOT_WELL_FORMED = "Statement wasn't well formed, can't be processed: "


def run(ddb: Any, statement: str, **kwargs: Any) -> dict[str, Any]:
    response = ddb.execute_statement(Statement=statement, **kwargs)
    response.pop("ResponseMetadata")
    return response


def rejected(ddb: Any, statement: str, **kwargs: Any) -> tuple[str, str]:
    error = error_of(ddb.execute_statement, Statement=statement, **kwargs)
    return error["Code"], error["Message"]


@pytest.fixture
def composite(make_table: Callable[..., str], ddb: Any) -> str:
    """pk S / sk N with items a/1..5 and b/1, stream NEW_AND_OLD_IMAGES."""
    name = make_table(range_key="N", stream="NEW_AND_OLD_IMAGES")
    for sk in range(1, 6):
        ddb.put_item(
            TableName=name,
            Item={"pk": {"S": "a"}, "sk": {"N": str(sk)}, "v": {"N": str(sk * 10)}},
        )
    ddb.put_item(TableName=name, Item={"pk": {"S": "b"}, "sk": {"N": "1"}, "tag": {"S": "x"}})
    return name


# --------------------------------------------------------------------------- SELECT


def test_select_by_full_key(ddb: Any, composite: str) -> None:
    result = run(ddb, f"SELECT * FROM \"{composite}\" WHERE pk = 'a' AND sk = 2")
    assert result == {"Items": [{"pk": {"S": "a"}, "sk": {"N": "2"}, "v": {"N": "20"}}]}
    assert run(ddb, f"SELECT * FROM \"{composite}\" WHERE pk = 'zz' AND sk = 2") == {"Items": []}


def test_select_query_with_sort_condition_and_filter(ddb: Any, composite: str) -> None:
    result = run(
        ddb,
        f"SELECT sk, v FROM \"{composite}\" WHERE pk = 'a' AND sk BETWEEN 2 AND 4 AND v <> 30",
    )
    assert result == {
        "Items": [{"sk": {"N": "2"}, "v": {"N": "20"}}, {"sk": {"N": "4"}, "v": {"N": "40"}}]
    }


def test_select_order_by_desc(ddb: Any, composite: str) -> None:
    result = run(ddb, f"SELECT sk FROM \"{composite}\" WHERE pk = 'a' ORDER BY sk DESC")
    assert [item["sk"]["N"] for item in result["Items"]] == ["5", "4", "3", "2", "1"]


def test_select_two_sort_key_conditions_keep_the_query_order(ddb: Any, composite: str) -> None:
    statement = f"SELECT sk FROM \"{composite}\" WHERE pk = 'a' AND sk > 1 AND sk < 5"
    result = run(ddb, statement + " ORDER BY sk DESC")
    assert [item["sk"]["N"] for item in result["Items"]] == ["4", "3", "2"]
    first = run(ddb, statement, Limit=2)
    assert [item["sk"]["N"] for item in first["Items"]] == ["2", "3"]
    rest = run(ddb, statement, Limit=2, NextToken=first["NextToken"])
    assert [item["sk"]["N"] for item in rest["Items"]] == ["4"]


def test_select_scan_with_filter_or_and_functions(ddb: Any, composite: str) -> None:
    result = run(
        ddb,
        f"SELECT pk, sk FROM \"{composite}\" WHERE begins_with(tag, 'x') OR v >= 50",
    )
    keys = sorted((i["pk"]["S"], i["sk"]["N"]) for i in result["Items"])
    assert keys == [("a", "5"), ("b", "1")]
    missing = run(ddb, f'SELECT pk FROM "{composite}" WHERE tag IS MISSING AND sk = 1')
    assert missing == {"Items": [{"pk": {"S": "a"}}]}
    present = run(ddb, f'SELECT pk FROM "{composite}" WHERE tag IS NOT MISSING')
    assert present == {"Items": [{"pk": {"S": "b"}}]}


def test_select_in_and_not(ddb: Any, composite: str) -> None:
    result = run(ddb, f"SELECT sk FROM \"{composite}\" WHERE pk = 'a' AND NOT sk IN [1, 3, 5]")
    assert result == {"Items": [{"sk": {"N": "2"}}, {"sk": {"N": "4"}}]}


def test_select_nested_projection_named_by_last_step(
    ddb: Any, make_table: Callable[..., str]
) -> None:
    name = make_table()
    ddb.put_item(
        TableName=name,
        Item={
            "pk": {"S": "p"},
            "m": {"M": {"k": {"L": [{"S": "zero"}, {"S": "one"}]}, "z": {"N": "1"}}},
            "l": {"L": [{"BOOL": True}]},
        },
    )
    result = run(ddb, f"SELECT m.k[1], l[0], m.z, absent FROM \"{name}\" WHERE pk = 'p'")
    assert result == {"Items": [{"k[1]": {"S": "one"}, "l[0]": {"BOOL": True}, "z": {"N": "1"}}]}
    code, message = rejected(ddb, f"SELECT m.z, z FROM \"{name}\" WHERE pk = 'p'")
    assert (code, message) == ("ValidationException", "Duplicate identifiers in select clause: z")


def test_parameters(ddb: Any, composite: str) -> None:
    result = run(
        ddb,
        f'SELECT v FROM "{composite}" WHERE pk = ? AND sk = ?',
        Parameters=[{"S": "a"}, {"N": "3"}],
    )
    assert result == {"Items": [{"v": {"N": "30"}}]}
    for parameters in ([{"S": "a"}], [{"S": "a"}, {"N": "3"}, {"N": "4"}]):
        assert rejected(
            ddb, f'SELECT v FROM "{composite}" WHERE pk = ? AND sk = ?', Parameters=parameters
        ) == ("ValidationException", "Number of parameters in request and statement don't match.")
    assert rejected(
        ddb,
        f'SELECT * FROM "{composite}" WHERE pk = ? AND v = ?',
        Parameters=[{"S": "a"}, {"N": "1e99999999999"}],
    ) == (
        "ValidationException",
        "The parameter cannot be converted to a numeric value: 1e99999999999",
    )


def test_limit_and_next_token_paging(ddb: Any, composite: str) -> None:
    statement = f"SELECT sk FROM \"{composite}\" WHERE pk = 'a'"
    seen: list[str] = []
    pages = 0
    kwargs: dict[str, Any] = {"Limit": 2, "ConsistentRead": True}
    while True:
        page = run(ddb, statement, **kwargs)
        pages += 1
        seen.extend(item["sk"]["N"] for item in page["Items"])
        if "NextToken" not in page:
            break
        assert len(page["Items"]) == 2
        kwargs["NextToken"] = page["NextToken"]
    assert seen == ["1", "2", "3", "4", "5"]
    assert pages == 3
    token = run(ddb, statement, Limit=1)["NextToken"]
    assert rejected(ddb, f'SELECT * FROM "{composite}"', NextToken=token) == (
        "ValidationException",
        "The provided starting key is invalid",
    )
    assert rejected(ddb, statement, NextToken="not-a-token") == (
        "ValidationException",
        "Invalid NextToken",
    )


def test_scan_paging_with_limit_counts_items_read(ddb: Any, composite: str) -> None:
    page = run(ddb, f"SELECT * FROM \"{composite}\" WHERE tag = 'x'", Limit=1)
    assert "NextToken" in page
    total: list[dict[str, Any]] = list(page["Items"])
    while "NextToken" in page:
        page = run(
            ddb,
            f"SELECT * FROM \"{composite}\" WHERE tag = 'x'",
            Limit=1,
            NextToken=page["NextToken"],
        )
        total.extend(page["Items"])
    assert total == [{"pk": {"S": "b"}, "sk": {"N": "1"}, "tag": {"S": "x"}}]


def test_consumed_capacity(ddb: Any, composite: str) -> None:
    result = run(
        ddb,
        f"SELECT * FROM \"{composite}\" WHERE pk = 'a' AND sk = 1",
        ReturnConsumedCapacity="TOTAL",
        ConsistentRead=True,
    )
    assert result["ConsumedCapacity"] == {"TableName": composite, "CapacityUnits": 1.0}
    write = run(
        ddb,
        f"UPDATE \"{composite}\" SET w = 1 WHERE pk = 'a' AND sk = 1",
        ReturnConsumedCapacity="TOTAL",
    )
    assert write == {
        "Items": [],
        "ConsumedCapacity": {"TableName": composite, "CapacityUnits": 1.0},
    }


def test_select_through_an_index(ddb: Any, make_table: Callable[..., str]) -> None:
    name = make_table(
        range_key="S",
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
            {"AttributeName": "g", "AttributeType": "S"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "byg",
                "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            }
        ],
    )
    ddb.put_item(
        TableName=name,
        Item={"pk": {"S": "p"}, "sk": {"S": "s"}, "g": {"S": "G"}, "data": {"S": "d"}},
    )
    result = run(ddb, f'SELECT * FROM "{name}"."byg" WHERE g = \'G\'')
    assert result == {"Items": [{"pk": {"S": "p"}, "sk": {"S": "s"}, "g": {"S": "G"}}]}
    assert rejected(ddb, f'SELECT data, pk FROM "{name}"."byg" WHERE g = \'G\'') == (
        "ValidationException",
        "One or more parameter values were invalid: Global secondary index byg does not "
        "project [data]",
    )
    assert rejected(ddb, f'SELECT * FROM "{name}"."byg"', ConsistentRead=True) == (
        "ValidationException",
        "Strongly consistent read is not supported on Global Secondary Indexes",
    )


def test_select_through_a_multi_attribute_index(ddb: Any, make_table: Callable[..., str]) -> None:
    """Equality on every HASH attribute and a leading run of RANGE attributes is a Query
    (sorted by the RANGE attributes); a key equality past a gap is read by a Scan."""
    name = make_table(
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "t", "AttributeType": "S"},
            {"AttributeName": "r", "AttributeType": "S"},
            {"AttributeName": "y", "AttributeType": "N"},
            {"AttributeName": "m", "AttributeType": "N"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "bytrym",
                "KeySchema": [
                    {"AttributeName": "t", "KeyType": "HASH"},
                    {"AttributeName": "r", "KeyType": "HASH"},
                    {"AttributeName": "y", "KeyType": "RANGE"},
                    {"AttributeName": "m", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            }
        ],
    )
    for pk, t, r, y, m in [
        ("a", "T", "R", "2025", "3"),
        ("b", "T", "R", "2024", "9"),
        ("c", "T", "R", "2025", "1"),
        ("d", "T", "X", "2025", "1"),
    ]:
        ddb.put_item(
            TableName=name,
            Item={"pk": {"S": pk}, "t": {"S": t}, "r": {"S": r}, "y": {"N": y}, "m": {"N": m}},
        )
    index = f'"{name}"."bytrym"'
    ordered = run(ddb, f"SELECT pk FROM {index} WHERE t = 'T' AND r = 'R'")
    assert ordered["Items"] == [{"pk": {"S": "b"}}, {"pk": {"S": "c"}}, {"pk": {"S": "a"}}]
    ranged = run(ddb, f"SELECT pk FROM {index} WHERE t = 'T' AND r = 'R' AND y = 2025 AND m > 1")
    assert ranged["Items"] == [{"pk": {"S": "a"}}]
    gap = run(ddb, f"SELECT pk FROM {index} WHERE t = 'T' AND m = 1")
    assert sorted(item["pk"]["S"] for item in gap["Items"]) == ["c", "d"]


# --------------------------------------------------------------------------- writes


def test_writes_and_their_stream_records(
    ddb: Any, streams: Any, make_table: Callable[..., str]
) -> None:
    name = make_table(stream="NEW_AND_OLD_IMAGES")
    assert run(ddb, f"INSERT INTO \"{name}\" VALUE {{'pk': 'k', 'n': 1, 'ss': <<'a', 'b'>>}}") == {
        "Items": []
    }
    assert run(
        ddb,
        f"UPDATE \"{name}\" SET n = n + 5 SET l = [1, 'two'] REMOVE ss WHERE pk = 'k'",
    ) == {"Items": []}
    assert run(ddb, f"DELETE FROM \"{name}\" WHERE pk = 'k'") == {"Items": []}
    assert run(ddb, f"DELETE FROM \"{name}\" WHERE pk = 'never'") == {"Items": []}
    records = read_table_stream(ddb, streams, name)
    events = [
        (r["eventName"], r["dynamodb"].get("OldImage"), r["dynamodb"].get("NewImage"))
        for r in records
    ]
    inserted = {"pk": {"S": "k"}, "n": {"N": "1"}, "ss": {"SS": ["a", "b"]}}
    updated = {"pk": {"S": "k"}, "n": {"N": "6"}, "l": {"L": [{"N": "1"}, {"S": "two"}]}}
    assert events == [
        ("INSERT", None, inserted),
        ("MODIFY", inserted, updated),
        ("REMOVE", updated, None),
    ]
    assert all(r["dynamodb"]["Keys"] == {"pk": {"S": "k"}} for r in records)


def test_insert_of_an_existing_key_is_a_duplicate(ddb: Any, composite: str) -> None:
    assert rejected(ddb, f"INSERT INTO \"{composite}\" VALUE {{'pk': 'a', 'sk': 1}}") == (
        "DuplicateItemException",
        "Duplicate primary key exists in table",
    )


def test_update_never_creates_and_checks_its_where(ddb: Any, composite: str) -> None:
    assert rejected(ddb, f"UPDATE \"{composite}\" SET x = 1 WHERE pk = 'new' AND sk = 1") == (
        "ConditionalCheckFailedException",
        "The conditional request failed",
    )
    assert (
        ddb.get_item(TableName=composite, Key={"pk": {"S": "new"}, "sk": {"N": "1"}}).get("Item")
        is None
    )
    error = error_of(
        ddb.execute_statement,
        Statement=f"UPDATE \"{composite}\" SET x = 1 WHERE pk = 'a' AND sk = 1 AND v = 99",
        ReturnValuesOnConditionCheckFailure="ALL_OLD",
    )
    assert error["Code"] == "ConditionalCheckFailedException"


def test_condition_failure_returns_the_item_when_asked(endpoint: str, composite: str) -> None:
    status, body = raw_dynamodb(
        endpoint,
        "ExecuteStatement",
        {
            "Statement": f"UPDATE \"{composite}\" SET x = 1 WHERE pk = 'a' AND sk = 1 AND v = 99",
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        },
    )
    assert status == 400
    assert body == {
        "__type": "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException",
        "Message": "The conditional request failed",
        "Item": {"pk": {"S": "a"}, "sk": {"N": "1"}, "v": {"N": "10"}},
    }


def test_update_returning_and_set_functions(ddb: Any, make_table: Callable[..., str]) -> None:
    name = make_table()
    run(ddb, f"INSERT INTO \"{name}\" VALUE {{'pk': 'k', 'ss': <<'a'>>, 'n': 1}}")
    result = run(
        ddb,
        f"UPDATE \"{name}\" SET ss = set_add(ss, <<'b'>>) SET n = 2 WHERE pk = 'k' "
        "RETURNING MODIFIED NEW *",
    )
    assert result == {"Items": [{"ss": {"SS": ["a", "b"]}, "n": {"N": "2"}}]}
    result = run(
        ddb,
        f"UPDATE \"{name}\" SET ss = set_delete(ss, <<'a'>>) WHERE pk = 'k' RETURNING ALL OLD *",
    )
    assert result == {"Items": [{"pk": {"S": "k"}, "ss": {"SS": ["a", "b"]}, "n": {"N": "2"}}]}
    result = run(ddb, f"DELETE FROM \"{name}\" WHERE pk = 'k' RETURNING ALL OLD *")
    assert result == {"Items": [{"pk": {"S": "k"}, "ss": {"SS": ["b"]}, "n": {"N": "2"}}]}


def test_delete_with_condition(ddb: Any, composite: str) -> None:
    assert rejected(ddb, f"DELETE FROM \"{composite}\" WHERE pk = 'a' AND sk = 1 AND v = 11") == (
        "ConditionalCheckFailedException",
        "The conditional request failed",
    )
    assert run(ddb, f"DELETE FROM \"{composite}\" WHERE pk = 'a' AND sk = 1 AND v = 10") == {
        "Items": []
    }
    assert run(ddb, f"SELECT * FROM \"{composite}\" WHERE pk = 'a' AND sk = 1") == {"Items": []}


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("template", "message"),
    [
        (
            "SELECT * FROM \"{t}\" WHERE pk = 'a' foo",
            NOT_WELL_FORMED + "Unexpected token after expression",
        ),
        (
            "INSERT INTO \"{t}\" VALUE {{'pk': 'x'}} foo",
            NOT_WELL_FORMED + "Unexpected token after expression",
        ),
        (
            'SELECT * FROM "{t}" WHERE pk = 1)',
            NOT_WELL_FORMED + "Unexpected token after expression",
        ),
        ('SELECT * FROM "{t}" WHERE pk = 1 # note', NOT_WELL_FORMED),
        ('SELECT * FROM "{t}" WHERE pk = 1 /* note', NOT_WELL_FORMED),
        ('SELECT * FROM "{t}" WHERE pk = 1e2147483648', NOT_WELL_FORMED),
        ("SELECT * FROM \"{t}\" t WHERE pk = 'x'", "Aliasing is not supported"),
        ("DELETE FROM \"{t}\" AS t WHERE pk = 'x'", "Aliasing is not supported"),
        (
            'UPDATE "{t}" SET a = 1 WHERE sk = 1',
            "Where clause does not contain a mandatory equality on all key attributes",
        ),
        (
            "DELETE FROM \"{t}\" WHERE pk = 'a'",
            "Where clause does not contain a mandatory equality on all key attributes",
        ),
        (
            'SELECT * FROM "{t}" WHERE pk = 1e126',
            "Number overflow. Attempting to store a number with magnitude larger "
            "than supported range under root",
        ),
        (
            "INSERT INTO \"{t}\" VALUE {{'pk': 'x', 'sk': 1, 'm': {{'x': [1, 1e126]}}}}",
            "Number overflow. Attempting to store a number with magnitude larger "
            "than supported range under root.m.x[1]",
        ),
        (
            "UPDATE \"{t}\" SET ss = set_add(ss, <<>>) WHERE pk = 'a' AND sk = 1",
            "Empty bags are not supported",
        ),
        (
            "UPDATE \"{t}\" SET ss = set_add(ss, <<'x', 'x'>>) WHERE pk = 'a' AND sk = 1",
            "One or more parameter values were invalid: Input collection [x, x] "
            "contains duplicates.",
        ),
        (
            "SELECT * FROM \"{t}\" WHERE attribute_exists('ss')",
            "Operator or function requires a document path; operator or function: attribute_exists",
        ),
        (
            'SELECT * FROM "{t}" WHERE attribute_exists()',
            "Incorrect number of operands for operator or function; operator or "
            "function: attribute_exists, number of operands: 0",
        ),
        ('SELECT * FROM "{t}" LIMIT 2', "Unsupported clause: LIMIT"),
        (
            'SELECT * FROM "{t}" ORDER BY sk',
            "Must have WHERE clause in the statement when using ORDER BY clause.",
        ),
        (
            'SELECT * FROM "{t}" WHERE v = 1 ORDER BY sk',
            "Must have at least one non-optional hash key condition in WHERE "
            "clause when using ORDER BY clause.",
        ),
        (
            'SELECT *, pk FROM "{t}"',
            "Other attributes should not be present in the projection when '*' is used.",
        ),
        (
            'INSERT INTO "{t}" VALUE [1]',
            "Unsupported format in item expression. Please use struct format "
            "{{...}} to express item values for insert statement.",
        ),
        (
            "EXISTS(SELECT * FROM \"{t}\" WHERE pk = 'a' AND sk = 1 AND v = 1)",
            "EXISTS can only be used in ExecuteTransaction write requests.",
        ),
    ],
)
def test_validation_messages(ddb: Any, composite: str, template: str, message: str) -> None:
    statement = template.format(t=composite)
    assert rejected(ddb, statement) == (
        "ValidationException",
        message.replace("{{", "{").replace("}}", "}"),
    )


def test_positioned_function_messages(ddb: Any, composite: str) -> None:
    statement = f"SELECT * FROM \"{composite}\" WHERE pk = 'a' AND EXISTS(ss)"
    column = statement.index("EXISTS") + 1
    assert rejected(ddb, statement) == (
        "ValidationException",
        f"Unrecognized function: exists at 1:{column}:6",
    )
    statement = f"UPDATE \"{composite}\" SET t = set_add(ss, <<'x'>>) WHERE pk = 'a' AND sk = 1"
    column = statement.index("set_add") + 1
    assert rejected(ddb, statement) == (
        "ValidationException",
        f"The first argument to SET_ADD must equal the assignment value at 1:{column}:7",
    )


def test_unknown_table_and_index(ddb: Any, composite: str) -> None:
    assert rejected(ddb, "SELECT * FROM \"no-such-table\" WHERE pk = 'a'") == (
        "ResourceNotFoundException",
        "Requested resource not found",
    )
    assert rejected(ddb, f'SELECT * FROM "{composite}"."nope"') == (
        "ValidationException",
        "The table does not have the specified index: nope",
    )


def test_request_shape_is_validated_from_the_model(ddb: Any, endpoint: str) -> None:
    status, body = raw_dynamodb(endpoint, "ExecuteStatement", {"Statement": ""})
    assert (status, body["message"]) == (
        400,
        "1 validation error detected: Value '' at 'statement' failed to satisfy constraint: "
        "Member must have length greater than or equal to 1",
    )
    status, body = raw_dynamodb(
        endpoint,
        "BatchExecuteStatement",
        {"Statements": [{"Statement": "SELECT * FROM t"}] * 26},
    )
    assert status == 400
    assert body["message"].startswith("1 validation error detected: Value '[")
    assert body["message"].endswith(
        "at 'statements' failed to satisfy constraint: Member must have length less than "
        "or equal to 25"
    )


# ------------------------------------------------------------------------ batches


def test_batch_execute_statement(ddb: Any, composite: str) -> None:
    response = ddb.batch_execute_statement(
        Statements=[
            {"Statement": f"SELECT v FROM \"{composite}\" WHERE pk = 'a' AND sk = 1"},
            {"Statement": f"SELECT * FROM \"{composite}\" WHERE pk = 'zz' AND sk = 1"},
            {"Statement": f"SELECT * FROM \"{composite}\" WHERE pk = 'a'"},
            {
                "Statement": f'SELECT * FROM "{composite}" WHERE pk = ? AND sk = ?',
                "Parameters": [{"S": "a"}],
            },
        ]
    )
    assert response["Responses"] == [
        {"TableName": composite, "Item": {"v": {"N": "10"}}},
        {"TableName": composite},
        {
            "Error": {
                "Code": "ValidationError",
                "Message": (
                    "Select statements within BatchExecuteStatement must specify "
                    "the primary key in the where clause."
                ),
            }
        },
        {
            "Error": {
                "Code": "ValidationError",
                "Message": "Number of parameters in request and statement don't match.",
            }
        },
    ]


def test_batch_writes_fail_one_by_one(ddb: Any, streams: Any, composite: str) -> None:
    response = ddb.batch_execute_statement(
        Statements=[
            {"Statement": f"INSERT INTO \"{composite}\" VALUE {{'pk': 'c', 'sk': 1}}"},
            {"Statement": f"INSERT INTO \"{composite}\" VALUE {{'pk': 'a', 'sk': 1}}"},
            {"Statement": f"UPDATE \"{composite}\" SET v = 0 WHERE pk = 'nope' AND sk = 1"},
            {"Statement": f"DELETE FROM \"{composite}\" WHERE pk = 'b' AND sk = 1"},
        ],
        ReturnConsumedCapacity="TOTAL",
    )
    assert response["Responses"] == [
        {"TableName": composite},
        {"Error": {"Code": "DuplicateItem", "Message": "Duplicate primary key exists in table"}},
        {"Error": {"Code": "ConditionalCheckFailed", "Message": "The conditional request failed"}},
        {"TableName": composite},
    ]
    assert response["ConsumedCapacity"] == [{"TableName": composite, "CapacityUnits": 2.0}]
    events = [r["eventName"] for r in read_table_stream(ddb, streams, composite)]
    assert events[-2:] == ["INSERT", "REMOVE"]


# -------------------------------------------------------------------- transactions


def test_execute_transaction_writes(ddb: Any, streams: Any, composite: str) -> None:
    response = ddb.execute_transaction(
        TransactStatements=[
            {"Statement": f"INSERT INTO \"{composite}\" VALUE {{'pk': 'n', 'sk': 9}}"},
            {
                "Statement": f"UPDATE \"{composite}\" SET v = ? WHERE pk = 'a' AND sk = 2",
                "Parameters": [{"N": "7"}],
            },
            {"Statement": f"DELETE FROM \"{composite}\" WHERE pk = 'a' AND sk = 3"},
            {
                "Statement": (
                    f"EXISTS(SELECT * FROM \"{composite}\" WHERE pk = 'b' AND sk = 1 AND tag = 'x')"
                ),
            },
        ],
        ReturnConsumedCapacity="TOTAL",
    )
    assert response["Responses"] == []
    assert response["ConsumedCapacity"] == [{"TableName": composite, "CapacityUnits": 8.0}]
    events = [r["eventName"] for r in read_table_stream(ddb, streams, composite)]
    assert events[-3:] == ["INSERT", "MODIFY", "REMOVE"]


def test_execute_transaction_cancelled(ddb: Any, composite: str) -> None:
    error = error_of(
        ddb.execute_transaction,
        TransactStatements=[
            {"Statement": f"UPDATE \"{composite}\" SET v = 0 WHERE pk = 'a' AND sk = 4"},
            {"Statement": f"INSERT INTO \"{composite}\" VALUE {{'pk': 'a', 'sk': 1}}"},
            {
                "Statement": (
                    f"EXISTS(SELECT * FROM \"{composite}\" WHERE pk = 'b' AND sk = 1 AND tag = 'y')"
                ),
            },
        ],
    )
    assert error["Code"] == "TransactionCanceledException"
    assert error["Message"] == (
        "Transaction cancelled, please refer cancellation reasons for specific reasons "
        "[None, DuplicateItem, ConditionalCheckFailed]"
    )
    assert run(ddb, f"SELECT v FROM \"{composite}\" WHERE pk = 'a' AND sk = 4") == {
        "Items": [{"v": {"N": "40"}}]
    }


def test_execute_transaction_cancellation_reasons_on_the_wire(
    endpoint: str, composite: str
) -> None:
    status, body = raw_dynamodb(
        endpoint,
        "ExecuteTransaction",
        {
            "TransactStatements": [
                {"Statement": f"INSERT INTO \"{composite}\" VALUE {{'pk': 'a', 'sk': 1}}"}
            ]
        },
    )
    assert status == 400
    assert body["CancellationReasons"] == [
        {"Code": "DuplicateItem", "Message": "Duplicate primary key exists in table"}
    ]


def test_execute_transaction_reads(ddb: Any, composite: str) -> None:
    response = ddb.execute_transaction(
        TransactStatements=[
            {"Statement": f"SELECT v FROM \"{composite}\" WHERE pk = 'a' AND sk = 5"},
            {"Statement": f"SELECT * FROM \"{composite}\" WHERE pk = 'zz' AND sk = 5"},
        ]
    )
    assert response["Responses"] == [{"Item": {"v": {"N": "50"}}}, {}]
    assert error_of(
        ddb.execute_transaction,
        TransactStatements=[{"Statement": f"SELECT * FROM \"{composite}\" WHERE pk = 'a'"}],
    ) == {
        "Code": "ValidationException",
        "Message": "Validation failed in TransactStatements[0]: Select statements within "
        "ExecuteTransaction must specify the primary key in the where clause.",
    }
    assert error_of(
        ddb.execute_transaction,
        TransactStatements=[
            {"Statement": f"EXISTS(SELECT * FROM \"{composite}\" WHERE pk = 'a' AND sk = 1)"},
            {"Statement": f"UPDATE \"{composite}\" SET z = 1 WHERE pk = 'a' AND sk = 1"},
        ],
    ) == {
        "Code": "ValidationException",
        "Message": "Validation failed in TransactStatements[0]: EXISTS() must contain a single "
        "item read with additional condition",
    }


def test_execute_transaction_idempotency(ddb: Any, composite: str) -> None:
    statements = [{"Statement": f"UPDATE \"{composite}\" SET v = v + 1 WHERE pk = 'a' AND sk = 1"}]
    for _ in range(2):
        ddb.execute_transaction(TransactStatements=statements, ClientRequestToken="tok-1")
    assert run(ddb, f"SELECT v FROM \"{composite}\" WHERE pk = 'a' AND sk = 1") == {
        "Items": [{"v": {"N": "11"}}]
    }
    other = [{"Statement": f"UPDATE \"{composite}\" SET v = v + 2 WHERE pk = 'a' AND sk = 1"}]
    error = error_of(ddb.execute_transaction, TransactStatements=other, ClientRequestToken="tok-1")
    assert error["Code"] == "IdempotentParameterMismatchException"


# ------------------------------------------------------------------------ AWS CLI


def test_aws_cli_execute_statement(aws: Any, ddb: Any, composite: str) -> None:  # noqa: F811
    result = ok(
        aws(
            "execute-statement",
            "--statement",
            f'SELECT v FROM "{composite}" WHERE pk = ? AND sk = ?',
            "--parameters",
            json.dumps([{"S": "a"}, {"N": "4"}]),
        )
    )
    assert result == {"Items": [{"v": {"N": "40"}}]}
    ok(
        aws(
            "execute-statement",
            "--statement",
            f"INSERT INTO \"{composite}\" VALUE {{'pk': 'cli', 'sk': 1}}",
        )
    )
    failed = aws(
        "execute-statement",
        "--statement",
        f"INSERT INTO \"{composite}\" VALUE {{'pk': 'cli', 'sk': 1}}",
    )
    assert failed.returncode != 0
    assert "DuplicateItemException" in failed.stderr
    assert "Duplicate primary key exists in table" in failed.stderr


ODD_STATEMENTS = [
    "SELECT",
    "SELECT * FROM",
    'SELECT * FROM "{t}" WHERE',
    'SELECT * FROM "{t}" WHERE pk = ',
    "SELECT * FROM \"{t}\" WHERE pk = 'a' AND" + " v = 1 AND" * 400 + " v = 1",
    'SELECT * FROM "{t}" WHERE ' + "(" * 500 + "pk = 'a'" + ")" * 500,
    'SELECT * FROM "{t}" WHERE ' + "NOT " * 1000 + "pk = 'a'",
    'INSERT INTO "{t}" VALUE ' + "[" * 300 + "]" * 300,
    "INSERT INTO \"{t}\" VALUE {{'pk': 'a', 'sk': 1, 'x': " + "{{'a': " * 40 + "1" + "}}" * 41,
    'SELECT * FROM "{t}" WHERE pk = [1, 2]',
    'SELECT * FROM "{t}" WHERE pk = MISSING',
    'SELECT * FROM "{t}" WHERE pk + 1',
    'SELECT * FROM "{t}" WHERE pk',
    'SELECT * FROM "{t}" WHERE size(pk, v) = 1',
    'SELECT * FROM "{t}" WHERE pk IS STRANGE',
    'SELECT * FROM "{t}"."a"."b"',
    "UPDATE \"{t}\" SET pk = 'b' WHERE pk = 'a' AND sk = 1",
    "UPDATE \"{t}\" SET v = v + 'x' WHERE pk = 'a' AND sk = 1",
    "UPDATE \"{t}\" SET v = nope(v) WHERE pk = 'a' AND sk = 1",
    "UPDATE \"{t}\" SET v = v IS MISSING WHERE pk = 'a' AND sk = 1",
    'UPDATE "{t}"."i" SET v = 1 WHERE pk = \'a\' AND sk = 1',
    "DELETE FROM \"{t}\" WHERE pk = 'a' AND sk = 'not a number'",
    "DELETE FROM \"{t}\" WHERE pk = 'a' AND sk = 1 RETURNING ALL NEW *",
    "INSERT INTO \"{t}\" VALUE {{'pk': 'a'}}",
    "INSERT INTO \"{t}\" VALUE {{'pk': 'a', 'sk': 1}} RETURNING ALL OLD *",
    "INSERT INTO \"{t}\" VALUE {{1: 'a'}}",
    "INSERT INTO \"{t}\" VALUE {{'pk': <<1, 'a'>>}}",
    'SELECT * FROM "{t}" WHERE pk = \'unterminated',
    'SELECT * FROM "{t}" WHERE "unterminated = 1',
    "SELECT * FROM \"{t}\" WHERE pk = 'a' ORDER BY v",
    'SELECT * FROM "{t}" WHERE v IN []',
    "ROLLBACK",
]


@pytest.mark.parametrize("template", ODD_STATEMENTS)
def test_odd_statements_get_a_400_and_change_nothing(
    endpoint: str, ddb: Any, composite: str, template: str
) -> None:
    before = ddb.scan(TableName=composite, ConsistentRead=True)["Items"]
    status, body = raw_dynamodb(
        endpoint, "ExecuteStatement", {"Statement": template.format(t=composite)}
    )
    assert status == 400, body
    assert body["__type"].rpartition("#")[2] in ("ValidationException", "DuplicateItemException")
    assert ddb.scan(TableName=composite, ConsistentRead=True)["Items"] == before


def test_too_many_operators(ddb: Any, composite: str) -> None:
    statement = f"SELECT * FROM \"{composite}\" WHERE pk = 'a'" + " AND v = 1" * 300
    assert rejected(ddb, statement) == (
        "ValidationException",
        "The expression contains too many operators; operator count: 301, limit: 300",
    )


def test_batch_may_not_mix_reads_and_writes(ddb: Any, composite: str) -> None:
    error = error_of(
        ddb.batch_execute_statement,
        Statements=[
            {"Statement": f"SELECT * FROM \"{composite}\" WHERE pk = 'a' AND sk = 1"},
            {"Statement": f"DELETE FROM \"{composite}\" WHERE pk = 'a' AND sk = 1"},
        ],
    )
    assert error == {
        "Code": "ValidationException",
        "Message": "The entire batch must consist of either read statements or write "
        "statements, you cannot mix both in one batch.",
    }
    assert run(ddb, f"SELECT v FROM \"{composite}\" WHERE pk = 'a' AND sk = 1") == {
        "Items": [{"v": {"N": "10"}}]
    }


def test_lsi_read_reaches_the_tables_item(ddb: Any, make_table: Callable[..., str]) -> None:
    name = make_table(
        range_key="S",
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
            {"AttributeName": "l", "AttributeType": "S"},
        ],
        LocalSecondaryIndexes=[
            {
                "IndexName": "byl",
                "KeySchema": [
                    {"AttributeName": "pk", "KeyType": "HASH"},
                    {"AttributeName": "l", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            }
        ],
    )
    for sk, l_value in (("1", "b"), ("2", "a")):
        ddb.put_item(
            TableName=name,
            Item={"pk": {"S": "p"}, "sk": {"S": sk}, "l": {"S": l_value}, "data": {"S": sk}},
        )
    result = run(
        ddb, f"SELECT data FROM \"{name}\".\"byl\" WHERE pk = 'p' AND l >= 'a'", ConsistentRead=True
    )
    assert result == {"Items": [{"data": {"S": "2"}}, {"data": {"S": "1"}}]}


def test_batch_unknown_table_is_its_own_error(ddb: Any, composite: str) -> None:
    response = ddb.batch_execute_statement(
        Statements=[
            {"Statement": "UPDATE \"no-such-table\" SET a = 1 WHERE pk = 'a'"},
            {"Statement": f"UPDATE \"{composite}\" SET a = 1 WHERE pk = 'a' AND sk = 5"},
        ]
    )
    assert response["Responses"] == [
        {"Error": {"Code": "ResourceNotFound", "Message": "Requested resource not found"}},
        {"TableName": composite},
    ]


def test_transaction_reason_carries_the_item_when_asked(ddb: Any, composite: str) -> None:
    with pytest.raises(ddb.exceptions.TransactionCanceledException) as info:
        ddb.execute_transaction(
            TransactStatements=[
                {
                    "Statement": f'UPDATE "{composite}" SET x = 1 '
                    "WHERE pk = 'a' AND sk = 5 AND v = 0",
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
            ]
        )
    assert info.value.response["CancellationReasons"] == [
        {
            "Code": "ConditionalCheckFailed",
            "Message": "The conditional request failed",
            "Item": {"pk": {"S": "a"}, "sk": {"N": "5"}, "v": {"N": "50"}},
        }
    ]


def test_null_optional_members_are_absent_ones(endpoint: str, composite: str) -> None:
    status, body = raw_dynamodb(
        endpoint,
        "ExecuteStatement",
        {
            "Statement": f"SELECT v FROM \"{composite}\" WHERE pk = 'a' AND sk = 1",
            "Parameters": None,
            "NextToken": None,
            "Limit": None,
            "ConsistentRead": None,
            "ReturnConsumedCapacity": None,
            "ReturnValuesOnConditionCheckFailure": None,
        },
    )
    assert (status, body) == (200, {"Items": [{"v": {"N": "10"}}]})
    status, body = raw_dynamodb(
        endpoint,
        "BatchExecuteStatement",
        {
            "Statements": [
                {
                    "Statement": f"UPDATE \"{composite}\" SET w = 1 WHERE pk = 'a' AND sk = 1",
                    "Parameters": None,
                    "ConsistentRead": None,
                    "ReturnValuesOnConditionCheckFailure": None,
                }
            ],
            "ReturnConsumedCapacity": None,
        },
    )
    assert (status, body) == (200, {"Responses": [{"TableName": composite}]})
    status, body = raw_dynamodb(
        endpoint,
        "ExecuteTransaction",
        {
            "TransactStatements": [
                {
                    "Statement": f"UPDATE \"{composite}\" SET w = 2 WHERE pk = 'a' AND sk = 1",
                    "Parameters": None,
                }
            ],
            "ClientRequestToken": None,
            "ReturnConsumedCapacity": None,
        },
    )
    assert (status, body) == (200, {"Responses": []})
