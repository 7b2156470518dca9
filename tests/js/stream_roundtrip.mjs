// The AWS SDK for JavaScript v3 against the emulator: create a stream-enabled table,
// write, update and delete an item, then read the three stream records back.
//
// Usage: node stream_roundtrip.mjs http://127.0.0.1:8000
//    or: AWS_ENDPOINT_URL=http://127.0.0.1:8000 node stream_roundtrip.mjs
//        (the SDK itself reads AWS_ENDPOINT_URL, for both clients)
// Prints one line of JSON on success; exits non-zero (with the reason) on any mismatch.
import assert from "node:assert/strict";
import {
  CreateTableCommand,
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  ListStreamsCommand,
} from "@aws-sdk/client-dynamodb-streams";

const endpoint = process.argv[2];
if (!endpoint && !process.env.AWS_ENDPOINT_URL) {
  console.error("usage: node stream_roundtrip.mjs ENDPOINT_URL (or set AWS_ENDPOINT_URL)");
  process.exit(2);
}
const options = {
  ...(endpoint ? { endpoint } : {}),
  region: "us-east-1",
  credentials: { accessKeyId: "test", secretAccessKey: "test" },
  maxAttempts: 1,
};
const ddb = new DynamoDBClient(options);
const streams = new DynamoDBStreamsClient(options);
const table = `js-sdk-${Date.now()}`;

const created = await ddb.send(
  new CreateTableCommand({
    TableName: table,
    KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }],
    AttributeDefinitions: [{ AttributeName: "pk", AttributeType: "S" }],
    BillingMode: "PAY_PER_REQUEST",
    StreamSpecification: { StreamEnabled: true, StreamViewType: "NEW_AND_OLD_IMAGES" },
  }),
);
const streamArn = created.TableDescription.LatestStreamArn;
assert.ok(streamArn, "CreateTable returned no LatestStreamArn");
assert.equal(created.TableDescription.StreamSpecification.StreamViewType, "NEW_AND_OLD_IMAGES");

const key = { pk: { S: "order-1" } };
await ddb.send(new PutItemCommand({ TableName: table, Item: { ...key, total: { N: "42" } } }));
const got = await ddb.send(new GetItemCommand({ TableName: table, Key: key, ConsistentRead: true }));
assert.deepEqual(got.Item, { ...key, total: { N: "42" } });

await ddb.send(
  new UpdateItemCommand({
    TableName: table,
    Key: key,
    UpdateExpression: "SET #t = :t",
    ExpressionAttributeNames: { "#t": "total" },
    ExpressionAttributeValues: { ":t": { N: "43" } },
  }),
);
await ddb.send(new DeleteItemCommand({ TableName: table, Key: key }));

const listed = await streams.send(new ListStreamsCommand({ TableName: table }));
assert.deepEqual(
  listed.Streams.map((s) => s.StreamArn),
  [streamArn],
  "ListStreams does not list the table's stream",
);
const description = (await streams.send(new DescribeStreamCommand({ StreamArn: streamArn })))
  .StreamDescription;
assert.equal(description.StreamStatus, "ENABLED");
assert.equal(description.TableName, table);

const records = [];
for (const shard of description.Shards) {
  let iterator = (
    await streams.send(
      new GetShardIteratorCommand({
        StreamArn: streamArn,
        ShardId: shard.ShardId,
        ShardIteratorType: "TRIM_HORIZON",
      }),
    )
  ).ShardIterator;
  // An open shard always returns a next iterator: stop at the first empty page.
  for (let page = 0; iterator && page < 100; page++) {
    const result = await streams.send(new GetRecordsCommand({ ShardIterator: iterator }));
    records.push(...result.Records);
    if (result.Records.length === 0) break;
    iterator = result.NextShardIterator;
  }
}

assert.deepEqual(
  records.map((r) => r.eventName),
  ["INSERT", "MODIFY", "REMOVE"],
  "stream records are not INSERT, MODIFY, REMOVE",
);
const [insert, modify, remove] = records;
for (const record of records) {
  assert.equal(record.eventSource, "aws:dynamodb");
  assert.equal(record.awsRegion, "us-east-1");
  assert.equal(record.dynamodb.StreamViewType, "NEW_AND_OLD_IMAGES");
  assert.deepEqual(record.dynamodb.Keys, key);
  assert.ok(record.dynamodb.ApproximateCreationDateTime instanceof Date);
  assert.ok(record.dynamodb.SizeBytes > 0);
}
assert.deepEqual(insert.dynamodb.NewImage, { ...key, total: { N: "42" } });
assert.equal(insert.dynamodb.OldImage, undefined);
assert.deepEqual(modify.dynamodb.OldImage, { ...key, total: { N: "42" } });
assert.deepEqual(modify.dynamodb.NewImage, { ...key, total: { N: "43" } });
assert.deepEqual(remove.dynamodb.OldImage, { ...key, total: { N: "43" } });
assert.equal(remove.dynamodb.NewImage, undefined);
const sequences = records.map((r) => BigInt(r.dynamodb.SequenceNumber));
assert.ok(sequences[0] < sequences[1] && sequences[1] < sequences[2], "sequence numbers not increasing");

console.log(JSON.stringify({ ok: true, table, events: records.map((r) => r.eventName) }));
